import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request } from 'undici';
import type { Logger } from 'pino';
import type { StdioBridge } from '../bridge/stdio-bridge.js';
import { UNFILTERED_HEADER, refusedCallResult, rpcErrorAsToolResult, type CompiledPolicy, type ListedTool } from '../policy/tool-policy.js';
import type { PolicyLookup } from './tool-policy-file.js';
import { HOP_BY_HOP, answerHeaders, pipeAnswer, refuseRpc } from '../proxy/pipe.js';
import { readBody } from '../proxy/body.js';

/**
 * The edge: a stateless reverse proxy between LiteLLM and streamable-HTTP MCP servers.
 *
 * Why it exists (docs/adr/0003-edge-normalizes-litellm-headers.md): LiteLLM 1.77.3 always sets
 * `MCP-Protocol-Version: 2025-06-18`, and its mcp 1.10.1 client adds `mcp-protocol-version`
 * again after `initialize`. The header then arrives twice ("2025-06-18, 2025-06-18") and servers
 * built on the current MCP SDK answer 400, so LiteLLM lists no tools. The edge forwards every
 * request unchanged except that it keeps one value of that header.
 *
 * Routing carries no state: `/<container>/<port>/<path>` -> `http://<container>:<port>/<path>`,
 * and only container names with the stack's prefix are reachable. Only the gateway and the host
 * may use it (docs/adr/0007): MCP servers share a network with the edge but are refused.
 */
export interface EdgeOptions {
  port: number;
  host?: string;
  allowPrefix: string;
  log: Logger;
  /** Where a routed container is reached; tests point it at 127.0.0.1. Default `http://<name>:<port>`. */
  origin?: (name: string, port: number) => string;
  /** stdio bridges by container name (`/<container>/stdio/mcp`); absent: no stdio routes. */
  bridgeFor?: (container: string) => StdioBridge;
  /** Stats of every bridge, served at /_bridges. */
  bridgeStats?: () => unknown;
  /** Remote streamable-HTTP servers (`url:`, ADR 0022): `/<name>/remote` -> this URL. Only these. */
  remotes?: ReadonlyMap<string, string>;
  /** Who may use the edge (ADR 0007); absent: everyone (tests of the routing alone). */
  peers?: { allows(remote: string | undefined): Promise<boolean>; isGateway?(remote: string | undefined): boolean };
  /** Tool policy per server (ADR 0021); absent: every tool passes as the server lists it. */
  toolPolicy?: PolicyLookup;
}


/** A request body the edge reads to apply a tool policy: MCP requests are small. */
export const MAX_POLICED_BODY_BYTES = 4 * 1024 * 1024;

/** "2025-06-18, 2025-06-18" (LiteLLM sends the header twice) -> the last, negotiated value. */
export function lastProtocolVersion(v: string): string {
  return v.split(',').pop()!.trim();
}

/** Headers to forward upstream: hop-by-hop dropped, mcp-protocol-version kept once (the last, negotiated value). */
export function forwardHeaders(rawHeaders: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (HOP_BY_HOP.has(name)) continue;
    if (name === 'mcp-protocol-version') {
      out[name] = lastProtocolVersion(value);
      continue;
    }
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  return out;
}

