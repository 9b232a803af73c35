import { dirname, resolve } from 'node:path';
import chokidar, { type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import type { Server } from 'node:http';
import { loadSettings, type Settings } from '../config/settings.js';
import { problemsOf, type Reconciler, type ReconcilerDeps } from '../reconcile/controller.js';
import type { HealthMonitor } from '../health/monitor.js';
import type { Metrics } from '../server/metrics.js';
import { isReportOnly, writeOps } from '../model/types.js';
import { ErrorCode, ReconcilerError, errorMessage } from '../errors/index.js';
import type { RuntimeEvent } from '../ports/index.js';
import { createStatusServer, type ApplyAnswer, type ApplyHandler } from '../server/http.js';
import { buildStatusDocument, statusSecretFiles, type DaemonState } from '../status/document.js';
import { renderPlan } from '../reconcile/render-plan.js';
import { PassScheduler } from './scheduler.js';
import { sdNotifier } from './sd-notify.js';
import type { InstanceLock } from '../lock/instance-lock.js';
import type { ServerModel } from '../model/types.js';
import { SecretMask } from '../status/redact.js';
import { notesPath, renderDeploymentNotes, writeDeploymentNotes } from '../notes/deployment-notes.js';

/** Source of Docker event hints (the dockerode adapter implements it). */
export interface EventSource {
  watchEvents(
    onEvent: (e: RuntimeEvent) => void,
    signal: AbortSignal,
    hooks?: {
      lost?: (info: { attempt: number; err: string; nextInMs: number }) => void;
      connected?: (info: { afterAttempts: number }) => void;
    },
  ): Promise<void>;
}

/** Reconnect attempts logged one by one; after that one summary line this often while Docker stays away. */
export const RECONNECT_LOG_EACH = 5;
export const RECONNECT_SUMMARY_EVERY_MS = 30_000;

export { DEBOUNCE_MS } from './scheduler.js';

/** The daemon's own transitions kept for the status page (summary, gateway mode, failed passes, reloads). */
export const DAEMON_EVENTS_KEPT = 50;

/** Docker event actions of our containers that request a pass. */
export const WAKE_ON = ['die', 'destroy', 'stop', 'oom', 'kill', 'pause'];

export interface DaemonOptions {
  /** Docker event hints (optional; the periodic resync covers their absence). */
  events?: EventSource;
  /** `$NOTIFY_SOCKET` when run by systemd with Type=notify. */
  notifySocket?: string | undefined;
  /** Settings file to re-read on SIGHUP. */
  settingsFile?: string | undefined;
  /** --desired given on the command line (kept across SIGHUP). */
  desiredOverride?: string | undefined;
  /** MCP health of every server; fed after each pass. */
  monitor?: HealthMonitor;
  metrics?: Metrics;
  gateway?: { url: string; mcpUrl: string } | null;
  /** The instance lock this daemon holds: `POST /apply` checks its token; SIGHUP updates its endpoint. */
  lock?: InstanceLock;
  /**
   * What masks secrets in the status document (and in log lines when the caller gives the logger the
   * same mask, as `run` does); the daemon tells it the env files after each pass.
   */
  mask?: SecretMask;
  /**
   * Build everything that depends on settings (reconciler with its gateway and API clients, health
   * monitor, gateway endpoints) for new settings; SIGHUP swaps them in between two passes.
   */
  rebuild?: (settings: Settings) => DaemonParts;
}

/** The settings-dependent parts of the daemon, swapped whole on SIGHUP. */
export interface DaemonParts {
  /** The reconciler's clients built from the settings (it keeps its memory: last good models, failures). */
  deps?: ReconcilerDeps;
  monitor?: HealthMonitor | undefined;
  gateway?: { url: string; mcpUrl: string } | null;
}

/**
 * The daemon loop. Events only request a pass; every pass recomputes from the files and a fresh
 * snapshot (level-triggered), the periodic resync catches missed events and outside drift, and
 * at most one pass runs at a time (requests during a pass merge into one follow-up pass).
 */
export async function runDaemon(reconciler: Reconciler, log: Logger, opts: DaemonOptions = {}): Promise<number> {
  let parts: DaemonParts = { monitor: opts.monitor, gateway: opts.gateway ?? null };
  /** Settings read by SIGHUP, swapped in before the next pass (never during one). */
  let pendingSettings: Settings | null = null;
  let stopping = false;
  const applyWaiters: { allowEmpty: boolean; resolve: (a: ApplyAnswer) => void }[] = [];
  /** Docker answered again: the monitor probes at once after the next pass (its backoff grew meanwhile). */
  let reprobe = false;
  const paths = (st: Settings): Record<string, string> => ({
    settingsFile: st.settingsFile ?? '(none; defaults and environment)',
    desiredDir: st.desiredDir,
    projectsRoot: st.projectsRoot,
    secretsDir: st.secretsDir,
    gatewayConfig: st.gateway.configPath,
    gatewayEnvFile: st.gateway.envFile,
  });
  const state: DaemonState = {
    startedAt: new Date().toISOString(),
    firstPassAt: null,
    lastPass: null,
    passes: 0,
    summary: 'starting',
    gatewayMode: null,
    paths: paths(reconciler.settings),
    gateway: parts.gateway ?? null,
    failures: [],
    events: [],
    clientPort: reconciler.settings.gateway.hostPort,
  };
  // Live: /status shows a build's progress while the pass that runs it is still going.
  Object.defineProperty(state, 'builds', { get: () => reconciler.builds(), enumerable: true });
  const metrics = opts.metrics;
  /** The servers of the last pass: whose env files' values the status server masks, what the notes list. */
  let models: readonly ServerModel[] = [];
  const event = (message: string): void => {
    const events = (state.events ??= []);
    events.push({ time: new Date().toISOString(), message });
    if (events.length > DAEMON_EVENTS_KEPT) events.splice(0, events.length - DAEMON_EVENTS_KEPT);
  };
  const mask = opts.mask ?? new SecretMask();
  const trackSecrets = (): void => mask.setFiles(statusSecretFiles(reconciler.settings.gateway.envFile, models));
  trackSecrets();
  // <projectsRoot>/litellm/CLAUDE.md: rewritten (atomically) only when its text changes; a problem is said once.
  let notesSaid = '';
  const keepNotes = (): void => {
    const st = reconciler.settings;
    const path = notesPath(st.projectsRoot);
    let said = '';
    try {
      const tools = new Map((parts.monitor?.snapshot() ?? []).map((h) => [h.name, h.tools] as const));
      const text = renderDeploymentNotes({ settings: st, servers: models, tools, mode: state.gatewayMode?.mode ?? null });
      const outcome = writeDeploymentNotes(path, text);
      if (outcome === 'written') log.info({ path }, 'deployment notes written');
      if (outcome === 'not-ours') said = `${path} was not written by mcp-reconciler; left alone`;
    } catch (err) {
      said = `deployment notes not written: ${errorMessage(err)}`;
    }
    if (said && said !== notesSaid) log.warn({ path }, said);
    notesSaid = said;
  };

  // sd_notify from this process (src/watch/sd-notify.ts); systemd-notify only as the fallback.
  const sdNotify = opts.notifySocket ? sdNotifier(opts.notifySocket, (m) => log.debug(m)) : null;
  const notify = (vars: string[]): void => sdNotify?.(vars);

  const pass = async (why: string, allowEmpty: boolean, retryNow = false): Promise<ApplyAnswer> => {
    const started = performance.now();
    let answer: ApplyAnswer;
    let summary: string;
    try {
      const out = await reconciler.reconcile({ allowEmpty, retryNow });
      summary = out.summary;
      const changed = writeOps(out.plan).length;
      const ms = Math.round(performance.now() - started);
      metrics?.reconcileDuration.observe(ms / 1000);
      metrics?.dockerApiCalls.observe(out.dockerApiCalls);
      for (const op of out.result.done) metrics?.operations.inc({ type: op.type, result: 'ok' });
      for (const f of out.result.failed) {
        metrics?.operations.inc({ type: f.op.type, result: 'failed' });
        metrics?.errors.inc({ code: f.code });
      }
      parts.monitor?.update(out.input.servers, problemsOf(out), reconciler.failures(), out.gatewayMode.mode);
      if (reprobe) {
        reprobe = false;
        parts.monitor?.probeSoon();
      }
      const gm = out.gatewayMode;
      if (state.gatewayMode?.mode !== gm.mode) event(`gateway registration: ${gm.mode} mode (${gm.why})`);
      state.gatewayMode = out.gatewayMode;
      models = out.input.servers;
      trackSecrets();
      state.failures = reconciler.failures().map((f) => ({ ...f, nextTryAt: new Date(f.nextTryAt).toISOString() }));
      state.lastPass = {
        at: new Date().toISOString(), ms, operations: changed, failed: out.result.failed.length, error: null,
        dockerApiCalls: out.dockerApiCalls,
      };
      answer = {
        plan: renderPlan(out.plan),
        failed: out.result.failed.map((f) => ({ resourceId: f.op.resourceId, error: f.error })),
        problems: out.problems.map((p) => ({ file: p.file, message: p.message })),
        unconverged: out.plan.operations.filter((o) => isReportOnly(o)).length,
        error: null,
      };
      if (changed > 0 || out.result.failed.length > 0) {
        log.info({ why, operations: changed, failed: out.result.failed.length, ms }, 'reconciled');
      } else log.debug({ why, ms }, 'in sync');
    } catch (err) {
      state.lastPass = {
        at: new Date().toISOString(), ms: Math.round(performance.now() - started), operations: 0, failed: 0, error: errorMessage(err),
      };
      metrics?.errors.inc({ code: 'PassFailed' });
      log.error({ why, err: errorMessage(err) }, 'reconcile pass failed; will retry at the next event or resync');
      event(`reconcile pass failed: ${errorMessage(err)}`);
      answer = { plan: '', failed: [], problems: [], unconverged: 0, error: errorMessage(err) };
      // No second observation: a pass fails mostly because Docker does not answer; say what failed.
      const docker = err instanceof ReconcilerError &&
        (err.code === ErrorCode.DockerUnavailable || err.code === ErrorCode.DockerOperationFailed);
      summary = `${docker ? 'docker unavailable' : 'reconcile pass failed'}: ${errorMessage(err)}`;
    }
    state.passes++;
    scheduleRetry();
    if (!state.firstPassAt) {
      state.firstPassAt = new Date().toISOString();
      parts.monitor?.start();
      notify(['READY=1', `STATUS=${mask.text(summary)}`]);
    } else if (summary !== state.summary) notify([`STATUS=${mask.text(summary)}`]);
    if (summary !== state.summary) {
      log.info({ summary }, summary);
      event(summary);
    }
    state.summary = summary;
    if (answer.error === null) keepNotes();
    return answer;
  };

  // One pass at a time; requests during a pass merge into one follow-up (src/watch/scheduler.ts).
  // `apply --once` requests waiting for a pass get this one; one of them may confirm pruning.
  const scheduler = new PassScheduler(async (why) => {
    if (pendingSettings) swapSettings(pendingSettings); // SIGHUP: new settings only between two passes
    const waiting = applyWaiters.splice(0);
    // An explicit `apply --once` tries held changes at once (ADR 0005).
    const answer = await pass(waiting.length ? `${why}; apply --once` : why, waiting.some((w) => w.allowEmpty), waiting.length > 0);
    for (const w of waiting) w.resolve(answer);
  });
  const request = (why: string): void => {
    if (!stopping) scheduler.request(why);
  };
  const debounced = (why: string): void => scheduler.debounced(why);

  // A held change is tried again when its wait runs out; events never bypass the wait (ADR 0005).
  let retryTimer: NodeJS.Timeout | null = null;
  const scheduleRetry = (): void => {
    clearTimeout(retryTimer ?? undefined);
    retryTimer = null;
    const at = reconciler.nextRetryAt();
    if (at === null || stopping) return;
    retryTimer = setTimeout(() => request('backoff expired'), Math.max(0, at - Date.now()) + 50);
  };

  // Watch the desired dir, and its parent for the dir itself being replaced (symlink swap,
  // rename, unmount): then the dir watcher is rebuilt on the new target.
  let dirWatcher: FSWatcher | null = null;
  let parentWatcher: FSWatcher | null = null;
  const watchDir = (dir: string): void => {
    void dirWatcher?.close();
    dirWatcher = chokidar.watch(dir, { ignoreInitial: true, depth: 0, awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 50 } });
    dirWatcher.on('all', (event, path) => debounced(`${event} ${path}`));
    dirWatcher.on('error', (err) => log.warn({ err: errorMessage(err) }, 'watcher error'));
  };
  const watch = (dir: string): void => {
    void parentWatcher?.close();
    watchDir(dir);
    const target = resolve(dir);
    parentWatcher = chokidar.watch(dirname(target), {
      ignoreInitial: true,
      depth: 0,
      followSymlinks: false,
      ignored: (p: string) => p !== dirname(target) && resolve(p) !== target,
    });
    parentWatcher.on('all', () => {
      log.info({ desiredDir: dir }, 'desired dir replaced; watching it again');
      watchDir(dir);
      debounced('desired dir replaced');
    });
  };

  const s = reconciler.settings;
  log.info({ desiredDir: s.desiredDir, gatewayConfig: s.gateway.configPath, network: s.network }, 'mcp-reconciler starting');
  watch(s.desiredDir);
  let resync = setInterval(() => request('resync'), s.resyncIntervalMs);

  let http: Server | null = null;
  let httpAt = '';
  const apply: ApplyHandler = {
    token: () => opts.lock?.holder.token ?? null,
    run: ({ allowEmpty }) =>
      new Promise<ApplyAnswer>((resolveApply) => {
        if (stopping) return resolveApply({ plan: '', failed: [], problems: [], unconverged: 0, error: 'the daemon is stopping' });
        applyWaiters.push({ allowEmpty, resolve: resolveApply });
        request('apply --once');
      }),
  };
  /** (Re)start the HTTP face on the settings' address and port; no-op when they did not change. */
  const serveStatus = async (st: Settings): Promise<void> => {
    const at = st.statusPort > 0 ? `${st.statusAddress}:${st.statusPort}` : '';
    if (at === httpAt) return;
    if (http) {
      const old = http;
      http = null;
      old.closeAllConnections();
      await new Promise((r) => old.close(r));
      log.info({ was: httpAt }, 'status server closed');
    }
    httpAt = at;
    opts.lock?.setEndpoint(st.statusPort > 0 ? { address: st.statusAddress, port: st.statusPort } : null);
    if (!at) return;
    const server = createStatusServer(() => buildStatusDocument(state, parts.monitor?.snapshot() ?? [], mask), metrics, apply, {
      address: st.statusAddress,
    });
    server.on('error', (err) => log.error({ err: errorMessage(err) }, 'status server failed'));
    server.listen(st.statusPort, st.statusAddress, () =>
      log.info({ address: st.statusAddress, port: st.statusPort }, 'status server listening'));
    http = server;
  };
  await serveStatus(s);

  const stopEvents = new AbortController();
  let lostAt = 0;
  let lastLostLog = 0;
  // Docker events are hints: a container of ours died, vanished or was paused -> reconcile soon
  // (the pass unpauses a paused container). Only a request: a held change stays held.
  const eventsDone = opts.events
    ? opts.events.watchEvents(
        (e) => {
          if (WAKE_ON.includes(e.action)) debounced(`docker ${e.action} ${e.container}`);
        },
        stopEvents.signal,
        {
          lost: ({ attempt, err, nextInMs }) => {
            if (attempt === 1) {
              lostAt = Date.now();
              event(`docker event stream lost: ${err}`);
              debounced('docker event stream lost');
            }
            const now = Date.now();
            if (attempt <= RECONNECT_LOG_EACH || now - lastLostLog >= RECONNECT_SUMMARY_EVERY_MS) {
              lastLostLog = now;
              const quiet = attempt === RECONNECT_LOG_EACH
                ? `; further attempts summarized every ${RECONNECT_SUMMARY_EVERY_MS / 1000} s`
                : '';
              log.warn({ attempt, err, nextInMs, downForMs: now - lostAt }, `docker event stream lost; reconnecting${quiet}`);
            }
          },
          connected: ({ afterAttempts }) => {
            log.info({ afterAttempts, downForMs: Date.now() - lostAt }, 'docker event stream back; reconciling now');
            event('docker event stream back');
            reprobe = true;
            request('docker answering again');
          },
        },
      )
    : Promise.resolve();
  request('start');

  /**
   * Swap in new settings between two passes: every part built from settings is rebuilt (reconciler
   * with its gateway and API clients, health monitor), and the watcher, resync timer and status
   * server follow. No pass ever sees a mix of old and new settings.
   */
  const swapSettings = (next: Settings): void => {
    pendingSettings = null;
    const prev = reconciler.settings;
    if (opts.rebuild) {
      const wasStarted = state.firstPassAt !== null;
      void parts.monitor?.stop(); // its kept sessions end in the background
      parts = opts.rebuild(next);
      if (wasStarted) parts.monitor?.start();
    }
    if (parts.deps) reconciler.reconfigure(next, parts.deps);
    else reconciler.settings = next;
    state.paths = paths(next);
    state.gateway = parts.gateway ?? null;
    state.clientPort = next.gateway.hostPort;
    event('settings reloaded (SIGHUP)');
    clearInterval(resync);
    resync = setInterval(() => request('resync'), next.resyncIntervalMs);
    if (next.desiredDir !== prev.desiredDir) watch(next.desiredDir);
    void serveStatus(next).catch((err: unknown) => log.error({ err: errorMessage(err) }, 'status server restart failed'));
    log.info(
      { desiredDir: next.desiredDir, gateway: next.gateway.url, status: `${next.statusAddress}:${next.statusPort}` },
      'settings reloaded (SIGHUP)',
    );
  };

  const onHup = (): void => {
    try {
      const next = loadSettings({ file: opts.settingsFile });
      if (opts.desiredOverride) next.desiredDir = opts.desiredOverride;
      pendingSettings = next;
      log.info('settings read (SIGHUP); applying them before the next pass');
      request('settings reloaded');
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'settings reload failed; keeping the previous settings');
    }
  };
  process.on('SIGHUP', onHup);

  await new Promise<void>((resolveStop) => {
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      void scheduler.stop(); // no new pass; the one in flight finishes (awaited below)
      log.info({ signal }, 'stopping: finishing the pass in flight; MCP containers keep running');
      notify(['STOPPING=1']);
      resolveStop();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  process.off('SIGHUP', onHup);
  clearInterval(resync);
  clearTimeout(retryTimer ?? undefined);
  stopEvents.abort();
  await parts.monitor?.stop(); // ends the sessions its probes kept
  const watchers = [dirWatcher, parentWatcher] as (FSWatcher | null)[];
  await Promise.all(watchers.map((w) => w?.close()));
  await eventsDone;
  await scheduler.stop();
  for (const w of applyWaiters.splice(0)) w.resolve({ plan: '', failed: [], problems: [], unconverged: 0, error: 'the daemon stopped' });
  const h = http as Server | null;
  if (h) {
    h.closeAllConnections();
    await new Promise((r) => h.close(r));
  }
  log.info('stopped');
  return 0;
}
