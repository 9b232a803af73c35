import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reconciler } from './controller.js';
import { writeOps } from '../model/types.js';
import { InMemoryRuntime, MemoryConfigStore } from '../testing/fake-runtime.js';
import { loadSettings } from '../config/settings.js';
import { createLogger } from '../log/logger.js';
import { renderPlan } from './render-plan.js';
import { HTTP } from '../testing/fixtures.js';

describe('image identity against in-memory fakes', () => {
  test('a registry update is pulled only by pullWanted (apply --pull); the changed tag then rolls out once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'image-id-'));
    try {
      const desired = join(dir, 'desired-state');
      mkdirSync(desired);
      writeFileSync(join(desired, 'mcp-a.yaml'), HTTP);
      mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
      writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
      const settings = loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: dir, MCP_RECONCILER_SECRETS_DIR: join(dir, 'secrets') } });
      const runtime = new InMemoryRuntime();
      const r = new Reconciler(settings, { runtime, config: new MemoryConfigStore(), gateway: null, log: createLogger({ level: 'silent' }) });
      assert.deepEqual((await r.reconcile()).result.failed, []);

      runtime.registry.set('mcp/everything:1', 'sha256:fresh0000000000');
      assert.deepEqual(writeOps((await r.plan()).plan), [], 'a newer image in the registry is not looked for without --pull');
      assert.deepEqual(runtime.pulled, []);

      const pulled = await r.pullWanted();
      assert.deepEqual(pulled.map((p) => p.image).sort(), [settings.edge.image, 'ghcr.io/berriai/litellm:v1.77.3-stable', 'mcp/everything:1'].sort());
      assert.deepEqual(pulled.find((p) => p.image === 'mcp/everything:1'), { image: 'mcp/everything:1', id: 'sha256:fresh0000000000', error: null });
      assert.equal(
        renderPlan((await r.plan()).plan),
        '~ recreate-container container:mcp-a: image mcp/everything:1 now fresh0000000 (container runs mcp/everythi)',
      );
      assert.deepEqual((await r.reconcile()).result.failed, []);
      const a = [...runtime.containers.values()].find((c) => c.name === 'mcp-a');
      assert.equal(a?.imageId, 'sha256:fresh0000000000');
      assert.deepEqual(writeOps((await r.plan()).plan), [], 'converged after one rollout');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a tag rebuilt locally (docker build -t same:tag) rolls out without any pull', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'image-id-'));
    try {
      const desired = join(dir, 'desired-state');
      mkdirSync(desired);
      writeFileSync(join(desired, 'mcp-a.yaml'), HTTP);
      mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
      writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
      const settings = loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: dir, MCP_RECONCILER_SECRETS_DIR: join(dir, 'secrets') } });
      const runtime = new InMemoryRuntime();
      const r = new Reconciler(settings, { runtime, config: new MemoryConfigStore(), gateway: null, log: createLogger({ level: 'silent' }) });
      await r.reconcile();
      runtime.imageIds.set(settings.edge.image, 'sha256:rebuilt-edge');
      const p = await r.plan();
      // The new edge starts on the gateway network only and is attached to the server's again (ADR 0007).
      assert.deepEqual(p.plan.operations.map((o) => `${o.type} ${o.resourceId}`), [
        'recreate-container container:mcp-edge.docker', // the edge's Docker proxy runs the same image
        'recreate-container container:mcp-edge',
        'connect-network endpoint:mcp-edge@mcp-net.a',
      ]);
      await r.reconcile();
      assert.deepEqual(writeOps((await r.plan()).plan), []);
      assert.deepEqual(runtime.pulled, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
