import type { Logger } from 'pino';
import type { ConfigStore, ContainerRuntime, GatewayApi } from '../ports/index.js';
import type { ApiServerRow, ChangeFailure, ObservedContainer, ServerModel } from '../model/types.js';
import { readEnvFile } from '../desired/env-file.js';
import type { LiteLLMGateway } from '../litellm/gateway-client.js';
import { probeTarget, type Reach } from './reach.js';
import { readGatewayConfig } from '../litellm/config-file.js';
import { endKeptSession, probeKeepingSession, probeMcp, type KeptSession, type ProbeResult } from './probe.js';
import type { Metrics } from '../server/metrics.js';
import { errorMessage } from '../errors/index.js';
import { CompiledPolicy, UNFILTERED_HEADER } from '../policy/tool-policy.js';
import {
  ConditionType as C,
  CONDITION_ORDER,
  Reason as R,
  mergeConditions,
  toolDiff,
  nextProbeDelay,
  mayRestart,
  RESTART_BUDGET,
  progressingCondition,
  type Condition,
  type ConditionStatus,
  type Reason,
} from './conditions.js';

type NextCondition = { type: (typeof C)[keyof typeof C]; status: ConditionStatus; reason: Reason; message: string };
const cond = (type: (typeof C)[keyof typeof C], status: ConditionStatus, reason: Reason, message: string): NextCondition =>
  ({ type, status, reason, message });

/** How long one Docker snapshot serves probes of many servers. */
export const SNAPSHOT_TTL_MS = 2_000;
/** Events kept per server for `status <name>`. */
export const EVENTS_KEPT = 20;

/** Why a server's desired state is not what runs (from the last reconcile pass). */
export interface ServerProblem {
  reason: 'SpecInvalid' | 'InputsUnusable' | 'ImagePullFailed' | 'BuildFailed' | 'NameConflict' | 'EntryConflict';
  message: string;
}

export interface ServerHealth {
  name: string;
  file: string;
  transport: string;
  gatewayName: string;
  container: {
    name: string;
    id: string | null;
    state: string;
    hostPort: number | null;
    image: string;
    imageId: string | null;
    created: number | null;
  };
  conditions: Condition[];
  tools: string[] | null;
  /**
   * Under a tool policy (desired `tools:`; ADR 0021): how many of `tools` (the server's whole list)
   * LiteLLM is shown and which are hidden. Null without a policy or before a probe.
   */
  toolPolicy?: { exposed: number; hidden: string[] } | null;
  gatewayTools: string[];
  /** When LiteLLM last listed this server's tools (GatewayReady is re-checked every health.gatewayIntervalSeconds). */
  gatewayCheckedAt: string | null;
  consecutiveFailures: number;
  hungRestarts: number;
  lastProbeAt: string | null;
  events: { time: string; message: string }[];
}

interface Entry {
  model: ServerModel;
  health: ServerHealth;
  restartHistory: number[];
  timer: NodeJS.Timeout | null;
  busy: boolean;
  /**
   * GatewayReady needs this server's own narrowed probe next time: it is new, its spec changed, or
   * it was not ready through the gateway. Otherwise the shared batched listing answers for it.
   */
  ownGatewayProbe: boolean;
  /** The shared listing this server's GatewayReady came from last: never used twice by one server. */
  lastBatch: GatewayBatch | null;
  /**
   * When LiteLLM last listed this server's tools (monitor clock); null: GatewayReady is to be
   * checked through LiteLLM at its next probe. Between checks (health.gatewayIntervalMs) the
   * condition stands while LiteLLM answers its liveness route.
   */
  gatewayCheckedAt: number | null;
  /** The liveness answer this server's GatewayReady stood on last: never used twice by one server. */
  lastAlive: GatewayAlive | null;
  /** The gateway's path (pathOf) when LiteLLM last listed this server: a changed path lists it again. */
  gatewayPath: string | null;
  /** The session the direct probe keeps with this server (MonitorDeps.keepSessions; streamable HTTP only). */
  kept: KeptSession | null;
}

/** One answer of LiteLLM's liveness route, shared by the probes of many servers while it is fresh. */
interface GatewayAlive {
  at: number;
  result: ReturnType<LiteLLMGateway['alive']>;
}

