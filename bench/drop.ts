// Bench case `file-drop`: file drop -> tools listed through the gateway, config mode (real
// LiteLLM 1.77.3, restart per change) and API mode (real LiteLLM 1.77.3 on the Prisma double: POST, no restart),
// beside the floor (container create+start and MCP initialize alone). Bounded counts.
import { writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { loadSettings } from '../src/config/settings.js';
import { DockerRuntime } from '../src/docker/runtime.js';
import { FileConfigStore } from '../src/litellm/file-store.js';
import { LiteLLMGateway } from '../src/litellm/gateway-client.js';
import { LiteLLMApi } from '../src/litellm/api.js';
import { createLogger } from '../src/log/logger.js';
import { Reconciler, masterKeyFrom } from '../src/reconcile/controller.js';
import { probeMcp } from '../src/health/probe.js';
import { managedGatewayOnDouble, UNUSED_DATABASE_URL } from '../test/litellm-db/proxy.js';
import type { BenchCase, BenchRow } from './case.js';
import { pct, fmt as fmtMs, freePort, stackDir, cleanupStack as cleanup, waitUntil } from './util.js';

const fmt = (xs: number[]) => fmtMs(xs, 0);
const SERVER = (i: number) =>
  `image: mcp/everything:latest\ntransport: http\nport: 3001\ncommand: [node, dist/index.js, streamableHttp]\nenv:\n  N: "${i}"\n`;


/** Floor: create+start one container and MCP-initialize it, nothing else. */
async function floorOf(docker: Docker): Promise<number[]> {
  const floor: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const c = await docker.createContainer({
      Image: 'local/mcp-everything:test',
      Cmd: ['node', 'dist/index.js', 'streamableHttp'],
      ExposedPorts: { '3001/tcp': {} },
      HostConfig: { Init: true, PortBindings: { '3001/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
    });
    await c.start();
    const port = Number((await c.inspect()).NetworkSettings.Ports['3001/tcp']?.[0]?.HostPort);
    await waitUntil(async () => (await probeMcp({ url: `http://127.0.0.1:${port}/mcp`, transport: 'http', timeoutMs: 2_000 })).ok, 30_000);
    floor.push(performance.now() - t0);
    await c.remove({ force: true });
  }
  return floor;
}

async function run(rows: BenchRow[]): Promise<Record<string, unknown>> {
  const docker = new Docker();
  const out: Record<string, unknown> = {};
  const floor = await floorOf(docker);
  // Config mode, real LiteLLM: each drop rewrites config.yaml and restarts the gateway.
  {
    const id = `drop${randomBytes(2).toString('hex')}`;
    const port = await freePort();
    const s = stackDir(id, { hostIp: '127.0.0.1', hostPort: port });
    try {
      const settings = loadSettings({ file: s.settingsFile, env: {} });
      const gateway = new LiteLLMGateway(settings.gateway.url, () => masterKeyFrom(settings));
      const runtime = new DockerRuntime(docker);
      const r = new Reconciler(settings, {
        runtime,
        config: new FileConfigStore(),
        gateway,
        api: new LiteLLMApi(settings.gateway.url, () => s.key),
        log: createLogger({ level: 'silent' }),
      });
      await r.reconcile(); // empty stack: gateway up
      const times: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        writeFileSync(join(settings.desiredDir, `mcp-d${i}.yaml`), SERVER(i));
        await r.reconcile();
        await waitUntil(async () => {
          const t = await gateway.listTools({ servers: [`mcp_d${i}`], timeoutMs: 5_000 });
          return t.ok && t.tools.includes(`mcp_d${i}-echo`);
        }, 60_000);
        times.push(performance.now() - t0);
      }
      rows.push({
        what: 'file drop -> its tools through the gateway, config mode (real LiteLLM restarts)',
        value: fmt(times),
        baseline: `floor: container create+start+initialize ${fmt(floor)}`,
        note: '',
      });
      out['configMode'] = { p50: pct(times, 50), p95: pct(times, 95) };
    } finally {
      await cleanup(docker, id, s.dir);
    }
  }
  out['floor'] = { p50: pct(floor, 50), p95: pct(floor, 95) };
  return out;
}

async function runApi(rows: BenchRow[]): Promise<Record<string, unknown>> {
  const docker = new Docker();
  const out: Record<string, unknown> = {};
  const floor = await floorOf(docker);
  // API mode on the real LiteLLM 1.77.3 in database mode: the managed gateway container runs the local
  // image with the in-memory Prisma double mounted in (test/litellm-db/); each drop is a POST, no restart.
  {
    const id = `drop${randomBytes(2).toString('hex')}`;
    const port = await freePort();
    const s = stackDir(id, { hostIp: '127.0.0.1', hostPort: port, ...managedGatewayOnDouble() });
    appendFileSync(join(s.dir, 'secrets', `${id}-litellm.env`), `${UNUSED_DATABASE_URL}\n`);
    try {
      const settings = loadSettings({ file: s.settingsFile, env: {} });
      const gateway = new LiteLLMGateway(settings.gateway.url, () => masterKeyFrom(settings));
      const api = new LiteLLMApi(settings.gateway.url, () => s.key);
      const r = new Reconciler(settings, {
        runtime: new DockerRuntime(docker),
        config: new FileConfigStore(),
        gateway,
        api,
        log: createLogger({ level: 'silent' }),
      });
      // Empty stack: the gateway up and answering with its database (API mode).
      await waitUntil(async () => (await r.reconcile()).gatewayMode.mode === 'api' && (await api.database()) === 'database', 400_000);
      const times: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        writeFileSync(join(settings.desiredDir, `mcp-a${i}.yaml`), SERVER(i));
        await r.reconcile();
        await waitUntil(async () => {
          const t = await gateway.listTools({ servers: [`mcp_a${i}`], timeoutMs: 5_000 });
          return t.ok && t.tools.includes(`mcp_a${i}-echo`);
        }, 60_000);
        times.push(performance.now() - t0);
      }
      const met = pct(times, 50) <= 1500 && pct(times, 95) <= 3000;
      rows.push({
        what: 'file drop -> its tools through the gateway, API mode (real LiteLLM 1.77.3 on the Prisma double, no restart)',
        value: fmt(times),
        baseline: `floor: container create+start+initialize ${fmt(floor)}`,
        note: `target p50 <= 1500 ms, p95 <= 3000 ms: ${met ? 'met' : 'MISSED'}`,
      });
      out['apiMode'] = { p50: pct(times, 50), p95: pct(times, 95), proxy: 'real LiteLLM 1.77.3; database = in-memory Prisma double' };
    } finally {
      await cleanup(docker, id, s.dir);
    }
  }
  out['floor'] = { p50: pct(floor, 50), p95: pct(floor, 95) };
  return out;
}

export const fileDrop: BenchCase = {
  id: 'file-drop',
  title: 'a dropped desired file until its tools are listed through the gateway, config mode (restart)',
  unit: 'ms',
  needs: 'docker',
  async run() {
    const rows: BenchRow[] = [];
    const data = await run(rows);
    return { rows, data };
  },
};

export const fileDropApi: BenchCase = {
  id: 'file-drop-api',
  title: 'a dropped desired file until its tools are listed through the gateway, API mode (real LiteLLM 1.77.3 on the Prisma double)',
  unit: 'ms',
  target: 'p50 <= 1500 ms, p95 <= 3000 ms',
  needs: 'docker',
  async run() {
    const rows: BenchRow[] = [];
    const data = await runApi(rows);
    return { rows, data };
  },
};
