import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forwardHeaders, upstreamFor, createEdgeServer, MAX_POLICED_BODY_BYTES, type EdgeOptions } from './server.js';
import { createLogger } from '../log/logger.js';
import { MAX_POLICY_BYTES, PolicyFile, staticPolicy } from './tool-policy-file.js';
import { CompiledPolicy, UNFILTERED_HEADER, renderPolicyFile } from '../policy/tool-policy.js';

describe('edge routing and header normalization', () => {
  test('mcp-protocol-version sent twice is forwarded once (the negotiated, last value)', () => {
    const h = forwardHeaders([
      'MCP-Protocol-Version', '2025-06-18', 'mcp-protocol-version', '2025-03-26', 'Host', 'mcp-edge:8080', 'Accept', 'text/event-stream',
    ]);
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
    edge = createEdgeServer({
      port: 0, allowPrefix: 'mcp-', log: createLogger({ level: 'silent' }), origin: (_n, p) => `http://127.0.0.1:${p}`,
    });
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
      assert.ok(
        seen.length === 3 && seen.every((a) => a === '127.0.0.1' || a === '::ffff:127.0.0.1'),
        `peer addresses: ${seen.join(', ')}`,
      );
      assert.equal((await request(`http://127.0.0.1:${port}/healthz`)).statusCode, 200, 'the health check stays open');
    } finally {
      edge.close();
      edge.closeAllConnections();
    }
  });
});

