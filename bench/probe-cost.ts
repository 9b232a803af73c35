// Bench case `probe-cost`: what health probing costs per cycle. Direct probes (SDK client:
// initialize + tools/list against 100 servers, beside raw JSON-RPC over undici); then the daemon's
// health monitor itself in a child process (bench/daemon-child.ts: its CPU from /proc/<pid>/stat)
// probing 100 servers every 30 s of its clock for 10 minutes of that clock — direct probes (one
// tools/list on a session kept per server; beside the same with a fresh session at every probe), and
// GatewayReady through LiteLLM every health.gatewayIntervalSeconds (600 s; one batched tools/list) with
// LiteLLM's liveness route in between — with LiteLLM's and the edge's CPU from their cgroups
// (Engine API stats); beside the same monitor listing through LiteLLM at every probe
// (gatewayIntervalSeconds = intervalSeconds, ADR 0017 before), the per-server gateway probes of
// before that (one narrowed tools/list per server), and LiteLLM's idle CPU once it has settled.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import pLimit from 'p-limit';
import { stringify } from 'yaml';
import { probeMcp, probeMcpWithSdk } from '../src/health/probe.js';
import { loadSettings } from '../src/config/settings.js';
import { HealthSchema } from '../src/desired/schema.js';
import { edgeBaseUrl, edgeContainerName, gatewayContainerName } from '../src/desired/resolve.js';
import { DockerRuntime } from '../src/docker/runtime.js';
import { FileConfigStore } from '../src/litellm/file-store.js';
import { LiteLLMGateway } from '../src/litellm/gateway-client.js';
import { createLogger } from '../src/log/logger.js';
import { Reconciler, masterKeyFrom } from '../src/reconcile/controller.js';
import type { BenchCase, BenchRow } from './case.js';
import { cleanupStack, containerCpuNs, freePort, measure, median, stackDir, waitUntil } from './util.js';
import { procCpuMs, startDaemonChild, startHostServers, type DaemonChild } from './daemon-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const N = 100;
const CYCLES = 5;
/** Probe cycles of the daemon's monitor measured: 10 minutes of its clock, one gateway interval at the default 600 s. */
const DAEMON_CYCLES = 20;
/** The same monitor listing through LiteLLM at every probe: its cycles cost alike, fewer suffice. */
const EVERY_PROBE_CYCLES = 5;
/** Cycles of the per-server gateway probes of before (each takes seconds of LiteLLM's CPU). */
const BEFORE_CYCLES = 3;
/** Most warm-up cycles of the daemon's monitor (its first asks every new server on its own). */
const WARM_CYCLES = 8;
/**
 * Fewest warm-up cycles: a fresh process spends ~2x the CPU on its first cycles (JIT, first
 * allocations); the daemon runs for months, so its steady cycles are the figure.
 */
const WARM_MIN = 5;
/** The default time between listings through LiteLLM (health.gatewayIntervalSeconds). */
const GATEWAY_INTERVAL_S = HealthSchema.parse({}).gatewayIntervalSeconds;
const CONCURRENCY = 10;
const INTERVAL_MS = 30_000;
/** How long LiteLLM's idle CPU is sampled (scaled to 30 s). */
const IDLE_MS = 10_000;
/**
 * LiteLLM 1.77.3 goes on working for ~10 s after /health/readiness first answers (5 s of CPU
 * measured here); its idle rate is sampled only once a window of SETTLE_WINDOW_MS costs less
 * than SETTLED_SHARE of a core (at most SETTLE_MAX_MS of waiting).
 */
const SETTLE_WINDOW_MS = 2_000;
const SETTLED_SHARE = 0.05;
const SETTLE_MAX_MS = 90_000;
const pctOfCore = (ms: number): string => ((ms / INTERVAL_MS) * 100).toFixed(2);

