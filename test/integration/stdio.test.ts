import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { request } from 'undici';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createStack, docker, waitFor, REPO, type Stack } from './harness.js';
import type { BridgeStats } from '../../src/bridge/stdio-bridge.js';

/**
 * stdio servers from unmodified images behind the edge's bridge, against real containers and
 * the real LiteLLM 1.77.3: one long-lived process serves every call.
 */
describe('stdio bridge', { timeout: 300_000 }, () => {
  let stack: Stack;
  let edgePort = 0;
  const bridgeUrl = (server: string) => `http://127.0.0.1:${edgePort}/${stack.id}-${server}/stdio/mcp`;
  const stats = async (server: string): Promise<BridgeStats | undefined> => {
    const r = await request(`http://127.0.0.1:${edgePort}/_bridges`);
    return ((await r.body.json()) as BridgeStats[]).find((b) => b.container === `${stack.id}-${server}`);
  };
  const client = async (url: string, headers: Record<string, string> = {}): Promise<Client> => {
    const c = new Client({ name: 'itest', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
    return c;
  };
  const gatewayClient = () => client(stack.gateway.mcpUrl, { 'x-litellm-api-key': `Bearer ${stack.masterKey}` });
  /** Ends the client's HTTP session if it was given one (DELETE, as LiteLLM's client does), then closes it. */
  const done = async (c: Client): Promise<void> => {
    await (c.transport as StreamableHTTPClientTransport | undefined)?.terminateSession();
    await c.close();
  };
  /** Polls until the bridge answers no request: it keeps nothing between requests (ADR 0004, 2026-12-02). */
  const noneOpen = async (server: string): Promise<void> => {
    await waitFor(`no request open on ${server}`, async () => (await stats(server))?.open === 0, 15_000);
  };
  const inspect = (server: string) => docker.getContainer(`${stack.id}-${server}`).inspect();

  before(async () => {
    stack = await createStack();
    stack.writeDesired('stdioev', 'image: mcp/everything:latest\ntransport: stdio\ncommand: ["node", "dist/index.js", "stdio"]\n');
    stack.copyExample('memory');
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed, []);
    const edge = (await stack.containers()).find((c) => c.Names[0] === `/${stack.id}-edge`)!;
    edgePort = edge.Ports.find((p) => p.PrivatePort === 8080)!.PublicPort;
    await waitFor('stdio tools through LiteLLM', async () => {
      const r = await stack.gateway.listTools();
      return r.ok && r.tools.includes('mcp_stdioev-echo') && r.tools.includes('mcp_memory-read_graph');
    }, 90_000, 500);
  });
  after(async () => {
    await stack?.cleanup();
    await docker.getVolume(`${stack.id}-memory-data`).remove().catch(() => undefined);
  });

  test('the container runs the unmodified image with stdin open and no TTY, and publishes nothing', async () => {
    const i = await inspect('stdioev');
    assert.equal(i.Config.OpenStdin, true);
    assert.equal(i.Config.StdinOnce, false);
    assert.equal(i.Config.Tty, false);
    assert.deepEqual(i.Config.Cmd, ['node', 'dist/index.js', 'stdio']);
    assert.deepEqual(Object.keys(i.HostConfig.PortBindings ?? {}), []);
  });

  test('tools/call through LiteLLM POST /mcp/ on a stdio server', async () => {
    const c = await gatewayClient();
    const r = await c.callTool({ name: 'mcp_stdioev-echo', arguments: { message: 'through the bridge' } });
    await done(c);
    assert.match(JSON.stringify(r.content), /through the bridge/);
  });

  test('100 calls through LiteLLM are served by one process: same container, same start, one initialize', async () => {
    const before = await inspect('memory');
    const s0 = await stats('memory');
    const c = await gatewayClient();
    for (let i = 0; i < 50; i++) {
      await c.callTool({
        name: 'mcp_memory-create_entities',
        arguments: { entities: [{ name: `e${i}`, entityType: 'test', observations: [`obs ${i}`] }] },
      });
      const g = await c.callTool({ name: 'mcp_memory-read_graph', arguments: {} });
      assert.match(JSON.stringify(g.content), new RegExp(`e${i}\\b`));
    }
    await done(c);
    const after = await inspect('memory');
    assert.equal(after.Id, before.Id);
    assert.equal(after.State.StartedAt, before.State.StartedAt);
    const s1 = await stats('memory');
    assert.equal(s1?.upstreamInitializes, s0?.upstreamInitializes, 'no new initialize upstream');
    assert.equal(s1?.upstreamInitializes, 1);
    assert.ok((s1?.callsServed ?? 0) - (s0?.callsServed ?? 0) >= 100);
    await noneOpen('memory'); // each of LiteLLM's 100 calls left nothing behind
    assert.equal((await stats('memory'))?.open, 0);
  });

  test('concurrent clients get their own answers (ids remapped), and their own progress', async () => {
    const clients = await Promise.all([0, 1, 2, 3, 4].map(() => client(bridgeUrl('stdioev'))));
    const results = await Promise.all(
      clients.flatMap((c, ci) => Array.from({ length: 10 }, (_, k) => c.callTool({ name: 'echo', arguments: { message: `c${ci}-m${k}` } })
        .then((r) => [`c${ci}-m${k}`, JSON.stringify(r.content)] as const))),
    );
    for (const [sent, got] of results) assert.ok(got.includes(sent) && !/c\d-m\d+/.test(got.replace(sent, '')), `${sent} -> ${got}`);
    const progress: Record<number, number[]> = { 0: [], 1: [] };
    await Promise.all([0, 1].map((ci) => clients[ci]!.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 } },
      undefined,
      { onprogress: (p) => progress[ci]!.push(p.progress) },
    )));
    assert.deepEqual(progress[0], [1, 2, 3]);
    assert.deepEqual(progress[1], [1, 2, 3]);
    await Promise.all(clients.map((c) => done(c)));
    assert.equal((await stats('stdioev'))?.open, 0);
  });

  test('no session through the edge: initialize gives no Mcp-Session-Id, a stale one is served, GET and DELETE are 405', async () => {
    const post = (body: object, session?: string) => request(bridgeUrl('stdioev'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(session ? { 'mcp-session-id': session } : {}),
      },
      body: JSON.stringify(body),
    });
    const init = await post({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    });
    await init.body.dump();
    assert.deepEqual([init.statusCode, init.headers['mcp-session-id'], init.headers['content-type']], [200, undefined, 'application/json']);
    const stale = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, 'no-such-session');
    assert.equal(stale.statusCode, 200);
    assert.match(await stale.body.text(), /"name":"echo"/);
    for (const method of ['GET', 'DELETE'] as const) {
      const r = await request(bridgeUrl('stdioev'), { method, headers: { accept: 'text/event-stream' } });
      await r.body.dump();
      assert.equal(r.statusCode, 405, method);
    }
    await noneOpen('stdioev');
  });

  test('a killed process: the call in flight fails at once, Docker restarts it, the next call re-attaches', async () => {
    const c = await client(bridgeUrl('stdioev'));
    const t0 = Date.now();
    // A tools/call that fails is a tool error (LiteLLM 1.77.3 cannot take a JSON-RPC error there; ADR 0021).
    const slow = c.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 20, steps: 2 } })
      .then(
        (r) => `${r.isError === true ? 'tool error' : 'answered'}: ${JSON.stringify(r.content)}`,
        (e: Error) => `rejected: ${e.message}`,
      );
    await new Promise((r) => setTimeout(r, 500)); // let the call reach the process
    // A crash, not a manual stop (docker kill would count as one, and the restart policy would
    // rightly leave it down): kill the server's own process from the host.
    const top = (await docker.getContainer(`${stack.id}-stdioev`).top({ ps_args: '-o pid,args' })) as { Processes: string[][] };
    const proc = top.Processes.find((p) => / dist\/index\.js stdio/.test(p.join(' ')) && !/tini|docker-init/.test(p.join(' ')));
    assert.ok(proc, JSON.stringify(top.Processes));
    process.kill(Number(proc[0]), 'SIGKILL');
    const outcome = await slow;
    assert.match(outcome, /^tool error: .*MCP error -32000: stdio server t[0-9a-f]{6}-stdioev exited; the call did not complete/);
    assert.ok(Date.now() - t0 < 10_000, `failed after ${Date.now() - t0} ms, not after the 20 s call`);
    await done(c);
    const c2 = await client(bridgeUrl('stdioev'));
    const r = await c2.callTool({ name: 'echo', arguments: { message: 'after the restart' } });
    assert.match(JSON.stringify(r.content), /after the restart/);
    await done(c2);
    const s = await stats('stdioev');
    assert.ok((s?.attaches ?? 0) >= 2 && (s?.upstreamInitializes ?? 0) >= 2, JSON.stringify(s));
  });

  test('a reconciler restart (a new apply process) does not restart stdio containers; state survives', async () => {
    const before = await inspect('memory');
    const r = spawnSync(process.execPath, [join(REPO, 'dist/src/main.js'), 'apply', '--once', '--config', stack.settingsFile], {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const after = await inspect('memory');
    assert.equal(after.State.StartedAt, before.State.StartedAt);
    const c = await gatewayClient();
    const g = await c.callTool({ name: 'mcp_memory-read_graph', arguments: {} });
    await done(c);
    assert.match(JSON.stringify(g.content), /e49\b/, 'the graph is still there');
  });

  test('every request the calls above made is closed: nothing left open on either bridge', async () => {
    await noneOpen('stdioev');
    await noneOpen('memory');
    assert.deepEqual([(await stats('stdioev'))?.open, (await stats('memory'))?.open], [0, 0]);
  });
});
