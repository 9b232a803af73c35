import type { Logger } from 'pino';
import { dirname, join } from 'node:path';
import type { Settings } from '../config/settings.js';
import { loadDesiredDir, type DesiredLoad } from '../desired/load.js';
import {
  resolveServers, toolPolicyPath, edgeSpec, edgeDockerSpec, gatewaySpec, gatewayProblem, gatewayCredentialProblems,
  frontSpec, gatewayColourSpec, gatewayColourName, frontActivePath,
} from '../desired/resolve.js';
import { readEnvFile, readSecretsFile } from '../desired/env-file.js';

import type { ConfigStore, ContainerRuntime, GatewayApi, GatewayHandover, GatewayReadiness } from '../ports/index.js';
import { apiIdPrefix } from '../litellm/api.js';
import { GUARD_FILE } from '../litellm/guard.js';
import { parseActive } from '../front/active.js';
import { execute, type BuildListener, type ExecuteResult } from './executor.js';
import { plan as makePlan, type PlanInput } from './planner.js';
import {
  isReportOnly, type ChangeFailure, type ApiServerRow, type ContainerSpec, type GatewayColour, type ObservedContainer, type Operation,
  type Plan, type ServerModel,
} from '../model/types.js';
import { Labels } from '../docker/labels.js';
import { FailureMemory, formatWait } from './backoff.js';
import type { ServerProblem } from '../health/monitor.js';
import { countApiCalls } from '../ports/api-calls.js';

/** The gateway env file's text, read safely; an unusable file counts as empty (gatewayProblem says why). */
function gatewayEnvText(path: string): string {
  try {
    return readSecretsFile(path);
  } catch {
    return '';
  }
}

export interface ReconcilerDeps {
  runtime: ContainerRuntime;
  config: ConfigStore;
  gateway: GatewayReadiness | null;
  /** LiteLLM's management API; null: config mode only. */
  api?: GatewayApi | null;
  /** The blue/green handover through the front (gateway.handover: blue-green; ADR 0025). */
  handover?: GatewayHandover | null;
  log: Logger;
  /** Clock for the failure memory (tests). */
  now?: () => number;
  /** Backoff bounds (tests); default 10 s doubling to 5 min. */
  backoff?: { baseMs?: number; maxMs?: number };
}

export interface PlanOutcome {
  plan: Plan;
  /** How servers are registered with LiteLLM this pass, and why. */
  gatewayMode: { mode: 'config' | 'api'; why: string };
  load: DesiredLoad;
  input: PlanInput;
  /** Files or inputs that are not usable now; their servers keep their last good state. */
  problems: { name: string | null; file: string; message: string }[];
}

/**
 * observe -> plan -> apply, level-triggered: every pass starts from the desired files and a fresh
 * snapshot of Docker and config.yaml. The only memory is `lastGood` (per server, the last model
 * that resolved), which lets an invalid edit keep the server as it was in a long-running daemon,
 * and the failure memory (per container: a failed change waits 10 s, 20 s ... 5 min; ADR 0005).
 */
export class Reconciler {
  settings: Settings;
  #deps: ReconcilerDeps;
  readonly #lastGood = new Map<string, ServerModel>();
  readonly #failures: FailureMemory;
  readonly #changes = new Map<string, string>();
  readonly #builds = new Map<string, BuildState>();

  constructor(settings: Settings, deps: ReconcilerDeps) {
    this.settings = settings;
    this.#deps = deps;
    this.#failures = new FailureMemory(deps.backoff ?? {});
  }

  /**
   * SIGHUP: new settings and the clients built from them, swapped between two passes. The memory
   * stays: last good models and the failure backoff (a reload is no reason to retry a failing change).
   */
  reconfigure(settings: Settings, deps: ReconcilerDeps): void {
    this.settings = settings;
    this.#deps = deps;
  }

