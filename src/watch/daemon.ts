import chokidar from 'chokidar';
import type { Logger } from 'pino';
import type { Settings } from '../config/settings.js';
import type { Reconciler } from '../reconcile/controller.js';
import { writeOps } from '../reconcile/types.js';
import { errorMessage } from '../errors/index.js';
import type { RuntimeEvent } from '../ports/index.js';

/** Source of Docker event hints (the dockerode adapter implements it). */
export interface EventSource {
  watchEvents(
    onEvent: (e: RuntimeEvent) => void,
    signal: AbortSignal,
    onReconnect?: (attempt: number, err: string) => void,
  ): Promise<void>;
}

/** Quiet time after the last file event before a reconcile (editors write in bursts). */
export const DEBOUNCE_MS = 300;

/**
 * The daemon loop. Events only request a pass; every pass recomputes from the files and a fresh
 * snapshot (level-triggered), the periodic resync catches missed events and outside drift, and
 * at most one pass runs at a time (requests during a pass merge into one follow-up pass).
 */
export async function runDaemon(
  settings: Settings,
  reconciler: Reconciler,
  log: Logger,
  events?: EventSource,
): Promise<number> {
  let running: Promise<void> | null = null;
  let again = false;
  let stopping = false;
  let timer: NodeJS.Timeout | null = null;

  const pass = async (why: string): Promise<void> => {
    const started = performance.now();
    try {
      const out = await reconciler.reconcile();
      const changed = writeOps(out.plan).length;
      const ms = Math.round(performance.now() - started);
      if (changed > 0 || out.result.failed.length > 0) {
        log.info({ why, operations: changed, failed: out.result.failed.length, ms }, 'reconciled');
      } else log.debug({ why, ms }, 'in sync');
    } catch (err) {
      log.error({ why, err: errorMessage(err) }, 'reconcile pass failed; will retry at the next event or resync');
    }
  };

  const request = (why: string): void => {
    if (stopping) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await pass(why);
      } while (again && !stopping);
    })().finally(() => {
      running = null;
    });
  };

  const debounced = (why: string): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => request(why), DEBOUNCE_MS);
  };

  log.info({ desiredDir: settings.desiredDir, gatewayConfig: settings.gateway.configPath, network: settings.network }, 'mcp-reconciler starting');
  const watcher = chokidar.watch(settings.desiredDir, {
    ignoreInitial: true,
    depth: 0,
    awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 50 },
  });
  watcher.on('all', (event, path) => debounced(`${event} ${path}`));
  watcher.on('error', (err) => log.warn({ err: errorMessage(err) }, 'watcher error'));
  const resync = setInterval(() => request('resync'), settings.resyncIntervalMs);
  const stopEvents = new AbortController();
  // Docker events are hints: a container of ours died or vanished -> reconcile soon.
  const eventsDone = events
    ? events.watchEvents(
        (e) => {
          if (['die', 'destroy', 'stop', 'oom', 'kill'].includes(e.action)) debounced(`docker ${e.action} ${e.container}`);
        },
        stopEvents.signal,
        (attempt, err) => {
          log.warn({ attempt, err }, 'docker event stream lost; reconnecting');
          if (attempt === 1) debounced('docker reconnect');
        },
      )
    : Promise.resolve();
  request('start');

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping: finishing the pass in flight; MCP containers keep running');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  clearInterval(resync);
  if (timer) clearTimeout(timer);
  stopEvents.abort();
  await watcher.close();
  await eventsDone;
  if (running) await running;
  log.info('stopped');
  return 0;
}
