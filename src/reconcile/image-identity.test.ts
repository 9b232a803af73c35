import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeOps } from '../model/types.js';
import { projectFixture } from '../testing/project.js';
import { renderPlan } from './render-plan.js';
import { HTTP } from '../testing/fixtures.js';

describe('image identity against in-memory fakes', () => {
  test('a registry update is pulled only by pullWanted (apply --pull); the changed tag then rolls out once', async () => {
    const { settings, runtime, r, cleanup } = projectFixture({ a: HTTP });
    try {
      assert.deepEqual((await r.reconcile()).result.failed, []);

      runtime.registry.set('mcp/everything:1', 'sha256:fresh0000000000');
      assert.deepEqual(writeOps((await r.plan()).plan), [], 'a newer image in the registry is not looked for without --pull');
      assert.deepEqual(runtime.pulled, []);

      const pulled = await r.pullWanted();
      assert.deepEqual(
        pulled.map((p) => p.image).sort(),
        [settings.edge.image, 'ghcr.io/berriai/litellm:v1.77.3-stable', 'mcp/everything:1'].sort(),
      );
      assert.deepEqual(
        pulled.find((p) => p.image === 'mcp/everything:1'),
        { image: 'mcp/everything:1', id: 'sha256:fresh0000000000', error: null },
      );
      assert.equal(
        renderPlan((await r.plan()).plan),
        '~ recreate-container container:mcp-a: image mcp/everything:1 now fresh0000000 (container runs mcp/everythi)',
      );
      assert.deepEqual((await r.reconcile()).result.failed, []);
      const a = [...runtime.containers.values()].find((c) => c.name === 'mcp-a');
      assert.equal(a?.imageId, 'sha256:fresh0000000000');
      assert.deepEqual(writeOps((await r.plan()).plan), [], 'converged after one rollout');
    } finally {
      cleanup();
    }
  });

  test('a tag rebuilt locally (docker build -t same:tag) rolls out without any pull', async () => {
    const { settings, runtime, r, cleanup } = projectFixture({ a: HTTP });
    try {
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
      cleanup();
    }
  });
});
