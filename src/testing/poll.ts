/** Poll (no fixed sleep) until `ok` holds; fails after `timeoutMs` naming what it waited for. */
export async function pollUntil(ok: () => boolean, what = 'a condition', timeoutMs = 5_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
