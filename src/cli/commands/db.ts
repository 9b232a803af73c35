import type { Command } from 'commander';
import { basename, join, resolve } from 'node:path';
import { dbInit } from '../../db/init.js';
import { LockHeldError, lockPath } from '../../lock/instance-lock.js';
import { defineCommand, onRun, Exit } from '../command.js';
import { settingsFrom, takeLockAt, type GlobalOptions } from '../shared.js';

interface DbInitOptions extends GlobalOptions {
  adminUrl: string;
  secrets?: string;
  dbHost?: string;
  dbPort?: string;
  read?: string[];
  statementTimeout?: string;
  litellmRole?: string;
  litellmDb?: string;
  readonlyRole?: string;
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

export function register(program: Command): void {
  const db = defineCommand(program, 'db', "LiteLLM's database (subcommand: init)", {
    examples: ['init --admin-url postgres://admin@192.168.1.10:5432/postgres'],
    exits: [[Exit.Ok, 'done']],
  });
  const summary = "LiteLLM's role and database, a read-only role for mcp-postgresql; writes DATABASE_URL and DSN into the secrets files";
  const init = defineCommand(db, 'init', summary, {
    examples: [
      '--admin-url postgres://admin@192.168.1.10:5432/postgres',
      '--admin-url postgres://admin@db:5432/postgres --read app:public,reports --read metrics',
    ],
    exits: [[Exit.Ok, 'in place (nothing half done)'], [Exit.Error, 'error, or another db init holds the lock']],
  })
    .requiredOption('--admin-url <url>', 'an admin connection (password via PGPASSWORD or ~/.pgpass, not in the URL)')
    .option('--secrets <dir>', 'write the env files here instead of secretsDir')
    .option('--db-host <host>', 'host the containers reach the database by (default: the admin URL\'s)')
    .option('--db-port <port>', 'port the containers reach the database by')
    .option('--read <db:schema>', 'grant the read-only role this schema (repeatable)', collect)
    .option('--statement-timeout <duration>', "the read-only role's statement_timeout")
    .option('--litellm-role <name>', "LiteLLM's role name")
    .option('--litellm-db <name>', "LiteLLM's database name")
    .option('--readonly-role <name>', 'the read-only role name');
  onRun(init, async (_o: unknown, c: Command) => {
    const values = c.optsWithGlobals<DbInitOptions>();
    const settings = settingsFrom(values);
    const secrets = values.secrets ? resolve(values.secrets) : settings.secretsDir;
    const lock = takeLockAt(lockPath(secrets, settings.instance, 'db-init'), 'db init');
    if (lock instanceof LockHeldError) {
      process.stderr.write(`${lock.message}\n`);
      return Exit.Error;
    }
    const report = await dbInit({
      adminUrl: values.adminUrl,
      litellmEnvFile: values.secrets ? join(secrets, basename(settings.gateway.envFile)) : settings.gateway.envFile,
      readonlyEnvFile: join(secrets, `${settings.namePrefix}postgresql.env`),
      ...(values.dbHost ? { dbHost: values.dbHost } : {}),
      ...(values.dbPort ? { dbPort: Number(values.dbPort) } : {}),
      ...(values.read ? { read: values.read } : {}),
      ...(values.statementTimeout ? { statementTimeout: values.statementTimeout } : {}),
      ...(values.litellmRole ? { litellmRole: values.litellmRole } : {}),
      ...(values.litellmDb ? { litellmDatabase: values.litellmDb } : {}),
      ...(values.readonlyRole ? { readonlyRole: values.readonlyRole } : {}),
    }).finally(() => lock.release());
    for (const a of report.actions) process.stdout.write(`changed: ${a}\n`);
    for (const k of report.kept) process.stdout.write(`unchanged: ${k}\n`);
    for (const p of report.passwords) {
      const state = p.state === 'new' ? 'new, written' : 'unchanged';
      process.stdout.write(`password of role ${p.role}: ${state} in ${p.file} (${p.key}), nowhere else\n`);
    }
    if (report.actions.length === 0) process.stdout.write('nothing to do: everything was already in place\n');
    return Exit.Ok;
  });
}
