import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createStack, docker, waitFor, type Stack } from './harness.js';

/**
 * The edge runs the reconciler's production image, whose HEALTHCHECK probes the daemon's /healthz
 * (not served by the edge). The edge container carries its own check of the edge's /healthz.
 */
describe('edge health check', { timeout: 120_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await createStack({ gateway: { managed: false } });
    stack.copyExample('everything');
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed, []);
  });
  after(async () => stack?.cleanup());

  const run = async (id: string, cmd: string[]): Promise<number> => {
    const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    stream.pipe(new PassThrough()).resume();
    await new Promise((r) => stream.on('end', r));
    return (await exec.inspect()).ExitCode ?? -1;
  };

  test("the edge container's health check probes the edge's own port, and passes against the running edge", async () => {
    const edge = (await stack.containers()).find((c) => c.Names[0] === `/${stack.id}-edge`);
    assert.ok(edge, 'edge container');
    const info = await docker.getContainer(edge.Id).inspect();
    const check = info.Config.Healthcheck?.Test ?? [];
    assert.equal(check[0], 'CMD');
    assert.match(check.join(' '), /http:\/\/127\.0\.0\.1:8080\/healthz/);
    assert.doesNotMatch(check.join(' '), /9464|MCP_RECONCILER_STATUS_PORT/);
    await waitFor('the check to pass against the edge', async () => (await run(edge.Id, check.slice(1))) === 0, 30_000, 500);
    // The same check against a port where nothing listens fails: it really probes.
    assert.equal(await run(edge.Id, check.slice(1).map((a) => a.replace(':8080/', ':8099/'))), 1);
  });
});
