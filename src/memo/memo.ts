/**
 * A pure memo: the last `size` results of a pure function, keyed by a string the caller derives
 * from every input that decides the result (the text itself, or a hash of it). A hit returns the
 * very object a miss returned, deep-frozen, so a caller can never change what a later caller sees;
 * callers cannot tell a hit from a miss except by time. Least recently used entries go first.
 */
export function memoize<A extends unknown[], R>(fn: (...args: A) => R, keyOf: (...args: A) => string, size: number): (...args: A) => R {
  const cache = new Map<string, R>();
  return (...args: A): R => {
    const key = keyOf(...args);
    const hit = cache.get(key);
    if (hit !== undefined || cache.has(key)) {
      cache.delete(key);
      cache.set(key, hit as R);
      return hit as R;
    }
    const value = deepFreeze(fn(...args));
    cache.set(key, value);
    if (cache.size > size) cache.delete(cache.keys().next().value as string);
    return value;
  };
}

/** Freeze an object graph of plain objects and arrays (what the memoized functions return). */
export function deepFreeze<T>(v: T): T {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return v;
  Object.freeze(v);
  for (const x of Object.values(v as Record<string, unknown>)) deepFreeze(x);
  return v;
}
