import { dirname, join } from 'node:path';
import { readGatewayConfig, renderGatewayConfig, ownedEntry } from '../litellm/config-file.js';
import { GUARD_CALLBACK, GUARD_FILE, GUARD_PY } from '../litellm/guard.js';
import { Labels, ownerLabels } from '../docker/labels.js';
import { gatewayServerName } from '../desired/schema.js';
import { canonicalJson, sha256Hex, specHash } from './hash.js';
import { deepFreeze } from '../memo/memo.js';
import { parsePolicyFile, renderPolicyFile } from '../policy/tool-policy.js';
import type { ToolPolicy } from '../model/types.js';
import { planBlueGreen } from './blue-green.js';
import {
  NEXT_SUFFIX, type HeldChange, type ContainerRole, type ContainerSpec, type Observed, type ObservedContainer, type ObservedNetwork,
  type Operation, type Plan, type ServerModel,
} from '../model/types.js';
import type { GatewayColour } from '../model/types.js';

export interface PlanInput {
  network: string;
  instance: string;
  /** Desired servers that resolved (for an invalid file: its last good model, if any). */
  servers: readonly ServerModel[];
  /** Servers to leave exactly as they run (invalid file without a last good model, unreadable secrets). */
  hold: readonly string[];
  edge: ContainerSpec;
  /** The edge's Docker proxy (absent: an edge that mounts the socket itself, older callers). */
  edgeDocker?: ContainerSpec;
  gateway: {
    managed: boolean;
    /**
     * gateway.handover: blue-green (ADR 0025): the managed gateway runs as two colours behind the
     * front; absent: one container, recreated on a change.
     */
    blueGreen?: { front: ContainerSpec; colours: Record<GatewayColour, ContainerSpec>; activePath: string };
    /** managed: false — the user's LiteLLM container the reconciler may restart (by name). */
    restartContainer?: string | undefined;
    /** config: entries in config.yaml (restart); api: DELETE/POST on /v1/mcp/server (hot). */
    mode: 'config' | 'api';
    /** Owned API ids start with this (`mcp-reconciler~<instance>~`). */
    apiIdPrefix: string;
    spec: ContainerSpec;
    configPath: string;
    /** Why the gateway container cannot be run now (e.g. its env file is missing). */
    problem: string | null;
  };
  observed: Observed;
  /** When false, every removal becomes a `prune-held` report (mass-deletion guard). */
  prune: { allowed: boolean; reason: string };
  /** Changes that failed and wait for their backoff (the reconciler's failure memory; ADR 0005). */
  held?: readonly HeldChange[];
  /** The edge's tool policy file (ADR 0021); absent: no policy file is kept (older callers, tests of other parts). */
  toolPolicy?: { path: string };
}

/** The policy file's text: every desired server's `tools:`, held servers' as they are in the file now. */
export function policyFileText(input: Pick<PlanInput, 'servers' | 'hold' | 'observed'>): string {
  const servers: Record<string, ToolPolicy> = {};
  for (const s of input.servers) if (s.toolPolicy) servers[s.name] = s.toolPolicy;
  const before = input.observed.toolPolicyText ? parsePolicyFile(input.observed.toolPolicyText) : null;
  for (const name of input.hold) {
    const kept = before?.ok ? before.servers[name] : undefined;
    if (kept) servers[name] = kept;
  }
  return renderPolicyFile(servers);
}

/**
 * The algorithm, as a pure function of (desired, observed): no I/O, no clock, no logger.
 *   1. the gateway network exists, and each server's own network (ADR 0007);
 *   2. the edge runs while any http or stdio server is wanted, attached to every http server's
 *      network (and the gateway to every sse server's), and to no other server network;
 *   3. each wanted server has exactly one owned, running container with its spec hash;
 *   4. config.yaml holds exactly the owned entries of the wanted servers, and a managed gateway's
 *      also the guard callback, with the guard file beside it (ADR 0019);
 *   5. the gateway runs with a spec hash that includes that file's content (and the guard's);
 *   6. owned containers and server networks nobody wants are removed — unless pruning is held.
 * A container change that failed before is reported as `backoff-held` (not tried) until its wait
 * runs out, while the desired hash is the one that failed; the last working container keeps running.
 * Names that clash with containers we do not own are reported, never touched.
 */
