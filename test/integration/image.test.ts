import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, chownSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createStack, docker, waitFor, type Stack } from './harness.js';

/** The production image (./Dockerfile, built from local Node 22 bases) run once against the real dockerd. */
describe('production image', { timeout: 180_000 }, () => {
  const IMAGE = 'local/mcp-reconciler:prod';
  let stack: Stack;
  const gid = statSync('/var/run/docker.sock').gid;
  const chownR = (p: string): void => {
    chownSync(p, 1000, 1000);
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) chownR(join(p, e));
  };
  const run = async (args: string[], detach = false): Promise<{ code: number; logs: string; id: string }> => {
    const c = await docker.createContainer({
      Image: IMAGE,
      name: `${stack.id}-cli-${Math.random().toString(16).slice(2, 8)}`,
      Cmd: args,
      Env: [`MCP_RECONCILER_CONFIG=${stack.settingsFile}`, 'LOG_LEVEL=warn'],
      HostConfig: {
        Binds: ['/var/run/docker.sock:/var/run/docker.sock', `${stack.dir}:${stack.dir}`],
        GroupAdd: [String(gid)],
        NetworkMode: 'none',
      },
    });
    await c.start();
    if (detach) return { code: -1, logs: '', id: c.id };
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    const logs = ((await c.logs({ stdout: true, stderr: true })) as unknown as Buffer).toString('utf8');
    await c.remove({ force: true });
    return { code: StatusCode, logs, id: c.id };
  };

  before(async () => {
    stack = await createStack({ gateway: { managed: false } });
    stack.copyExample('everything');
    chownR(stack.dir); // the image runs as the unprivileged node user (uid 1000)
  });
  after(async () => {
    await stack?.cleanup();
  });

  test('runs as node, reaches dockerd through the socket group, and applies', async () => {
    const info = await docker.getImage(IMAGE).inspect();
    assert.equal(info.Config.User, 'node');
    const plan = await run(['plan']);
    assert.equal(plan.code, 2, plan.logs);
    assert.match(plan.logs, new RegExp(`create-container container:${stack.id}-everything`));
    const apply = await run(['apply', '--once']);
    assert.equal(apply.code, 0, apply.logs);
    const c = (await stack.containers()).find((x) => x.Names[0] === `/${stack.id}-everything`);
    assert.equal(c?.State, 'running');
    assert.equal((await run(['plan'])).code, 0);
  });

  test('its HEALTHCHECK command passes against the running daemon', async () => {
    const info = await docker.getImage(IMAGE).inspect();
    const hc = info.Config.Healthcheck?.Test ?? [];
    assert.equal(hc[0], 'CMD');
    const { id } = await run(['run'], true);
    const exec = async (): Promise<number> => {
      const e = await docker.getContainer(id).exec({ Cmd: hc.slice(1), AttachStdout: true, AttachStderr: true });
      const s = await e.start({});
      await new Promise((r) => s.on('end', r).resume());
      return (await e.inspect()).ExitCode ?? -1;
    };
    try {
      await waitFor('healthcheck exit 0', async () => (await exec()) === 0, 30_000);
    } finally {
      await docker.getContainer(id).remove({ force: true });
    }
  });
});
