import pRetry from 'p-retry';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { ConfigStore, ContainerRuntime, GatewayApi, GatewayHandover, GatewayReadiness } from '../ports/index.js';
import type { NewApiServer } from '../litellm/api.js';
import { ReconcilerError, ErrorCode, errorMessage } from '../errors/index.js';
import { NEXT_SUFFIX, isReportOnly, type ContainerSpec, type Operation, type Plan } from '../model/types.js';
import { step } from '../failpoint/index.js';

/** Attempts for a transient Docker failure, with p-retry's exponential backoff. */
export const OP_RETRIES = 2;
/**
 * How long a (re)started gateway may take to answer /health/readiness. LiteLLM 1.77.3 took 50-60 s
 * to start on a loaded 2-core machine here, so 60 s made a healthy restart a failure.
 */
export const GATEWAY_READY_TIMEOUT_MS = 120_000;
/** How long the old gateway colour may finish its calls after the switch (ADR 0025); then it is removed anyway. */
export const GATEWAY_DRAIN_TIMEOUT_MS = 30_000;

export interface ExecuteDeps {
  runtime: ContainerRuntime;
  config: ConfigStore;
  gateway: GatewayReadiness | null;
  /** LiteLLM's management API (API mode). */
  api?: GatewayApi | null;
  /** The blue/green handover through the front (gateway.handover: blue-green; ADR 0025). */
  handover?: GatewayHandover | null;
  log: Logger;
  /** Each line of a build's output (ADR 0023), for the status document. */
  onBuild?: BuildListener;
}

/** Build progress as the status shows it: started, each output line, done or failed. */
export interface BuildListener {
  started(server: string, tag: string, source: string): void;
  line(server: string, line: string): void;
  finished(server: string, error: string | null): void;
}

export interface ExecuteResult {
  done: Operation[];
  failed: { op: Operation; error: string; code: string }[];
}

/**
 * Carry out a plan. Decides nothing: every operation was chosen by the planner. One failed
 * operation does not stop the independent ones; failures are returned (and logged once here),
 * never swallowed.
 */
export async function execute(plan: Plan, deps: ExecuteDeps, opts: ExecuteOptions = {}): Promise<ExecuteResult> {
  const result: ExecuteResult = { done: [], failed: [] };
  const lanes = laneOf(plan);
  const runLane = async (ops: Operation[]): Promise<void> => {
    let halted: Operation | null = null;
    for (const op of ops) {
      // A failed handover step stops the handover's later steps (the old colour keeps serving); other work goes on.
      if (halted && (op.halt === true || op.type === 'retire-gateway')) {
        const msg = `${op.type} ${op.resourceId} not tried: ${halted.type} ${halted.resourceId} failed`;
        deps.log.warn({ resourceId: op.resourceId, op: op.type }, msg);
        continue;
      }
      const ok = await runOne(op, deps, opts, result);
      if (!ok && op.halt === true) halted ??= op;
      // The rest of a server's lane needs the image it was building: it waits for the next try.
      if (!ok && op.type === 'build-image') return;
    }
  };
  await runLane(lanes.first);
  // Each server is its own lane, so one slow pull or failing server never holds up the others,
  // and registration (config + gateway) runs beside them.
  const limit = pLimit(SERVER_CONCURRENCY);
  await Promise.all([...[...lanes.servers.values()].map((ops) => limit(() => runLane(ops))), runLane(lanes.stack)]);
  await runLane(lanes.last);
  return result;
}

export interface ExecuteOptions {
  readyTimeoutMs?: number;
  drainTimeoutMs?: number;
}

/** Servers reconciled at the same time. */
export const SERVER_CONCURRENCY = 4;

/**
 * Split a plan into lanes, keeping the planner's order inside each:
 * first (networks, the tool policy file, leftovers, edge and its attachments) -> per-server lanes beside the stack lane (config, gateway)
 * -> last (removals, so a server is deregistered before its container goes, and its network after it).
 */
export function laneOf(plan: Plan): { first: Operation[]; servers: Map<string, Operation[]>; stack: Operation[]; last: Operation[] } {
  const first: Operation[] = [];
  const servers = new Map<string, Operation[]>();
  const stack: Operation[] = [];
  const last: Operation[] = [];
  for (const op of plan.operations) {
    if (isReportOnly(op)) continue;
    const leftover = op.type === 'remove-container' && op.resourceId.endsWith(NEXT_SUFFIX);
    const edgeOp = 'role' in op && (op.role === 'edge' || op.role === 'edge-docker') && op.type !== 'remove-container';
    const early = op.type === 'create-network' || op.type === 'write-tool-policy' || (op.type === 'create-volume' && !op.server);
    if (early || leftover || edgeOp) first.push(op);
    else if (op.type === 'remove-container' || op.type === 'remove-network' || op.type === 'remove-image') last.push(op);
    else if (isStackOp(op)) stack.push(op);
    else {
      const key = op.server ?? op.resourceId;
      servers.set(key, [...(servers.get(key) ?? []), op]);
    }
  }
  return { first, servers, stack, last };
}

