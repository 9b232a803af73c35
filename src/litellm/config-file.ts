import { Document, parseDocument, isMap, isPair, isScalar, isSeq, YAMLMap, YAMLSeq, Scalar } from 'yaml';
import { memoize } from '../memo/memo.js';
import { GUARD_CALLBACK } from './guard.js';

/**
 * Ownership marker inside an `mcp_servers` entry. LiteLLM 1.77.3 reads only the keys it knows
 * (mcp_server_manager.load_servers_from_config) and ignores the rest; the `x-` prefix follows the
 * compose convention for extension fields, and `doctor` treats `x-*` keys as deliberate.
 * Ownership is therefore readable from the file itself, with no state elsewhere.
 */
export const OWNER_KEY = 'x-mcp-reconciler';
export const OWNER_VALUE = 'mcp-reconciler';

export const NEW_CONFIG_HEADER = [
  ' LiteLLM 1.77.3 config. mcp-reconciler owns the mcp_servers entries marked x-mcp-reconciler',
  ' and rewrites them; for the gateway it runs it adds mcp_reconciler_guard.guard to litellm_settings.callbacks',
  ' (the file mcp_reconciler_guard.py beside this one). Everything else in this file is yours and is kept as written.',
  ' The gateway reads this file once at start-up; the reconciler restarts it when the file changes.',
].join('\n');

export interface GatewayConfigView {
  /** Owned entries by LiteLLM server name, marker included. */
  owned: Record<string, Record<string, unknown>>;
  /** Names of entries the user wrote. */
  foreign: string[];
  /** `litellm_settings.callbacks` lists the guard (GUARD_CALLBACK, ADR 0019). */
  guard: boolean;
  /** Why the guard cannot be added to `litellm_settings.callbacks` (a shape LiteLLM or we cannot extend), else null. */
  callbacksProblem: string | null;
  /** Parse problems; when present the file is not rewritten. */
  errors: string[];
}

function isOwnedEntry(v: unknown): boolean {
  // Stryker disable next-line ConditionalExpression: equivalent; a string entry indexed by the marker key gives undefined, not ours either
  if (!v || typeof v !== 'object') return false;
  const marker = (v as Record<string, unknown>)[OWNER_KEY];
  // Stryker disable next-line ConditionalExpression: equivalent; a string marker indexed by 'managed-by' gives undefined, not ours either
  return !!marker && typeof marker === 'object' && (marker as Record<string, unknown>)['managed-by'] === OWNER_VALUE;
}

function parse(text: string): Document.Parsed {
  // Stryker disable next-line ObjectLiteral: equivalent; uniqueKeys: true is yaml's default,
  // written out because duplicate keys must be errors
  return parseDocument(text, { uniqueKeys: true });
}

/**
 * Read which entries of a config.yaml are ours. Memoized by the text (pure): every pass and every
 * health probe reads the same file, and parsing 500 entries costs tens of milliseconds.
 */
export const readGatewayConfig: (text: string | null) => GatewayConfigView = memoize(
  (text: string | null) => readGatewayConfigText(text),
  (text) => (text === null ? '\u0000null' : text),
  4,
);

function readGatewayConfigText(text: string | null): GatewayConfigView {
  const none = { owned: {}, foreign: [], guard: false, callbacksProblem: null };
  if (text === null) return { ...none, errors: [] };
  const doc = parse(text);
  if (doc.errors.length > 0) return { ...none, errors: doc.errors.map((e) => e.message.split('\n')[0] ?? '') };
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    // yaml refuses to expand an alias bomb ("billion laughs"): a problem of the file, reported like a parse error.
    return { ...none, errors: [(err as Error).message] };
  }
  if (js !== null && (typeof js !== 'object' || Array.isArray(js))) {
    return { ...none, errors: ['the config must be a mapping'] };
  }
  const { guard, callbacksProblem } = readCallbacks((js as Record<string, unknown> | null)?.['litellm_settings']);
  const servers = (js as Record<string, unknown> | null)?.['mcp_servers'];
  const owned: GatewayConfigView['owned'] = {};
  const foreign: string[] = [];
  if (servers && typeof servers === 'object' && !Array.isArray(servers)) {
    for (const [name, v] of Object.entries(servers as Record<string, unknown>)) {
      if (isOwnedEntry(v)) {
        owned[name] = v as Record<string, unknown>;
      } else foreign.push(name);
    }
  } else if (servers !== undefined && servers !== null) {
    return { ...none, errors: ['mcp_servers must be a mapping of name -> settings'] };
  }
  return { owned, foreign, guard, callbacksProblem, errors: [] };
}

/**
 * Ownership of `litellm_settings.callbacks` (ADR 0019): the one item equal to GUARD_CALLBACK is ours,
 * every other item is the user's. LiteLLM reads a list, or a single string as a list of one (the
 * renderer turns that string into a list of it and the guard). Anything else is left alone.
 */
function readCallbacks(settings: unknown): { guard: boolean; callbacksProblem: string | null } {
  if (settings === undefined || settings === null) return { guard: false, callbacksProblem: null };
  if (typeof settings !== 'object' || Array.isArray(settings)) {
    return { guard: false, callbacksProblem: 'litellm_settings is not a mapping' };
  }
  const cb = (settings as Record<string, unknown>)['callbacks'];
  if (cb === undefined || cb === null || typeof cb === 'string') return { guard: cb === GUARD_CALLBACK, callbacksProblem: null };
  if (Array.isArray(cb)) return { guard: cb.includes(GUARD_CALLBACK), callbacksProblem: null };
  return { guard: false, callbacksProblem: 'litellm_settings.callbacks is neither a list nor a string' };
}

