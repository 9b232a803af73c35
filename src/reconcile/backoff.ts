import type { HeldChange } from '../model/types.js';

/** First wait after a failed change, doubled per further failure of the same change, up to the cap. */
export const BACKOFF_BASE_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;

interface Failure {
  specHash: string;
  failures: number;
  until: number;
  reason: string;
}

/**
 * Failure memory per object, like client-go's ItemExponentialFailureRateLimiter keyed by object:
 * a change that fails is held for 10 s, 20 s, 40 s ... 5 min. A new desired hash (an edit) or
 * `forget` (success, or an explicit `apply --once`) resets it. Events only request a pass; they
 * never bypass this memory, because the planner is told what is held. In memory only: a restarted
 * daemon tries every change once more.
 */
export class FailureMemory {
  readonly #items = new Map<string, Failure>();
  readonly #baseMs: number;
  readonly #maxMs: number;

  constructor(opts: { baseMs?: number; maxMs?: number } = {}) {
    this.#baseMs = opts.baseMs ?? BACKOFF_BASE_MS;
    this.#maxMs = opts.maxMs ?? BACKOFF_MAX_MS;
  }

  /** Record a failed try of `object` towards `specHash`; returns the failure count and the next try. */
  fail(object: string, specHash: string, reason: string, now: number): { failures: number; until: number } {
    const prev = this.#items.get(object);
    const failures = prev && prev.specHash === specHash ? prev.failures + 1 : 1;
    const until = now + this.delay(failures);
    this.#items.set(object, { specHash, failures, until, reason });
    return { failures, until };
  }

  /** The wait after the n-th consecutive failure (n >= 1). */
  delay(failures: number): number {
    return Math.min(this.#baseMs * 2 ** Math.min(failures - 1, 30), this.#maxMs);
  }

  forget(object: string): void {
    this.#items.delete(object);
  }

  clear(): void {
    this.#items.clear();
  }

  /** Objects whose wait has not run out at `now` (input of the planner). */
  held(now: number): HeldChange[] {
    const out: HeldChange[] = [];
    for (const [object, f] of this.#items) {
      if (f.until > now) {
        out.push({
          object,
          specHash: f.specHash,
          until: f.until,
          failures: f.failures,
          reason: f.reason,
          nextTryIn: formatWait(f.until - now),
        });
      }
    }
    return out;
  }

  /** Every remembered failure, held or due (for status). */
  entries(): ({ object: string } & Failure)[] {
    return [...this.#items].map(([object, f]) => ({ object, ...f }));
  }

  get(object: string): Failure | undefined {
    return this.#items.get(object);
  }

  /** The earliest time a held change becomes due, or null. */
  nextDue(now: number): number | null {
    let min: number | null = null;
    for (const f of this.#items.values()) if (f.until > now && (min === null || f.until < min)) min = f.until;
    return min;
  }
}

/** `40 s`, `2 min 30 s`. */
export function formatWait(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
}
