import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { request } from 'undici';
import { connect as connectSocket, type AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioBridge, BRIDGE_LIMITS } from './stdio-bridge.js';
import type { StdioPipe } from '../docker/attach.js';
import { createLogger } from '../log/logger.js';
import { CompiledPolicy, UNFILTERED_HEADER } from '../policy/tool-policy.js';
import { pollUntil } from '../testing/poll.js';

type Msg = {
  id?: string | number;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { code: number; message: string };
};

/** A fake stdio MCP server process: what the bridge would reach through Docker attach. */
class FakeProcess {
  seen: Msg[] = [];
  #emit: (m: unknown) => void = () => undefined;
  #waiting = new Map<string | number, (m: Msg) => void>();
  #slow = new Map<string | number, () => void>();

  pipe(onMessage: (m: unknown) => void): StdioPipe {
    this.#emit = onMessage;
    return { send: (m) => this.#handle(m as Msg), closed: new Promise(() => undefined), close: () => undefined };
  }

  /** Send a request to the bridge (as a server would) and wait for its answer. */
  ask(m: Msg): Promise<Msg> {
    return new Promise((resolve) => {
      this.#waiting.set(m.id!, resolve);
      this.#emit({ jsonrpc: '2.0', ...m });
    });
  }

  /** A notification from the server, as it is. */
  notify(m: Msg): void {
    this.#emit({ jsonrpc: '2.0', ...m });
  }

  /** The server cancels a call it is working on (as a server may, e.g. on shutdown). */
  cancel(requestId: string | number): void {
    this.#slow.delete(requestId);
    this.#emit({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason: 'shutting down' } });
  }

  #handle(m: Msg): void {
    this.seen.push(m);
    if (m.id !== undefined && m.method === undefined) {
      this.#waiting.get(m.id)?.(m);
      return;
    }
    const reply = (result: unknown): void => {
      setImmediate(() => this.#emit({ jsonrpc: '2.0', id: m.id, result }));
    };
    switch (m.method) {
      case 'initialize':
        return reply({
          protocolVersion: (m.params as { protocolVersion: string }).protocolVersion,
          capabilities: { tools: {} },
          serverInfo: { name: 'fake', version: '1' },
        });
      case 'tools/list':
        return reply({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }, { name: 'slow', inputSchema: { type: 'object' } }] });
      case 'tools/call': {
        const name = (m.params as { name: string }).name;
        if (name === 'fail') {
          setImmediate(() => this.#emit({ jsonrpc: '2.0', id: m.id, error: { code: -32602, message: 'Invalid arguments for tool fail' } }));
          return;
        }
        if (name === 'slow') {
          this.#slow.set(m.id!, () => reply({ content: [{ type: 'text', text: 'late' }] }));
          return;
        }
        if (name === 'progress') {
          // Two progress notifications with the token the bridge sent up, then the answer.
          const token = (m.params as { _meta?: { progressToken?: unknown } })._meta?.progressToken;
          // Progress for nobody (an unknown token, no params at all) goes nowhere and breaks nothing.
          this.#emit({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'unknown', progress: 9 } });
          this.#emit({ jsonrpc: '2.0', method: 'notifications/progress' });
          for (const progress of [1, 2]) {
            this.#emit({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress, total: 2 } });
          }
          return reply({ content: [{ type: 'text', text: `token ${String(token)}` }] });
        }
        return reply({ content: [{ type: 'text', text: JSON.stringify((m.params as { arguments: unknown }).arguments) }] });
      }
      case 'notifications/cancelled':
        this.#slow.delete((m.params as { requestId: string }).requestId);
        return;
      default:
        return;
    }
  }
}