async function direct(rows: BenchRow[], ports: number[]): Promise<Record<string, unknown>> {
  {
    const limit = pLimit(CONCURRENCY);
    const cycleOf = (probe: typeof probeMcp) => () => Promise.all(ports.map((p) => limit(async () => {
      const r = await probe({ url: `http://127.0.0.1:${p}/mcp`, transport: 'http', timeoutMs: 10_000 });
      if (!r.ok || r.tools.length !== 10) throw new Error(`probe failed: ${JSON.stringify(r)}`);
    }))).then(() => undefined);
    // The daemon's probe (undici, answers checked with the SDK's schemas) and, as before, the SDK client.
    const probeCycle = cycleOf(probeMcp);
    const sdkCycle = cycleOf(probeMcpWithSdk);
    await probeCycle(); // warm-up
    await sdkCycle();
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const rss0 = process.memoryUsage().rss;
    const heap0 = process.memoryUsage().heapUsed;
    const probes: { cpuMs: number; wallMs: number }[] = [];
    const sdk: { cpuMs: number; wallMs: number }[] = [];
    for (let i = 0; i < CYCLES * 2; i++) {
      probes.push(await measure(probeCycle));
      sdk.push(await measure(sdkCycle));
    }
    gc?.();
    const rss1 = process.memoryUsage().rss;
    const heap1 = process.memoryUsage().heapUsed;
    const cpu = median(probes.map((x) => x.cpuMs));
    const cpuSdk = median(sdk.map((x) => x.cpuMs));
    rows.push({
      what: `direct probes, ${N} servers, 1 cycle (initialize + tools/list, the daemon's probe)`,
      value: `${cpu.toFixed(0)} ms CPU, ${median(probes.map((x) => x.wallMs)).toFixed(0)} ms wall`,
      baseline: `SDK client (the probe before): ${cpuSdk.toFixed(0)} ms CPU`,
      note: `median of ${probes.length} cycles, ${CONCURRENCY} at a time`,
    });
    rows.push({
      what: `heap after ${(probes.length + sdk.length) * N} more direct probes (after GC)`,
      value: `${((heap1 - heap0) / 1048576).toFixed(1)} MiB (RSS ${((rss1 - rss0) / 1048576).toFixed(1)} MiB)`,
      baseline: `heap ${(heap0 / 1048576).toFixed(0)} MiB before`,
      note: gc ? 'flat = no leak' : 'run with --expose-gc',
    });
    const mib = (bytes: number): number => bytes / 1048576;
    const growth = { heapGrowthMiB: mib(heap1 - heap0), rssGrowthMiB: mib(rss1 - rss0) };
    return { servers: N, probeCpuMsPerCycle: cpu, sdkCpuMsPerCycle: cpuSdk, ...growth, gcForced: Boolean(gc) };
  }
}

/**
 * A stack (own prefix and network) whose one server container runs the N bench servers; the
 * reconciler registers it, and N hand-written entries `mcp_s<i>` in config.yaml point at them
 * through the edge, exactly as the reconciler would write them for servers `s<i>`. The daemon
 * child has desired files `s<i>`, so its GatewayReady asks LiteLLM for `mcp_s<i>`.
 */
