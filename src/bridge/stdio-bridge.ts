import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { StdioPipe } from '../docker/attach.js';
import { readBody } from '../proxy/body.js';
import { refuseRpc } from '../proxy/pipe.js';
import { UNFILTERED_HEADER, refusedCallResult, rpcErrorAsToolResult, type CompiledPolicy, type ListedTool } from '../policy/tool-policy.js';

/** Limits of one bridge (docs/adr/0004-stdio-bridge-in-the-edge.md). */
/**
 * The protocol version the bridge asks the stdio server for. One upstream session speaks one
 * version, so it is the version of the main client: LiteLLM 1.77.3 (mcp 1.10.1) speaks 2025-06-18
 * and rejects a newer answer; every current SDK supports it. Clients asking for another version
 * get this one in the initialize answer (the spec's negotiation) and decide.
 */
export const BRIDGE_PROTOCOL_VERSION = '2025-06-18';


export const BRIDGE_LIMITS = {
  /** One POST's body (what the SDK's transport accepted before it stopped capping). */
  maxRequestBytes: 4 * 1024 * 1024,
  /** Calls waiting on the upstream process; more are refused at once, not queued forever. */
  maxPending: 64,
  /** One upstream call; after this the caller gets an error (the process may be stuck). */
  callTimeoutMs: 120_000,
  /** initialize after (re)attach. */
  initTimeoutMs: 30_000,
  /**
   * How long to wait for Docker to restart an exited process. A one-off exit is restarted within
   * about 100 ms (Docker's first backoff; 200, 400 ms for the next quick exits); a server in a crash
   * loop waits in Docker's growing backoff, and LiteLLM 1.77.3 lists servers one after another, so
   * waiting long here held every client's tools/list (it was 30 s).
   */
  restartWaitMs: 2_000,
};

type Id = string | number;
interface JsonRpc {
  jsonrpc: '2.0';
  id?: Id;
  method?: string;
  params?: Record<string, unknown> & { _meta?: Record<string, unknown> };
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/** One POST being answered. The bridge keeps nothing between requests (ADR 0004 amendment 2026-12-02). */
interface Exchange {
  transport: StreamableHTTPServerTransport;
  /** Stops listening for the end of its request (called once, when it ends). */
  unlisten: () => void;
}

interface Pending {
  exchange: Exchange;
  clientId: Id;
  /** The request's method: a tools/call's errors are answered as tool errors (ADR 0021). */
  method: string;
  progress: string | null;
  timer: NodeJS.Timeout;
  /** A tools/list under a tool policy: its answer is filtered (ADR 0021). */
  listPolicy: CompiledPolicy | null;
}

export interface BridgeStats {
  container: string;
  state: 'idle' | 'connecting' | 'ready' | 'down';
  /** POSTs being answered now (nothing outlives its request). */
  open: number;
  pending: number;
  /** initialize requests this bridge sent upstream (one per attach of a live process). */
  upstreamInitializes: number;
  attaches: number;
  callsServed: number;
  protocolVersion: string | null;
}

export interface BridgeDeps {
  container: string;
  /** Attach to the process (fails when the container is not running). */
  attach: (onMessage: (m: unknown) => void) => Promise<StdioPipe>;
  /** Wait for Docker to start the container again after the process exited. */
  waitRunning: () => Promise<boolean>;
  log: Logger;
  /** Default BRIDGE_PROTOCOL_VERSION. */
  protocolVersion?: string;
  /** This server's tool policy now (ADR 0021); absent or null: every tool as the server lists it. */
  policy?: () => CompiledPolicy | null;
}

/**
 * Stateless streamable HTTP onto one long-lived stdio session. `initialize` is done once upstream
 * and its result served to every client (with the upstream's protocol version, so a client that
 * cannot speak it sees the spec's negotiation, not a silent mismatch). No `Mcp-Session-Id` is
 * given: LiteLLM opens a new session for every call, and without an id its client sends no GET and
 * no DELETE (two of five requests per call). Each POST is answered as JSON, or as SSE when it
 * asks for progress. Request ids and progress tokens are remapped so concurrent clients never see
 * each other's traffic; a client that goes away cancels its calls upstream; requests the server
 * sends (sampling, elicitation, roots) get a JSON-RPC error, ping an answer. When the process
 * dies, in-flight calls fail at once and the next call re-attaches and re-initializes.
 */
export class StdioBridge {
  readonly #d: BridgeDeps;
  readonly #open = new Set<Exchange>();
  readonly #pending = new Map<string, Pending>();
  readonly #progress = new Map<string, { exchange: Exchange; token: Id; relatedId: Id }>();
  #pipe: StdioPipe | null = null;
  #connecting: Promise<void> | null = null;
  #init: Record<string, unknown> | null = null;
  #initWaiter: ((m: JsonRpc) => void) | null = null;
  #next = 1;
  #state: BridgeStats['state'] = 'idle';
  #stats = { upstreamInitializes: 0, attaches: 0, callsServed: 0 };