describe('the edge applies a tool policy (ADR 0021)', () => {
  let upstream: Server;
  let upPort = 0;
  const calls: string[] = [];
  before(async () => {
    upstream = createServer((req, res) => {
      const server = new McpServer({ name: 'fs', version: '1.0.0' });
      for (const name of ['read_file', 'write_file', 'move_file', 'list_directory']) {
        server.registerTool(name, { description: `the ${name}` }, () => {
          calls.push(name);
          return { content: [{ type: 'text', text: `did ${name}` }] };
        });
      }
      // ?json: JSON answers; otherwise SSE answers (the SDK's default), so both shapes are policed.
      const t = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: (req.url ?? '').includes('json') });
      res.on('close', () => void t.close());
      void server.connect(t).then(() => t.handleRequest(req, res));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upPort = (upstream.address() as AddressInfo).port;
  });
  after(() => {
    upstream.close();
    upstream.closeAllConnections();
  });

  async function withEdge(opts: Partial<EdgeOptions>, fn: (port: number) => Promise<void>): Promise<void> {
    const edge = createEdgeServer({
      port: 0, allowPrefix: 'mcp-', log: createLogger({ level: 'silent' }), origin: (_n, p) => `http://127.0.0.1:${p}`, ...opts,
    });
    await new Promise<void>((r) => edge.listen(0, '127.0.0.1', r));
    try {
      await fn((edge.address() as AddressInfo).port);
    } finally {
      edge.close();
      edge.closeAllConnections();
    }
  }
  const policy = staticPolicy({
    fs: new CompiledPolicy({ deny: ['write_*', 'move_*'], rename: { list_directory: 'ls' }, description: { read_file: 'Read one file' } }),
  });
  const rpc = async (
    port: number,
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{
    status: number;
    msg: {
      result?: { tools?: { name: string; description?: string }[]; content?: { text: string }[] };
      error?: { code: number; message: string };
    };
  }> => {
    const r = await request(`http://127.0.0.1:${port}/mcp-fs/${upPort}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', ...headers,
      },
      body: JSON.stringify(body),
    });
    const text = await r.body.text();
    const json = text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? 'null');
    return { status: r.statusCode, msg: JSON.parse(json) };
  };
  const list = { jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} };
  const call = (name: string) => ({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name, arguments: {} } });

  for (const path of ['/mcp', '/mcp?json']) {
    test(`tools/list (${path.includes('json') ? 'JSON' : 'SSE'} answer): ` +
      'denied tools absent, renames and descriptions applied', async () => {
      await withEdge({ toolPolicy: policy }, async (port) => {
        const { status, msg } = await rpc(port, path, list);
        assert.equal(status, 200);
        assert.deepEqual(
          msg.result?.tools?.map((t) => [t.name, t.description]),
          [['read_file', 'Read one file'], ['ls', 'the list_directory']],
        );
      });
    });
  }

  test('tools/call of a denied tool, or of a renamed tool by its old name, is refused as the SDK refuses a missing tool, ' +
    'never forwarded', async () => {
    await withEdge({ toolPolicy: policy }, async (port) => {
      calls.length = 0;
      for (const name of ['write_file', 'move_file', 'list_directory']) {
        const { status, msg } = await rpc(port, '/mcp', call(name));
        assert.equal(status, 200);
        assert.deepEqual(msg, {
          jsonrpc: '2.0', id: 8, result: { content: [{ type: 'text', text: `MCP error -32602: Unknown tool: ${name}` }], isError: true },
        } as never);
      }
      assert.deepEqual(calls, []);
      // The server's own answer for a tool it does not have, for comparison: the same shape and wording.
      const missing = await rpc(port, '/mcp', call('delete_everything'));
      assert.deepEqual(
        missing.msg.result,
        { content: [{ type: 'text', text: 'MCP error -32602: Tool delete_everything not found' }], isError: true } as never,
      );
    });
  });

  test('a remote (url:) route is policed like a container route: by the server name in its first segment (ADR 0022)', async () => {
    const remotes = new Map([['mcp-fs', `http://127.0.0.1:${upPort}/mcp`]]);
    await withEdge({ toolPolicy: policy, remotes }, async (port) => {
      calls.length = 0;
      const post = async (body: unknown): Promise<string> => {
        const r = await request(`http://127.0.0.1:${port}/mcp-fs/remote`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18',
          },
          body: JSON.stringify(body),
        });
        return r.body.text();
      };
      const listed = await post(list);
      assert.match(listed, /"read_file"/);
      assert.doesNotMatch(listed, /write_file|move_file/);
      assert.match(await post(call('write_file')), /MCP error -32602: Unknown tool: write_file/);
      assert.deepEqual(calls, [], 'the refused call never reached the server');
    });
  });

  test('tools/call by a new name reaches the tool under its own name', async () => {
    await withEdge({ toolPolicy: policy }, async (port) => {
      calls.length = 0;
      const { msg } = await rpc(port, '/mcp', call('ls'));
      assert.equal(msg.result?.content?.[0]?.text, 'did list_directory');
      assert.deepEqual(calls, ['list_directory']);
    });
  });

  test('a server without a policy is untouched; a batch with tools requests is refused under a policy', async () => {
    await withEdge({ toolPolicy: staticPolicy({}) }, async (port) => {
      const { msg } = await rpc(port, '/mcp', list);
      assert.equal(msg.result?.tools?.length, 4);
    });
    await withEdge({ toolPolicy: policy }, async (port) => {
      const r = await rpc(port, '/mcp', [list]);
      assert.equal(r.status, 400);
      assert.equal(r.msg.error?.code, -32600);
    });
  });

  test('the unfiltered list only for a peer that is not the gateway; calls stay policed', async () => {
    const peers = (gateway: boolean) => ({ allows: async () => true, isGateway: () => gateway });
    await withEdge({ toolPolicy: policy, peers: peers(false) }, async (port) => {
      assert.equal((await rpc(port, '/mcp', list, { [UNFILTERED_HEADER]: '1' })).msg.result?.tools?.length, 4);
      assert.deepEqual(
        (await rpc(port, '/mcp', call('write_file'), { [UNFILTERED_HEADER]: '1' })).msg.result?.content,
        [{ type: 'text', text: 'MCP error -32602: Unknown tool: write_file' }],
      );
    });
    await withEdge({ toolPolicy: policy, peers: peers(true) }, async (port) => {
      assert.equal((await rpc(port, '/mcp', list, { [UNFILTERED_HEADER]: '1' })).msg.result?.tools?.length, 2, 'the gateway never');
    });
    await withEdge({ toolPolicy: policy }, async (port) => {
      assert.equal(
        (await rpc(port, '/mcp', list, { [UNFILTERED_HEADER]: '1' })).msg.result?.tools?.length,
        2,
        'nor anyone when peers are unknown',
      );
    });
  });

  test('before a policy file was read, MCP routes answer 503 (fail closed); /healthz stays open', async () => {
    const bridgeFor = (): never => {
      throw new Error('no bridge before the policy is there');
    };
    await withEdge({ toolPolicy: { ready: () => false, forServer: () => null }, bridgeFor }, async (port) => {
      const r = await request(`http://127.0.0.1:${port}/mcp-fs/${upPort}/mcp`, { method: 'POST', body: JSON.stringify(list) });
      assert.equal(r.statusCode, 503);
      await r.body.dump();
      const s = await request(`http://127.0.0.1:${port}/mcp-fs/stdio/mcp`, { method: 'POST', body: JSON.stringify(list) });
      assert.equal(s.statusCode, 503);
      await s.body.dump();
      assert.equal((await request(`http://127.0.0.1:${port}/healthz`)).statusCode, 200);
    });
  });
});

