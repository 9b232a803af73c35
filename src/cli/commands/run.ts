import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { Settings } from '../../config/settings.js';
import type { DockerRuntime } from '../../docker/runtime.js';
import { HealthMonitor } from '../../health/monitor.js';
import { FileConfigStore } from '../../litellm/file-store.js';
import { apiIdPrefix } from '../../litellm/api.js';
import { LockHeldError } from '../../lock/instance-lock.js';
import { daemonLogger } from '../../log/logger.js';
import type { Reconciler } from '../../reconcile/controller.js';
import { Metrics } from '../../server/metrics.js';
import { SecretMask } from '../../status/redact.js';
import { runDaemon, type DaemonParts } from '../../watch/daemon.js';
import { defineCommand, onRun, Exit } from '../command.js';
import { settingsFrom, buildReconciler, takeLock, type GlobalOptions } from '../shared.js';

export function register(program: Command): void {
  const cmd = defineCommand(program, 'run', 'the daemon: watch the desired dir and reconcile (systemd runs this)', {
    examples: ['', '--config ~/.config/mcp-reconciler/settings.yaml'],
    exits: [[Exit.Ok, 'stopped by SIGTERM or SIGINT'], [Exit.Error, 'another `run` of this instance holds the lock']],
  });
  onRun(cmd, async (_o: unknown, c: Command) => {
    const values = c.optsWithGlobals<GlobalOptions>();
    const settings = settingsFrom(values);
    const lock = takeLock(settings, 'run');
    if (lock instanceof LockHeldError) {
      process.stderr.write(`${lock.message}\n`);
      return Exit.Error;
    }
    // One mask for the log lines and the status document; the daemon tells it the env files after each pass.
    const mask = new SecretMask([settings.gateway.envFile]);
    const logging = daemonLogger({ journalStream: process.env['JOURNAL_STREAM'], mask: mask.text });
    const log = logging.log;
    if (logging.why) log.warn({ component: 'log' }, `journal fields off, priority-prefixed JSON lines instead: ${logging.why}`);
    const metrics = new Metrics();
    // Everything built from settings; SIGHUP builds it again from the new settings (ADR 0006).
    const partsFor = (st: Settings): DaemonParts & { reconciler: Reconciler; runtime: DockerRuntime } => {
      const { reconciler, runtime, gateway, deps } = buildReconciler(st, log);
      const monitor = new HealthMonitor({
        runtime,
        config: new FileConfigStore(),
        configPath: st.gateway.configPath,
        gateway,
        api: deps.api ?? null,
        apiIdPrefix: apiIdPrefix(st.instance),
        observe: { namePrefix: st.namePrefix, instance: st.instance, network: st.network },
        edgePort: st.edge.port,
        reach: st.reach,
        log,
        metrics,
        keepSessions: true, // one session per server between probes (ADR 0017)
      });
      return { reconciler, deps, monitor, runtime, gateway: { url: gateway.baseUrl, mcpUrl: gateway.mcpUrl } };
    };
    const first = partsFor(settings);
    return runDaemon(first.reconciler, log, {
      monitor: first.monitor,
      metrics,
      gateway: first.gateway ?? null,
      rebuild: partsFor,
      events: first.runtime,
      notifySocket: process.env['NOTIFY_SOCKET'],
      settingsFile: values.config,
      desiredOverride: values.desired ? resolve(values.desired) : undefined,
      lock,
      mask,
    }).finally(() => {
      lock.release();
      logging.close();
    });
  });
}