/** Registration and the gateway (config, guard, API rows, the gateway's containers and handover): one lane. */
function isStackOp(op: Operation): boolean {
  const types: readonly string[] = [
    'write-gateway-config', 'write-gateway-guard', 'api-create', 'api-delete', 'restart-gateway',
    'await-gateway', 'switch-gateway', 'retire-gateway',
  ];
  return types.includes(op.type) || ('role' in op && (op.role === 'gateway' || op.role === 'front'));
}

/**
 * Whether the executor waits for the gateway's readiness after this operation: a (re)started single
 * gateway, or the front (whose readiness is the active colour's). A colour is awaited by its own
 * `await-gateway` step instead (ADR 0025).
 */
function waitsForGateway(op: Operation): boolean {
  if (!('role' in op) || op.colour !== undefined) return false;
  if (op.role === 'front') return op.type === 'create-container' || op.type === 'recreate-container' || op.type === 'start-container';
  return op.role === 'gateway' && op.type !== 'remove-container' && op.type !== 'retire-gateway';
}

async function runOne(op: Operation, deps: ExecuteDeps, opts: ExecuteOptions, result: ExecuteResult): Promise<boolean> {
  const log = deps.log.child({ resourceId: op.resourceId, op: op.type, ...(op.server ? { server: op.server } : {}) });
  const gatewayReady = waitsForGateway(op) && deps.gateway
    ? (): Promise<void> => deps.gateway!.waitReady(opts.readyTimeoutMs ?? GATEWAY_READY_TIMEOUT_MS)
    : null;
  try {
    // A recreate is never retried within a pass: each try may stop the working container once,
    // so further tries wait for the reconciler's backoff (ADR 0005).
    await pRetry(() => run(op, deps, opts), {
      // Builds are slow and the handover's waits are bounded already: a retry would only wait again.
      retries: ['recreate-container', 'build-image', 'await-gateway', 'retire-gateway'].includes(op.type) ? 0 : OP_RETRIES,
      minTimeout: 200,
      maxTimeout: 2_000,
      shouldRetry: ({ error }) => error instanceof ReconcilerError && error.retryable && error.code !== ErrorCode.ImageUnavailable,
    });
    // Waiting is not retried: a gateway that starts but never gets ready is a failure to report.
    // It is waited for after the swap: its port is fixed, so the old one serves nothing meanwhile,
    // and rolling back a slow but healthy start would only restart it again.
    if (gatewayReady) await gatewayReady();
    result.done.push(op);
    log.info({ cause: op.cause }, `${op.type} ${op.resourceId}`);
    return true;
  } catch (err) {
    const code = err instanceof ReconcilerError ? err.code : ErrorCode.DockerOperationFailed;
    result.failed.push({ op, error: errorMessage(err), code });
    log.error({ code, err: errorMessage(err) }, `${op.type} ${op.resourceId} failed`);
    return false;
  }
}

/** A build, reported to the listener from start to end (never retried within a pass: builds are slow). */
async function build(op: Extract<Operation, { type: 'build-image' }>, deps: ExecuteDeps): Promise<void> {
  const server = op.server ?? op.container;
  deps.onBuild?.started(server, op.build.tag, op.build.source);
  try {
    await deps.runtime.buildImage(op.build, (line) => deps.onBuild?.line(server, line));
    deps.onBuild?.finished(server, null);
  } catch (err) {
    deps.onBuild?.finished(server, errorMessage(err));
    throw err;
  }
}

function handoverOf(deps: ExecuteDeps): GatewayHandover {
  if (!deps.handover) throw new ReconcilerError(ErrorCode.GatewayUnavailable, 'no front configured for the blue/green handover');
  return deps.handover;
}