describe('the edge refuses a body over its bound with a 413', () => {
  test('a chunked upload over MAX_POLICED_BODY_BYTES gets the 413 with connection: close, not a reset', async () => {
    const log = createLogger({ level: 'silent' });
    const edge = createEdgeServer({ port: 0, allowPrefix: 'mcp-', log, origin: () => 'http://127.0.0.1:9' });
    await new Promise<void>((r) => edge.listen(0, '127.0.0.1', r));
    try {
      const port = (edge.address() as AddressInfo).port;
      const got = await new Promise<string>((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/mcp-x/3001/mcp' }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(`${res.statusCode} ${String(res.headers['connection'])} ${text}`));
        });
        req.on('error', (e: NodeJS.ErrnoException) => resolve(`client error ${e.code ?? e.message}`));
        req.end(Buffer.alloc(MAX_POLICED_BODY_BYTES + 1024 * 1024, 0x20));
      });
      const error = { code: -32600, message: `request larger than ${MAX_POLICED_BODY_BYTES} bytes` };
      const refused = JSON.stringify({ jsonrpc: '2.0', id: null, error });
      assert.equal(got, `413 close ${refused}`);
    } finally {
      edge.close();
      edge.closeAllConnections();
    }
  });
});

describe('the policy file as the edge reads it', () => {
  test('re-read when it changes; a bad file keeps the last good policy; missing at first: not ready', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    try {
      const path = join(dir, 'tool-policy.json');
      const file = new PolicyFile(path, createLogger({ level: 'silent' }));
      assert.equal(file.ready(), false);
      writeFileSync(path, renderPolicyFile({ fs: { deny: ['write_*'] } }));
      assert.equal(file.ready(), true);
      assert.equal(file.forServer('fs')?.permits('write_file'), false);
      assert.equal(file.forServer('other'), null);
      // Replaced by rename, as the reconciler writes it: seen on the next lookup.
      writeFileSync(`${path}.tmp`, renderPolicyFile({ fs: { deny: ['move_*'] } }));
      renameSync(`${path}.tmp`, path);
      assert.equal(file.forServer('fs')?.permits('write_file'), true);
      assert.equal(file.forServer('fs')?.permits('move_file'), false);
      writeFileSync(path, '{"version": 1, "servers": {"fs": {"deny": "oops"}}}');
      assert.equal(file.ready(), true);
      assert.equal(file.forServer('fs')?.permits('move_file'), false, 'the last good policy stays');
      rmSync(path);
      assert.equal(file.forServer('fs')?.permits('move_file'), false, 'also when the file is gone');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a FIFO or an oversized file in its place is refused without blocking: the last good policy stays, none before', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    try {
      const path = join(dir, 'tool-policy.json');
      execFileSync('mkfifo', [path]);
      const fresh = new PolicyFile(path, createLogger({ level: 'silent' }));
      assert.equal(fresh.ready(), false, 'a FIFO is no policy (and reading it must not hang)');
      rmSync(path);
      writeFileSync(path, renderPolicyFile({ fs: { deny: ['write_*'] } }));
      assert.equal(fresh.ready(), true);
      writeFileSync(path, `${renderPolicyFile({ fs: {} })}${' '.repeat(MAX_POLICY_BYTES)}`);
      assert.equal(fresh.forServer('fs')?.permits('write_file'), false, 'an oversized file keeps the last good policy');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a JSON-RPC error to tools/call reaches LiteLLM as a tool error (ADR 0021)', () => {
  // An upstream that answers tools/call of `fail` with a JSON-RPC error, as JSON (?json) or as an SSE
  // event, and every other request with a fixed answer. LiteLLM 1.77.3 hangs after such an error.
  let upstream: Server;
  let upPort = 0;
  before(async () => {
    upstream = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const m = JSON.parse(text) as { id: number; method: string; params?: { name?: string } };
        const answer = m.method === 'tools/call' && m.params?.name === 'fail'
          ? { jsonrpc: '2.0', id: m.id, error: { code: -32602, message: 'Invalid arguments for tool fail' } }
          : m.method === 'tools/call' && m.params?.name === 'other-id'
            ? { jsonrpc: '2.0', id: 999, error: { code: -32000, message: 'an error for another request' } }
            : { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: `no ${m.method} here` } };
        if ((req.url ?? '').includes('json')) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        else res.writeHead(200, { 'content-type': 'text/event-stream' }).end(`event: message\ndata: ${JSON.stringify(answer)}\n\n`);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upPort = (upstream.address() as AddressInfo).port;
  });
  after(() => {
    upstream.close();
    upstream.closeAllConnections();
  });
  const post = async (path: string, body: unknown, toolPolicy?: EdgeOptions['toolPolicy']): Promise<unknown> => {
    const edge = createEdgeServer({
      port: 0,
      allowPrefix: 'mcp-',
      log: createLogger({ level: 'silent' }),
      origin: (_n, p) => `http://127.0.0.1:${p}`,
      ...(toolPolicy ? { toolPolicy } : {}),
    });
    await new Promise<void>((r) => edge.listen(0, '127.0.0.1', r));
    try {
      const port = (edge.address() as AddressInfo).port;
      const r = await request(`http://127.0.0.1:${port}/mcp-x/${upPort}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(body),
      });
      const text = await r.body.text();
      return JSON.parse(text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? 'null'));
    } finally {
      edge.close();
      edge.closeAllConnections();
    }
  };
  const call = (name: string) => ({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name, arguments: {} } });
  const softened = {
    jsonrpc: '2.0',
    id: 5,
    result: { content: [{ type: 'text', text: 'MCP error -32602: Invalid arguments for tool fail' }], isError: true },
  };

  for (const path of ['/mcp', '/mcp?json']) {
    test(`${path.includes('json') ? 'JSON' : 'SSE'} answer, server without a policy: ` +
      'the error becomes a tool error with its code and message', async () => {
      assert.deepEqual(await post(path, call('fail')), softened);
    });
  }
  test('the same under a tool policy that exposes the tool', async () => {
    const policy = staticPolicy({ x: new CompiledPolicy({ allow: ['fail'] }) });
    assert.deepEqual(await post('/mcp', call('fail'), policy), softened);
  });
  test('errors to other methods, and an error carrying another id, pass unchanged', async () => {
    assert.deepEqual(
      await post('/mcp?json', { jsonrpc: '2.0', id: 6, method: 'resources/list', params: {} }),
      { jsonrpc: '2.0', id: 6, error: { code: -32601, message: 'no resources/list here' } },
    );
    assert.deepEqual(
      await post('/mcp', call('other-id')),
      { jsonrpc: '2.0', id: 999, error: { code: -32000, message: 'an error for another request' } },
    );
  });
});
