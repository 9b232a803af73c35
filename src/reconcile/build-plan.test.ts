import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectFixture, type ProjectFixture } from '../testing/project.js';
import { writeOps, type Operation } from '../model/types.js';
import { laneOf } from './executor.js';
import { progressingCondition } from '../health/conditions.js';

/** build: and package: servers in the planner and executor (ADR 0023), on the in-memory Docker. */
const HELLO = 'build: .\ntransport: stdio\n';
const THINK = 'package: npm:@modelcontextprotocol/server-sequential-thinking@2026.8.31\ntransport: stdio\n';
const lines = (ops: readonly Operation[]): string[] => writeOps({ operations: [...ops] }).map((o) => `${o.type} ${o.resourceId}`);

function withHello(): ProjectFixture {
  const p = projectFixture({ hello: HELLO, think: THINK });
  mkdirSync(join(p.dir, 'hello', 'src'), { recursive: true });
  writeFileSync(join(p.dir, 'hello', 'Dockerfile'), 'FROM node:22-slim\nCOPY src /app/src\n');
  writeFileSync(join(p.dir, 'hello', 'src', 'index.js'), 'console.log(1)');
  return p;
}

describe('planning builds', () => {
  test('a missing tag plans build-image before the container, in the server lane; plan itself builds and writes nothing', async () => {
    const p = withHello();
    try {
      const { plan } = await p.r.plan();
      assert.equal(p.runtime.calls.writes, 0, 'plan wrote nothing');
      assert.deepEqual(p.runtime.built, []);
      const hello = plan.operations.filter((o) => o.server === 'hello').map((o) => o.type);
      assert.deepEqual(hello, ['create-network', 'build-image', 'create-container']);
      const build = plan.operations.find((o) => o.type === 'build-image' && o.server === 'think');
      assert.match(build?.cause ?? '', /^image mcp-reconciler-build\/default\/think:[0-9a-f]{20} not built yet /);
      assert.match(build?.cause ?? '', /\(npm:@modelcontextprotocol\/server-sequential-thinking@2026\.8\.31\)$/);
      // Networks go first (their own lane); the build and the container in the server's lane, in that order.
      assert.deepEqual(laneOf(plan).servers.get('hello')?.map((o) => o.type), ['build-image', 'create-container']);
    } finally {
      p.cleanup();
    }
  });

  test('a present tag plans no build: the steady state after a pass is empty', async () => {
    const p = withHello();
    try {
      const out = await p.r.reconcile();
      assert.deepEqual(out.result.failed, []);
      assert.equal(p.runtime.built.length, 2);
      const again = await p.r.reconcile();
      assert.deepEqual(lines(again.plan.operations), []);
      assert.equal(p.runtime.built.length, 2);
    } finally {
      p.cleanup();
    }
  });

  test('a changed file in the context: a new tag, build-image then recreate; the old image is removed next pass', async () => {
    const p = withHello();
    try {
      await p.r.reconcile();
      const oldTag = p.runtime.built.find((t) => t.includes('/hello:'))!;
      writeFileSync(join(p.dir, 'hello', 'src', 'index.js'), 'console.log(2)');
      const out = await p.r.reconcile();
      const hello = out.plan.operations.filter((o) => o.server === 'hello');
      assert.deepEqual(hello.map((o) => o.type), ['build-image', 'recreate-container']);
      assert.match(hello[0]!.cause, /^build context changed \([0-9a-f]{8} -> [0-9a-f]{8}\)$/);
      assert.match(hello[1]!.cause, /image/);
      const next = await p.r.reconcile();
      assert.deepEqual(lines(next.plan.operations), [`remove-image image:${oldTag}`]);
      assert.deepEqual(p.runtime.removedImages, [`sha256:${oldTag}`]);
      assert.deepEqual(lines((await p.r.reconcile()).plan.operations), []);
    } finally {
      p.cleanup();
    }
  });

  test('a failed build keeps the old container, holds the change with backoff, and leaves the rest of the lane undone', async () => {
    const p = withHello();
    try {
      await p.r.reconcile();
      const running = p.idOf('hello');
      writeFileSync(join(p.dir, 'hello', 'src', 'index.js'), 'broken');
      const { plan } = await p.r.plan();
      const tag = plan.operations.find((o) => o.type === 'build-image')!.resourceId.slice('image:'.length);
      p.runtime.failingBuilds.set(tag, ['Step 2/2 : RUN npm ci', 'npm ERR! 404 Not Found: nope@1.0.0']);
      const out = await p.r.reconcile();
      assert.deepEqual(out.result.failed.map((f) => `${f.op.type} ${f.code}`), ['build-image BuildFailed']);
      assert.deepEqual(out.result.done.filter((o) => o.server === 'hello'), [], 'no recreate without the image');
      assert.equal(p.idOf('hello'), running, 'the old container still runs');
      const [failure] = p.r.failures();
      assert.equal(failure?.object, 'container:mcp-hello');
      assert.equal(failure?.change, 'build-image');
      assert.match(failure?.reason ?? '', /npm ERR! 404 Not Found: nope@1\.0\.0/);
      const cond = progressingCondition(failure, p.clock.now);
      assert.equal(`${cond.status} ${cond.reason}`, 'False BuildFailed', 'status <name> says the build failed');
      const b = p.r.builds().find((x) => x.server === 'hello');
      assert.equal(b?.state, 'failed');
      assert.equal(b?.step, 'Step 2/2 : RUN npm ci');
      const held = await p.r.reconcile();
      assert.deepEqual(lines(held.plan.operations), [], 'not tried again before the backoff');
      assert.deepEqual(held.plan.operations.filter((o) => o.server === 'hello').map((o) => o.type), ['backoff-held']);
      p.clock.now += 11_000;
      p.runtime.failingBuilds.delete(tag);
      const retry = await p.r.reconcile();
      assert.deepEqual(retry.plan.operations.filter((o) => o.server === 'hello').map((o) => o.type), ['build-image', 'recreate-container']);
      assert.deepEqual(retry.result.failed, []);
      assert.deepEqual(p.r.failures(), []);
    } finally {
      p.cleanup();
    }
  });

  test('a removed tag (docker rmi, to force a rebuild) is built again and the container rolls to the new image id', async () => {
    const p = withHello();
    try {
      await p.r.reconcile();
      const tag = p.runtime.built.find((t) => t.includes('/hello:'))!;
      await p.runtime.removeImage(`sha256:${tag}`);
      p.runtime.imageIds.set(tag, 'sha256:rebuilt');
      const out = await p.r.reconcile();
      assert.deepEqual(lines(out.plan.operations), [`build-image image:${tag}`]);
      const next = await p.r.reconcile();
      assert.match(next.plan.operations.find((o) => o.type === 'recreate-container')?.cause ?? '', /now rebuilt/);
    } finally {
      p.cleanup();
    }
  });

  test('images are removed only when built by this instance and wanted by nobody; pruning held keeps them', async () => {
    const p = withHello();
    try {
      await p.r.reconcile();
      p.runtime.builtImages.set('sha256:old', { id: 'sha256:old', tags: ['mcp-reconciler-build/default/gone:abc'], server: 'gone' });
      const out = await p.r.reconcile();
      assert.deepEqual(lines(out.plan.operations), ['remove-image image:mcp-reconciler-build/default/gone:abc']);
      // Every desired file gone: removals are held (mass-deletion guard), images included.
      p.runtime.builtImages.set('sha256:old2', { id: 'sha256:old2', tags: ['mcp-reconciler-build/default/gone:def'], server: 'gone' });
      const { rmSync } = await import('node:fs');
      rmSync(join(p.dir, 'desired-state', 'mcp-hello.yaml'));
      rmSync(join(p.dir, 'desired-state', 'mcp-think.yaml'));
      const { plan } = await p.r.plan();
      assert.equal(plan.operations.some((o) => o.type === 'remove-image'), false);
    } finally {
      p.cleanup();
    }
  });
});

test('apply --pull never asks a registry for a built image (it exists only here)', async () => {
  const p = withHello();
  try {
    await p.r.reconcile();
    const pulled = await p.r.pullWanted();
    assert.equal(pulled.some((x) => x.image.startsWith('mcp-reconciler-build/')), false);
    assert.equal(p.runtime.pulled.some((x) => x.startsWith('mcp-reconciler-build/')), false);
    assert.ok(p.runtime.pulled.length > 0, 'the other images were pulled');
  } finally {
    p.cleanup();
  }
});