export function plan(input: PlanInput): Plan {
  const ops: Operation[] = [];
  const { observed } = input;
  const byName = new Map<string, ObservedContainer>(observed.containers.map((c) => [c.name, c]));
  // The local image id each wanted reference names now (rebuilt or re-pulled tags roll out, as in compose).
  const imageOf = (spec: ContainerSpec): string | null => observed.imageIds?.[spec.image] ?? null;
  const kept = new Set<string>(); // container names that are wanted
  const conflicted = new Set<string>(); // servers whose container name is taken by something we do not own
  // Stryker disable next-line ArrayDeclaration: equivalent; a sentinel string has no object, so no container is held by it
  const held = new Map((input.held ?? []).map((h) => [h.object, h]));
  const ensure = (
    spec: ContainerSpec,
    hash: string,
    role: ContainerRole,
    server?: string,
    extra: Record<string, unknown> = {},
  ): Operation[] =>
    withHold(
      ensureContainer(spec, hash, role, byName.get(spec.name), server, extra, imageOf(spec)),
      hash,
      byName.get(spec.name),
      held.get(`container:${spec.name}`),
    );

  if (!observed.networkExists) {
    ops.push({
      type: 'create-network',
      resourceId: `network:${input.network}`,
      cause: 'not found',
      network: input.network,
      labels: ownerLabels(input.instance, 'network'),
    });
  }

  // The edge's tool policy file comes before the edge and any registration, so no tool is ever
  // served without its policy (ADR 0021). Writing it restarts nothing: the edge re-reads it.
  if (input.toolPolicy) {
    const text = policyFileText(input);
    if (text !== observed.toolPolicyText) {
      ops.push({
        type: 'write-tool-policy',
        resourceId: `file:${input.toolPolicy.path}`,
        cause: observed.toolPolicyText === null || observed.toolPolicyText === undefined ? 'not found' : 'tool policy changed',
        path: input.toolPolicy.path,
        text,
      });
    }
  }

  // Leftovers of an interrupted recreate go first: they would block the next swap by name.
  for (const c of observed.containers) {
    if (c.owned && c.name.endsWith(NEXT_SUFFIX)) {
      ops.push({
        type: 'remove-container',
        resourceId: `container:${c.name}`,
        cause: 'leftover of an interrupted recreate',
        containerId: c.id,
        role: c.role ?? 'server',
        ...(c.server ? { server: c.server } : {}),
      });
    }
  }

  const runnable = input.servers.filter((s) => s.blocked === null);
  // Remote http servers (url:) are reached through the edge too (ADR 0022).
  const edgeWanted = runnable.some((s) => s.transport === 'http' || s.transport === 'stdio');
  const volumes = new Map(observed.volumes.map((v) => [v.name, v]));
  if (edgeWanted) {
    // The edge's Docker proxy and the volume with its socket come first (ADR 0007).
    const d = input.edgeDocker;
    const vol = d?.volumes[0];
    if (d && vol) {
      const v = volumes.get(vol.name);
      if (v && !v.owned) {
        ops.push({
          type: 'conflict',
          resourceId: `volume:${vol.name}`,
          cause: `a volume named ${vol.name} exists but is not managed by mcp-reconciler; the edge's Docker proxy is not started`,
        });
      } else {
        if (!v) ops.push({
          type: 'create-volume',
          resourceId: `volume:${vol.name}`,
          cause: 'not found',
          volume: vol.name,
          labels: ownerLabels(input.instance, 'volume'),
        });
        kept.add(d.name);
        ops.push(...ensure(d, specHash(d), 'edge-docker'));
      }
    }
    kept.add(input.edge.name);
    ops.push(...ensure(input.edge, specHash(input.edge), 'edge'));
  }

  // Stryker disable next-line ArrayDeclaration: equivalent; a sentinel string is no network (no name, never owned)
  const networks = new Map((observed.networks ?? []).map((n) => [n.name, n]));
  for (const s of input.servers) {
    const { container, network } = s;
    // A url: server runs elsewhere: no container, no network, only its gateway entry (ADR 0022).
    if (container === null || network === null) continue;
    // A wanted server's container is never pruned, whatever stops this pass from changing it
    // (blocked, a name clash on its network or volume): never harm what runs.
    kept.add(container.name);
    if (s.blocked !== null) {
      ops.push({ type: 'blocked', resourceId: `server:${s.name}`, server: s.name, cause: s.blocked });
      continue;
    }
    const net = networks.get(network.name);
    if (net && !net.owned) {
      conflicted.add(s.name);
      ops.push({
        type: 'conflict',
        resourceId: `network:${network.name}`,
        server: s.name,
        cause: `a network named ${network.name} exists but is not managed by mcp-reconciler; the server is not started on it`,
      });
      continue;
    }
    if (!net) {
      ops.push({
        type: 'create-network',
        resourceId: `network:${network.name}`,
        server: s.name,
        cause: network.internal ? 'not found (internal: egress: false)' : 'not found',
        network: network.name,
        labels: ownerLabels(input.instance, 'network', { server: s.name }),
        ...(network.internal ? { internal: true } : {}),
      });
    }
    const foreignVolume = container.volumes.find((v) => volumes.get(v.name)?.owned === false);
    if (foreignVolume) {
      conflicted.add(s.name);
      ops.push({
        type: 'conflict',
        resourceId: `volume:${foreignVolume.name}`,
        server: s.name,
        cause: `a volume named ${foreignVolume.name} exists but is not managed by mcp-reconciler; ` +
          `the server is not started on someone else's data`,
      });
      continue;
    }
    for (const v of container.volumes) {
      if (!volumes.has(v.name)) {
        ops.push({
          type: 'create-volume',
          resourceId: `volume:${v.name}`,
          server: s.name,
          cause: 'not found',
          volume: v.name,
          labels: ownerLabels(input.instance, 'volume', { server: s.name }),
        });
      }
    }
    const current = byName.get(container.name);
    if (current && !current.owned) conflicted.add(s.name); // never register someone else's container
    // A built image (ADR 0023) whose tag (the context hash) is not present is built first, in the
    // server's lane; a build that failed towards this spec waits for its backoff like a recreate.
    if (s.build && imageOf(container) === null && current?.owned !== false) {
      const h = held.get(`container:${container.name}`);
      if (h && h.specHash === s.specHash) {
        const ensured = ensure(container, s.specHash, 'server', s.name);
        ops.push(...ensured);
        if (!ensured.some((o) => o.type === 'backoff-held')) ops.push(heldOp(`container:${container.name}`, s.name, h));
        continue;
      }
      ops.push(buildOp(s, container, current));
    }
    ops.push(...ensure(container, s.specHash, 'server', s.name));
  }
  const holdNames = new Set(input.hold);
  for (const c of observed.containers) {
    // Only owned containers are ever removed (below); a held server keeps its own server container.
    // Stryker disable next-line StringLiteral: equivalent; no server is named "Stryker was here!" (names are [a-z0-9-])
    if (c.role === 'server' && holdNames.has(c.server ?? '')) kept.add(c.name);
  }
  // Server networks that stay: every wanted server's, every held server's, all of them while pruning is held.
  const wantedNetworks = new Set(input.servers.flatMap((s) => (s.network ? [s.network.name] : [])));
  const keepNetwork = (n: ObservedNetwork): boolean => {
    if (!n.owned || n.server === null || !input.prune.allowed || holdNames.has(n.server)) return true;
    return wantedNetworks.has(n.name);
  };
  const placed = runnable.filter((s) => !conflicted.has(s.name));
  // Stryker disable ConditionalExpression: equivalent; without an http or stdio server there is no http server to attach
  if (edgeWanted)
    ops.push(...attachments(input.edge.name, 'edge', ops, byName.get(input.edge.name), placed.filter((s) => s.transport === 'http')));
  // Stryker restore ConditionalExpression

  // Gateway configuration: owned entries = wanted servers (+ held servers' current entries).
  const view = readGatewayConfig(observed.gatewayConfigText);
  // Stryker disable next-line StringLiteral: equivalent; without a file (null) the render always differs, so configText is set below
  let configText = observed.gatewayConfigText ?? '';
  if (view.errors.length > 0) {
    ops.push({
      type: 'blocked',
      resourceId: `file:${input.gateway.configPath}`,
      cause: `config.yaml does not parse (${view.errors.join('; ')}); it is left as it is until fixed`,
    });
  } else {
    const entries: Record<string, Record<string, unknown>> = {};
    const foreign = new Set(view.foreign);
    for (const s of input.gateway.mode === 'config' ? runnable : []) {
      if (s.gatewayEntry === null || conflicted.has(s.name)) continue;
      if (foreign.has(s.gatewayName)) {
        ops.push({
          type: 'conflict',
          resourceId: `gateway-entry:${s.gatewayName}`,
          server: s.name,
          cause: `config.yaml already has an entry "${s.gatewayName}" that mcp-reconciler does not own; rename or remove it`,
        });
        continue;
      }
      entries[s.gatewayName] = ownedEntryOf(s, s.gatewayEntry);
    }
    const wantedNames = new Set(input.servers.map((s) => s.gatewayName));
    for (const [name, entry] of Object.entries(view.owned)) {
      if (name in entries || input.gateway.mode === 'api') continue;
      const heldEntry = input.hold.some((h) => gatewayServerName(h) === name);
      if (heldEntry || (!wantedNames.has(name) && !input.prune.allowed)) entries[name] = entry;
    }
    // Config mode with owned rows still in LiteLLM's database (a switch from API mode): delete
    // them first, so no server is ever registered twice (config entries load at the restart).
    if (input.gateway.mode === 'config' && observed.apiServers) {
      for (const row of observed.apiServers) {
        if (!row.server_id.startsWith(input.gateway.apiIdPrefix)) continue;
        ops.push({
          type: 'api-delete',
          resourceId: `gateway-api:${row.server_id}`,
          cause: 'gateway in config mode: the entry moves to config.yaml',
          serverId: row.server_id,
        });
      }
    }
    // The guard (ADR 0019): a managed gateway gets it; wherever config.yaml lists it, the file
    // beside config.yaml is ours and is written before config.yaml names it.
    const guard = input.gateway.managed;
    if (guard && view.callbacksProblem !== null) {
      ops.push({
        type: 'conflict',
        resourceId: `gateway-callback:${GUARD_CALLBACK}`,
        cause: `${view.callbacksProblem}; the guard that refuses a key's calls to other servers is not loaded (make it a list)`,
      });
    }
    const next = renderGatewayConfig(observed.gatewayConfigText, entries, guard);
    const guardPath = join(dirname(input.gateway.configPath), GUARD_FILE);
    if (readGatewayConfig(next).guard && (observed.gatewayGuardText ?? null) !== GUARD_PY) {
      ops.push({
        type: 'write-gateway-guard',
        resourceId: `file:${guardPath}`,
        cause: observed.gatewayGuardText === null || observed.gatewayGuardText === undefined ? 'not found' : 'content differs',
        path: guardPath,
        text: GUARD_PY,
      });
    }
    if (next !== observed.gatewayConfigText) {
      ops.push({
        type: 'write-gateway-config',
        resourceId: `file:${input.gateway.configPath}`,
        cause: describeConfigChange(view, entries, readGatewayConfig(next).guard),
        path: input.gateway.configPath,
        text: next,
      });
      configText = next;
    }
  }

  // An unmanaged gateway reads config.yaml at start-up: restart it (only when the user named it)
  // when the file is newer than its start — level-triggered, so a crash after the write is caught.
  const target = observed.restartTarget;
  if (!input.gateway.managed && input.gateway.restartContainer && input.gateway.mode === 'config' && target) {
    const written = ops.some((o) => o.type === 'write-gateway-config')
      ? 'config.yaml'
      : ops.some((o) => o.type === 'write-gateway-guard') ? GUARD_FILE : null;
    const stale = (observed.gatewayConfigMtime ?? 0) > target.startedAt; // no file: never newer
    if (written !== null || stale) {
      const why = written !== null ? `${written} changes now` : 'config.yaml is newer than the running gateway';
      ops.push({
        type: 'restart-gateway',
        resourceId: `container:${input.gateway.restartContainer}`,
        cause: `${why}; gateway.restartContainer allows a restart`,
        containerId: target.id,
      });
    }
  }

  if (input.gateway.managed) {
    const g = input.gateway.spec;
    kept.add(g.name);
    const bg = input.gateway.blueGreen;
    if (bg) for (const name of [bg.front.name, bg.colours.blue.name, bg.colours.green.name]) kept.add(name);
    if (input.gateway.problem !== null) {
      ops.push({ type: 'blocked', resourceId: `container:${g.name}`, cause: input.gateway.problem });
    } else if (bg) {
      // Both colours hash as the gateway's own spec (name and port are the colour's): one hash for both.
      const { hash, summary } = gatewayHash({ ...bg.colours.blue, name: g.name }, configText);
      const legacy = byName.get(g.name);
      const sse = placed.filter((s) => s.transport === 'sse');
      const out = planBlueGreen({
        front: bg.front,
        frontHash: specHash(bg.front),
        colours: bg.colours,
        hash,
        summary,
        activePath: bg.activePath,
        activeText: observed.frontActiveText,
        legacy: legacy?.owned && legacy.role === 'gateway' ? legacy : undefined,
        // What the new colour must list: config mode its owned entries; API mode the rows already registered (it loads them at start).
        expect: input.gateway.mode === 'api'
          ? (observed.apiServers ?? [])
            .filter((r) => r.server_id.startsWith(input.gateway.apiIdPrefix))
            .flatMap((r) => (r.server_name ? [r.server_name] : []))
            .sort()
          : Object.keys(readGatewayConfig(configText).owned).sort(),
        byName: (name) => byName.get(name),
        heldReady: (c) => {
          const h = held.get(`gateway:${c}`);
          return h?.specHash === hash ? h : undefined;
        },
        ensure: (spec, h, role, extra) => ensure(spec, h, role, undefined, extra),
        attach: (name, current, fresh) => attachments(name, 'gateway', [], fresh ? undefined : current, sse),
      });
      // A config or guard that was not written must not reach a new colour: the handover waits for it.
      ops.forEach((o, i) => {
        if (o.type === 'write-gateway-config' || o.type === 'write-gateway-guard') ops[i] = { ...o, halt: true };
      });
      ops.push(...out.ops);
      for (const name of out.kept) kept.add(name);
    } else {
      const { hash, summary } = gatewayHash(g, configText);
      ops.push(...ensure(g, hash, 'gateway', undefined, summary));
      // LiteLLM reaches sse servers directly (ADR 0003), so it joins their networks (ADR 0007).
      ops.push(...attachments(g.name, 'gateway', ops, byName.get(g.name), placed.filter((s) => s.transport === 'sse')));
    }
  }

  if (input.gateway.mode === 'api') ops.push(...planApi(input, runnable, conflicted));

  for (const c of observed.containers) {
    if (!c.owned || kept.has(c.name) || c.name.endsWith(NEXT_SUFFIX)) continue;
    if (c.role === 'gateway' && !input.gateway.managed) continue; // gateway.managed: false leaves it be
    const cause =
      c.role === 'server' ? `no desired file for server "${c.server ?? '?'}"` : `${c.role ?? 'container'} no longer needed`;
    if (!input.prune.allowed) {
      // Held: servers are reported; the edge stays silently, since held servers may still need it.
      if (c.role === 'server') ops.push({
        type: 'prune-held',
        resourceId: `container:${c.name}`,
        cause: `${cause}; not removed: ${input.prune.reason}`,
      });
      continue;
    }
    ops.push({
      type: 'remove-container',
      resourceId: `container:${c.name}`,
      cause,
      containerId: c.id,
      role: c.role ?? 'server',
      ...(c.server ? { server: c.server } : {}),
    });
  }

  // Detach the edge and the gateway from server networks they should not be on, then remove the
  // server networks nobody wants (after their containers, in the executor's last lane).
  const bg = input.gateway.blueGreen;
  // Blue/green: each colour is the gateway (a colour that stays through an API-mode removal would keep the network in use).
  const gateways = bg ? [bg.colours.blue.name, bg.colours.green.name] : [input.gateway.spec.name];
  const attached = [[input.edge.name, 'edge'] as const, ...gateways.map((g) => [g, 'gateway'] as const)];
  for (const [name, role] of attached) {
    const c = byName.get(name);
    // A container (re)created or removed in this plan leaves its old attachments with it.
    if (!c?.owned || ops.some((o) => o.resourceId === `container:${name}` && o.type !== 'start-container')) continue;
    const wanted = new Set(
      placed
        .filter((s) => (role === 'edge' ? edgeWanted && s.transport === 'http' : s.transport === 'sse'))
        .flatMap((s) => (s.network ? [s.network.name] : [])),
    );
    // Stryker disable next-line ArrayDeclaration: equivalent; a sentinel string is no network (no name, never owned)
    for (const n of c.networks ?? []) {
      const net = networks.get(n);
      if (!net?.owned || net.server === null || wanted.has(n)) continue;
      if (wantedNetworks.has(n) || !keepNetwork(net)) {
        ops.push({
          type: 'disconnect-network',
          resourceId: `endpoint:${name}@${n}`,
          cause: `${role} does not serve server "${net.server}" on this network`,
          network: n,
          container: name,
          role,
        });
      }
    }
  }
  for (const n of networks.values()) {
    if (keepNetwork(n)) continue;
    ops.push({
      type: 'remove-network',
      resourceId: `network:${n.name}`,
      cause: `no desired server uses it (server "${n.server}")`,
      network: n.name,
    });
  }
  if (input.prune.allowed) ops.push(...pruneImages(input, holdNames));
  return { operations: ops };
}