/** `/mcp-everything/3001/mcp?x=1` -> upstream URL, or null when the route is not allowed. */
export function upstreamFor(
  url: string,
  allowPrefix: string,
  origin: (name: string, port: number) => string = (n, p) => `http://${n}:${p}`,
): string | null {
  const m = /^\/([a-z0-9][a-z0-9-]*)\/(\d{1,5})(\/[^?#]*)?(\?.*)?$/.exec(url);
  if (!m) return null;
  const [, host, port, path, query] = m as unknown as [string, string, string, string | undefined, string | undefined];
  if (!host.startsWith(allowPrefix) || host === `${allowPrefix}litellm` || host === `${allowPrefix}edge`) return null;
  const p = Number(port);
  if (p < 1 || p > 65535) return null;
  return `${origin(host, p)}${path ?? '/'}${query ?? ''}`;
}

/** `/mcp-x/remote?y=1` -> the remote URL given for mcp-x (its query and the request's joined), or null. */
export function remoteFor(url: string, remotes: ReadonlyMap<string, string> | undefined): string | null {
  const m = /^\/([a-z0-9][a-z0-9-]*)\/remote(\/[^?#]*)?(\?[^#]*)?$/.exec(url);
  const base = m ? remotes?.get(m[1] as string) : undefined;
  if (!m || base === undefined) return null;
  const u = new URL(base);
  if (m[2] && m[2] !== '/') u.pathname = `${u.pathname.replace(/\/$/, '')}${m[2]}`;
  for (const [k, v] of new URLSearchParams(m[3] ?? '')) u.searchParams.append(k, v);
  return u.toString();
}

export function createEdgeServer(opts: EdgeOptions): Server {
  const server = createServer((req, res) => {
    void handle(req, res, opts);
  });
  return server;
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: EdgeOptions): Promise<void> {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  // Only the gateway and the host: an MCP server shares a network with the edge but may not use it.
  if (opts.peers && !(await opts.peers.allows(req.socket.remoteAddress))) {
    opts.log.warn({ peer: req.socket.remoteAddress }, 'edge: request from a peer that is not the gateway refused');
    res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'only the gateway may use the edge' }));
    return;
  }
  if (req.headers[UNFILTERED_HEADER] !== undefined) {
    const remote = req.socket.remoteAddress;
    const trusted = req.headers[UNFILTERED_HEADER] === '1' && opts.peers?.isGateway !== undefined && !opts.peers.isGateway(remote);
    if (!trusted) dropHeader(req, UNFILTERED_HEADER);
  }
  if (req.url === '/_bridges' && opts.bridgeStats) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(opts.bridgeStats()));
    return;
  }
  const stdio = /^\/([a-z0-9][a-z0-9-]*)\/stdio\/mcp\/?(\?.*)?$/.exec(req.url ?? '');
  if (stdio && opts.bridgeFor) {
    const name = stdio[1] as string;
    if (!name.startsWith(opts.allowPrefix)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unknown route' }));
      return;
    }
    if (!policyReady(opts, res)) return;
    normalizeProtocolHeader(req);
    try {
      await opts.bridgeFor(name).handle(req, res);
    } catch (err) {
      opts.log.warn({ container: name, err: (err as Error).message }, 'edge: stdio bridge failed');
      const full = (err as Error).name === 'BridgeLimitError';
      if (!res.headersSent) {
        res.writeHead(full ? 503 : 502, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: full ? 'too many stdio bridges' : 'bridge failed' }));
      }
    }
    return;
  }
  const target = remoteFor(req.url ?? '', opts.remotes) ?? upstreamFor(req.url ?? '', opts.allowPrefix, opts.origin);
  if (!target) {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unknown route' }));
    return;
  }
  if (!policyReady(opts, res)) return;
  const container = /^\/([a-z0-9][a-z0-9-]*)\//.exec(req.url ?? '')?.[1] ?? '';
  const policy = opts.toolPolicy?.forServer(container.slice(opts.allowPrefix.length)) ?? null;
  if (req.method === 'POST') {
    await proxyPost(req, res, target, policy, opts, req.headers[UNFILTERED_HEADER] === '1');
    return;
  }
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  try {
    const method = (req.method ?? 'GET') as 'GET';
    const hasBody = method !== 'GET' && method !== ('HEAD' as string);
    const up = await request(target, {
      method,
      headers: forwardHeaders(req.rawHeaders),
      ...(hasBody ? { body: req } : {}),
      signal: abort.signal,
      headersTimeout: 30_000,
      bodyTimeout: 0, // SSE streams stay open
    });
    await pipeAnswer(up, res);
  } catch (err) {
    if (abort.signal.aborted) return;
    opts.log.warn({ target, err: (err as Error).message }, 'edge: upstream failed');
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'upstream unavailable' }));
    } else res.destroy();
  }
}