/** The bridge behind an HTTP server on 127.0.0.1: its /mcp URL, and how to stop both. */
async function serve(bridge: StdioBridge): Promise<{ url: string; stop: () => void }> {
  const http = createServer((req, res) => void bridge.handle(req, res));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const stop = (): void => {
    bridge.close();
    http.close();
    http.closeAllConnections();
  };
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`, stop };
}

/** A bridge to the fake process (always running, attached on the first call). */
function bridgeFor(fake: FakeProcess): StdioBridge {
  return new StdioBridge({
    container: 'fake',
    attach: async (on) => fake.pipe(on),
    waitRunning: async () => true,
    log: createLogger({ level: 'silent' }),
  });
}

/** For one describe block: a fake process and its bridge, served from before the block's tests until after them. */
function servedFake(): { fake: FakeProcess; url: () => string; bridge: () => StdioBridge } {
  const fake = new FakeProcess();
  let served: { url: string; stop: () => void; bridge: StdioBridge } | null = null;
  before(async () => {
    const bridge = bridgeFor(fake);
    served = { ...(await serve(bridge)), bridge };
  });
  after(() => served?.stop());
  return { fake, url: () => served!.url, bridge: () => served!.bridge };
}

/** An SDK client connected to the bridge at `url`. */
async function connectTo(url: string, name = 't'): Promise<Client> {
  const c = new Client({ name, version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  return c;
}

describe('stdio bridge (hermetic: a fake process behind the real SDK transport)', () => {
  const { fake, url, bridge } = servedFake();
  const connect = (): Promise<Client> => connectTo(url());

  test('initialize once upstream (2025-06-18) for many clients; ids remapped', async () => {
    const a = await connect();
    const b = await connect();
    const echoed = async (c: Client, x: number): Promise<unknown> =>
      JSON.parse(((await c.callTool({ name: 'echo', arguments: { x } })).content as { text: string }[])[0]!.text);
    assert.deepEqual(await echoed(a, 1), { x: 1 });
    assert.deepEqual(await echoed(b, 2), { x: 2 });
    const inits = fake.seen.filter((m) => m.method === 'initialize');
    assert.equal(inits.length, 1);
    assert.equal((inits[0]!.params as { protocolVersion: string }).protocolVersion, '2025-06-18');
    const initialized = fake.seen.filter((m) => m.method === 'notifications/initialized');
    assert.equal(initialized.length, 1, "clients' initialized notifications are not forwarded");
    const calls = fake.seen.filter((m) => m.method === 'tools/call').map((m) => m.id);
    assert.ok(calls.every((id) => typeof id === 'string' && id.startsWith('b')), `upstream ids are the bridge's own: ${calls.join(',')}`);
    await a.close();
    await b.close();
  });

  test('requests from the server: ping is answered, sampling gets -32601', async () => {
    const c = await connect(); // a client is connected, the process is attached
    const ping = await fake.ask({ id: 's-ping', method: 'ping' });
    assert.deepEqual(ping.result, {});
    const sampling = await fake.ask({ id: 's-sample', method: 'sampling/createMessage', params: {} });
    assert.equal(sampling.error?.code, -32601);
    assert.match(sampling.error!.message, /cannot serve sampling\/createMessage/);
    await c.close();
  });

  test("a client that goes away cancels its call upstream, with the process's own request id", async () => {
    const ac = new AbortController();
    const slow = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: {} } };
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const call = request(url(), { method: 'POST', headers, body: JSON.stringify(slow), signal: ac.signal }).catch((e: Error) => e.name);
    await pollUntil(() => bridge().stats().pending === 1, 'the call upstream');
    const upstreamId = fake.seen.filter((m) => m.method === 'tools/call').pop()!.id;
    ac.abort();
    assert.equal(await call, 'AbortError');
    await pollUntil(() => bridge().stats().pending === 0, 'the call settled');
    const cancel = fake.seen.filter((m) => m.method === 'notifications/cancelled').pop();
    assert.deepEqual(cancel?.params, { requestId: upstreamId, reason: 'the client went away' });
    assert.equal(bridge().stats().open, 0);
  });

  test("a client's notifications/cancelled changes nothing: without sessions its request id names no call of its own", async () => {
    // The SDK client sends notifications/cancelled on abort (in a POST of its own) and keeps the call's POST open.
    let cancelAnswered: (status: number) => void = () => undefined;
    const answered = new Promise<number>((r) => (cancelAnswered = r));
    const fetchSpy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (typeof init?.body === 'string' && init.body.includes('notifications/cancelled')) cancelAnswered(res.status);
      return res;
    };
    const c = new Client({ name: 't', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(url()), { fetch: fetchSpy }));
    const ac = new AbortController();
    const call = c.callTool({ name: 'slow', arguments: {} }, undefined, { signal: ac.signal }).catch((e: Error) => e.name);
    await pollUntil(() => bridge().stats().pending === 1, 'the call upstream');
    const before = fake.seen.length;
    ac.abort('enough');
    await call;
    assert.equal(await answered, 202, 'the bridge took the notification');
    assert.deepEqual(fake.seen.slice(before).filter((m) => m.method === 'notifications/cancelled'), []);
    assert.equal(bridge().stats().pending, 1, 'the call goes on');
    await c.close(); // its POST goes away: now the call is cancelled
    await pollUntil(() => bridge().stats().pending === 0, 'the call cancelled by the close');
  });

  test('the queue of waiting calls is bounded: the next call is refused at once; closing the client cancels upstream', async () => {
    const saved = BRIDGE_LIMITS.maxPending;
    BRIDGE_LIMITS.maxPending = 2;
    const seenBefore = fake.seen.length;
    const c = new Client({ name: 't', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(url()));
    await c.connect(transport);
    try {
      const slow = [0, 1].map(() => c.callTool({ name: 'slow', arguments: {} }).catch(() => 'x'));
      await new Promise((r) => setTimeout(r, 100));
      // A tools/call's failure is a tool error: LiteLLM 1.77.3 cannot take a JSON-RPC error there (ADR 0021).
      const busy = await c.callTool({ name: 'echo', arguments: {} });
      assert.equal(busy.isError, true);
      const text = (busy.content as { text: string }[])[0]!.text;
      assert.match(text, /^MCP error -32000: stdio server fake is busy \(2 calls waiting\); try again$/);
      void slow;
    } finally {
      BRIDGE_LIMITS.maxPending = saved;
      await c.close(); // aborts its open POSTs
    }
    await pollUntil(() => bridge().stats().pending === 0, 'the calls cancelled');
    const cancelled = fake.seen.slice(seenBefore).filter((m) => m.method === 'notifications/cancelled');
    assert.deepEqual(cancelled.map((m) => (m.params as { reason: string }).reason), ['the client went away', 'the client went away']);
  });
});

