import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reconciler } from './controller.js';
import { InMemoryRuntime, MemoryConfigStore } from '../testing/fake-runtime.js';
import { loadSettings } from '../config/settings.js';
import { createLogger } from '../log/logger.js';
import { writeOps } from '../model/types.js';

const HTTP = 'image: mcp/everything:1\ntransport: http\nport: 3001\n';

describe('an upstream credential file that goes bad (fake Docker)', () => {
  test('never stops other servers changing, and leaves the running gateway as it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cred-'));
    try {
      const desired = join(dir, 'desired-state');
      const secrets = join(dir, 'secrets');
      mkdirSync(desired);
      mkdirSync(secrets, { mode: 0o700 });
      writeFileSync(join(secrets, 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
      writeFileSync(join(secrets, 'mcp-a.env'), 'TOKEN=t0ken\n', { mode: 0o600 });
      writeFileSync(join(desired, 'mcp-a.yaml'), `${HTTP}auth:\n  type: bearer_token\n  secret: TOKEN\n`);
      writeFileSync(join(desired, 'mcp-b.yaml'), HTTP);
      const settings = loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: dir, MCP_RECONCILER_SECRETS_DIR: secrets } });
      const runtime = new InMemoryRuntime();
      const r = new Reconciler(settings, { runtime, config: new MemoryConfigStore(), gateway: null, log: createLogger({ level: 'silent' }) });
      assert.deepEqual((await r.reconcile()).result.failed, []);
      const gatewayId = [...runtime.containers].find(([, c]) => c.name === 'mcp-litellm')?.[0];
      assert.ok(gatewayId);

      unlinkSync(join(secrets, 'mcp-a.env'));
      writeFileSync(join(desired, 'mcp-b.yaml'), `${HTTP}env:\n  FOO: bar\n`);
      const out = await r.reconcile();
      assert.deepEqual(out.result.failed, []);
      assert.deepEqual(
        writeOps(out.plan).map((o) => `${o.type} ${o.resourceId}`),
        ['recreate-container container:mcp-b'],
        'b changes; a and the gateway are left as they run',
      );
      assert.ok(out.plan.operations.some((o) => o.type === 'blocked' && o.resourceId === 'container:mcp-litellm'));
      assert.ok(out.problems.some((p) => p.name === 'a' && /auth\.secret/.test(p.message)), JSON.stringify(out.problems));
      assert.ok(!JSON.stringify(out).includes('t0ken'), 'the secret appears nowhere in the outcome');
      assert.ok([...runtime.containers].some(([id, c]) => id === gatewayId && c.running), 'the same gateway container still runs');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
