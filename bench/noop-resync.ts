// Bench case `noop-resync`: a pass with nothing to do, against the in-memory runtime (3 ms per
// call, so the figure isolates the reconciler's own work), beside the planner alone, with the
// Docker Engine API requests the pass reports (the real adapter's count for the same port calls)
// and the observations it made (target: one).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../src/config/settings.js';
import { createLogger } from '../src/log/logger.js';
import { Reconciler } from '../src/reconcile/controller.js';
import { plan } from '../src/reconcile/planner.js';
import { InMemoryRuntime, MemoryConfigStore } from '../src/testing/fake-runtime.js';
import type { BenchCase, BenchRow } from './case.js';
import { median } from './util.js';

const PASSES = 9;

export const noopResync: BenchCase = {
  id: 'noop-resync',
  title: 'a reconcile pass with nothing to do, 10 / 100 / 500 servers, in-memory runtime',
  unit: 'ms per pass',
  needs: 'node',
  async run() {
    const rows: BenchRow[] = [];
    const data: Record<string, unknown> = {};
    for (const N of [10, 100, 500]) {
      const dir = mkdtempSync(join(tmpdir(), 'bench-resync-'));
      try {
        const desired = join(dir, 'desired-state');
        mkdirSync(desired);
        for (let i = 0; i < N; i++) {
          writeFileSync(join(desired, `mcp-s${i}.yaml`), `image: mcp/everything:1\ntransport: http\nport: 3001\nenv:\n  N: "${i}"\n`);
        }
        mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
        writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-bench\n', { mode: 0o600 });
        const settings = loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: dir, MCP_RECONCILER_SECRETS_DIR: join(dir, 'secrets') } });
        const runtime = new InMemoryRuntime({ latencyMs: 3 });
        const r = new Reconciler(settings, {
          runtime,
          config: new MemoryConfigStore(),
          gateway: null,
          log: createLogger({ level: 'silent' }),
        });
        await r.reconcile();
        const times: number[] = [];
        const planOnly: number[] = [];
        const cpu: number[] = [];
        let writes = 0;
        let reads = 0;
        let apiCalls = 0;
        for (let i = 0; i < PASSES; i++) {
          const before = { ...runtime.calls };
          const t0 = performance.now();
          const c0 = process.cpuUsage();
          const o = await r.reconcile();
          const c = process.cpuUsage(c0);
          times.push(performance.now() - t0);
          cpu.push((c.user + c.system) / 1000);
          apiCalls += o.dockerApiCalls;
          writes += runtime.calls.writes - before.writes;
          reads += runtime.calls.reads - before.reads;
          const t1 = performance.now();
          plan(o.input);
          planOnly.push(performance.now() - t1);
        }
        const target = N === 500
          ? `; target pass <= 50 ms ${median(times) <= 50 ? 'met' : 'MISSED'}, ` +
            `planner <= 10 ms ${median(planOnly) <= 10 ? 'met' : 'MISSED'}`
          : '';
        rows.push({
          what: `no-op pass, ${N} servers (in-memory runtime, 3 ms per call)`,
          value: `${median(times).toFixed(1)} ms (CPU ${median(cpu).toFixed(1)} ms), ${reads / PASSES} observation, ` +
            `${apiCalls / PASSES} Docker API requests, ${writes} writes`,
          baseline: `planner alone ${median(planOnly).toFixed(2)} ms`,
          note: `median of ${PASSES} passes${target}`,
        });
        data[String(N)] = {
          passMs: median(times),
          passCpuMs: median(cpu),
          planMs: median(planOnly),
          runtimeReadsPerPass: reads / PASSES,
          dockerApiCallsPerPass: apiCalls / PASSES,
          runtimeWrites: writes,
          passSamples: times,
          planSamples: planOnly,
        };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    return { rows, data };
  },
};
