import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { InitializeResultSchema, LATEST_PROTOCOL_VERSION, ListToolsResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { createParser } from 'eventsource-parser';
import { request } from 'undici';
import { clipText, errorMessage } from '../errors/index.js';

/** Default time an MCP probe may take (initialize + tools/list). */
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

export type ProbeResult =
  | { ok: true; tools: string[]; serverName: string | null; latencyMs: number }
  | { ok: false; error: string; latencyMs: number };

/**
 * MCP-level health: `initialize`, then `tools/list`, within a timeout. "Container running" is not
 * "MCP works"; this is. Streamable HTTP is spoken directly (one undici request per message, the
 * SDK's schemas check every answer): the SDK client costs ~5x the CPU per probe, and the daemon
 * probes every server every interval (ADR 0017). SSE servers go through the SDK client.
 */
export async function probeMcp(opts: {
  url: string;
  transport: 'http' | 'sse';
  headers?: Record<string, string>;
  timeoutMs?: number;
}): Promise<ProbeResult> {
  return opts.transport === 'http' ? probeStreamableHttp(opts) : probeMcpWithSdk(opts);
}

/** One JSON-RPC answer to a POST: a JSON body, or the matching `data:` of an SSE body. */
async function rpc(
  url: string,
  headers: Record<string, string>,
  body: { id?: number; method: string; params?: unknown },
  signal: AbortSignal,
): Promise<{ result: unknown; sessionId: string | null }> {
  const res = await request(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', ...body }),
    signal,
  });
  const sessionId = (res.headers['mcp-session-id'] as string | undefined) ?? null;
  const text = await res.body.text();
  if (res.statusCode >= 400) throw new Error(`HTTP ${res.statusCode} for ${body.method}${text ? `: ${clipText(text, 200)}` : ''}`);
  if (body.id === undefined) return { result: null, sessionId };
  const messages: unknown[] = [];
  if (String(res.headers['content-type'] ?? '').includes('text/event-stream')) {
    // Events without a message (a priming event with an id and empty data, for resumption) are skipped.
    const parser = createParser({ onEvent: (e) => (e.data.trim() ? messages.push(JSON.parse(e.data) as unknown) : undefined) });
    parser.feed(text);
  } else if (text) {
    const parsed = JSON.parse(text) as unknown;
    messages.push(...(Array.isArray(parsed) ? parsed : [parsed]));
  }
  const answer = messages.find((m) => typeof m === 'object' && m !== null && (m as { id?: unknown }).id === body.id) as
    | { result?: unknown; error?: { code?: number; message?: string } }
    | undefined;
  if (!answer) throw new Error(`no answer to ${body.method}`);
  if (answer.error) throw new Error(`MCP error ${answer.error.code ?? '?'}: ${answer.error.message ?? ''}`);
  return { result: answer.result, sessionId };
}

/**
 * What the daemon keeps of one streamable-HTTP server between probes (ADR 0017): the session it
 * opened (none for a stateless server) and the negotiated version. While it holds, a probe is one
 * `tools/list` instead of initialize + initialized + tools/list + DELETE.
 */
export interface KeptSession {
  readonly url: string;
  /** `mcp-session-id` (when the server gave one) and `mcp-protocol-version`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly serverName: string | null;
  /** Probes answered on this session so far; a fresh one is opened after KEPT_SESSION_PROBES. */
  readonly probes: number;
}

/** Probes on one kept session before a fresh `initialize` (5 min at the default 30 s): McpReady keeps proving a new session works. */
export const KEPT_SESSION_PROBES = 10;

/**
 * The probe on a kept session: one `tools/list` while `kept` holds for this url. Any failure on it
 * (a restarted server answers 404 for a session it forgot) ends it, and the same probe goes on
 * with a fresh session within the same timeout, so only a server that cannot be probed afresh fails.
 * The answer carries the session to keep next time (null after a failure: nothing is left open).
 */
