import pg from 'pg';
import { errorMessage } from '../errors/index.js';
import type { Finding } from './findings.js';

/**
 * The audit query for MCP tool calls in LiteLLM 1.77.3's own table (there is no `litellm_logs`), as
 * observed on the real proxy (test/integration/api-mode.test.ts): a tool call through `/mcp/` writes
 * one row with `call_type` 'call_mcp_tool', `mcp_namespaced_tool_name` '<server>/<tool>' (the server
 * is taken from there), the tool also in `metadata.mcp_tool_call_metadata` (`name`, `arguments`).
 * Not `metadata.mcp_tool_call_metadata.mcp_server_name`: LiteLLM fills it from the bare tool name through
 * a global name -> server map, so when two servers have a tool `whoami` it can name the other one (observed).
 * `api_key` = the sha256 of the key used (joinable with "LiteLLM_VerificationToken".token) and
 * `metadata.user_api_key_alias` = that key's alias: `mcp-reconciler/<instance>/<client>` for a key of
 * `keys create` (test/integration/keys.test.ts), null for the master key. Rows are written in batches (every ~10 s).
 */
export const AUDIT_QUERY = `SELECT "startTime", "call_type", "mcp_namespaced_tool_name",
       split_part("mcp_namespaced_tool_name", '/', 1) AS server,
       "metadata"->'mcp_tool_call_metadata'->>'name' AS tool,
       "metadata"->>'user_api_key_alias' AS key_alias,
       "status", "api_key", "user", "team_id", "requester_ip_address", "request_id"
  FROM "LiteLLM_SpendLogs"
 WHERE "call_type" = 'call_mcp_tool'
 ORDER BY "startTime" DESC
 LIMIT 50;`;

/** A database URL without its password, for messages. */
export function dbWhere(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
}

const TABLES = ['LiteLLM_SpendLogs', 'LiteLLM_VerificationToken', 'LiteLLM_MCPServerTable'];

/** `doctor --db URL`: LiteLLM's schema exists and its audit table gets rows. Never prints the password. */
export async function doctorDb(url: string): Promise<{ findings: Finding[]; auditQuery: string; rows: number | null }> {
  const where = dbWhere(url);
  const findings: Finding[] = [];
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await c.connect();
  } catch (err) {
    findings.push({
      severity: 'error',
      rule: 'db.unreachable',
      where,
      message: `cannot connect: ${errorMessage(err)}`,
      fix: 'check the URL (DATABASE_URL in mcp-litellm.env) and that Postgres accepts this user',
    });
    return { findings, auditQuery: AUDIT_QUERY, rows: null };
  }
  try {
    const present = await c.query<{ t: string; ok: string | null }>(
      `select t, to_regclass(format('%I', t))::text as ok from unnest($1::text[]) as t`,
      [TABLES],
    );
    const missing = present.rows.filter((r) => r.ok === null).map((r) => r.t);
    if (missing.includes('LiteLLM_SpendLogs')) {
      const wrong = await c.query<{ ok: string | null }>(`select to_regclass('litellm_logs')::text as ok`);
      findings.push({
        severity: 'error',
        rule: 'db.schema-missing',
        where,
        message: `LiteLLM's schema is not here (missing ${missing.map((m) => `"${m}"`).join(', ')})` +
          `${wrong.rows[0]?.ok ? '; a table litellm_logs exists, but LiteLLM 1.77.3 never writes it' : ''}`,
        fix: 'point LiteLLM at this database (DATABASE_URL in mcp-litellm.env, litellm-database image) ' +
          'and let it start once; it applies its own migrations',
      });
      return { findings, auditQuery: AUDIT_QUERY, rows: null };
    }
    for (const m of missing) {
      findings.push({
        severity: 'warning',
        rule: 'db.table-missing',
        where,
        message: `table "${m}" is missing: an older or partial LiteLLM schema`,
        fix: 'start LiteLLM 1.77.3 once against this database to apply its migrations',
      });
    }
    const cols = await c.query<{ column_name: string }>(
      `select column_name from information_schema.columns where table_name = 'LiteLLM_SpendLogs'`,
    );
    if (!cols.rows.some((r) => r.column_name === 'mcp_namespaced_tool_name')) {
      findings.push({
        severity: 'warning',
        rule: 'db.schema-old',
        where,
        message: '"LiteLLM_SpendLogs" has no mcp_namespaced_tool_name column: the schema predates MCP logging',
        fix: 'run LiteLLM 1.77.3 once against it',
      });
    }
    const stats = await c.query<{ n: string; mcp: string; last: Date | null }>(
      `select count(*) as n, count(*) filter (where "call_type" = 'call_mcp_tool') as mcp, ` +
        `max("startTime") as last from "LiteLLM_SpendLogs"`,
    );
    const n = Number(stats.rows[0]?.n ?? 0);
    const mcp = Number(stats.rows[0]?.mcp ?? 0);
    if (n === 0) {
      findings.push({
        severity: 'warning',
        rule: 'db.no-audit-rows',
        where,
        message: '"LiteLLM_SpendLogs" has no rows yet',
        fix: 'make one tool call through the gateway with a virtual key; LiteLLM writes spend logs in batches, so allow a minute',
      });
    } else {
      findings.push({
        severity: 'info',
        rule: 'db.audit-rows',
        where,
        message: `"LiteLLM_SpendLogs" has ${n} rows (${mcp} MCP tool calls), the latest at ${stats.rows[0]?.last?.toISOString() ?? '?'}`,
        fix: '',
      });
    }
    return { findings, auditQuery: AUDIT_QUERY, rows: n };
  } finally {
    await c.end().catch(() => undefined);
  }
}
