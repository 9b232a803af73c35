import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FakeLogs } from '../testing/fake-runtime.js';
import type { LogLine } from '../ports/index.js';
import { bridgeLine, formatLine, serverLog, EDGE_TAIL_FACTOR, type ShownLine } from './logs.js';

const t = (s: number): string => `2026-12-01T07:00:${String(s).padStart(2, '0')}.000000001Z`;
const out = (s: number, text: string): LogLine => ({ stream: 'stdout', time: t(s), text });
const err = (s: number, text: string): LogLine => ({ stream: 'stderr', time: t(s), text });
const edge = (s: number, o: Record<string, unknown>): LogLine =>
  out(s, JSON.stringify({ level: 30, time: 1, pid: 1, hostname: 'h', name: 'mcp-reconciler', ...o }));
const read = (tail: number) => ({ follow: false, tail, signal: new AbortController().signal });

async function collect(it: AsyncIterable<ShownLine>): Promise<string[]> {
  const lines: string[] = [];
  for await (const l of it) lines.push(formatLine(l, false));
  return lines;
}

describe('logs', () => {
  const logs = new FakeLogs({
    'mcp-web': [out(1, 'listening on 8080'), err(2, 'warning: no token'), out(3, 'GET /mcp 200')],
    'mcp-stdio': [err(1, 'server starting'), out(2, '{"jsonrpc":"2.0","id":1,"result":{"secret":"row"}}'), err(5, 'tool failed: ENOENT')],
    'mcp-edge': [
      edge(0, { msg: 'edge listening', port: 8080 }),
      edge(3, { msg: 'stdio bridge attached', container: 'mcp-stdio', protocolVersion: '2025-06-18', attaches: 1 }),
      edge(4, { msg: 'stdio bridge attached', container: 'mcp-other', attaches: 1 }),
      edge(6, { msg: 'stdio server exited; the next call re-attaches', container: 'mcp-stdio' }),
      out(7, 'not json'),
    ],
  });

  test('an http server: both streams of its container, in order, labelled', async () => {
    const lines = await collect(serverLog(logs, { container: 'mcp-web', stdio: false, edge: null }, read(100)));
    assert.deepEqual(lines, [
      '2026-12-01T07:00:01.000Z stdout listening on 8080',
      '2026-12-01T07:00:02.000Z stderr warning: no token',
      '2026-12-01T07:00:03.000Z stdout GET /mcp 200',
    ]);
  });

  test("a stdio server: its stderr and the edge's bridge lines about it, by time; never its stdout (the protocol)", async () => {
    const lines = await collect(serverLog(logs, { container: 'mcp-stdio', stdio: true, edge: 'mcp-edge' }, read(100)));
    assert.deepEqual(lines, [
      '2026-12-01T07:00:01.000Z stderr server starting',
      '2026-12-01T07:00:03.000Z bridge stdio bridge attached (protocolVersion=2025-06-18 attaches=1)',
      '2026-12-01T07:00:05.000Z stderr tool failed: ENOENT',
      '2026-12-01T07:00:06.000Z bridge stdio server exited; the next call re-attaches',
    ]);
  });

  test('--tail keeps the last lines of the merged log; the edge is read deeper (it logs every server)', async () => {
    const fake = new FakeLogs({ a: [err(1, 'one'), err(2, 'two'), err(9, 'nine')], e: [edge(8, { msg: 'attached', container: 'a' })] });
    const lines = await collect(serverLog(fake, { container: 'a', stdio: true, edge: 'e' }, read(2)));
    assert.deepEqual(lines, ['2026-12-01T07:00:08.000Z bridge attached', '2026-12-01T07:00:09.000Z stderr nine']);
    assert.deepEqual(fake.reads, [{ name: 'a', tail: 2 }, { name: 'e', tail: 2 * EDGE_TAIL_FACTOR }]);
  });

  test('a missing container is an error, not an empty log', async () => {
    await assert.rejects(collect(serverLog(logs, { container: 'nope', stdio: false, edge: null }, read(1))), /no such container: nope/);
  });

  test('bridgeLine: only JSON lines whose container is this one', () => {
    assert.equal(bridgeLine(out(1, 'plain text'), 'x'), null);
    assert.equal(bridgeLine(out(1, '{"container":"y","msg":"m"}'), 'x'), null);
    const line = out(1, '{"container":"x","msg":"m","err":{"code":1}}');
    assert.deepEqual(bridgeLine(line, 'x'), { time: t(1), source: 'bridge', text: 'm (err={"code":1})' });
  });

  test('formatLine colours only when asked', () => {
    const l: ShownLine = { time: t(1), source: 'stderr', text: 'x' };
    assert.doesNotMatch(formatLine(l, false), /\x1b\[/);
    assert.match(formatLine(l, true), /\x1b\[33mstderr\x1b\[39m x$/);
  });
});
