import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FAILPOINTS, FAILPOINT_ENV, HANDOVER_STEPS } from './index.js';

const mod = fileURLToPath(new URL('./index.js', import.meta.url));
const run = (armed: string | undefined) =>
  spawnSync(process.execPath, [
    '--input-type=module',
    '-e',
    `const f = await import(${JSON.stringify(mod)}); await f.step('stop-old', () => console.log('stopped')); console.log('went on');`,
  ], {
    encoding: 'utf8',
    env: { ...process.env, ...(armed ? { [FAILPOINT_ENV]: armed } : {}) },
  });

describe('failpoints', () => {
  test('armed after a step: the process is SIGKILLed right after it, nothing later runs', () => {
    const r = run('after:stop-old');
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.stdout, 'stopped\n');
  });

  test('armed before a step: killed before it runs', () => {
    const r = run('before:stop-old');
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.stdout, '');
  });

  test('inert when not armed or armed elsewhere', () => {
    for (const armed of [undefined, 'after:rename']) {
      const r = run(armed);
      assert.equal(r.status, 0, String(armed));
      assert.equal(r.stdout, 'stopped\nwent on\n');
    }
  });

  test('every step has a before and an after point', () => {
    assert.equal(FAILPOINTS.length, 32);
    assert.ok(FAILPOINTS.includes('after:stop-old') && FAILPOINTS.includes('before:api-create'));
    // The blue/green handover's steps (ADR 0025), each a crash point of the reliability suite.
    assert.deepEqual(HANDOVER_STEPS.flatMap((s) => [`before:${s}`, `after:${s}`]).filter((p) => !FAILPOINTS.includes(p)), []);
    assert.ok(FAILPOINTS.includes('after:switch-gateway') && FAILPOINTS.includes('before:drain-gateway'));
  });
});
