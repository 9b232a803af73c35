import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wantsColour } from './colour.js';

const cases: Array<{ tty: boolean; env: Record<string, string>; want: boolean }> = [
  { tty: true, env: {}, want: true },
  { tty: false, env: {}, want: false },
  { tty: true, env: { NO_COLOR: '1' }, want: false },
  { tty: true, env: { NO_COLOR: '' }, want: true },
  { tty: true, env: { TERM: 'dumb' }, want: false },
  { tty: false, env: { FORCE_COLOR: '1' }, want: true },
  { tty: false, env: { FORCE_COLOR: '0' }, want: false },
  { tty: true, env: { NO_COLOR: '1', FORCE_COLOR: '1' }, want: false },
];
for (const c of cases) {
  test(`colour: tty=${c.tty} ${JSON.stringify(c.env)} -> ${c.want}`, () => {
    assert.equal(wantsColour({ isTTY: c.tty }, c.env), c.want);
  });
}