/** Keep one mcp-protocol-version (the last, negotiated one) on a request handled in-process. */
export function normalizeProtocolHeader(req: IncomingMessage): void {
  const v = req.headers['mcp-protocol-version'];
  if (typeof v === 'string' && v.includes(',')) req.headers['mcp-protocol-version'] = lastProtocolVersion(v);
  const raw: string[] = [];
  let last: string | null = null;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if ((req.rawHeaders[i] as string).toLowerCase() === 'mcp-protocol-version') last = req.rawHeaders[i + 1] as string;
    else raw.push(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  }
  if (last !== null) raw.push('mcp-protocol-version', lastProtocolVersion(last));
  req.rawHeaders.splice(0, req.rawHeaders.length, ...raw);
}

/** Before a good policy file was read, MCP routes answer 503 (fail closed; ADR 0021). */
function policyReady(opts: EdgeOptions, res: ServerResponse): boolean {
  if (!opts.toolPolicy || opts.toolPolicy.ready()) return true;
  res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'tool policy not loaded yet' }));
  return false;
}

interface Message {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: unknown;
}

/**
 * A tools/list answer with the policy applied, as JSON-RPC text; other messages unchanged.
 * `id` is the request's: only its answer is filtered.
 */
export function policeAnswer(text: string, id: Message['id'], policy: CompiledPolicy): string {
  let m: Message;
  try {
    m = JSON.parse(text) as Message;
  } catch {
    return text;
  }
  if (m === null || typeof m !== 'object' || m.id !== id || !Array.isArray(m.result?.['tools'])) return text;
  return JSON.stringify({ ...m, result: { ...m.result, tools: policy.filterTools(m.result['tools'] as ListedTool[]) } });
}

/** The answer to the tools/call `id`, when it is a JSON-RPC error, as a tool error (rpcErrorAsToolResult); other text unchanged. */
export function softenCallError(text: string, id: Message['id']): string {
  let m: Message;
  try {
    m = JSON.parse(text) as Message;
  } catch {
    return text;
  }
  if (m === null || typeof m !== 'object' || m.id !== id || m.error === undefined) return text;
  return JSON.stringify({ jsonrpc: '2.0', id, result: rpcErrorAsToolResult(m.error) });
}

/** What the edge changes in the answer to one request: nothing, a tools/list (policy), a tools/call (errors). */
type Rewrite = ((text: string) => string) | null;

/** One SSE event block (`event: message\ndata: {...}`) with its data rewritten. */
export function rewriteEvent(block: string, rewrite: (text: string) => string): string {
  const lines = block.split(/\r?\n/);
  const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, ''));
  if (data.length === 0) return block;
  const out = rewrite(data.join('\n'));
  if (out === data.join('\n')) return block;
  return [...lines.filter((l) => !l.startsWith('data:')), `data: ${out}`].join('\n');
}

/** One SSE event block with its data policed. */
export function policeEvent(block: string, id: Message['id'], policy: CompiledPolicy): string {
  return rewriteEvent(block, (text) => policeAnswer(text, id, policy));
}

/**
 * A POST to an MCP server: the body is read whole (capped). With a tool policy, a tools/call for a
 * name the policy does not expose is answered here with a tool error (refusedCallResult) and never
 * forwarded, a renamed tool is called by the server's name, and the answer to a tools/list is
 * filtered (JSON or SSE). With or without one, a JSON-RPC error answered to a tools/call reaches
 * LiteLLM as a tool error (softenCallError): 1.77.3 cannot take the error itself (ADR 0021).
 */
