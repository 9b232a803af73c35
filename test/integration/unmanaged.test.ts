import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createStack, docker, waitFor, freePort, type Stack } from './harness.js';
import { writeOps } from '../../src/model/types.js';
import { Labels } from '../../src/docker/labels.js';

/**
 * gateway.managed: false — the user runs LiteLLM (the real 1.77.3 image, not labelled by us). The
 * reconciler writes its entries into config.yaml and restarts that container only because
 * gateway.restartContainer names it.
 */
describe('unmanaged gateway with gateway.restartContainer', { timeout: 240_000 }, () => {
  let stack: Stack;
  let port = 0;
  const userName = () => `${stack.id}-userlitellm`;

  before(async () => {
    port = await freePort();
    stack = await createStack({ gateway: { managed: false, url: `http://127.0.0.1:${port}` } });
    // restartContainer names the user's container, which carries this stack's id.
    stack.reconciler.settings = { ...stack.settings, gateway: { ...stack.settings.gateway, restartContainer: userName() } };
    const cfg = stack.settings.gateway.configPath;
    mkdirSync(dirname(cfg), { recursive: true });
    writeFileSync(cfg, 'general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n# the user runs this LiteLLM by hand\n');
    await docker.createNetwork({ Name: `${stack.id}-net`, Driver: 'bridge' });
    const c = await docker.createContainer({
      name: userName(),
      Image: 'local/litellm:1.77.3',
      Cmd: ['--config', '/cfg/config.yaml', '--port', '4000', '--num_workers', '1'],
      Env: [`LITELLM_MASTER_KEY=${stack.masterKey}`],
      ExposedPorts: { '4000/tcp': {} },
      HostConfig: {
        Init: true,
        NetworkMode: `${stack.id}-net`,
        Binds: [`${dirname(cfg)}:/cfg:ro`],
        PortBindings: { '4000/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
      },
    });
    await c.start();
    await waitFor('user LiteLLM ready', () => stack.gateway.ready(), 60_000, 250);
  });
  after(async () => {
    await stack?.cleanup();
  });

  test('a new server: config written, the named container restarted, tools served; the next pass does nothing', async () => {
    stack.copyExample('everything');
    const before = await docker.getContainer(userName()).inspect();
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed, []);
    assert.ok(out.plan.operations.some((o) => o.type === 'restart-gateway' && o.resourceId === `container:${userName()}`));
    const after = await docker.getContainer(userName()).inspect();
    assert.equal(after.Id, before.Id, 'restarted, never recreated');
    assert.notEqual(after.State.StartedAt, before.State.StartedAt);
    assert.equal(after.Config.Labels[Labels.ManagedBy], undefined, 'still not ours');
    await waitFor('tools through the user LiteLLM', async () => {
      const r = await stack.gateway.listTools();
      return r.ok && r.tools.includes('mcp_everything-echo');
    });
    assert.deepEqual(writeOps((await stack.reconciler.plan()).plan), []);
  });
});
