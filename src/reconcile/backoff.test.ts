import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FailureMemory, formatWait, BACKOFF_BASE_MS, BACKOFF_MAX_MS } from './backoff.js';
import { canRunBeside } from './executor.js';
import { writeOps } from '../model/types.js';
import { projectFixture } from '../testing/project.js';
import { progressingCondition } from '../health/conditions.js';

describe('failure memory (per object)', () => {
  test('the wait doubles from 10 s per failure of the same change and stops at 5 min', () => {
    const m = new FailureMemory();
    const waits = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => {
      const r = m.fail('container:a', 'h1', 'exited 1', 0);
      assert.equal(r.failures, n);
      return r.until;
    });
    assert.deepEqual(waits, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    assert.equal(BACKOFF_BASE_MS, 10_000);
    assert.equal(BACKOFF_MAX_MS, 300_000);
  });

  test('a failure towards another spec hash (a new edit) starts again at 10 s', () => {
    const m = new FailureMemory();
    m.fail('container:a', 'h1', 'x', 0);
    m.fail('container:a', 'h1', 'x', 0);
    assert.deepEqual(m.fail('container:a', 'h2', 'y', 1_000), { failures: 1, until: 11_000 });
  });

  test('held lists only waits that have not run out, with the time left; objects are independent', () => {
    const m = new FailureMemory();
    m.fail('container:a', 'h1', 'exited 1', 0);
    m.fail('container:b', 'h2', 'exited 2', 5_000);
    assert.deepEqual(m.held(9_000).map((h) => [h.object, h.nextTryIn]), [['container:a', '1 s'], ['container:b', '6 s']]);
    assert.deepEqual(m.held(10_000).map((h) => h.object), ['container:b']);
    assert.equal(m.nextDue(10_000), 15_000);
    m.forget('container:b');
    assert.equal(m.nextDue(10_000), null);
  });

  test('waits are written as a user reads them', () => {
    assert.deepEqual(
      [formatWait(400), formatWait(40_000), formatWait(150_000), formatWait(300_000)],
      ['1 s', '40 s', '2 min 30 s', '5 min'],
    );
  });

  test('Progressing says the failure and the next try, and True once nothing failed', () => {
    const c = progressingCondition({ change: 'recreate-container', failures: 2, reason: 'exited 1: bad flag', nextTryAt: 40_000 }, 0);
    assert.deepEqual(
      [c.type, c.status, c.reason, c.message],
      ['Progressing', 'False', 'RecreateFailed', 'exited 1: bad flag; next try in 40 s (2 failed tries)'],
    );
    assert.equal(progressingCondition(undefined, 0).status, 'True');
  });
});

const fixture = projectFixture;

const GOOD = 'image: mcp/everything:1\ntransport: http\nport: 3001\n';
const BAD = 'image: bad/exits-at-once:1\ntransport: http\nport: 3001\n';
const WITH_DATA = 'data: /data\n';