/**
 * Images this instance built (its labels) that no desired server names and no container runs:
 * removed after everything else. Images without our labels are never touched; a held server's
 * images stay, and an image a container still runs goes at a later pass (after its recreate).
 */
function pruneImages(input: PlanInput, holdNames: ReadonlySet<string>): Operation[] {
  const wanted = new Set(input.servers.flatMap((s) => (s.container ? [s.container.image] : [])));
  const running = new Set(input.observed.containers.map((c) => c.imageId));
  const out: Operation[] = [];
  for (const img of input.observed.builtImages ?? []) {
    if (holdNames.has(img.server) || running.has(img.id) || img.tags.some((t) => wanted.has(t))) continue;
    const cause = `built for server "${img.server}"; no desired file names it any more`;
    out.push({ type: 'remove-image', resourceId: `image:${img.tags[0] ?? img.id}`, cause, imageId: img.id, server: img.server });
  }
  return out;
}

/** Build a server's image (its tag is missing locally). */
function buildOp(s: ServerModel, container: ContainerSpec, current: ObservedContainer | undefined): Operation {
  const b = s.build!;
  const repo = b.tag.slice(0, b.tag.lastIndexOf(':'));
  const old = current?.image.startsWith(`${repo}:`) ? current.image.slice(repo.length + 1) : null;
  const cause = old !== null && old !== b.tag.slice(b.tag.lastIndexOf(':') + 1)
    ? `${b.kind === 'dir' ? 'build context' : 'package'} changed (${old.slice(0, 8)} -> ${b.contextHash.slice(0, 8)})`
    : `image ${b.tag} not built yet (${b.source})`;
  return {
    type: 'build-image', resourceId: `image:${b.tag}`, server: s.name, cause, build: b, container: container.name, specHash: s.specHash,
  };
}

