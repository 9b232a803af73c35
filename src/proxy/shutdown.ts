import type { Server } from 'node:http';

/**
 * How long the edge and the front let calls in flight finish after SIGTERM: under the stop timeout the
 * reconciler gives Docker (STOP_TIMEOUT_S, 5 s), so what is still open then is cut by us, not killed.
 */
export const SHUTDOWN_GRACE_MS = 4_000;
/** How often a closing server closes the keep-alive connections whose answer has ended meanwhile. */
const IDLE_SWEEP_MS = 100;

/**
 * Stop accepting connections and let the requests in flight finish. Node's `close()` closes only the
 * connections idle at that moment, and one whose answer ends later stays open for its keep-alive
 * timeout: so idle connections are closed again every 100 ms, and after `graceMs` whatever is still
 * open (an event stream that never ends) is cut. Resolves when the server has closed.
 */
export function closeGracefully(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(cut);
      resolve();
    });
  });
}
