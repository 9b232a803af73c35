/**
 * Contract server for LiteLLM 1.77.3's MCP management API — what database mode does, where it
 * cannot run here (Prisma engines are downloaded at start from an unreachable host). One file;
 * every rule cites where it comes from:
 *   [F] ../shared/facts/litellm-v1.77.3.md, section "Management API"
 *   [S] litellm 1.77.3 source, proxy/management_endpoints/mcp_management_endpoints.py (MME) and
 *       proxy/_experimental/mcp_server/mcp_server_manager.py (MSM), line numbers at the tag.
 * Parity with the real proxy (no database) is tested in test/integration/slice.test.ts.
 */
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';

export interface ContractRow {
  server_id: string;
  server_name: string | null;
  alias: string | null;
  description: string | null;
  url: string | null;
  transport: string;
  auth_type: string | null;
  mcp_access_groups: string[];
  mcp_info: Record<string, unknown>;
  command: string | null;
  args: string[];
  env: Record<string, string>;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
  teams: unknown[];
  status: 'healthy' | 'unhealthy' | 'unknown';
  last_health_check: string | null;
  health_check_error: string | null;
}

export interface ContractOptions {
  masterKey: string;
  /** Number of proxy workers, each with its own in-memory registry [F: "one worker that handled it"]. */
  workers?: number;
  /** Whether a database is connected. */
  database?: boolean;
  /** general_settings.store_model_in_db: the 10 s poll adds DB servers to every worker [F]. */
  storeModelInDb?: boolean;
  /** Servers from config.yaml: in every worker's memory from start-up [F: "read once at start-up"]. */
  config?: { name: string; url: string; transport: 'http' | 'sse' }[];
}

const NO_DB = { detail: { error: 'Database not connected. Connect a database to your proxy' } }; // [S MME:378]

export class LiteLLMContractServer {
  readonly server: Server;
  readonly db = new Map<string, ContractRow>();
  /** Per worker: server ids in memory (config ids and DB ids it has seen). */
  readonly memory: Map<string, { name: string }>[];
  database: boolean;
  #next = 0;
  readonly #o: Required<ContractOptions>;