  constructor(deps: BridgeDeps) {
    this.#d = deps;
  }

  stats(): BridgeStats {
    return {
      container: this.#d.container,
      state: this.#state,
      open: this.#open.size,
      pending: this.#pending.size,
      ...this.#stats,
      protocolVersion: (this.#init?.['protocolVersion'] as string | undefined) ?? null,
    };
  }

  close(): void {
    for (const x of this.#open) void x.transport.close();
    this.#pipe?.close();
  }

  /** An HTTP request for this server: a POST on /mcp; GET and DELETE are 405 (no sessions to stream to or end). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const notPost = 'Method not allowed: this server keeps no sessions';
    if (req.method !== 'POST') return refuseRpc(res, null, -32000, notPost, 405, { allow: 'POST' });
    const read = await readBody(req, BRIDGE_LIMITS.maxRequestBytes);
    if ('gone' in read) return; // the client went away while sending: nobody to answer
    // The rest of a body over the bound is read and dropped (readBody); then the connection ends.
    if ('over' in read) return refuseRpc(res, null, -32600, `request body over ${read.over} bytes`, 413, { connection: 'close' });
    let value: unknown;
    try {
      value = JSON.parse(read.body.toString('utf8')) as unknown;
    } catch {
      return refuseRpc(res, null, -32700, 'Parse error: the body is not JSON', 400);
    }
    const messages: unknown[] = Array.isArray(value) ? value : [value];
    const wantsProgress = messages.some((m) => (m as JsonRpc | null)?.params?._meta?.['progressToken'] !== undefined);
    const gone = (): void => this.#end(x);
    const x: Exchange = {
      // JSON is one read for LiteLLM's client; SSE only where progress must reach the caller before the answer.
      transport: new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: !wantsProgress }),
      unlisten: () => {
        res.off('close', gone);
        req.socket.off('close', gone);
      },
    };
    this.#open.add(x);
    res.once('close', gone);
    // A response queued behind another on a pipelined connection gets no 'close' when the socket goes: watch the socket too.
    req.socket.once('close', gone);
    x.transport.onmessage = (m, extra) => {
      void this.#fromClient(x, m as JsonRpc, extra?.requestInfo?.headers?.[UNFILTERED_HEADER] === '1');
    };
    await x.transport.start();
    await x.transport.handleRequest(req, res, value);
  }

  /** The POST's connection closed: answered, or the client went away, and then its calls are cancelled upstream. */
  #end(x: Exchange): void {
    if (!this.#open.delete(x)) return;
    x.unlisten();
    for (const [k, p] of this.#pending) if (p.exchange === x) this.#cancelUpstream(k, 'the client went away');
    void x.transport.close();
  }

  /** Tells the process to stop working on a call nobody will take the answer of, and forgets the call. */
  #cancelUpstream(upstreamId: string, reason: string): Pending | undefined {
    const p = this.#settle(upstreamId);
    if (p) this.#pipe?.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: upstreamId, reason } });
    return p;
  }

  async #reply(x: Exchange, m: JsonRpc, relatedId?: Id): Promise<void> {
    try {
      await x.transport.send(m as never, relatedId !== undefined ? { relatedRequestId: relatedId } : undefined);
    } catch {
      /* the client is gone; nothing to deliver to */
    }
  }

  /** A request the bridge fails itself (busy, unavailable, timed out, cancelled). */
  #error(x: Exchange, id: Id, code: number, message: string, method?: string): Promise<void> {
    return this.#answerError(x, id, method, { code, message });
  }

