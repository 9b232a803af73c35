import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createStack, docker, waitFor, REPO, type Stack } from './harness.js';
import { HealthMonitor, type ServerHealth } from '../../src/health/monitor.js';
import { FileConfigStore } from '../../src/litellm/file-store.js';
import { createLogger } from '../../src/log/logger.js';
import { problemsOf } from '../../src/reconcile/controller.js';
import { Metrics } from '../../src/server/metrics.js';

/**
 * MCP-level health against real containers and the real LiteLLM: a server that never answers
 * initialize, one that crashes, tools that change at run time, and LiteLLM stopped. The monitor
 * is driven probe by probe (no timers), so the test is about the state machine, not the clock.
 */
describe('health', { timeout: 300_000 }, () => {
  let stack: Stack;
  let monitor: HealthMonitor;
  let metrics: Metrics;
  const lines: Record<string, unknown>[] = [];
  const cond = (h: ServerHealth | undefined, type: string) => h?.conditions.find((c) => c.type === type);
  const health = (name: string) => monitor.snapshot().find((s) => s.name === name);
  const logged = (server: string, pattern: RegExp) => lines.filter((l) => l['server'] === server && pattern.test(String(l['msg'])));

  before(async () => {
    stack = await createStack();
    const toolsDir = join(stack.settings.projectsRoot, 'tools');
    mkdirSync(toolsDir, { recursive: true });
    copyFileSync(join(REPO, 'test/fixtures/tools-server.mjs'), join(toolsDir, 'server.mjs'));
    writeFileSync(join(toolsDir, 'tools.json'), JSON.stringify(['alpha', 'beta']));
    stack.copyExample('everything');
    stack.writeDesired('tools', 'image: mcp/everything:latest\ntransport: http\nport: 3001\ncommand: [node, /app/server.mjs]\n' +
      'mounts: ["server.mjs:/app/server.mjs", "tools.json:/config/tools.json"]\n');
    // Accepts connections, never answers: "running" but hung.
    stack.writeDesired('hung', 'image: mcp/everything:latest\ntransport: http\nport: 3001\n' +
      'command: [node, -e, "require(\'http\').createServer(() => {}).listen(3001)"]\n' +
      'health:\n  timeoutSeconds: 1\n  failureThreshold: 2\n');
    stack.writeDesired('legacy', 'image: mcp/everything:latest\ntransport: sse\nport: 3001\ncommand: [node, dist/index.js, sse]\n');
    stack.writeDesired('crash', 'image: mcp/everything:latest\ntransport: http\nport: 3001\ncommand: [node, -e, "process.exit(3)"]\n');
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed, []);
    metrics = new Metrics({ defaults: false });
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    monitor = new HealthMonitor({
      runtime: stack.runtime,
      config: new FileConfigStore(),
      configPath: stack.settings.gateway.configPath,
      gateway: stack.gateway,
      observe: { namePrefix: stack.settings.namePrefix, instance: stack.settings.instance, network: stack.settings.network },
      log: createLogger({ level: 'info', destination: sink }),
      metrics,
    });
    monitor.update(out.input.servers, problemsOf(out));
    await waitFor('everything answering through LiteLLM', async () => {
      await monitor.probe('everything');
      return cond(health('everything'), 'GatewayReady')?.status === 'True';
    });
  });
  after(async () => {
    monitor?.stop();
    await stack?.cleanup();
  });

  test('a healthy server: every condition True, its own tools through LiteLLM only', async () => {
    await monitor.probe('tools');
    const h = health('everything')!;
    for (const c of h.conditions) assert.equal(c.status, 'True', `${c.type}: ${c.message}`);
    assert.ok(h.gatewayTools.every((t) => t.startsWith('mcp_everything-')));
    assert.match(cond(h, 'McpReady')!.message, /^13 tools in \d+ ms$/);
  });

  test('an SSE server: probed over SSE, registered with transport sse, its tools through LiteLLM', async () => {
    await waitFor('legacy through LiteLLM', async () => {
      await monitor.probe('legacy');
      return cond(health('legacy'), 'GatewayReady')?.status === 'True';
    });
    const h = health('legacy')!;
    assert.equal(cond(h, 'McpReady')?.status, 'True');
    assert.ok(h.gatewayTools.includes('mcp_legacy-echo'), h.gatewayTools.join(','));
    const text = readFileSync(stack.settings.gateway.configPath, 'utf8');
    assert.match(text, new RegExp(`mcp_legacy:\\n    url: http://${stack.id}-legacy:3001/sse\\n    transport: sse`));
  });

  test('a server that never answers initialize: McpReady False, restarted once after the threshold, then held by the budget', async () => {
    const before = await docker.getContainer(`${stack.id}-hung`).inspect();
    await monitor.probe('hung');
    assert.equal(cond(health('hung'), 'ContainerRunning')?.status, 'True');
    assert.equal(cond(health('hung'), 'McpReady')?.status, 'False');
    assert.equal(cond(health('hung'), 'McpReady')?.reason, 'HealthTimeout');
    await monitor.probe('hung'); // 2nd failure = threshold -> restart
    const after = await docker.getContainer(`${stack.id}-hung`).inspect();
    assert.notEqual(after.State.StartedAt, before.State.StartedAt, 'restarted');
    assert.equal(after.Id, before.Id, 'restarted, not recreated');
    for (let i = 0; i < 4; i++) await monitor.probe('hung');
    assert.equal(health('hung')?.hungRestarts, 1, 'no restart storm');
    assert.equal(logged('hung', /^restarting hung container/).length, 1, 'logged once');
    assert.equal(logged('hung', /restart budget used up/).length >= 1, true);
    assert.match(await metrics.registry.metrics(), new RegExp(`mcp_reconciler_hung_restarts_total\\{server="hung"\\} 1`));
  });

  test('a crashing server: ContainerRunning False (Docker restarts it; the reconciler does not)', async () => {
    await waitFor('crash loop visible', async () => {
      await monitor.probe('crash');
      return cond(health('crash'), 'ContainerRunning')?.status === 'False';
    }, 30_000);
    assert.match(cond(health('crash'), 'ContainerRunning')!.reason, /CrashLoop|Exited/);
    assert.equal(health('crash')?.hungRestarts, 0);
  });

  test('tools changing at run time are logged once with the names added and removed', async () => {
    await monitor.probe('tools');
    assert.deepEqual(health('tools')?.tools, ['alpha', 'beta']);
    writeFileSync(join(stack.settings.projectsRoot, 'tools', 'tools.json'), JSON.stringify(['alpha', 'gamma']));
    await monitor.probe('tools');
    await monitor.probe('tools');
    const changes = logged('tools', /^tools changed/);
    assert.equal(changes.length, 1);
    assert.deepEqual(changes[0]?.['added'], ['gamma']);
    assert.deepEqual(changes[0]?.['removed'], ['beta']);
  });

  test('LiteLLM stopped: GatewayReady False with GatewayDown, McpReady unaffected; transition logged once', async () => {
    await docker.getContainer(`${stack.id}-litellm`).stop({ t: 2 });
    await monitor.probe('everything');
    await monitor.probe('everything');
    const h = health('everything')!;
    assert.equal(cond(h, 'GatewayReady')?.status, 'False');
    assert.equal(cond(h, 'GatewayReady')?.reason, 'GatewayDown');
    assert.equal(cond(h, 'McpReady')?.status, 'True');
    assert.equal(logged('everything', /^GatewayReady True -> False/).length, 1);
    const warn = logged('everything', /^GatewayReady True -> False/)[0]!;
    assert.equal(warn['level'], 40);
    assert.equal(warn['condition'], 'GatewayReady');
    assert.equal(warn['from'], 'True');
    assert.equal(warn['to'], 'False');
  });

  test('the reconciler brings LiteLLM back; GatewayReady True again', async () => {
    await stack.reconciler.reconcile();
    await waitFor('gateway tools again', async () => {
      await monitor.probe('everything');
      return cond(health('everything'), 'GatewayReady')?.status === 'True';
    });
    assert.equal(logged('everything', /^GatewayReady False -> True/).length, 1);
  });
});
