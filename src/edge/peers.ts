import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';

/**
 * Who may use the edge (docs/adr/0007-isolation-per-server-networks.md): the gateway container
 * and the host (the daemon's probes through the 127.0.0.1 port, a LiteLLM on the host) — never
 * an MCP server, although the edge shares each http server's network with it.
 *
 * Identity is the TCP peer address. It cannot be borrowed: each Docker network is its own bridge,
 * Docker drops traffic between bridges, and a container that forges a source address never sees
 * the edge's answer (it goes to the address's real owner), so no handshake completes.
 */
export interface PeerPolicyDeps {
  /** The gateway container's name, resolved through Docker's DNS on the gateway network; null: host only. */
  gatewayHost: string | null;
  /** More containers the edge serves, resolved the same way: the daemon's own under `reach: network` (ADR 0016). */
  peerHosts?: readonly string[];
  resolve?: (host: string) => Promise<string[]>;
  interfaces?: () => ReturnType<typeof networkInterfaces>;
  now?: () => number;
}

/** A refused peer re-reads addresses at most this often (LiteLLM recreated: new address). */
export const PEER_REFRESH_MS = 1_000;
/** Allowed addresses are re-read at least this often (a removed network's address is forgotten). */
export const PEER_MAX_AGE_MS = 30_000;

export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

function ipv4ToInt(ip: string): number | null {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return null;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * The host's address on each of the edge's networks: the bridge gateway, which Docker's default
 * address management makes the first address of the subnet. Connections the host makes to the
 * published port (docker-proxy) come from it.
 */
export function bridgeGateways(ifaces: ReturnType<typeof networkInterfaces>): string[] {
  const out: string[] = [];
  for (const list of Object.values(ifaces)) {
    for (const i of list ?? []) {
      if (i.family !== 'IPv4' || i.internal || !i.cidr) continue;
      const ip = ipv4ToInt(i.address);
      const bits = Number(i.cidr.split('/')[1]);
      if (ip === null || !(bits >= 1 && bits <= 30)) continue;
      const mask = (0xffffffff << (32 - bits)) >>> 0;
      out.push(intToIpv4(((ip & mask) >>> 0) + 1));
    }
  }
  return out;
}

export class PeerPolicy {
  readonly #d: Required<PeerPolicyDeps>;
  #allowed = new Set<string>();
  /** The gateway container's own addresses (of the last refresh). */
  #gateway = new Set<string>();
  #at = -Infinity;
  #refreshing: Promise<void> | null = null;

  constructor(deps: PeerPolicyDeps) {
    this.#d = {
      resolve: async (h) => (await lookup(h, { all: true, family: 4 })).map((a) => a.address),
      interfaces: networkInterfaces,
      now: Date.now,
      peerHosts: [],
      ...deps,
    };
  }

  /** Whether a request from this peer address may be served. */
  async allows(remote: string | undefined): Promise<boolean> {
    if (!remote) return false;
    const a = normalizeAddress(remote);
    if (a === '127.0.0.1' || a === '::1') return true; // inside the edge's own container
    const age = this.#d.now() - this.#at;
    if (this.#allowed.has(a) && age < PEER_MAX_AGE_MS) return true;
    if (age < PEER_REFRESH_MS) return false;
    await this.#refresh();
    return this.#allowed.has(a);
  }

  /**
   * Whether an allowed peer is the gateway (ask after `allows`): the host and the daemon's own
   * container may see a server's unfiltered tool list, the gateway never (ADR 0021). When in
   * doubt (no address), it counts as the gateway.
   */
  isGateway(remote: string | undefined): boolean {
    if (!remote) return true;
    const a = normalizeAddress(remote);
    if (a === '127.0.0.1' || a === '::1') return false;
    return this.#gateway.has(a) || !this.#allowed.has(a);
  }

  #refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      const next = new Set(bridgeGateways(this.#d.interfaces()));
      const gateway = new Set<string>();
      for (const host of [this.#d.gatewayHost, ...this.#d.peerHosts]) {
        if (!host) continue;
        for (const ip of await this.#d.resolve(host).catch(() => [])) {
          next.add(ip);
          if (host === this.#d.gatewayHost) gateway.add(ip);
        }
      }
      this.#allowed = next;
      this.#gateway = gateway;
      this.#at = this.#d.now();
    })().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }
}
