import { readEnvFile } from '../desired/env-file.js';
import { CLIP_MARK } from '../errors/index.js';

/** What a masked secret becomes (the same word the logger uses). */
export const MASK = '[redacted]';

/** Known secret values shorter than this are not masked by value (`1`, `true` would blank half a page). */
export const MIN_KNOWN_SECRET = 6;

/** Names of settings that hold credentials: `X_API_KEY=...`, `"password": "..."`, `token: ...`. */
const SECRET_NAME = /key|token|secret|passw(?:or)?d|pwd|dsn|credential|auth|database_url|cookie/i;

/**
 * Text patterns that carry a credential whatever its value: a cheap substring test first (most
 * strings have none), then the pattern and what replaces it. The status page and `/status` pass
 * every string through these: a probe error or a server's own message may quote a URL with a
 * password, a header, or an env line (the daemon never puts one there itself).
 */
const PATTERNS: { hint: RegExp; re: RegExp; to: string | ((...m: string[]) => string) }[] = [
  // scheme://user:password@host
  { hint: /:\/\/[^@\s]*@/, re: /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]+@/gi, to: `$1${MASK}@` },
  // Authorization: Bearer xyz, Basic xyz, Token xyz
  { hint: /Bearer|Basic|Token/, re: /\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9._~+/=-]{4,}/g, to: `$1$2${MASK}` },
  // KEY=value, key: value, "key": "value", 'key': 'value' (Python's repr), \"key\":\"value\" (JSON in JSON): whole
  // name tokens only, and only names SECRET_NAME takes (a lookahead inside the token: linear, and a value after
  // another name is not consumed, so a secret-named key inside it is still seen). A scheme after the name
  // (`authorization: bearer x`, any case) is kept and what follows it masked. A value in unescaped quotes runs
  // to its closing quote (spaces and \" inside it too); any other to a space, quote or separator, escapes whole.
  {
    hint: /[=:]/,
    re: new RegExp(
      String.raw`(?<![A-Za-z0-9_.-])(?=[A-Za-z0-9_.-]*?(?:${SECRET_NAME.source}))([A-Za-z0-9_.-]+)` +
        String.raw`((?:\\*["'])?\s*[=:]\s*(?:\\*["'])?)(?!\[redacted\])` +
        String.raw`((?:bearer|basic|token|digest)\s+)?` +
        String.raw`((?<=(?<!\\)")(?:\\.|[^"\\\n]){2,}|(?<=(?<!\\)')(?:\\.|[^'\\\n]){2,}|(?:\\.|[^\s"'\\,;&]){2,})`,
      'gi',
    ),
    to: (_all: string, name: string, sep: string, scheme: string | undefined) => `${name}${sep}${scheme ?? ''}${MASK}`,
  },
  // Well-known key shapes: OpenAI/LiteLLM sk-..., GitHub ghp_/gho_/github_pat_, Slack xox?-, AWS AKIA...
  { hint: /sk-/, re: /\bsk-[A-Za-z0-9_-]{8,}/g, to: MASK },
  { hint: /gh[pousr]_|github_pat_/, re: /\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,})/g, to: MASK },
  { hint: /xox/, re: /\bxox[abposr]-[A-Za-z0-9-]{8,}/g, to: MASK },
  { hint: /AKIA/, re: /\bAKIA[0-9A-Z]{16}\b/g, to: MASK },
];

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Known {
  /** Every known value whole, longest first (a value that contains another is masked whole). */
  whole: RegExp;
  /** A known value's first 3 or more characters cut off by CLIP_MARK. */
  clipped: RegExp;
}

/** How many characters of a value the clipped pattern follows (clipText cuts at 200 to 300). */
const CLIPPED_MAX = 1024;
/** A cut may fall inside an escape: `\`, `\u00`, `%2`. */
const PARTIAL_ESCAPE = String.raw`(?:\\{1,4}(?:u[0-9a-f]{0,3})?|%[0-9a-f]?)?`;

/**
 * One character of a known value as it may appear in text that quotes it: itself (any case: the
 * regexp is case-insensitive), JSON-escaped once or twice (`\"`, `\\\"`, `\/`), as `\u0041` (Go
 * escapes `<>&` so), percent-encoded (`%2F`, `%2f`), a space as `+`.
 */
