import { test } from 'node:test';
import assert from 'node:assert/strict';
import { projectFixture } from '../testing/project.js';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ObserveQuery } from '../ports/index.js';

const HTTP = (n: string): string => `image: mcp/everything:1\ntransport: http\nport: 3001\nenv:\n  N: "${n}"\n`;

test('a pass observes Docker exactly once, counts its Engine API requests, and its status line matches a fresh look', async () => {
  const p = projectFixture({ a: HTTP('1'), b: HTTP('2') });
  try {
    let observations = 0;
    const observe = p.runtime.observe.bind(p.runtime);
    p.runtime.observe = (q: ObserveQuery) => {
      observations++;
      return observe(q);
    };
    const steps: [string, () => void][] = [
      ['first pass creates everything', () => undefined],
      ['no-op pass', () => undefined],
      ['a container stopped behind our back', () => {
        const c = p.runtime.containers.get(p.idOf('a') as string);
        if (c) c.running = false;
      }],
      ['a file added', () => p.write('c', HTTP('3'))],
      ['a file removed', () => unlinkSync(join(p.dir, 'desired-state', 'mcp-b.yaml'))],
      ['the file back', () => p.write('b', HTTP('2'))],
    ];
    for (const [what, change] of steps) {
      change();
      observations = 0;
      const out = await p.r.reconcile();
      assert.equal(observations, 1, `${what}: one observation`);
      assert.ok(out.dockerApiCalls >= 4, `${what}: the observation's 4 requests are counted (${out.dockerApiCalls})`);
      assert.equal(out.summary, await p.r.summarize(), `${what}: the pass's status line is what a fresh observation says`);
    }
    const noop = await p.r.reconcile();
    assert.equal(noop.result.done.length, 0);
    assert.equal(noop.dockerApiCalls, 4, 'a pass with nothing to do: containers, networks, volumes, images');
    assert.match(noop.summary, /^3 servers: 3 running; gateway running$/);
  } finally {
    p.cleanup();
  }
});

test('remembered parses and models never serve a stale spec: an edited file or env file changes the plan', async () => {
  const p = projectFixture({ a: HTTP('1') });
  try {
    await p.r.reconcile();
    assert.equal((await p.r.plan()).plan.operations.length, 0);
    p.write('a', HTTP('2'));
    const edited = await p.r.plan();
    assert.deepEqual(edited.plan.operations.map((o) => `${o.type} ${o.resourceId}`), ['recreate-container container:mcp-a']);
    await p.r.reconcile();
    writeFileSync(join(p.secretsDir, 'mcp-a.env'), 'TOKEN=1\n', { mode: 0o600 });
    const withEnv = await p.r.plan();
    assert.deepEqual(withEnv.plan.operations.map((o) => `${o.type} ${o.resourceId}`), ['recreate-container container:mcp-a']);
    await p.r.reconcile();
    writeFileSync(join(p.secretsDir, 'mcp-a.env'), 'TOKEN=2\n', { mode: 0o600 });
    const rotated = await p.r.plan();
    assert.deepEqual(
      rotated.plan.operations.map((o) => `${o.type} ${o.resourceId}: ${o.cause}`),
      ['recreate-container container:mcp-a: envFile content changed'],
    );
  } finally {
    p.cleanup();
  }
});