/** One tools/list through LiteLLM for many servers, shared by their probes while it is fresh. */
interface GatewayBatch {
  at: number;
  /** The gateway names asked for (a server not among them is probed on its own). */
  names: ReadonlySet<string>;
  result: Promise<ProbeResult>;
}

/** How long one answer of LiteLLM's liveness route serves the probes of many servers. */
export const GATEWAY_ALIVE_TTL_MS = 10_000;

/** Most server names in one batched tools/list (LiteLLM lists them one after another). */
export const GATEWAY_BATCH_MAX = 100;
/** A batch waits this long per server on top of the probe timeout (LiteLLM asks servers in turn). */
export const GATEWAY_BATCH_MS_PER_SERVER = 200;

export interface MonitorDeps {
  runtime: ContainerRuntime;
  config: ConfigStore;
  configPath: string;
  /** LiteLLM's `POST /mcp/` (tools/list, optionally narrowed to some servers) and its liveness route. */
  gateway: Pick<LiteLLMGateway, 'listTools' | 'alive'> | null;
  /**
   * LiteLLM's management API: in API mode `Registered` comes from its rows (`GET /v1/mcp/server`),
   * our ids being `<apiIdPrefix><name>`; in config mode from config.yaml.
   */
  api?: GatewayApi | null;
  apiIdPrefix?: string;
  /** Prefix and instance to observe. */
  observe: { namePrefix: string; instance: string; network: string };
  /** The edge's container port: stdio servers are probed through the edge's bridge. */
  edgePort?: number;
  /** How probes reach servers: their 127.0.0.1 ports (host, default) or by name through the edge (network). */
  reach?: Reach;
  log: Logger;
  metrics?: Metrics;
  now?: () => number;
  /**
   * Keep one MCP session per streamable-HTTP server between probes (the daemon): a probe is then one
   * `tools/list` (ADR 0017). Off for a one-off probe (`status` without a daemon), which leaves nothing open.
   */
  keepSessions?: boolean;
}

/**
 * Per-server MCP health: a small state machine of conditions, refreshed by jittered probes.
 * Logs transitions only (one line each), restarts hung containers within a budget, and never
 * touches a container that exited (Docker's restart policy owns that).
 */
export class HealthMonitor {
  readonly #deps: MonitorDeps;
  readonly #servers = new Map<string, Entry>();
  #problems = new Map<string, ServerProblem>();
  #failures = new Map<string, ChangeFailure>();
  #mode: 'config' | 'api' = 'config';
  #rows: { at: number; rows: Promise<ApiServerRow[] | null> } | null = null;
  #snap: { at: number; containers: Promise<ObservedContainer[]> } | null = null;
  #batches: GatewayBatch[] = [];
  #alive: GatewayAlive | null = null;
  /** The gateway's path (gatewayPathOf) in the newest Docker snapshot a probe read. */
  #gatewayPath: string | null = null;
  #running = false;
  /** stop() was called (and start() not since): a probe finishing late ends the session it kept. */
  #stopped = false;

  constructor(deps: MonitorDeps) {
    this.#deps = deps;
  }

  /** Registered in API mode: our row `<prefix><name>` in LiteLLM's database (rows cached like the Docker snapshot). */
  async #registeredInApi(m: ServerModel): Promise<NextCondition> {
    const api = this.#deps.api;
    const id = `${this.#deps.apiIdPrefix ?? ''}${m.name}`;
    if (!api) return cond(C.Registered, 'Unknown', R.GatewayDown, 'API mode, but no management API configured');
    if (!this.#rows || this.#now() - this.#rows.at > SNAPSHOT_TTL_MS) this.#rows = { at: this.#now(), rows: api.list().catch(() => null) };
    const rows = await this.#rows.rows;
    if (!rows) return cond(C.Registered, 'Unknown', R.GatewayDown, "LiteLLM's management API cannot be read (GET /v1/mcp/server)");
    if (rows.some((r) => r.server_id === id)) return cond(C.Registered, 'True', R.InGatewayDatabase, `${id} in LiteLLM's database`);
    return cond(C.Registered, 'False', R.NotInGatewayDatabase, `${id} is not in LiteLLM's database yet`);
  }

