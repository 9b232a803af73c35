import { createServer, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Metrics } from './metrics.js';
import { mcpUrl, checkHost } from '../clients/render.js';
import type { StatusDocument } from '../status/document.js';
import { PAGE_CSP, renderStatusPage } from './page.js';

/** The answer of `POST /apply`: one pass run by the daemon for `apply --once` (parsed by the CLI). */
export const ApplyAnswerSchema = z.object({
  plan: z.string(),
  failed: z.array(z.object({ resourceId: z.string(), error: z.string() })),
  problems: z.array(z.object({ file: z.string(), message: z.string() })),
  unconverged: z.number().int(),
  error: z.string().nullable(),
});
export type ApplyAnswer = z.infer<typeof ApplyAnswerSchema>;

/** `POST /apply`: only for a caller that shows the token from the instance lock file (mode 600). */
export interface ApplyHandler {
  token(): string | null;
  run(opts: { allowEmpty: boolean }): Promise<ApplyAnswer>;
}

function sameToken(given: string | undefined, want: string | null): boolean {
  if (!want || !given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(`Bearer ${want}`);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The host a browser used to reach this page (Host header, port dropped), when it is a plain
 * hostname or address; clients on that machine reach the gateway by the same name.
 */
export function clientHostOf(hostHeader: string | undefined, fallback: string): string {
  const fb = fallback === '0.0.0.0' || fallback === '::' || checkHost(fallback) !== null ? '127.0.0.1' : fallback;
  if (!hostHeader) return fb;
  try {
    const host = new URL(`http://${hostHeader}/`).hostname;
    return checkHost(host) === null ? host : fb;
  } catch {
    return fb;
  }
}

export interface StatusServerOptions {
  /** The address the server listens on: the client URL's host when the Host header is unusable. */
  address?: string;
  now?: () => number;
}

/**
 * Daemon endpoints, bound to 127.0.0.1 by default: `/` (the status page, HTML without script),
 * `/healthz` (alive), `/readyz` (first reconcile done), `/status` (the last pass and every
 * server's conditions, JSON), `/metrics` (Prometheus), all read-only; and `POST
 * /apply[?allowEmpty=1]`, one pass for `apply --once` while the daemon holds the instance lock
 * (ADR 0006), accepted only with the lock file's token. `state` gives the document as
 * `buildStatusDocument` made it (src/status/document.ts): already masked; this server shows it as it is.
 */
export function createStatusServer(
  state: () => StatusDocument,
  metrics?: Metrics,
  apply?: ApplyHandler,
  opts: StatusServerOptions = {},
): Server {
  return createServer((req, res) => {
    const json = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    };
    const url = new URL(req.url ?? '/', 'http://daemon');
    if (req.method === 'POST' && url.pathname === '/apply' && apply) {
      req.resume();
      if (!sameToken(req.headers.authorization, apply.token())) return json(401, { error: 'token from the lock file required' });
      const allowEmpty = url.searchParams.get('allowEmpty') === '1';
      void apply.run({ allowEmpty }).then(
        (answer) => json(200, answer),
        (err: unknown) => json(500, { error: err instanceof Error ? err.message : String(err) }),
      );
      return;
    }
    if (req.method !== 'GET') return json(405, { error: 'read-only' });
    if (url.pathname === '/' || url.pathname === '/index.html') {
      const doc = state();
      const host = clientHostOf(req.headers.host, opts.address ?? '127.0.0.1');
      const clientUrl = doc.clientPort ? mcpUrl(host, doc.clientPort) : null;
      const page = renderStatusPage(doc, { now: opts.now?.() ?? Date.now(), clientUrl });
      res
        .writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': PAGE_CSP,
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
          'cache-control': 'no-store',
        })
        .end(page);
      return;
    }
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
