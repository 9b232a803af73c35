import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor } from './monitor.js';
import { InMemoryRuntime, MemoryConfigStore } from '../testing/fake-runtime.js';
import { HTTP, model, testSettings } from '../testing/fixtures.js';
import { edgeSpec } from '../desired/resolve.js';
import { createLogger } from '../log/logger.js';
import type { ProbeResult } from './probe.js';
import type { LiteLLMGateway } from '../litellm/gateway-client.js';
import { ownedEntry } from '../litellm/config-file.js';
import { stringify } from 'yaml';
import type { ServerModel } from '../model/types.js';

/** LiteLLM's POST /mcp/ as the monitor sees it: tools/list over the servers asked for, `<name>-<tool>`. */
class FakeGateway {
  readonly calls: string[][] = [];
  /** Servers LiteLLM cannot list (it skips them in a listing, as 1.77.3 does). */
  readonly broken = new Set<string>();
  /** LiteLLM's process not answering at all (its liveness route fails too). */
  down = false;
  alives = 0;
  async alive(): Promise<{ ok: true } | { ok: false; error: string }> {
    this.alives++;
    return this.down ? { ok: false, error: 'GET /health/liveliness failed: connect ECONNREFUSED' } : { ok: true };
  }
  async listTools(opts: { servers?: string[] } = {}): Promise<ProbeResult> {
    const servers = opts.servers ?? [];
    this.calls.push([...servers]);
    if (this.down) return { ok: false, error: 'connect ECONNREFUSED', latencyMs: 1 };
    return { ok: true, serverName: 'litellm', latencyMs: 1, tools: servers.filter((s) => !this.broken.has(s)).map((s) => `${s}-echo`) };
  }
  take(): string[] {
    return this.calls.splice(0).map((c) => c.join(',')).sort();
  }
}

const CONFIG = '/nowhere/config.yaml';

/**
 * A monitor of servers on the fake runtime that asks `gateway` and reads its time from `clock`;
 * `registered` are in its config.yaml (Registered True), the others are not.
 */
function monitorOn(
  gateway: Pick<LiteLLMGateway, 'listTools'> & Partial<Pick<LiteLLMGateway, 'alive'>>,
  clock: { now: number },
  registered: ServerModel[] = [],
  runtime = new InMemoryRuntime(),
): HealthMonitor {
  const config = new MemoryConfigStore();
  const entries = Object.fromEntries(registered.map((m) => [m.gatewayName, ownedEntry(m.gatewayEntry ?? {}, m.file)]));
  config.writeAtomic(CONFIG, stringify({ mcp_servers: entries }));
  return new HealthMonitor({
    runtime,
    config,
    configPath: CONFIG,
    gateway: { listTools: (o) => gateway.listTools(o), alive: () => gateway.alive?.() ?? Promise.resolve({ ok: true }) },
    observe: { namePrefix: 'mcp-', instance: 'default', network: 'mcp-net' },
    log: createLogger({ level: 'silent' }),
    now: () => clock.now,
  });
}

/** Servers whose GatewayReady is checked through LiteLLM at every probe (gatewayIntervalSeconds = intervalSeconds). */
const EVERY_PROBE = `${HTTP}health:\n  gatewayIntervalSeconds: 30\n`;

