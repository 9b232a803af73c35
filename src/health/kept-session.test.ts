import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor } from './monitor.js';
import { InMemoryRuntime, MemoryConfigStore } from '../testing/fake-runtime.js';
import { HTTP, model, testSettings } from '../testing/fixtures.js';
import { edgeSpec } from '../desired/resolve.js';
import { createLogger } from '../log/logger.js';
import { statefulMcpServer } from '../testing/stateful-mcp.js';
import { pollUntil } from '../testing/poll.js';

/** What a server saw, by JSON-RPC method (DELETE for a DELETE). */
const methods = (seen: readonly string[]): string[] => seen.map((x) => (x.startsWith('DELETE') ? 'DELETE' : (x.split(' ')[1] ?? '?')));

async function monitorOf(keepSessions: boolean, names: string[]) {
  const settings = testSettings();
  const runtime = new InMemoryRuntime();
  const servers = await Promise.all(names.map(() => statefulMcpServer('kept')));
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
  return { monitor, models, servers, runtime, settings, ready, close: () => servers.forEach((s) => s.close()) };
}

test('the daemon\'s monitor keeps one session per server: probes after the first are one tools/list; McpReady as before', async () => {
  const t = await monitorOf(true, ['a']);
  try {
    for (let i = 0; i < 3; i++) await t.monitor.probeAll();
    assert.deepEqual(t.ready(), ['a ToolsListed']);
    assert.deepEqual(methods(t.servers[0]!.seen), ['initialize', 'notifications/initialized', 'tools/list', 'tools/list', 'tools/list']);
    assert.equal(t.servers[0]!.open.size, 1);
  } finally {
    await t.monitor.stop();
    t.close();
  }
});

test('a removed url: server\'s session is DELETEd at its address; a removed container\'s is dropped unsent; ' +
  'stop() ends the rest', async () => {
  const t = await monitorOf(true, ['a', 'b']);
  const remote = await statefulMcpServer('remote');
  const r = model(t.settings, 'r', `url: ${remote.url}\ntransport: http\n`);
  // A url: server is probed through the edge (its egress); here the edge's published port is the remote server itself.
  const edge = edgeSpec(t.settings);
  await t.runtime.start(await t.runtime.create(edge));
  t.runtime.hostPorts.set(edge.name, remote.port);
  try {
    t.monitor.update([...t.models, r], new Map());
    await t.monitor.probeAll();
    assert.deepEqual([...t.servers, remote].map((s) => s.open.size), [1, 1, 1]);
    t.monitor.update([t.models[1]!], new Map());
    await pollUntil(() => remote.open.size === 0);
    assert.equal(methods(remote.seen).at(-1), 'DELETE', 'a url: server keeps its address: its session is ended there');
    // A container's published port is freed with it and may be another's by now: nothing is sent there.
    assert.deepEqual(methods(t.servers[0]!.seen), ['initialize', 'notifications/initialized', 'tools/list']);
    await t.monitor.stop();
    assert.equal(t.servers[1]!.open.size, 0, 'stop() resolves once every kept session is ended');
  } finally {
    remote.close();
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
    assert.deepEqual(methods(t.servers[0]!.seen), [...once, ...once]);
    assert.equal(t.servers[0]!.open.size, 0);
  } finally {
    await t.monitor.stop();
    t.close();
  }
});
