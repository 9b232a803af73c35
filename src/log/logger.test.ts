import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, journalPrefix } from './logger.js';

function capture(journal = false): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      lines.push(...c.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'debug', destination: sink, journal }) };
}

test('secrets are redacted wherever they appear in a log object', () => {
  const { lines, log } = capture();
  log.info({ env: { TOKEN: 'sk-secret-1' }, spec: { env: { A: 'sk-secret-2' } }, headers: { authorization: 'Bearer sk-secret-3' }, masterKey: 'sk-secret-4' }, 'x');
  assert.equal(lines.length, 1);
  assert.ok(!/sk-secret/.test(lines[0] as string), lines[0]);
  assert.match(lines[0] as string, /\[redacted\]/);
});

test('one JSON object per line; under systemd a <priority> prefix journald strips', () => {
  const { lines, log } = capture(true);
  log.warn({ server: 'x' }, 'w');
  log.error('e');
  log.info('i');
  assert.deepEqual(lines.map((l) => l.slice(0, 3)), ['<4>', '<3>', '<6>']);
  assert.equal(JSON.parse((lines[0] as string).slice(3)).server, 'x');
  assert.equal(journalPrefix('{"level":50}'), '<3>{"level":50}');
});
