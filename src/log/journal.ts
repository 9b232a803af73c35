import { fstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { DestinationStream } from 'pino';

/**
 * Structured journald entries through systemd's native journal protocol (systemd.journal-fields(7),
 * https://systemd.io/JOURNAL_NATIVE_PROTOCOL/): one datagram per entry on /run/systemd/journal/socket,
 * each field `NAME=value\n`, or for a value with a newline `NAME\n` + 64-bit little-endian length +
 * value + `\n`. Node has no unix datagram sockets; the `unix-dgram` addon (an optional dependency,
 * built by node-gyp at install) sends them. Without it, or when a send fails, the line goes to the
 * journal's stream as before (`<priority>` + JSON), so an entry is never lost (ADR 0016).
 */

export const JOURNAL_SOCKET = '/run/systemd/journal/socket';

/** pino level -> syslog priority (debug 7, info 6, warning 4, err 3, crit 2). */
const PRIORITY: Record<number, number> = { 10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2 };

export function priorityOf(level: unknown): number {
  return typeof level === 'number' ? (PRIORITY[level] ?? 6) : 6;
}

/**
 * Under systemd without the native writer, prefix each JSON line with `<priority>`: journald turns it
 * into the entry's PRIORITY and strips it, so `journalctl -p warning` still filters.
 */
export function journalPrefix(line: string): string {
  const m = /"level":(\d+)/.exec(line);
  return `<${priorityOf(m ? Number(m[1]) : undefined)}>${line}`;
}

/**
 * True when JOURNAL_STREAM (`<dev>:<inode>`, set by systemd) names the file behind one of `fds`
 * (stderr, then stdout): the process really writes to the journal, not to a pipe it was handed later.
 */
export function journalAttached(journalStream: string | undefined, fds: readonly number[] = [2, 1]): boolean {
  const m = /^(\d+):(\d+)$/.exec(journalStream ?? '');
  if (!m) return false;
  const dev = BigInt(m[1] as string);
  const ino = BigInt(m[2] as string);
  return fds.some((fd) => {
    try {
      const st = fstatSync(fd, { bigint: true });
      return st.dev === dev && st.ino === ino;
    } catch {
      return false;
    }
  });
}

/** pino's own keys: they become PRIORITY, MESSAGE and SYSLOG_IDENTIFIER, or are journald's already (_PID, time). */
const OWN = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname']);

/**
 * `reconcileId` -> `MCP_RECONCILE_ID`. A journal field name is A-Z, 0-9 and `_`, at most 64 characters,
 * and does not start with `_` (trusted fields) or a digit; the MCP_ prefix takes care of both.
 */
export function fieldName(key: string): string {
  const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return `MCP_${snake}`.slice(0, 64);
}

/**
 * The journal fields of one pino log object: PRIORITY, MESSAGE, SYSLOG_IDENTIFIER, and every other
 * top-level key as MCP_<KEY> (strings as they are, anything else as JSON): `server` is MCP_SERVER,
 * `condition` MCP_CONDITION, `reason` MCP_REASON. The object arrives already redacted by pino.
 */
export function journalFields(obj: Record<string, unknown>, identifier = 'mcp-reconciler'): Array<[string, string]> {
  const fields: Array<[string, string]> = [
    ['PRIORITY', String(priorityOf(obj['level']))],
    ['MESSAGE', typeof obj['msg'] === 'string' ? obj['msg'] : ''],
    ['SYSLOG_IDENTIFIER', typeof obj['name'] === 'string' ? obj['name'] : identifier],
  ];
  for (const [k, v] of Object.entries(obj)) {
    if (OWN.has(k) || v === undefined) continue;
    fields.push([fieldName(k), typeof v === 'string' ? v : JSON.stringify(v)]);
  }
  return fields;
}

/** One native-protocol datagram: `NAME=value\n`, or the length-prefixed form when the value has a newline. */
export function encodeJournalEntry(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    if (!value.includes('\n')) {
      parts.push(Buffer.from(`${name}=${value}\n`, 'utf8'));
      continue;
    }
    const v = Buffer.from(value, 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(v.length));
    parts.push(Buffer.from(`${name}\n`, 'utf8'), len, v, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** What the destination needs of a datagram socket: send one datagram to a path, or say why not. */
export interface DatagramSender {
  /** Sends `buf` to `path`; resolves nothing, returns an Error when the kernel refused it (or it would block). */
  send(buf: Buffer, path: string): Error | null;
  close(): void;
}

interface UnixDgramSocket {
  on(event: 'error', cb: (e: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, path: string, cb: (e?: Error) => void): void;
  close(): void;
}

/**
 * The `unix-dgram` addon as a DatagramSender, or the reason it cannot be had (not installed, not built
 * for this Node). Its send is synchronous (sendto(2) with MSG_DONTWAIT): a full journal buffer is an
 * error here, not a wait.
 */
export function unixDgramSender(): DatagramSender | Error {
  let mod: { createSocket(type: 'unix_dgram'): UnixDgramSocket };
  try {
    mod = createRequire(import.meta.url)('unix-dgram') as typeof mod;
  } catch (e) {
    return new Error(`unix-dgram is not available (${(e as Error).message.split('\n')[0]})`);
  }
  const sock = mod.createSocket('unix_dgram');
  let last: Error | null = null;
  sock.on('error', (e) => (last = e));
  return {
    send(buf, path) {
      let err: Error | null = null;
      last = null;
      sock.send(buf, 0, buf.length, path, (e) => (err = e ?? null));
      return err ?? last;
    },
    close: () => sock.close(),
  };
}

export interface JournalDestinationOptions {
  sender: DatagramSender;
  socketPath?: string;
  /** Where a line goes when the socket refuses it: the journal's stream (stdout under systemd). */
  fallback: (line: string) => void;
}

/**
 * A pino destination that writes each log object as a native journal entry. A line the socket refuses
 * (journald restarting, an entry over the socket's size limit, a full buffer) goes to `fallback` as a
 * `<priority>`-prefixed JSON line, and the destination counts it.
 */
export class JournalDestination implements DestinationStream {
  readonly #sender: DatagramSender;
  readonly #path: string;
  readonly #fallback: (line: string) => void;
  /** Entries that went to the fallback stream instead of the socket. */
  fallbacks = 0;

  constructor(opts: JournalDestinationOptions) {
    this.#sender = opts.sender;
    this.#path = opts.socketPath ?? JOURNAL_SOCKET;
    this.#fallback = opts.fallback;
  }

  write(line: string): void {
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.#refuse(line);
      return;
    }
    if (this.#sender.send(encodeJournalEntry(journalFields(obj)), this.#path)) this.#refuse(line);
  }

  #refuse(line: string): void {
    this.fallbacks += 1;
    this.#fallback(journalPrefix(line.endsWith('\n') ? line : `${line}\n`));
  }

  /** Closes the socket (its poll handle would otherwise keep Node's event loop alive). */
  close(): void {
    this.#sender.close();
  }
}
