import { request } from 'undici';
import { ApplyAnswerSchema, type ApplyAnswer } from '../server/http.js';
import type { LockHolder } from '../lock/instance-lock.js';

/** How long `apply --once` waits for the daemon's pass (a recreate of the gateway takes ~10 s). */
export const REMOTE_APPLY_TIMEOUT_MS = 300_000;

/**
 * `apply --once` while the daemon holds the instance lock: ask it for one pass through its HTTP face
 * (with the token from the lock file) and return what that pass did. Null when the holder has no
 * HTTP face (statusPort 0, or not a daemon).
 */
export async function applyThroughDaemon(holder: LockHolder, allowEmpty: boolean): Promise<ApplyAnswer | null> {
  if (!holder.endpoint || !holder.token) return null;
  const address = holder.endpoint.address === '0.0.0.0' || holder.endpoint.address === '::' ? '127.0.0.1' : holder.endpoint.address;
  const host = address.includes(':') ? `[${address}]` : address;
  const r = await request(`http://${host}:${holder.endpoint.port}/apply${allowEmpty ? '?allowEmpty=1' : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${holder.token}` },
    signal: AbortSignal.timeout(REMOTE_APPLY_TIMEOUT_MS),
  });
  const body = (await r.body.json()) as unknown;
  if (r.statusCode !== 200) throw new Error(`the daemon refused the pass (HTTP ${r.statusCode}): ${JSON.stringify(body)}`);
  return ApplyAnswerSchema.parse(body);
}
