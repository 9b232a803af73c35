// Bench cases on the real dockerd and LiteLLM 1.77.3, each in a throwaway stack (own prefix,
// instance and network): `noop-resync-docker` (a pass with nothing to do, Docker API requests
// counted on the socket) and `litellm-restart` (the gateway restart the reconciler does in config
// mode, until LiteLLM answers /health/readiness).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { loadSettings } from '../src/config/settings.js';
import { gatewayContainerName } from '../src/desired/resolve.js';
import { DockerRuntime } from '../src/docker/runtime.js';
import { FileConfigStore } from '../src/litellm/file-store.js';
import { LiteLLMGateway } from '../src/litellm/gateway-client.js';
import { createLogger } from '../src/log/logger.js';
import { Reconciler, masterKeyFrom } from '../src/reconcile/controller.js';
import type { BenchCase, BenchRow } from './case.js';
import { DockerCallCounter, cleanupStack, fmt, freePort, median, pct, stackDir } from './util.js';

const SERVER = (i: number): string =>
  `image: mcp/everything:latest\ntransport: http\nport: 3001\ncommand: [node, dist/index.js, streamableHttp]\nenv:\n  N: "${i}"\n`;

/** A reconciler on a fresh stack with `servers` desired files, converged once. */
async function stack(
  id: string,
  servers: number,
  docker: Docker,
): Promise<{ r: Reconciler; gateway: LiteLLMGateway; dir: string; settings: ReturnType<typeof loadSettings> }> {
  const s = stackDir(id, { hostIp: '127.0.0.1', hostPort: await freePort() });
  const settings = loadSettings({ file: s.settingsFile, env: {} });
  for (let i = 0; i < servers; i++) writeFileSync(join(settings.desiredDir, `mcp-s${i}.yaml`), SERVER(i));
  const gateway = new LiteLLMGateway(settings.gateway.url, () => masterKeyFrom(settings));
  const r = new Reconciler(settings, {
    runtime: new DockerRuntime(docker),
    config: new FileConfigStore(),
    gateway,
    log: createLogger({ level: 'silent' }),
  });
  try {
    const out = await r.reconcile();
    if (out.result.failed.length) throw new Error(`stack failed: ${JSON.stringify(out.result.failed)}`);
    await gateway.waitReady(120_000);
  } catch (err) {
    await cleanupStack(docker, id, s.dir);
    throw err;
  }
  return { r, gateway, dir: s.dir, settings };
}

export const noopResyncDocker: BenchCase = {
  id: 'noop-resync-docker',
  title: 'a pass with nothing to do, 10 servers, real dockerd and LiteLLM; Docker API requests counted on the socket',
  unit: 'ms per pass, Docker API requests per pass',
  needs: 'docker',
  async run() {
    const docker = new Docker();
    const calls = new DockerCallCounter(docker);
    const id = `nr${randomBytes(2).toString('hex')}`;
    const { r, dir } = await stack(id, 10, docker);
    try {
      calls.take();
      const passes: { ms: number; requests: number; writes: number; reported: number }[] = [];
      let routes: Record<string, number> = {};
      const writesOf = (byRoute: Record<string, number>): number =>
        Object.entries(byRoute).filter(([k]) => !k.startsWith('GET ')).reduce((a, [, v]) => a + v, 0);
      for (let i = 0; i < 5; i++) {
        // What the daemon does per pass (src/watch/daemon.ts): reconcile(), whose status line comes
        // from the pass's own observation (before: a second observe() for the summary, 7 requests).
        const t0 = performance.now();
        const out = await r.reconcile();
        if (out.result.done.length + out.result.failed.length > 0) throw new Error(`not a no-op pass: ${JSON.stringify(out.plan)}`);
        const c = calls.take();
        passes.push({ ms: performance.now() - t0, requests: c.total, writes: writesOf(c.byRoute), reported: out.dockerApiCalls });
        routes = c.byRoute;
      }
      const rows: BenchRow[] = [
        {
          what: 'no-op daemon pass, 10 servers, real dockerd and LiteLLM',
          value: `p50 ${median(passes.map((p) => p.ms)).toFixed(0)} ms, ${median(passes.map((p) => p.requests))} Docker API requests, ` +
            `${passes.reduce((a, p) => a + p.writes, 0)} writes`,
          baseline: `the pass reports ${median(passes.map((p) => p.reported))} requests (metric mcp_reconciler_docker_api_calls_per_pass)`,
          note: Object.entries(routes).map(([k, v]) => `${v}x ${k}`).join(', '),
        },
      ];
      return { rows, data: { passes, requestsByRoute: routes } };
    } finally {
      await cleanupStack(docker, id, dir);
    }
  },
};

export const litellmRestart: BenchCase = {
  id: 'litellm-restart',
  title: 'LiteLLM 1.77.3 restarted the way config mode does it (stop + start) until /health/readiness answers',
  unit: 'ms',
  needs: 'docker',
  async run() {
    const docker = new Docker();
    const id = `lr${randomBytes(2).toString('hex')}`;
    const { gateway, dir, settings } = await stack(id, 0, docker);
    const runtime = new DockerRuntime(docker);
    try {
      const name = gatewayContainerName(settings);
      const total: number[] = [];
      const dockerPart: number[] = [];
      for (let i = 0; i < 5; i++) {
        const c = await runtime.inspectByName(name);
        if (!c) throw new Error(`${name} is gone`);
        const t0 = performance.now();
        await runtime.stop(c.id);
        await runtime.start(c.id);
        dockerPart.push(performance.now() - t0);
        await gateway.waitReady(120_000);
        total.push(performance.now() - t0);
      }
      const rows: BenchRow[] = [
        {
          what: 'LiteLLM stop + start -> /health/readiness answers (config mode restart)',
          value: fmt(total, 0),
          baseline: `of which docker stop + start ${fmt(dockerPart, 0)}`,
          note: 'readiness polled every 250 ms',
        },
      ];
      return { rows, data: { p50: pct(total, 50), p95: pct(total, 95), dockerP50: pct(dockerPart, 50), samples: total } };
    } finally {
      await cleanupStack(docker, id, dir);
    }
  },
};
