import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { REPO } from './harness.js';
import { startPostgres, type PgCluster } from './pg-cluster.js';
import { dbInit } from '../../src/db/init.js';

/**
 * `db init` against a real PostgreSQL 15: a throwaway cluster of this file's own (pg-cluster.ts; trust auth
 * there, so the grants and role settings are what refuse; passwords are checked in the container test).
 */
describe('db init (a throwaway PostgreSQL 15 cluster)', { timeout: 120_000 }, () => {
  const id = randomBytes(3).toString('hex');
  const n = { data: `t${id}_data`, ll: `t${id}_litellm`, llDb: `t${id}_litellm`, ro: `t${id}_ro` };
  const dir = mkdtempSync(join(tmpdir(), 'dbinit-'));
  let cluster: PgCluster;
  const admin = (db = 'postgres') => cluster.url(db);
  const opts = () => ({
    adminUrl: admin(n.data),
    litellmEnvFile: join(dir, 'mcp-litellm.env'),
    readonlyEnvFile: join(dir, 'mcp-postgresql.env'),
    litellmRole: n.ll,
    litellmDatabase: n.llDb,
    readonlyRole: n.ro,
    statementTimeout: '1s',
  });
  const as = async (user: string, db: string, sql: string): Promise<{ ok: boolean; error: string; rows: unknown[] }> => {
    const c = new pg.Client({ connectionString: cluster.url(db, user) });
    try {
      await c.connect();
      const r = await c.query(sql);
      const last = Array.isArray(r) ? r[r.length - 1] : r;
      return { ok: true, error: '', rows: (last as pg.QueryResult).rows ?? [] };
    } catch (err) {
      return { ok: false, error: (err as Error).message, rows: [] };
    } finally {
      await c.end().catch(() => undefined);
    }
  };

  before(async () => {
    cluster = await startPostgres();
    const c = new pg.Client({ connectionString: admin() });
    await c.connect();
    await c.query(`create database ${n.data}`);
    await c.end();
    const d = new pg.Client({ connectionString: admin(n.data) });
    await d.connect();
    await d.query(`create table items (id int primary key, name text); insert into items values (1, 'a'), (2, 'b')`);
    await d.end();
  });
  after(async () => {
    await cluster?.stop(); // the cluster, its roles and databases are gone with it
    rmSync(dir, { recursive: true, force: true });
  });

  test('creates the roles, the database and the secrets (mode 600); twice changes nothing', async () => {
    const first = await dbInit(opts());
    assert.ok(first.actions.includes(`created role ${n.ll}`));
    assert.ok(first.actions.includes(`created database ${n.llDb}`));
    const ll = readFileSync(join(dir, 'mcp-litellm.env'), 'utf8');
    const ro = readFileSync(join(dir, 'mcp-postgresql.env'), 'utf8');
    assert.match(ll, new RegExp(
      `^DATABASE_URL=postgresql://${n.ll}:[0-9a-f]{48}@127\\.0\\.0\\.1:${cluster.port}/${n.llDb}\\?sslmode=disable\\n$`,
    ));
    assert.match(ro, new RegExp(`^DSN=postgresql://${n.ro}:[0-9a-f]{48}@127\\.0\\.0\\.1:${cluster.port}/${n.data}\\?sslmode=disable\\n$`));
    assert.equal(statSync(join(dir, 'mcp-litellm.env')).mode & 0o777, 0o600);
    const second = await dbInit(opts());
    assert.deepEqual(second.actions, []);
    assert.equal(readFileSync(join(dir, 'mcp-litellm.env'), 'utf8'), ll);
    assert.equal(readFileSync(join(dir, 'mcp-postgresql.env'), 'utf8'), ro);
  });

  test('the read-only role: attributes as designed', async () => {
    const r = await as('postgres', 'postgres',
      `select rolsuper, rolcreatedb, rolcreaterole, rolconnlimit, rolconfig from pg_roles where rolname = '${n.ro}'`);
    const row = r.rows[0] as { rolsuper: boolean; rolcreatedb: boolean; rolconfig: string[]; rolconnlimit: number };
    assert.equal(row.rolsuper, false);
    assert.equal(row.rolcreatedb, false);
    assert.ok(row.rolconfig.includes('default_transaction_read_only=on'));
    assert.ok(row.rolconfig.includes('statement_timeout=1s'));
    const member = await as('postgres', 'postgres',
      `select count(*)::int as n from pg_auth_members m join pg_roles u on u.oid = m.member where u.rolname = '${n.ro}'`);
    assert.equal((member.rows[0] as { n: number }).n, 0, 'member of no role (pg_read_all_data, server files, ...)');
  });

  const refusals: [string, string, RegExp][] = [
    ['a write', `insert into items values (3, 'c')`, /read-only transaction/],
    ['COMMIT; DROP TABLE', 'commit; drop table items', /must be owner of table items|read-only transaction/],
    [
      'SET TRANSACTION READ WRITE then a write (refused by the grants)',
      `set transaction read write; insert into items values (3, 'c')`,
      /permission denied for table items/,
    ],
    ['pg_read_file', `select pg_read_file('/etc/passwd')`, /permission denied for function pg_read_file/],
    ['COPY ... TO PROGRAM', `copy (select 1) to program 'id'`, /pg_execute_server_program/],
    ['a 10-minute query', 'select pg_sleep(600)', /canceling statement due to statement timeout/],
  ];
  for (const [what, sql, err] of refusals) {
    test(`refused: ${what}`, async () => {
      const r = await as(n.ro, n.data, sql);
      assert.equal(r.ok, false, `${sql} must fail`);
      assert.match(r.error, err);
    });
  }

  test("refused: reading LiteLLM's database (CONNECT revoked from PUBLIC)", async () => {
    const r = await as(n.ro, n.llDb, 'select 1');
    assert.match(r.error, /permission denied for database/);
  });

  test('allowed: SELECT; and the data is unchanged after all of the above', async () => {
    const r = await as(n.ro, n.data, 'select id, name from items order by id');
    assert.deepEqual(r.rows, [{ id: 1, name: 'a' }, { id: 2, name: 'b' }]);
    const t = await as('postgres', n.data, `select count(*)::int as n from pg_tables where tablename = 'items'`);
    assert.equal((t.rows[0] as { n: number }).n, 1);
  });

  test('a wrong admin URL or missing rights: a clear error and nothing done (CLI exit 1)', async () => {
    const cli = (url: string) =>
      spawnSync(process.execPath, [
        join(REPO, 'dist/src/main.js'), 'db', 'init', '--admin-url', url, '--secrets', join(dir, 'x'), '--readonly-role', `t${id}_never`,
      ], { encoding: 'utf8' });
    const bad = cli('postgres://postgres@127.0.0.1:1/postgres');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /cannot connect to 127\.0\.0\.1:1\/postgres as postgres/);
    const weak = cli(cluster.url(n.data, n.ro));
    assert.equal(weak.status, 1);
    assert.match(weak.stderr, /needs SUPERUSER, or CREATEROLE and CREATEDB, to run db init; nothing was changed/);
    const r = await as('postgres', 'postgres', `select count(*)::int as n from pg_roles where rolname = 't${id}_never'`);
    assert.equal((r.rows[0] as { n: number }).n, 0);
  });

  test('all or nothing: a failure after the roles and the database were created undoes them, and no file is written', async () => {
    const m = { ll: `t${id}_ll2`, llDb: `t${id}_ll2db`, ro: `t${id}_ro2` };
    const d2 = mkdtempSync(join(tmpdir(), 'dbinit-undo-'));
    const files = { litellmEnvFile: join(d2, 'mcp-litellm.env'), readonlyEnvFile: join(d2, 'mcp-postgresql.env') };
    // A database that does not exist to read from: its GRANT fails after CREATE ROLE and CREATE DATABASE.
    await assert.rejects(
      dbInit({ ...opts(), ...files, litellmRole: m.ll, litellmDatabase: m.llDb, readonlyRole: m.ro, read: [`t${id}_nosuchdb`] }),
      (err: Error) =>
        /db init failed: .*nosuchdb/.test(err.message) &&
        err.message.includes(`dropped database ${m.llDb}`) &&
        err.message.includes(`dropped role ${m.ro}`) &&
        err.message.includes(`dropped role ${m.ll}`) &&
        !/COULD NOT/.test(err.message),
    );
    const roles = await as('postgres', 'postgres', `select count(*)::int as n from pg_roles where rolname in ('${m.ll}', '${m.ro}')`);
    assert.equal((roles.rows[0] as { n: number }).n, 0, 'no role left behind');
    const dbs = await as('postgres', 'postgres', `select count(*)::int as n from pg_database where datname = '${m.llDb}'`);
    assert.equal((dbs.rows[0] as { n: number }).n, 0, 'no database left behind');
    assert.equal(existsSync(files.litellmEnvFile), false);
    assert.equal(existsSync(files.readonlyEnvFile), false);
    rmSync(d2, { recursive: true, force: true });
  });

  test('all or nothing: the second secrets file cannot be written -> the first is restored byte for byte, roles dropped', async () => {
    const m = { ll: `t${id}_ll3`, llDb: `t${id}_ll3db`, ro: `t${id}_ro3` };
    const d3 = mkdtempSync(join(tmpdir(), 'dbinit-undo-'));
    const ll = join(d3, 'mcp-litellm.env');
    writeFileSync(ll, 'LITELLM_MASTER_KEY=sk-keep\n# a comment\n', { mode: 0o600 });
    writeFileSync(join(d3, 'not-a-dir'), '');
    await assert.rejects(
      dbInit({
        ...opts(), litellmEnvFile: ll, readonlyEnvFile: join(d3, 'not-a-dir', 'mcp-postgresql.env'),
        litellmRole: m.ll, litellmDatabase: m.llDb, readonlyRole: m.ro,
      }),
      (err: Error) => err.message.includes(`restored ${ll}`) && err.message.includes(`dropped role ${m.ll}`),
    );
    assert.equal(readFileSync(ll, 'utf8'), 'LITELLM_MASTER_KEY=sk-keep\n# a comment\n');
    const roles = await as('postgres', 'postgres', `select count(*)::int as n from pg_roles where rolname in ('${m.ll}', '${m.ro}')`);
    assert.equal((roles.rows[0] as { n: number }).n, 0);
    rmSync(d3, { recursive: true, force: true });
  });

  test('says where each password went', async () => {
    const r = await dbInit(opts());
    assert.deepEqual(r.passwords, [
      { role: n.ll, file: join(dir, 'mcp-litellm.env'), key: 'DATABASE_URL', state: 'kept' },
      { role: n.ro, file: join(dir, 'mcp-postgresql.env'), key: 'DSN', state: 'kept' },
    ]);
  });
});