function charPattern(c: string): string {
  const forms = new Set<string>([c]);
  const json1 = JSON.stringify(c).slice(1, -1);
  forms.add(json1);
  forms.add(JSON.stringify(json1).slice(1, -1));
  if (c === '/') forms.add('\\/');
  const units = Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');
  forms.add(units);
  forms.add(units.replace(/\\/g, '\\\\'));
  if (!/^[A-Za-z0-9]$/.test(c)) {
    forms.add([...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
    if (c === ' ') forms.add('+');
  }
  const alts = [...forms].sort((a, b) => b.length - a.length).map(escapeRe);
  return alts.length === 1 ? alts[0]! : `(?:${alts.join('|')})`;
}

let cached: { key: string; known: Known | null } = { key: '', known: null };

function knownPattern(known: readonly string[]): Known | null {
  const values = [...new Set(known)].filter((v) => v.length >= MIN_KNOWN_SECRET).sort((a, b) => b.length - a.length);
  const key = values.join('\0');
  // The mask reads its files every second; the patterns are built again only when a value changed.
  if (key === cached.key) return cached.known;
  const pieces = values.map((v) => [...v].map(charPattern));
  // `p0p1p2(?:p3(?:p4)?)?`: the first 3 or more characters, the longest that runs up to the mark.
  const prefix = (p: string[]): string => {
    const ps = p.slice(0, CLIPPED_MAX);
    return ps.slice(0, 3).join('') + ps.slice(3).reduceRight((inner, x) => `(?:${x}${inner})?`, '');
  };
  const result = values.length
    ? {
        whole: new RegExp(pieces.map((p) => p.join('')).join('|'), 'gi'),
        clipped: new RegExp(`(?:${pieces.map(prefix).join('|')})${PARTIAL_ESCAPE}${CLIP_MARK}`, 'gi'),
      }
    : null;
  cached = { key, known: result };
  return result;
}

function redactWith(text: string, known: Known | null): string {
  let out = known ? text.replace(known.whole, MASK) : text;
  if (known && out.includes(CLIP_MARK)) out = out.replace(known.clipped, `${MASK}${CLIP_MARK}`);
  for (const p of PATTERNS) if (p.hint.test(out)) out = out.replace(p.re, p.to as string);
  return out;
}

/** Mask secrets in one string: every known secret value, then every credential-shaped pattern. */
export function redactText(text: string, known: readonly string[] = []): string {
  return redactWith(text, knownPattern(known));
}

/** A deep copy of a JSON-like value with every string (keys stay) passed through `redactText`. */
export function redactDeep<T>(value: T, known: readonly string[] = []): T {
  const pattern = knownPattern(known);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactWith(v, pattern);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/**
 * Every value in these env files (read safely; a file that cannot be read is skipped: it holds
 * nothing this process could leak). Used to mask a secret that appears verbatim in a message.
 */
export function secretValuesOf(files: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const f of new Set(files)) {
    try {
      for (const v of Object.values(readEnvFile(f))) if (v.length >= MIN_KNOWN_SECRET) out.add(v);
    } catch {
      /* missing or unsafe: nothing read, nothing to mask */
    }
  }
  return [...out];
}

/** How long the values read from the env files serve before they are read again. */
export const SECRET_VALUES_TTL_MS = 1_000;

/**
 * The one masker of everything the daemon and the CLI show: the status document (`/status`, the page,
 * `status`, `status --watch`; src/status/document.ts) and the daemon's log lines (src/log/logger.ts).
 * It knows the env files in play (`setFiles` after each pass) and reads their values at most once per
 * `ttlMs`, so a changed secret is masked within a second.
 */
export class SecretMask {
  #files: string[] = [];
  #values: string[] = [];
  #pattern: Known | null = null;
  #readAt = -Infinity;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(files: Iterable<string> = [], opts: { ttlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = opts.ttlMs ?? SECRET_VALUES_TTL_MS;
    this.#now = opts.now ?? Date.now;
    this.setFiles(files);
  }

  /** The env files whose values are masked from now on (read at the next use). */
  setFiles(files: Iterable<string>): void {
    const next = [...new Set(files)].sort();
    if (next.join('\0') === this.#files.join('\0')) return;
    this.#files = next;
    this.#readAt = -Infinity;
  }

  /** The known secret values (read again when older than the TTL). */
  values(): readonly string[] {
    this.#refresh();
    return this.#values;
  }

  #refresh(): Known | null {
    const now = this.#now();
    if (now - this.#readAt >= this.#ttlMs) {
      this.#values = secretValuesOf(this.#files);
      this.#pattern = knownPattern(this.#values);
      this.#readAt = now;
    }
    return this.#pattern;
  }

  /** One string, masked. */
  readonly text = (s: string): string => redactWith(s, this.#refresh());

  /** A deep copy of a JSON-like value with every string masked (like `redactDeep`). */
  deep<T>(value: T): T {
    return redactDeep(value, this.values());
  }
}
