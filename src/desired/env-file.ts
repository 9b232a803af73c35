import { readFileSync, statSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ReconcilerError, ErrorCode } from '../errors/index.js';

/** Parse a docker-style env file: KEY=VALUE lines, # comments, optional surrounding quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2] ?? '';
    if ((v.startsWith('"') && v.endsWith('"') && v.length >= 2) || (v.startsWith("'") && v.endsWith("'") && v.length >= 2)) {
      v = v.slice(1, -1);
    }
    out[m[1] as string] = v;
  }
  return out;
}

/**
 * Refuse a secrets file that group or others can read, and say the chmod that fixes it.
 * The message names the file, never its content.
 */
export function assertPrivateFile(path: string): void {
  const st = statSync(path);
  if ((st.mode & 0o077) !== 0) {
    throw new ReconcilerError(
      ErrorCode.SecretsFileUnsafe,
      `${path} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); fix: chmod 600 ${path}`,
      { location: path },
    );
  }
}

export function readEnvFile(path: string): Record<string, string> {
  assertPrivateFile(path);
  return parseEnvFile(readFileSync(path, 'utf8'));
}

/** Local HMAC key for secret digests, created 0600 beside the secrets on first use. */
export function loadOrCreateDigestKey(secretsDir: string): Buffer {
  const path = join(secretsDir, '.mcp-reconciler-digest.key');
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  return Buffer.from(readFileSync(path, 'utf8').trim(), 'hex');
}
