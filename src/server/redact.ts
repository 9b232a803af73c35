import { readEnvFile } from '../desired/env-file.js';

/** What a masked secret becomes (the same word the logger uses). */
export const MASK = '[redacted]';

/** Known secret values shorter than this are not masked by value (`1`, `true` would blank half a page). */
export const MIN_KNOWN_SECRET = 6;

/** Names of settings that hold credentials: `X_API_KEY=...`, `"password": "..."`, `token: ...`. */
const SECRET_NAME =
  String.raw`[A-Za-z0-9_.-]*(?:key|token|secret|passw(?:or)?d|pwd|dsn|credential|auth|database_url|cookie)[A-Za-z0-9_.-]*`;

/**
 * Text patterns that carry a credential whatever its value, each with what replaces it. The status
 * page and `/status` pass every string through these: a probe error or a server's own message may
 * quote a URL with a password, a header, or an env line (the daemon never puts one there itself).
 */
const PATTERNS: [RegExp, string][] = [
  // scheme://user:password@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]+@/gi, `$1${MASK}@`],
  // Authorization: Bearer xyz, Basic xyz, Token xyz
  [/\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9._~+/=-]{4,}/g, `$1$2${MASK}`],
  // KEY=value, key: value, "key": "value", key="value"
  [new RegExp(`\\b(${SECRET_NAME})("?\\s*[=:]\\s*"?)(?!\\[redacted\\]|(?:Bearer|Basic|Token)\\s)[^\\s"',;&]{2,}`, 'gi'), `$1$2${MASK}`],
  // Well-known key shapes: OpenAI/LiteLLM sk-..., GitHub ghp_/gho_/github_pat_, Slack xox?-, AWS AKIA...
  [/\bsk-[A-Za-z0-9_-]{8,}/g, MASK],
  [/\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,})/g, MASK],
  [/\bxox[abposr]-[A-Za-z0-9-]{8,}/g, MASK],
  [/\bAKIA[0-9A-Z]{16}\b/g, MASK],
];

/**
 * Mask secrets in one string: first every known secret value (longest first, so a value that
 * contains another is masked whole), then every credential-shaped pattern.
 */
export function redactText(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const v of known) if (v.length >= MIN_KNOWN_SECRET && out.includes(v)) out = out.split(v).join(MASK);
  for (const [re, to] of PATTERNS) out = out.replace(re, to);
  return out;
}

/** A deep copy of a JSON-like value with every string (keys stay) passed through `redactText`. */
export function redactDeep<T>(value: T, known: readonly string[] = []): T {
  const sorted = [...new Set(known)].filter((v) => v.length >= MIN_KNOWN_SECRET).sort((a, b) => b.length - a.length);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactText(v, sorted);
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
