import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reconciler } from './controller.js';
import { laneOf } from './executor.js';
import { isReportOnly, writeOps } from '../model/types.js';
import { InMemoryRuntime, MemoryConfigStore } from '../testing/fake-runtime.js';
import { loadSettings, type Settings } from '../config/settings.js';
import { createLogger } from '../log/logger.js';
import { HTTP } from '../testing/fixtures.js';
import { frontActivePath } from '../desired/resolve.js';
import { parseActive } from '../front/active.js';
import { ReconcilerError, ErrorCode } from '../errors/index.js';
import type { GatewayHandover, StandbyReady } from '../ports/index.js';

/** A handover double: records its calls; `failReady` makes the standby never get ready. */
class FakeHandover implements GatewayHandover {
  calls: string[] = [];
  failReady = false;
  async waitReady(colour: 'blue' | 'green', expect: readonly string[]): Promise<StandbyReady> {
    this.calls.push(`ready ${colour} ${expect.join(',')}`);
    if (this.failReady) throw new ReconcilerError(ErrorCode.GatewayUnavailable, `gateway ${colour} not ready`, { retryable: true });
    return { missing: [], readyAfterMs: 0, listedAfterMs: 0, listings: 1 };
  }
  async drain(from: 'blue' | 'green', to: 'blue' | 'green'): Promise<{ inflight: number }> {
    this.calls.push(`drain ${from} -> ${to}`);
    return { inflight: 0 };
  }
}

function project(): { dir: string; settings: Settings; write(name: string): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bg-exec-'));
  const desired = join(dir, 'desired-state');
  mkdirSync(desired);
  mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
  writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
  const settings = loadSettings({
    env: {
      MCP_RECONCILER_PROJECTS_ROOT: dir,
      MCP_RECONCILER_SECRETS_DIR: join(dir, 'secrets'),
      MCP_RECONCILER_GATEWAY_HANDOVER: 'blue-green',
    },
  });
  return { dir, settings, write: (name) => writeFileSync(join(desired, `mcp-${name}.yaml`), HTTP) };
}

/** A project with server `a`, and a reconciler on in-memory Docker with the handover double and a clock. */
function reconcilerFor(p: ReturnType<typeof project>) {
  p.write('a');
  const runtime = new InMemoryRuntime();
  const config = new MemoryConfigStore();
  const handover = new FakeHandover();
  const clock = { now: 1_000_000 };
  const log = createLogger({ level: 'silent' });
  const r = new Reconciler(p.settings, { runtime, config, gateway: null, handover, log, now: () => clock.now });
  return { runtime, config, handover, clock, r };
}

const names = (rt: InMemoryRuntime): string[] =>
  [...rt.containers.values()].map((c) => c.name).filter((n) => /litellm|front/.test(n)).sort();

