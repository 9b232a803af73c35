import { existsSync, writeFileSync, mkdirSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ReconcilerError, ErrorCode } from '../errors/index.js';
import { readRegularFile } from '../fs/safe-read.js';

/** Largest secrets file we read: KEY=VALUE lines, never megabytes. */
export const MAX_ENV_BYTES = 64 * 1024;

/** Parse a docker-style env file: KEY=VALUE lines, # comments, optional surrounding quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  // No prototype: a line `__proto__=x` is a plain key, never the object's prototype.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const raw of text.split(/\r?\n/)) {
    // Blank lines and `# comments` match no `KEY=`; the value is the rest of the line, whatever it holds.
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)/s.exec(raw.trim());
    if (!m) continue;
    let v = m[2] as string;
    if ((v.startsWith('"') && v.endsWith('"') && v.length >= 2) || (v.startsWith("'") && v.endsWith("'") && v.length >= 2)) {
      v = v.slice(1, -1);
    }
    out[m[1] as string] = v;
  }
  return out;
}

/**
 * The variable names of an env file, in file order, each once: the same lines parseEnvFile reads, but
 * no value is ever taken out of the text (the Kubernetes export names keys, never values).
 */
export function envFileKeys(text: string): string[] {
  const keys: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const key = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(raw.trim())?.[1];
    if (key !== undefined && !keys.includes(key)) keys.push(key);
  }
  return keys;
}

/**
 * Lines that `kubectl create secret --from-env-file` reads differently from us (it takes `KEY=VALUE`
 * literally): an `export ` prefix or spaces around `=` (it refuses the line), a quoted value (it keeps
 * the quotes). Each names its line number and key; a value is looked at for its quotes only, never quoted.
 */
export function kubectlEnvFileProblems(text: string): string[] {
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trimStart();
    const m = /^(export\s+)?([A-Za-z_][A-Za-z0-9_]*)(\s*)=(\s*)(.*)$/s.exec(line);
    if (!m) return;
    const [, exp, key, before, after, rest] = m as unknown as [string, string | undefined, string, string, string, string];
    const v = rest.trimEnd();
    const quoted = v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")));
    if (exp) out.push(`line ${i + 1} (${key}): kubectl refuses the export prefix`);
    else if (before || after) out.push(`line ${i + 1} (${key}): kubectl refuses spaces around =`);
    else if (quoted) out.push(`line ${i + 1} (${key}): kubectl keeps the quotes around the value`);
  });
  return out;
}

/**
 * A secrets file is private: group and others have no access, and it belongs to the user the
 * reconciler runs as (root may read anyone's). The message names the file, never its content.
 */
// Stryker disable next-line OptionalChaining: equivalent on Linux, the only platform we run on (process.getuid exists there)
export function checkPrivate(path: string, st: Pick<Stats, 'mode' | 'uid'>, uid: number | undefined = process.getuid?.()): void {
  if ((st.mode & 0o077) !== 0) {
    throw new ReconcilerError(
      ErrorCode.SecretsFileUnsafe,
      `${path} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); fix: chmod 600 ${path}`,
      { location: path },
    );
  }
  // Stryker disable next-line ConditionalExpression: equivalent on Linux; uid is undefined only where process.getuid is missing
  if (uid !== undefined && uid !== 0 && st.uid !== uid) {
    throw new ReconcilerError(ErrorCode.SecretsFileUnsafe, `${path} belongs to uid ${st.uid}, not to this user (uid ${uid}); fix: chown`, {
      location: path,
    });
  }
}

/** Read a secrets file: regular, private, at most MAX_ENV_BYTES (capped while reading). */
export function readSecretsFile(path: string): string {
  try {
    return readRegularFile(path, { maxBytes: MAX_ENV_BYTES, check: (st) => checkPrivate(path, st) });
  } catch (err) {
    // readRegularFile's refusals (UnsafeFileError) and checkPrivate's become one kind of error, located at the file.
    throw new ReconcilerError(ErrorCode.SecretsFileUnsafe, (err as Error).message, { location: path });
  }
}

/** Refuse a secrets file that is not regular, private and small, and say what fixes it. */
export function assertPrivateFile(path: string): void {
  readSecretsFile(path);
}

export function readEnvFile(path: string): Record<string, string> {
  return parseEnvFile(readSecretsFile(path));
}

/** The digest key's file in the secrets dir; never given to a server (resolve.ts). */
export const DIGEST_KEY_FILE = '.mcp-reconciler-digest.key';

/** Local HMAC key for secret digests, created 0600 beside the secrets on first use. */
export function loadOrCreateDigestKey(secretsDir: string): Buffer {
  const path = join(secretsDir, DIGEST_KEY_FILE);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Stryker disable next-line StringLiteral: equivalent but for a race ('wx': a key another process created first is kept)
    writeFileSync(path, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  return Buffer.from(readSecretsFile(path).trim(), 'hex');
}
