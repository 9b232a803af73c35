import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { statefulMcpServer } from '../testing/stateful-mcp.js';
import { endKeptSession, KEPT_SESSION_PROBES, probeKeepingSession, probeMcp, type KeptSession } from './probe.js';
import { pollUntil } from '../testing/poll.js';

/** A streamable HTTP server answering in SSE the way SDK servers do: a priming event (id, no data) first. */
async function sseServer(): Promise<{ url: string; seen: string[]; close(): void }> {
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${req.headers['mcp-session-id'] ?? '-'} ${req.headers['mcp-protocol-version'] ?? '-'}`);
      if (req.method === 'DELETE') return void res.writeHead(200).end();
      const msg = JSON.parse(body) as { id?: number; method: string };
      if (msg.id === undefined) return void res.writeHead(202).end();
      const result = msg.method === 'initialize'
        ? { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'primed', version: '1' } }
        : { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] };
      res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 's1' });
      res.end(`id: prime-1\ndata: \n\nevent: message\nid: 2\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: msg.id, result })}\n\n`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, seen, close: () => void server.close() };
}

test('probe over streamable HTTP: SSE answers with a priming event, the session header and the negotiated version, ' +
  'then DELETE', async () => {
  const s = await sseServer();
  try {
    const r = await probeMcp({ url: s.url, transport: 'http', timeoutMs: 5_000 });
    assert.deepEqual(r.ok ? { tools: r.tools, serverName: r.serverName } : r, { tools: ['echo'], serverName: 'primed' });
    assert.deepEqual(s.seen, ['POST - -', 'POST s1 2025-06-18', 'POST s1 2025-06-18', 'DELETE s1 2025-06-18']);
  } finally {
    s.close();
  }
});

test('probe over streamable HTTP: an HTTP error and a refused connection are failures with their reason', async () => {
  const server = createServer((_req, res) => void res.writeHead(404).end('no such path'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const r = await probeMcp({ url: `http://127.0.0.1:${port}/mcp`, transport: 'http', timeoutMs: 5_000 });
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error, /^HTTP 404 for initialize: no such path$/);
  } finally {
    server.close();
  }
  const refused = await probeMcp({ url: `http://127.0.0.1:${port}/mcp`, transport: 'http', timeoutMs: 5_000 });
  assert.match(refused.ok ? '' : refused.error, /ECONNREFUSED/);
});

test('kept session: after the first, a probe is one tools/list on it; every KEPT_SESSION_PROBES a fresh one, the old DELETEd', async () => {
  const s = await statefulMcpServer();
  try {
    let kept: KeptSession | null = null;
    const answers: string[] = [];
    for (let i = 0; i < KEPT_SESSION_PROBES + 1; i++) {
      const r = await probeKeepingSession({ url: s.url, timeoutMs: 5_000, kept });
      answers.push(r.ok ? `${r.tools.join()} ${r.serverName}` : r.error);
      kept = r.kept;
    }
    assert.deepEqual(answers, Array(KEPT_SESSION_PROBES + 1).fill('echo stateful'));
    const fresh = ['POST initialize -', 'POST notifications/initialized', 'POST tools/list'];
    // The old session's DELETE goes beside the fresh probe (it must not spend the probe's time).
    await pollUntil(() => s.seen.includes('DELETE - s1'));
    assert.deepEqual(s.seen.filter((x) => x !== 'DELETE - s1'), [
      ...fresh.map((x) => (x.endsWith('-') ? x : `${x} s1`)),
      ...Array(KEPT_SESSION_PROBES - 1).fill('POST tools/list s1'),
      ...fresh.map((x) => (x.endsWith('-') ? x : `${x} s2`)),
    ]);
    assert.deepEqual([...s.open], ['s2'], 'only the kept session is open');
    const headers = { 'mcp-protocol-version': '2025-06-18', 'mcp-session-id': 's2' };
    assert.deepEqual(kept, { url: s.url, headers, serverName: 'stateful', probes: 1 });
    await endKeptSession(kept!);
    assert.deepEqual([...s.open], [], 'endKeptSession DELETEs it');
  } finally {
    s.close();
  }
});

test('kept session: a restarted server (404 on the session) is probed afresh within the same probe, and passes', async () => {
  const s = await statefulMcpServer();
  try {
    const first = await probeKeepingSession({ url: s.url, timeoutMs: 5_000, kept: null });
    s.forget();
    s.seen.length = 0;
    const r = await probeKeepingSession({ url: s.url, timeoutMs: 5_000, kept: first.kept });
    assert.equal(r.ok, true);
    const fresh = ['POST initialize -', 'POST notifications/initialized s2', 'POST tools/list s2'];
    await pollUntil(() => s.seen.includes('DELETE - s1'));
    assert.deepEqual(s.seen.filter((x) => x !== 'DELETE - s1'), ['POST tools/list s1', ...fresh]);
    assert.equal(r.kept?.headers['mcp-session-id'], 's2');
  } finally {
    s.close();
  }
});

