import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watch } from './watch.js';

const at = (): Date => new Date('2026-12-01T07:00:00.000Z');

/** Renders until the n-th call, which aborts the loop: what was written, and how often it rendered. */
async function run(isTTY: boolean, n: number, bare = false): Promise<{ written: string[]; renders: number }> {
  const ac = new AbortController();
  const written: string[] = [];
  let renders = 0;
  const render = async (): Promise<string> => {
    renders++;
    if (renders === n) ac.abort();
    if (renders === 2) throw new Error('docker gone');
    return `block ${renders}`;
  };
  const out = { isTTY, write: (s: string) => written.push(s) };
  await watch(render, out, { intervalMs: 1, signal: ac.signal, title: 'every 1s: status', bare, now: at });
  return { written, renders };
}

test('not a terminal: one plain block per look, with a heading; a failed look shows its error and the loop goes on', async () => {
  const r = await run(false, 4);
  assert.equal(r.renders, 4);
  assert.deepEqual(r.written, [
    '--- every 1s: status  2026-12-01T07:00:00.000Z\nblock 1\n\n',
    '--- every 1s: status  2026-12-01T07:00:00.000Z\nerror: docker gone\n\n',
    '--- every 1s: status  2026-12-01T07:00:00.000Z\nblock 3\n\n',
  ]);
  assert.ok(r.written.every((w) => !w.includes('\x1b')));
});

test('a terminal: each look redraws from the top and clears what the last one left', async () => {
  const r = await run(true, 2);
  assert.equal(r.written.length, 1);
  assert.equal(r.written[0], '\x1b[Hevery 1s: status  2026-12-01T07:00:00.000Z  (Ctrl-C to stop)\x1b[K\n\x1b[K\nblock 1\x1b[K\n\x1b[J');
});

test('bare (--json): one line per look, no heading', async () => {
  const r = await run(false, 3, true);
  assert.deepEqual(r.written, ['block 1\n', 'error: docker gone\n']);
});

test('an abort while a look is in flight ends the loop without waiting for it', async () => {
  const ac = new AbortController();
  const written: string[] = [];
  const hangs = (): Promise<string> => new Promise<string>(() => ac.abort());
  await watch(hangs, { write: (s) => written.push(s) }, { intervalMs: 1, signal: ac.signal, title: 't' });
  assert.deepEqual(written, []);
});
