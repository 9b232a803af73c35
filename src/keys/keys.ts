/**
 * Scoped client keys: one LiteLLM virtual key per client, limited to some MCP servers through 1.77.3's
 * object permission (`object_permission.mcp_servers` = server ids). The raw key is returned once to the
 * caller and never stored, logged or put in an error by this module. Why and what LiteLLM enforces: ADR 0015.
 */
import type { KeyApi } from '../ports/index.js';
import type { ApiServerRow, VirtualKeyRow } from '../model/types.js';
import { apiIdPrefix } from '../litellm/api.js';

/** A refusal the user can act on (bad name, unknown server, key exists, no database): exit 1 with the message. */
export class KeyCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyCommandError';
  }
}

/** Our keys' alias: `mcp-reconciler/<instance>/<client>`. LiteLLM keeps aliases unique, so one key per client. */
export function keyAlias(instance: string, client: string): string {
  return `${aliasPrefix(instance)}${client}`;
}
export function aliasPrefix(instance: string): string {
  return `mcp-reconciler/${instance}/`;
}

/** Why `name` cannot name a client, or null: letters, digits, `.`, `_`, `-`, starting with a letter or digit, at most 64. */
export function checkClientName(name: string): string | null {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)
    ? null
    : `client name "${name}": letters, digits, . _ - (starting with a letter or digit), at most 64`;
}

/** `--expires`: a LiteLLM duration with s, m, h, d or w, from 1 minute to 10 years; returned as LiteLLM spells it. */
export function parseExpires(text: string): string {
  const m = /^([1-9]\d{0,6})(s|m|h|d|w)$/.exec(text);
  const seconds = m ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'] : 0;
  if (!m || seconds < 60 || seconds > 3650 * 86_400) {
    throw new KeyCommandError(`--expires "${text}": a duration such as 90m, 12h, 30d or 8w (1 minute to 10 years)`);
  }
  return text;
}

/** `--budget`: US dollars, > 0. */
export function parseBudget(text: string): number {
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) throw new KeyCommandError(`--budget "${text}": an amount in USD greater than 0, e.g. 5 or 2.50`);
  return n;
}

/**
 * What a key may call (`--routes`), as LiteLLM 1.77.3 `allowed_routes`: names of `LiteLLMRoutes` members, which
 * `RouteChecks.is_virtual_key_allowed_to_call_route` expands for every request the key authenticates (route_checks.py).
 * - `mcp` = `mcp_routes`: /mcp, /mcp/, /mcp/{subpath}, /mcp/tools, /mcp/tools/list, /mcp/tools/call. The streamable
 *   endpoint every client uses, and nothing else: not /mcp-rest/ (there LiteLLM runs the hooks without the key, so
 *   the guard cannot refuse a call to another server's tool), not the LLM API, not the management API.
 * - `llm` adds `llm_api_routes` (chat, responses, models, embeddings, provider pass-through, and mcp_routes again),
 *   for a client that also uses the gateway's models. LiteLLM's MCP tools in /v1/responses ignore the key's servers.
 * Why `mcp` alone is the default: ADR 0019.
 */
export const ROUTE_SETS = { mcp: 'mcp_routes', llm: 'llm_api_routes' } as const;
export type RouteSet = keyof typeof ROUTE_SETS;
export const DEFAULT_ROUTES: readonly RouteSet[] = ['mcp'];

/** `--routes`: `mcp` or `mcp,llm` (`llm` alone means the same: a key for MCP servers always has mcp). */
export function parseRoutes(text: string): RouteSet[] {
  const parts = text.split(',').map((x) => x.trim());
  if (parts.some((x) => !Object.hasOwn(ROUTE_SETS, x))) {
    throw new KeyCommandError(
      `--routes "${text}": mcp (the default: LiteLLM's /mcp/ only) or mcp,llm (also its LLM API: chat, responses, ...)`,
    );
  }
  return parts.includes('llm') ? ['mcp', 'llm'] : ['mcp'];
}

/** Our route sets as LiteLLM's allowed_routes. */
export function allowedRoutes(sets: readonly RouteSet[]): string[] {
  return sets.map((x) => ROUTE_SETS[x]);
}

/** A key's allowed_routes in our words (`mcp`, `llm`; anything else as stored); empty = no limit. */
export function routeNames(allowed: string[]): string[] {
  const names = Object.fromEntries(Object.entries(ROUTE_SETS).map(([k, v]) => [v, k])) as Record<string, string>;
  return allowed.map((r) => names[r] ?? r);
}

/**
 * Why keys cannot work against this gateway, or null when they can. Virtual keys are rows in LiteLLM's
 * database; without one `/key/generate` refuses.
 */
