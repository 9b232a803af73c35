import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { displayPath } from '../../desired/load.js';
import { readEnvFile } from '../../desired/env-file.js';
import { doctorDb } from '../../doctor/db.js';
import { renderFindings, hasErrors, type Finding } from '../../doctor/findings.js';
import { lintBytes, MAX_DOCTOR_BYTES } from '../../doctor/lint.js';
import { doctorProxy } from '../../doctor/proxy.js';
import { errorMessage } from '../../errors/index.js';
import { readRegularFileBytes } from '../../fs/safe-read.js';
import { masterKeyFrom } from '../../reconcile/controller.js';
import { defineCommand, onRun, Exit } from '../command.js';
import { settingsFrom, type GlobalOptions } from '../shared.js';

interface DoctorOptions extends GlobalOptions {
  url?: string;
  sendKey?: boolean;
  db?: string;
  dbEnvFile?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const summary =
    'lint a LiteLLM config.yaml, deploy script or compose file (kind guessed), check a running proxy and its database; ' +
    'without arguments: this stack';
  const cmd = defineCommand(program, 'doctor [files...]', summary, {
    examples: [
      '',
      'config.yaml docker-compose.yml',
      '--url http://192.168.1.5:4000 --send-key',
      '--db-env-file ~/projects/secrets/mcp-litellm.env',
    ],
    exits: [[Exit.Ok, 'no error finding'], [Exit.Error, 'an error finding']],
  })
    .option('--url <url>', 'check the LiteLLM proxy at this URL (default: the configured gateway)')
    .option('--send-key', 'send the master key to --url even if it is not the configured gateway')
    .option('--db-env-file <file>', "check LiteLLM's database named by this env file's DATABASE_URL")
    .option('--db <url>', 'check this database (password via PGPASSWORD, not in the URL)')
    .option('--json', 'machine-readable findings');
  onRun(cmd, async (files: string[], _o: unknown, c: Command) => {
    const values = c.optsWithGlobals<DoctorOptions>();
    const findings: Finding[] = [];
    let auditQuery = '';
    const settings = settingsFrom(values);
    const paths = files.map((f) => resolve(f));
    const dbEnvFile = values.dbEnvFile;
    const explicit = paths.length > 0 || values.db !== undefined || dbEnvFile !== undefined || values.url !== undefined;
    // No arguments: this stack's own gateway config and running proxy.
    const lintTargets = explicit ? paths : existsSync(settings.gateway.configPath) ? [settings.gateway.configPath] : [];
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
      const keyAllowed = values.sendKey || sameOrigin(proxyUrl, settings.gateway.url);
      if (!keyAllowed) {
        findings.push({
          severity: 'info',
          rule: 'proxy.key-withheld',
          where: proxyUrl,
          message: 'not the configured gateway: the master key is not sent (management API checks skipped)',
          fix: 'add --send-key to send it to this URL',
        });
      }
      findings.push(...(await doctorProxy(proxyUrl, keyAllowed ? masterKeyFrom(settings) : null, { namePrefix: settings.namePrefix })));
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
  });
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
      if (!url) {
        const message = 'no DATABASE_URL in this env file';
        return { url: null, problem: { severity: 'error', rule: 'db.no-url', where, message, fix: 'mcp-reconciler db init writes it' } };
      }
      return { url, problem: null };
    } catch (err) {
      const fix = 'a regular file, mode 600, owned by you';
      return { url: null, problem: { severity: 'error', rule: 'db.env-file', where, message: errorMessage(err), fix } };
    }
  }
  if (argUrl === undefined) return { url: null, problem: null };
  let hasPassword = false;
  try {
    hasPassword = new URL(argUrl).password !== '';
  } catch {
    const message = 'not a URL (postgres://user@host:5432/db)';
    return { url: null, problem: { severity: 'error', rule: 'db.url', where: '--db', message, fix: '' } };
  }
  const problem: Finding | null = hasPassword
    ? {
        severity: 'warning',
        rule: 'db.password-in-argv',
        where: '--db',
        message: 'the password is in the command line, readable in /proc by every local user',
        fix: 'use --db-env-file ~/projects/secrets/mcp-litellm.env, or PGPASSWORD with a URL without password',
      }
    : null;
  return { url: argUrl, problem };
}