async function gateway(rows: BenchRow[], directCpuMs: number, ports: number[]): Promise<Record<string, unknown>> {
  const docker = new Docker();
  const id = `pc${randomBytes(2).toString('hex')}`;
  const s = stackDir(id, { hostIp: '127.0.0.1', hostPort: await freePort() });
  let daemon: DaemonChild | null = null;
  try {
    const settings = loadSettings({ file: s.settingsFile, env: {} });
    const serverDir = join(settings.projectsRoot, 'benchsrv');
    mkdirSync(serverDir, { recursive: true });
    copyFileSync(join(here, 'many-servers.js'), join(serverDir, 'many-servers.js'));
    writeFileSync(join(settings.desiredDir, 'mcp-benchsrv.yaml'), stringify({
      image: 'local/mcp-everything:test', transport: 'http', port: 3001,
      command: ['node', '/app/bench-servers.mjs', String(N), '0.0.0.0', '3001'],
      mounts: ['many-servers.js:/app/bench-servers.mjs'],
    }));
    const container = `${id}-benchsrv`;
    const entries: Record<string, unknown> = {};
    for (let i = 0; i < N; i++) entries[`mcp_s${i}`] = { url: `${edgeBaseUrl(settings)}/${container}/${3001 + i}/mcp`, transport: 'http' };
    mkdirSync(dirname(settings.gateway.configPath), { recursive: true });
    writeFileSync(settings.gateway.configPath, stringify({ mcp_servers: entries }));
    const gw = new LiteLLMGateway(settings.gateway.url, () => masterKeyFrom(settings));
    const log = createLogger({ level: 'silent' });
    const r = new Reconciler(settings, { runtime: new DockerRuntime(docker), config: new FileConfigStore(), gateway: gw, log });
    const out = await r.reconcile();
    if (out.result.failed.length) throw new Error(`stack failed: ${JSON.stringify(out.result.failed)}`);
    await gw.waitReady(120_000);
    const names = Object.keys(entries);
    const limit = pLimit(CONCURRENCY);
    // Before: one tools/list through LiteLLM narrowed to each server (what the monitor did per probe).
    const perServer = () => Promise.all(names.map((n) => limit(async () => {
      const t = await gw.listTools({ servers: [n], timeoutMs: 30_000 });
      if (!t.ok || t.tools.length !== 10) throw new Error(`gateway probe ${n} failed: ${JSON.stringify(t)}`);
    }))).then(() => undefined);
    await waitUntil(async () => {
      const t = await gw.listTools({ servers: ['mcp_s0'], timeoutMs: 5_000 });
      return t.ok && t.tools.length === 10;
    }, 60_000);
    await perServer(); // warm-up
    const cpuOf = async (): Promise<{ litellm: number; edge: number }> => ({
      litellm: await containerCpuNs(docker, gatewayContainerName(settings)),
      edge: await containerCpuNs(docker, edgeContainerName(settings)),
    });
    // LiteLLM's own CPU with nothing to do, over IDLE_MS, once its start-up work is over: its baseline.
    const settleStart = Date.now();
    for (;;) {
      const w0 = await cpuOf();
      await new Promise((res) => setTimeout(res, SETTLE_WINDOW_MS));
      const w1 = await cpuOf();
      if ((w1.litellm - w0.litellm) / 1e6 < SETTLE_WINDOW_MS * SETTLED_SHARE) break;
      if (Date.now() - settleStart > SETTLE_MAX_MS) throw new Error(`LiteLLM did not settle within ${SETTLE_MAX_MS} ms`);
    }
    const settledAfterMs = Date.now() - settleStart;
    const idle0 = await cpuOf();
    await new Promise((res) => setTimeout(res, IDLE_MS));
    const idle1 = await cpuOf();
    const idleMsPer30s = ((idle1.litellm - idle0.litellm) / 1e6) * (INTERVAL_MS / IDLE_MS);
    const before: { daemon: number; litellm: number; edge: number; wall: number }[] = [];
    for (let i = 0; i < BEFORE_CYCLES; i++) {
      const c0 = await cpuOf();
      const m = await measure(perServer);
      const c1 = await cpuOf();
      before.push({ daemon: m.cpuMs, litellm: (c1.litellm - c0.litellm) / 1e6, edge: (c1.edge - c0.edge) / 1e6, wall: m.wallMs });
    }
    // Now: the daemon's monitor in its own process, for DAEMON_CYCLES probe cycles (30 s of its clock
    // each), averaged: listings through LiteLLM fall in some cycles only. Its first cycle asks each
    // (new) server on its own; warm-up until every server is ready through LiteLLM (a probe that
    // timed out on a loaded machine is asked again), at most WARM_CYCLES.
    type Cpu = { daemon: number; litellm: number; edge: number; wall: number };
    type Cycle = Cpu & { gatewayReady: number; listings: number; listed: number; alives: number };
    type DaemonRun = { cycles: Cycle[]; warm: Record<string, number>[]; rss: number };
    const runDaemon = async (cycles: number, o: { gatewayIntervalSeconds?: number; keepSessions?: boolean } = {}): Promise<DaemonRun> => {
      daemon = await startDaemonChild({ servers: N, ports, gatewayUrl: settings.gateway.url, masterKey: s.key, ...o });
      const d = daemon;
      const warm: Record<string, number>[] = [];
      do warm.push(await d.send('probe'));
      while (warm.length < WARM_MIN || (warm.length < WARM_CYCLES && warm.at(-1)?.['gatewayReady'] !== N));
      if (warm.at(-1)?.['gatewayReady'] !== N) throw new Error(`not every server ready through LiteLLM when warm: ${JSON.stringify(warm)}`);
      const out: Cycle[] = [];
      for (let i = 0; i < cycles; i++) {
        const c0 = { ...(await cpuOf()), daemon: procCpuMs(d.pid) };
        const a = await d.send('probe');
        const c1 = { ...(await cpuOf()), daemon: procCpuMs(d.pid) };
        if (a['gatewayReady'] !== N) throw new Error(`GatewayReady lost during the run: ${JSON.stringify(a)}`);
        const n = (k: string): number => a[k] as number;
        out.push({
          daemon: c1.daemon - c0.daemon, litellm: (c1.litellm - c0.litellm) / 1e6, edge: (c1.edge - c0.edge) / 1e6, wall: n('ms'),
          gatewayReady: n('gatewayReady'), listings: n('listings'), listed: n('listed'), alives: n('alives'),
        });
      }
      const rss = (await d.send('memory'))['rss'] as number;
      d.close();
      daemon = null;
      return { cycles: out, warm, rss };
    };
    const every = await runDaemon(EVERY_PROBE_CYCLES, { gatewayIntervalSeconds: INTERVAL_MS / 1000 });
    const fresh = await runDaemon(DAEMON_CYCLES, { keepSessions: false });
    const run = await runDaemon(DAEMON_CYCLES);
    const of = (xs: Cpu[], f: (ys: number[]) => number): Cpu => ({
      daemon: f(xs.map((x) => x.daemon)),
      litellm: f(xs.map((x) => x.litellm)),
      edge: f(xs.map((x) => x.edge)),
      wall: f(xs.map((x) => x.wall)),
    });
    const mean = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
    const b = of(before, median);
    const g = of(run.cycles, mean);
    const e = of(every.cycles, mean);
    const f = of(fresh.cycles, mean);
    const sum = (xs: Cycle[], k: 'listings' | 'listed' | 'alives'): number => xs.reduce((a, x) => a + x[k], 0);
    // LiteLLM's share net of what it burns idle during the same wall time.
    const litellmNet = (x: { litellm: number; wall: number }): number => Math.max(0, x.litellm - (idleMsPer30s * x.wall) / INTERVAL_MS);
    const totalNow = g.daemon + litellmNet(g) + g.edge;
    const totalEvery = e.daemon + litellmNet(e) + e.edge;
    const totalFresh = f.daemon + litellmNet(f) + f.edge;
    const totalBefore = directCpuMs + b.daemon + litellmNet(b) + b.edge;
    const grossNow = g.daemon + g.litellm + g.edge;
    const grossEvery = e.daemon + e.litellm + e.edge;
    const grossFresh = f.daemon + f.litellm + f.edge;
    const grossBefore = directCpuMs + b.daemon + b.litellm + b.edge;
    const now = run.cycles;
    const listingCycles = now.flatMap((x, i) => (x.listings ? [`${i + 1}: LiteLLM ${x.litellm.toFixed(0)} ms`] : []));
    const rss = run.rss;
    const warm = run.warm;
    const ms = (x: number): string => x.toFixed(0);
    rows.push({
      what: `gateway probes before, ${N} servers, 1 cycle (one tools/list through LiteLLM per server)`,
      value: `bench process ${ms(b.daemon)} ms + LiteLLM ${ms(b.litellm)} ms + edge ${ms(b.edge)} ms CPU, ${ms(b.wall)} ms wall`,
      baseline: `SDK-client direct probes ${ms(directCpuMs)} ms CPU`,
      note: `median of ${BEFORE_CYCLES} cycles; LiteLLM and edge CPU from their cgroups`,
    });
    rows.push({
      what: `daemon probe cycle, ${N} servers, mean of ${DAEMON_CYCLES} cycles (10 min): direct probes; through LiteLLM every ` +
        `${GATEWAY_INTERVAL_S} s (batched)`,
      value: `daemon ${ms(g.daemon)} ms + LiteLLM ${ms(g.litellm)} ms + edge ${ms(g.edge)} ms CPU, ${ms(g.wall)} ms wall (a kept ` +
        `session per server: one tools/list per probe)`,
      baseline: `a fresh session at every probe: daemon ${ms(f.daemon)} + LiteLLM ${ms(f.litellm)} + edge ${ms(f.edge)} ms CPU; ` +
        `listing through LiteLLM at every probe too: daemon ${ms(e.daemon)} + LiteLLM ${ms(e.litellm)} + edge ${ms(e.edge)} ms CPU`,
      note: `daemon in its own process (/proc/<pid>/stat); in ${DAEMON_CYCLES} cycles LiteLLM got ${sum(now, 'listings')} tools/list ` +
        `requests naming ${sum(now, 'listed')} servers (cycle ${listingCycles.join(', ') || 'none'}) and ${sum(now, 'alives')} ` +
        `liveness requests; GatewayReady ${N} of ${N} in every cycle`,
    });
    rows.push({
      what: `all probes, ${N} servers every 30 s (daemon + LiteLLM + edge, LiteLLM net of idle), GatewayReady through LiteLLM every ` +
        `${GATEWAY_INTERVAL_S} s`,
      value: `${pctOfCore(totalNow)} % of one core (gross, LiteLLM's idle included: ${pctOfCore(grossNow)} %)`,
      baseline: `a fresh session at every probe ${pctOfCore(totalFresh)} % (gross ${pctOfCore(grossFresh)} %); listing through LiteLLM ` +
        `at every probe too ${pctOfCore(totalEvery)} % (gross ${pctOfCore(grossEvery)} %); per-server gateway probes before that ` +
        `${pctOfCore(totalBefore)} % (gross ${pctOfCore(grossBefore)} %)`,
      note: `target <= 2 % ${Number(pctOfCore(totalNow)) <= 2 ? 'met' : 'MISSED'}; LiteLLM idle ${pctOfCore(idleMsPer30s)} % ` +
        `(${ms(idleMsPer30s)} ms CPU per 30 s, sampled after it settled ${(settledAfterMs / 1000).toFixed(0)} s); daemon RSS ` +
        `${(rss / 1048576).toFixed(0)} MiB`,
    });
    return {
      servers: N, before: b, beforeCycles: before, now: g, nowCycles: now, warmCycles: warm, everyProbe: e, everyProbeCycles: every.cycles,
      freshSessions: f, freshSessionCycles: fresh.cycles, freshSessionsPercentOfCore: Number(pctOfCore(totalFresh)),
      litellmIdleCpuMsPer30s: idleMsPer30s, litellmSettledAfterMs: settledAfterMs, daemonRssBytes: rss,
      allProbesPercentOfCore: Number(pctOfCore(totalNow)), everyProbePercentOfCore: Number(pctOfCore(totalEvery)),
      beforePercentOfCore: Number(pctOfCore(totalBefore)), grossPercentOfCore: Number(pctOfCore(grossNow)),
      grossEveryProbePercentOfCore: Number(pctOfCore(grossEvery)), grossBeforePercentOfCore: Number(pctOfCore(grossBefore)),
    };
  } finally {
    (daemon as DaemonChild | null)?.close(); // assigned inside runDaemon
    await cleanupStack(docker, id, s.dir);
  }
}

export const probeCost: BenchCase = {
  id: 'probe-cost',
  title: 'CPU and memory of one health-probe cycle: direct probes, gateway probes, LiteLLM and edge CPU',
  unit: '% of one core at a 30 s interval',
  needs: 'docker',
  async run() {
    const rows: BenchRow[] = [];
    const servers = await startHostServers(N);
    try {
      const d = await direct(rows, servers.ports);
      const g = await gateway(rows, d['sdkCpuMsPerCycle'] as number, servers.ports);
      return { rows, data: { direct: d, gateway: g } };
    } finally {
      servers.close();
    }
  },
};
