import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reconciler } from './controller.js';
import { laneOf } from './executor.js';
import { writeOps } from '../model/types.js';
import { InMemoryRuntime, MemoryConfigStore } from '../testing/fake-runtime.js';
import { loadSettings } from '../config/settings.js';
import { createLogger } from '../log/logger.js';
import { testSettings, model, HTTP, baseInput } from '../testing/fixtures.js';
import { plan } from './planner.js';

describe('executor against in-memory fakes', () => {
  test('apply twice: the second pass makes no writes (idempotence)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exec-'));
    try {
      const desired = join(dir, 'desired-state');
      mkdirSync(desired);
      for (const n of ['a', 'b', 'c']) writeFileSync(join(desired, `mcp-${n}.yaml`), HTTP);
      mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
      writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
      const settings = loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: dir, MCP_RECONCILER_SECRETS_DIR: join(dir, 'secrets') } });
      const runtime = new InMemoryRuntime();
      const config = new MemoryConfigStore();
      const r = new Reconciler(settings, { runtime, config, gateway: null, log: createLogger({ level: 'silent' }) });
      const first = await r.reconcile();
      assert.deepEqual(first.result.failed, []);
      assert.equal(runtime.containers.size, 6); // 3 servers, edge, its Docker proxy, gateway
      const writesAfterFirst = runtime.calls.writes;
      const second = await r.reconcile();
      assert.deepEqual(writeOps(second.plan), []);
      assert.equal(runtime.calls.writes, writesAfterFirst, 'no Docker writes');
      assert.equal(config.writes, 2, 'config.yaml and the guard beside it, each written once');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('lanes: network and edge first, one lane per server beside the stack lane, removals last', () => {
    const s = testSettings();
    const a = model(s, 'a', HTTP);
    const b = model(s, 'b', HTTP);
    const l = laneOf(plan(baseInput(s, [a, b])));
    assert.deepEqual(l.first.map((o) => o.resourceId), [
      'network:mcp-net',
      'volume:mcp-edge.docker',
      'container:mcp-edge.docker',
      'container:mcp-edge',
      'network:mcp-net.a',
      'network:mcp-net.b',
      'endpoint:mcp-edge@mcp-net.a',
      'endpoint:mcp-edge@mcp-net.b',
    ]);
    assert.deepEqual([...l.servers.keys()], ['a', 'b']);
    assert.deepEqual(l.stack.map((o) => o.type), ['write-gateway-guard', 'write-gateway-config', 'create-container']);
    assert.deepEqual(l.last, []);
  });
});