async function run(op: Operation, deps: ExecuteDeps, opts: ExecuteOptions = {}): Promise<void> {
  const rt = deps.runtime;
  switch (op.type) {
    case 'create-network':
      return rt.createNetwork(op.network, op.labels, { internal: op.internal === true });
    case 'connect-network':
      return rt.connectNetwork(op.network, op.container, op.aliases);
    case 'disconnect-network':
      return rt.disconnectNetwork(op.network, op.container);
    case 'remove-network':
      return rt.removeNetwork(op.network);
    case 'create-volume':
      return rt.createVolume(op.volume, op.labels);
    case 'build-image':
      return build(op, deps);
    case 'remove-image':
      return rt.removeImage(op.imageId);
    case 'create-container': {
      if (op.colour) return step('create-standby', () => createAndStart(op.spec, rt));
      return createAndStart(op.spec, rt);
    }
    case 'await-gateway': {
      const h = handoverOf(deps);
      const r = await step('await-gateway', () => h.waitReady(op.colour, op.expect, opts.readyTimeoutMs ?? GATEWAY_READY_TIMEOUT_MS));
      if (r.missing.length > 0) {
        const msg = `gateway ${op.colour} lists no tools of ${r.missing.join(', ')} yet (nor does the active one); switching`;
        deps.log.warn({ resourceId: op.resourceId, missing: r.missing }, msg);
      }
      const { readyAfterMs, listedAfterMs, listings } = r;
      const took = `gateway ${op.colour} ready after ${readyAfterMs} ms, tools listed after ${listedAfterMs} ms (listings: ${listings})`;
      deps.log.info({ resourceId: op.resourceId, readyAfterMs, listedAfterMs, listings }, took);
      return;
    }
    case 'switch-gateway':
      // The front runs as another user and re-reads the file on its next request: no restart (ADR 0025).
      return step('switch-gateway', () => deps.config.writeShared(op.path, op.text));
    case 'retire-gateway': {
      const to = op.drainTo;
      if (to !== null && op.colour) {
        const h = handoverOf(deps);
        const from = op.colour;
        const r = await step('drain-gateway', () => h.drain(from, to, opts.drainTimeoutMs ?? GATEWAY_DRAIN_TIMEOUT_MS));
        if (r.inflight > 0) {
          const msg = `gateway ${from} still answers ${r.inflight} call(s) after the drain bound; removed anyway`;
          deps.log.warn({ resourceId: op.resourceId, inflight: r.inflight }, msg);
        }
      }
      return step('retire-gateway', () => rt.remove(op.containerId));
    }
    case 'recreate-container':
      if (op.role === 'gateway') return step('recreate-gateway', () => swap(op.containerId, op.spec, rt));
      return swap(op.containerId, op.spec, rt);
    case 'start-container':
      return rt.start(op.containerId);
    case 'remove-container':
      return rt.remove(op.containerId);
    case 'write-gateway-guard':
      return step('write-guard', () => deps.config.writeAtomic(op.path, op.text));
    case 'write-gateway-config':
      return step('write-config', () => deps.config.writeAtomic(op.path, op.text));
    case 'write-tool-policy':
      // The edge runs as another user: the file holds no secret and is readable by it (ADR 0021).
      return deps.config.writeShared(op.path, op.text);
    case 'restart-gateway':
      await deps.runtime.stop(op.containerId);
      return deps.runtime.start(op.containerId);
    case 'api-create': {
      const api = deps.api;
      if (!api) throw new ReconcilerError(ErrorCode.GatewayUnavailable, 'no management API configured');
      return step('api-create', () => api.create(op.body as unknown as NewApiServer));
    }
    case 'api-delete': {
      const api = deps.api;
      if (!api) throw new ReconcilerError(ErrorCode.GatewayUnavailable, 'no management API configured');
      return step('api-delete', () => api.delete(op.serverId));
    }
    default:
      return;
  }
}

/** Create and start a container; one that does not start is removed again. */
async function createAndStart(spec: ContainerSpec, rt: ContainerRuntime): Promise<void> {
  await rt.ensureImage(spec.image);
  const id = await rt.create(spec);
  try {
    await rt.start(id);
  } catch (err) {
    await rt.remove(id).catch(() => undefined);
    throw err;
  }
}

/** How long a replacement must stay running before the old container is retired. */
export const RECREATE_SETTLE_MS = 1_500;

/**
 * Whether a replacement can run beside the old container (ADR 0005): nothing it writes is shared
 * (no named volume, no read-write bind mount) and its published port is picked free by Docker.
 * The network alias is shared on purpose: while both run, Docker's DNS answers with both.
 */
export function canRunBeside(spec: ContainerSpec): boolean {
  if (spec.volumes.length > 0) return false;
  if (spec.binds.some((b) => !/:ro$/.test(b))) return false;
  return !spec.publish || spec.publish.hostPort === null;
}

/**
 * Replace a container so that the working one keeps serving (ADR 0005). The image is checked
 * first, then a `<name>.next` is created and
 *   beside:     started and seen to stay up while the old one still serves; then the
 *               old one is stopped and removed and the new one renamed. A failure removes only the
 *               new one: the old one was never stopped.
 *   stop-start: (shared data or a fixed host port) the old one is stopped, the new one started
 *               and seen to stay up; a failure starts the old one again first (instant rollback),
 *               then removes the new one. The old one is stopped once per try.
 * A crash anywhere leaves at most one extra owned `<name>.next`, which the next pass removes.
 */
export async function swap(oldId: string, spec: ContainerSpec, rt: ContainerRuntime): Promise<void> {
  await rt.ensureImage(spec.image);
  const nextId = await step('create-next', () => rt.create(spec, `${spec.name}${NEXT_SUFFIX}`));
  const startNew = async (): Promise<void> => {
    await step('start-new', () => rt.start(nextId));
    await step('settle', () => rt.waitRunning(nextId, RECREATE_SETTLE_MS));
  };
  if (canRunBeside(spec)) {
    try {
      await startNew();
    } catch (err) {
      await rt.remove(nextId).catch(() => undefined);
      throw err;
    }
    await step('stop-old', () => rt.stop(oldId));
  } else {
    await step('stop-old', () => rt.stop(oldId));
    try {
      await startNew();
    } catch (err) {
      await rt.start(oldId).catch(() => undefined);
      await rt.remove(nextId).catch(() => undefined);
      throw err;
    }
  }
  await step('remove-old', () => rt.remove(oldId));
  await step('rename', () => rt.rename(nextId, spec.name));
}
