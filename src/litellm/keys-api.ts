import { z } from 'zod';
import { ReconcilerError, ErrorCode } from '../errors/index.js';
import type { KeyApi } from '../ports/index.js';
import type { NewVirtualKey, VirtualKeyRow } from '../model/types.js';
import { adminCall, litellmMessage } from './api.js';

/**
 * A key row of `/key/list?return_full_object=true` (UserAPIKeyAuth built from LiteLLM_VerificationToken
 * plus its object permission, 1.77.3); only what we read. `token` is the sha256 hex of the key.
 */
const KeyRowSchema = z
  .object({
    token: z.string().regex(/^[0-9a-f]{64}$/),
    key_alias: z.string().nullish(),
    key_name: z.string().nullish(),
    expires: z.string().nullish(),
    max_budget: z.number().nullish(),
    spend: z.number().default(0),
    created_at: z.string().nullish(),
    blocked: z.boolean().nullish(),
    object_permission: z.object({ mcp_servers: z.array(z.string()).nullish() }).passthrough().nullish(),
    allowed_routes: z.array(z.string()).nullish(),
  })
  .passthrough();

const KeyListSchema = z.object({
  keys: z.array(KeyRowSchema),
  total_count: z.number().int(),
  current_page: z.number().int(),
  total_pages: z.number().int(),
});

/** The answer of POST /key/generate: `key` is the raw key (once), `token` its hash (1.77.3 remaps it so). */
const GeneratedSchema = z
  .object({
    key: z.string().startsWith('sk-'),
    token: z.string().regex(/^[0-9a-f]{64}$/),
    key_alias: z.string().nullish(),
    expires: z.string().nullish(),
  })
  .passthrough();

const UpdatedSchema = z.object({ expires: z.string().nullish() }).passthrough();

function toRow(r: z.infer<typeof KeyRowSchema>): VirtualKeyRow {
  return {
    token: r.token,
    key_alias: r.key_alias ?? null,
    key_name: r.key_name ?? null,
    expires: r.expires ?? null,
    max_budget: r.max_budget ?? null,
    spend: r.spend,
    created_at: r.created_at ?? null,
    blocked: r.blocked ?? null,
    mcpServers: r.object_permission?.mcp_servers ?? [],
    allowedRoutes: r.allowed_routes ?? [],
  };
}

/** Page size of /key/list: LiteLLM's maximum (le=100). */
const PAGE = 100;

/**
 * LiteLLM 1.77.3's virtual-key API (admin = master key; every route needs its database). Every answer
 * is parsed with zod; a parse failure names the route, never the body (the generate answer holds the key).
 */
export class LiteLLMKeyApi implements KeyApi {
  readonly #base: string;
  readonly #key: () => string | null;

  constructor(baseUrl: string, masterKey: () => string | null) {
    this.#base = baseUrl;
    this.#key = masterKey;
  }

  #fail(what: string, r: { status: number; text: string }): never {
    throw new ReconcilerError(
      ErrorCode.GatewayUnavailable,
      `${what} answered ${r.status}: ${litellmMessage(r.text)}`,
      { retryable: r.status >= 500 },
    );
  }

  #parse<T>(what: string, schema: z.ZodType<T>, text: string): T {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ReconcilerError(ErrorCode.GatewayUnavailable, `${what}: the answer is not JSON`);
    }
    const r = schema.safeParse(json);
    if (!r.success) {
      const where = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new ReconcilerError(ErrorCode.GatewayUnavailable, `${what}: unexpected answer (${where})`);
    }
    return r.data;
  }

  async generate(body: NewVirtualKey): Promise<{ key: string; row: VirtualKeyRow }> {
    const r = await adminCall(this.#base, this.#key(), 'POST', '/key/generate', body);
    if (r.status !== 200) this.#fail('POST /key/generate', r);
    const g = this.#parse('POST /key/generate', GeneratedSchema, r.text);
    const row: VirtualKeyRow = {
      token: g.token,
      key_alias: g.key_alias ?? null,
      key_name: null,
      expires: g.expires ?? null,
      max_budget: body.max_budget ?? null,
      spend: 0,
      created_at: null,
      blocked: null,
      mcpServers: body.object_permission.mcp_servers,
      allowedRoutes: body.allowed_routes,
    };
    return { key: g.key, row };
  }

  async setDuration(token: string, duration: string): Promise<string | null> {
    const r = await adminCall(this.#base, this.#key(), 'POST', '/key/update', { key: token, duration });
    if (r.status !== 200) this.#fail('POST /key/update', r);
    return this.#parse('POST /key/update', UpdatedSchema, r.text).expires ?? null;
  }

  async list(): Promise<VirtualKeyRow[]> {
    const out: VirtualKeyRow[] = [];
    for (let page = 1; ; page++) {
      const r = await adminCall(this.#base, this.#key(), 'GET', `/key/list?return_full_object=true&size=${PAGE}&page=${page}`);
      if (r.status !== 200) this.#fail('GET /key/list', r);
      const l = this.#parse('GET /key/list', KeyListSchema, r.text);
      out.push(...l.keys.map(toRow));
      if (page >= l.total_pages || l.keys.length === 0) return out;
    }
  }

  async deleteByAlias(alias: string): Promise<boolean> {
    const r = await adminCall(this.#base, this.#key(), 'POST', '/key/delete', { key_aliases: [alias] });
    // 1.77.3 answers an alias without keys with 404 {"error": {"message": "{'error': 'No keys found'}", ...}}.
    if (r.status === 404) return false;
    if (r.status !== 200) this.#fail('POST /key/delete', r);
    return true;
  }
}
