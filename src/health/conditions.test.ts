import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mergeConditions, toolDiff, nextProbeDelay, mayRestart, RESTART_BUDGET, type Condition } from './conditions.js';

describe('conditions', () => {
  const c = (status: 'True' | 'False', reason = 'ToolsListed', message = 'm') =>
    ({ type: 'McpReady' as const, status, reason: reason as Condition['reason'], message });

  test('the transition time moves only when the status changes; transitions are returned once', () => {
    const a = mergeConditions([], [c('True')], 't1');
    assert.equal(a.transitions.length, 1);
    assert.equal(a.transitions[0]?.from, null);
    const b = mergeConditions(a.conditions, [c('True', 'ToolsListed', 'other message')], 't2');
    assert.deepEqual(b.transitions, []);
    assert.equal(b.conditions[0]?.lastTransitionTime, 't1');
    const d = mergeConditions(b.conditions, [c('False', 'HealthTimeout')], 't3');
    assert.deepEqual(d.transitions.map((t) => `${t.from}->${t.to}`), ['True->False']);
    assert.equal(d.conditions[0]?.lastTransitionTime, 't3');
    const e = mergeConditions(d.conditions, [c('False', 'ProbeFailed')], 't4');
    assert.equal(e.transitions.length, 1, 'a new reason is worth a line');
    assert.equal(e.conditions[0]?.lastTransitionTime, 't3');
  });

  test('tool diff', () => {
    assert.deepEqual(toolDiff(null, ['a']), { added: [], removed: [] });
    assert.deepEqual(toolDiff(['a', 'b'], ['b', 'c']), { added: ['c'], removed: ['a'] });
  });

  test('probe delay: jittered around the interval, doubling per failure, capped', () => {
    assert.equal(nextProbeDelay(30_000, 0, () => 0.5), 30_000);
    assert.equal(nextProbeDelay(30_000, 0, () => 0), 27_000);
    assert.equal(nextProbeDelay(30_000, 0, () => 1), 33_000);
    assert.equal(nextProbeDelay(30_000, 2, () => 0.5), 120_000);
    assert.equal(nextProbeDelay(30_000, 10, () => 0.5), 300_000);
  });

  test('restart budget: 3 per hour with growing pauses', () => {
    const m = 60_000;
    assert.equal(mayRestart([], 0, RESTART_BUDGET), true);
    assert.equal(mayRestart([0], 30_000, RESTART_BUDGET), false);
    assert.equal(mayRestart([0], m, RESTART_BUDGET), true);
    assert.equal(mayRestart([0, m], 2 * m, RESTART_BUDGET), false, 'the 2nd pause is 2 min');
    assert.equal(mayRestart([0, m], 3 * m, RESTART_BUDGET), true);
    assert.equal(mayRestart([0, m, 3 * m], 4 * m, RESTART_BUDGET), false, 'budget used up');
    assert.equal(mayRestart([0, m, 3 * m], 61 * m, RESTART_BUDGET), true, 'the window slides');
  });
});
