import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request } from 'undici';
import type { Logger } from 'pino';
import { COLOURS, type ActiveLookup, type Colour } from './active.js';
import { HOP_BY_HOP, pipeAnswer } from '../proxy/pipe.js';

/**
 * The front (ADR 0025): owns the gateway's LAN port and forwards every request, unchanged, to the
 * LiteLLM colour the active file names. A config change starts the other colour beside the
 * running one; the reconciler switches the file once the new one lists the expected tools, and
 * waits here (in-flight counts per colour) until the old one has finished its calls.
 *
 * Nothing is rewritten: path, query, method, body and every header but the hop-by-hop ones pass
 * as they came (`x-litellm-api-key`, `Authorization`, `x-mcp-servers`, `mcp-session-id`), and the
 * answer streams back as it is produced (SSE included). LiteLLM 1.77.3's `/mcp/` keeps no session
 * between requests, so a request may go to another colour than the one before.
 */
export interface FrontOptions {
  /** Where each colour is reached: `mcp-litellm-blue:4000`. */
  upstreams: Readonly<Record<Colour, string>>;
  active: ActiveLookup;
  log: Logger;
  /** Origin of an upstream; tests point it at 127.0.0.1 ports. Default `http://<host:port>`. */
  origin?: (upstream: string) => string;
}

/** The front's own route: its active colour and in-flight counts (no secret; the reconciler drains with it). */
export const FRONT_STATUS_PATH = '/_mcp-reconciler/front';
/** A request carrying this header goes to the named colour (the reconciler probes the standby with it); dropped upstream. */
export const UPSTREAM_HEADER = 'x-mcp-reconciler-upstream';

export interface FrontStatus {
  active: Colour | null;
  /** Per colour: requests being answered now, and answered since start. */
  upstreams: Record<Colour, { upstream: string; inflight: number; served: number }>;
}

/** The front as an object: its HTTP server and its counters (in-process tests read them). */
export interface Front {
  server: Server;
  status(): FrontStatus;
}

/** Headers to forward: every one but hop-by-hop and the front's own routing header, repeated ones joined. */
export function frontHeaders(rawHeaders: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(name) || name === UPSTREAM_HEADER) continue;
    const value = rawHeaders[i + 1] as string;
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  return out;
}

export function createFront(opts: FrontOptions): Front {
  const counts: Record<Colour, { inflight: number; served: number }> = {
    blue: { inflight: 0, served: 0 },
    green: { inflight: 0, served: 0 },
  };
  const status = (): FrontStatus => ({
    active: opts.active.active(),
    upstreams: {
      blue: { upstream: opts.upstreams.blue, ...counts.blue },
      green: { upstream: opts.upstreams.green, ...counts.green },
    },
  });
  const server = createServer((req, res) => {
    if (req.url === FRONT_STATUS_PATH && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status()));
      return;
    }
    const asked = req.headers[UPSTREAM_HEADER];
    const known = (COLOURS as readonly string[]).includes(String(asked));
    const colour = asked === undefined ? opts.active.active() : known ? (asked as Colour) : null;
    if (colour === null) {
      const error = asked === undefined ? 'no active gateway yet' : `unknown ${UPSTREAM_HEADER}`;
      res.writeHead(asked === undefined ? 503 : 400, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
      return;
    }
    const c = counts[colour];
    // In flight = calls (POST, DELETE). A GET is a client's event stream, open for as long as the client
    // lives: counted, a drain would always wait its full bound; the old colour's removal ends it and
    // the client opens it again through the front, on the new colour.
    const call = req.method !== 'GET';
    if (call) c.inflight++;
    let counted = true;
    const done = (): void => {
      if (!counted) return;
      counted = false;
      if (call) c.inflight--;
      c.served++;
    };
    res.on('close', done);
    // A probe of the standby (the reconciler's, with the header) fails until it is up: not worth a warning each time.
    void forward(req, res, opts, opts.upstreams[colour], asked === undefined ? 'warn' : 'debug').finally(done);
  });
  return { server, status };
}

async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  opts: FrontOptions,
  upstream: string,
  level: 'warn' | 'debug',
): Promise<void> {
  const target = `${opts.origin ? opts.origin(upstream) : `http://${upstream}`}${req.url ?? '/'}`;
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  try {
    const method = (req.method ?? 'GET') as 'GET';
    const hasBody = method !== 'GET' && method !== ('HEAD' as string);
    const up = await request(target, {
      method,
      headers: frontHeaders(req.rawHeaders),
      ...(hasBody ? { body: req } : {}),
      signal: abort.signal,
      headersTimeout: 600_000, // a tool call may take minutes
      bodyTimeout: 0, // SSE streams stay open
    });
    // Only hop-by-hop headers drop from an answer: UPSTREAM_HEADER is a request header (it picks the colour).
    await pipeAnswer(up, res);
  } catch (err) {
    if (abort.signal.aborted) return;
    opts.log[level]({ upstream, err: (err as Error).message }, 'front: upstream failed');
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'gateway unavailable' }));
    } else res.destroy();
  }
}
