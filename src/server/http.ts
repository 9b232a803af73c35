import { createServer, type Server } from 'node:http';

/** What the daemon's HTTP face reports; filled in by the loop after every pass. */
export interface DaemonState {
  startedAt: string;
  /** Set after the first complete reconcile pass. */
  firstPassAt: string | null;
  lastPass: { at: string; ms: number; operations: number; failed: number; error: string | null } | null;
  /** Completed passes since start (bursts of events should merge into few). */
  passes: number;
  summary: string;
}

/**
 * Read-only daemon endpoints, bound to 127.0.0.1 by default: `/healthz` (alive), `/readyz` (first
 * reconcile done), `/status` (the last pass, JSON). No secrets ever reach this state.
 */
export function createStatusServer(state: () => DaemonState): Server {
  return createServer((req, res) => {
    const json = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    };
    if (req.method !== 'GET') return json(405, { error: 'read-only' });
    const s = state();
    switch (req.url) {
      case '/healthz':
        return json(200, { ok: true, startedAt: s.startedAt });
      case '/readyz':
        return s.firstPassAt ? json(200, { ready: true, since: s.firstPassAt }) : json(503, { ready: false });
      case '/status':
        return json(200, s);
      default:
        return json(404, { error: 'not found' });
    }
  });
}
