import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { probeMcp } from './probe.js';

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

test('probe over streamable HTTP: SSE answers with a priming event, the session header and the negotiated version, then DELETE', async () => {
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
