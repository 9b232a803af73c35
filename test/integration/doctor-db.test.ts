import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { REPO } from './harness.js';
import { startPostgres, type PgCluster } from './pg-cluster.js';
import { doctorDb } from '../../src/doctor/db.js';
import { PgAuditReader } from '../../src/check/audit-db.js';

/** The real LiteLLM 1.77.3 schema: the migration SQL shipped in litellm-proxy-extras 0.2.19 (in the venv). */
function migrationsDir(): string {
  const lib = join(REPO, '.cache/litellm-venv/lib');
  const py = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith('python3')) : undefined;
  const dir = py ? join(lib, py, 'site-packages/litellm_proxy_extras/migrations') : '';
  if (!dir || !existsSync(dir)) throw new Error('litellm-proxy-extras migrations not found: run scripts/setup.sh first');
  return dir;
}

describe('doctor --db against LiteLLM\'s real schema on a throwaway PostgreSQL 15 cluster', { timeout: 120_000 }, () => {
  const id = randomBytes(3).toString('hex');
  const withSchema = `t${id}_litellm`;
  const empty = `t${id}_empty`;
  let cluster: PgCluster;
  const url = (db: string) => cluster.url(db);
  const run = async (db: string, sql: string) => {
    const c = new pg.Client({ connectionString: url(db) });
    await c.connect();
    try {
      return await c.query(sql);
    } finally {
      await c.end();
    }
  };

  before(async () => {
    cluster = await startPostgres();
    await run('postgres', `create database ${withSchema}`);
    await run('postgres', `create database ${empty}`);
    const dir = migrationsDir();
    const steps = readdirSync(dir).filter((d) => existsSync(join(dir, d, 'migration.sql'))).sort();
    assert.ok(steps.length >= 30, `${steps.length} migrations`);
    for (const s of steps) await run(withSchema, readFileSync(join(dir, s, 'migration.sql'), 'utf8'));
  });
  after(async () => {
    await cluster?.stop();
  });

  test('schema present, no rows yet: a warning, exit 0, and the audit query runs on the real schema', async () => {
    const r = await doctorDb(url(withSchema));
    assert.deepEqual(r.findings.map((f) => `${f.severity} ${f.rule}`), ['warning db.no-audit-rows']);
    await run(withSchema, r.auditQuery); // the printed query is valid SQL against 1.77.3's schema
  });

  test('rows arrive: counted, MCP calls counted, and the audit query returns them', async () => {
    // Row 1 as the real proxy writes a tool call with a client key (fields observed in test/integration/api-mode.test.ts, keys.test.ts).
    await run(withSchema, 'insert into "LiteLLM_SpendLogs" ' +
      `(request_id, call_type, "startTime", "endTime", mcp_namespaced_tool_name, status, api_key, metadata)
      values ('r1', 'call_mcp_tool', now(), now(), 'mcp_postgresql/execute_sql', 'success', 'hashed',
              '{"user_api_key_alias": "mcp-reconciler/default/laptop", "mcp_tool_call_metadata": {"name": "execute_sql", ` +
      `"mcp_server_name": "mcp_postgresql", "namespaced_tool_name": "mcp_postgresql/execute_sql"}}'),
             ('r2', 'acompletion', now(), now(), null, 'success', 'hashed', '{}')`);
    const r = await doctorDb(url(withSchema));
    assert.equal(r.rows, 2);
    assert.match(r.findings[0]!.message, /has 2 rows \(1 MCP tool calls\)/);
    const audit = await run(withSchema, r.auditQuery);
    assert.deepEqual(
      audit.rows.map((x: { server: string; tool: string; mcp_namespaced_tool_name: string; key_alias: string }) =>
        `${x.server} ${x.tool} ${x.mcp_namespaced_tool_name} ${x.key_alias}`),
      ['mcp_postgresql execute_sql mcp_postgresql/execute_sql mcp-reconciler/default/laptop'],
    );
  });

  test('check\'s audit reader: the MCP rows since a time, read-only, on the real schema (rows from before are left out)', async () => {
    await run(withSchema, `insert into "LiteLLM_SpendLogs"
      (request_id, call_type, "startTime", "endTime", mcp_namespaced_tool_name, status, api_key, metadata)
      values ('old', 'call_mcp_tool', now() - interval '1 hour', now(), 'mcp_memory/read_graph', 'success', 'h', '{}')`);
    const reader = new PgAuditReader(url(withSchema));
    try {
      const rows = await reader.mcpToolCallsSince(new Date(Date.now() - 10 * 60_000), AbortSignal.timeout(10_000));
      const got = rows.map((r) => [r.namespacedTool, r.server, r.tool, r.apiKey, r.status]);
      assert.deepEqual(got, [['mcp_postgresql/execute_sql', 'mcp_postgresql', 'execute_sql', 'hashed', 'success']]);
      assert.ok(rows[0]!.startTime instanceof Date);
      assert.ok(reader.where.endsWith(`/${withSchema}`), reader.where);
    } finally {
      await reader.close();
    }
  });

  test('a database without the schema (or with a made-up litellm_logs table): error, CLI exit 1', async () => {
    await run(empty, 'create table litellm_logs (id int)');
    const r = spawnSync(process.execPath, [join(REPO, 'dist/src/main.js'), 'doctor', '--db', url(empty)], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stdout,
      /error \[db\.schema-missing\] LiteLLM's schema is not here .*a table litellm_logs exists, but LiteLLM 1\.77\.3 never writes it/,
    );
  });

  test('unreachable: error with the fix, password never printed', async () => {
    const r = await doctorDb('postgres://someone:hunter2@127.0.0.1:1/litellm');
    assert.equal(r.findings[0]?.rule, 'db.unreachable');
    assert.ok(!JSON.stringify(r.findings).includes('hunter2'));
  });
});
