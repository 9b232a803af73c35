// Child process for the bench: the daemon's own work — reconcile passes and the health monitor —
// in a process without the bench harness in it, so its CPU (/proc/<pid>/stat) and RSS
// (/proc/<pid>/status) are the daemon's alone. Docker is the in-memory runtime (3 ms per call);
// each server's published port is the given bench server port, so the direct probes are real
// MCP round trips, and with a gateway URL the GatewayReady probes go through the real LiteLLM.
// Usage: node daemon-child.js '<json: {servers, ports?, gatewayUrl?}>'; LiteLLM's key in
// BENCH_MASTER_KEY. Reads commands on stdin, one per line, and answers one JSON line each:
//   pass   -> one reconcile pass        {ms, dockerApiCalls}
//   probe  -> one probe cycle (10 at a time), 30 s of monitor clock later
//             {ms, ready, gatewayReady, gatewayBatched, listings, listed, alives} (the last three: requests
//             to LiteLLM in this cycle: tools/list requests, server names they asked for, liveness requests)
//   memory -> after a forced GC         {rss, heapUsed}
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pLimit from 'p-limit';
import { loadSettings } from '../src/config/settings.js';
import { createLogger } from '../src/log/logger.js';
import { Reconciler } from '../src/reconcile/controller.js';
import { HealthMonitor } from '../src/health/monitor.js';
import { LiteLLMGateway } from '../src/litellm/gateway-client.js';
import { InMemoryRuntime, MemoryConfigStore } from '../src/testing/fake-runtime.js';
// Everything the daemon's process loads (`mcp-reconciler run` is src/main.js -> src/cli/index.js),
// so its RSS counts the same modules.
import '../src/cli/index.js';

const INTERVAL_MS = 30_000;
const PROBES_AT_ONCE = 10;
/** keepSessions: false -> a fresh MCP session at every probe (before ADR 0017's kept sessions). */
type Options = { servers: number; ports?: number[]; gatewayUrl?: string; gatewayIntervalSeconds?: number; keepSessions?: boolean };
const opts = JSON.parse(process.argv[2] ?? '{}') as Options;
const health = opts.gatewayIntervalSeconds ? `health:\n  gatewayIntervalSeconds: ${opts.gatewayIntervalSeconds}\n` : '';
const dir = mkdtempSync(join(tmpdir(), 'bench-daemon-'));
const desired = join(dir, 'desired-state');
mkdirSync(desired);
for (let i = 0; i < opts.servers; i++) {
  writeFileSync(join(desired, `mcp-s${i}.yaml`), `image: mcp/everything:1\ntransport: http\nport: 3001\nenv:\n  N: "${i}"\n${health}`);
}
mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-bench\n', { mode: 0o600 });
const settings = loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: dir, MCP_RECONCILER_SECRETS_DIR: join(dir, 'secrets') } });
const runtime = new InMemoryRuntime({ latencyMs: 3 });
const config = new MemoryConfigStore();
const log = createLogger({ level: 'silent' });
const r = new Reconciler(settings, { runtime, config, gateway: null, log });
const first = await r.reconcile();
(opts.ports ?? []).forEach((port, i) => runtime.hostPorts.set(`mcp-s${i}`, port));
const clock = { offset: 0 };
const key = process.env['BENCH_MASTER_KEY'] ?? null;
// The real client, counting what the monitor asks LiteLLM for.
const real = opts.gatewayUrl ? new LiteLLMGateway(opts.gatewayUrl, () => key) : null;
const asked = { listings: 0, listed: 0, alives: 0 };
const gateway = real && {
  listTools: (o: Parameters<LiteLLMGateway['listTools']>[0] = {}) => {
    asked.listings++;
    asked.listed += o.servers?.length ?? 0;
    return real.listTools(o);
  },
  alive: () => {
    asked.alives++;
    return real.alive();
  },
};
const monitor = new HealthMonitor({
  runtime,
  config,
  configPath: settings.gateway.configPath,
  gateway,
  observe: { namePrefix: settings.namePrefix, instance: settings.instance, network: settings.network },
  log,
  now: () => Date.now() + clock.offset,
  keepSessions: opts.keepSessions ?? true,
});
monitor.update(first.input.servers, new Map());

const answer = (x: unknown): void => void process.stdout.write(`${JSON.stringify(x)}\n`);
answer({ ready: true, pid: process.pid });
for await (const line of createInterface({ input: process.stdin })) {
  const t0 = performance.now();
  if (line === 'pass') {
    const out = await r.reconcile();
    answer({ ms: performance.now() - t0, dockerApiCalls: out.dockerApiCalls, operations: out.result.done.length });
  } else if (line === 'probe') {
    clock.offset += INTERVAL_MS;
    // The daemon spreads probes over the interval (jittered timers): a few at a time, not all at once.
    const limit = pLimit(PROBES_AT_ONCE);
    await Promise.all(first.input.servers.map((m) => limit(() => monitor.probe(m.name))));
    const s = monitor.snapshot();
    const is = (h: (typeof s)[number], type: string): boolean => h.conditions.some((c) => c.type === type && c.status === 'True');
    answer({
      ms: performance.now() - t0,
      ready: s.filter((h) => is(h, 'McpReady')).length,
      gatewayReady: s.filter((h) => is(h, 'GatewayReady')).length,
      gatewayBatched: s.filter((h) => h.conditions.some((c) => c.type === 'GatewayReady' && c.message.includes('batched'))).length,
      ...asked,
    });
    Object.assign(asked, { listings: 0, listed: 0, alives: 0 });
  } else if (line === 'memory') {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    answer({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers });
  } else break;
}
rmSync(dir, { recursive: true, force: true });
process.exit(0);
