import { parseArgs } from 'node:util';
import { CLIENTS, KEY_ENV, renderAll, renderClient, type ClientName } from '../clients/render.js';
import { userInfo } from 'node:os';
import { install, lookupAccount, APP_ROOT } from '../install/install.js';
import { join, resolve, basename } from 'node:path';
import { dbInit } from '../db/init.js';
import { doctorDb } from '../doctor/db.js';
import { renderFindings, hasErrors, type Finding } from '../doctor/findings.js';
import { lintBytes } from '../doctor/lint.js';
import { doctorProxy } from '../doctor/proxy.js';
import { chmodSync, existsSync, rmSync, statSync } from 'node:fs';
import { readRegularFileBytes } from '../fs/safe-read.js';
import { MAX_DOCTOR_BYTES } from '../doctor/lint.js';
import { checkHost } from '../clients/render.js';
import { loadSettings, type Settings } from '../config/settings.js';
import { loadDesiredDir, parseDesiredFile, displayPath, readDesiredFile, type DesiredServer } from '../desired/load.js';
import { resolveServers, checkServerInputs } from '../desired/resolve.js';
import { DockerRuntime } from '../docker/runtime.js';
import { ReconcilerError, formatIssue, errorMessage, type LocatedIssue } from '../errors/index.js';
import { FileConfigStore } from '../litellm/file-store.js';
import { LiteLLMGateway } from '../litellm/gateway-client.js';
import { LiteLLMApi, apiIdPrefix } from '../litellm/api.js';
import { renderGatewayConfig, ownedEntry } from '../litellm/config-file.js';
import { createLogger } from '../log/logger.js';
import { Reconciler, masterKeyFrom, type ReconcilerDeps } from '../reconcile/controller.js';
import { readEnvFile } from '../desired/env-file.js';
import { renderPlan, planToJson } from '../reconcile/render-plan.js';
import { writeOps } from '../model/types.js';
import { collectStatus, renderStatus, renderServer, isReady } from './status.js';
import { HealthMonitor } from '../health/monitor.js';
import { Metrics } from '../server/metrics.js';
import { runDaemon, type DaemonParts } from '../watch/daemon.js';
import { createEdgeServer } from '../edge/server.js';
import { BridgeRegistry, localDocker } from '../docker/bridges.js';
import { acquireLock, lockPath, LockHeldError, type InstanceLock } from '../lock/instance-lock.js';
import { applyThroughDaemon } from './apply-remote.js';
import type { ApplyAnswer } from '../server/http.js';
import { PeerPolicy } from '../edge/peers.js';
import { createDockerProxy } from '../edge/docker-proxy.js';

/** Exit codes are part of the interface (README "CLI"). */
export const Exit = { Ok: 0, Error: 1, Changes: 2 } as const;

const USAGE = `mcp-reconciler <command> [options]

Commands:
  validate [path]     check desired files (0 valid, 1 invalid)
  plan [--json]       show what apply would change (0 none, 2 changes, 1 error)
  apply --once        reconcile once and exit (--allow-empty confirms pruning every server; --pull first
                      pulls every wanted image, and a reference whose image changed rolls out)
  run                 the daemon: watch the desired dir and reconcile
  status [name] [--json]  servers and their conditions (from the daemon, or one probe pass here);
                      with a name: conditions and recent events of that server
  litellm-config      print the mcp_servers section that would be written
  clients             ready-to-paste config for Claude Code, Gemini CLI, Codex CLI, VS Code, Open WebUI
                      (--host linuxserver.lan | 192.168.1.5 | [fd00::5], --client NAME for one raw snippet)
  edge                serve the header-normalizing proxy (runs inside the mcp-edge container)
  db init --admin-url URL
                      LiteLLM's role and database, a read-only role for mcp-postgresql; writes
                      DATABASE_URL and DSN into the secrets files (--db-host, --db-port, --read db:schema,
                      --statement-timeout, --litellm-role, --litellm-db, --readonly-role)
  doctor [FILE...] [--url URL [--send-key]] [--db-env-file FILE | --db URL] [--json]
                      lint a LiteLLM config.yaml, deploy script or compose file (kind guessed), check a
                      running proxy and its database; without arguments: this stack's config and gateway.
                      The master key goes only to the configured gateway (other URLs: --send-key);
                      the database URL comes from an env file's DATABASE_URL (or --db URL + PGPASSWORD)
  install             put the systemd unit, settings and folders in place and enable the service
                      (--user NAME, default $SUDO_USER; --root DIR to stage elsewhere; --no-enable)

Options:
  --desired DIR       desired-state directory (overrides settings)
  --config FILE       settings file (default $MCP_RECONCILER_CONFIG or ~/.config/mcp-reconciler/settings.yaml)
`;

