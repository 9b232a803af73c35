import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';

/**
 * What the edge and the front share as reverse proxies: which headers stop at the proxy, and how an
 * upstream answer reaches the client. Kept here, below both, so neither imports the other.
 */

/**
 * Headers that belong to one connection and are not passed on, either way. `host` and
 * `content-length` too: each side's HTTP stack sets them for its own request or answer.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

/** An upstream answer as undici's `request` gives it. */
export type UpstreamAnswer = Pick<Dispatcher.ResponseData, 'statusCode' | 'headers' | 'body'>;

/** An upstream answer's headers to send to the client: all but the hop-by-hop ones. */
export function answerHeaders(headers: UpstreamAnswer['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && !HOP_BY_HOP.has(k.toLowerCase())) out[k] = v;
  }
  return out;
}

/**
 * Send an upstream answer to the client unchanged (status, headers but hop-by-hop, body) as it is
 * produced. Headers are flushed at once because an SSE stream may send its first event much later,
 * and a write waits for `drain` so a slow client holds the upstream back instead of filling memory.
 * Errors (the upstream or the client going away) are the caller's: it knows what to answer.
 */
export async function pipeAnswer(up: UpstreamAnswer, res: ServerResponse): Promise<void> {
  res.writeHead(up.statusCode, answerHeaders(up.headers));
  res.flushHeaders();
  for await (const chunk of up.body) {
    if (!res.write(chunk as Buffer)) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}

/**
 * A JSON-RPC error answer for a request the proxy refuses itself (the edge for a policed server, the
 * stdio bridge), with `headers` beside the content type (e.g. `connection: close` after a body over its bound).
 */
export function refuseRpc(
  res: ServerResponse,
  id: string | number | null | undefined,
  code: number,
  message: string,
  status = 200,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ jsonrpc: '2.0', id: id ?? null, error: { code, message } });
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
}