  #now(): number {
    return this.#deps.now?.() ?? Date.now();
  }

  /** Changes that failed and wait (or are due) for their next try. */
  failures(): ChangeFailure[] {
    return this.#failures.entries().map((f) => ({
      object: f.object,
      change: this.#changes.get(f.object) ?? 'recreate-container',
      failures: f.failures,
      reason: f.reason,
      nextTryAt: f.until,
    }));
  }

  /** Builds of this daemon (ADR 0023), the newest per server: running ones with their last output lines. */
  builds(): BuildState[] {
    return [...this.#builds.values()].map((b) => ({ ...b, lastLines: [...b.lastLines] }));
  }

  #buildListener(): BuildListener {
    const now = (): string => new Date(this.#now()).toISOString();
    return {
      started: (server, tag, source) => {
        const started: BuildState = {
          server, tag, source, state: 'building', startedAt: now(), finishedAt: null, step: null, lastLines: [], error: null,
        };
        this.#builds.set(server, started);
      },
      line: (server, line) => {
        const b = this.#builds.get(server);
        if (!b) return;
        if (/^Step \d+\/\d+ :/.test(line)) b.step = line.slice(0, 200);
        b.lastLines.push(line.slice(0, 300));
        if (b.lastLines.length > BUILD_LINES_KEPT) b.lastLines.shift();
      },
      finished: (server, error) => {
        const b = this.#builds.get(server);
        if (!b) return;
        b.state = error === null ? 'built' : 'failed';
        b.error = error;
        b.finishedAt = now();
      },
    };
  }

  /** When the earliest held change becomes due (the daemon requests a pass then), or null. */
  nextRetryAt(): number | null {
    return this.#failures.nextDue(this.#now());
  }

  /** Try every held change at the next pass (an explicit `apply --once`). */
  forgetFailures(): void {
    this.#failures.clear();
    this.#changes.clear();
  }

  /** Compute the plan without changing anything. */
  async plan(opts: { allowEmpty?: boolean } = {}): Promise<PlanOutcome> {
    const s = this.settings;
    const load = loadDesiredDir(s.desiredDir);
    const problems: PlanOutcome['problems'] = [];
    for (const inv of load.invalid) {
      problems.push({
        name: inv.name,
        file: inv.file,
        message: inv.issues.map((i) => `${i.line}:${i.col} ${i.path ? `${i.path}: ` : ''}${i.message}`).join('; '),
      });
    }
    const resolved = resolveServers(s, load.servers);
    for (const f of resolved.failures) problems.push({ name: f.name, file: f.file, message: f.message });
    for (const m of resolved.models) this.#lastGood.set(m.name, m);

    const servers: ServerModel[] = [...resolved.models];
    const hold: string[] = [];
    const unusable = [...load.invalid.map((i) => i.name), ...resolved.failures.map((f) => f.name)];
    for (const name of unusable) {
      if (name === null) continue;
      const good = this.#lastGood.get(name);
      if (good) servers.push(good);
      else hold.push(name);
    }
    const present = new Set([...servers.map((m) => m.name), ...hold]);
    for (const name of [...this.#lastGood.keys()]) {
      if (!present.has(name)) this.#lastGood.delete(name);
    }

    // A server whose credential file went bad keeps its entry; the gateway is not rebuilt without it.
    const credentialProblems = gatewayCredentialProblems(servers.filter((m) => m.blocked === null));
    for (const p of credentialProblems) {
      problems.push({ name: p.name, file: p.file, message: `${p.message}; the gateway is left as it runs` });
    }
    const broken = new Set(credentialProblems.map((p) => p.name));
    const gSpec = gatewaySpec(s, servers.filter((m) => m.blocked === null && !broken.has(m.name)));
    const edge = edgeSpec(s, servers.filter((m) => m.blocked === null));
    const images = wantedImages(servers, edge, s.gateway.managed ? gSpec : null);
    const snap = await this.#deps.runtime.observe({ namePrefix: s.namePrefix, instance: s.instance, network: s.network, images });
    const gatewayConfigText = this.#deps.config.read(s.gateway.configPath);
    const runningServers = snap.containers.filter((c) => c.owned && c.role === 'server').length;
    const prune = pruneDecision(load, runningServers, (opts.allowEmpty ?? false) || s.allowEmptyDesired);

    const gProblem = !s.gateway.managed
      ? null
      : (gatewayProblem(s) ??
        (credentialProblems.length > 0
          ? `upstream credentials unreadable (${credentialProblems.map((p) => p.message).join('; ')})`
          : null));
    const gm = await this.#gatewayMode();
    // Blue/green (ADR 0025): two LiteLLM colours behind the front, in config and API mode alike.
    const blueGreen = s.gateway.managed && s.gateway.handover === 'blue-green'
      ? {
        front: frontSpec(s),
        colours: { blue: gatewayColourSpec(s, gSpec, 'blue'), green: gatewayColourSpec(s, gSpec, 'green') },
        activePath: frontActivePath(s),
      }
      : null;
    const activeText = blueGreen ? this.#deps.config.read(blueGreen.activePath) : null;
    // status, the page and /status name the colour serving now (ADR 0025).
    const why = blueGreen ? `${gm.why}; blue/green, active: ${parseActive(activeText) ?? 'none yet'}` : gm.why;
    const input: PlanInput = {
      network: s.network,
      instance: s.instance,
      servers,
      hold,
      edge,
      edgeDocker: edgeDockerSpec(s),
      gateway: {
        managed: s.gateway.managed, restartContainer: s.gateway.restartContainer, mode: gm.mode,
        apiIdPrefix: apiIdPrefix(s.instance), spec: gSpec,
        configPath: s.gateway.configPath, problem: gProblem, ...(blueGreen ? { blueGreen } : {}),
      },
      observed: {
        networkExists: snap.networkExists,
        networks: snap.networks,
        containers: snap.containers,
        volumes: snap.volumes,
        imageIds: snap.imageIds ?? {},
        ...(snap.builtImages ? { builtImages: snap.builtImages } : {}),
        gatewayConfigText,
        gatewayGuardText: this.#deps.config.read(join(dirname(s.gateway.configPath), GUARD_FILE)),
        toolPolicyText: this.#deps.config.read(toolPolicyPath(s)),
        ...(blueGreen ? { frontActiveText: activeText } : {}),
        apiServers: gm.apiServers,
        gatewayConfigMtime: this.#deps.config.mtime(s.gateway.configPath),
        restartTarget: !s.gateway.managed && s.gateway.restartContainer
          ? await this.#deps.runtime.inspectByName(s.gateway.restartContainer)
          : null,
      },
      prune,
      held: this.#failures.held(this.#now()),
      toolPolicy: { path: toolPolicyPath(s) },
    };
    return { plan: makePlan(input), load, input, problems, gatewayMode: { mode: gm.mode, why } };
  }

  /**
   * Config or API mode. auto: API mode when the gateway answers with a database (reading one
   * server needs it); config mode when it answers without one. When it does not answer, the
   * managed gateway's intent decides (DATABASE_URL in its env file), else config mode.
   */
  async #gatewayMode(): Promise<{ mode: 'config' | 'api'; why: string; apiServers: ApiServerRow[] | null }> {
    const s = this.settings;
    const api = this.#deps.api;
    const db = api ? await api.database() : 'unreachable';
    const rows = async (): Promise<ApiServerRow[] | null> => (api && db === 'database' ? await api.list().catch(() => null) : null);
    if (s.gateway.mode === 'config') return { mode: 'config', why: 'gateway.mode: config', apiServers: await rows() };
    if (s.gateway.mode === 'api') return { mode: 'api', why: 'gateway.mode: api', apiServers: await rows() };
    if (db === 'database') return { mode: 'api', why: 'the gateway has a database', apiServers: await rows() };
    if (db === 'no-database') return { mode: 'config', why: 'the gateway has no database', apiServers: null };
    const intent = s.gateway.managed && /^DATABASE_URL=./m.test(gatewayEnvText(s.gateway.envFile));
    return intent
      ? { mode: 'api', why: 'DATABASE_URL is configured (gateway not answering yet)', apiServers: null }
      : { mode: 'config', why: 'gateway not answering; no database configured', apiServers: null };
  }

  /**
   * One line for `systemctl status` and `/status`: `3 servers: 3 running; gateway running`.
   * Observes Docker once; no probes. The daemon takes the line from its pass instead (`passSummary`).
   */
  async summarize(): Promise<string> {
    const s = this.settings;
    const load = loadDesiredDir(s.desiredDir);
    const snap = await this.#deps.runtime.observe({ namePrefix: s.namePrefix, instance: s.instance, network: s.network });
    const blueGreen = s.gateway.managed && s.gateway.handover === 'blue-green';
    const colour = blueGreen ? parseActive(this.#deps.config.read(frontActivePath(s))) : null;
    return summaryLine(load, snap.containers, s.gateway.managed, colour ? { colour, name: gatewayColourName(s, colour) } : null);
  }

  /**
   * `apply --pull`: fetch every wanted image reference from its registry now (the only time a
   * present image is pulled); the pass after it rolls out each reference whose local id changed.
   */
  async pullWanted(): Promise<{ image: string; id: string | null; error: string | null }[]> {
    const { input } = await this.plan();
    // Built images (build:, package:; ADR 0023) exist only here: there is no registry to pull them from.
    const refs = wantedImages(input.servers.filter((m) => !m.build), input.edge, input.gateway.managed ? input.gateway.spec : null);
    const out: { image: string; id: string | null; error: string | null }[] = [];
    for (const image of refs) {
      try {
        out.push({ image, id: await this.#deps.runtime.pull(image), error: null });
      } catch (err) {
        out.push({ image, id: null, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return out;
  }

  /**
   * One full pass: plan, then execute, on exactly one observation of Docker. `retryNow` forgets every
   * failure first (`apply --once`). Also returns the status line after the pass (from that observation
   * and what the pass did) and how many Docker Engine API requests the pass made.
   */
  async reconcile(opts: { allowEmpty?: boolean; retryNow?: boolean } = {}): Promise<PassOutcome> {
    const counter = { calls: 0 };
    const out = await countApiCalls(counter, () => this.#pass(opts));
    return { ...out, summary: passSummary(out, this.settings.gateway.managed), dockerApiCalls: counter.calls };
  }

  async #pass(opts: { allowEmpty?: boolean; retryNow?: boolean }): Promise<PlanOutcome & { result: ExecuteResult }> {
    if (opts.retryNow) this.forgetFailures();
    const outcome = await this.plan(opts);
    for (const p of outcome.problems) {
      this.#deps.log.warn({ file: p.file, server: p.name }, `desired state not usable, last good state kept: ${p.message}`);
    }
    for (const o of outcome.plan.operations) {
      // A held change was logged once when it failed; it is not logged again every pass.
      if (o.type === 'backoff-held') this.#deps.log.debug({ resourceId: o.resourceId, op: o.type }, o.cause);
      else if (isReportOnly(o)) this.#deps.log.warn({ resourceId: o.resourceId, op: o.type }, o.cause);
    }
    const result = await execute(outcome.plan, {
      runtime: this.#deps.runtime,
      config: this.#deps.config,
      gateway: this.#deps.gateway,
      api: this.#deps.api ?? null,
      handover: this.#deps.handover ?? null,
      log: this.#deps.log,
      onBuild: this.#buildListener(),
    });
    this.#remember(outcome, result);
    // Builds of servers no longer desired are not shown.
    for (const name of [...this.#builds.keys()]) if (!outcome.input.servers.some((m) => m.name === name)) this.#builds.delete(name);
    return { ...outcome, result };
  }

  /** Update the failure memory from a pass: failed container changes wait, others are forgotten. */
  #remember(outcome: PlanOutcome, result: ExecuteResult): void {
    const now = this.#now();
    const held = new Set(outcome.plan.operations.filter((o) => o.type === 'backoff-held').map((o) => o.resourceId));
    const touched = new Set<string>();
    for (const op of result.done) {
      if (!isContainerChange(op) && op.type !== 'await-gateway') continue;
      touched.add(op.resourceId);
      if (!held.has(op.resourceId)) this.#forget(op.resourceId);
    }
    for (const f of result.failed) {
      const op = f.op;
      if (op.type === 'await-gateway') {
        // A standby that did not get ready waits like a failed container change (ADR 0025): each try costs up to the ready timeout.
        touched.add(op.resourceId);
        this.#hold(op.resourceId, op.specHash, f, now);
        continue;
      }
      if (op.type === 'build-image') {
        // A failed build holds the server's container change (ADR 0023): same backoff, same status.
        const object = `container:${op.container}`;
        touched.add(object);
        this.#hold(object, op.specHash, f, now);
        continue;
      }
      if (!isContainerChange(op)) continue;
      touched.add(op.resourceId);
      if (held.has(op.resourceId)) continue; // starting the last working version failed: Docker's view, not a new try
      const hash = hashOf(op, outcome);
      if (hash !== null) this.#hold(op.resourceId, hash, f, now);
    }
    // A change planned but not tried (a failed step before it halted its lane) keeps its count: its next failure doubles the wait.
    const planned = new Set(outcome.plan.operations.map((o) => o.resourceId));
    for (const f of this.#failures.entries()) {
      if (!planned.has(f.object) && !touched.has(f.object)) this.#forget(f.object); // converged another way, or gone
    }
  }

  /** A failed change of `object` towards `specHash` waits for its next try (failure memory), logged once. */
  #hold(object: string, specHash: string, f: ExecuteResult['failed'][number], now: number): void {
    const op = f.op;
    const reason = f.error.split('\n')[0] ?? f.error;
    const r = this.#failures.fail(object, specHash, reason, now);
    this.#changes.set(object, op.type);
    const fields = { resourceId: op.resourceId, op: op.type, failures: r.failures, nextTryAt: new Date(r.until).toISOString() };
    this.#deps.log.warn(
      { ...fields, ...(op.server ? { server: op.server } : {}) },
      `${op.type} ${op.resourceId} failed (${r.failures}): ${reason}; next try in ${formatWait(r.until - now)}`,
    );
  }

  #forget(object: string): void {
    this.#failures.forget(object);
    this.#changes.delete(object);
  }
}

/** Output lines of a build kept for the status document. */
export const BUILD_LINES_KEPT = 5;

/** One server's newest build (ADR 0023), as `/status` shows it. */
export interface BuildState {
  server: string;
  tag: string;
  source: string;
  state: 'building' | 'built' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  /** The last `Step n/m : ...` line. */
  step: string | null;
  lastLines: string[];
  error: string | null;
}

/** A pass: its plan, what the executor did, the status line after it, its Docker API requests. */
export type PassOutcome = PlanOutcome & { result: ExecuteResult; summary: string; dockerApiCalls: number };

/**
 * The status line from desired files and containers (running or not, by role). Blue/green (ADR 0025):
 * the gateway is the colour the front's active file names, and its container (`gateway running (green)`).
 */
function summaryLine(
  load: DesiredLoad,
  containers: readonly ObservedContainer[],
  managedGateway: boolean,
  active: { colour: GatewayColour; name: string } | null = null,
): string {
  const running = new Set(containers.filter((c) => c.owned && c.running && c.role === 'server').map((c) => c.server));
  const wanted = load.servers.map((x) => x.name);
  const up = wanted.filter((n) => running.has(n)).length;
  const parts = [`${wanted.length} server${wanted.length === 1 ? '' : 's'}: ${up} running`];
  if (up < wanted.length) parts[0] += `, ${wanted.length - up} not running`;
  if (load.invalid.length) parts.push(`${load.invalid.length} invalid file${load.invalid.length === 1 ? '' : 's'}`);
  if (load.dirState !== 'ok') parts.push(`desired dir ${load.dirState}`);
  if (managedGateway) {
    const g = containers.find((c) => c.owned && c.role === 'gateway' && (active === null || c.name === active.name));
    parts.push(`gateway ${g ? g.state : 'missing'}${active ? ` (${active.colour})` : ''}`);
  }
  return parts.join('; ');
}

/**
 * The status line after a pass without observing Docker again: the pass's own observation, with the
 * container changes the executor carried out applied (created, recreated or started: running;
 * removed: gone). A change that failed leaves the container as observed.
 */
export function passSummary(out: PlanOutcome & { result: ExecuteResult }, managedGateway: boolean): string {
  const byName = new Map<string, ObservedContainer>(out.input.observed.containers.map((c) => [c.name, c]));
  const colours = out.input.gateway.blueGreen?.colours;
  let active = colours ? parseActive(out.input.observed.frontActiveText) : null;
  for (const op of out.result.done) {
    if (op.type === 'create-container' || op.type === 'recreate-container') {
      byName.set(op.spec.name, {
        id: '', name: op.spec.name, image: op.spec.image, state: 'running', running: true, owned: true, role: op.role,
        server: op.server ?? null, specHash: null, specSummary: null, source: null, hostPorts: {}, imageId: '',
      });
    } else if (op.type === 'start-container') {
      const name = op.resourceId.slice('container:'.length);
      const c = byName.get(name);
      if (c) byName.set(name, { ...c, state: 'running', running: true });
    } else if (op.type === 'remove-container' || op.type === 'retire-gateway') {
      byName.delete(op.resourceId.slice('container:'.length));
    } else if (op.type === 'switch-gateway') {
      active = op.colour;
    }
  }
  const serving = colours && active ? { colour: active, name: colours[active].name } : null;
  return summaryLine(out.load, [...byName.values()], managedGateway, serving);
}

function isContainerChange(
  op: Operation,
): op is Extract<Operation, { type: 'create-container' | 'recreate-container' | 'start-container' }> {
  return op.type === 'create-container' || op.type === 'recreate-container' || op.type === 'start-container';
}

/** The spec hash a container change was going to reach. */
function hashOf(
  op: Extract<Operation, { type: 'create-container' | 'recreate-container' | 'start-container' }>,
  outcome: PlanOutcome,
): string | null {
  if (op.type === 'start-container') return outcome.input.observed.containers.find((c) => c.id === op.containerId)?.specHash ?? null;
  return op.spec.labels[Labels.SpecHash] ?? null;
}

/**
 * Mass-deletion guard: a missing or unreadable desired dir never means "remove everything", and
 * an empty one while servers run needs confirmation.
 */
/** Every image reference a pass may run: servers, the edge, the managed gateway (unique, in order). */
export function wantedImages(servers: readonly ServerModel[], edge: ContainerSpec, gateway: ContainerSpec | null): string[] {
  const own = servers.flatMap((m) => (m.container ? [m.container.image] : [])); // url: servers run no image
  // The front (ADR 0025) runs the edge's image: nothing to add for it.
  return [...new Set([...own, edge.image, ...(gateway ? [gateway.image] : [])])];
}

export function pruneDecision(load: DesiredLoad, runningServers: number, allowEmpty: boolean): PlanInput['prune'] {
  if (load.dirState !== 'ok') {
    return { allowed: false, reason: `the desired dir ${load.dir} is ${load.dirState}` };
  }
  if (load.servers.length === 0 && load.invalid.length === 0 && runningServers > 0 && !allowEmpty) {
    return {
      allowed: false,
      reason: `the desired dir ${load.dir} is empty while ${runningServers} server(s) run; confirm with \`apply --once --allow-empty\``,
    };
  }
  return { allowed: true, reason: '' };
}

/** The master key the reconciler uses to call the gateway, from the gateway's own env file. */
export function masterKeyFrom(settings: Settings): string | null {
  try {
    return readEnvFile(settings.gateway.envFile)['LITELLM_MASTER_KEY'] ?? null;
  } catch {
    return null;
  }
}

/** What a pass could not do, per server, for the health conditions. */
export function problemsOf(outcome: PlanOutcome & { result?: ExecuteResult }): Map<string, ServerProblem> {
  const out = new Map<string, ServerProblem>();
  for (const p of outcome.problems) {
    if (p.name === null) continue;
    const invalidFile = outcome.load.invalid.some((i) => i.name === p.name);
    out.set(p.name, { reason: invalidFile ? 'SpecInvalid' : 'InputsUnusable', message: p.message });
  }
  for (const o of outcome.plan.operations) {
    if (o.type !== 'conflict' || !o.server) continue;
    out.set(o.server, { reason: o.resourceId.startsWith('gateway-entry:') ? 'EntryConflict' : 'NameConflict', message: o.cause });
  }
  for (const f of outcome.result?.failed ?? []) {
    if (f.op.server && f.code === 'ImageUnavailable') out.set(f.op.server, { reason: 'ImagePullFailed', message: f.error });
    if (f.op.server && f.code === 'BuildFailed') out.set(f.op.server, { reason: 'BuildFailed', message: f.error });
  }
  return out;
}
