import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeJournalEntry, fieldName, journalAttached, journalFields, unixDgramSender } from './journal.js';
import { daemonLogger } from './logger.js';
import { startJournalReceiver, type JournalReceiver } from '../testing/journal-receiver.js';

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('journal fields over the native protocol (a python3 socket parses what arrives)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  const sock = join(dir, 'socket');
  let rx: JournalReceiver;
  // A regular file stands in for the journal's stream: JOURNAL_STREAM names it, so the logger is "attached".
  const streamFile = join(dir, 'stream');
  const fd = openSync(streamFile, 'w');
  const st = fstatSync(fd);
  const journalStream = `${st.dev}:${st.ino}`;
  const stdout: string[] = [];
  let logging: ReturnType<typeof daemonLogger>;

  before(async () => {
    rx = startJournalReceiver(sock);
    await rx.ready;
    logging = daemonLogger({ journalStream, level: 'debug', socketPath: sock, stdout: (l) => void stdout.push(l), fds: [fd] });
  });
  after(() => {
    logging.close();
    rx.stop();
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a condition transition arrives as one entry with MCP_SERVER, MCP_CONDITION, MCP_REASON, PRIORITY, MESSAGE', async () => {
    assert.equal(logging.mode, 'journal-native');
    const health = logging.log.child({ component: 'health', server: 'postgresql' });
    const transition = { condition: 'McpReady', from: 'True', to: 'False', reason: 'HealthTimeout', message: 'no answer in 5 s' };
    health.warn(transition, 'McpReady True -> False (HealthTimeout)');
    await until('one entry', () => rx.entries.length >= 1);
    assert.deepEqual(rx.entries[0], {
      PRIORITY: ['4'],
      MESSAGE: ['McpReady True -> False (HealthTimeout)'],
      SYSLOG_IDENTIFIER: ['mcp-reconciler'],
      MCP_COMPONENT: ['health'],
      MCP_SERVER: ['postgresql'],
      MCP_CONDITION: ['McpReady'],
      MCP_FROM: ['True'],
      MCP_TO: ['False'],
      MCP_REASON: ['HealthTimeout'],
      MCP_MESSAGE: ['no answer in 5 s'],
    });
    assert.deepEqual(stdout, [], 'nothing fell back to the stream');
  });

  test('multi-line values use the length-prefixed form; numbers and objects are JSON; priorities follow the level', async () => {
    const n = rx.entries.length;
    const failure = { server: 'x', code: 'E_CREATE', detail: 'line one\nline two\n', attempt: 2, spec: { port: 3001 } };
    logging.log.error(failure, 'create failed\nsecond line');
    logging.log.info('plain');
    logging.log.debug({ reconcileId: 'r1' }, 'op');
    await until('three more entries', () => rx.entries.length >= n + 3);
    const [e, i, d] = rx.entries.slice(n);
    assert.deepEqual(e?.['MESSAGE'], ['create failed\nsecond line']);
    assert.deepEqual(e?.['MCP_DETAIL'], ['line one\nline two\n']);
    assert.deepEqual(e?.['MCP_ATTEMPT'], ['2']);
    assert.deepEqual(e?.['MCP_SPEC'], ['{"port":3001}']);
    assert.deepEqual([e?.['PRIORITY'], i?.['PRIORITY'], d?.['PRIORITY']], [['3'], ['6'], ['7']]);
    assert.deepEqual(d?.['MCP_RECONCILE_ID'], ['r1']);
    assert.equal(rx.entries.some((x) => x['__malformed']), false);
  });

  test('secrets are redacted before the entry is encoded', async () => {
    const n = rx.entries.length;
    logging.log.info({ env: { TOKEN: 'sk-secret-1' }, headers: { authorization: 'Bearer sk-secret-2' }, masterKey: 'sk-secret-3' }, 'x');
    await until('the entry', () => rx.entries.length > n);
    const e = rx.entries[n];
    assert.doesNotMatch(JSON.stringify(e), /sk-secret/);
    assert.deepEqual(e?.['MCP_ENV'], ['[redacted]']);
    assert.deepEqual(e?.['MCP_MASTER_KEY'], ['[redacted]']);
  });
});