test('kept session: another url (a recreated container on a new port): no old session id there, nothing to the old address', async () => {
  const a = await statefulMcpServer();
  const b = await statefulMcpServer();
  try {
    const first = await probeKeepingSession({ url: a.url, timeoutMs: 5_000, kept: null });
    const r = await probeKeepingSession({ url: b.url, timeoutMs: 5_000, kept: first.kept });
    assert.equal(r.ok, true);
    assert.deepEqual(b.seen, ['POST initialize -', 'POST notifications/initialized s1', 'POST tools/list s1']);
    // The old port may belong to another container by now: not even a DELETE with this server's credential goes there.
    assert.deepEqual(a.seen, ['POST initialize -', 'POST notifications/initialized s1', 'POST tools/list s1']);
  } finally {
    a.close();
    b.close();
  }
});

test('kept session: a failure keeps nothing and leaves nothing open (the session opened for it is DELETEd)', async () => {
  const s = await statefulMcpServer();
  const broken = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const msg = body ? (JSON.parse(body) as { id?: number; method: string }) : null;
      if (msg?.method === 'tools/list') return void res.writeHead(500).end('tools broke');
      // Everything else as the stateful server answers it.
      const headers = req.headers as Record<string, string>;
      void request(s.url, { method: req.method as 'POST', headers, body: body || null }).then(async (r) => {
        res.writeHead(r.statusCode, r.headers as Record<string, string>).end(await r.body.text());
      });
    });
  });
  await new Promise<void>((r) => broken.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/mcp`;
    const r = await probeKeepingSession({ url, timeoutMs: 5_000, kept: null });
    assert.deepEqual(r.ok ? 'ok' : { error: r.error, kept: r.kept }, { error: 'HTTP 500 for tools/list: tools broke', kept: null });
    assert.deepEqual([...s.open], [], 'the session opened for the probe was ended');
  } finally {
    broken.close();
    s.close();
  }
});

test('kept session on the SDK\'s own servers: stateful (session id) and stateless (none) both answer a kept tools/list', async () => {
  for (const stateless of [false, true]) {
    const sessions = new Map<string, StreamableHTTPServerTransport>();
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      const sid = req.headers['mcp-session-id'] as string | undefined;
      const known = sid ? sessions.get(sid) : undefined;
      if (known) return void known.handleRequest(req, res);
      const mcp = new McpServer({ name: 'sdk', version: '1' });
      mcp.registerTool('echo', { description: 'echo' }, () => ({ content: [] }));
      const tr = new StreamableHTTPServerTransport({
        sessionIdGenerator: stateless ? undefined : () => `sdk-${sessions.size + 1}`,
        enableJsonResponse: true,
        onsessioninitialized: (id) => void sessions.set(id, tr),
      });
      if (stateless) res.on('close', () => void tr.close());
      void mcp.connect(tr).then(() => tr.handleRequest(req, res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
      const first = await probeKeepingSession({ url, timeoutMs: 5_000, kept: null });
      const second = await probeKeepingSession({ url, timeoutMs: 5_000, kept: first.kept });
      const shown = (r: typeof first): string => (r.ok ? `${r.tools.join()} ${r.kept?.probes}` : r.error);
      assert.deepEqual([shown(first), shown(second)], ['echo 1', 'echo 2'], stateless ? 'stateless' : 'stateful');
      assert.equal(second.kept?.headers['mcp-session-id'], stateless ? undefined : 'sdk-1');
      // initialize, initialized, tools/list, then one tools/list (a fresh probe would add 3, or 4 with a DELETE).
      assert.equal(requests, 4, `${stateless ? 'stateless' : 'stateful'}: the second probe is one request`);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }
});

test('kept session: a kept tools/list that times out fails the probe, and the session is DELETEd (nothing left open)', async () => {
  const s = await statefulMcpServer();
  try {
    const first = await probeKeepingSession({ url: s.url, timeoutMs: 5_000, kept: null });
    s.hang = true;
    const r = await probeKeepingSession({ url: s.url, timeoutMs: 300, kept: first.kept });
    assert.deepEqual(r.ok ? 'ok' : { error: r.error, kept: r.kept }, { error: 'probe timed out after 300 ms', kept: null });
    await pollUntil(() => s.open.size === 0);
    assert.equal(s.seen.at(-1), 'DELETE - s1');
  } finally {
    s.close();
  }
});
