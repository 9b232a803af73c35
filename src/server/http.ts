import { createServer, type Server } from 'node:http';
import type { ServerHealth } from '../health/monitor.js';
import type { Metrics } from './metrics.js';

/** What the daemon's HTTP face reports; filled in by the loop after every pass. */
export interface DaemonState {
  startedAt: string;
  /** Set after the first complete reconcile pass. */
  firstPassAt: string | null;
  lastPass: { at: string; ms: number; operations: number; failed: number; error: string | null } | null;
  /** Completed passes since start (bursts of events should merge into few). */
  passes: number;
  summary: string;
  /** config or api registration, and why (updated every pass). */
  gatewayMode: { mode: 'config' | 'api'; why: string } | null;
  /** Resolved paths and the gateway endpoint, for `status`. */
  paths: Record<string, string>;
  gateway: { url: string; mcpUrl: string } | null;
}

/** What /status serves: the daemon state plus every server's conditions. */
export type StatusDocument = DaemonState & { servers: ServerHealth[] };

/**
 * Read-only daemon endpoints, bound to 127.0.0.1 by default: `/healthz` (alive), `/readyz` (first
 * reconcile done), `/status` (the last pass and every server's conditions, JSON), `/metrics`
 * (Prometheus). No secrets ever reach this state.
 */
export function createStatusServer(state: () => StatusDocument, metrics?: Metrics): Server {
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
      case '/metrics':
        if (!metrics) return json(404, { error: 'no metrics' });
        void metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
        return;
      default:
        return json(404, { error: 'not found' });
    }
  });
}