describe('when the socket refuses an entry it goes to the stream instead', () => {
  test('no socket at the path: a <priority>-prefixed JSON line on the fallback, counted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const fd = openSync(join(dir, 'stream'), 'w');
    const st = fstatSync(fd);
    const out: string[] = [];
    const stdout = (x: string): void => void out.push(x);
    const l = daemonLogger({ journalStream: `${st.dev}:${st.ino}`, socketPath: join(dir, 'absent'), stdout, fds: [fd] });
    try {
      assert.equal(l.mode, 'journal-native');
      l.log.warn({ server: 'x' }, 'held');
      assert.equal(out.length, 1);
      assert.match(out[0] as string, /^<4>\{.*"server":"x".*"msg":"held"\}\n$/);
    } finally {
      l.close();
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without the native writer: priority-prefixed JSON lines, and the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const fd = openSync(join(dir, 'stream'), 'w');
    const st = fstatSync(fd);
    const l = daemonLogger({ journalStream: `${st.dev}:${st.ino}`, sender: () => new Error('unix-dgram is not available'), fds: [fd] });
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(l.mode, 'journal-stream');
    assert.equal(l.why, 'unix-dgram is not available');
  });
});

describe('JOURNAL_STREAM detection compares dev:inode with the file behind the fd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  const fd = openSync(join(dir, 'a'), 'w');
  const other = openSync(join(dir, 'b'), 'w');
  const st = fstatSync(fd);
  after(() => {
    closeSync(fd);
    closeSync(other);
    rmSync(dir, { recursive: true, force: true });
  });
  const cases: Array<[string, string | undefined, number[], boolean]> = [
    ['the same file', `${st.dev}:${st.ino}`, [fd], true],
    ['the second of two fds', `${st.dev}:${st.ino}`, [other, fd], true],
    ['another file (the stream was handed on to a pipe)', `${st.dev}:${st.ino}`, [other], false],
    ['unset', undefined, [fd], false],
    ['not dev:inode', 'journal', [fd], false],
    ['a closed fd', `${st.dev}:${st.ino}`, [987654], false],
  ];
  for (const [name, env, fds, want] of cases) test(name, () => assert.equal(journalAttached(env, fds), want));

  test('a plain terminal or container run logs JSON lines', () => {
    assert.equal(daemonLogger({ journalStream: undefined, fds: [fd] }).mode, 'json');
  });
});

describe('encoding', () => {
  test('field names: MCP_ + upper snake case, only A-Z 0-9 _, at most 64 characters', () => {
    assert.equal(fieldName('server'), 'MCP_SERVER');
    assert.equal(fieldName('reconcileId'), 'MCP_RECONCILE_ID');
    assert.equal(fieldName('x-litellm.key'), 'MCP_X_LITELLM_KEY');
    assert.equal(fieldName('a'.repeat(100)).length, 64);
  });

  test('the binary-safe form is NAME, newline, u64 little-endian length, value, newline', () => {
    const b = encodeJournalEntry([['A', 'x'], ['B', 'p\nq']]);
    assert.deepEqual(b, Buffer.concat([Buffer.from('A=x\nB\n'), Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('p\nq\n')]));
  });

  test('pino bookkeeping (time, pid, hostname) is left to journald', () => {
    const obj = { level: 30, time: 'now', pid: 1, hostname: 'h', name: 'mcp-reconciler', msg: 'm', server: 's' };
    const names = journalFields(obj).map(([k]) => k);
    assert.deepEqual(names, ['PRIORITY', 'MESSAGE', 'SYSLOG_IDENTIFIER', 'MCP_SERVER']);
  });

  test('the unix-dgram addon is installed and built for this Node (the daemon falls back without it)', () => {
    const s = unixDgramSender();
    assert.ok(!(s instanceof Error), s instanceof Error ? s.message : '');
    s.close();
  });
});