export function databaseProblem(o: {
  envFile: string;
  hasDatabaseUrl: boolean;
  gateway: 'database' | 'no-database' | 'unreachable';
  url: string;
}): string | null {
  if (o.gateway === 'database') return null;
  if (!o.hasDatabaseUrl) {
    return [
      `keys need LiteLLM's database: a virtual key is a row in its "LiteLLM_VerificationToken" table, and this gateway has none`,
      `(${o.envFile} has no DATABASE_URL).`,
      'Run `mcp-reconciler db init --admin-url postgres://ADMIN@HOST:5432/postgres` (it writes DATABASE_URL into that file);',
      'the next pass recreates the gateway with the litellm-database image and switches to API mode. Then run this again.',
    ].join('\n');
  }
  if (o.gateway === 'no-database') {
    return `${o.envFile} has DATABASE_URL, but the gateway at ${o.url} still runs without a database: it has not been recreated yet. ` +
      'Run `mcp-reconciler apply --once` (or wait for the daemon), then this again; if it persists: docker logs of the gateway.';
  }
  return `the gateway at ${o.url} does not answer; keys are managed through its API. \`mcp-reconciler status\` shows why.`;
}

export interface ServerRef {
  /** What the user typed: our server name (`alpha` for desired-state/mcp-alpha.yaml) or another row's server_id. */
  name: string;
  /** LiteLLM server_id that goes into object_permission.mcp_servers. */
  id: string;
}

/**
 * Our names to server ids: `alpha` is `mcp-reconciler~<instance>~alpha`; a row we do not own is named by
 * its exact server_id. Every server must be registered now (LiteLLM would accept any string and the key
 * would silently reach nothing).
 */
export function resolveServers(instance: string, names: string[], rows: ApiServerRow[]): ServerRef[] {
  if (names.length === 0) {
    throw new KeyCommandError('--servers: name at least one server ' +
      '(a key without servers would reach every server: LiteLLM treats an empty list as no restriction)');
  }
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new KeyCommandError(`--servers: "${dup}" is named twice`);
  const prefix = apiIdPrefix(instance);
  const ids = new Set(rows.map((r) => r.server_id));
  const out: ServerRef[] = [];
  for (const name of names) {
    if (ids.has(prefix + name)) out.push({ name, id: prefix + name });
    else if (ids.has(name)) out.push({ name, id: name });
    else {
      const ours = rows.filter((r) => r.server_id.startsWith(prefix)).map((r) => r.server_id.slice(prefix.length)).sort();
      const other = rows.filter((r) => !r.server_id.startsWith(prefix)).map((r) => r.server_id).sort();
      throw new KeyCommandError(
        `--servers: "${name}" is not registered in the gateway's database ` +
          `(ours: ${ours.join(', ') || 'none'}${other.length ? `; other rows by server_id: ${other.join(', ')}` : ''})`,
      );
    }
  }
  return out;
}

export interface CreateKeyInput {
  instance: string;
  client: string;
  servers: string[];
  /** USD; LiteLLM refuses the key once its spend reaches it (MCP calls cost 0 unless a server declares a cost). */
  budget?: number | undefined;
  /** LiteLLM duration (parseExpires). */
  expires?: string | undefined;
  /** Replace an existing key of this client (the old one stops working at once). */
  rotate?: boolean | undefined;
  /** What the key may call (parseRoutes); default DEFAULT_ROUTES. */
  routes?: readonly RouteSet[] | undefined;
}

export interface CreatedKey {
  /** The raw key: shown once by the caller, never stored. */
  key: string;
  alias: string;
  servers: ServerRef[];
  routes: RouteSet[];
  expires: string | null;
  budget: number | null;
  /** True when an older key of this client was revoked first (--rotate). */
  rotated: boolean;
}

/** Our keys of one client (normally one; more only if made by hand with our alias). */
function keysOf(rows: VirtualKeyRow[], alias: string): VirtualKeyRow[] {
  return rows.filter((r) => r.key_alias === alias);
}

/**
 * Create the client's key. Refuses when the client has one (unless rotate). With `expires`, the
 * expiry is then set through /key/update, because /key/generate's `duration` is calendar-aligned in
 * 1.77.3 (30d = the 1st of next month, 1d = next midnight); if that or the read-back fails, the new key
 * is deleted again and the error says so.
 */
