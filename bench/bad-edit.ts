// `bad-edit`: a desired file edited so the server's process exits at once, left standing for 60 s
// while the daemon runs. How often was the working container stopped, and how long did it serve
// (direct MCP probes every second; tools through LiteLLM every 2 s)? Two servers at once: one
// without data (recreated beside the old one) and one with `data:` (stop-start with rollback).
// Baseline: the same stack and probes for 60 s with no edit, in the same run. ADR 0005.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { loadSettings } from '../src/config/settings.js';
import { DockerRuntime } from '../src/docker/runtime.js';
import { FileConfigStore } from '../src/litellm/file-store.js';
import { LiteLLMGateway } from '../src/litellm/gateway-client.js';
import { createLogger } from '../src/log/logger.js';
import { Reconciler, masterKeyFrom } from '../src/reconcile/controller.js';
import { probeMcp } from '../src/health/probe.js';
import type { BenchCase, BenchRow } from './case.js';
import { cleanupStack, freePort, stackDir, waitUntil } from './util.js';

const WINDOW_MS = 60_000;
const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const GOOD = (data: boolean): string =>
  'image: mcp/everything:latest\ntransport: http\nport: 3001\n' +
    `command: [node, dist/index.js, streamableHttp]\n${data ? 'data: /data\n' : ''}`;
const BAD = (data: boolean): string =>
  'image: mcp/everything:latest\ntransport: http\nport: 3001\n' +
    `command: [node, -e, "console.error('Error: unknown flag --nope'); process.exit(1)"]\n${data ? 'data: /data\n' : ''}`;

interface Served {
  stops: number;
  servedS: number;
  probes: number;
  gatewayPct: number;
}

