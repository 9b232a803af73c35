// Bench case `config-handover`: config mode with `gateway.handover: blue-green` (ADR 0025). 20
// consecutive config changes (a server dropped, then removed, ten times) while 4 clients call a
// tool in a loop through the front: failed calls, and drop -> its tools through the front, beside
// LiteLLM's own cold start (a fresh container of the same image and config until /health/readiness,
// and on until it lists the tools) measured in the same run: idle before the calls start, and under the
// calls after each removal, between the changes.
import { writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { request } from 'undici';
import { loadSettings } from '../src/config/settings.js';
import { DockerRuntime } from '../src/docker/runtime.js';
import { FileConfigStore } from '../src/litellm/file-store.js';
import { LiteLLMGateway } from '../src/litellm/gateway-client.js';
import { FrontHandover, HANDOVER_POLL_MS } from '../src/front/client.js';
import { createLogger } from '../src/log/logger.js';
import { Reconciler, masterKeyFrom } from '../src/reconcile/controller.js';
import { gatewayColourSpec, gatewaySpec } from '../src/desired/resolve.js';
import { callsInLoop } from '../src/testing/calls.js';
import type { BenchCase, BenchRow } from './case.js';
import { cleanupStack, fmt, freePort, pct, stackDir, waitUntil } from './util.js';

const SERVER = (name: string): string =>
  `image: mcp/everything:latest\ntransport: http\nport: 3001\ncommand: [node, dist/index.js, streamableHttp]\nenv:\n  N: "${name}"\n`;
const CHANGES = 20;
const CLIENTS = 4;

/**
 * LiteLLM's cold start with the stack's config: create + start a fresh container until /health/readiness
 * answers (`ready`), and on until its POST /mcp/ lists the base server's tools (`tools`, polled every
 * HANDOVER_POLL_MS as the handover polls the standby): what a new LiteLLM needs before it can serve them.
 */
async function coldStarts(
  docker: Docker,
  runtime: DockerRuntime,
  settings: ReturnType<typeof loadSettings>,
  n: number,
): Promise<{ ready: number[]; tools: number[] }> {
  const base = gatewayColourSpec(settings, gatewaySpec(settings), 'blue');
  const out = { ready: [] as number[], tools: [] as number[] };
  for (let i = 0; i < n; i++) {
    // The colours' network alias (<prefix>litellm) stays: the edge serves only what carries it (ADR 0007).
    const spec = { ...base, name: `${settings.namePrefix}coldstart`, publish: { hostIp: '127.0.0.1', hostPort: null } };
    const t0 = performance.now();
    const id = await runtime.create(spec);
    try {
      await runtime.start(id);
      const ports = (await docker.getContainer(id).inspect()).NetworkSettings.Ports;
      const port = Number(ports[`${settings.gateway.containerPort}/tcp`]?.[0]?.HostPort);
      await waitUntil(async () => {
        const r = await request(`http://127.0.0.1:${port}/health/readiness`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
        await r.body.dump();
        return r.statusCode === 200;
      }, 180_000);
      out.ready.push(performance.now() - t0);
      const fresh = new LiteLLMGateway(`http://127.0.0.1:${port}`, () => masterKeyFrom(settings));
      await waitUntil(async () => {
        const t = await fresh.listTools({ timeoutMs: 10_000 });
        return t.ok && t.tools.includes('mcp_base-echo');
      }, 180_000, HANDOVER_POLL_MS);
      out.tools.push(performance.now() - t0);
    } finally {
      await runtime.remove(id);
    }
  }
  return out;
}

async function run(): Promise<{ rows: BenchRow[]; data: Record<string, unknown> }> {
  const docker = new Docker();
  const id = `ho${randomBytes(2).toString('hex')}`;
  const s = stackDir(id, { hostIp: '127.0.0.1', hostPort: await freePort(), handover: 'blue-green', mode: 'config' });
  /** The 4 clients' call loops; emptied once stopped (the finally stops what is left after an error). */
  const looping: Awaited<ReturnType<typeof callsInLoop>>[] = [];
  try {
    const settings = loadSettings({ file: s.settingsFile, env: {} });
    const runtime = new DockerRuntime(docker);
    const gateway = new LiteLLMGateway(settings.gateway.url, () => masterKeyFrom(settings));
    const handover = new FrontHandover(settings.gateway.url, () => masterKeyFrom(settings));
    // The executor logs each operation when it is done: where a drop's time goes, from those lines' times.
    const done: { at: number; msg: string; readyAfterMs?: number; listedAfterMs?: number }[] = [];
    const record = (line: string): void => {
      const entry = JSON.parse(line) as { time: string; msg: string; readyAfterMs?: number; listedAfterMs?: number };
      done.push({ ...entry, at: Date.parse(entry.time) });
    };
    const log = createLogger({ level: 'info', destination: { write: record } });
    const r = new Reconciler(settings, { runtime, config: new FileConfigStore(), gateway, handover, log });
    writeFileSync(join(settings.desiredDir, 'mcp-base.yaml'), SERVER('base'));
    await r.reconcile();
    await waitUntil(async () => (await gateway.listTools({ servers: ['mcp_base'], timeoutMs: 5_000 })).ok, 300_000);
    await waitUntil(async () => {
      const t = await gateway.listTools({ servers: ['mcp_base'], timeoutMs: 5_000 });
      return t.ok && t.tools.includes('mcp_base-echo');
    }, 120_000);
    const cold = await coldStarts(docker, runtime, settings, 3);

    for (let c = 0; c < CLIENTS; c++) looping.push(await callsInLoop(gateway.mcpUrl, s.key, 'mcp_base-echo', `bench-${c}`));

    const drops: number[] = [];
    /** Per drop: drop -> config written (observe, plan, networks, edge); the standby's start (create -> tools listed); then -> seen. */
    const phases = { before: [] as number[], standby: [] as number[], after: [] as number[] };
    /** The standby's start split: config written -> created and started; -> /health/readiness; -> its tools listed. */
    const standby = { create: [] as number[], ready: [] as number[], listed: [] as number[] };
    const removals: number[] = [];
    const passes: number[] = [];
    // LiteLLM's cold start under the same 4 clients' calls, one after each drop and removal: the handover's baseline,
    // taken between the changes so that it sees the machine as they do (the config is back to the base server's then).
    const coldLoaded = { ready: [] as number[], tools: [] as number[] };
    for (let i = 0; i < CHANGES; i++) {
      const name = `d${Math.floor(i / 2)}`;
      const file = join(settings.desiredDir, `mcp-${name}.yaml`);
      const t0 = performance.now();
      const wall0 = Date.now();
      done.length = 0;
      if (i % 2 === 0) writeFileSync(file, SERVER(name));
      else unlinkSync(file);
      // Polled from the drop on, beside the pass: the tools are there from the switch, before the old colour is drained and removed.
      const seen = waitUntil(async () => {
        const t = await gateway.listTools({ servers: [`mcp_${name}`, 'mcp_base'], timeoutMs: 10_000 });
        return t.ok && (i % 2 === 0) === t.tools.includes(`mcp_${name}-echo`) && t.tools.includes('mcp_base-echo');
      }, 600_000).then(() => ({ ms: performance.now() - t0, at: Date.now() }));
      const out = await r.reconcile();
      passes.push(performance.now() - t0);
      const failed = out.result.failed.map((f) => `${f.op.type} ${f.op.resourceId}: ${f.error}`);
      if (failed.length > 0) throw new Error(`change ${i} failed: ${failed.join('; ')}`);
      const shown = await seen;
      (i % 2 === 0 ? drops : removals).push(shown.ms);
      if (i % 2 === 0) {
        const line = (prefix: string): (typeof done)[number] => {
          const found = done.find((d) => d.msg.startsWith(prefix));
          if (!found) throw new Error(`change ${i}: no '${prefix}' line among ${done.map((d) => d.msg).join(' | ')}`);
          return found;
        };
        const written = line('write-gateway-config ').at;
        const created = line(`create-container container:${settings.namePrefix}litellm-`).at;
        const took = done.find((d) => d.readyAfterMs !== undefined);
        if (took?.readyAfterMs === undefined || took.listedAfterMs === undefined) throw new Error(`change ${i}: no standby timing line`);
        const awaited = line('await-gateway ').at;
        phases.before.push(written - wall0);
        phases.standby.push(awaited - written);
        phases.after.push(shown.at - awaited);
        standby.create.push(created - written);
        standby.ready.push(took.readyAfterMs);
        standby.listed.push(took.listedAfterMs - took.readyAfterMs);
      } else {
        const one = await coldStarts(docker, runtime, settings, 1);
        coldLoaded.ready.push(...one.ready);
        coldLoaded.tools.push(...one.tools);
      }
    }
    const stopped = looping.splice(0);
    await Promise.all(stopped.map((l) => l.stop()));
    const errors = stopped.flatMap((l) => l.calls.failed);
    const calls = { ok: stopped.reduce((n, l) => n + l.calls.ok, 0), failed: errors.length, errors };

    // The handover starts its LiteLLM beside the calls: the cold start measured under them is its baseline.
    const target = pct(coldLoaded.ready, 50) + 1000;
    const targetTools = pct(coldLoaded.tools, 50) + 1000;
    const met = calls.failed === 0 && pct(drops, 50) <= target;
    const rows: BenchRow[] = [
      {
        what: `tool calls failed during ${CHANGES} config changes, ${CLIENTS} clients calling in a loop (blue/green, ADR 0025)`,
        value: `${calls.failed} of ${calls.ok + calls.failed}`,
        baseline: 'handover: restart: every call during each restart fails',
        note: `target 0: ${calls.failed === 0 ? 'met' : 'MISSED'}`,
      },
      {
        what: 'file drop -> its tools through the front, config mode, blue/green',
        value: fmt(drops, 0),
        baseline: `LiteLLM cold start (fresh container -> /health/readiness) under the same calls ${fmt(coldLoaded.ready, 0)}, ` +
          `-> its tools listed ${fmt(coldLoaded.tools, 0)}; with no calls ${fmt(cold.ready, 0)}, -> tools ${fmt(cold.tools, 0)}`,
        note: `target p50 <= cold start p50 (to /health/readiness, under the calls) + 1 s (${Math.round(target)} ms): ` +
          `${pct(drops, 50) <= target ? 'met' : 'MISSED'}; against the cold start to its tools listed + 1 s ` +
          `(${Math.round(targetTools)} ms): ${pct(drops, 50) <= targetTools ? 'met' : 'MISSED'}`,
      },
      {
        what: 'where a drop\'s time goes (blue/green): the standby\'s own start (config written -> create, start, its tools listed)',
        value: `standby ${fmt(phases.standby, 0)}`,
        baseline: `the rest: drop -> config written ${fmt(phases.before, 0)}; ` +
          `tools listed -> seen through the front ${fmt(phases.after, 0)}`,
        note: `what the handover adds to the standby's start: p50 ${(pct(phases.before, 50) + pct(phases.after, 50)).toFixed(0)} ms; ` +
          `the standby's start under the handover (a server container starting beside it, 4 clients) vs the cold start to its tools ` +
          `under the calls: p50 ${(pct(phases.standby, 50) - pct(coldLoaded.tools, 50)).toFixed(0)} ms more`,
      },
      {
        what: 'the standby\'s start split: config written -> created and started; -> /health/readiness; -> its tools listed',
        value: `create ${fmt(standby.create, 0)}; ready ${fmt(standby.ready, 0)}; listed ${fmt(standby.listed, 0)}`,
        baseline: `cold start under the calls: -> ready ${fmt(coldLoaded.ready, 0)}, ready -> listed ` +
          `p50 ${(pct(coldLoaded.tools, 50) - pct(coldLoaded.ready, 50)).toFixed(0)} ms`,
        note: '',
      },
      { what: 'file removed -> its tools gone through the front, blue/green', value: fmt(removals, 0), baseline: '', note: '' },
    ];
    return {
      rows,
      data: {
        met, calls: { ok: calls.ok, failed: calls.failed, errors: calls.errors.slice(0, 10) },
        drop: { p50: pct(drops, 50), p95: pct(drops, 95), samples: drops },
        removal: { p50: pct(removals, 50), p95: pct(removals, 95), samples: removals },
        pass: { p50: pct(passes, 50), p95: pct(passes, 95) },
        phases: {
          beforeP50: pct(phases.before, 50), standbyP50: pct(phases.standby, 50), afterP50: pct(phases.after, 50),
          samples: phases,
        },
        standby: {
          createP50: pct(standby.create, 50), readyP50: pct(standby.ready, 50), listedP50: pct(standby.listed, 50), samples: standby,
        },
        coldStart: { p50: pct(cold.ready, 50), p95: pct(cold.ready, 95), samples: cold.ready },
        coldStartUnderCalls: { p50: pct(coldLoaded.ready, 50), p95: pct(coldLoaded.ready, 95), samples: coldLoaded.ready },
        coldStartToTools: { p50: pct(cold.tools, 50), p95: pct(cold.tools, 95), samples: cold.tools },
        coldStartToToolsUnderCalls: { p50: pct(coldLoaded.tools, 50), p95: pct(coldLoaded.tools, 95), samples: coldLoaded.tools },
      },
    };
  } finally {
    await Promise.all(looping.map((l) => l.stop().catch(() => undefined)));
    await cleanupStack(docker, id, s.dir);
  }
}

export const configHandover: BenchCase = {
  id: 'config-handover',
  title: '20 config changes under 4 clients calling tools, config mode with the blue/green gateway (ADR 0025)',
  unit: 'calls',
  target: '0 failed calls; drop -> tools p50 <= LiteLLM cold start p50 + 1 s',
  needs: 'docker',
  run,
};
