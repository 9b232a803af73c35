import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor } from './monitor.js';
import { InMemoryRuntime, MemoryConfigStore } from '../testing/fake-runtime.js';
import { HTTP, model, testSettings } from '../testing/fixtures.js';
import { createLogger } from '../log/logger.js';
import type { ProbeResult } from './probe.js';
import type { LiteLLMGateway } from '../litellm/gateway-client.js';

/** LiteLLM's POST /mcp/ as the monitor sees it: tools/list over the servers asked for, `<name>-<tool>`. */
class FakeGateway {
  readonly calls: string[][] = [];
  /** Servers LiteLLM cannot list (it skips them in a listing, as 1.77.3 does). */
  readonly broken = new Set<string>();
  async listTools(opts: { servers?: string[] } = {}): Promise<ProbeResult> {
    const servers = opts.servers ?? [];
    this.calls.push([...servers]);
    return { ok: true, serverName: 'litellm', latencyMs: 1, tools: servers.filter((s) => !this.broken.has(s)).map((s) => `${s}-echo`) };
  }
  take(): string[] {
    return this.calls.splice(0).map((c) => c.join(',')).sort();
  }
}

/** A monitor of servers on the fake runtime that asks `gateway` and reads its time from `clock`. */
function monitorOn(gateway: Pick<LiteLLMGateway, 'listTools'>, clock: { now: number }): HealthMonitor {
  return new HealthMonitor({
    runtime: new InMemoryRuntime(),
    config: new MemoryConfigStore(),
    configPath: '/nowhere/config.yaml',
    gateway,
    observe: { namePrefix: 'mcp-', instance: 'default', network: 'mcp-net' },
    log: createLogger({ level: 'silent' }),
    now: () => clock.now,
  });
}

test('GatewayReady: new, changed or failing servers are asked on their own; the others share one batched tools/list per interval', async () => {
  const settings = testSettings();
  const models = ['a', 'b', 'c'].map((n) => model(settings, n, HTTP));
  const gw = new FakeGateway();
  const clock = { now: 1_000_000 };
  const monitor = monitorOn(gw, clock);
  const cycle = async (): Promise<Record<string, string>> => {
    clock.now += 30_001; // one probe interval later
    await monitor.probeAll();
    return Object.fromEntries(monitor.snapshot().map((h) => {
      const c = h.conditions.find((x) => x.type === 'GatewayReady');
      return [h.name, `${c?.status} ${c?.reason}`];
    }));
  };
  monitor.update(models, new Map());
  gw.broken.add('mcp_c');

  const steps: { what: string; before?: () => void; calls: string[]; ready: Record<string, string> }[] = [
    { what: 'first cycle: every server is new', calls: ['mcp_a', 'mcp_b', 'mcp_c'], ready: { a: 'True ToolsThroughGateway', b: 'True ToolsThroughGateway', c: 'False NoToolsThroughGateway' } },
    { what: 'ready servers batched; the failing one on its own', calls: ['mcp_a,mcp_b', 'mcp_c'], ready: { a: 'True ToolsThroughGateway', b: 'True ToolsThroughGateway', c: 'False NoToolsThroughGateway' } },
    { what: 'c works again: found by its own probe', before: () => gw.broken.delete('mcp_c'), calls: ['mcp_a,mcp_b', 'mcp_c'], ready: { a: 'True ToolsThroughGateway', b: 'True ToolsThroughGateway', c: 'True ToolsThroughGateway' } },
    { what: 'all ready: one request for all', calls: ['mcp_a,mcp_b,mcp_c'], ready: { a: 'True ToolsThroughGateway', b: 'True ToolsThroughGateway', c: 'True ToolsThroughGateway' } },
    { what: 'b missing from the batch: confirmed by its own probe, not ready', before: () => gw.broken.add('mcp_b'), calls: ['mcp_a,mcp_b,mcp_c', 'mcp_b'], ready: { a: 'True ToolsThroughGateway', b: 'False NoToolsThroughGateway', c: 'True ToolsThroughGateway' } },
    {
      what: 'a changed (new spec): asked on its own',
      before: () => {
        gw.broken.delete('mcp_b');
        monitor.update([model(settings, 'a', `${HTTP}env:\n  X: "1"\n`), models[1]!, models[2]!], new Map());
      },
      calls: ['mcp_a', 'mcp_b', 'mcp_c'],
      ready: { a: 'True ToolsThroughGateway', b: 'True ToolsThroughGateway', c: 'True ToolsThroughGateway' },
    },
  ];
  for (const s of steps) {
    s.before?.();
    const ready = await cycle();
    assert.deepEqual(gw.take(), s.calls, `${s.what}: requests`);
    assert.deepEqual(ready, s.ready, `${s.what}: GatewayReady`);
  }
});

test('GatewayReady: a batch that fails as a whole falls back to each server\'s own probe', async () => {
  const settings = testSettings();
  const models = ['a', 'b'].map((n) => model(settings, n, HTTP));
  const gw = new FakeGateway();
  const clock = { now: 1_000_000 };
  const monitor = monitorOn({
      listTools: (opts: { servers?: string[] } = {}) =>
        (opts.servers?.length ?? 0) > 1 ? (gw.calls.push(opts.servers ?? []), Promise.resolve({ ok: false as const, error: 'batch timed out', latencyMs: 1 })) : gw.listTools(opts),
    }, clock);
  monitor.update(models, new Map());
  await monitor.probeAll();
  gw.take();
  clock.now += 30_001;
  await monitor.probeAll();
  assert.deepEqual(gw.take(), ['mcp_a', 'mcp_a,mcp_b', 'mcp_b']);
  assert.deepEqual(monitor.snapshot().map((h) => h.conditions.find((x) => x.type === 'GatewayReady')?.status), ['True', 'True']);
});

test('GatewayReady: a server never reads the same listing twice, so LiteLLM going away shows at its next probe', async () => {
  const settings = testSettings();
  const models = ['a', 'b'].map((n) => model(settings, n, HTTP));
  const gw = new FakeGateway();
  let down = false;
  const clock = { now: 1_000_000 };
  const monitor = monitorOn({ listTools: (opts: { servers?: string[] } = {}) => (down ? (gw.calls.push(opts.servers ?? []), Promise.resolve({ ok: false as const, error: 'connect ECONNREFUSED', latencyMs: 1 })) : gw.listTools(opts)) }, clock);
  monitor.update(models, new Map());
  await monitor.probeAll();
  clock.now += 30_001;
  await monitor.probeAll(); // both from one listing now
  gw.take();
  down = true;
  await monitor.probe('a'); // same interval: the listing it used is still fresh, but it asks again
  // A new listing (b is in a fresh one already, so only a), which fails, then a's own probe.
  assert.deepEqual(gw.take(), ['mcp_a', 'mcp_a']);
  const a = monitor.snapshot().find((h) => h.name === 'a')?.conditions.find((c) => c.type === 'GatewayReady');
  assert.equal(`${a?.status} ${a?.reason}`, 'False GatewayDown');
});