/** A held change reported for an object that has no change planned this pass (a build that waits). */
function heldOp(resourceId: string, server: string, held: HeldChange): Operation {
  const tries = `${held.failures} failed ${held.failures === 1 ? 'try' : 'tries'}`;
  const cause = `${held.reason}; next try in ${held.nextTryIn} (${tries})`;
  return { type: 'backoff-held', resourceId, server, failures: held.failures, until: held.until, cause };
}

/**
 * The managed gateway's spec hash: its container spec, config.yaml's content and, while config.yaml
 * lists the guard, the guard's content (LiteLLM reads both only at start-up, so a change of either
 * recreates it). `summary`: what its spec label records besides the spec.
 */
export function gatewayHash(spec: ContainerSpec, configText: string): { hash: string; summary: Record<string, string> } {
  const config = sha256Hex(configText);
  const summary: Record<string, string> = readGatewayConfig(configText).guard ? { config, guard: sha256Hex(GUARD_PY) } : { config };
  return { hash: specHash({ spec, ...summary }), summary };
}

/**
 * A server's config.yaml entry, remembered per model (models are shared between passes while their
 * inputs are unchanged) and frozen, so rendering config.yaml can recognize an unchanged entry cheaply.
 */
const entryMemo = new WeakMap<ServerModel, Record<string, unknown>>();
function ownedEntryOf(s: ServerModel, gatewayEntry: Record<string, unknown>): Record<string, unknown> {
  let e = entryMemo.get(s);
  // Stryker disable next-line all: equivalent; a memo: any of its mutants returns an equal entry, only sooner or later
  if (e === undefined || !Object.isFrozen(s)) {
    e = deepFreeze(ownedEntry(gatewayEntry, s.source));
    // Stryker disable next-line all: equivalent; a memo (see above)
    if (Object.isFrozen(s)) entryMemo.set(s, e);
  }
  return e;
}