describe('stdio bridge under a tool policy (ADR 0021)', () => {
  const fake = new FakeProcess();
  let stop: () => void = () => undefined;
  let url = '';
  let bridge: StdioBridge;
  let current: CompiledPolicy | null = new CompiledPolicy({ deny: ['slow'], rename: { echo: 'say' } });
  before(async () => {
    bridge = new StdioBridge({
      container: 'fake',
      attach: async (on) => fake.pipe(on),
      waitRunning: async () => true,
      log: createLogger({ level: 'silent' }),
      policy: () => current,
    });
    ({ url, stop } = await serve(bridge));
  });
  after(() => stop());
  const connect = async (headers: Record<string, string> = {}): Promise<Client> => {
    const c = new Client({ name: 't', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
    return c;
  };

  test('the listing hides denied tools and shows renames; a denied call is refused and never reaches the process', async () => {
    const c = await connect();
    try {
      assert.deepEqual((await c.listTools()).tools.map((t) => t.name), ['say']);
      fake.seen.length = 0;
      for (const name of ['slow', 'echo']) {
        const unknown = { content: [{ type: 'text', text: `MCP error -32602: Unknown tool: ${name}` }], isError: true };
        assert.deepEqual(await c.callTool({ name, arguments: {} }), unknown);
      }
      assert.ok(!fake.seen.some((m) => m.method === 'tools/call'), 'nothing was forwarded');
      const r = await c.callTool({ name: 'say', arguments: { x: 1 } });
      assert.deepEqual(r.content, [{ type: 'text', text: '{"x":1}' }]);
      assert.equal((fake.seen.find((m) => m.method === 'tools/call')?.params as { name: string }).name, 'echo');
    } finally {
      await c.close();
    }
  });

  test('a policy change applies to the next request of the same client', async () => {
    const c = await connect();
    try {
      current = new CompiledPolicy({ allow: ['slow'] });
      assert.deepEqual((await c.listTools()).tools.map((t) => t.name), ['slow']);
      current = null;
      assert.deepEqual((await c.listTools()).tools.map((t) => t.name), ['echo', 'slow']);
    } finally {
      current = new CompiledPolicy({ deny: ['slow'], rename: { echo: 'say' } });
      await c.close();
    }
  });

  test('a listing the edge marked unfiltered is whole; calls stay policed', async () => {
    const c = await connect({ [UNFILTERED_HEADER]: '1' });
    try {
      assert.deepEqual((await c.listTools()).tools.map((t) => t.name), ['echo', 'slow']);
      assert.equal((await c.callTool({ name: 'slow', arguments: {} })).isError, true);
    } finally {
      await c.close();
    }
  });
});

describe('stdio bridge: a failed tools/call is a tool error, other failures stay JSON-RPC errors (ADR 0021)', () => {
  const fake = new FakeProcess();
  let stop: () => void = () => undefined;
  let url = '';
  let bridge: StdioBridge;
  let attachFails = false;
  let exit: () => void = () => undefined;
  before(async () => {
    bridge = new StdioBridge({
      container: 'fake',
      attach: async (on) => {
        if (attachFails) throw new Error('no such container');
        const closed = new Promise<void>((r) => (exit = r));
        return { ...fake.pipe(on), closed };
      },
      waitRunning: async () => false,
      log: createLogger({ level: 'silent' }),
    });
    ({ url, stop } = await serve(bridge));
  });
  after(() => stop());

  test('the server answers a JSON-RPC error: the client gets a tool error with its code and message', async () => {
    const c = new Client({ name: 't', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(url)));
    try {
      const r = await c.callTool({ name: 'fail', arguments: {} });
      assert.deepEqual(r, { content: [{ type: 'text', text: 'MCP error -32602: Invalid arguments for tool fail' }], isError: true });
    } finally {
      await c.close();
    }
  });

  test('the server exits and cannot be attached again: tools/call gets a tool error, tools/list a JSON-RPC error', async () => {
    const c = new Client({ name: 't', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(url)));
    try {
      attachFails = true;
      exit();
      await new Promise((r) => setImmediate(r));
      const r = await c.callTool({ name: 'echo', arguments: {} });
      assert.equal(r.isError, true);
      assert.deepEqual(r.content, [{ type: 'text', text: 'MCP error -32603: stdio server fake unavailable: no such container' }]);
      await assert.rejects(c.listTools(), /MCP error -32603: stdio server fake unavailable: no such container/);
    } finally {
      attachFails = false;
      await c.close();
    }
  });
});

describe('stdio bridge: a process that exits during initialize', () => {
  test('the caller learns it at once, not after initTimeoutMs', async () => {
    const saved = BRIDGE_LIMITS.initTimeoutMs;
    BRIDGE_LIMITS.initTimeoutMs = 60_000; // a wait this long would time the test out
    let attaches = 0;
    const bridge = new StdioBridge({
      container: 'crashy',
      // The process reads nothing and exits as soon as it is attached.
      attach: async () => {
        attaches++;
        return { send: () => undefined, closed: new Promise<void>((r) => setImmediate(r)), close: () => undefined };
      },
      waitRunning: async () => false,
      log: createLogger({ level: 'silent' }),
    });
    const { url, stop } = await serve(bridge);
    try {
      const c = new Client({ name: 't', version: '1' });
      const transport = new StreamableHTTPClientTransport(new URL(url));
      await assert.rejects(c.connect(transport, { timeout: 10_000 }), /initialize failed: the process exited during initialize/);
      assert.equal(attaches, 1);
    } finally {
      BRIDGE_LIMITS.initTimeoutMs = saved;
      stop();
    }
  });
});

describe('stdio bridge: stateless HTTP (no session kept, JSON unless progress is asked for)', () => {
  type Answer = { status: number; type: string | undefined; session: string | null; text: string };
  const post = (url: string, body: string | object, session?: string): Promise<Answer> =>
    request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(session ? { 'mcp-session-id': session } : {}),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }).then(async (r) => ({
      status: r.statusCode,
      type: r.headers['content-type'] as string | undefined,
      session: (r.headers['mcp-session-id'] as string | undefined) ?? null,
      text: await r.body.text(),
    }));
  const init = {
    jsonrpc: '2.0', id: 1, method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  };
  const list = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
  const { fake, url, bridge } = servedFake();

  test('initialize gives no Mcp-Session-Id; every answer is JSON; a stale session id is ignored, not 404', async () => {
    const i = await post(url(), init);
    assert.deepEqual({ status: i.status, type: i.type, session: i.session }, { status: 200, type: 'application/json', session: null });
    assert.equal((JSON.parse(i.text) as { result: { serverInfo: { name: string } } }).result.serverInfo.name, 'fake');
    const l = await post(url(), list, 'from-before-an-upgrade');
    assert.deepEqual({ status: l.status, type: l.type, session: l.session }, { status: 200, type: 'application/json', session: null });
    assert.deepEqual((JSON.parse(l.text) as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name), ['echo', 'slow']);
    assert.deepEqual(bridge().stats().open, 0, 'nothing outlives its request');
  });

  test('GET and DELETE are 405 (no stream to open, no session to end)', async () => {
    for (const method of ['GET', 'DELETE'] as const) {
      const r = await request(url(), { method, headers: { accept: 'text/event-stream', 'mcp-session-id': 'x' } });
      const got = { method, status: r.statusCode, allow: r.headers['allow'], type: r.headers['content-type'], body: await r.body.json() };
      assert.deepEqual(got, {
        method, status: 405, allow: 'POST', type: 'application/json',
        body: { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this server keeps no sessions' }, id: null },
      });
    }
  });

  test('a body that is not JSON is 400 (-32700); one over maxRequestBytes is 413 and never reaches the process', async () => {
    const bad = await post(url(), '{"jsonrpc":');
    assert.deepEqual({ status: bad.status, type: bad.type, body: JSON.parse(bad.text) as unknown }, {
      status: 400, type: 'application/json',
      body: { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error: the body is not JSON' }, id: null },
    });
    const saved = BRIDGE_LIMITS.maxRequestBytes;
    BRIDGE_LIMITS.maxRequestBytes = 1_000;
    try {
      const before = fake.seen.length;
      const big = await post(url(), { ...list, params: { pad: 'x'.repeat(1_000) } });
      assert.deepEqual({ status: big.status, type: big.type, body: JSON.parse(big.text) as unknown }, {
        status: 413, type: 'application/json',
        body: { jsonrpc: '2.0', error: { code: -32600, message: 'request body over 1000 bytes' }, id: null },
      });
      assert.equal(fake.seen.length, before);
      const exact = JSON.stringify({ ...list, params: { pad: 'x'.repeat(900) } });
      BRIDGE_LIMITS.maxRequestBytes = Buffer.byteLength(exact);
      assert.equal((await post(url(), exact)).status, 200, 'a body of exactly maxRequestBytes is served');
    } finally {
      BRIDGE_LIMITS.maxRequestBytes = saved;
    }
  });

  test('a batch is answered as SSE when one of its requests asks for progress', async () => {
    const params = { name: 'progress', arguments: {}, _meta: { progressToken: 't' } };
    const asks = { jsonrpc: '2.0', id: 8, method: 'tools/call', params };
    const r = await post(url(), [list, asks]);
    assert.deepEqual({ status: r.status, type: r.type }, { status: 200, type: 'text/event-stream' }, r.text);
  });

  test('a request asking for progress is answered as SSE, with its progress before the answer', async () => {
    const params = { name: 'progress', arguments: {}, _meta: { progressToken: 'mine' } };
    const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params };
    const r = await post(url(), call);
    assert.deepEqual({ status: r.status, type: r.type }, { status: 200, type: 'text/event-stream' });
    const events = r.text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as Msg);
    const kinds = events.map((e) => e.method ?? `answer ${String(e.id)}`);
    assert.deepEqual(kinds, ['notifications/progress', 'notifications/progress', 'answer 7']);
    const progress = events.slice(0, 2).map((e) => e.params);
    assert.deepEqual(progress, [{ progressToken: 'mine', progress: 1, total: 2 }, { progressToken: 'mine', progress: 2, total: 2 }]);
  });
});

