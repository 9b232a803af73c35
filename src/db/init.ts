import { existsSync, readFileSync, chmodSync, chownSync, statSync, unlinkSync } from 'node:fs';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import { ReconcilerError, ErrorCode, errorMessage } from '../errors/index.js';
import { parseEnvFile } from '../desired/env-file.js';

const ident = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lowercase SQL identifier');

/** `db init` options (zod: the CLI's strings are external input). */
export const DbInitSchema = z.object({
  adminUrl: z.string().url(),
  litellmEnvFile: z.string(),
  readonlyEnvFile: z.string(),
  /** Host and port written into the URLs the containers use (default: the admin URL's). */
  dbHost: z.string().optional(),
  dbPort: z.number().int().optional(),
  litellmRole: ident.default('litellm'),
  litellmDatabase: ident.default('litellm'),
  readonlyRole: ident.default('mcp_postgresql_ro'),
  /** `db` or `db:schema1,schema2`; default: the admin URL's database, schema public. */
  read: z.array(z.string().regex(/^[a-z_][a-z0-9_]*(:[a-z_][a-z0-9_]*(,[a-z_][a-z0-9_]*)*)?$/)).default([]),
  statementTimeout: z.string().regex(/^\d+(ms|s|min)?$/).default('30s'),
  sslmode: z.enum(['disable', 'require']).default('disable'),
});
export type DbInitOptions = z.input<typeof DbInitSchema>;

export interface DbInitReport {
  actions: string[];
  kept: string[];
  files: string[];
  /** Where each role's password is (never the password itself). */
  passwords: { role: string; file: string; key: string; state: 'new' | 'kept' }[];
}

const SERVER_FILE_ROLES = [
  'pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program', 'pg_read_all_data', 'pg_write_all_data',
];

function password(): string {
  return randomBytes(24).toString('hex');
}