/** `sha256:0123456789ab...` -> `0123456789ab` (as `docker images` shows it). */
function shortImageId(id: string): string {
  // Stryker disable next-line Regex: equivalent; "sha256:" appears in an image id only at its start
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/**
 * A change of this container that failed towards the same hash and still waits: report it instead
 * of trying it. Meanwhile the last working version serves: a stopped old container is started.
 */
function withHold(ops: Operation[], hash: string, current: ObservedContainer | undefined, held: HeldChange | undefined): Operation[] {
  const change = ops.find((o) => o.type === 'create-container' || o.type === 'recreate-container' || o.type === 'start-container');
  if (!held || held.specHash !== hash || !change) return ops;
  const out: Operation[] = [{
    type: 'backoff-held',
    resourceId: change.resourceId,
    ...(change.server ? { server: change.server } : {}),
    failures: held.failures,
    until: held.until,
    cause: `${held.reason}; next try in ${held.nextTryIn} (${held.failures} failed ${held.failures === 1 ? 'try' : 'tries'})`,
  }];
  if (change.type === 'recreate-container' && current && !current.running) {
    out.push({
      type: 'start-container',
      resourceId: change.resourceId,
      cause: `container is ${current.state}; the last working version runs while the change is held`,
      containerId: current.id,
      role: change.role,
      ...(change.server ? { server: change.server } : {}),
    });
  }
  return out;
}

/**
 * Attach a container to the server networks it must reach. A container created or recreated in
 * this plan starts on its spec's networks only, so it is attached to all of them.
 */
function attachments(
  container: string,
  role: ContainerRole,
  ops: readonly Operation[],
  current: ObservedContainer | undefined,
  servers: readonly ServerModel[],
): Operation[] {
  if (current && !current.owned) return [];
  // Created in this plan: no current container; recreated: a recreate-container operation.
  const fresh = !current || ops.some((o) => o.type === 'recreate-container' && o.resourceId === `container:${container}`);
  // Stryker disable next-line ArrayDeclaration: equivalent; no network is named "Stryker was here" (Docker names have no spaces)
  const on = new Set(fresh ? [] : (current.networks ?? []));
  // url: servers have no network of their own (ADR 0022).
  return servers
    .flatMap((s) => (s.network && !on.has(s.network.name) ? [{ name: s.name, network: s.network.name }] : []))
    .map((s) => ({
      type: 'connect-network' as const,
      resourceId: `endpoint:${container}@${s.network}`,
      cause: `${role} reaches server "${s.name}" on its own network`,
      network: s.network,
      container,
      aliases: [],
      role,
    }));
}

/** The operations that make one container match its spec (none in steady state). */
function ensureContainer(
  spec: ContainerSpec,
  hash: string,
  role: ContainerRole,
  current: ObservedContainer | undefined,
  server?: string,
  extraSummary: Record<string, unknown> = {},
  localImageId: string | null = null,
): Operation[] {
  const resourceId = `container:${spec.name}`;
  const s = server ? { server } : {};
  // Built only when an operation needs it: a steady state costs no canonical JSON per container.
  const summaryOf = (): Record<string, unknown> => ({ ...specSummary(spec), ...extraSummary });
  const withHash = (): ContainerSpec => ({
    ...spec,
    labels: { ...spec.labels, [Labels.SpecHash]: hash, [Labels.Spec]: canonicalJson(summaryOf()) },
  });
  if (!current) return [{ type: 'create-container', resourceId, cause: 'not found', spec: withHash(), role, ...s }];
  if (!current.owned) {
    return [
      {
        type: 'conflict',
        resourceId,
        ...s,
        cause: `a container named ${spec.name} exists but is not managed by mcp-reconciler; ` +
          `rename or remove it to let the reconciler run ${role === 'server' ? `server "${server}"` : `the ${role}`}`,
      },
    ];
  }
  if (current.specHash !== hash) {
    return [
      {
        type: 'recreate-container',
        resourceId,
        cause: describeDrift(current.specSummary, summaryOf(), current.specHash, hash),
        spec: withHash(),
        role,
        containerId: current.id,
        ...s,
      },
    ];
  }
  if (localImageId !== null && current.imageId && current.imageId !== localImageId) {
    const cause = `image ${spec.image} now ${shortImageId(localImageId)} (container runs ${shortImageId(current.imageId)})`;
    return [{ type: 'recreate-container', resourceId, cause, spec: withHash(), role, containerId: current.id, ...s }];
  }
  if (!current.running) {
    return [{ type: 'start-container', resourceId, cause: `container is ${current.state}`, containerId: current.id, role, ...s }];
  }
  return [];
}

function short(h: string | null): string {
  return h ? h.slice(0, 8) : 'none';
}

/** What a container's spec label records: everything but the labels themselves. */
function specSummary(spec: ContainerSpec): Record<string, unknown> {
  const { labels: _labels, ...rest } = spec;
  return rest as Record<string, unknown>;
}

/** Field names as a user writes them in the desired file. */
const FIELD_NAMES: Record<string, string> = {
  cmd: 'command',
  binds: 'mounts',
  exposedPort: 'port',
  secretDigest: 'envFile content',
  volumes: 'data',
  hardening: 'security',
  config: 'config.yaml',
  guard: GUARD_FILE,
  upstreamImage: 'image',
  image: 'image (resolved)',
};

/** `env.FOO, image changed` from the old spec label and the new spec. */
export function describeDrift(
  before: Record<string, unknown> | null,
  after: Record<string, unknown>,
  oldHash: string | null,
  newHash: string,
): string {
  if (!before) return `spec changed (${short(oldHash)} -> ${short(newHash)})`;
  const paths = changedPaths(before, after, '');
  if (paths.length === 0) return `spec changed (${short(oldHash)} -> ${short(newHash)})`;
  const named = [...new Set(paths.map((p) => {
    const [head, ...rest] = p.split('.');
    return [FIELD_NAMES[head as string] ?? head, ...rest].join('.');
  }))];
  const shown = named.slice(0, 5).join(', ');
  return `${shown}${named.length > 5 ? ` and ${named.length - 5} more` : ''} changed`;
}

function changedPaths(a: unknown, b: unknown, prefix: string): string[] {
  const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].sort().flatMap((k) => changedPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  // Stryker disable next-line StringLiteral: equivalent; describeDrift compares two objects, so the root never differs as a whole
  return canonicalJson(a) === canonicalJson(b) ? [] : [prefix || '(root)'];
}

/** `mcp_servers: add mcp_a; litellm_settings.callbacks: add mcp_reconciler_guard.guard` */
function describeConfigChange(
  view: { owned: Record<string, Record<string, unknown>>; guard: boolean },
  after: Record<string, Record<string, unknown>>,
  guard: boolean,
): string {
  const servers = describeEntryChange(view.owned, after);
  const callbacks = guard && !view.guard ? `litellm_settings.callbacks: add ${GUARD_CALLBACK}` : null;
  if (callbacks === null) return servers ?? 'file rewritten (format)';
  return servers === null ? callbacks : `${servers}; ${callbacks}`;
}

function describeEntryChange(
  before: Record<string, Record<string, unknown>>,
  after: Record<string, Record<string, unknown>>,
): string | null {
  const added = Object.keys(after).filter((k) => !(k in before));
  const removed = Object.keys(before).filter((k) => !(k in after));
  const changed = Object.keys(after).filter(
    (k) => k in before && JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
  const parts: string[] = [];
  if (added.length) parts.push(`add ${added.join(', ')}`);
  if (changed.length) parts.push(`update ${changed.join(', ')}`);
  if (removed.length) parts.push(`remove ${removed.join(', ')}`);
  return parts.length ? `mcp_servers: ${parts.join('; ')}` : null;
}

/** The API-mode registrations: DELETE then POST for a change, never touching rows we do not own. */
function planApi(input: PlanInput, runnable: readonly ServerModel[], conflicted: ReadonlySet<string>): Operation[] {
  const ops: Operation[] = [];
  const rows = input.observed.apiServers;
  if (!rows) {
    return [{
      type: 'blocked',
      resourceId: 'gateway-api',
      cause: "LiteLLM's management API cannot be read now; registration waits for it",
    }];
  }
  const prefix = input.gateway.apiIdPrefix;
  const byId = new Map(rows.map((r) => [r.server_id, r]));
  const foreignNames = new Set(rows.filter((r) => !r.server_id.startsWith(prefix)).map((r) => r.server_name));
  const wanted = new Set<string>();
  for (const s of runnable) {
    if (s.gatewayEntry === null || conflicted.has(s.name)) continue;
    const id = `${prefix}${s.name}`;
    wanted.add(id);
    if (foreignNames.has(s.gatewayName)) {
      ops.push({
        type: 'conflict',
        resourceId: `gateway-api:${s.gatewayName}`,
        server: s.name,
        cause: `LiteLLM already has a server "${s.gatewayName}" that mcp-reconciler does not own; rename or remove it`,
      });
      continue;
    }
    if (s.auth) {
      ops.push({
        type: 'blocked',
        resourceId: `gateway-api:${id}`,
        server: s.name,
        cause: `needs an upstream credential (auth:), which LiteLLM 1.77.3's management API cannot carry; ` +
          `it stays unregistered in API mode (set gateway.mode: config to serve it)`,
      });
      continue;
    }
    const body = apiBody(id, s);
    const row = byId.get(id);
    if (!row) {
      ops.push({ type: 'api-create', resourceId: `gateway-api:${id}`, server: s.name, cause: 'not registered', serverId: id, body });
      continue;
    }
    const changed = (['server_name', 'url', 'transport', 'description'] as const).filter((k) => (row[k] ?? '') !== (body[k] ?? ''));
    if (changed.length) {
      // PUT never reaches LiteLLM's memory in 1.77.3: an update is DELETE then POST.
      ops.push({
        type: 'api-delete',
        resourceId: `gateway-api:${id}`,
        server: s.name,
        cause: `${changed.join(', ')} changed (update = delete + create)`,
        serverId: id,
      });
      ops.push({
        type: 'api-create',
        resourceId: `gateway-api:${id}`,
        server: s.name,
        cause: `${changed.join(', ')} changed`,
        serverId: id,
        body,
      });
    }
  }
  const held = new Set(input.hold.map((h) => `${prefix}${h}`));
  for (const r of rows) {
    if (!r.server_id.startsWith(prefix) || wanted.has(r.server_id) || held.has(r.server_id)) continue;
    if (!input.prune.allowed) {
      ops.push({
        type: 'prune-held',
        resourceId: `gateway-api:${r.server_id}`,
        cause: `no desired file; not deregistered: ${input.prune.reason}`,
      });
      continue;
    }
    ops.push({ type: 'api-delete', resourceId: `gateway-api:${r.server_id}`, cause: 'no desired file', serverId: r.server_id });
  }
  return ops;
}

/**
 * POST /v1/mcp/server body for a server (transport always explicit). `mcp_info` is always an object:
 * LiteLLM passes a missing one to Prisma as None, which a Json column refuses on create (ADR 0008).
 */
export function apiBody(id: string, s: ServerModel): Record<string, unknown> {
  const e = s.gatewayEntry ?? {};
  const description = e['description'] ?? '';
  return {
    server_id: id,
    server_name: s.gatewayName,
    description,
    transport: e['transport'],
    url: e['url'],
    mcp_info: { server_name: s.gatewayName, description },
    mcp_access_groups: [],
    args: [],
    env: {},
  };
}
