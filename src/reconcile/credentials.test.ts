import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeOps } from '../model/types.js';
import { projectFixture } from '../testing/project.js';

const HTTP = 'image: mcp/everything:1\ntransport: http\nport: 3001\n';

describe('an upstream credential file that goes bad (fake Docker)', () => {
  test('never stops other servers changing, and leaves the running gateway as it is', async () => {
    const f = projectFixture({ b: HTTP });
    try {
      writeFileSync(join(f.secretsDir, 'mcp-a.env'), 'TOKEN=t0ken\n', { mode: 0o600 });
      f.write('a', `${HTTP}auth:\n  type: bearer_token\n  secret: TOKEN\n`);
      assert.deepEqual((await f.r.reconcile()).result.failed, []);
      const gatewayId = f.idOf('litellm');
      assert.ok(gatewayId);

      unlinkSync(join(f.secretsDir, 'mcp-a.env'));
      f.write('b', `${HTTP}env:\n  FOO: bar\n`);
      const out = await f.r.reconcile();
      assert.deepEqual(out.result.failed, []);
      assert.deepEqual(
        writeOps(out.plan).map((o) => `${o.type} ${o.resourceId}`),
        ['recreate-container container:mcp-b'],
        'b changes; a and the gateway are left as they run',
      );
      assert.ok(out.plan.operations.some((o) => o.type === 'blocked' && o.resourceId === 'container:mcp-litellm'));
      assert.ok(out.problems.some((p) => p.name === 'a' && /auth\.secret/.test(p.message)), JSON.stringify(out.problems));
      assert.ok(!JSON.stringify(out).includes('t0ken'), 'the secret appears nowhere in the outcome');
      assert.equal(f.runtime.containers.get(gatewayId)?.running, true, 'the same gateway container still runs');
    } finally {
      f.cleanup();
    }
  });
});
