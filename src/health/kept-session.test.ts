import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HealthMonitor } from './monitor.js';
import { InMemoryRuntime, MemoryConfigStore } from '../testing/fake-runtime.js';
import { HTTP, model, testSettings } from '../testing/fixtures.js';
import { createLogger } from '../log/logger.js';

/** A stateful MCP server (session per initialize, 404 for an unknown one) counting what it is asked. */
async function server(): Promise<{ port: number; seen: string[]; open: Set<string>; close(): void }> {
  const seen: string[] = [];
  const open = new Set<string>();
  let next = 0;
  const s = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const sid = req.headers['mcp-session-id'] as string | undefined;
      const msg = body ? (JSON.parse(body) as { id?: number; method: string }) : null;
      seen.push(req.method === 'DELETE' ? 'DELETE' : (msg?.method ?? '?'));
      if (msg?.method === 'initialize') {
        const id = `s${++next}`;
        open.add(id);
        const result = { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'kept', version: '1' } };
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': id });
        return void res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
      }
      if (!sid || !open.has(sid)) return void res.writeHead(404).end();
      if (req.method === 'DELETE') return void (open.delete(sid), res.writeHead(200).end());
      if (msg?.id === undefined) return void res.writeHead(202).end();
      const result = { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as AddressInfo).port, seen, open, close: () => void s.close() };
}

async function monitorOf(keepSessions: boolean, names: string[]) {
  const settings = testSettings();
  const runtime = new InMemoryRuntime();
  const servers = await Promise.all(names.map(() => server()));
  const models = names.map((n) => model(settings, n, HTTP));
  for (const [i, m] of models.entries()) {
    await runtime.start(await runtime.create(m.container!));
    runtime.hostPorts.set(m.container!.name, servers[i]!.port);
  }
  const monitor = new HealthMonitor({
    runtime,
    config: new MemoryConfigStore(),
    configPath: '/nowhere/config.yaml',
    gateway: null,
    observe: { namePrefix: 'mcp-', instance: 'default', network: 'mcp-net' },
    log: createLogger({ level: 'silent' }),
    keepSessions,
  });
  monitor.update(models, new Map());
  const ready = (): string[] => monitor.snapshot().map((h) => `${h.name} ${h.conditions.find((c) => c.type === 'McpReady')?.reason}`);
  return { monitor, models, servers, ready, close: () => servers.forEach((s) => s.close()) };
}

test('the daemon\'s monitor keeps one session per server: probes after the first are one tools/list; McpReady as before', async () => {
  const t = await monitorOf(true, ['a']);
  try {
    for (let i = 0; i < 3; i++) await t.monitor.probeAll();
    assert.deepEqual(t.ready(), ['a ToolsListed']);
    assert.deepEqual(t.servers[0]!.seen, ['initialize', 'notifications/initialized', 'tools/list', 'tools/list', 'tools/list']);
    assert.equal(t.servers[0]!.open.size, 1);
  } finally {
    await t.monitor.stop();
    t.close();
  }
});

test('kept sessions end when their server leaves the desired state and when the monitor stops', async () => {
  const t = await monitorOf(true, ['a', 'b']);
  try {
    await t.monitor.probeAll();
    assert.deepEqual(t.servers.map((s) => s.open.size), [1, 1]);
    t.monitor.update([t.models[1]!], new Map());
    await waitUntil(() => t.servers[0]!.open.size === 0);
    assert.equal(t.servers[0]!.seen.at(-1), 'DELETE', 'a removed server\'s session is ended');
    await t.monitor.stop();
    assert.deepEqual(t.servers.map((s) => s.open.size), [0, 0], 'stop() resolves once every kept session is ended');
  } finally {
    t.close();
  }
});

test('a one-off monitor (status without a daemon) keeps nothing: a fresh session per probe, DELETEd', async () => {
  const t = await monitorOf(false, ['a']);
  try {
    await t.monitor.probeAll();
    await t.monitor.probeAll();
    assert.deepEqual(t.ready(), ['a ToolsListed']);
    const once = ['initialize', 'notifications/initialized', 'tools/list', 'DELETE'];
    assert.deepEqual(t.servers[0]!.seen, [...once, ...once]);
    assert.equal(t.servers[0]!.open.size, 0);
  } finally {
    await t.monitor.stop();
    t.close();
  }
});

async function waitUntil(ok: () => boolean): Promise<void> {
  const until = Date.now() + 5_000;
  while (!ok()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