test('GatewayReady: new, changed or failing servers are asked on their own; ' +
  'the others share one batched tools/list per interval', async () => {
  const settings = testSettings();
  const models = ['a', 'b', 'c'].map((n) => model(settings, n, EVERY_PROBE));
  const gw = new FakeGateway();
  const clock = { now: 1_000_000 };
  const monitor = monitorOn(gw, clock, models);
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
    {
      what: 'first cycle: every server is new',
      calls: ['mcp_a', 'mcp_b', 'mcp_c'],
      ready: { a: 'True ToolsThroughGateway', b: 'True ToolsThroughGateway', c: 'False NoToolsThroughGateway' },
    },
    {
      what: 'ready servers batched; the failing one on its own',
      calls: ['mcp_a,mcp_b', 'mcp_c'],
      ready: { a: 'True ToolsThroughGateway', b: 'True ToolsThroughGateway', c: 'False NoToolsThroughGateway' },
    },
    {
      what: 'c works again: found by its own probe',
      before: () => gw.broken.delete('mcp_c'),
      calls: ['mcp_a,mcp_b', 'mcp_c'],
      ready: { a: 'True ToolsThroughGateway', b: 'True ToolsThroughGateway', c: 'True ToolsThroughGateway' },
    },
    {
      what: 'all ready: one request for all',
      calls: ['mcp_a,mcp_b,mcp_c'],
      ready: { a: 'True ToolsThroughGateway', b: 'True ToolsThroughGateway', c: 'True ToolsThroughGateway' },
    },
    {
      what: 'b missing from the batch: confirmed by its own probe, not ready',
      before: () => gw.broken.add('mcp_b'),
      calls: ['mcp_a,mcp_b,mcp_c', 'mcp_b'],
      ready: { a: 'True ToolsThroughGateway', b: 'False NoToolsThroughGateway', c: 'True ToolsThroughGateway' },
    },
    {
      what: 'a changed (new spec): asked on its own',
      before: () => {
        gw.broken.delete('mcp_b');
        monitor.update([model(settings, 'a', `${EVERY_PROBE}env:\n  X: "1"\n`), models[1]!, models[2]!], new Map());
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
  const models = ['a', 'b'].map((n) => model(settings, n, EVERY_PROBE));
  const gw = new FakeGateway();
  const clock = { now: 1_000_000 };
  const monitor = monitorOn({
      listTools: (opts: { servers?: string[] } = {}) =>
        (opts.servers?.length ?? 0) > 1
          ? (gw.calls.push(opts.servers ?? []), Promise.resolve({ ok: false as const, error: 'batch timed out', latencyMs: 1 }))
          : gw.listTools(opts),
    }, clock, models);
  monitor.update(models, new Map());
  await monitor.probeAll();
  gw.take();
  clock.now += 30_001;
  await monitor.probeAll();
  assert.deepEqual(gw.take(), ['mcp_a', 'mcp_a,mcp_b', 'mcp_b']);
  assert.deepEqual(monitor.snapshot().map((h) => h.conditions.find((x) => x.type === 'GatewayReady')?.status), ['True', 'True']);
});

test('GatewayReady: LiteLLM going away shows at the next probe, from its liveness route, without a listing', async () => {
  const settings = testSettings();
  const models = ['a', 'b'].map((n) => model(settings, n, EVERY_PROBE));
  const gw = new FakeGateway();
  const clock = { now: 1_000_000 };
  const monitor = monitorOn(gw, clock, models);
  monitor.update(models, new Map());
  await monitor.probeAll();
  clock.now += 30_001;
  await monitor.probeAll(); // both from one listing now
  clock.now += 10_001;
  await monitor.probe('b'); // within the interval: the listing stands on LiteLLM's liveness answer
  gw.take();
  gw.down = true;
  // b never stands on the same liveness answer twice: it asks, and a shares that fresh answer.
  await monitor.probe('b');
  await monitor.probe('a');
  assert.deepEqual(gw.take(), []);
  assert.equal(gw.alives, 2, 'one answer before LiteLLM stopped, one after');
  for (const name of ['a', 'b']) {
    const c = monitor.snapshot().find((h) => h.name === name)?.conditions.find((x) => x.type === 'GatewayReady');
    assert.equal(`${c?.status} ${c?.reason} ${c?.message}`, 'False GatewayDown GET /health/liveliness failed: connect ECONNREFUSED', name);
  }
});

test('GatewayReady: listed through LiteLLM every gatewayIntervalSeconds; in between it stands on LiteLLM\'s liveness route', async () => {
  const settings = testSettings();
  // Interval 30 s, through LiteLLM every 90 s (every third probe).
  const every90 = `${HTTP}health:\n  gatewayIntervalSeconds: 90\n`;
  const models = ['a', 'b', 'c'].map((n) => model(settings, n, every90));
  const unregistered = model(settings, 'u', every90);
  const gw = new FakeGateway();
  const clock = { now: 1_000_000 };
  const runtime = new InMemoryRuntime();
  const edge = await runtime.create(edgeSpec(settings));
  await runtime.start(edge);
  const monitor = monitorOn(gw, clock, models, runtime);
  const cycle = async (): Promise<{ calls: string[]; ready: string[]; checkedAt: (string | null)[] }> => {
    clock.now += 30_001;
    await monitor.probeAll();
    const s = monitor.snapshot();
    return {
      calls: gw.take(),
      ready: s.map((h) => {
        const c = h.conditions.find((x) => x.type === 'GatewayReady');
        return `${h.name} ${c?.status} ${c?.reason}`;
      }),
      checkedAt: s.map((h) => h.gatewayCheckedAt),
    };
  };
  gw.broken.add('mcp_u'); // LiteLLM does not know a server that is not in its config
  monitor.update([...models, unregistered], new Map());
  const first = await cycle();
  assert.deepEqual(first.calls, ['mcp_a', 'mcp_b', 'mcp_c', 'mcp_u'], 'new servers: each on its own');
  const ready = ['a', 'b', 'c'].map((n) => `${n} True ToolsThroughGateway`);
  assert.deepEqual(first.ready, [...ready, 'u False NoToolsThroughGateway']);
  const at = new Date(clock.now).toISOString();
  assert.deepEqual(first.checkedAt, [at, at, at, null]);

  const second = await cycle();
  // u is not in config.yaml (Registered False): asked at every probe; a, b and c stand on LiteLLM's liveness.
  assert.deepEqual(second.calls, ['mcp_u']);
  assert.deepEqual(second.ready, first.ready);
  assert.deepEqual(second.checkedAt.slice(0, 3), [at, at, at], 'not listed again');
  const alivesBefore = gw.alives;

  const third = await cycle();
  assert.deepEqual(third.calls, ['mcp_u'], 'still within 90 s of the listing');
  assert.equal(gw.alives - alivesBefore, 1, 'one liveness answer serves every server of the cycle');

  const fourth = await cycle(); // 90 s after the first listing: a, b and c share one listing
  assert.deepEqual(fourth.calls, ['mcp_a,mcp_b,mcp_c', 'mcp_u']);
  assert.deepEqual(fourth.ready, first.ready);
  const now = new Date(clock.now).toISOString();
  assert.deepEqual(fourth.checkedAt, [now, now, now, null]);

  // LiteLLM stops between two listings: the liveness route tells at the next probe, no listing asked.
  gw.down = true;
  const down = await cycle();
  assert.deepEqual(down.calls, ['mcp_u']);
  assert.deepEqual(down.ready, ['a False GatewayDown', 'b False GatewayDown', 'c False GatewayDown', 'u False GatewayDown']);
  assert.deepEqual(down.checkedAt, [null, null, null, null]);

  // Back: one shared listing for a, b and c (not one request per server), u on its own.
  gw.down = false;
  const back = await cycle();
  assert.deepEqual(back.calls, ['mcp_a,mcp_b,mcp_c', 'mcp_u']);
  assert.deepEqual(back.ready, first.ready);

  // The edge LiteLLM reaches the servers through is recreated: every server is listed again at once, in one listing.
  await runtime.remove(edge);
  await runtime.start(await runtime.create(edgeSpec(settings)));
  const newEdge = await cycle();
  assert.deepEqual(newEdge.calls, ['mcp_a,mcp_b,mcp_c', 'mcp_u']);
  assert.deepEqual((await cycle()).calls, ['mcp_u'], 'and not again while it stays');

  // A changed server is asked on its own at once, within the 90 s.
  monitor.update([model(settings, 'a', `${every90}env:\n  X: "1"\n`), models[1]!, models[2]!, unregistered], new Map());
  const changed = await cycle();
  assert.deepEqual(changed.calls, ['mcp_a', 'mcp_u']);
});
