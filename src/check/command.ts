import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { Settings } from '../config/settings.js';
import { loadDesiredDir, displayPath } from '../desired/load.js';
import { containerName, gatewayContainerName, gatewayColourName, frontActivePath, frontContainerName } from '../desired/resolve.js';
import { MAX_ACTIVE_BYTES, parseActive } from '../front/active.js';
import { gatewayServerName } from '../desired/schema.js';
import { readEnvFile, readSecretsFile, parseEnvFile } from '../desired/env-file.js';
import { readRegularFile } from '../fs/safe-read.js';
import { errorMessage, formatIssue } from '../errors/index.js';
import { runCheck, renderReport, DEFAULT_AUDIT_WAIT_MS, type CheckInput, type CheckDeps, type CheckReport } from './check.js';
import { SdkMcpThroughGateway, UndiciGatewayHttp } from './gateway.js';
import { PgAuditReader } from './audit-db.js';

export interface CheckOptions {
  /** Read the client's key from this environment variable (never from argv). */
  keyEnv?: string | undefined;
  /** Read the client's key from this file (mode 600, yours): the key alone, or one `NAME=key` line. */
  keyFile?: string | undefined;
  model?: string | undefined;
  auditWaitSeconds?: number | undefined;
  json?: boolean | undefined;
}

export interface CheckIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

/** Where the check's key comes from: `--key-env`, `--key-file`, else the gateway's master key. */
export function resolveKey(settings: Settings, opts: CheckOptions, env: NodeJS.ProcessEnv): { key: string; source: string } {
  if (opts.keyEnv !== undefined && opts.keyFile !== undefined) throw new Error('give --key-env or --key-file, not both');
  if (opts.keyEnv !== undefined) {
    const key = env[opts.keyEnv]?.trim();
    if (!key) throw new Error(`--key-env ${opts.keyEnv}: that environment variable is empty or not set`);
    return { key, source: `$${opts.keyEnv}` };
  }
  if (opts.keyFile !== undefined) {
    const path = resolve(opts.keyFile);
    const text = readSecretsFile(path).trim();
    const vars = parseEnvFile(text);
    const values = Object.values(vars);
    const key = values.length === 1 ? values[0] : values.length === 0 && text !== '' && !/\s/.test(text) ? text : undefined;
    if (!key) throw new Error(`--key-file ${displayPath(path)}: expected the key alone, or one NAME=key line`);
    return { key, source: `key file ${displayPath(path)}` };
  }
  const file = settings.gateway.envFile;
  const key = readEnvFile(file)['LITELLM_MASTER_KEY'];
  if (!key) throw new Error(`no LITELLM_MASTER_KEY in ${displayPath(file)}; or give a client key with --key-env VAR / --key-file FILE`);
  return { key, source: `LITELLM_MASTER_KEY in ${displayPath(file)}` };
}

/** Models whose config.yaml entry has a string `mock_response` (advisory: an unreadable config gives none). */
export function stringMockModels(configText: string | null): string[] {
  if (configText === null) return [];
  const js = parseDocument(configText).toJS({ maxAliasCount: 50 }) as unknown;
  const list = (js as { model_list?: unknown } | null)?.model_list;
  if (!Array.isArray(list)) return [];
  return list.flatMap((m: unknown) => {
    const e = m as { model_name?: unknown; litellm_params?: { mock_response?: unknown } } | null;
    return typeof e?.model_name === 'string' && typeof e.litellm_params?.mock_response === 'string' ? [e.model_name] : [];
  });
}

/** Everything `check` needs from settings and files; the key read as `resolveKey` says. */
export function checkInput(
  settings: Settings,
  opts: CheckOptions,
  key: { key: string; source: string },
): { input: CheckInput; databaseUrl: string | null } {
  const load = loadDesiredDir(settings.desiredDir);
  const invalid = load.invalid.map((i) => ({
    file: i.file,
    message: i.issues.filter((x) => x.severity === 'error').map(formatIssue)[0] ?? 'invalid',
  }));
  if (load.dirState !== 'ok') invalid.push({ file: displayPath(settings.desiredDir), message: `desired directory ${load.dirState}` });
  let configText: string | null = null;
  try {
    configText = existsSync(settings.gateway.configPath) ? readRegularFile(settings.gateway.configPath, { maxBytes: 1024 * 1024 }) : null;
  } catch {
    configText = null;
  }
  let mocks: string[] = [];
  try {
    mocks = stringMockModels(configText);
  } catch {
    mocks = [];
  }
  let databaseUrl: string | null = null;
  try {
    databaseUrl = readEnvFile(settings.gateway.envFile)['DATABASE_URL'] ?? null;
  } catch {
    databaseUrl = null;
  }
  const input: CheckInput = {
    servers: load.servers.map((d) => ({
      name: d.name,
      gatewayServer: gatewayServerName(d.name),
      container: containerName(settings, d.name),
      file: d.file,
      checkTool: d.spec.check ? { tool: d.spec.check.tool, arguments: d.spec.check.arguments ?? {} } : null,
    })),
    invalid,
    gatewayUrl: settings.gateway.url,
    gatewayContainer: gatewayLogsContainer(settings),
    key: key.key,
    keySource: key.source,
    clientKey: opts.keyEnv !== undefined || opts.keyFile !== undefined,
    model: opts.model ?? null,
    stringMockModels: mocks,
    noAuditWhy:
      `no DATABASE_URL in ${displayPath(settings.gateway.envFile)}: ` +
      'the gateway has no database (config mode), so LiteLLM keeps no audit rows',
    auditWaitMs: opts.auditWaitSeconds !== undefined ? opts.auditWaitSeconds * 1000 : DEFAULT_AUDIT_WAIT_MS,
  };
  return { input, databaseUrl };
}

/** The container whose log explains a gateway failure: the active colour under blue/green (ADR 0025), else mcp-litellm. */
export function gatewayLogsContainer(settings: Settings): string {
  if (!settings.gateway.managed || settings.gateway.handover !== 'blue-green') return gatewayContainerName(settings);
  let colour = null;
  try {
    colour = parseActive(readRegularFile(frontActivePath(settings), { maxBytes: MAX_ACTIVE_BYTES }));
  } catch {
    colour = null;
  }
  return colour ? gatewayColourName(settings, colour) : frontContainerName(settings);
}

/** `mcp-reconciler check`: 0 when every step passed (or did not apply), 1 otherwise. */
export async function checkCommand(settings: Settings, opts: CheckOptions, io: CheckIo): Promise<number> {
  let key: { key: string; source: string };
  try {
    key = resolveKey(settings, opts, io.env);
  } catch (err) {
    const fix = 'mcp-reconciler install writes the gateway env file; or --key-env VAR / --key-file FILE';
    io.stdout(`FAIL key: ${errorMessage(err)}\n     fix: ${fix}\n`);
    return 1;
  }
  const { input, databaseUrl } = checkInput(settings, opts, key);
  const deps: CheckDeps = {
    mcp: new SdkMcpThroughGateway(settings.gateway.url, key.key),
    http: new UndiciGatewayHttp(settings.gateway.url, key.key),
    audit: databaseUrl ? new PgAuditReader(databaseUrl) : null,
  };
  const report: CheckReport = await runCheck(input, deps);
  io.stdout(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report)}\n`);
  return report.ok ? 0 : 1;
}