  /**
   * The answer to a request that failed with `error`, from the bridge or the server. For a tools/call it is a
   * tool error: LiteLLM 1.77.3 cannot take a JSON-RPC error to tools/call (its /mcp/ hangs afterwards for every
   * client; ADR 0021). Otherwise `asIs` (the server's own answer, passed on) or a JSON-RPC error.
   */
  #answerError(x: Exchange, id: Id, method: string | undefined, error: NonNullable<JsonRpc['error']>, asIs?: JsonRpc): Promise<void> {
    if (method === 'tools/call') return this.#reply(x, { jsonrpc: '2.0', id, result: rpcErrorAsToolResult(error) });
    return this.#reply(x, asIs ?? { jsonrpc: '2.0', id, error });
  }

  /** `unfiltered`: a tools/list the edge let through whole (a probe from the host; ADR 0021). */
  async #fromClient(x: Exchange, m: JsonRpc, unfiltered = false): Promise<void> {
    if (m.method === 'initialize' && m.id !== undefined) {
      try {
        await this.#ensureUpstream();
        await this.#reply(x, { jsonrpc: '2.0', id: m.id, result: this.#init! });
      } catch (err) {
        await this.#error(x, m.id, -32603, `stdio server ${this.#d.container} unavailable: ${(err as Error).message}`);
      }
      return;
    }
    // Notifications: initialized is done upstream already. A client's notifications/cancelled names its
    // request id, which is not unique without sessions (LiteLLM's every call is id 1): a client cancels by going away.
    if (m.id === undefined || !m.method) return; // a notification, or a response to a request we never forwarded
    const policy = this.#d.policy?.() ?? null;
    let params = m.params;
    if (policy && m.method === 'tools/call') {
      const name = m.params?.['name'];
      const decision = policy.resolveCall(name);
      if (!decision.ok) {
        this.#d.log.info({ container: this.#d.container, tool: name }, 'edge: tools/call refused by the tool policy');
        await this.#reply(x, { jsonrpc: '2.0', id: m.id, result: refusedCallResult(decision.message) });
        return;
      }
      params = { ...m.params, name: decision.name };
    }
    try {
      await this.#ensureUpstream();
    } catch (err) {
      await this.#error(x, m.id, -32603, `stdio server ${this.#d.container} unavailable: ${(err as Error).message}`, m.method);
      return;
    }
    // While the process was being attached: the client may have gone (nothing to send then), the process may
    // have exited again, and other calls may have filled the queue (the bound counts calls upstream).
    if (!this.#open.has(x)) return;
    const pipe = this.#pipe;
    if (pipe === null) {
      await this.#error(x, m.id, -32000, this.#exited(), m.method);
      return;
    }
    if (this.#pending.size >= BRIDGE_LIMITS.maxPending) {
      const busy = `stdio server ${this.#d.container} is busy (${BRIDGE_LIMITS.maxPending} calls waiting); try again`;
      await this.#error(x, m.id, -32000, busy, m.method);
      return;
    }
    const upstreamId = `b${this.#next++}`;
    let progress: string | null = null;
    const token = m.params?._meta?.['progressToken'] as Id | undefined;
    if (token !== undefined) {
      progress = `p${upstreamId}`;
      this.#progress.set(progress, { exchange: x, token, relatedId: m.id });
      params = { ...params, _meta: { ...m.params!._meta, progressToken: progress } };
    }
    const timer = setTimeout(() => {
      const p = this.#cancelUpstream(upstreamId, 'timeout');
      if (!p) return;
      const late = `no answer from ${this.#d.container} within ${BRIDGE_LIMITS.callTimeoutMs} ms`;
      void this.#error(p.exchange, p.clientId, -32001, late, p.method);
    }, BRIDGE_LIMITS.callTimeoutMs);
    const listPolicy = policy && m.method === 'tools/list' && !unfiltered ? policy : null;
    this.#pending.set(upstreamId, { exchange: x, clientId: m.id, method: m.method, progress, timer, listPolicy });
    pipe.send({ jsonrpc: '2.0', id: upstreamId, method: m.method, ...(params ? { params } : {}) });
  }

