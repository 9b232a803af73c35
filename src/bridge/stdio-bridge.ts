import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { StdioPipe } from '../docker/attach.js';
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
  /** Concurrent HTTP sessions; LiteLLM opens one per call and DELETEs it after. */
  maxSessions: 512,
  /** A session nobody used for this long is closed. */
  sessionIdleMs: 120_000,
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

interface Session {
  id: string | undefined;
  transport: StreamableHTTPServerTransport;
  lastActive: number;
}

interface Pending {
  session: Session;
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
  sessions: number;
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
 * Many streamable-HTTP sessions onto one long-lived stdio session. `initialize` is done once
 * upstream and its result served to every new session (with the upstream's protocol version, so a
 * client that cannot speak it sees the spec's negotiation, not a silent mismatch). Request ids,
 * progress tokens and cancellations are remapped so concurrent clients never see each other's
 * traffic; progress goes to the session that asked; requests the server sends (sampling,
 * elicitation, roots) get a JSON-RPC error, ping an answer. When the process dies, in-flight calls
 * fail at once and the next call re-attaches and re-initializes.
 */
export class StdioBridge {
  readonly #d: BridgeDeps;
  readonly #sessions = new Map<string, Session>();
  readonly #pending = new Map<string, Pending>();
  readonly #progress = new Map<string, { session: Session; token: Id; relatedId: Id }>();
  #pipe: StdioPipe | null = null;
  #connecting: Promise<void> | null = null;
  #init: Record<string, unknown> | null = null;
  #initWaiter: ((m: JsonRpc) => void) | null = null;
  #next = 1;
  #state: BridgeStats['state'] = 'idle';
  #stats = { upstreamInitializes: 0, attaches: 0, callsServed: 0 };
  readonly #sweeper: NodeJS.Timeout;

  constructor(deps: BridgeDeps) {
    this.#d = deps;
    this.#sweeper = setInterval(() => this.#sweep(), 10_000);
    this.#sweeper.unref();
  }

  stats(): BridgeStats {
    return {
      container: this.#d.container,
      state: this.#state,
      sessions: this.#sessions.size,
      pending: this.#pending.size,
      ...this.#stats,
      protocolVersion: (this.#init?.['protocolVersion'] as string | undefined) ?? null,
    };
  }

  close(): void {
    clearInterval(this.#sweeper);
    for (const s of this.#sessions.values()) void s.transport.close();
    this.#pipe?.close();
  }

  /** An HTTP request for this server (POST, GET, DELETE on /mcp). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sid = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(sid) ? sid[0] : sid;
    if (sessionId) {
      const s = this.#sessions.get(sessionId);
      if (!s) {
        // The spec: an unknown or expired session is 404; the client starts a new one.
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
        return;
      }
      s.lastActive = Date.now();
      await s.transport.handleRequest(req, res);
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: Mcp-Session-Id header is required' }, id: null }));
      return;
    }
    if (this.#sessions.size >= BRIDGE_LIMITS.maxSessions) this.#evictOldest();
    const session: Session = { id: undefined, transport: undefined as unknown as StreamableHTTPServerTransport, lastActive: Date.now() };
    session.transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        session.id = id;
        this.#sessions.set(id, session);
      },
      onsessionclosed: (id) => {
        this.#dropSession(id);
      },
    });
    session.transport.onmessage = (m, extra) => {
      void this.#fromClient(session, m as JsonRpc, extra?.requestInfo?.headers?.[UNFILTERED_HEADER] === '1');
    };
    session.transport.onclose = () => {
      if (session.id) this.#dropSession(session.id);
    };
    await session.transport.start();
    await session.transport.handleRequest(req, res);
  }

  #dropSession(id: string): void {
    const s = this.#sessions.get(id);
    if (!s) return;
    this.#sessions.delete(id);
    for (const [k, p] of this.#pending) {
      if (p.session !== s) continue;
      // The client went away: tell the server to stop working on its calls.
      this.#pipe?.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: k, reason: 'client session closed' } });
      this.#settle(k);
    }
  }

  #evictOldest(): void {
    let oldest: Session | null = null;
    for (const s of this.#sessions.values()) if (!oldest || s.lastActive < oldest.lastActive) oldest = s;
    if (oldest) void oldest.transport.close();
  }

  #sweep(): void {
    const now = Date.now();
    for (const s of [...this.#sessions.values()]) {
      const busy = [...this.#pending.values()].some((p) => p.session === s);
      if (!busy && now - s.lastActive > BRIDGE_LIMITS.sessionIdleMs) void s.transport.close();
    }
  }

  async #reply(s: Session, m: JsonRpc, relatedId?: Id): Promise<void> {
    try {
      await s.transport.send(m as never, relatedId !== undefined ? { relatedRequestId: relatedId } : undefined);
    } catch {
      /* the client is gone; nothing to deliver to */
    }
  }

  /** A request the bridge fails itself (busy, unavailable, timed out, cancelled). */
  #error(s: Session, id: Id, code: number, message: string, method?: string): Promise<void> {
    return this.#answerError(s, id, method, { code, message });
  }

  /**
   * The answer to a request that failed with `error`, from the bridge or the server. For a tools/call it is a
   * tool error: LiteLLM 1.77.3 cannot take a JSON-RPC error to tools/call (its /mcp/ hangs afterwards for every
   * client; ADR 0021). Otherwise `asIs` (the server's own answer, passed on) or a JSON-RPC error.
   */
  #answerError(s: Session, id: Id, method: string | undefined, error: NonNullable<JsonRpc['error']>, asIs?: JsonRpc): Promise<void> {
    if (method === 'tools/call') return this.#reply(s, { jsonrpc: '2.0', id, result: rpcErrorAsToolResult(error) });
    return this.#reply(s, asIs ?? { jsonrpc: '2.0', id, error });
  }

  /** `unfiltered`: a tools/list the edge let through whole (a probe from the host; ADR 0021). */
  async #fromClient(s: Session, m: JsonRpc, unfiltered = false): Promise<void> {
    s.lastActive = Date.now();
    if (m.method === 'initialize' && m.id !== undefined) {
      try {
        await this.#ensureUpstream();
        await this.#reply(s, { jsonrpc: '2.0', id: m.id, result: this.#init! });
      } catch (err) {
        await this.#error(s, m.id, -32603, `stdio server ${this.#d.container} unavailable: ${(err as Error).message}`);
      }
      return;
    }
    if (m.id === undefined && m.method) {
      // Notifications: initialized is already done upstream; cancellations are remapped.
      if (m.method === 'notifications/cancelled') {
        const target = [...this.#pending.entries()].find(([, p]) => p.session === s && p.clientId === m.params?.['requestId']);
        if (target) {
          this.#pipe?.send({ ...m, params: { ...m.params, requestId: target[0] } });
          this.#settle(target[0]);
        }
      }
      return;
    }
    if (m.id === undefined || !m.method) return; // a response to a request we never forwarded
    const policy = this.#d.policy?.() ?? null;
    let params = m.params;
    if (policy && m.method === 'tools/call') {
      const name = m.params?.['name'];
      const decision = policy.resolveCall(name);
      if (!decision.ok) {
        this.#d.log.info({ container: this.#d.container, tool: name }, 'edge: tools/call refused by the tool policy');
        await this.#reply(s, { jsonrpc: '2.0', id: m.id, result: refusedCallResult(decision.message) });
        return;
      }
      params = { ...m.params, name: decision.name };
    }
    if (this.#pending.size >= BRIDGE_LIMITS.maxPending) {
      const busy = `stdio server ${this.#d.container} is busy (${BRIDGE_LIMITS.maxPending} calls waiting); try again`;
      await this.#error(s, m.id, -32000, busy, m.method);
      return;
    }
    try {
      await this.#ensureUpstream();
    } catch (err) {
      await this.#error(s, m.id, -32603, `stdio server ${this.#d.container} unavailable: ${(err as Error).message}`, m.method);
      return;
    }
    const upstreamId = `b${this.#next++}`;
    let progress: string | null = null;
    const token = m.params?._meta?.['progressToken'] as Id | undefined;
    if (token !== undefined) {
      progress = `p${upstreamId}`;
      this.#progress.set(progress, { session: s, token, relatedId: m.id });
      params = { ...params, _meta: { ...m.params!._meta, progressToken: progress } };
    }
    const timer = setTimeout(() => {
      const p = this.#pending.get(upstreamId);
      if (!p) return;
      this.#pipe?.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: upstreamId, reason: 'timeout' } });
      this.#settle(upstreamId);
      const late = `no answer from ${this.#d.container} within ${BRIDGE_LIMITS.callTimeoutMs} ms`;
      void this.#error(p.session, p.clientId, -32001, late, p.method);
    }, BRIDGE_LIMITS.callTimeoutMs);
    const listPolicy = policy && m.method === 'tools/list' && !unfiltered ? policy : null;
    this.#pending.set(upstreamId, { session: s, clientId: m.id, method: m.method, progress, timer, listPolicy });
    this.#pipe!.send({ jsonrpc: '2.0', id: upstreamId, method: m.method, ...(params ? { params } : {}) });
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
      void (m.error !== undefined ? this.#answerError(p.session, p.clientId, p.method, m.error, answer) : this.#reply(p.session, answer));
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
      if (route) void this.#reply(route.session, { ...m, params: { ...m.params, progressToken: route.token } }, route.relatedId);
      return;
    }
    if (m.method === 'notifications/cancelled') {
      const p = this.#settle(String(m.params?.['requestId']));
      if (p) void this.#error(p.session, p.clientId, -32800, 'cancelled by the server', p.method);
      return;
    }
    // Server-wide notifications (list_changed, log messages): to every session's standalone stream.
    for (const s of this.#sessions.values()) void this.#reply(s, m);
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
      const t = setTimeout(() => reject(new Error(`no answer to initialize within ${BRIDGE_LIMITS.initTimeoutMs} ms`)), BRIDGE_LIMITS.initTimeoutMs);
      this.#initWaiter = (m) => {
        clearTimeout(t);
        resolve(m);
      };
    });
    pipe.send({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: this.#d.protocolVersion ?? BRIDGE_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'mcp-reconciler-bridge', version: '0.1.0' } } });
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
    this.#d.log.info({ container: this.#d.container, protocolVersion: m.result['protocolVersion'], attaches: this.#stats.attaches }, 'stdio bridge attached');
  }

  #onExit(pipe: StdioPipe): void {
    if (this.#pipe !== pipe) return;
    this.#pipe = null;
    this.#state = 'down';
    // Exited during initialize: fail it now, not after initTimeoutMs.
    this.#initWaiter?.({ jsonrpc: '2.0', error: { code: -32000, message: 'the process exited during initialize' } });
    // Fail every call in flight at once, instead of letting it hang.
    const exited = `stdio server ${this.#d.container} exited; the call did not complete (Docker restarts it; try again)`;
    for (const k of [...this.#pending.keys()]) {
      const p = this.#settle(k);
      if (p) void this.#error(p.session, p.clientId, -32000, exited, p.method);
    }
    this.#d.log.warn({ container: this.#d.container }, 'stdio server exited; the next call re-attaches');
  }
}
