// Bench case `probe-cost`: what health probing costs per cycle. Direct probes (SDK client:
// initialize + tools/list against 100 servers, beside raw JSON-RPC over undici), and the gateway
// probes the daemon makes as many again (tools/list through LiteLLM `POST /mcp/` narrowed to one
// server), with LiteLLM's and the edge's own CPU read from their containers' cgroups (Engine API
// stats), and LiteLLM's idle CPU as its baseline.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { request } from 'undici';
import pLimit from 'p-limit';
import { stringify } from 'yaml';
import { probeMcp } from '../src/health/probe.js';
import { loadSettings } from '../src/config/settings.js';
import { edgeBaseUrl, edgeContainerName, gatewayContainerName } from '../src/desired/resolve.js';
import { DockerRuntime } from '../src/docker/runtime.js';
import { FileConfigStore } from '../src/litellm/file-store.js';
import { LiteLLMGateway } from '../src/litellm/gateway-client.js';
import { createLogger } from '../src/log/logger.js';
import { Reconciler, masterKeyFrom } from '../src/reconcile/controller.js';
import type { BenchCase, BenchRow } from './case.js';
import { cleanupStack, containerCpuNs, freePort, measure, median, stackDir, waitUntil } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));
const N = 100;
const CYCLES = 5;
const CONCURRENCY = 10;
const INTERVAL_MS = 30_000;
const pctOfCore = (ms: number): string => ((ms / INTERVAL_MS) * 100).toFixed(2);

async function direct(rows: BenchRow[]): Promise<Record<string, unknown>> {
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
    const limit = pLimit(CONCURRENCY);
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
    for (let i = 0; i < CYCLES * 2; i++) {
      sdk.push(await measure(sdkCycle));
      raw.push(await measure(rawCycle));
    }
    gc?.();
    const rss1 = process.memoryUsage().rss;
    const heap1 = process.memoryUsage().heapUsed;
    const cpu = median(sdk.map((x) => x.cpuMs));
    const cpuRaw = median(raw.map((x) => x.cpuMs));
    rows.push({
      what: `direct probes, ${N} servers, 1 cycle (initialize + tools/list, SDK client)`,
      value: `${cpu.toFixed(0)} ms CPU, ${median(sdk.map((x) => x.wallMs)).toFixed(0)} ms wall`,
      baseline: `raw JSON-RPC over undici: ${cpuRaw.toFixed(0)} ms CPU`,
      note: `median of ${sdk.length} cycles, ${CONCURRENCY} at a time`,
    });
    rows.push({
      what: `heap after ${sdk.length * N} more direct probes (after GC)`,
      value: `${((heap1 - heap0) / 1048576).toFixed(1)} MiB (RSS ${((rss1 - rss0) / 1048576).toFixed(1)} MiB)`,
      baseline: `heap ${(heap0 / 1048576).toFixed(0)} MiB before`,
      note: gc ? 'flat = no leak' : 'run with --expose-gc',
    });
    return { servers: N, sdkCpuMsPerCycle: cpu, rawCpuMsPerCycle: cpuRaw, heapGrowthMiB: (heap1 - heap0) / 1048576, rssGrowthMiB: (rss1 - rss0) / 1048576, gcForced: Boolean(gc) };
  } finally {
    child.kill();
  }
}

/**
 * A stack (own prefix and network) whose one server container runs the N bench servers; the
 * reconciler registers the first, 99 hand-written entries in config.yaml point at the others
 * through the edge, exactly as the reconciler would write them.
 */