  #settle(upstreamId: string): Pending | undefined {
    const p = this.#pending.get(upstreamId);
    if (!p) return undefined;
    this.#pending.delete(upstreamId);
    clearTimeout(p.timer);
    if (p.progress) this.#progress.delete(p.progress);
    return p;
  }

  #fromUpstream(m: JsonRpc): void {
    if (m.id !== undefined && m.method === undefined) {
      if (typeof m.id === 'string' && m.id.startsWith('init-') && this.#initWaiter) {
        this.#initWaiter(m);
        return;
      }
      const p = this.#settle(String(m.id));
      if (!p) return;
      this.#stats.callsServed++;
      const tools = m.result?.['tools'];
      const listed = p.listPolicy && Array.isArray(tools);
      const result = listed ? { ...m.result, tools: p.listPolicy!.filterTools(tools as ListedTool[]) } : m.result;
      const answer: JsonRpc = { ...m, id: p.clientId, ...(result !== undefined ? { result } : {}) };
      void (m.error !== undefined ? this.#answerError(p.exchange, p.clientId, p.method, m.error, answer) : this.#reply(p.exchange, answer));
      return;
    }
    if (m.id !== undefined && m.method) {
      // A request from the server. The bridge is not a client with a model, a user or roots.
      const reply = m.method === 'ping'
        ? { jsonrpc: '2.0', id: m.id, result: {} }
        : { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: `the mcp-reconciler bridge cannot serve ${m.method}` } };
      this.#pipe?.send(reply);
      return;
    }
    if (m.method === 'notifications/progress') {
      const route = this.#progress.get(String(m.params?.['progressToken']));
      if (route) void this.#reply(route.exchange, { ...m, params: { ...m.params, progressToken: route.token } }, route.relatedId);
      return;
    }
    if (m.method === 'notifications/cancelled') {
      const p = this.#settle(String(m.params?.['requestId']));
      if (p) void this.#error(p.exchange, p.clientId, -32800, 'cancelled by the server', p.method);
      return;
    }
    // Server-wide notifications (list_changed, log messages) belong to no request: with no session
    // there is no stream to send them on. Clients list again (LiteLLM lists on every call).
  }

  #ensureUpstream(): Promise<void> {
    if (this.#state === 'ready' && this.#pipe) return Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    this.#state = 'connecting';
    let pipe: StdioPipe;
    try {
      pipe = await this.#d.attach((m) => this.#fromUpstream(m as JsonRpc));
    } catch (err) {
      // Exited and being restarted by Docker: wait for it, then attach.
      if (!(await this.#d.waitRunning())) {
        this.#state = 'down';
        throw err;
      }
      pipe = await this.#d.attach((m) => this.#fromUpstream(m as JsonRpc));
    }
    this.#stats.attaches++;
    this.#pipe = pipe;
    void pipe.closed.then(() => this.#onExit(pipe));
    const id = `init-${this.#next++}`;
    const answer = new Promise<JsonRpc>((resolve, reject) => {
      const late = `no answer to initialize within ${BRIDGE_LIMITS.initTimeoutMs} ms`;
      const t = setTimeout(() => reject(new Error(late)), BRIDGE_LIMITS.initTimeoutMs);
      this.#initWaiter = (m) => {
        clearTimeout(t);
        resolve(m);
      };
    });
    const protocolVersion = this.#d.protocolVersion ?? BRIDGE_PROTOCOL_VERSION;
    const clientInfo = { name: 'mcp-reconciler-bridge', version: '0.1.0' };
    pipe.send({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion, capabilities: {}, clientInfo } });
    this.#stats.upstreamInitializes++;
    let m: JsonRpc;
    try {
      m = await answer;
    } finally {
      this.#initWaiter = null;
    }
    if (!m.result) {
      this.#state = 'down';
      pipe.close();
      throw new Error(`initialize failed: ${m.error?.message ?? 'no result'}`);
    }
    this.#init = m.result;
    pipe.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    this.#state = 'ready';
    const attached = { container: this.#d.container, protocolVersion: m.result['protocolVersion'], attaches: this.#stats.attaches };
    this.#d.log.info(attached, 'stdio bridge attached');
  }

  #exited(): string {
    return `stdio server ${this.#d.container} exited; the call did not complete (Docker restarts it; try again)`;
  }

  #onExit(pipe: StdioPipe): void {
    if (this.#pipe !== pipe) return;
    this.#pipe = null;
    this.#state = 'down';
    // Exited during initialize: fail it now, not after initTimeoutMs.
    this.#initWaiter?.({ jsonrpc: '2.0', error: { code: -32000, message: 'the process exited during initialize' } });
    // Fail every call in flight at once, instead of letting it hang.
    for (const k of [...this.#pending.keys()]) {
      const p = this.#settle(k);
      if (p) void this.#error(p.exchange, p.clientId, -32000, this.#exited(), p.method);
    }
    this.#d.log.warn({ container: this.#d.container }, 'stdio server exited; the next call re-attaches');
  }
}
