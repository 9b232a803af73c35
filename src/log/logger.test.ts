import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, journalPrefix } from './logger.js';

function capture(journal = false, mask?: (s: string) => string): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      lines.push(...c.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'debug', destination: sink, journal, ...(mask ? { mask } : {}) }) };
}

test('secrets are redacted wherever they appear in a log object', () => {
  const { lines, log } = capture();
  log.info({
    env: { TOKEN: 'sk-secret-1' },
    spec: { env: { A: 'sk-secret-2' } },
    headers: { authorization: 'Bearer sk-secret-3' },
    masterKey: 'sk-secret-4',
  }, 'x');
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

test('with a mask, every string of an entry goes through it: the message, fields at any depth; an Error stays an Error', () => {
  const mask = (s: string): string => s.replaceAll('opensesame', '[redacted]');
  const { lines, log } = capture(false, mask);
  log.warn({ message: 'said opensesame', nested: { list: ['x opensesame'] }, n: 3 }, 'GatewayReady -> False: opensesame');
  log.error({ err: new Error('boom') }, 'failed');
  log.info('opensesame alone');
  const [first, second, third] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual([first?.['message'], first?.['nested'], first?.['n'], first?.['msg']], [
    'said [redacted]',
    { list: ['x [redacted]'] },
    3,
    'GatewayReady -> False: [redacted]',
  ]);
  assert.equal((second?.['err'] as { message: string }).message, 'boom');
  assert.equal(third?.['msg'], '[redacted] alone');
});
