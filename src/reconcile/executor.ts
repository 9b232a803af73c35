import pRetry from 'p-retry';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { ConfigStore, ContainerRuntime, GatewayApi, GatewayReadiness } from '../ports/index.js';
import type { NewApiServer } from '../litellm/api.js';
import { ReconcilerError, ErrorCode, errorMessage } from '../errors/index.js';
import { NEXT_SUFFIX, type ContainerSpec, type Operation, type Plan } from '../model/types.js';

/** Attempts for a transient Docker failure, with p-retry's exponential backoff. */
export const OP_RETRIES = 2;
/** How long a (re)started gateway may take to answer /health/readiness. */
export const GATEWAY_READY_TIMEOUT_MS = 60_000;

export interface ExecuteDeps {
  runtime: ContainerRuntime;
  config: ConfigStore;
  gateway: GatewayReadiness | null;
  /** LiteLLM's management API (API mode). */
  api?: GatewayApi | null;
  log: Logger;
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
export async function execute(plan: Plan, deps: ExecuteDeps, opts: { readyTimeoutMs?: number } = {}): Promise<ExecuteResult> {
  const result: ExecuteResult = { done: [], failed: [] };
  const lanes = laneOf(plan);
  const runLane = async (ops: Operation[]): Promise<void> => {
    for (const op of ops) await runOne(op, deps, opts, result);
  };
  await runLane(lanes.first);
  // Each server is its own lane, so one slow pull or failing server never holds up the others,
  // and registration (config + gateway) runs beside them.
  const limit = pLimit(SERVER_CONCURRENCY);
  await Promise.all([...[...lanes.servers.values()].map((ops) => limit(() => runLane(ops))), runLane(lanes.stack)]);
  await runLane(lanes.last);
  return result;
}

/** Servers reconciled at the same time. */
export const SERVER_CONCURRENCY = 4;

/**
 * Split a plan into lanes, keeping the planner's order inside each:
 * first (network, leftovers, edge) -> per-server lanes beside the stack lane (config, gateway)
 * -> last (removals, so a server is deregistered before its container goes).
 */
export function laneOf(plan: Plan): { first: Operation[]; servers: Map<string, Operation[]>; stack: Operation[]; last: Operation[] } {
  const first: Operation[] = [];
  const servers = new Map<string, Operation[]>();
  const stack: Operation[] = [];
  const last: Operation[] = [];
  for (const op of plan.operations) {
    if (op.type === 'conflict' || op.type === 'blocked' || op.type === 'prune-held') continue;
    const leftover = op.type === 'remove-container' && op.resourceId.endsWith(NEXT_SUFFIX);
    if (op.type === 'create-network' || leftover || ('role' in op && op.role === 'edge' && op.type !== 'remove-container')) first.push(op);
    else if (op.type === 'remove-container') last.push(op);
    else if (op.type === 'write-gateway-config' || op.type === 'api-create' || op.type === 'api-delete' || op.type === 'restart-gateway' || ('role' in op && op.role === 'gateway')) stack.push(op);
    else {
      const key = op.server ?? op.resourceId;
      servers.set(key, [...(servers.get(key) ?? []), op]);
    }
  }
  return { first, servers, stack, last };
}

async function runOne(op: Operation, deps: ExecuteDeps, opts: { readyTimeoutMs?: number }, result: ExecuteResult): Promise<void> {
  const log = deps.log.child({ resourceId: op.resourceId, op: op.type, ...(op.server ? { server: op.server } : {}) });
  try {
    await pRetry(() => run(op, deps), {
      retries: OP_RETRIES,
      minTimeout: 200,
      maxTimeout: 2_000,
      shouldRetry: ({ error }) => error instanceof ReconcilerError && error.retryable && error.code !== ErrorCode.ImageUnavailable,
    });
    // Waiting is not retried: a gateway that starts but never gets ready is a failure to report.
    if ('role' in op && op.role === 'gateway' && op.type !== 'remove-container' && deps.gateway) {
      await deps.gateway.waitReady(opts.readyTimeoutMs ?? GATEWAY_READY_TIMEOUT_MS);
    }
    result.done.push(op);
    log.info({ cause: op.cause }, `${op.type} ${op.resourceId}`);
  } catch (err) {
    const code = err instanceof ReconcilerError ? err.code : ErrorCode.DockerOperationFailed;
    result.failed.push({ op, error: errorMessage(err), code });
    log.error({ code, err: errorMessage(err) }, `${op.type} ${op.resourceId} failed`);
  }
}

async function run(op: Operation, deps: ExecuteDeps): Promise<void> {
  const rt = deps.runtime;
  switch (op.type) {
    case 'create-network':
      return rt.createNetwork(op.network, op.labels);
    case 'create-volume':
      return rt.createVolume(op.volume, op.labels);
    case 'create-container': {
      await rt.ensureImage(op.spec.image);
      const id = await rt.create(op.spec);
      try {
        await rt.start(id);
      } catch (err) {
        await rt.remove(id).catch(() => undefined);
        throw err;
      }
      return;
    }
    case 'recreate-container':
      return swap(op.containerId, op.spec, rt);
    case 'start-container':
      return rt.start(op.containerId);
    case 'remove-container':
      return rt.remove(op.containerId);
    case 'write-gateway-config':
      return deps.config.writeAtomic(op.path, op.text);
    case 'restart-gateway':
      await deps.runtime.stop(op.containerId);
      return deps.runtime.start(op.containerId);
    case 'api-create':
      if (!deps.api) throw new ReconcilerError(ErrorCode.GatewayUnavailable, 'no management API configured');
      return deps.api.create(op.body as unknown as NewApiServer);
    case 'api-delete':
      if (!deps.api) throw new ReconcilerError(ErrorCode.GatewayUnavailable, 'no management API configured');
      return deps.api.delete(op.serverId);
    default:
      return;
  }
}

/** How long a replacement must stay running before the old container is retired. */
export const RECREATE_SETTLE_MS = 1_500;

/**
 * Replace a container so that a failed recreate leaves the old definition running:
 *   image present -> create `<name>.next` (not started) -> stop old -> start new and see it
 *   stay up (failure: remove new, start old again) -> remove old -> rename new to `<name>`.
 * A crash anywhere leaves at most one extra owned container, which the next pass removes
 * (its name is not a wanted name), so the pass after converges to exactly one.
 */
async function swap(oldId: string, spec: ContainerSpec, rt: ContainerRuntime): Promise<void> {
  await rt.ensureImage(spec.image);
  const nextId = await rt.create(spec, `${spec.name}${NEXT_SUFFIX}`);
  await rt.stop(oldId);
  try {
    await rt.start(nextId);
    await rt.waitRunning(nextId, RECREATE_SETTLE_MS);
  } catch (err) {
    await rt.remove(nextId).catch(() => undefined);
    await rt.start(oldId).catch(() => undefined);
    throw err;
  }
  await rt.remove(oldId);
  await rt.rename(nextId, spec.name);
}
