import Docker from 'dockerode';
import type { Logger } from 'pino';
import { StdioBridge, BRIDGE_LIMITS, type BridgeStats } from '../bridge/stdio-bridge.js';
import { NotAttachable, attachStdio, waitRunning, type StdioPipe } from './attach.js';
import type { CompiledPolicy } from '../policy/tool-policy.js';

/** The local engine (/var/run/docker.sock or DOCKER_HOST), for the edge's Docker proxy. */
export function localDocker(): Docker {
  return new Docker();
}

/** At most this many bridges (one per stdio container); a homelab has a handful. */
export const MAX_BRIDGES = 64;
/** Bridges that hold nothing (not attached, no call waiting) are freed this often. */
export const BRIDGE_SWEEP_MS = 60_000;

/** Every bridge slot is taken by a bridge in use: the request is refused (503), nothing is evicted. */
export class BridgeLimitError extends Error {
  override name = 'BridgeLimitError';
}

/** How the registry reaches a container; Docker's attach API by default, a fake in tests. */
export interface BridgeIo {
  attach(container: string, onMessage: (m: unknown) => void, onStderr: (line: string) => void): Promise<StdioPipe>;
  waitRunning(container: string): Promise<boolean>;
}

/**
 * The edge's stdio bridges, one per container, created on first use. Bounded (docs/adr/0007):
 * a name that is not an owned stdio container frees its bridge at once (no waiting for a restart
 * that will not come), idle bridges that hold no attach are swept, and at most MAX_BRIDGES exist.
 */
export class BridgeRegistry {
  readonly #bridges = new Map<string, StdioBridge>();
  /** Bridges taken out of service while a request may still be inside them; closed once empty. */
  readonly #retired = new Set<StdioBridge>();
  readonly #io: BridgeIo;
  readonly #sweeper: NodeJS.Timeout;

  constructor(
    readonly instance: string,
    readonly log: Logger,
    docker: Docker = new Docker(),
    io?: BridgeIo,
    /** A container's tool policy now (ADR 0021), asked on every call. */
    readonly policyFor?: (container: string) => CompiledPolicy | null,
  ) {
    this.#io = io ?? {
      attach: (c, onMessage, onStderr) => attachStdio(docker, c, instance, onMessage, onStderr),
      waitRunning: (c) => waitRunning(docker, c, BRIDGE_LIMITS.restartWaitMs),
    };
    this.#sweeper = setInterval(() => this.sweep(), BRIDGE_SWEEP_MS);
    this.#sweeper.unref();
  }

  get(container: string): StdioBridge {
    const existing = this.#bridges.get(container);
    if (existing) return existing;
    if (this.#bridges.size >= MAX_BRIDGES) this.sweep();
    if (this.#bridges.size >= MAX_BRIDGES) throw new BridgeLimitError(`all ${MAX_BRIDGES} stdio bridges are in use`);
    let permanent = false;
    const b: StdioBridge = new StdioBridge({
      container,
      attach: async (onMessage) => {
        try {
          return await this.#io.attach(container, onMessage, (line) => this.log.debug({ container, stderr: line }, 'stdio server stderr'));
        } catch (err) {
          if (err instanceof NotAttachable && err.permanent) {
            permanent = true;
            this.#forget(container, b);
          }
          throw err;
        }
      },
      // A container that is missing, not ours or not stdio will not come back by waiting.
      waitRunning: () => (permanent ? Promise.resolve(false) : this.#io.waitRunning(container)),
      log: this.log,
      ...(this.policyFor ? { policy: () => this.policyFor!(container) } : {}),
    });
    this.#bridges.set(container, b);
    return b;
  }

  /** Free every bridge that holds nothing: no attach, no call waiting. */
  sweep(): void {
    for (const b of this.#retired) {
      const s = b.stats();
      if (s.open === 0 && s.pending === 0) {
        b.close();
        this.#retired.delete(b);
      }
    }
    for (const [name, b] of this.#bridges) {
      const s = b.stats();
      // Not attached and no call waiting: nothing is lost (the bridge keeps nothing between requests).
      if (s.pending === 0 && (s.state === 'idle' || s.state === 'down')) {
        this.#bridges.delete(name);
        b.close();
      }
    }
  }

  stats(): BridgeStats[] {
    return [...this.#bridges.values()].map((b) => b.stats());
  }

  close(): void {
    clearInterval(this.#sweeper);
    for (const b of [...this.#bridges.values(), ...this.#retired]) b.close();
    this.#bridges.clear();
    this.#retired.clear();
  }

  #forget(name: string, b: StdioBridge): void {
    if (this.#bridges.get(name) !== b) return;
    this.#bridges.delete(name);
    this.#retired.add(b);
  }
}