async function proxyPost(
  req: IncomingMessage,
  res: ServerResponse,
  target: string,
  policy: CompiledPolicy | null,
  opts: EdgeOptions,
  unfiltered: boolean,
): Promise<void> {
  const read = await readBody(req, MAX_POLICED_BODY_BYTES);
  if ('gone' in read) return; // the client went away while sending: nobody to answer
  if ('over' in read) {
    // The rest of the body is read and dropped (readBody); then the connection ends.
    refuseRpc(res, null, -32600, `request larger than ${MAX_POLICED_BODY_BYTES} bytes`, 413, { connection: 'close' });
    return;
  }
  let body = read.body.toString('utf8');
  let msg: Message | Message[] | null = null;
  try {
    msg = JSON.parse(body) as Message | Message[];
  } catch {
    msg = null; // not JSON: the server answers it (a parse error), nothing of a tool in it
  }
  if (Array.isArray(msg)) {
    // JSON-RPC batches left MCP in 2025-06-18 and LiteLLM sends none; refusing is simpler than policing each.
    if (policy && msg.some((m) => m?.method === 'tools/call' || m?.method === 'tools/list')) {
      refuseRpc(res, null, -32600, 'batched tools requests are not served for a server with a tool policy', 400);
      return;
    }
    msg = null;
  }
  let rewrite: Rewrite = null;
  if (msg && typeof msg === 'object' && msg.method === 'tools/call') {
    const name = msg.params?.['name'];
    const decision = policy ? policy.resolveCall(name) : { ok: true as const, name };
    if (!decision.ok) {
      opts.log.info({ target, tool: name }, 'edge: tools/call refused by the tool policy');
      const answer = JSON.stringify({ jsonrpc: '2.0', id: msg.id ?? null, result: refusedCallResult(decision.message) });
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
      return;
    }
    if (decision.name !== name) body = JSON.stringify({ ...msg, params: { ...msg.params, name: decision.name } });
    const callId = msg.id;
    if (callId !== undefined) rewrite = (text) => softenCallError(text, callId);
  } else if (policy && !unfiltered && msg && typeof msg === 'object' && msg.method === 'tools/list' && msg.id !== undefined) {
    const listId = msg.id;
    rewrite = (text) => policeAnswer(text, listId, policy);
  }
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  try {
    const fwd = forwardHeaders(req.rawHeaders);
    delete fwd[UNFILTERED_HEADER];
    const up = await request(target, {
      method: 'POST',
      headers: fwd,
      body,
      signal: abort.signal,
      headersTimeout: 30_000,
      bodyTimeout: 0,
    });
    if (rewrite === null) {
      await pipeAnswer(up, res);
      return;
    }
    const headers = answerHeaders(up.headers);
    const type = String(up.headers['content-type'] ?? '');
    if (type.includes('application/json')) {
      const text = rewrite(await up.body.text());
      res.writeHead(up.statusCode, headers).end(text);
      return;
    }
    // An SSE answer: events pass one by one, each complete event policed.
    res.writeHead(up.statusCode, headers);
    res.flushHeaders();
    let buf = '';
    for await (const chunk of up.body) {
      buf += (chunk as Buffer).toString('utf8');
      let m: RegExpExecArray | null;
      while ((m = /\r?\n\r?\n/.exec(buf)) !== null) {
        const block = buf.slice(0, m.index);
        buf = buf.slice(m.index + m[0].length);
        const out = type.includes('text/event-stream') ? rewriteEvent(block, rewrite) : block;
        if (!res.write(`${out}\n\n`)) await new Promise((r) => res.once('drain', r));
      }
    }
    res.end(buf);
  } catch (err) {
    if (abort.signal.aborted) return;
    opts.log.warn({ target, err: (err as Error).message }, 'edge: upstream failed');
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'upstream unavailable' }));
    else res.destroy();
  }
}

/** Remove a header from a request handled further on (parsed and raw forms). */
function dropHeader(req: IncomingMessage, name: string): void {
  delete req.headers[name];
  const raw: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if ((req.rawHeaders[i] as string).toLowerCase() !== name) raw.push(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  }
  req.rawHeaders.splice(0, req.rawHeaders.length, ...raw);
}
