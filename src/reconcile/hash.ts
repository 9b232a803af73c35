import { createHash, createHmac } from 'node:crypto';

/** JSON with object keys sorted at every depth; undefined fields dropped. Canonicalize before hashing. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortDeep(value));
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    // An undefined field stays undefined, which JSON.stringify leaves out.
    for (const k of Object.keys(v as Record<string, unknown>).sort()) out[k] = sortDeep((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** sha256 of the canonical JSON, hex, first 16 bytes: short enough for a label, long enough to never collide here. */
export function specHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 32);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Digest of secret material for drift detection. Keyed (HMAC with a local key kept beside the
 * secrets) so a label holding it cannot be brute-forced back into a short secret.
 */
export function secretDigest(key: Buffer, material: string): string {
  return createHmac('sha256', key).update(material).digest('hex').slice(0, 32);
}
