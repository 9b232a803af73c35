import { request } from 'undici';
import { z } from 'zod';
import { ReconcilerError, ErrorCode, clipText, errorMessage } from '../errors/index.js';

/** A row of `GET /v1/mcp/server` (LiteLLM_MCPServerTable, 1.77.3); only what we read. */
export const ApiServerSchema = z
  .object({
    server_id: z.string(),
    server_name: z.string().nullish(),
    alias: z.string().nullish(),
    description: z.string().nullish(),
    url: z.string().nullish(),
    transport: z.string().nullish(),
  })
  .passthrough();
export type ApiServer = z.infer<typeof ApiServerSchema>;

/** Body of POST /v1/mcp/server (NewMCPServerRequest in 1.77.3). No field for an upstream credential. */
export interface NewApiServer {
  server_id: string;
  server_name: string;
  description: string;
  transport: 'http' | 'sse';
  url: string;
  /** Always sent: without it 1.77.3 hands Prisma `mcp_info=None`, refused for a Json column. */
  mcp_info: { server_name: string; description: string };
  mcp_access_groups: string[];
  args: string[];
  env: Record<string, string>;
}

export type DatabaseState = 'database' | 'no-database' | 'unreachable';

/** Our server ids: `mcp-reconciler~<instance>~<name>`; the prefix marks ownership in LiteLLM. */
export function apiServerId(instance: string, name: string): string {
  return `${apiIdPrefix(instance)}${name}`;
}
export function apiIdPrefix(instance: string): string {
  return `mcp-reconciler~${instance}~`;
}

const TIMEOUT_MS = 10_000;

const DetailItem = z.object({ msg: z.string(), loc: z.array(z.union([z.string(), z.number()])).optional() }).passthrough();
const ErrorBody = z.union([
  z.object({ detail: z.object({ error: z.string() }).passthrough() }).passthrough(),
  z.object({ detail: z.array(DetailItem).min(1) }).passthrough(),
  z.object({ detail: z.string() }).passthrough(),
  z.object({ error: z.object({ message: z.string() }).passthrough() }).passthrough(),
]);

/**
 * LiteLLM's own message from an error body: `{detail: {error}}` (its HTTPExceptions), FastAPI's 422
 * `{detail: [{loc, msg}]}` (body validation), `{detail: "..."}`, or `{error: {message}}` (ProxyException).
 * Anything else: the start of the raw text.
 */
export function litellmMessage(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return clipText(text, 300);
  }
  const b = ErrorBody.safeParse(parsed);
  if (!b.success) return clipText(text, 300);
  const v = b.data as Record<string, unknown>;
  const d = v['detail'];
  if (typeof d === 'string') return d;
  if (Array.isArray(d)) {
    return (d as z.infer<typeof DetailItem>[]).map((i) => (i.loc?.length ? `${i.loc.join('.')}: ${i.msg}` : i.msg)).join('; ');
  }
  if (d && typeof d === 'object') return String((d as { error: string }).error);
  return String((v['error'] as { message: string }).message);
}

/**
 * One call to LiteLLM's admin API with the master key: status and body text. Throws (retryable) when
 * the gateway does not answer; throws (not retryable) without a key. Shared by every /v1/mcp and /key client.
 */
export async function adminCall(
  base: string,
  key: string | null,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  if (!key) throw new ReconcilerError(ErrorCode.GatewayUnavailable, 'no LITELLM_MASTER_KEY for the management API', { retryable: false });
  try {
    const r = await request(`${base.replace(/\/+$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    });
    return { status: r.statusCode, text: await r.body.text() };
  } catch (err) {
    throw new ReconcilerError(ErrorCode.GatewayUnavailable, `${method} ${path}: ${errorMessage(err)}`, { retryable: true, cause: err });
  }
}

/** LiteLLM 1.77.3's management API for MCP servers (admin = master key). */
export class LiteLLMApi {
  readonly #base: string;
  readonly #key: () => string | null;

  constructor(baseUrl: string, masterKey: () => string | null) {
    this.#base = baseUrl.replace(/\/+$/, '');
    this.#key = masterKey;
  }

  #call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; text: string }> {
    return adminCall(this.#base, this.#key(), method, path, body);
  }

  /**
   * Does the gateway have a database? Reading one server needs it: 404 for an unknown id with a
   * database, 500 "Database not connected" without one (facts: management API).
   */
  async database(): Promise<DatabaseState> {
    try {
      const r = await this.#call('GET', '/v1/mcp/server/mcp-reconciler~probe');
      if (r.status === 404) return 'database';
      if (r.status === 500 && /Database not connected/i.test(r.text)) return 'no-database';
      return 'unreachable';
    } catch {
      return 'unreachable';
    }
  }

  async list(): Promise<ApiServer[]> {
    const r = await this.#call('GET', '/v1/mcp/server');
    if (r.status !== 200) {
      throw new ReconcilerError(
        ErrorCode.GatewayUnavailable,
        `GET /v1/mcp/server answered ${r.status}: ${litellmMessage(r.text)}`,
        { retryable: true },
      );
    }
    return z.array(ApiServerSchema).parse(JSON.parse(r.text));
  }

  /** POST, then read the list back to confirm (the facts: re-read to confirm). */
  async create(body: NewApiServer): Promise<void> {
    const r = await this.#call('POST', '/v1/mcp/server', body);
    if (r.status !== 201 && r.status !== 200) {
      throw new ReconcilerError(
        ErrorCode.GatewayUnavailable,
        `POST /v1/mcp/server ${body.server_id} answered ${r.status}: ${litellmMessage(r.text)}`,
        { retryable: r.status >= 500 },
      );
    }
    const rows = await this.list();
    if (!rows.some((x) => x.server_id === body.server_id)) {
      throw new ReconcilerError(
        ErrorCode.GatewayUnavailable,
        `POST /v1/mcp/server ${body.server_id} answered ${r.status}, but the server is not listed afterwards`,
        { retryable: true },
      );
    }
  }

  /** DELETE; an unknown id (404) is already what we want. */
  async delete(serverId: string): Promise<void> {
    const r = await this.#call('DELETE', `/v1/mcp/server/${encodeURIComponent(serverId)}`);
    if (r.status !== 202 && r.status !== 200 && r.status !== 404) {
      throw new ReconcilerError(
        ErrorCode.GatewayUnavailable,
        `DELETE /v1/mcp/server/${serverId} answered ${r.status}: ${litellmMessage(r.text)}`,
        { retryable: r.status >= 500 },
      );
    }
  }
}
