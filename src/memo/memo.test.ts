import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deepFreeze, memoize } from './memo.js';

test('memoize: one call per key while the key is remembered; the least recently used key goes first', () => {
  const calls: string[] = [];
  const f = memoize((a: string, b: number) => {
    calls.push(`${a}${b}`);
    return { a, b: [b] };
  }, (a, b) => `${a}\u0000${b}`, 2);
  const x = f('x', 1);
  assert.equal(f('x', 1), x, 'a hit returns the very object of the miss');
  f('y', 2);
  f('x', 1); // x is now the most recent
  f('z', 3); // evicts y
  f('x', 1);
  f('y', 2);
  assert.deepEqual(calls, ['x1', 'y2', 'z3', 'y2']);
});

test('memoize: results are deep-frozen, so no caller can change what a later caller gets', () => {
  const f = memoize((n: number) => ({ list: [n], inner: { n } }), String, 4);
  const r = f(1);
  assert.throws(() => r.list.push(2), TypeError);
  assert.throws(() => {
    (r.inner as { n: number }).n = 2;
  }, TypeError);
  assert.deepEqual(f(1), { list: [1], inner: { n: 1 } });
});

test('deepFreeze: primitives and null pass through', () => {
  assert.equal(deepFreeze(null), null);
  assert.equal(deepFreeze('a'), 'a');
  assert.ok(Object.isFrozen(deepFreeze({ a: [{ b: 1 }] }).a[0]));
});