describe('blue/green through the executor (in-memory Docker, ADR 0025)', () => {
  test('a change hands over: the standby is awaited with the new tools, switched to, the old one drained and removed', async () => {
    const p = project();
    try {
      const { runtime, config, handover, r } = reconcilerFor(p);
      assert.deepEqual((await r.reconcile()).result.failed, []);
      assert.deepEqual(names(runtime), ['mcp-front', 'mcp-litellm-blue']);
      assert.deepEqual(handover.calls, [], 'a cold start has nothing to hand over from');
      p.write('b');
      const pass = await r.reconcile();
      assert.deepEqual(pass.result.failed, []);
      assert.deepEqual(handover.calls, ['ready green mcp_a,mcp_b', 'drain blue -> green']);
      // systemctl status: the colour serving after the pass; the retired one is gone, as a fresh look says.
      assert.equal(pass.summary, '2 servers: 2 running; gateway running (green)');
      assert.equal(await r.summarize(), pass.summary);
      assert.deepEqual(names(runtime), ['mcp-front', 'mcp-litellm-green']);
      assert.equal(parseActive(config.read(frontActivePath(p.settings))), 'green');
      const steady = await r.reconcile();
      assert.deepEqual(writeOps(steady.plan), []);
      assert.match(steady.gatewayMode.why, /; blue\/green, active: green$/, 'status names the active colour');
    } finally {
      rmSync(p.dir, { recursive: true, force: true });
    }
  });

  test('a standby that never gets ready: no switch, no retire; the old colour serves, the wait is held (10 s doubling); ' +
    'an edit tries at once', async () => {
    const p = project();
    try {
      const { runtime, config, handover, clock, r } = reconcilerFor(p);
      await r.reconcile();
      p.write('b');
      handover.failReady = true;
      const pass = await r.reconcile();
      assert.deepEqual(pass.result.failed.map((f) => f.op.type), ['await-gateway']);
      assert.ok(!pass.result.done.some((o) => o.type === 'switch-gateway' || o.type === 'retire-gateway'));
      assert.deepEqual(names(runtime), ['mcp-front', 'mcp-litellm-blue', 'mcp-litellm-green']);
      assert.equal(parseActive(config.read(frontActivePath(p.settings))), 'blue');
      assert.equal(pass.summary, '2 servers: 2 running; gateway running (blue)', 'the colour still serving, not the standby');
      assert.equal(await r.summarize(), pass.summary);
      const heldPass = async (): Promise<string> => {
        handover.calls = [];
        const held = await r.reconcile();
        assert.deepEqual(handover.calls, [], 'not awaited again while its wait runs (each wait costs up to the ready timeout)');
        const reported = held.plan.operations.filter((o) => isReportOnly(o)).map((o) => `${o.type} ${o.resourceId}`);
        assert.deepEqual(reported, ['backoff-held gateway:green']);
        assert.deepEqual(names(runtime), ['mcp-front', 'mcp-litellm-blue', 'mcp-litellm-green']);
        return held.plan.operations.find((o) => o.type === 'backoff-held')?.cause ?? '';
      };
      assert.match(await heldPass(), /did not get ready: gateway green not ready; next try in 10 s \(1 failed try\)$/);
      assert.equal(r.nextRetryAt(), clock.now + 10_000);
      clock.now += 10_000;
      assert.deepEqual((await r.reconcile()).result.failed.map((f) => f.op.type), ['await-gateway'], 'tried again once its wait ran out');
      assert.match(await heldPass(), /next try in 20 s \(2 failed tries\)$/, 'the wait doubles');
      // An edit (a new config, so a new hash) is not held by the old failure: tried at once.
      p.write('c');
      handover.failReady = false;
      handover.calls = [];
      const again = await r.reconcile();
      assert.deepEqual(handover.calls, ['ready green mcp_a,mcp_b,mcp_c', 'drain blue -> green']);
      assert.deepEqual(again.result.failed, []);
      assert.deepEqual(names(runtime), ['mcp-front', 'mcp-litellm-green']);
      assert.equal(parseActive(config.read(frontActivePath(p.settings))), 'green');
    } finally {
      rmSync(p.dir, { recursive: true, force: true });
    }
  });

  test('a standby wait not tried (its create failed first) keeps its failure count: the next failed wait doubles', async () => {
    const p = project();
    try {
      const { runtime, handover, clock, r } = reconcilerFor(p);
      await r.reconcile();
      p.write('b');
      handover.failReady = true;
      assert.deepEqual((await r.reconcile()).result.failed.map((f) => f.op.type), ['await-gateway']);
      // The standby goes behind our back and its next create fails: the wait after it is not tried.
      const [green] = [...runtime.containers].find(([, c]) => c.name === 'mcp-litellm-green')!;
      await runtime.remove(green);
      const create = runtime.create.bind(runtime);
      let failCreate = true;
      runtime.create = async (spec, name) => {
        if (failCreate && spec.name === 'mcp-litellm-green') throw new Error('no space left on device');
        return create(spec, name);
      };
      clock.now += 10_000;
      const skipped = await r.reconcile();
      const failed = skipped.result.failed.map((f) => `${f.op.type} ${f.op.resourceId}`);
      assert.deepEqual(failed, ['create-container container:mcp-litellm-green']);
      assert.ok(!skipped.result.done.some((o) => o.type === 'await-gateway'), 'the wait was not tried');
      failCreate = false;
      clock.now += 10_000;
      assert.deepEqual((await r.reconcile()).result.failed.map((f) => f.op.type), ['await-gateway']);
      const held = (await r.plan()).plan.operations.find((o) => o.type === 'backoff-held' && o.resourceId === 'gateway:green');
      assert.match(held?.cause ?? '', /next try in 20 s \(2 failed tries\)$/, 'the count survived the pass that did not try');
    } finally {
      rmSync(p.dir, { recursive: true, force: true });
    }
  });

  test('with nothing serving (the active colour gone), a standby that did not get ready is awaited at every pass, never held', async () => {
    const p = project();
    try {
      const { runtime, handover, r } = reconcilerFor(p);
      await r.reconcile();
      p.write('b');
      handover.failReady = true;
      assert.deepEqual((await r.reconcile()).result.failed.map((f) => f.op.type), ['await-gateway']);
      const [blue] = [...runtime.containers].find(([, c]) => c.name === 'mcp-litellm-blue')!;
      await runtime.remove(blue); // behind our back: nothing serves now
      handover.calls = [];
      const pass = await r.reconcile();
      assert.deepEqual(handover.calls, ['ready green mcp_a,mcp_b'], 'awaited again at once, not held for 10 s');
      assert.deepEqual(pass.plan.operations.filter((o) => o.type === 'backoff-held'), []);
    } finally {
      rmSync(p.dir, { recursive: true, force: true });
    }
  });

  test('lanes: the handover steps run in the stack lane, in the planner order', async () => {
    const p = project();
    try {
      const { r } = reconcilerFor(p);
      await r.reconcile();
      p.write('b');
      const { plan } = await r.plan();
      const stack = laneOf(plan).stack.map((o) => `${o.type} ${o.resourceId.replace(p.dir, '')}`);
      assert.deepEqual(stack, [
        'write-gateway-config file:/litellm/config.yaml',
        'create-container container:mcp-litellm-green',
        'await-gateway gateway:green',
        'switch-gateway file:/front/active.json',
        'retire-gateway container:mcp-litellm-blue',
      ]);
    } finally {
      rmSync(p.dir, { recursive: true, force: true });
    }
  });
});