function settingsFrom(values: { config?: string | undefined; desired?: string | undefined }): Settings {
  const s = loadSettings({ file: values.config });
  if (values.desired) s.desiredDir = resolve(values.desired);
  return s;
}

function buildReconciler(
  settings: Settings,
  logLevel?: string,
): { reconciler: Reconciler; gateway: LiteLLMGateway; runtime: DockerRuntime; deps: ReconcilerDeps } {
  const log = createLogger(logLevel ? { level: logLevel } : {});
  const runtime = new DockerRuntime(undefined, log.child({ component: 'docker' }), { pull: settings.images.pull });
  const gateway = new LiteLLMGateway(settings.gateway.url, () => masterKeyFrom(settings));
  const api = new LiteLLMApi(settings.gateway.url, () => masterKeyFrom(settings));
  const deps: ReconcilerDeps = { runtime, config: new FileConfigStore(), gateway, api, log };
  return { reconciler: new Reconciler(settings, deps), gateway, runtime, deps };
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? Exit.Ok : Exit.Error;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      desired: { type: 'string' },
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      once: { type: 'boolean', default: false },
      'allow-empty': { type: 'boolean', default: false },
      pull: { type: 'boolean', default: false },
      port: { type: 'string' },
      'allow-prefix': { type: 'string' },
      'gateway-host': { type: 'string' },
      'host-only': { type: 'boolean' },
      socket: { type: 'string' },
      instance: { type: 'string' },
      user: { type: 'string' },
      host: { type: 'string', default: 'linuxserver.lan' },
      'admin-url': { type: 'string' },
      secrets: { type: 'string' },
      'db-host': { type: 'string' },
      'db-port': { type: 'string' },
      read: { type: 'string', multiple: true },
      'statement-timeout': { type: 'string' },
      'litellm-role': { type: 'string' },
      'litellm-db': { type: 'string' },
      'readonly-role': { type: 'string' },
      db: { type: 'string' },
      'db-env-file': { type: 'string' },
      'send-key': { type: 'boolean', default: false },
      url: { type: 'string' },
      client: { type: 'string' },
      root: { type: 'string' },
      'no-enable': { type: 'boolean', default: false },
    },
  });
  switch (command) {
    case 'validate':
      return validate(positionals[0], values);
    case 'plan': {
      const settings = settingsFrom(values);
      const { reconciler } = buildReconciler(settings, 'silent');
      const out = await reconciler.plan({ allowEmpty: values['allow-empty'] });
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ gatewayMode: out.gatewayMode, operations: planToJson(out.plan), problems: out.problems }, null, 2)}\n`);
      } else {
        for (const p of out.problems) process.stderr.write(`${p.file}: ${p.message} (last good state kept)\n`);
        process.stdout.write(`gateway registration: ${out.gatewayMode.mode} mode (${out.gatewayMode.why})\n${renderPlan(out.plan)}\n`);
      }
      return writeOps(out.plan).length > 0 ? Exit.Changes : Exit.Ok;
    }
    case 'apply': {
      if (!values.once) {
        process.stderr.write('apply needs --once (the daemon is `run`)\n');
        return Exit.Error;
      }
      const settings = settingsFrom(values);
      // --pull: fetch every wanted reference now; the pass then rolls out each one whose local id changed.
      // Pulling changes images only, never containers, so it needs no lock.
      let pullFailed = 0;
      if (values.pull) {
        const { reconciler } = buildReconciler(settings, 'silent');
        for (const p of await reconciler.pullWanted()) {
          if (p.error) {
            pullFailed++;
            process.stderr.write(`pull failed: ${p.error}\n`);
          } else process.stdout.write(`pulled ${p.image}: ${p.id}\n`);
        }
      }
      const lock = takeLock(settings, 'apply --once');
      if (lock instanceof LockHeldError) {
        // The daemon runs: it does the pass (its own lock, its own serialisation) and we print it.
        const answer = await applyThroughDaemon(lock.holder, values['allow-empty']);
        if (!answer) {
          process.stderr.write(`${lock.message}\nIt has no HTTP face to ask for a pass (statusPort 0): stop it, or wait for its next pass.\n`);
          return Exit.Error;
        }
        process.stderr.write(`the daemon (pid ${lock.holder.pid}) ran this pass\n`);
        return Math.max(printApply(answer), pullFailed > 0 ? Exit.Error : Exit.Ok);
      }
      try {
        const { reconciler } = buildReconciler(settings);
        const out = await reconciler.reconcile({ allowEmpty: values['allow-empty'] });
        const code = printApply({
          plan: renderPlan(out.plan),
          failed: out.result.failed.map((f) => ({ resourceId: f.op.resourceId, error: f.error })),
          problems: out.problems.map((p) => ({ file: p.file, message: p.message })),
          unconverged: out.plan.operations.filter((o) => o.type === 'conflict' || o.type === 'blocked' || o.type === 'prune-held').length,
          error: null,
        });
        return Math.max(code, pullFailed > 0 ? Exit.Error : Exit.Ok);
      } finally {
        lock.release();
      }
    }
    case 'run': {
      const settings = settingsFrom(values);
      const lock = takeLock(settings, 'run');
      if (lock instanceof LockHeldError) {
        process.stderr.write(`${lock.message}\n`);
        return Exit.Error;
      }
      const log = createLogger({ journal: Boolean(process.env['JOURNAL_STREAM']) });
      const metrics = new Metrics();
      // Everything built from settings; SIGHUP builds it again from the new settings (ADR 0006).
      const partsFor = (st: Settings): DaemonParts & { reconciler: Reconciler; runtime: DockerRuntime } => {
        const { reconciler, runtime, gateway, deps } = buildReconciler(st);
        const monitor = new HealthMonitor({
          runtime,
          config: new FileConfigStore(),
          configPath: st.gateway.configPath,
          gateway,
          api: deps.api ?? null,
          apiIdPrefix: apiIdPrefix(st.instance),
          observe: { namePrefix: st.namePrefix, instance: st.instance, network: st.network },
          edgePort: st.edge.port,
          log,
          metrics,
        });
        return { reconciler, deps, monitor, runtime, gateway: { url: gateway.baseUrl, mcpUrl: gateway.mcpUrl } };
      };
      const first = partsFor(settings);
      const runtime = first.runtime;
      return runDaemon(first.reconciler, log, {
        monitor: first.monitor,
        metrics,
        gateway: first.gateway ?? null,
        rebuild: partsFor,
        events: runtime,
        notifySocket: process.env['NOTIFY_SOCKET'],
        settingsFile: values.config,
        desiredOverride: values.desired ? resolve(values.desired) : undefined,
        lock,
      }).finally(() => lock.release());
    }
    case 'status': {
      const settings = settingsFrom(values);
      const { gateway, runtime, reconciler, deps } = buildReconciler(settings, 'silent');
      const st = await collectStatus(settings, { reconciler, runtime, gateway, api: deps.api ?? null, config: new FileConfigStore() });
      const name = positionals[0];
      if (name) {
        const one = st.doc.servers.find((x) => x.name === name);
        if (!one) {
          process.stderr.write(`no desired server "${name}"\n`);
          return Exit.Error;
        }
        process.stdout.write(values.json ? `${JSON.stringify(one, null, 2)}\n` : `${renderServer(one)}\n`);
        return isReady(one) ? Exit.Ok : Exit.Error;
      }
      process.stdout.write(values.json ? `${JSON.stringify({ ...st.doc, gatewayReady: st.gatewayReady, invalid: st.invalid }, null, 2)}\n` : `${renderStatus(st)}\n`);
      const ok = st.gatewayReady && st.doc.servers.every(isReady) && st.invalid.length === 0;
      return ok ? Exit.Ok : Exit.Error;
    }
    case 'litellm-config':
      return litellmConfig(settingsFrom(values));
    case 'edge': {
      const port = Number(values.port ?? '8080');
      const log = createLogger();
      const bridges = new BridgeRegistry(values.instance ?? 'default', log);
      const server = createEdgeServer({
        port,
        allowPrefix: values['allow-prefix'] ?? 'mcp-',
        log,
        bridgeFor: (name) => bridges.get(name),
        bridgeStats: () => bridges.stats(),
        // The daemon always passes one of the two (ADR 0007); an edge started by hand without them serves everyone.
        ...(values['gateway-host'] || values['host-only'] ? { peers: new PeerPolicy({ gatewayHost: values['gateway-host'] ?? null }) } : {}),
      });
      await new Promise<void>((r) => server.listen(port, '0.0.0.0', r));
      log.info({ port }, 'edge listening');
      await new Promise<void>((r) => {
        const stop = (): void => {
          server.close(() => r());
          server.closeAllConnections();
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      return Exit.Ok;
    }
    case 'edge-docker': {
      // The edge's filtering Docker proxy (ADR 0007), in its own container with the real socket.
      const socket = values.socket ?? '/run/mcp-docker/docker.sock';
      const log = createLogger();
      rmSync(socket, { force: true });
      const proxy = createDockerProxy({ docker: localDocker(), dockerSocket: '/var/run/docker.sock', instance: values.instance ?? 'default', log });
      await new Promise<void>((r) => proxy.listen(socket, r));
      chmodSync(socket, 0o666); // the edge runs as another user; only the edge mounts this volume
      log.info({ socket }, 'edge docker proxy listening');
      await new Promise<void>((r) => {
        const stop = (): void => {
          proxy.close(() => r());
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      return Exit.Ok;
    }
    case 'clients': {
      const settings = settingsFrom(values);
      const host = values.host ?? 'linuxserver.lan';
      const hostProblem = checkHost(host);
      if (hostProblem) {
        process.stderr.write(`--host: ${hostProblem}\n`);
        return Exit.Error;
      }
      if (values.client) {
        if (!(CLIENTS as readonly string[]).includes(values.client)) {
          process.stderr.write(`unknown client "${values.client}"; one of ${CLIENTS.join(', ')}\n`);
          return Exit.Error;
        }
        process.stdout.write(renderClient(values.client as ClientName, host, settings.gateway.hostPort).body);
      } else {
        process.stdout.write(`${renderAll(host, settings.gateway.hostPort)}\nSet ${KEY_ENV} to a LiteLLM virtual key (or the master key, for the admin only); never commit it.\n`);
      }
      return Exit.Ok;
    }
    case 'db': {
      if (positionals[0] !== 'init' || !values['admin-url']) {
        process.stderr.write('usage: mcp-reconciler db init --admin-url postgres://admin@host:5432/db [options]\n');
        return Exit.Error;
      }
      const settings = settingsFrom(values);
      const secrets = values.secrets ? resolve(values.secrets) : settings.secretsDir;
      const lock = takeLockAt(lockPath(secrets, settings.instance, 'db-init'), 'db init');
      if (lock instanceof LockHeldError) {
        process.stderr.write(`${lock.message}\n`);
        return Exit.Error;
      }
      const report = await dbInit({
        adminUrl: values['admin-url'],
        litellmEnvFile: values.secrets ? join(secrets, basename(settings.gateway.envFile)) : settings.gateway.envFile,
        readonlyEnvFile: join(secrets, `${settings.namePrefix}postgresql.env`),
        ...(values['db-host'] ? { dbHost: values['db-host'] } : {}),
        ...(values['db-port'] ? { dbPort: Number(values['db-port']) } : {}),
        ...(values.read ? { read: values.read } : {}),
        ...(values['statement-timeout'] ? { statementTimeout: values['statement-timeout'] } : {}),
        ...(values['litellm-role'] ? { litellmRole: values['litellm-role'] } : {}),
        ...(values['litellm-db'] ? { litellmDatabase: values['litellm-db'] } : {}),
        ...(values['readonly-role'] ? { readonlyRole: values['readonly-role'] } : {}),
      }).finally(() => lock.release());
      for (const a of report.actions) process.stdout.write(`changed: ${a}\n`);
      for (const k of report.kept) process.stdout.write(`unchanged: ${k}\n`);
      for (const p of report.passwords) {
        process.stdout.write(`password of role ${p.role}: ${p.state === 'new' ? 'new, written' : 'unchanged'} in ${p.file} (${p.key}), nowhere else\n`);
      }
      if (report.actions.length === 0) process.stdout.write('nothing to do: everything was already in place\n');
      return Exit.Ok;
    }
    case 'doctor': {
      const findings: Finding[] = [];
      let auditQuery = '';
      const settings = settingsFrom(values);
      const files = positionals.map((f) => resolve(f));
      const dbEnvFile = values['db-env-file'];
      const explicit = files.length > 0 || values.db !== undefined || dbEnvFile !== undefined || values.url !== undefined;
      // No arguments: this stack's own gateway config and running proxy.
      const lintTargets = explicit ? files : existsSync(settings.gateway.configPath) ? [settings.gateway.configPath] : [];
      for (const f of lintTargets) {
        let bytes: Buffer;
        try {
          bytes = readRegularFileBytes(f, { maxBytes: MAX_DOCTOR_BYTES });
        } catch (err) {
          findings.push({ severity: 'error', rule: 'file.unreadable', where: displayPath(f), message: errorMessage(err), fix: '' });
          continue;
        }
        findings.push(...lintBytes(displayPath(f), bytes));
      }
      const proxyUrl = values.url ?? (explicit ? undefined : settings.gateway.url);
      if (proxyUrl) {
        // The master key goes only to the configured gateway, or anywhere with --send-key.
        const keyAllowed = values['send-key'] || sameOrigin(proxyUrl, settings.gateway.url);
        if (!keyAllowed) {
          findings.push({ severity: 'info', rule: 'proxy.key-withheld', where: proxyUrl, message: 'not the configured gateway: the master key is not sent (management API checks skipped)', fix: 'add --send-key to send it to this URL' });
        }
        findings.push(...(await doctorProxy(proxyUrl, keyAllowed ? masterKeyFrom(settings) : null)));
      }
      const db = dbTarget(values.db, dbEnvFile);
      if (db.problem) findings.push(db.problem);
      if (db.url) {
        const r = await doctorDb(db.url);
        findings.push(...r.findings);
        auditQuery = r.auditQuery;
      }
      if (values.json) process.stdout.write(`${JSON.stringify({ findings, auditQuery }, null, 2)}\n`);
      else process.stdout.write(`${renderFindings(findings)}\n${auditQuery ? `\naudit query (MCP tool calls):\n${auditQuery}\n` : ''}`);
      return hasErrors(findings) ? Exit.Error : Exit.Ok;
    }
    case 'install': {
      const name = values.user ?? process.env['SUDO_USER'] ?? userInfo().username;
      const root = resolve(values.root ?? '/');
      const report = install({
        account: lookupAccount(name),
        root,
        app: APP_ROOT,
        node: process.execPath,
        enable: !values['no-enable'] && root === '/',
      });
      process.stdout.write(`installed for user ${name}${root === '/' ? '' : ` under ${root}`}\n`);
      for (const [k, v] of Object.entries(report.paths)) process.stdout.write(`  ${k.padEnd(17)} ${v}\n`);
      process.stdout.write(`created: ${report.created.length ? report.created.join(', ') : 'nothing'}\n`);
      if (report.kept.length) process.stdout.write(`kept as they were: ${report.kept.join(', ')}\n`);
      process.stdout.write('watch it: systemctl status mcp-reconciler; journalctl -u mcp-reconciler -o cat | jq\n');
      return Exit.Ok;
    }
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
      return Exit.Error;
  }
}

/** The instance lock (ADR 0006), or the error naming who holds it. */
function takeLock(settings: Settings, command: string): InstanceLock | LockHeldError {
  const endpoint = command === 'run' && settings.statusPort > 0 ? { address: settings.statusAddress, port: settings.statusPort } : null;
  return takeLockAt(lockPath(settings.secretsDir, settings.instance), command, endpoint);
}

function takeLockAt(file: string, command: string, endpoint: { address: string; port: number } | null = null): InstanceLock | LockHeldError {
  try {
    return acquireLock(file, { command, endpoint });
  } catch (err) {
    if (err instanceof LockHeldError) return err;
    throw err;
  }
}

function printApply(a: ApplyAnswer): number {
  if (a.error) {
    process.stderr.write(`pass failed: ${a.error}\n`);
    return Exit.Error;
  }
  process.stdout.write(`${a.plan}\n`);
  for (const f of a.failed) process.stderr.write(`failed: ${f.resourceId}: ${f.error}\n`);
  for (const p of a.problems) process.stderr.write(`not applied: ${p.file}: ${p.message}\n`);
  return a.failed.length + a.unconverged + a.problems.length > 0 ? Exit.Error : Exit.Ok;
}

function validate(path: string | undefined, values: { config?: string | undefined; desired?: string | undefined }): number {
  const issues: LocatedIssue[] = [];
  let count = 0;
  let target = path;
  if (!target) {
    try {
      target = settingsFrom(values).desiredDir;
    } catch (err) {
      process.stderr.write(`${errorMessage(err)}\n`);
      return Exit.Error;
    }
  }
  const abs = resolve(target);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    process.stderr.write(`${target}: no such file or directory\n`);
    return Exit.Error;
  }
  // Host inputs (env files, mount sources) need the settings; a given path without settings skips them.
  let settings: Settings | null = null;
  try {
    settings = settingsFrom(values);
  } catch (err) {
    if (!path || values.config) {
      process.stderr.write(`${errorMessage(err)}\n`);
      return Exit.Error;
    }
    process.stderr.write(`warning: settings do not load (${errorMessage(err)}); env files and mounts not checked\n`);
  }
  const valid: DesiredServer[] = [];
  if (isDir) {
    const load = loadDesiredDir(abs);
    count = load.servers.length + load.invalid.length;
    for (const s of load.servers) issues.push(...s.warnings);
    for (const i of load.invalid) issues.push(...i.issues);
    valid.push(...load.servers);
  } else {
    count = 1;
    const file = displayPath(abs);
    let text: string | null = null;
    try {
      text = readDesiredFile(abs);
    } catch (err) {
      issues.push({ file, line: 1, col: 1, path: '', message: `cannot read: ${errorMessage(err).replace(`${abs} `, '')}`, severity: 'error' });
    }
    if (text !== null) {
      const r = parseDesiredFile(text, file, abs.split('/').pop() ?? '');
      if (r.server) issues.push(...r.server.warnings);
      if (r.invalid) issues.push(...r.invalid.issues);
      if (r.server) valid.push(r.server);
    }
  }
  if (settings) for (const d of valid) issues.push(...checkServerInputs(settings, d));
  for (const i of issues) process.stderr.write(`${formatIssue(i)}\n`);
  const errors = issues.filter((i) => i.severity === 'error').length;
  process.stdout.write(`${count} file(s) checked, ${errors} error(s), ${issues.length - errors} warning(s)\n`);
  return errors > 0 ? Exit.Error : Exit.Ok;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/**
 * The database `doctor` checks: `--db-env-file FILE` (its DATABASE_URL; the password never in argv),
 * or `--db URL` (put the password in PGPASSWORD, not in the URL; a password in argv is flagged).
 */
function dbTarget(argUrl: string | undefined, envFile: string | undefined): { url: string | null; problem: Finding | null } {
  if (envFile !== undefined) {
    const where = displayPath(resolve(envFile));
    try {
      const url = readEnvFile(resolve(envFile))['DATABASE_URL'];
      if (!url) return { url: null, problem: { severity: 'error', rule: 'db.no-url', where, message: 'no DATABASE_URL in this env file', fix: 'mcp-reconciler db init writes it' } };
      return { url, problem: null };
    } catch (err) {
      return { url: null, problem: { severity: 'error', rule: 'db.env-file', where, message: errorMessage(err), fix: 'a regular file, mode 600, owned by you' } };
    }
  }
  if (argUrl === undefined) return { url: null, problem: null };
  let hasPassword = false;
  try {
    hasPassword = new URL(argUrl).password !== '';
  } catch {
    return { url: null, problem: { severity: 'error', rule: 'db.url', where: '--db', message: 'not a URL (postgres://user@host:5432/db)', fix: '' } };
  }
  const problem: Finding | null = hasPassword
    ? { severity: 'warning', rule: 'db.password-in-argv', where: '--db', message: 'the password is in the command line, readable in /proc by every local user', fix: 'use --db-env-file ~/projects/secrets/mcp-litellm.env, or PGPASSWORD with a URL without password' }
    : null;
  return { url: argUrl, problem };
}

function litellmConfig(settings: Settings): number {
  const load = loadDesiredDir(settings.desiredDir);
  if (load.dirState !== 'ok') {
    // Never print an empty mcp_servers for a directory we could not read: written out, it would drop every server.
    process.stderr.write(`${displayPath(settings.desiredDir)}: desired directory ${load.dirState === 'missing' ? 'does not exist' : 'is not a readable directory'}\n`);
    return Exit.Error;
  }
  const { models, failures } = resolveServers(settings, load.servers);
  for (const bad of load.invalid) for (const i of bad.issues) process.stderr.write(`${formatIssue(i)}\n`);
  for (const f of failures) process.stderr.write(`${f.file}: ${f.message}\n`);
  const entries: Record<string, Record<string, unknown>> = {};
  for (const m of models) if (m.gatewayEntry) entries[m.gatewayName] = ownedEntry(m.gatewayEntry, m.source);
  // A null mcp_servers gives a block-style map, as in the file the reconciler writes.
  process.stdout.write(renderGatewayConfig('mcp_servers:\n', entries));
  return load.invalid.length + failures.length > 0 ? Exit.Error : Exit.Ok;
}

export function reportFatal(err: unknown): number {
  if (err instanceof ReconcilerError) process.stderr.write(`${err.code}: ${err.message}\n`);
  else process.stderr.write(`error: ${errorMessage(err)}\n`);
  return Exit.Error;
}