describe('a failing change backs off (fake Docker)', () => {
  test('a failing recreate is held after it fails: events do not retry it, the wait grows, and the old container serves', async () => {
    const f = fixture({ a: GOOD + WITH_DATA });
    try {
      f.runtime.failingImages.add('bad/exits-at-once:1');
      assert.deepEqual((await f.r.reconcile()).result.failed, []);
      const working = f.idOf('a');
      f.write('a', BAD + WITH_DATA);
      const first = await f.r.reconcile();
      assert.deepEqual(first.result.failed.map((x) => x.op.resourceId), ['container:mcp-a']);
      assert.deepEqual(f.runtime.stopped, ['mcp-a'], 'a failing try stops the working container once (shared data: stop-start)');
      assert.equal(f.runtime.containers.get(working!)?.running, true, 'rolled back: the working container runs again');
      // Docker's stop/die events of that try request passes: each one only reports the hold.
      for (let i = 0; i < 5; i++) {
        f.clock.now += 1_400;
        const again = await f.r.reconcile();
        assert.deepEqual(writeOps(again.plan), []);
        assert.deepEqual(again.plan.operations.map((o) => o.type), ['backoff-held']);
        assert.match(again.plan.operations[0]!.cause, /^exited 1: Error: bad flag --nope; next try in \d+ s \(1 failed try\)$/);
      }
      assert.deepEqual(f.runtime.stopped, ['mcp-a']);
      f.clock.now = 1_000_000 + 10_001;
      await f.r.reconcile();
      assert.equal(f.r.failures()[0]?.failures, 2);
      assert.equal(f.r.failures()[0]!.nextTryAt - f.clock.now, 20_000, 'second wait: 20 s');
      assert.deepEqual(f.runtime.stopped, ['mcp-a', 'mcp-a']);
      assert.equal(f.runtime.containers.get(working!)?.running, true);
      assert.equal(f.runtime.containers.size, 4, 'no .next leftover: server, edge, its Docker proxy, gateway');
    } finally {
      f.cleanup();
    }
  });

  test('a new edit of the failing file is tried at once and clears the failure', async () => {
    const f = fixture({ a: GOOD });
    try {
      f.runtime.failingImages.add('bad/exits-at-once:1');
      await f.r.reconcile();
      f.write('a', BAD);
      await f.r.reconcile();
      assert.equal(f.r.failures().length, 1);
      f.write('a', `${GOOD}env:\n  FIXED: "1"\n`);
      const fixed = await f.r.reconcile();
      assert.deepEqual(fixed.plan.operations.map((o) => `${o.type} ${o.resourceId}`), ['recreate-container container:mcp-a']);
      assert.deepEqual(fixed.result.failed, []);
      assert.deepEqual(f.r.failures(), []);
    } finally {
      f.cleanup();
    }
  });

  test('without shared data the new container is tried beside the old one: the working one is never stopped', async () => {
    const f = fixture({ a: GOOD });
    try {
      f.runtime.failingImages.add('bad/exits-at-once:1');
      await f.r.reconcile();
      f.write('a', BAD);
      await f.r.reconcile();
      assert.deepEqual(f.runtime.stopped, [], 'the working container was not stopped');
      assert.equal(f.r.failures().length, 1);
      f.write('a', `${GOOD}env:\n  FIXED: "1"\n`);
      await f.r.reconcile();
      assert.deepEqual(f.runtime.stopped, ['mcp-a'], 'stopped once, after its replacement stayed up');
      assert.deepEqual(
        [...f.runtime.containers.values()].map((c) => c.name).sort(),
        ['mcp-a', 'mcp-edge', 'mcp-edge.docker', 'mcp-litellm'],
      );
    } finally {
      f.cleanup();
    }
  });

  test('another server still changes while one is held', async () => {
    const f = fixture({ a: GOOD, b: GOOD });
    try {
      f.runtime.failingImages.add('bad/exits-at-once:1');
      await f.r.reconcile();
      f.write('a', BAD);
      await f.r.reconcile();
      f.write('b', `${GOOD}env:\n  NEW: "1"\n`);
      const p = await f.r.reconcile();
      assert.deepEqual(
        p.plan.operations.map((o) => `${o.type} ${o.resourceId}`),
        ['backoff-held container:mcp-a', 'recreate-container container:mcp-b'],
      );
      assert.deepEqual(p.result.failed, []);
      const b = [...f.runtime.containers.values()].find((c) => c.name === 'mcp-b');
      assert.equal(b?.spec.env['NEW'], '1');
    } finally {
      f.cleanup();
    }
  });

  test('forgetFailures (an explicit apply) tries a held change at once', async () => {
    const f = fixture({ a: GOOD });
    try {
      f.runtime.failingImages.add('bad/exits-at-once:1');
      await f.r.reconcile();
      f.write('a', BAD);
      await f.r.reconcile();
      const again = await f.r.reconcile({ retryNow: true });
      assert.deepEqual(again.plan.operations.map((o) => o.type), ['recreate-container']);
      assert.equal(f.r.failures()[0]?.failures, 1, 'counted from 1 again');
    } finally {
      f.cleanup();
    }
  });
});

describe('recreate strategy', () => {
  const base = {
    volumes: [] as { name: string; target: string }[],
    binds: [] as string[],
    publish: { hostIp: '127.0.0.1', hostPort: null as number | null },
  };
  test('beside only when nothing written is shared and the host port is free', () => {
    const cases: [string, Partial<typeof base>, boolean][] = [
      ['no data, free port', {}, true],
      ['read-only bind', { binds: ['/p:/p:ro'] }, true],
      ['named volume', { volumes: [{ name: 'mcp-a-data', target: '/data' }] }, false],
      ['read-write bind', { binds: ['/p:/p'] }, false],
      ['fixed host port (the gateway)', { publish: { hostIp: '127.0.0.1', hostPort: 4000 } }, false],
    ];
    for (const [what, over, want] of cases) {
      assert.equal(canRunBeside({ ...base, ...over } as unknown as Parameters<typeof canRunBeside>[0]), want, what);
    }
  });
});
