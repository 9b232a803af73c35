import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Docker Engine API requests made inside one reconcile pass. The runtime adapter (and its fake)
 * report each request with `countApiCall`; the reconciler runs a pass inside `countApiCalls`.
 * Requests made outside a pass (the health monitor's snapshots, the event stream) are not counted.
 */
const scope = new AsyncLocalStorage<{ calls: number }>();

/** One (or `n`) Engine API request(s) made now; counted when inside `countApiCalls`. */
export function countApiCall(n = 1): void {
  const s = scope.getStore();
  if (s) s.calls += n;
}

/** Run `fn`, counting the Engine API requests it makes (also when it throws: `counter.calls`). */
export async function countApiCalls<T>(counter: { calls: number }, fn: () => Promise<T>): Promise<T> {
  return scope.run(counter, fn);
}