describe('stdio bridge: notifications from the server', () => {
  const { fake, url } = servedFake();

  test('progress reaches the client that asked, with its own token (the process saw the bridge\'s)', async () => {
    const a = await connectTo(url(), 'a');
    const seen: { client: string; progress: number }[] = [];
    try {
      const onprogress = (p: { progress: number }): void => void seen.push({ client: 'a', progress: p.progress });
      const r = await a.callTool({ name: 'progress', arguments: {} }, undefined, { onprogress });
      const upstream = (r.content as { text: string }[])[0]!.text;
      assert.match(upstream, /^token pb\d+$/, 'the process got the bridge\'s token, not the client\'s');
      assert.deepEqual(seen, [{ client: 'a', progress: 1 }, { client: 'a', progress: 2 }]);
    } finally {
      await a.close();
    }
  });

  test('a call the server cancels fails at once as a tool error (-32800), not after the call timeout', async () => {
    const c = await connectTo(url(), 'c');
    try {
      const call = c.callTool({ name: 'slow', arguments: {} });
      await pollUntil(() => fake.seen.some((m) => m.method === 'tools/call' && (m.params as { name: string }).name === 'slow'));
      const upstreamId = fake.seen.filter((m) => m.method === 'tools/call').pop()!.id!;
      // Cancellations of nothing the bridge sent (an unknown id, no params) change nothing.
      fake.notify({ method: 'notifications/cancelled', params: { requestId: 'b-unknown' } });
      fake.notify({ method: 'notifications/cancelled' });
      fake.cancel(upstreamId);
      const r = await call;
      assert.equal(r.isError, true);
      assert.equal((r.content as { text: string }[])[0]!.text, 'MCP error -32800: cancelled by the server');
    } finally {
      await c.close();
    }
  });
});