export async function createKey(api: KeyApi, registered: () => Promise<ApiServerRow[]>, input: CreateKeyInput): Promise<CreatedKey> {
  const bad = checkClientName(input.client);
  if (bad) throw new KeyCommandError(bad);
  const servers = resolveServers(input.instance, input.servers, await registered());
  const alias = keyAlias(input.instance, input.client);
  const routes = [...(input.routes ?? DEFAULT_ROUTES)];
  const existing = keysOf(await api.list(), alias);
  if (existing.length > 0 && !input.rotate) {
    const e = existing[0]!;
    throw new KeyCommandError(
      `client "${input.client}" already has a key (${e.key_name ?? 'sk-...'}, created ${e.created_at ?? '?'}): ` +
        `\`keys revoke ${input.client}\` first, or add --rotate to replace it`,
    );
  }
  if (existing.length > 0) await api.deleteByAlias(alias);
  const { key, row } = await api.generate({
    key_alias: alias,
    object_permission: { mcp_servers: servers.map((s) => s.id) },
    allowed_routes: allowedRoutes(routes),
    ...(input.budget !== undefined ? { max_budget: input.budget } : {}),
    ...(input.expires !== undefined ? { duration: input.expires } : {}),
    metadata: { 'mcp-reconciler': { instance: input.instance, client: input.client } },
  });
  try {
    let expires = row.expires;
    if (input.expires !== undefined) expires = await api.setDuration(row.token, input.expires);
    const stored = keysOf(await api.list(), alias).find((r) => r.token === row.token);
    const want = servers.map((s) => s.id).sort();
    if (!stored || JSON.stringify([...stored.mcpServers].sort()) !== JSON.stringify(want)) {
      throw new KeyCommandError(`the new key of "${input.client}" is not listed with servers ${want.join(', ')} afterwards`);
    }
    // An empty allowed_routes would mean every route to LiteLLM: never hand out a key whose limit did not stick.
    if (JSON.stringify(stored.allowedRoutes) !== JSON.stringify(allowedRoutes(routes))) {
      const want = allowedRoutes(routes).join(', ');
      throw new KeyCommandError(`the new key of "${input.client}" is not listed with allowed_routes ${want} afterwards`);
    }
    return { key, alias, servers, routes, expires, budget: input.budget ?? null, rotated: existing.length > 0 };
  } catch (err) {
    await api.deleteByAlias(alias).catch(() => false);
    const why = err instanceof Error ? err.message : String(err);
    throw new KeyCommandError(`${why}; the new key was deleted again`);
  }
}

export interface ClientKey {
  client: string;
  alias: string;
  /** `sk-...abcd`: LiteLLM's abbreviation, enough to tell keys apart; never the key. */
  keyName: string | null;
  /** Our server names where the id is ours, else the server_id. */
  servers: string[];
  /** routeNames of its allowed_routes; empty = every route (a key made before --routes, or by hand). */
  routes: string[];
  expires: string | null;
  expired: boolean;
  budget: number | null;
  spend: number;
  createdAt: string | null;
  blocked: boolean;
}

/** Our keys of this instance, by client. Keys with other aliases are LiteLLM's or yours: never shown or touched. */
export async function listKeys(api: KeyApi, instance: string, now: Date = new Date()): Promise<ClientKey[]> {
  const prefix = aliasPrefix(instance);
  const idPrefix = apiIdPrefix(instance);
  return (await api.list())
    .filter((r) => r.key_alias?.startsWith(prefix))
    .map((r) => ({
      client: r.key_alias!.slice(prefix.length),
      alias: r.key_alias!,
      keyName: r.key_name,
      servers: r.mcpServers.map((id) => (id.startsWith(idPrefix) ? id.slice(idPrefix.length) : id)).sort(),
      routes: routeNames(r.allowedRoutes),
      expires: r.expires,
      expired: r.expires !== null && Date.parse(r.expires) < now.getTime(),
      budget: r.max_budget,
      spend: r.spend,
      createdAt: r.created_at,
      blocked: r.blocked === true,
    }))
    .sort((a, b) => a.client.localeCompare(b.client));
}

/** Revoke (delete) the client's key; LiteLLM drops it from its auth cache at once. False when it has none. */
export async function revokeKey(api: KeyApi, instance: string, client: string): Promise<boolean> {
  const bad = checkClientName(client);
  if (bad) throw new KeyCommandError(bad);
  return api.deleteByAlias(keyAlias(instance, client));
}

/** `keys list` as a table (no secret: the abbreviation LiteLLM itself shows). */
export function renderKeys(keys: ClientKey[]): string {
  if (keys.length === 0) return 'no client keys (create one: mcp-reconciler keys create <client> --servers <name,...>)';
  const rows = keys.map((k) => [
    k.client,
    k.keyName ?? '?',
    k.servers.join(',') || '(all: no restriction)',
    k.routes.join(',') || 'all',
    k.expires ? `${k.expires}${k.expired ? ' (expired)' : ''}` : 'never',
    k.budget === null ? `$${k.spend.toFixed(2)} spent` : `$${k.spend.toFixed(2)} of $${k.budget.toFixed(2)}`,
    k.blocked ? 'blocked' : '',
  ]);
  const head = ['CLIENT', 'KEY', 'SERVERS', 'ROUTES', 'EXPIRES', 'SPEND', ''];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const table = [head, ...rows].map((r) => r.map((c, i) => c.padEnd(width[i]!)).join('  ').trimEnd()).join('\n');
  const open = keys.filter((k) => k.routes.length === 0).map((k) => k.client);
  if (open.length === 0) return table;
  // Keys made before --routes (or by hand) can use /mcp-rest/, where the guard cannot refuse another server's tool.
  return `${table}\nROUTES all: ${open.join(', ')} may call every route, /mcp-rest/ included (ADR 0019); ` +
    'replace: mcp-reconciler keys create <client> --servers ... --rotate';
}
