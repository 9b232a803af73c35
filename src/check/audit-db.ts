import pg from 'pg';
import { z } from 'zod';
import { dbWhere } from '../doctor/db.js';
import type { AuditReader, AuditRow } from './ports.js';

/**
 * MCP tool calls since a time in LiteLLM 1.77.3's own audit table, with the columns observed on
 * the real proxy (ADR 0008; the query `doctor --db` prints selects the same). The server is the prefix
 * of mcp_namespaced_tool_name: metadata.mcp_server_name is looked up from the bare tool name and can
 * name another server with a tool of that name (ADR 0015).
 */
export const MCP_CALLS_SINCE_SQL = `SELECT "mcp_namespaced_tool_name" AS namespaced,
       split_part("mcp_namespaced_tool_name", '/', 1) AS server,
       "metadata"->'mcp_tool_call_metadata'->>'name' AS tool,
       "api_key", "status", "startTime" AS start_time
  FROM "LiteLLM_SpendLogs"
 WHERE "call_type" = 'call_mcp_tool' AND "startTime" >= $1
 ORDER BY "startTime"`;

const Row = z.object({
  namespaced: z.string().nullable(),
  server: z.string().nullable(),
  tool: z.string().nullable(),
  api_key: z.string().nullable(),
  status: z.string().nullable(),
  start_time: z.date(),
});

/** Reads `"LiteLLM_SpendLogs"` through pg, one connection, read-only transactions. */
export class PgAuditReader implements AuditReader {
  readonly where: string;
  readonly #client: pg.Client;
  #connected: Promise<void> | null = null;

  constructor(url: string) {
    this.where = dbWhere(url);
    this.#client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, statement_timeout: 10_000 });
  }

  async mcpToolCallsSince(since: Date, signal: AbortSignal): Promise<AuditRow[]> {
    signal.throwIfAborted();
    this.#connected ??= this.#client.connect().then(() => undefined);
    await this.#connected;
    await this.#client.query('SET default_transaction_read_only = on');
    const r = await this.#client.query(MCP_CALLS_SINCE_SQL, [since]);
    return r.rows.map((raw) => {
      const x = Row.parse(raw);
      return { namespacedTool: x.namespaced, server: x.server, tool: x.tool, apiKey: x.api_key, status: x.status, startTime: x.start_time };
    });
  }

  async close(): Promise<void> {
    if (this.#connected) await this.#client.end();
  }
}
