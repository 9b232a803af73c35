// `npm run bench`: measured figures, each beside a baseline from the same run. Prints a table and
// writes .cache/bench/latest.json. Bounded in count and time; only 127.0.0.1 is contacted.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import pLimit from 'p-limit';
import { probeMcp } from '../src/health/probe.js';
import { Reconciler } from '../src/reconcile/controller.js';
import { loadSettings } from '../src/config/settings.js';
import { createLogger } from '../src/log/logger.js';
import { InMemoryRuntime, MemoryConfigStore } from '../src/testing/fake-runtime.js';
import { plan } from '../src/reconcile/planner.js';
import { benchBridge } from './bridge.js';
import { benchDrop } from './drop.js';

const here = dirname(fileURLToPath(import.meta.url));
const rows: { bench: string; case: string; value: string; baseline: string; note: string }[] = [];
const results: Record<string, unknown> = { machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, at: new Date().toISOString() };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** CPU ms and wall ms of fn, measured in this process. */
async function measure(fn: () => Promise<void>): Promise<{ cpuMs: number; wallMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { cpuMs: (c.user + c.system) / 1000, wallMs: performance.now() - t0 };
}

async function probeCost(): Promise<void> {
  const N = 100;
  const child = spawn(process.execPath, [join(here, 'many-servers.js'), String(N)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise<number[]>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0] as string) as number[]);
    });
    child.once('exit', () => reject(new Error('bench servers exited')));
  });
  try {
    const limit = pLimit(10);
    const sdkCycle = () => Promise.all(ports.map((p) => limit(async () => {
      const r = await probeMcp({ url: `http://127.0.0.1:${p}/mcp`, transport: 'http', timeoutMs: 10_000 });
      if (!r.ok || r.tools.length !== 10) throw new Error(`probe failed: ${JSON.stringify(r)}`);
    }))).then(() => undefined);
    const rpc = async (port: number, body: unknown): Promise<void> => {
      const r = await request(`http://127.0.0.1:${port}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(body),
      });
      await r.body.text();
    };
    const rawCycle = () => Promise.all(ports.map((p) => limit(async () => {
      await rpc(p, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'b', version: '1' } } });
      await rpc(p, { jsonrpc: '2.0', method: 'notifications/initialized' });
      await rpc(p, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
    }))).then(() => undefined);
    await sdkCycle(); // warm-up
    await rawCycle();
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const rss0 = process.memoryUsage().rss;
    const heap0 = process.memoryUsage().heapUsed;
    const sdk: { cpuMs: number; wallMs: number }[] = [];
    const raw: { cpuMs: number; wallMs: number }[] = [];
    for (let i = 0; i < 5; i++) {
      sdk.push(await measure(sdkCycle));
      raw.push(await measure(rawCycle));
    }
    gc?.();
    const rss1 = process.memoryUsage().rss;
    const heap1 = process.memoryUsage().heapUsed;
    const cpu = median(sdk.map((x) => x.cpuMs));
    const cpuRaw = median(raw.map((x) => x.cpuMs));
    const pct = (ms: number) => ((ms / 30_000) * 100).toFixed(2);
    rows.push({ bench: 'probe cost', case: `${N} servers, 1 cycle (initialize + tools/list, SDK client)`, value: `${cpu.toFixed(0)} ms CPU, ${median(sdk.map((x) => x.wallMs)).toFixed(0)} ms wall`, baseline: `${cpuRaw.toFixed(0)} ms CPU (raw JSON-RPC over undici)`, note: '' });
    rows.push({ bench: 'probe cost', case: `${N} servers every 30 s`, value: `${pct(cpu)} % of one core`, baseline: `${pct(cpuRaw)} % (raw)`, note: 'direct probes only; gateway probes cost the same again' });
    rows.push({ bench: 'probe cost', case: 'memory after 10 more cycles (after GC)', value: `heap ${((heap1 - heap0) / 1048576).toFixed(1)} MiB, RSS ${((rss1 - rss0) / 1048576).toFixed(1)} MiB`, baseline: `heap ${(heap0 / 1048576).toFixed(0)} MiB, RSS ${(rss0 / 1048576).toFixed(0)} MiB before`, note: gc ? 'flat = no leak' : 'run with --expose-gc' });
    results['probeCost'] = { servers: N, sdkCpuMsPerCycle: cpu, rawCpuMsPerCycle: cpuRaw, cpuPercentAt30s: Number(pct(cpu)), heapGrowthMiB: (heap1 - heap0) / 1048576, rssGrowthMiB: (rss1 - rss0) / 1048576 };
  } finally {
    child.kill();
  }
}

async function noopResync(): Promise<void> {
  const out: Record<string, unknown> = {};
  for (const N of [10, 100, 500]) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-resync-'));
    try {
      const desired = join(dir, 'desired-state');
      mkdirSync(desired);
      for (let i = 0; i < N; i++) writeFileSync(join(desired, `mcp-s${i}.yaml`), `image: mcp/everything:1\ntransport: http\nport: 3001\nenv:\n  N: "${i}"\n`);
      mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
      writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-bench\n', { mode: 0o600 });
      const settings = loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: dir, MCP_RECONCILER_SECRETS_DIR: join(dir, 'secrets') } });
      // Realistic Docker latency: ~3 ms per API call (a container list on this machine).
      const runtime = new InMemoryRuntime({ latencyMs: 3 });
      const config = new MemoryConfigStore();
      const r = new Reconciler(settings, { runtime, config, gateway: null, log: createLogger({ level: 'silent' }) });
      await r.reconcile();
      const times: number[] = [];
      const planOnly: number[] = [];
      let writes = 0;
      let reads = 0;
      for (let i = 0; i < 5; i++) {
        const before = { ...runtime.calls };
        const t0 = performance.now();
        const o = await r.reconcile();
        times.push(performance.now() - t0);
        writes += runtime.calls.writes - before.writes;
        reads += runtime.calls.reads - before.reads;
        const t1 = performance.now();
        plan(o.input);
        planOnly.push(performance.now() - t1);
      }
      const rss = process.memoryUsage().rss / 1048576;
      rows.push({ bench: 'no-op resync', case: `${N} servers (fake Docker, 3 ms/call)`, value: `${median(times).toFixed(1)} ms, ${reads / 5} Docker reads, ${writes} writes`, baseline: `planner alone ${median(planOnly).toFixed(2)} ms`, note: `RSS ${rss.toFixed(0)} MiB` });
      out[String(N)] = { passMs: median(times), planMs: median(planOnly), dockerReadsPerPass: reads / 5, dockerWrites: writes, rssMiB: rss };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  results['noopResync'] = out;
}

await probeCost();
await noopResync();
if (!process.argv.includes('--no-docker')) {
  await benchBridge(rows, results);
  await benchDrop(rows, results);
}

const widths = ['bench', 'case', 'value', 'baseline', 'note'].map((k) => Math.max(k.length, ...rows.map((r) => String(r[k as keyof typeof r]).length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
console.log(line(['BENCH', 'CASE', 'VALUE', 'BASELINE', 'NOTE']));
for (const r of rows) console.log(line([r.bench, r.case, r.value, r.baseline, r.note]));
const outFile = join(here, '../../.cache/bench/latest.json');
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwrote ${outFile}`);
