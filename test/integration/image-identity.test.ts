import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStack, docker, REPO, type Stack } from './harness.js';
import { renderPlan } from '../../src/reconcile/render-plan.js';
import { writeOps } from '../../src/model/types.js';

/**
 * Image identity against the real dockerd: a tag rebuilt locally under the same reference rolls out
 * (compose's rule), and nothing is pulled for it. The test builds its own tag from a local test image.
 */
describe('image identity', { timeout: 180_000 }, () => {
  let stack: Stack;
  let tag = '';
  const built: string[] = [];
  const build = (rev: number): string => {
    execFileSync('docker', ['build', '-q', '-t', tag, '-'], {
      input: `FROM local/mcp-everything:test\nLABEL io.mcp-reconciler.test-rev="${rev}"\n`,
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    const id = execFileSync('docker', ['image', 'inspect', '-f', '{{.Id}}', tag]).toString().trim();
    built.push(id);
    return id;
  };
  const container = async () => (await stack.containers()).find((c) => c.Names[0] === `/${stack.id}-everything`);

  before(async () => {
    stack = await createStack({ gateway: { managed: false } });
    tag = `local/${stack.id}-rebuilt:1`;
    const example = readFileSync(join(REPO, 'desired-state/mcp-everything.yaml'), 'utf8');
    stack.writeDesired('everything', example.replace(/^image: .*$/m, `image: ${tag}`));
  });
  after(async () => {
    await stack?.cleanup();
    for (const id of built.reverse()) await docker.getImage(id).remove({ force: true }).catch(() => undefined);
  });

  test('docker build -t <same tag> rolls the server out once; the cause names the new image id', async () => {
    const first = build(1);
    const a = await stack.reconciler.reconcile();
    assert.deepEqual(a.result.failed, []);
    assert.equal((await container())?.ImageID, first);
    assert.deepEqual(writeOps((await stack.reconciler.plan()).plan), [], 'steady before the rebuild');

    const second = build(2);
    assert.notEqual(second, first);
    const p = await stack.reconciler.plan();
    assert.equal(
      renderPlan(p.plan),
      `~ recreate-container container:${stack.id}-everything: image ${tag} now ${second.slice(7, 19)} ` +
        `(container runs ${first.slice(7, 19)})`,
    );
    const b = await stack.reconciler.reconcile();
    assert.deepEqual(b.result.failed, []);
    const c = await container();
    assert.equal(c?.ImageID, second);
    assert.equal(c?.State, 'running');
    assert.deepEqual(writeOps((await stack.reconciler.plan()).plan), [], 'one rollout, then steady');
    assert.equal(stack.runtime.writes.filter((w) => w.startsWith('pull')).length, 0, 'nothing pulled');
  });
});