export async function probeKeepingSession(opts: {
  url: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  kept: KeptSession | null;
}): Promise<ProbeResult & { kept: KeptSession | null }> {
  const started = performance.now();
  const timeout = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`probe timed out after ${timeout} ms`)), timeout);
  const auth = opts.headers ?? {};
  // A session kept at another URL died with its container (a recreated one publishes a new port), and
  // the old address may now be someone else's: nothing, not even a DELETE with this server's credential, goes there.
  const kept = opts.kept?.url === opts.url ? opts.kept : null;
  let opened: Session | null = null;
  let keptEnded = false;
  try {
    if (kept && kept.probes < KEPT_SESSION_PROBES) {
      try {
        const tools = await listTools(opts.url, { ...auth, ...kept.headers }, ac.signal);
        const latencyMs = performance.now() - started;
        return { ok: true, tools, serverName: kept.serverName, latencyMs, kept: { ...kept, probes: kept.probes + 1 } };
      } catch (err) {
        if (ac.signal.aborted) throw err;
      }
    }
    // Ended beside the fresh probe (its DELETE must not spend the probe's time).
    if (kept) {
      keptEnded = true;
      void endSession(kept.url, { ...auth, ...kept.headers });
    }
    opened = await openSession(opts.url, auth, ac.signal);
    const tools = await listTools(opts.url, { ...auth, ...opened.headers }, ac.signal);
    const { headers, serverName } = opened;
    opened = null;
    return { ok: true, tools, serverName, latencyMs: performance.now() - started, kept: { url: opts.url, headers, serverName, probes: 1 } };
  } catch (err) {
    const reason = ac.signal.aborted ? errorMessage(ac.signal.reason) : errorMessage(err);
    // The kept session timed out: end it too (a server that answers again later would keep it forever).
    if (kept && !keptEnded) void endSession(kept.url, { ...auth, ...kept.headers });
    return { ok: false, error: reason, latencyMs: performance.now() - started, kept: null };
  } finally {
    clearTimeout(timer);
    if (opened) await endSession(opts.url, { ...auth, ...opened.headers });
  }
}

/** Ends a kept session (a removed server, the monitor stopping); a stateless server's is nothing to end. */
export async function endKeptSession(kept: KeptSession, headers: Record<string, string> = {}): Promise<void> {
  await endSession(kept.url, { ...headers, ...kept.headers });
}

interface Session {
  headers: Record<string, string>;
  serverName: string;
}

/** initialize + notifications/initialized: the session's headers for the requests after. */
async function openSession(url: string, auth: Record<string, string>, signal: AbortSignal): Promise<Session> {
  const init = await rpc(url, auth, {
    id: 1,
    method: 'initialize',
    params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'mcp-reconciler-probe', version: '0.1.0' } },
  }, signal);
  const info = InitializeResultSchema.parse(init.result);
  const headers = { 'mcp-protocol-version': info.protocolVersion, ...(init.sessionId ? { 'mcp-session-id': init.sessionId } : {}) };
  await rpc(url, { ...auth, ...headers }, { method: 'notifications/initialized' }, signal);
  return { headers, serverName: info.serverInfo.name };
}

/** Every page of `tools/list`. */
async function listTools(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<string[]> {
  const tools: string[] = [];
  let cursor: string | undefined;
  let id = 2;
  do {
    const answer = await rpc(url, headers, { id: id++, method: 'tools/list', params: cursor ? { cursor } : {} }, signal);
    const page = ListToolsResultSchema.parse(answer.result);
    tools.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor);
  return tools;
}

/** DELETE as the SDK's terminateSession does (bounded; a server without sessions ignores it). */
async function endSession(url: string, headers: Record<string, string>): Promise<void> {
  if (!headers['mcp-session-id']) return;
  await request(url, { method: 'DELETE', headers, signal: AbortSignal.timeout(2_000) })
    .then((r) => r.body.dump())
    .catch(() => undefined);
}

/** A probe on a session of its own: opened, listed, DELETEd. */
async function probeStreamableHttp(opts: { url: string; headers?: Record<string, string>; timeoutMs?: number }): Promise<ProbeResult> {
  const { kept, ...result } = await probeKeepingSession({ ...opts, kept: null });
  if (kept) await endKeptSession(kept, opts.headers);
  return result;
}

/** The same probe with the SDK client (SSE servers; the bench's baseline for streamable HTTP). */
export async function probeMcpWithSdk(opts: {
  url: string;
  transport: 'http' | 'sse';
  headers?: Record<string, string>;
  timeoutMs?: number;
}): Promise<ProbeResult> {
  const started = performance.now();
  const timeout = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  // A controller whose timer is cleared at the end: AbortSignal.timeout() would keep every
  // finished probe's request reachable until its timer fires (measured: ~26 KB per probe for 10 s).
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`probe timed out after ${timeout} ms`)), timeout);
  const signal = ac.signal;
  const requestInit: RequestInit = { headers: opts.headers ?? {}, signal };
  const url = new URL(opts.url);
  const transport: Transport =
    opts.transport === 'http'
      ? new StreamableHTTPClientTransport(url, { requestInit })
      : new SSEClientTransport(url, {
        requestInit,
        eventSourceInit: {
          fetch: (u, init) =>
            fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...(opts.headers ?? {}) }, signal }),
        },
      });
  const client = new Client({ name: 'mcp-reconciler-probe', version: '0.1.0' }, { capabilities: {} });
  try {
    await client.connect(transport, { timeout, signal });
    const tools: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined, { timeout, signal });
      tools.push(...page.tools.map((t) => t.name));
      cursor = page.nextCursor;
    } while (cursor);
    return { ok: true, tools, serverName: client.getServerVersion()?.name ?? null, latencyMs: performance.now() - started };
  } catch (err) {
    return { ok: false, error: errorMessage(err), latencyMs: performance.now() - started };
  } finally {
    if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
    clearTimeout(timer);
  }
}