  constructor(o: ContractOptions) {
    this.#o = { workers: 1, database: true, storeModelInDb: false, config: [], ...o };
    this.database = this.#o.database;
    this.memory = Array.from({ length: this.#o.workers }, () => new Map());
    this.#startup();
    this.server = createServer((req, res) => void this.#handle(req, res));
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }

  /** Config servers get a stable generated id [S MSM:184 _generate_stable_server_id]. */
  static configId(name: string): string {
    return createHash('sha256').update(name).digest('hex').slice(0, 32);
  }

  /** A restart: every worker loads config.yaml, plus the DB servers (memory rebuilt) [F]. */
  #startup(): void {
    for (const m of this.memory) {
      m.clear();
      for (const c of this.#o.config) m.set(LiteLLMContractServer.configId(c.name), { name: c.name });
      if (this.database) for (const r of this.db.values()) m.set(r.server_id, { name: prefixOf(r) });
    }
  }

  /** The 10 s poll: adds DB ids a worker has not seen, never removes [F]. */
  poll(): void {
    if (!this.#o.storeModelInDb || !this.database) return;
    for (const m of this.memory) for (const r of this.db.values()) if (!m.has(r.server_id)) m.set(r.server_id, { name: prefixOf(r) });
  }

  restart(): void {
    this.#startup();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (code: number, body?: unknown): void => {
      res.writeHead(code, body === undefined ? {} : { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
    };
    if (url.pathname === '/health/liveliness') return send(200, "I'm alive!");
    if (url.pathname === '/health/readiness') return send(200, { status: 'healthy', db: this.database ? 'connected' : 'Not connected', litellm_version: '1.77.3' });
    // Worker selection: round robin, or forced by a test.
    const forced = req.headers['x-contract-worker'];
    const w = forced !== undefined ? Number(forced) : this.#next++ % this.memory.length;
    const mem = this.memory[w]!;
    const auth = String(req.headers['authorization'] ?? req.headers['x-litellm-api-key'] ?? '');
    const key = auth.replace(/^Bearer\s+/i, '');
    if (!key) return send(401, { error: { message: 'No api key passed in.', type: 'auth_error', code: '401' } });
    const admin = key === this.#o.masterKey; // the master key is PROXY_ADMIN [S MME:385]
    const body = await readJson(req);
    const m = url.pathname.match(/^\/v1\/mcp\/server(?:\/([^/]+))?$/);
    if (url.pathname === '/v1/mcp/tools' && req.method === 'GET') {
      // Tools come from the handling worker's memory (works without a database) [F].
      return send(200, { tools: [...mem.values()].map((s) => ({ name: `${s.name}-ping`, mcp_info: { server_name: s.name } })) });
    }
    if (!m) return send(404, { detail: 'Not Found' });
    const id = m[1] ? decodeURIComponent(m[1]) : null;
    if (req.method === 'GET' && id === null) {
      // DB rows (admins see all) plus config.yaml servers [S MSM:999-1019]; works without a DB [F].
      const rows: unknown[] = this.database ? [...this.db.values()] : [];
      for (const c of this.#o.config) rows.push({ server_id: LiteLLMContractServer.configId(c.name), server_name: c.name, url: c.url, transport: c.transport });
      return send(200, rows);
    }
    if (!this.database) return send(500, NO_DB); // every other route needs the DB [F] [S MME:62-70]
    if (req.method === 'GET' && id !== null) {
      const row = this.db.get(id);
      return row ? send(200, row) : send(404, { detail: { error: `MCP Server with id ${id} not found` } }); // [S MME:309]
    }
    if (req.method === 'POST' && id === null) {
      const b = body as Partial<ContractRow> & { transport?: string };
      const transport = b.transport ?? 'sse'; // REST default is sse [F]
      if (b.server_name && b.server_name.includes('-')) return send(400, { detail: { error: `Server name cannot contain '-'` } }); // [F]
      if ((transport === 'http' || transport === 'sse') && !b.url) return send(400, { detail: { error: 'url is required for http/sse' } }); // [F] body validator
      if (transport === 'stdio' && (!b.command || !Array.isArray(b.args))) return send(400, { detail: { error: 'command and args are required for stdio' } }); // [F]
      if (!admin) return send(403, { detail: { error: 'User does not have permission to create mcp servers. You can only create mcp servers if you are a PROXY_ADMIN.' } }); // [S MME:386]
      if (b.server_id && this.db.has(b.server_id)) return send(400, { detail: { error: `MCP Server with id ${b.server_id} already exists. Cannot create another.` } }); // [S MME:396]
      const now = new Date().toISOString();
      const row: ContractRow = {
        server_id: b.server_id ?? createHash('sha256').update(now + Math.random()).digest('hex').slice(0, 32),
        server_name: b.server_name ?? null,
        alias: b.alias ?? null,
        description: b.description ?? null,
        url: b.url ?? null,
        transport,
        auth_type: b.auth_type ?? null,
        mcp_access_groups: b.mcp_access_groups ?? [],
        mcp_info: b.mcp_info ?? {},
        command: b.command ?? null,
        args: b.args ?? [],
        env: b.env ?? {},
        created_at: now,
        created_by: 'default_user_id',
        updated_at: now,
        updated_by: 'default_user_id',
        teams: [],
        status: 'unknown',
        last_health_check: null,
        health_check_error: null,
      };
      this.db.set(row.server_id, row);
      mem.set(row.server_id, { name: prefixOf(row) }); // only the handling worker's memory [F]
      return send(201, row);
    }
    if (req.method === 'PUT' && id === null) {
      const b = body as Partial<ContractRow>;
      const row = b.server_id ? this.db.get(b.server_id) : undefined;
      if (!row) return send(404, { detail: { error: `MCP Server with id ${b.server_id} not found` } });
      this.db.set(row.server_id, { ...row, ...b, updated_at: new Date().toISOString() } as ContractRow); // DB only, never memory [F]
      return send(202, this.db.get(row.server_id));
    }
    if (req.method === 'DELETE' && id !== null) {
      if (!admin) return send(403, { detail: { error: 'Only proxy admins can delete mcp servers' } }); // [F]
      if (!this.db.has(id)) return send(404, { detail: { error: `MCP Server with id ${id} not found` } }); // [F]
      this.db.delete(id);
      mem.delete(id); // the handling worker only; others stay stale until restart [F]
      return send(202); // empty body [F]
    }
    return send(405, { detail: 'Method Not Allowed' });
  }
}

/** The tool prefix of a DB server: alias, else server_name, else server_id [F]. */
function prefixOf(r: ContractRow): string {
  return r.alias ?? r.server_name ?? r.server_id;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let raw = '';
  for await (const c of req) raw += c;
  if (!raw) return {};
  try {
    return JSON.parse(raw);
  } catch {
    return {};
  }
}
