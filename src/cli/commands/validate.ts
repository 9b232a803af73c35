import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Settings } from '../../config/settings.js';
import { loadDesiredDir, parseDesiredFile, displayPath, readDesiredFile, type DesiredServer } from '../../desired/load.js';
import { checkServerInputs } from '../../desired/resolve.js';
import { formatIssue, errorMessage, type LocatedIssue } from '../../errors/index.js';
import { defineCommand, onRun, Exit } from '../command.js';
import { request } from 'undici';
import { gatewayServerName } from '../../desired/schema.js';
import { CompiledPolicy, LLM_FUNCTION_NAME_RE } from '../../policy/tool-policy.js';
import { settingsFrom, type GlobalOptions } from '../shared.js';

export function register(program: Command): void {
  const cmd = defineCommand(program, 'validate [path]', 'check desired files (a file or a directory; default: the desired dir)', {
    examples: ['', '~/projects/mcp/desired-state/mcp-github.yaml'],
    exits: [[Exit.Ok, 'every file valid'], [Exit.Error, 'an invalid file, or settings that do not load']],
  });
  onRun(cmd, (path: string | undefined, _o: unknown, c: Command) => validate(path, c.optsWithGlobals<GlobalOptions>()));
}

async function validate(path: string | undefined, values: GlobalOptions): Promise<number> {
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
      const message = `cannot read: ${errorMessage(err).replace(`${abs} `, '')}`;
      issues.push({ file, line: 1, col: 1, path: '', message, severity: 'error' });
    }
    if (text !== null) {
      const r = parseDesiredFile(text, file, abs.split('/').pop() ?? '');
      if (r.server) issues.push(...r.server.warnings);
      if (r.invalid) issues.push(...r.invalid.issues);
      if (r.server) valid.push(r.server);
    }
  }
  if (settings) for (const d of valid) issues.push(...checkServerInputs(settings, d));
  if (settings && valid.some((d) => d.spec.tools)) {
    const probed = await lastProbedTools(settings);
    if (probed === null) process.stderr.write('note: no running daemon answered; tools: patterns not checked against the last probe\n');
    else for (const d of valid) issues.push(...toolPolicyWarnings(d, probed.get(d.name) ?? null));
  }
  for (const i of issues) process.stderr.write(`${formatIssue(i)}\n`);
  const errors = issues.filter((i) => i.severity === 'error').length;
  process.stdout.write(`${count} file(s) checked, ${errors} error(s), ${issues.length - errors} warning(s)\n`);
  return errors > 0 ? Exit.Error : Exit.Ok;
}

/** The server's whole tool list from the running daemon's last probe (`/status`), by server; null: no daemon. */
async function lastProbedTools(settings: Settings): Promise<Map<string, string[]> | null> {
  if (settings.statusPort <= 0) return null;
  try {
    const r = await request(`http://${settings.statusAddress}:${settings.statusPort}/status`, { signal: AbortSignal.timeout(1_500) });
    if (r.statusCode !== 200) {
      await r.body.dump();
      return null;
    }
    const doc = (await r.body.json()) as { servers?: { name?: unknown; tools?: unknown }[] };
    const out = new Map<string, string[]>();
    for (const s of doc.servers ?? []) {
      if (typeof s.name === 'string' && Array.isArray(s.tools)) out.set(s.name, s.tools.filter((t): t is string => typeof t === 'string'));
    }
    return out;
  } catch {
    return null;
  }
}

/**
 * Warnings for a server's `tools:` against its last probed tool list: a pattern or key that matched
 * nothing, and an exposed name LLM APIs would refuse once LiteLLM prefixed it (rename it).
 */
export function toolPolicyWarnings(d: DesiredServer, tools: string[] | null): LocatedIssue[] {
  if (!d.spec.tools || tools === null) return [];
  const policy = new CompiledPolicy(d.spec.tools);
  const out: LocatedIssue[] = [];
  const at = (path: string): { line: number; col: number } => d.positions[path] ?? d.positions['tools'] ?? { line: 1, col: 1 };
  for (const u of policy.unmatched(tools)) {
    const idx = u.field === 'allow' || u.field === 'deny' ? (d.spec.tools[u.field] ?? []).indexOf(u.pattern) : u.pattern;
    const path = `tools.${u.field}.${idx}`;
    const message = `${u.pattern} matched none of the ${tools.length} tools at the last probe`;
    out.push({ file: d.file, ...at(path), path, message, severity: 'warning' });
  }
  for (const t of tools) {
    const shown = policy.exposedName(t);
    if (shown === null || LLM_FUNCTION_NAME_RE.test(`${gatewayServerName(d.name)}-${shown}`)) continue;
    out.push({
      file: d.file,
      ...at('tools'),
      path: 'tools',
      message:
        `LiteLLM shows ${t} as ${gatewayServerName(d.name)}-${shown}, which LLM APIs refuse as a tool name ` +
        `([A-Za-z0-9_-], 64 at most): add tools.rename.${t}`,
      severity: 'warning',
    });
  }
  return out;
}