async function gateway(rows: BenchRow[], directCpuMs: number): Promise<Record<string, unknown>> {
  const docker = new Docker();
  const id = `pc${randomBytes(2).toString('hex')}`;
  const s = stackDir(id, { hostIp: '127.0.0.1', hostPort: await freePort() });
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
    for (let i = 1; i < N; i++) entries[`bs${i}`] = { url: `${edgeBaseUrl(settings)}/${container}/${3001 + i}/mcp`, transport: 'http' };
    mkdirSync(dirname(settings.gateway.configPath), { recursive: true });
    writeFileSync(settings.gateway.configPath, stringify({ mcp_servers: entries }));
    const gw = new LiteLLMGateway(settings.gateway.url, () => masterKeyFrom(settings));
    const r = new Reconciler(settings, { runtime: new DockerRuntime(docker), config: new FileConfigStore(), gateway: gw, log: createLogger({ level: 'silent' }) });
    const out = await r.reconcile();
    if (out.result.failed.length) throw new Error(`stack failed: ${JSON.stringify(out.result.failed)}`);
    await gw.waitReady(120_000);
    const names = ['mcp_benchsrv', ...Object.keys(entries)];
    const limit = pLimit(CONCURRENCY);
    const cycle = () => Promise.all(names.map((n) => limit(async () => {
      const t = await gw.listTools({ servers: [n], timeoutMs: 10_000 });
      if (!t.ok || t.tools.length !== 10) throw new Error(`gateway probe ${n} failed: ${JSON.stringify(t)}`);
    }))).then(() => undefined);
    await waitUntil(async () => {
      const t = await gw.listTools({ servers: ['mcp_benchsrv'], timeoutMs: 5_000 });
      return t.ok && t.tools.length === 10;
    }, 60_000);
    await cycle(); // warm-up
    const cpuOf = async (): Promise<{ litellm: number; edge: number }> => ({
      litellm: await containerCpuNs(docker, gatewayContainerName(settings)),
      edge: await containerCpuNs(docker, edgeContainerName(settings)),
    });
    // LiteLLM's own CPU with nothing to do: its baseline over one probe interval.
    const idle0 = await cpuOf();
    await new Promise((res) => setTimeout(res, INTERVAL_MS));
    const idle1 = await cpuOf();
    const idleMs = (idle1.litellm - idle0.litellm) / 1e6;
    const per: { daemon: number; litellm: number; edge: number; wall: number }[] = [];
    for (let i = 0; i < CYCLES; i++) {
      const c0 = await cpuOf();
      const m = await measure(cycle);
      const c1 = await cpuOf();
      per.push({ daemon: m.cpuMs, litellm: (c1.litellm - c0.litellm) / 1e6, edge: (c1.edge - c0.edge) / 1e6, wall: m.wallMs });
    }
    const g = { daemon: median(per.map((x) => x.daemon)), litellm: median(per.map((x) => x.litellm)), edge: median(per.map((x) => x.edge)), wall: median(per.map((x) => x.wall)) };
    const total = directCpuMs + g.daemon + g.litellm + g.edge;
    rows.push({
      what: `gateway probes, ${N} servers, 1 cycle (tools/list through LiteLLM POST /mcp/, one server each)`,
      value: `daemon ${g.daemon.toFixed(0)} ms + LiteLLM ${g.litellm.toFixed(0)} ms + edge ${g.edge.toFixed(0)} ms CPU, ${g.wall.toFixed(0)} ms wall`,
      baseline: `direct probes ${directCpuMs.toFixed(0)} ms CPU`,
      note: `median of ${CYCLES} cycles; LiteLLM and edge CPU from their cgroups`,
    });
    rows.push({
      what: `all probes, ${N} servers every 30 s (direct + gateway, daemon + LiteLLM + edge)`,
      value: `${pctOfCore(total)} % of one core`,
      baseline: `direct probes alone ${pctOfCore(directCpuMs)} %`,
      note: `LiteLLM idle: ${pctOfCore(idleMs)} % (${idleMs.toFixed(0)} ms CPU in 30 s)`,
    });
    return { servers: N, perCycle: g, cycles: per, litellmIdleCpuMsPer30s: idleMs, allProbesPercentOfCore: Number(pctOfCore(total)) };
  } finally {
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
    const d = await direct(rows);
    const g = await gateway(rows, d['sdkCpuMsPerCycle'] as number);
    return { rows, data: { direct: d, gateway: g } };
  },
};