describe('stdio bridge: clients that go early, processes that exit early (review findings)', () => {
  const silent = createLogger({ level: 'silent' });
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const callOf = (id: number, name: string): string =>
    JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
  /** A raw HTTP/1.1 POST of `body` to /mcp, declaring `length` bytes. */
  const rawPost = (body: string, length = Buffer.byteLength(body)): string =>
    `POST /mcp HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n` +
    `Content-Length: ${length}\r\n\r\n${body}`;
  const portOf = (url: string): number => Number(new URL(url).port);

  test('a process that answers initialize and exits in the same tick: the waiting call is a tool error', { timeout: 10_000 }, async () => {
    const bridge = new StdioBridge({
      container: 'brief',
      attach: async (on) => {
        let exit: () => void = () => undefined;
        const closed = new Promise<void>((r) => (exit = r));
        const send = (m: unknown): void => {
          const msg = m as Msg;
          if (msg.method !== 'initialize') return;
          setImmediate(() => {
            const result = { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 'b', version: '1' } };
            on({ jsonrpc: '2.0', id: msg.id, result });
            exit();
          });
        };
        return { send, closed, close: () => undefined };
      },
      waitRunning: async () => false,
      log: silent,
    });
    const { url, stop } = await serve(bridge);
    try {
      const r = await request(url, { method: 'POST', headers, body: callOf(1, 'echo'), headersTimeout: 5_000 });
      const answer = (await r.body.json()) as { result: { isError: boolean; content: { text: string }[] } };
      assert.equal(answer.result.isError, true);
      assert.match(answer.result.content[0]!.text, /stdio server brief exited; the call did not complete/);
      assert.deepEqual([bridge.stats().open, bridge.stats().pending], [0, 0]);
    } finally {
      stop();
    }
  });

  test('while the process is attached: a client that left is never sent upstream; the bound holds', { timeout: 10_000 }, async () => {
    let release: () => void = () => undefined;
    const attached = new Promise<void>((r) => (release = r));
    const fake = new FakeProcess();
    const bridge = new StdioBridge({
      container: 'slow-attach',
      attach: async (on) => {
        await attached;
        return fake.pipe(on);
      },
      waitRunning: async () => true,
      log: silent,
    });
    const { url, stop } = await serve(bridge);
    const saved = BRIDGE_LIMITS.maxPending;
    BRIDGE_LIMITS.maxPending = 2;
    try {
      const ac = new AbortController();
      const left = request(url, { method: 'POST', headers, body: callOf(1, 'slow'), signal: ac.signal }).catch((e: Error) => e.name);
      await pollUntil(() => bridge.stats().open === 1, 'the first call waiting for the attach');
      ac.abort();
      assert.equal(await left, 'AbortError');
      await pollUntil(() => bridge.stats().open === 0, 'the first exchange ended');
      type Answer = { result?: { isError?: boolean } } | null;
      const staying = [2, 3, 4].map((id) =>
        request(url, { method: 'POST', headers, body: callOf(id, 'slow') })
          .then(async (r): Promise<Answer> => (await r.body.json()) as Answer)
          .catch((): Answer => null)); // the two slow ones end with the test's server
      await pollUntil(() => bridge.stats().open === 3, 'three calls waiting for the attach');
      release();
      const busy = await Promise.race(staying);
      assert.equal(busy?.result?.isError, true, 'the third call over the bound of 2 is refused');
      assert.equal(bridge.stats().pending, 2);
      const sent = fake.seen.filter((m) => m.method === 'tools/call').length;
      assert.equal(sent, 2, 'the call of the client that left never reached the process');
    } finally {
      BRIDGE_LIMITS.maxPending = saved;
      stop();
    }
  });

  test('pipelined requests on a connection that closes: every call of it is cancelled upstream', { timeout: 10_000 }, async () => {
    const fake = new FakeProcess();
    const bridge = bridgeFor(fake);
    const { url, stop } = await serve(bridge);
    try {
      const socket = connectSocket(portOf(url), '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(rawPost(callOf(1, 'slow')) + rawPost(callOf(2, 'slow')));
      await pollUntil(() => bridge.stats().pending === 2, 'both calls upstream');
      const ids = fake.seen.filter((m) => m.method === 'tools/call').map((m) => m.id);
      socket.destroy();
      await pollUntil(() => bridge.stats().open === 0, 'both exchanges ended');
      const cancelled = fake.seen
        .filter((m) => m.method === 'notifications/cancelled')
        .map((m) => (m.params as { requestId: string }).requestId);
      assert.deepEqual(cancelled.sort(), ids.map(String).sort());
      assert.equal(bridge.stats().pending, 0);
    } finally {
      stop();
    }
  });

  test('a client that goes while sending its body: handle() ends quietly, nothing is left open', { timeout: 10_000 }, async () => {
    const bridge = bridgeFor(new FakeProcess());
    const outcomes: string[] = [];
    let requests = 0;
    const http = createServer((req, res) => {
      requests++;
      bridge.handle(req, res).then(() => outcomes.push('resolved'), (e: Error) => outcomes.push(`rejected: ${e.message}`));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    try {
      const socket = connectSocket((http.address() as AddressInfo).port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(rawPost('{"jsonrpc":"2.0"', 100));
      await pollUntil(() => requests === 1, 'the request received');
      socket.destroy();
      await pollUntil(() => outcomes.length === 1, 'handle() to end');
      assert.deepEqual(outcomes, ['resolved']);
      assert.deepEqual([bridge.stats().open, bridge.stats().pending], [0, 0]);
    } finally {
      bridge.close();
      http.close();
      http.closeAllConnections();
    }
  });
});
