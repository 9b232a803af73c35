import { styleText } from 'node:util';
import type { ContainerLogs, LogLine, LogOptions } from '../ports/index.js';

/** Where one line came from: the container's own streams, or the edge's stdio bridge for that container. */
export type LogSource = LogLine['stream'] | 'bridge';

export interface ShownLine {
  time: string;
  source: LogSource;
  text: string;
}

export interface ServerLogTarget {
  /** The server's container, e.g. mcp-github. */
  container: string;
  /** A stdio server: its stdout is the MCP protocol (not shown); the edge's bridge lines for it are. */
  stdio: boolean;
  /** The edge container whose log holds the bridge's lines (stdio servers), or null. */
  edge: string | null;
}

/** Edge log lines read to find one server's bridge lines (the edge logs every server's). */
export const EDGE_TAIL_FACTOR = 20;
/** pino fields that say nothing about the bridge event itself. */
const PINO_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'container']);

/** A bridge line of the edge's JSON log that is about `container`, as `msg (key=value ...)`; else null. */
export function bridgeLine(line: LogLine, container: string): ShownLine | null {
  let o: unknown;
  try {
    o = JSON.parse(line.text);
  } catch {
    return null;
  }
  if (!o || typeof o !== 'object' || (o as Record<string, unknown>)['container'] !== container) return null;
  const rec = o as Record<string, unknown>;
  const extra = Object.entries(rec)
    .filter(([k]) => !PINO_FIELDS.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const msg = typeof rec['msg'] === 'string' ? rec['msg'] : '';
  return { time: line.time, source: 'bridge', text: extra.length ? `${msg} (${extra.join(' ')})` : msg };
}

async function* containerLines(logs: ContainerLogs, t: ServerLogTarget, opts: LogOptions): AsyncGenerator<ShownLine> {
  for await (const l of logs.readLog(t.container, opts)) {
    if (t.stdio && l.stream === 'stdout') continue; // JSON-RPC to and from the bridge, not a log
    yield { time: l.time, source: l.stream, text: l.text };
  }
}

async function* bridgeLines(logs: ContainerLogs, t: ServerLogTarget, opts: LogOptions): AsyncGenerator<ShownLine> {
  if (!t.edge) return;
  const tail = opts.tail === 'all' ? 'all' : opts.tail * EDGE_TAIL_FACTOR;
  for await (const l of logs.readLog(t.edge, { ...opts, tail })) {
    const b = bridgeLine(l, t.container);
    if (b) yield b;
  }
}

/** Lines of several sources in the order they arrive. */
async function* merge<T>(sources: AsyncIterable<T>[]): AsyncGenerator<T> {
  const its = sources.map((s) => s[Symbol.asyncIterator]());
  const next = (i: number): Promise<{ i: number; r: IteratorResult<T> }> => (its[i] as AsyncIterator<T>).next().then((r) => ({ i, r }));
  const pending = new Map(its.map((_, i) => [i, next(i)]));
  try {
    while (pending.size > 0) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) pending.delete(i);
      else {
        pending.set(i, next(i));
        yield r.value;
      }
    }
  } finally {
    await Promise.all(its.map((it) => it.return?.()));
  }
}

/**
 * What `logs <name>` shows: the container's log and, for a stdio server, the edge's bridge lines about it.
 * Without `follow` both are read to the end, ordered by time, and the last `tail` kept; following, lines
 * come as they arrive until `signal` aborts.
 */
export async function* serverLog(logs: ContainerLogs, t: ServerLogTarget, opts: LogOptions): AsyncGenerator<ShownLine> {
  if (opts.follow) {
    yield* merge([containerLines(logs, t, opts), bridgeLines(logs, t, opts)]);
    return;
  }
  const all: ShownLine[] = [];
  for await (const l of merge([containerLines(logs, t, opts), bridgeLines(logs, t, opts)])) all.push(l);
  all.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  yield* opts.tail === 'all' ? all : all.slice(Math.max(0, all.length - opts.tail));
}

const SOURCE_STYLE = { stdout: 'green', stderr: 'yellow', bridge: 'cyan' } as const;

/** `2026-12-01T07:00:00.123Z stderr  text` (milliseconds; the source coloured on a terminal). */
export function formatLine(l: ShownLine, colour: boolean): string {
  const time = l.time.length > 23 ? `${l.time.slice(0, 23)}Z` : l.time;
  const source = l.source.padEnd(6);
  if (!colour) return `${time} ${source} ${l.text}`;
  const paint = (format: Parameters<typeof styleText>[0], text: string): string => styleText(format, text, { validateStream: false });
  return `${paint('dim', time)} ${paint(SOURCE_STYLE[l.source], source)} ${l.text}`;
}