/** Probe `names` for one window; count the `die` events of their working containers meanwhile. */
async function window(
  docker: Docker,
  gateway: LiteLLMGateway,
  prefix: string,
  names: string[],
  during: () => void,
): Promise<Record<string, Served>> {
  const ids: Record<string, string> = {};
  for (const n of names) ids[n] = (await docker.getContainer(`${prefix}${n}`).inspect()).Id;
  // A restarted container gets a new free host port: look it up at every probe (by name, as
  // LiteLLM reaches it by its alias).
  const port = async (n: string): Promise<number> =>
    Number((await docker.getContainer(`${prefix}${n}`).inspect()).NetworkSettings.Ports['3001/tcp']?.[0]?.HostPort);
  const ok: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  const gw: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  let probes = 0;
  let gwPolls = 0;
  const since = Math.floor(Date.now() / 1000);
  const t0 = Date.now();
  during();
  const direct = (async () => {
    for (let tick = 0; Date.now() - t0 < WINDOW_MS; tick++) {
      const next = t0 + (tick + 1) * 1_000;
      probes++;
      await Promise.all(names.map(async (n) => {
        const p = await port(n).catch(() => NaN);
        if (!p) return;
        const r = await probeMcp({ url: `http://127.0.0.1:${p}/mcp`, transport: 'http', timeoutMs: 800 });
        if (r.ok) ok[n]!++;
      }));
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
  })();
  const through = (async () => {
    for (let tick = 0; Date.now() - t0 < WINDOW_MS; tick++) {
      const next = t0 + (tick + 1) * 2_000;
      gwPolls++;
      // Narrowed to one server each (x-mcp-servers), so one server being down does not hide the other.
      await Promise.all(names.map(async (n) => {
        const t = await gateway.listTools({ servers: [`mcp_${n}`], timeoutMs: 1_900 });
        if (t.ok && t.tools.some((x) => x.startsWith(`mcp_${n}-`))) gw[n]!++;
      }));
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
  })();
  await Promise.all([direct, through]);
  const until = Math.ceil(Date.now() / 1000);
  const out: Record<string, Served> = {};
  for (const n of names) {
    const stream = (await docker.getEvents({
      since,
      until,
      filters: { container: [ids[n]!], event: ['die'] },
    })) as unknown as AsyncIterable<Buffer>;
    let text = '';
    for await (const chunk of stream) text += chunk.toString('utf8');
    out[n] = {
      stops: text.split('\n').filter((l) => l.trim()).length,
      servedS: ok[n]!,
      probes,
      gatewayPct: Math.round((gw[n]! / gwPolls) * 100),
    };
  }
  return out;
}

export const badEdit: BenchCase = {
  id: 'bad-edit',
  title: 'a bad edit (process exits at once) standing 60 s under the daemon: stops of the working container, time it served',
  unit: 'stops per 60 s, s served of 60',
  target: '<= 4 stops, >= 55 s served',
  needs: 'docker',
  async run() {
    const docker = new Docker();
    const id = `be${randomBytes(2).toString('hex')}`;
    const s = stackDir(id, { hostIp: '127.0.0.1', hostPort: await freePort() });
    const settings = loadSettings({ file: s.settingsFile, env: {} });
    const write = (name: string, yaml: string): void => writeFileSync(join(settings.desiredDir, `mcp-${name}.yaml`), yaml);
    write('plain', GOOD(false));
    write('data', GOOD(true));
    const gateway = new LiteLLMGateway(settings.gateway.url, () => masterKeyFrom(settings));
    const r = new Reconciler(settings, {
      runtime: new DockerRuntime(docker),
      config: new FileConfigStore(),
      gateway,
      log: createLogger({ level: 'silent' }),
    });
    const daemon = { proc: null as ReturnType<typeof spawn> | null };
    try {
      const out = await r.reconcile();
      const failed = out.result.failed.filter((f) => f.code !== 'GatewayUnavailable'); // a slow LiteLLM start: waited below
      if (failed.length) throw new Error(`stack failed: ${failed.map((f) => `${f.op.resourceId}: ${f.error}`).join('; ')}`);
      await gateway.waitReady(180_000);
      daemon.proc = spawn(process.execPath, [MAIN, 'run', '--config', s.settingsFile], {
        stdio: 'ignore',
        env: { ...process.env, LOG_LEVEL: 'silent' },
      });
      await waitUntil(async () => (await gateway.listTools({ timeoutMs: 2_000 })).ok, 60_000);
      const names = ['plain', 'data'];
      const baseline = await window(docker, gateway, `${id}-`, names, () => undefined);
      const bad = await window(docker, gateway, `${id}-`, names, () => {
        write('plain', BAD(false));
        write('data', BAD(true));
      });
      const met = (x: Served): string => (x.stops <= 4 && x.servedS >= 55 ? 'target met' : 'target MISSED');
      const rows: BenchRow[] = [
        {
          what: 'bad edit standing 60 s, server without data (recreated beside the old one)',
          value: `${bad['plain']!.stops} stops, served ${bad['plain']!.servedS} s of ${bad['plain']!.probes} (1 s probes), ` +
            `through LiteLLM in ${bad['plain']!.gatewayPct} % of 2 s polls`,
          baseline: `no edit: ${baseline['plain']!.stops} stops, served ${baseline['plain']!.servedS} s, ` +
            `${baseline['plain']!.gatewayPct} %`,
          note: `${met(bad['plain']!)} (<= 4 stops, >= 55 s); before ADR 0005: 67 stops, 6 % through LiteLLM`,
        },
        {
          what: 'bad edit standing 60 s, server with data: (stop-start with rollback, backoff 10 s doubling)',
          value: `${bad['data']!.stops} stops, served ${bad['data']!.servedS} s of ${bad['data']!.probes} (1 s probes), ` +
            `through LiteLLM in ${bad['data']!.gatewayPct} % of 2 s polls`,
          baseline: `no edit: ${baseline['data']!.stops} stops, served ${baseline['data']!.servedS} s, ${baseline['data']!.gatewayPct} %`,
          note: `${met(bad['data']!)} (<= 4 stops, >= 55 s)`,
        },
      ];
      return { rows, data: { windowMs: WINDOW_MS, baseline, badEdit: bad } };
    } finally {
      daemon.proc?.kill('SIGTERM');
      await cleanupStack(docker, id, s.dir);
      for (const v of (await docker.listVolumes({ filters: { label: [`io.mcp-reconciler.instance=${id}`] } })).Volumes ?? []) {
        await docker.getVolume(v.Name).remove().catch(() => undefined);
      }
    }
  },
};
