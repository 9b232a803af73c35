import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEBOUNCE_MS, PassScheduler } from './scheduler.js';

/** A pass that stays in flight until released, recording why it ran. */
function gatedPasses(): { runs: string[]; release: () => void; run: (why: string) => Promise<void> } {
  const runs: string[] = [];
  let gate: (() => void) | null = null;
  return {
    runs,
    release: () => gate?.(),
    run: (why) => {
      runs.push(why);
      return new Promise<void>((r) => {
        gate = r;
      });
    },
  };
}
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('file events are debounced by a real quiet time (at least 100 ms), not passed straight through', () => {
  assert.ok(DEBOUNCE_MS >= 100, `DEBOUNCE_MS is ${DEBOUNCE_MS}`);
});

test('a burst of events within the debounce window becomes one pass, after the quiet time', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const runs: string[] = [];
  const s = new PassScheduler(async (why) => {
    runs.push(why);
  });
  for (let i = 0; i < 150; i++) {
    s.debounced(`event ${i}`);
    t.mock.timers.tick(DEBOUNCE_MS - 1);
  }
  assert.deepEqual(runs, [], 'no pass while events keep coming');
  t.mock.timers.tick(1);
  await tick();
  assert.deepEqual(runs, ['event 149']);
  t.mock.timers.tick(DEBOUNCE_MS * 10);
  await tick();
  assert.equal(runs.length, 1);
});

test('requests made while a pass runs merge into exactly one follow-up pass', async () => {
  const p = gatedPasses();
  const s = new PassScheduler(p.run, 0);
  s.request('first');
  for (let i = 0; i < 20; i++) s.request(`during ${i}`);
  assert.deepEqual(p.runs, ['first'], 'one pass at a time');
  p.release();
  await tick();
  assert.deepEqual(p.runs, ['first', 'during 19'], 'one follow-up pass for all 20 requests, named after the latest');
  p.release();
  await tick();
  assert.equal(p.runs.length, 2, 'nothing more after the follow-up');
  s.request('later');
  await tick();
  assert.equal(p.runs.length, 3, 'an idle scheduler runs a new request at once');
  p.release();
  await s.stop();
});

test('a pass without requests during it is not repeated', async () => {
  const p = gatedPasses();
  const s = new PassScheduler(p.run, 0);
  s.request('only');
  p.release();
  await tick();
  await tick();
  assert.deepEqual(p.runs, ['only']);
  await s.stop();
});

test('after stop no new pass starts, a pending debounce is dropped, and the pass in flight is awaited', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const p = gatedPasses();
  const s = new PassScheduler(p.run);
  s.request('in flight');
  s.request('would follow');
  s.debounced('pending');
  let stopped = false;
  const done = s.stop().then(() => {
    stopped = true;
  });
  await tick();
  assert.equal(stopped, false, 'stop waits for the pass in flight');
  p.release();
  await done;
  t.mock.timers.tick(DEBOUNCE_MS * 2);
  s.request('after stop');
  await tick();
  assert.deepEqual(p.runs, ['in flight'], 'no follow-up, no debounced pass, nothing after stop');
  assert.equal(s.stopping, true);
});
