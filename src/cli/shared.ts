import { resolve } from 'node:path';
import { loadSettings, type Settings } from '../config/settings.js';
import { DockerRuntime } from '../docker/runtime.js';
import { LiteLLMGateway } from '../litellm/gateway-client.js';
import { LiteLLMApi } from '../litellm/api.js';
import { FrontHandover } from '../front/client.js';
import { FileConfigStore } from '../litellm/file-store.js';
import { createLogger, type Logger } from '../log/logger.js';
import { Reconciler, masterKeyFrom, type ReconcilerDeps } from '../reconcile/controller.js';
import { acquireLock, lockPath, LockHeldError, type InstanceLock } from '../lock/instance-lock.js';

/** The options every command takes (defined once on the program). */
export interface GlobalOptions {
  config?: string | undefined;
  desired?: string | undefined;
}

export function settingsFrom(values: GlobalOptions): Settings {
  const s = loadSettings({ file: values.config });
  if (values.desired) s.desiredDir = resolve(values.desired);
  return s;
}

/** `logger`: a level for a logger of its own, or the daemon's logger (its journal destination, ADR 0016). */
export function buildReconciler(
  settings: Settings,
  logger?: string | Logger,
): { reconciler: Reconciler; gateway: LiteLLMGateway; runtime: DockerRuntime; deps: ReconcilerDeps } {
  const log = typeof logger === 'object' ? logger : createLogger(logger ? { level: logger } : {});
  const runtime = new DockerRuntime(undefined, log.child({ component: 'docker' }), { pull: settings.images.pull });
  const gateway = new LiteLLMGateway(settings.gateway.url, () => masterKeyFrom(settings));
  const api = new LiteLLMApi(settings.gateway.url, () => masterKeyFrom(settings));
  // Blue/green (ADR 0025): the gateway's address is the front's; the handover goes through it.
  const blueGreen = settings.gateway.managed && settings.gateway.handover === 'blue-green';
  const handover = blueGreen ? new FrontHandover(settings.gateway.url, () => masterKeyFrom(settings)) : null;
  const deps: ReconcilerDeps = { runtime, config: new FileConfigStore(), gateway, api, handover, log };
  return { reconciler: new Reconciler(settings, deps), gateway, runtime, deps };
}

/** The instance lock (ADR 0006), or the error naming who holds it. */
export function takeLock(settings: Settings, command: string): InstanceLock | LockHeldError {
  const endpoint = command === 'run' && settings.statusPort > 0 ? { address: settings.statusAddress, port: settings.statusPort } : null;
  return takeLockAt(lockPath(settings.secretsDir, settings.instance), command, endpoint);
}

export function takeLockAt(
  file: string,
  command: string,
  endpoint: { address: string; port: number } | null = null,
): InstanceLock | LockHeldError {
  try {
    return acquireLock(file, { command, endpoint });
  } catch (err) {
    if (err instanceof LockHeldError) return err;
    throw err;
  }
}