/**
 * Rewrite config.yaml so its owned entries are exactly `entries` (each carrying the owner
 * marker, see ownedEntry) and, with `guard`, `litellm_settings.callbacks` lists GUARD_CALLBACK
 * (added, never removed: without `guard` the callbacks stay as they are); every other key, entry and
 * comment stays as the user wrote it. A name the user already uses is left alone (the caller
 * reports the conflict). Returns the new text (identical text when nothing changes).
 */
type Entries = Record<string, Record<string, unknown>>;
export const renderGatewayConfig: (text: string | null, entries: Entries, guard?: boolean) => string = memoize(
  (text: string | null, entries: Entries, guard = false) => renderGatewayConfigText(text, entries, guard),
  // Exact: the text as read, the entries with their key order at every depth (it decides the output), the guard.
  (text, entries, guard = false) => {
    const json = Object.keys(entries).map((k) => `${JSON.stringify(k)}:${entryJson(entries[k])}`).join(',');
    return `${guard ? 'g' : '-'}${text === null ? '\u0000null' : text}\u0000${json}`;
  },
  4,
);

/** JSON of frozen entries, remembered (a frozen entry cannot change); others serialized each time. */
const frozenJson = new WeakMap<object, string>();
function entryJson(e: Record<string, unknown> | undefined): string {
  // Stryker disable next-line all: equivalent; a memo of JSON.stringify (speed only), and an entry is never undefined
  if (e === undefined || !Object.isFrozen(e)) return JSON.stringify(e);
  let j = frozenJson.get(e);
  // Stryker disable next-line all: equivalent; a miss stringifies again, which gives the same JSON
  if (j === undefined) {
    j = JSON.stringify(e);
    frozenJson.set(e, j);
  }
  return j;
}

function renderGatewayConfigText(
  text: string | null,
  entries: Record<string, Record<string, unknown>>,
  guard: boolean,
): string {
  const fresh = text === null || text.trim() === '';
  const doc: Document = fresh ? new Document({ general_settings: { master_key: 'os.environ/LITELLM_MASTER_KEY' } }) : parse(text);
  if (fresh) doc.commentBefore = NEW_CONFIG_HEADER;
  // A file that is only `null`, `~` or `---` reads as no settings (readGatewayConfig); it becomes a mapping.
  if (isScalar(doc.contents) && doc.contents.value === null) doc.contents = new YAMLMap();
  // Stryker disable next-line BooleanLiteral: equivalent; keepScalar matters only for a scalar, and a scalar mcp_servers is replaced anyway
  let servers = doc.get('mcp_servers', true);
  if (!isMap(servers)) {
    servers = new YAMLMap();
    doc.set('mcp_servers', servers);
  }
  const map = servers as YAMLMap;
  // Drop owned entries that are no longer wanted or that changed; keep user entries untouched.
  const current = readGatewayConfig(fresh ? null : (text as string));
  map.items = map.items.filter((p) => {
    if (!isPair(p) || !isScalar(p.key)) return true;
    const name = String(p.key.value);
    if (!(name in current.owned)) return true;
    const want = entries[name];
    return want !== undefined && sameEntry(current.owned[name] as Record<string, unknown>, want);
  });
  const present = new Set(
    map.items.filter((p) => isPair(p) && isScalar(p.key)).map((p) => String((p.key as { value: unknown }).value)),
  );
  for (const name of Object.keys(entries).sort()) {
    if (present.has(name)) continue;
    const entry = doc.createNode(entries[name]);
    // Stryker disable next-line ConditionalExpression: equivalent; an entry is an object, so its node is always a map
    if (isMap(entry)) entry.flow = false;
    map.add(doc.createPair(name, entry));
  }
  if (guard && !current.guard && current.callbacksProblem === null) addGuardCallback(doc);
  return doc.toString({ lineWidth: 0 });
}

/** Append GUARD_CALLBACK to `litellm_settings.callbacks` (readCallbacks accepted its shape). */
function addGuardCallback(doc: Document): void {
  // Stryker disable next-line BooleanLiteral: equivalent; keepScalar matters only for a scalar,
  // and a scalar litellm_settings is replaced anyway
  let settings = doc.get('litellm_settings', true);
  if (!isMap(settings)) {
    settings = new YAMLMap();
    doc.set('litellm_settings', settings);
  }
  const map = settings as YAMLMap;
  const cb = map.get('callbacks', true);
  if (isSeq(cb)) {
    cb.add(doc.createNode(GUARD_CALLBACK));
    return;
  }
  const seq = new YAMLSeq();
  // A single string is LiteLLM's list of one: it stays first.
  if (isScalar(cb) && typeof (cb as Scalar).value === 'string') seq.add(cb);
  seq.add(doc.createNode(GUARD_CALLBACK));
  map.set('callbacks', seq);
}

function sameEntry(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

/** A gateway entry as written to the file: LiteLLM's keys plus the owner marker. */
export function ownedEntry(entry: Record<string, unknown>, source: string): Record<string, unknown> {
  return { ...entry, [OWNER_KEY]: { 'managed-by': OWNER_VALUE, source } };
}