function quoteLiteral(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** Set KEY=value in an env file, keeping every other line; mode 600. Returns whether it changed. */
export function upsertEnv(path: string, key: string, value: string): boolean {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const lines = text.split('\n').filter((l, i, a) => !(i === a.length - 1 && l === ''));
  const at = lines.findIndex((l) => new RegExp(`^(export\\s+)?${key}=`).test(l.trim()));
  const line = `${key}=${value}`;
  if (at >= 0 && lines[at] === line) {
    chmodSync(path, 0o600);
    return false;
  }
  if (at >= 0) lines[at] = line;
  else lines.push(line);
  // Atomic: the daemon (or LiteLLM) reading it meanwhile sees the old or the new file, never half.
  writeFileAtomic(path, `${lines.join('\n')}\n`, { newMode: 0o600, dirMode: 0o700 });
  chmodSync(path, 0o600);
  // Run as root (sudo) for a user's secrets dir: the file belongs to the dir's owner.
  if (process.getuid?.() === 0) {
    const d = statSync(dirname(path));
    chownSync(path, d.uid, d.gid);
  }
  return true;
}

/** Password in an existing URL-valued env var (so a second run reuses it). */
function existingPassword(file: string, key: string, role: string): string | null {
  if (!existsSync(file)) return null;
  const v = parseEnvFile(readFileSync(file, 'utf8'))[key];
  if (!v) return null;
  try {
    const u = new URL(v);
    return decodeURIComponent(u.username) === role && u.password ? decodeURIComponent(u.password) : null;
  } catch {
    return null;
  }
}

/**
 * Idempotently create LiteLLM's role and database (CONNECT revoked from PUBLIC) and a read-only
 * role for mcp-postgresql (no superuser, none of the server-file roles, SELECT per schema,
 * read-only default transactions and a statement timeout), then write DATABASE_URL and DSN into
 * the secrets files (mode 600). Cluster-level changes run in one transaction; CREATE DATABASE
 * cannot, so it runs after them, and per-database grants each in their own transaction.
 * Secrets never appear in the report.
 */
export async function dbInit(input: DbInitOptions): Promise<DbInitReport> {
  const o = DbInitSchema.parse(input);
  const admin = new URL(o.adminUrl);
  const adminDb = decodeURIComponent(admin.pathname.slice(1)) || 'postgres';
  const host = o.dbHost ?? admin.hostname;
  const port = o.dbPort ?? (Number(admin.port) || 5432);
  const targets = (o.read.length ? o.read : [adminDb]).map((r) => {
    const [db, schemas] = r.split(':') as [string, string | undefined];
    return { db, schemas: schemas ? schemas.split(',') : ['public'] };
  });
  if (targets.some((t) => t.db === o.litellmDatabase)) {
    throw new ReconcilerError(ErrorCode.SettingsInvalid, `the read-only role must not read LiteLLM's database "${o.litellmDatabase}"`);
  }
  const report: DbInitReport = { actions: [], kept: [], files: [], passwords: [] };
  // All or nothing: what this run created is undone (newest first) when a later step fails.
  const undo: { what: string; run: () => Promise<void> }[] = [];
  const connect = async (database: string): Promise<pg.Client> => {
    const u = new URL(o.adminUrl);
    u.pathname = `/${database}`;
    const c = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 10_000 });
    try {
      await c.connect();
    } catch (err) {
      throw new ReconcilerError(
        ErrorCode.SettingsInvalid,
        `cannot connect to ${u.host}/${database} as ${decodeURIComponent(u.username) || '(default user)'}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    return c;
  };

  /** One statement on the admin database, on its own connection (compensation runs after failures). */
  const adminSql = async (sql: string, database = adminDb): Promise<void> => {
    const a = await connect(database);
    try {
      await a.query(sql);
    } finally {
      await a.end().catch(() => undefined);
    }
  };
  /** Drop a role this run created: its grants in every database it got any, then the role. */
  const dropRole = async (role: string): Promise<void> => {
    for (const db of [...new Set([adminDb, ...targets.map((t) => t.db)])]) {
      await adminSql(`drop owned by ${role}`, db).catch(() => undefined);
    }
    await adminSql(`drop role if exists ${role}`);
  };

  try {
    let llPassword = '';
    let llKept = false;
    let roKept = false;
    const created: string[] = [];
    let roPassword = '';
    const c = await connect(adminDb);
    try {
      const me = await c.query<{ rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean; rolname: string }>(
        'select rolname, rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user',
      );
      const r = me.rows[0];
      if (!r || !(r.rolsuper || (r.rolcreaterole && r.rolcreatedb))) {
        throw new ReconcilerError(
          ErrorCode.SettingsInvalid,
          `${r?.rolname ?? 'this user'} needs SUPERUSER, or CREATEROLE and CREATEDB, to run db init; nothing was changed`,
        );
      }
      const roleExists = async (name: string): Promise<boolean> =>
        (await c.query('select 1 from pg_roles where rolname = $1', [name])).rowCount === 1;

      const llPw = existingPassword(o.litellmEnvFile, 'DATABASE_URL', o.litellmRole);
      const roPw = existingPassword(o.readonlyEnvFile, 'DSN', o.readonlyRole);
      const llExists = await roleExists(o.litellmRole);
      const roExists = await roleExists(o.readonlyRole);
      llPassword = llPw ?? password();
      roPassword = roPw ?? password();
      llKept = llPw !== null && llExists;
      roKept = roPw !== null && roExists;

      await c.query('begin');
      try {
        const ensureRole = async (role: string, exists: boolean, onFile: string | null, pw: string, extra: string): Promise<void> => {
          const attrs = `login nosuperuser nocreatedb nocreaterole noreplication nobypassrls ${extra}`;
          if (!exists) {
            await c.query(`create role ${role} ${attrs} password ${quoteLiteral(pw)}`);
            report.actions.push(`created role ${role}`);
            created.push(role);
            return;
          }
          if (!onFile) {
            await c.query(`alter role ${role} password ${quoteLiteral(pw)}`);
            report.actions.push(`set a new password for ${role} (none was on file)`);
          } else report.kept.push(`role ${role}`);
          await c.query(`alter role ${role} ${attrs}`);
        };
        await ensureRole(o.litellmRole, llExists, llPw, llPassword, 'connection limit 20');
        await ensureRole(o.readonlyRole, roExists, roPw, roPassword, 'noinherit connection limit 10');
        // Defence in depth: read-only transactions by default and a statement timeout, on the role.
        await c.query(`alter role ${o.readonlyRole} set default_transaction_read_only = on`);
        await c.query(`alter role ${o.readonlyRole} set statement_timeout = ${quoteLiteral(o.statementTimeout)}`);
        await c.query(`alter role ${o.readonlyRole} set idle_in_transaction_session_timeout = '60s'`);
        const granted = await c.query<{ rolname: string }>(
          `select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.roleid ` +
            `join pg_roles u on u.oid = m.member where u.rolname = $1 and r.rolname = any($2)`,
          [o.readonlyRole, SERVER_FILE_ROLES],
        );
        for (const g of granted.rows) {
          await c.query(`revoke ${g.rolname} from ${o.readonlyRole}`);
          report.actions.push(`revoked ${g.rolname} from ${o.readonlyRole}`);
        }
        await c.query('commit');
      } catch (err) {
        await c.query('rollback').catch(() => undefined);
        throw err;
      }
      // Roles exist from here on: a later failure drops the ones this run created (with their grants).
      for (const role of created) undo.push({ what: `dropped role ${role}`, run: () => dropRole(role) });

      const dbExists = (await c.query('select 1 from pg_database where datname = $1', [o.litellmDatabase])).rowCount === 1;
      if (!dbExists) {
        // CREATE DATABASE cannot run in a transaction: compensated by DROP DATABASE on a later failure.
        await c.query(`create database ${o.litellmDatabase} owner ${o.litellmRole}`);
        report.actions.push(`created database ${o.litellmDatabase}`);
        undo.push({ what: `dropped database ${o.litellmDatabase}`, run: () => adminSql(`drop database if exists ${o.litellmDatabase}`) });
      } else report.kept.push(`database ${o.litellmDatabase}`);
      await c.query('begin');
      try {
        await c.query(`revoke connect, temporary on database ${o.litellmDatabase} from public`);
        await c.query(`grant connect on database ${o.litellmDatabase} to ${o.litellmRole}`);
        for (const t of targets) await c.query(`grant connect on database ${t.db} to ${o.readonlyRole}`);
        await c.query('commit');
      } catch (err) {
        await c.query('rollback').catch(() => undefined);
        throw err;
      }
    } finally {
      await c.end();
    }

    for (const t of targets) {
      const d = await connect(t.db);
      const fingerprint = async (): Promise<string> =>
        (
          await d.query<{ f: string }>(
            `select coalesce(string_agg(x, ';' order by x), '') as f from (
               select c.oid::regclass::text || '=' || coalesce(c.relacl::text, '') as x
                 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where n.nspname = any($1) and c.relkind in ('r', 'v', 'm', 'p', 'f')
               union all select 'ns:' || nspname || '=' || coalesce(nspacl::text, '') from pg_namespace where nspname = any($1)
               union all select 'def:' || n.nspname || '=' || coalesce(defaclacl::text, '')
                 from pg_default_acl a join pg_namespace n on n.oid = a.defaclnamespace where n.nspname = any($1)
             ) t`,
            [t.schemas],
          )
        ).rows[0]?.f ?? '';
      try {
        const before = await fingerprint();
        await d.query('begin');
        for (const s of t.schemas) {
          await d.query(`grant usage on schema ${s} to ${o.readonlyRole}`);
          await d.query(`grant select on all tables in schema ${s} to ${o.readonlyRole}`);
          await d.query(`alter default privileges in schema ${s} grant select on tables to ${o.readonlyRole}`);
        }
        await d.query('commit');
        if ((await fingerprint()) === before) report.kept.push(`SELECT on ${t.db}: ${t.schemas.join(', ')}`);
        else report.actions.push(`granted SELECT on ${t.db}: ${t.schemas.join(', ')} to ${o.readonlyRole}`);
      } catch (err) {
        await d.query('rollback').catch(() => undefined);
        throw new ReconcilerError(ErrorCode.SettingsInvalid, `grants on ${t.db} failed: ${errorMessage(err)}`, { cause: err });
      } finally {
        await d.end();
      }
    }

    const urlFor = (role: string, pw: string, db: string): string =>
      `postgresql://${role}:${encodeURIComponent(pw)}@${host}:${port}/${db}?sslmode=${o.sslmode}`;
    const writeEnv = (file: string, key: string, value: string): void => {
      const before = existsSync(file) ? readFileSync(file, 'utf8') : null;
      if (upsertEnv(file, key, value)) {
        report.actions.push(`wrote ${key} into ${file}`);
        undo.push({
          what: before === null ? `removed ${file}` : `restored ${file}`,
          run: async () => (before === null ? unlinkSync(file) : writeFileAtomic(file, before, { newMode: 0o600 })),
        });
      } else report.kept.push(file);
    };
    writeEnv(o.litellmEnvFile, 'DATABASE_URL', urlFor(o.litellmRole, llPassword, o.litellmDatabase));
    writeEnv(o.readonlyEnvFile, 'DSN', urlFor(o.readonlyRole, roPassword, targets[0]!.db));
    report.passwords.push(
      { role: o.litellmRole, file: o.litellmEnvFile, key: 'DATABASE_URL', state: llKept ? 'kept' : 'new' },
      { role: o.readonlyRole, file: o.readonlyEnvFile, key: 'DSN', state: roKept ? 'kept' : 'new' },
    );
  } catch (err) {
    const undone: string[] = [];
    const failedUndo: string[] = [];
    for (const u of undo.reverse()) {
      try {
        await u.run();
        undone.push(u.what);
      } catch (e) {
        failedUndo.push(`${u.what}: ${errorMessage(e)}`);
      }
    }
    const changedPw = report.actions.filter((a) => a.startsWith('set a new password'));
    throw new ReconcilerError(
      ErrorCode.SettingsInvalid,
      `db init failed: ${errorMessage(err)}; ` +
        (undone.length ? `undone: ${undone.join(', ')}` : 'nothing needed undoing') +
        (failedUndo.length ? `; COULD NOT undo: ${failedUndo.join('; ')}` : '') +
        (changedPw.length ? `; ${changedPw.join(', ')} cannot be undone: run db init again to write it` : ''),
      { cause: err },
    );
  }
  report.files.push(o.litellmEnvFile, o.readonlyEnvFile);
  return report;
}
