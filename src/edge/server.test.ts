import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { forwardHeaders, upstreamFor, createEdgeServer } from './server.js';
import { createLogger } from '../log/logger.js';

describe('edge routing and header normalization', () => {
  test('mcp-protocol-version sent twice is forwarded once (the negotiated, last value)', () => {
    const h = forwardHeaders(['MCP-Protocol-Version', '2025-06-18', 'mcp-protocol-version', '2025-03-26', 'Host', 'mcp-edge:8080', 'Accept', 'text/event-stream']);
    assert.deepEqual(h, { 'mcp-protocol-version': '2025-03-26', accept: 'text/event-stream' });
  });

  const routes: [string, string | null][] = [
    ['/mcp-everything/3001/mcp', 'http://mcp-everything:3001/mcp'],
    ['/mcp-everything/3001/mcp?x=1', 'http://mcp-everything:3001/mcp?x=1'],
    ['/mcp-a/80', 'http://mcp-a:80/'],
    ['/other/3001/mcp', null],
    ['/mcp-litellm/4000/mcp', null],
    ['/mcp-edge/8080/x', null],
    ['/mcp-x/99999/mcp', null],
    ['/mcp-x/80/../../etc', 'http://mcp-x:80/../../etc'],
    ['/169.254.169.254/80/latest', null],
  ];
  for (const [url, want] of routes) {
    test(`route ${url}`, () => assert.equal(upstreamFor(url, 'mcp-'), want));
  }
});

describe('edge in front of a real MCP SDK server (stateless streamable HTTP)', () => {
  let upstream: Server;
  let edge: Server;
  let upPort = 0;
  let edgePort = 0;
  before(async () => {
    upstream = createServer((req, res) => {
      const server = new McpServer({ name: 'probe-target', version: '1.0.0' });
      server.registerTool('ping', { description: 'pong' }, () => ({ content: [{ type: 'text', text: 'pong' }] }));
      const t = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => void t.close());
      void server.connect(t).then(() => t.handleRequest(req, res));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upPort = (upstream.address() as AddressInfo).port;
    edge = createEdgeServer({ port: 0, allowPrefix: 'mcp-', log: createLogger({ level: 'silent' }), origin: (_n, p) => `http://127.0.0.1:${p}` });
    await new Promise<void>((r) => edge.listen(0, '127.0.0.1', r));
    edgePort = (edge.address() as AddressInfo).port;
  });
  after(() => {
    upstream.close();
    edge.close();
    upstream.closeAllConnections();
    edge.closeAllConnections();
  });

  // What LiteLLM 1.77.3 sends after initialize: the header twice.
  const call = (url: string) =>
    request(url, {
      method: 'POST',
      headers: [
        'content-type', 'application/json',
        'accept', 'application/json, text/event-stream',
        'MCP-Protocol-Version', '2025-06-18',
        'mcp-protocol-version', '2025-06-18',
      ],
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });

  test('directly, the SDK server refuses the duplicated header with 400', async () => {
    const res = await call(`http://127.0.0.1:${upPort}/mcp`);
    const body = await res.body.text();
    assert.equal(res.statusCode, 400);
    assert.match(body, /Unsupported protocol version: 2025-06-18, 2025-06-18/);
  });

  test('through the edge, the same request lists the tools', async () => {
    const res = await call(`http://127.0.0.1:${edgePort}/mcp-target/${upPort}/mcp`);
    const body = await res.body.text();
    assert.equal(res.statusCode, 200, body);
    assert.match(body, /"name":"ping"/);
  });

  test('unknown routes are 404 and /healthz answers', async () => {
    assert.equal((await request(`http://127.0.0.1:${edgePort}/nope`)).statusCode, 404);
    const h = await request(`http://127.0.0.1:${edgePort}/healthz`);
    assert.equal(h.statusCode, 200);
    await h.body.dump();
  });
});

describe('the edge refuses peers that are not the gateway', () => {
  test('a refused peer gets 403 before any route or bridge is looked at', async () => {
    let bridgesAsked = 0;
    const seen: (string | undefined)[] = [];
    const edge = createEdgeServer({
      port: 0,
      allowPrefix: 'mcp-',
      log: createLogger({ level: 'silent' }),
      bridgeFor: () => {
        bridgesAsked++;
        throw new Error('no bridge for a refused peer');
      },
      bridgeStats: () => [],
      peers: { allows: async (a) => (seen.push(a), false) },
    });
    await new Promise<void>((r) => edge.listen(0, '127.0.0.1', r));
    const port = (edge.address() as AddressInfo).port;
    try {
      for (const path of ['/mcp-other/stdio/mcp', '/mcp-other/3001/mcp', '/_bridges']) {
        const r = await request(`http://127.0.0.1:${port}${path}`, { method: 'POST', body: '{}' });
        assert.equal(r.statusCode, 403, path);
        await r.body.text();
      }
      assert.equal(bridgesAsked, 0);
      assert.ok(seen.length === 3 && seen.every((a) => a === '127.0.0.1' || a === '::ffff:127.0.0.1'), `peer addresses: ${seen.join(', ')}`);
      assert.equal((await request(`http://127.0.0.1:${port}/healthz`)).statusCode, 200, 'the health check stays open');
    } finally {
      edge.close();
      edge.closeAllConnections();
    }
  });
});