  #now(): number {
    return this.#deps.now?.() ?? Date.now();
  }

  /**
   * Called after each reconcile pass: the servers to watch, what the pass could not do, and the
   * container changes that failed and wait for their next try (Progressing; refreshed right away).
   */
  update(
    models: readonly ServerModel[],
    problems: ReadonlyMap<string, ServerProblem>,
    failures: readonly ChangeFailure[] = [],
    mode: 'config' | 'api' = 'config',
  ): void {
    this.#problems = new Map(problems);
    this.#mode = mode; // where Registered is read from: config.yaml or LiteLLM's database rows
    this.#rows = null;
    this.#failures = new Map(failures.map((f) => [f.object, f]));
    const wanted = new Set(models.map((m) => m.name));
    for (const [name, e] of this.#servers) {
      if (!wanted.has(name)) {
        if (e.timer) clearTimeout(e.timer);
        void this.#release(e);
        this.#servers.delete(name);
        this.#deps.metrics?.forget(name);
      }
    }
    for (const m of models) {
      const e = this.#servers.get(m.name);
      if (e) {
        // A changed spec or entry: its next GatewayReady comes from its own probe, not a batch.
        if (e.model.specHash !== m.specHash || JSON.stringify(e.model.gatewayEntry) !== JSON.stringify(m.gatewayEntry)) {
          e.ownGatewayProbe = true;
        }
        e.model = m;
        continue;
      }
      const entry: Entry = {
        model: m,
        restartHistory: [],
        timer: null,
        busy: false,
        ownGatewayProbe: true,
        lastBatch: null,
        gatewayCheckedAt: null,
        lastAlive: null,
        gatewayPath: null,
        kept: null,
        health: {
          name: m.name,
          file: m.file,
          transport: m.transport,
          gatewayName: m.gatewayName,
          container: containerShown(m),
          conditions: [],
          tools: null,
          gatewayTools: [],
          gatewayCheckedAt: null,
          consecutiveFailures: 0,
          hungRestarts: 0,
          lastProbeAt: null,
          events: [],
        },
      };
      this.#servers.set(m.name, entry);
      // First probe at a random point in the interval so many servers do not probe at once.
      if (this.#running) this.#schedule(entry, Math.round(Math.random() * Math.min(m.health.intervalMs, 5_000)));
    }
    for (const e of this.#servers.values()) {
      const shown = e.health.conditions.find((c) => c.type === C.Progressing);
      if (this.#failures.has(`container:${objectName(e.model)}`) || shown?.status === 'False') this.#progress(e);
    }
  }

  /** Start the probe timers. */
  start(): void {
    this.#running = true;
    this.#stopped = false;
    for (const e of this.#servers.values()) this.#schedule(e, Math.round(Math.random() * Math.min(e.model.health.intervalMs, 5_000)));
  }

  /** Stop the probe timers; resolves once the kept sessions are ended (each DELETE bounded to 2 s). */
  stop(): Promise<void> {
    this.#running = false;
    this.#stopped = true;
    for (const e of this.#servers.values()) if (e.timer) clearTimeout(e.timer);
    return Promise.all([...this.#servers.values()].map((e) => this.#endSession(e))).then(() => undefined);
  }

  /**
   * A removed server's session: a url: server's is ended at its (unchanged) address; a container's went
   * with its container, and its freed port may be another's by now, so nothing is sent.
   */
  #release(e: Entry): Promise<void> {
    if (e.model.remote) return this.#endSession(e);
    e.kept = null;
    return Promise.resolve();
  }

  #endSession(e: Entry): Promise<void> {
    const kept = e.kept;
    e.kept = null;
    return kept ? endKeptSession(kept, authHeaders(e.model)) : Promise.resolve();
  }

  /**
   * Probe every server at once instead of at its (possibly backed-off) next time, with a fresh
   * Docker snapshot: Docker answering again after an outage.
   */
  probeSoon(): void {
    this.#snap = null;
    if (!this.#running) return;
    for (const e of this.#servers.values()) this.#schedule(e, 0);
  }

  /** Probe every server once now (the CLI's `status` without a daemon, and tests). */
  async probeAll(): Promise<void> {
    await Promise.all([...this.#servers.keys()].map((n) => this.probe(n)));
  }

  snapshot(): ServerHealth[] {
    for (const e of this.#servers.values()) this.#progress(e);
    return [...this.#servers.values()].map((e) => structuredClone(e.health)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Progressing from the failure memory, merged (and its transitions logged) without a probe. */
  #progress(e: Entry): void {
    const h = e.health;
    const next = progressingCondition(this.#failures.get(`container:${objectName(e.model)}`), this.#now());
    const others = h.conditions.filter((c) => c.type !== C.Progressing);
    const prev = h.conditions.find((c) => c.type === C.Progressing);
    const merged = mergeConditions(prev ? [prev] : [], [next], new Date(this.#now()).toISOString());
    const at = Math.max(0, CONDITION_ORDER.indexOf(C.Progressing));
    const ordered = [...others];
    ordered.splice(Math.min(at, ordered.length), 0, merged.conditions[0] as Condition);
    h.conditions = ordered;
    for (const t of merged.transitions) {
      const line = `${t.condition} ${t.from ?? 'none'} -> ${t.to} (${t.reason})`;
      this.#deps.log.child({ component: 'health', server: e.model.name })[t.to === 'False' ? 'warn' : 'info'](
        { condition: t.condition, from: t.from, to: t.to, reason: t.reason, message: t.message },
        line,
      );
      this.#event(h, `${line}: ${t.message}`);
    }
  }

  #schedule(e: Entry, delay: number): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = setTimeout(() => {
      void this.probe(e.model.name).finally(() => {
        if (this.#running && this.#servers.get(e.model.name) === e) {
          this.#schedule(e, nextProbeDelay(e.model.health.intervalMs, e.health.consecutiveFailures));
        }
      });
    }, delay);
    e.timer.unref?.();
  }

  #containers(): Promise<ObservedContainer[]> {
    const now = this.#now();
    if (!this.#snap || now - this.#snap.at > SNAPSHOT_TTL_MS) {
      this.#snap = { at: now, containers: this.#deps.runtime.observe(this.#deps.observe).then((s) => s.containers) };
      this.#snap.containers.catch(() => {
        this.#snap = null;
      });
    }
    return this.#snap.containers;
  }

  /** One probe cycle for one server: observe, probe, merge conditions, log transitions, act on hangs. */
  async probe(name: string): Promise<void> {
    const e = this.#servers.get(name);
    if (!e || e.busy) return;
    e.busy = true;
    try {
      await this.#probe(e);
    } catch (err) {
      this.#deps.log.warn({ server: name, err: errorMessage(err) }, 'health probe cycle failed');
    } finally {
      e.busy = false;
    }
  }

  async #probe(e: Entry): Promise<void> {
    const m = e.model;
    const h = e.health;
    const log = this.#deps.log.child({ component: 'health', server: m.name });
    const problem = this.#problems.get(m.name);
    let containers: ObservedContainer[] = [];
    let dockerError: string | null = null;
    try {
      containers = await this.#containers();
    } catch (err) {
      dockerError = errorMessage(err);
    }
    const name = objectName(m);
    const remote = m.remote;
    const c = remote ? undefined : containers.find((x) => x.name === name);
    const port = m.container?.exposedPort;
    h.container = {
      ...containerShown(m),
      id: c?.id.slice(0, 12) ?? null,
      state: remote ? 'remote' : dockerError ? 'unknown' : c ? (c.owned ? c.state : 'conflict') : 'missing',
      hostPort: c && port !== undefined ? (c.hostPorts[port] ?? null) : null,
      imageId: c?.imageId ?? null,
      created: c?.created ?? null,
    };
    const next = [];

    // Valid
    if (problem?.reason === 'SpecInvalid' || problem?.reason === 'InputsUnusable')
      next.push(cond(C.Valid, 'False', problem.reason === 'SpecInvalid' ? R.SpecInvalid : R.InputsUnusable,
        `${problem.message} (running the last good version)`));
    else if (m.blocked) next.push(cond(C.Valid, 'False', R.Blocked, m.blocked));
    else next.push(cond(C.Valid, 'True', R.SpecValid, m.file));

    // ImageAvailable
    if (remote) next.push(cond(C.ImageAvailable, 'True', R.Remote, `no image: runs at ${remote.url}`));
    else if (problem?.reason === 'ImagePullFailed') next.push(cond(C.ImageAvailable, 'False', R.ImagePullFailed, problem.message));
    else if (problem?.reason === 'BuildFailed') next.push(cond(C.ImageAvailable, 'False', R.BuildFailed, problem.message));
    else if (c?.owned) next.push(cond(C.ImageAvailable, 'True', R.ImagePresent, h.container.image));
    else next.push(cond(C.ImageAvailable, 'Unknown', R.NotFound, 'no container yet'));

    // Progressing: the last change of the container applied, or failed and waits (ADR 0005)
    next.push(progressingCondition(this.#failures.get(`container:${name}`), this.#now()));

    // ContainerRunning
    // A url: server counts as running: nothing of it is ours to run; McpReady tells whether it answers.
    const running = remote !== null || (!!c?.owned && c.running);
    if (remote) next.push(cond(C.ContainerRunning, 'True', R.Remote, `no container: runs at ${remote.url}`));
    else if (dockerError) next.push(cond(C.ContainerRunning, 'Unknown', R.NotFound, `Docker unavailable: ${dockerError}`));
    else if (!c) next.push(cond(C.ContainerRunning, 'False', R.NotFound, `${name} does not exist`));
    else if (!c.owned) next.push(cond(C.ContainerRunning, 'False', R.NameConflict,
      `${c.name} exists but is not managed by mcp-reconciler`));
    else if (c.state === 'restarting') next.push(cond(C.ContainerRunning, 'False', R.CrashLoop,
      'the process keeps exiting; Docker restarts it'));
    else if (c.state === 'paused') next.push(cond(C.ContainerRunning, 'False', R.Exited, 'container paused (the next pass unpauses it)'));
    else if (!c.running) next.push(cond(C.ContainerRunning, 'False', R.Exited, `container ${c.state}`));
    else next.push(cond(C.ContainerRunning, 'True', R.Running, h.container.id ?? ''));

    // McpReady: through the server's or the edge's 127.0.0.1 port, or by name on the network (reach.ts).
    let direct: ProbeResult | null = null;
    const edge = containers.find((x) => x.owned && x.role === 'edge' && x.running);
    const edgePort = this.#deps.edgePort ?? 8080;
    const target = probeTarget({
      reach: this.#deps.reach ?? 'host',
      transport: m.transport,
      internal: m.network?.internal ?? false,
      container: name,
      remoteUrl: remote?.url ?? null,
      port,
      mcpPath: m.mcpPath,
      hostPort: h.container.hostPort,
      edge: edge ? { name: edge.name, port: edgePort, hostPort: edge.hostPorts[edgePort] ?? null } : null,
    });
    if (running && 'url' in target) {
      // Under a tool policy the edge filters tools/list; the probe asks for the whole list to count what is hidden.
      const headers = { ...authHeaders(m), ...(m.toolPolicy ? { [UNFILTERED_HEADER]: '1' } : {}) };
      const opts = { url: target.url, timeoutMs: m.health.timeoutMs, headers };
      if (this.#deps.keepSessions && target.transport === 'http') {
        const answer = await probeKeepingSession({ ...opts, kept: e.kept });
        e.kept = answer.kept;
        direct = answer;
        // Removed or stopped while this probe ran: nothing stays open on the server.
        if (this.#servers.get(m.name) !== e) await this.#release(e);
        else if (this.#stopped) await this.#endSession(e);
      } else direct = await probeMcp({ ...opts, transport: target.transport });
      this.#deps.metrics?.probeLatency.observe(
        { server: m.name, target: 'direct', result: direct.ok ? 'ok' : 'fail' },
        direct.latencyMs / 1000,
      );
    }
    if (direct?.ok) {
      const diff = toolDiff(h.tools, direct.tools);
      if (diff.added.length || diff.removed.length) {
        log.info(
          { added: diff.added, removed: diff.removed, tools: direct.tools.length },
          `tools changed: +${diff.added.length} -${diff.removed.length}`,
        );
        this.#event(h, `tools changed: +[${diff.added.join(', ')}] -[${diff.removed.join(', ')}]`);
      }
      h.tools = direct.tools;
      const policy = m.toolPolicy ? new CompiledPolicy(m.toolPolicy) : null;
      const hidden = policy ? direct.tools.filter((t) => policy.exposedName(t) === null) : [];
      h.toolPolicy = policy ? { exposed: direct.tools.length - hidden.length, hidden } : null;
      h.consecutiveFailures = 0;
      const counted = h.toolPolicy ? ` (${h.toolPolicy.exposed} exposed, ${h.toolPolicy.hidden.length} hidden by tools:)` : '';
      next.push(cond(C.McpReady, 'True', R.ToolsListed, `${direct.tools.length} tools${counted} in ${Math.round(direct.latencyMs)} ms`));
      this.#deps.metrics?.tools.set({ server: m.name }, direct.tools.length);
    } else if (direct) {
      h.consecutiveFailures++;
      const timeout = /timed? ?out|abort/i.test(direct.error);
      next.push(cond(C.McpReady, 'False', timeout ? R.HealthTimeout : R.ProbeFailed,
        `${direct.error} (${h.consecutiveFailures} in a row)`));
    } else {
      next.push(cond(C.McpReady, 'False', R.NotProbed, running && 'why' in target ? target.why : 'container not running'));
    }

    // Registered: config.yaml in config mode, LiteLLM's database rows in API mode.
    if (problem?.reason === 'EntryConflict') next.push(cond(C.Registered, 'False', R.EntryConflict, problem.message));
    else if (this.#mode === 'api') next.push(await this.#registeredInApi(m));
    else {
      const view = readGatewayConfig(this.#deps.config.read(this.#deps.configPath));
      if (view.owned[m.gatewayName]) next.push(cond(C.Registered, 'True', R.InConfig, `${m.gatewayName} in ${this.#deps.configPath}`));
      else next.push(cond(C.Registered, 'False', R.NotInConfig, `${m.gatewayName} is not in the gateway config`));
    }

    // GatewayReady: its tools through LiteLLM's POST /mcp/ (tool names `<gatewayName>-<tool>`), asked
    // every health.gatewayIntervalMs, and at once when the server is new, changed, failed a probe, is
    // not registered or LiteLLM was down; in between it stands while LiteLLM's process answers.
    if (this.#deps.gateway) {
      const registered = next.find((x) => x.type === C.Registered)?.status === 'True';
      const previous = h.conditions.find((x) => x.type === C.GatewayReady);
      if (!dockerError) this.#gatewayPath = gatewayPathOf(containers);
      const failed = (direct !== null && !direct.ok) || previous?.status !== 'True';
      const due = e.ownGatewayProbe || !registered || failed || this.#gatewayDue(e, this.#now());
      const alive = due ? null : await this.#gatewayAlive(e);
      if (alive && !alive.ok) {
        // Down between two listings: everyone is listed again (one batch) once it answers.
        e.gatewayCheckedAt = null;
        h.gatewayTools = [];
        next.push(cond(C.GatewayReady, 'False', R.GatewayDown, alive.error));
      } else if (alive) {
        next.push(cond(C.GatewayReady, previous!.status, previous!.reason as Reason, previous!.message));
      } else {
        const g = await this.#gatewayTools(e);
        const mine = g.ok ? g.tools : [];
        h.gatewayTools = mine;
        // Failed (or its direct probe failed: a hung server would stall a batch): asked on its own next time.
        e.ownGatewayProbe = !g.ok || mine.length === 0 || (direct !== null && !direct.ok);
        e.gatewayCheckedAt = g.ok && mine.length > 0 ? g.listedAt : null;
        e.gatewayPath = this.#gatewayPath;
        if (!g.ok) next.push(cond(C.GatewayReady, 'False', R.GatewayDown, g.error));
        else if (mine.length === 0) next.push(cond(C.GatewayReady, 'False', R.NoToolsThroughGateway,
          `LiteLLM lists no ${m.gatewayName}-* tools`));
        else next.push(cond(C.GatewayReady, 'True', R.ToolsThroughGateway,
          `${mine.length} tools through LiteLLM${g.batched ? ' (batched listing)' : ''}`));
      }
      h.gatewayCheckedAt = e.gatewayCheckedAt === null ? null : new Date(e.gatewayCheckedAt).toISOString();
    } else {
      next.push(cond(C.GatewayReady, 'Unknown', R.GatewayDown, 'no gateway configured'));
    }

    const now = new Date(this.#now()).toISOString();
    const merged = mergeConditions(h.conditions, next, now);
    h.conditions = merged.conditions;
    h.lastProbeAt = now;
    for (const t of merged.transitions) {
      const line = `${t.condition} ${t.from ?? 'none'} -> ${t.to} (${t.reason})`;
      const level = t.to === 'False' && t.from !== null ? 'warn' : 'info';
      log[level]({ condition: t.condition, from: t.from, to: t.to, reason: t.reason, message: t.message }, line);
      this.#event(h, `${line}: ${t.message}`);
    }
    for (const x of h.conditions) this.#deps.metrics?.condition.set({ server: m.name, condition: x.type }, x.status === 'True' ? 1 : 0);

    // A running container that does not answer MCP is hung: restart it, within the budget.
    if (c?.owned && running && direct && !direct.ok && m.health.restartOnHang && h.consecutiveFailures >= m.health.failureThreshold) {
      const t = this.#now();
      if (mayRestart(e.restartHistory, t, RESTART_BUDGET)) {
        e.restartHistory.push(t);
        h.hungRestarts++;
        h.consecutiveFailures = 0;
        log.warn(
          { failures: m.health.failureThreshold, restarts: h.hungRestarts },
          `restarting hung container ${c.name}: running but not answering MCP`,
        );
        this.#event(h, `restarted hung container (${m.health.failureThreshold} failed probes)`);
        this.#deps.metrics?.restarts.inc({ server: m.name });
        await this.#deps.runtime.stop(c.id);
        await this.#deps.runtime.start(c.id);
        this.#snap = null;
      } else if (h.consecutiveFailures === m.health.failureThreshold) {
        log.warn(
          { restarts: e.restartHistory.length },
          'hung container not restarted: restart budget used up (3 per hour, growing pauses)',
        );
      }
    }
  }

  /**
   * This server's tools through LiteLLM. A server that is new, changed or was not ready is asked
   * for on its own (`x-mcp-servers: <name>`). The others share one batched tools/list per probe
   * interval (all our servers, in groups of GATEWAY_BATCH_MAX), split by the `<name>-` prefix:
   * LiteLLM skips a server it cannot list, so a server missing from the batch is probed on its own
   * at once and that answer decides. A batch that fails as a whole falls back to the own probe.
   */
  async #gatewayTools(e: Entry): Promise<ProbeResult & { batched?: boolean; listedAt: number }> {
    const m = e.model;
    const gw = this.#deps.gateway as NonNullable<MonitorDeps['gateway']>;
    const own = async (): Promise<ProbeResult & { listedAt: number }> => {
      const listedAt = this.#now();
      const g = await gw.listTools({ servers: [m.gatewayName], timeoutMs: m.health.timeoutMs });
      this.#deps.metrics?.probeLatency.observe({ server: m.name, target: 'gateway', result: g.ok ? 'ok' : 'fail' }, g.latencyMs / 1000);
      return g.ok ? { ...g, tools: g.tools.filter((t) => t.startsWith(`${m.gatewayName}-`)), listedAt } : { ...g, listedAt };
    };
    if (e.ownGatewayProbe) return own();
    // Each probe of a server reads a listing made since its previous probe (a listing from before
    // LiteLLM stopped never answers for this server twice).
    const batch = this.#batchFor(m, e.lastBatch);
    e.lastBatch = batch;
    const g = await batch.result;
    if (!g.ok) return own();
    const mine = g.tools.filter((t) => t.startsWith(`${m.gatewayName}-`));
    if (mine.length === 0) return own();
    return { ...g, tools: mine, batched: true, listedAt: batch.at };
  }

  /**
   * It has no listing through LiteLLM, one made before the gateway's path changed, or one older
   * than health.gatewayIntervalMs at `at`.
   */
  #gatewayDue(e: Entry, at: number): boolean {
    if (e.gatewayCheckedAt === null || e.gatewayPath !== this.#gatewayPath) return true;
    return at - e.gatewayCheckedAt >= e.model.health.gatewayIntervalMs;
  }

  /**
   * LiteLLM's liveness route, asked at most once per GATEWAY_ALIVE_TTL_MS for all servers; a server
   * never stands on the same answer twice (LiteLLM stopping shows at its next probe).
   */
  #gatewayAlive(e: Entry): ReturnType<LiteLLMGateway['alive']> {
    const now = this.#now();
    if (!this.#alive || now - this.#alive.at >= GATEWAY_ALIVE_TTL_MS || this.#alive === e.lastAlive) {
      const gw = this.#deps.gateway as NonNullable<MonitorDeps['gateway']>;
      this.#alive = { at: now, result: gw.alive() };
    }
    e.lastAlive = this.#alive;
    return this.#alive.result;
  }

  /**
   * The fresh batch that asks for this server and that it did not use yet, or a new one (with every
   * server that is in no fresh batch now).
   */
  #batchFor(m: ServerModel, used: GatewayBatch | null): GatewayBatch {
    const now = this.#now();
    this.#batches = this.#batches.filter((b) => now - b.at < m.health.intervalMs);
    const fresh = this.#batches.find((b) => b.names.has(m.gatewayName) && b !== used);
    if (fresh) return fresh;
    const gw = this.#deps.gateway as NonNullable<MonitorDeps['gateway']>;
    const asked = new Set(this.#batches.flatMap((b) => [...b.names]));
    // The others whose check falls due before their next probe share this listing (ADR 0017).
    const names = [...this.#servers.values()]
      .filter((x) => x.model.gatewayEntry !== null && !x.ownGatewayProbe && !asked.has(x.model.gatewayName))
      .filter((x) => this.#gatewayDue(x, now + x.model.health.intervalMs))
      .map((x) => x.model.gatewayName)
      .filter((n) => n !== m.gatewayName)
      .slice(0, GATEWAY_BATCH_MAX - 1);
    names.unshift(m.gatewayName);
    const timeoutMs = m.health.timeoutMs + names.length * GATEWAY_BATCH_MS_PER_SERVER;
    const result = gw.listTools({ servers: names, timeoutMs }).then((g) => {
      this.#deps.metrics?.probeLatency.observe({ server: '(batch)', target: 'gateway', result: g.ok ? 'ok' : 'fail' }, g.latencyMs / 1000);
      return g;
    });
    const batch: GatewayBatch = { at: now, names: new Set(names), result };
    this.#batches.push(batch);
    return batch;
  }

  #event(h: ServerHealth, message: string): void {
    h.events.push({ time: new Date(this.#now()).toISOString(), message });
    if (h.events.length > EVENTS_KEPT) h.events.splice(0, h.events.length - EVENTS_KEPT);
  }
}

/**
 * What a call through LiteLLM passes (our gateway, front and edge containers: id and running), as
 * one string: a LiteLLM or edge that stopped, was recreated or was replaced by a colour makes every
 * server's GatewayReady due at once instead of at its next gatewayIntervalSeconds.
 */
function gatewayPathOf(containers: readonly ObservedContainer[]): string {
  return containers
    .filter((c) => c.owned && (c.role === 'gateway' || c.role === 'front' || c.role === 'edge'))
    .map((c) => `${c.id}:${c.running ? 'up' : 'down'}`)
    .sort()
    .join(',');
}

/** The container's name, or for a url: server the name of its edge route (`<prefix><name>`). */
function objectName(m: ServerModel): string {
  return m.container?.name ?? m.remote?.object ?? m.name;
}

/** What status shows in the container column before the first probe (a url: server: its URL as the image). */
function containerShown(m: ServerModel): ServerHealth['container'] {
  const unseen = { id: null, hostPort: null, imageId: null, created: null };
  if (m.container) return { ...unseen, name: m.container.name, state: 'unknown', image: m.container.image };
  return { ...unseen, name: objectName(m), state: 'remote', image: m.remote?.url ?? '' };
}

/** The header LiteLLM would send for a server's `auth:` (client.py _get_auth_headers), for probes. */
export function authHeaders(m: ServerModel): Record<string, string> {
  if (!m.auth) return {};
  let value: string | undefined;
  try {
    value = readEnvFile(m.auth.file)[m.auth.key];
  } catch {
    return {};
  }
  if (value === undefined) return {};
  switch (m.auth.type) {
    case 'bearer_token':
      return { authorization: `Bearer ${value}` };
    case 'basic':
      return { authorization: `Basic ${value}` };
    case 'api_key':
      return { 'x-api-key': value };
    case 'authorization':
      return { authorization: value };
  }
}
