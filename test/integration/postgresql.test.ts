import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync, readFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createStack, docker, waitFor, freePort, REPO, type Stack } from './harness.js';
import { dbInit, upsertEnv } from '../../src/db/init.js';
import { parseEnvFile } from '../../src/desired/env-file.js';
import { request } from 'undici';

/**
 * The user's first real server end to end: the shipped desired-state/mcp-postgresql.yaml (DBHub,
 * read-only TOML) against a real Postgres 15 container on a network the MCP joins, its DSN from
 * `db init`, queried through the real LiteLLM 1.77.3 — SELECT returns rows, writes are refused.
 */
describe('mcp-postgresql: DBHub through LiteLLM', { timeout: 300_000 }, () => {
  let stack: Stack;
  let pgPort = 0;
  const password = 'admin-secret-for-tests';
  const authToken = `dbhub-${Math.random().toString(16).slice(2)}`;
  let client: Client;
  const sql = async (q: string): Promise<{ success: boolean; error: string; text: string }> => {
    const r = await client.callTool({ name: 'mcp_postgresql-execute_sql', arguments: { sql: q } });
    const text = (r.content as { type: string; text: string }[])[0]?.text ?? '';
    const body = JSON.parse(text) as { success: boolean; error?: string };
    return { success: body.success && r.isError !== true, error: body.error ?? '', text };
  };
  /** The DSN db init wrote, pointed at the published port instead of the container name. */
  const directDsn = (): string =>
    (parseEnvFile(readFileSync(join(stack.settings.secretsDir, `${stack.id}-postgresql.env`), 'utf8'))['DSN'] ?? '')
      .replace(`${stack.id}-pgdb:5432`, `127.0.0.1:${pgPort}`);
  const admin = async (q: string): Promise<pg.QueryResult> => {
    const c = new pg.Client({ connectionString: `postgres://postgres:${password}@127.0.0.1:${pgPort}/app` });
    await c.connect();
    try {
      return await c.query(q);
    } finally {
      await c.end();
    }
  };

  before(async () => {
    stack = await createStack();
    const net = `${stack.id}-pg`;
    await docker.createNetwork({ Name: net, Driver: 'bridge' });
    pgPort = await freePort();
    const pgc = await docker.createContainer({
      name: `${stack.id}-pgdb`,
      Image: 'local/postgres:15',
      Env: [`POSTGRES_PASSWORD=${password}`],
      HostConfig: { NetworkMode: net, PortBindings: { '5432/tcp': [{ HostIp: '127.0.0.1', HostPort: String(pgPort) }] } },
      ExposedPorts: { '5432/tcp': {} },
    });
    await pgc.start();
    await waitFor('postgres accepting connections', async () => {
      const c = new pg.Client({ connectionString: `postgres://postgres:${password}@127.0.0.1:${pgPort}/postgres` });
      await c.connect();
      await c.query('create database app');
      await c.end();
      return true;
    }, 60_000, 250);
    await admin(`create table items (id int primary key, name text); insert into items values (1, 'alpha'), (2, 'beta')`);
    // db init: the DSN names the Postgres container as DBHub reaches it on the shared network.
    const report = await dbInit({
      adminUrl: `postgres://postgres:${password}@127.0.0.1:${pgPort}/app`,
      dbHost: `${stack.id}-pgdb`,
      dbPort: 5432,
      litellmEnvFile: join(mkdtempSync(join(tmpdir(), 'll-')), 'litellm.env'), // the gateway here runs without a database
      readonlyEnvFile: join(stack.settings.secretsDir, `${stack.id}-postgresql.env`),
      statementTimeout: '2s',
    });
    assert.ok(report.actions.some((a) => a.startsWith('created role mcp_postgresql_ro')));
    mkdirSync(join(stack.settings.projectsRoot, 'postgresql'), { recursive: true });
    copyFileSync(join(REPO, 'examples/projects/postgresql/dbhub.toml'), join(stack.settings.projectsRoot, 'postgresql', 'dbhub.toml'));
    // DBHub also requires a bearer token (DBHUB_AUTH_TOKEN), which LiteLLM must send: auth:.
    upsertEnv(join(stack.settings.secretsDir, `${stack.id}-postgresql.env`), 'DBHUB_AUTH_TOKEN', authToken);
    const example = readFileSync(join(REPO, 'desired-state/mcp-postgresql.yaml'), 'utf8');
    stack.writeDesired('postgresql', `${example}networks: [${net}]\nauth:\n  type: bearer_token\n  secret: DBHUB_AUTH_TOKEN\n`);
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed, []);
    await waitFor('execute_sql through LiteLLM', async () => {
      const r = await stack.gateway.listTools({ servers: ['mcp_postgresql'] });
      return r.ok && r.tools.includes('mcp_postgresql-execute_sql');
    }, 90_000, 500);
    client = new Client({ name: 'itest', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(stack.gateway.mcpUrl), {
      requestInit: { headers: { 'x-litellm-api-key': `Bearer ${stack.masterKey}` } },
    }));
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await stack?.cleanup();
    await docker.getNetwork(`${stack.id}-pg`).remove().catch(() => undefined);
  });

  test('SELECT through LiteLLM returns rows from the real database', async () => {
    const r = await sql('select id, name from items order by id');
    assert.equal(r.success, true, r.text);
    assert.match(r.text, /alpha/);
    assert.match(r.text, /beta/);
  });

  const hostile: [string, string, RegExp][] = [
    ['a write', `insert into items values (3, 'gamma')`, /read-only transaction/],
    ['COMMIT; DROP TABLE', 'commit; drop table items', /must be owner of table items|read-only transaction/],
    [
      'SET TRANSACTION READ WRITE then a write',
      `set transaction read write; insert into items values (3, 'gamma')`,
      /permission denied for table items/,
    ],
    ['a write hidden in a CTE', `with x as (insert into items values (3, 'gamma') returning *) select * from x`, /read-only transaction/],
    ['pg_read_file', `select pg_read_file('/etc/passwd')`, /permission denied for function pg_read_file/],
    ['COPY TO PROGRAM', `copy (select 1) to program 'id'`, /pg_execute_server_program/],
  ];
  // Through LiteLLM, DBHub's read-only mode answers first (measured: all six stop there), with its own
  // refusal: any other failure (a broken gateway, a missing tool, a Postgres error) does not pass.
  for (const [what, q] of hostile) {
    test(`refused through LiteLLM by DBHub's read-only mode: ${what}`, async () => {
      const r = await sql(q);
      assert.equal(r.success, false, r.text);
      assert.match(r.error, /^Read-only mode is enabled\. Only the following SQL operations are allowed: /);
      assert.match(r.text, /"code": "READONLY_VIOLATION"/);
    });
  }

  // A statement DBHub lets through reaches Postgres, whose role settings stop it.
  test('refused by Postgres through LiteLLM: a 10-minute query (statement_timeout on the role)', async () => {
    const r = await sql('select pg_sleep(600)');
    assert.equal(r.success, false, r.text);
    assert.match(r.error, /canceling statement due to statement timeout/);
  });

  // The same statements with DBHub out of the way: the DSN's own role, password-authenticated,
  // straight to Postgres. The refusals come from the grants, not only from DBHub.
  for (const [what, q, err] of hostile) {
    test(`refused by the grants, DSN role direct: ${what}`, async () => {
      const c = new pg.Client({ connectionString: directDsn() });
      await c.connect();
      try {
        await assert.rejects(c.query(q), err);
      } finally {
        await c.end();
      }
    });
  }

  test('auth: DBHub refuses a call without the token; LiteLLM sends it (config mode), the token is in no file we write', async () => {
    const c = (await stack.containers()).find((x) => x.Names[0] === `/${stack.id}-postgresql`)!;
    const port = c.Ports.find((p) => p.PrivatePort === 8080)!.PublicPort;
    const r = await request(`http://127.0.0.1:${port}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    await r.body.dump();
    assert.equal(r.statusCode, 401);
    const config = readFileSync(stack.settings.gateway.configPath, 'utf8');
    assert.match(config, /auth_type: bearer_token\n\s+authentication_token: os\.environ\/MCP_AUTH_POSTGRESQL/);
    assert.ok(!config.includes(authToken));
    const labels = JSON.stringify((await stack.containers()).map((x) => x.Labels));
    assert.ok(!labels.includes(authToken), 'not in any label');
  });

  test('the data is unchanged; the role needs its password', async () => {
    const rows = await admin('select id, name from items order by id');
    assert.deepEqual(rows.rows, [{ id: 1, name: 'alpha' }, { id: 2, name: 'beta' }]);
    const wrong = new pg.Client({ connectionString: directDsn().replace(/:[0-9a-f]{48}@/, ':wrong@') });
    await assert.rejects(wrong.connect(), /password authentication failed/);
  });
});
