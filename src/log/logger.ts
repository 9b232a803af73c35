import { pino, type Logger } from 'pino';
import { JournalDestination, journalAttached, journalPrefix, unixDgramSender, type DatagramSender } from './journal.js';

/**
 * Paths pino masks wherever they appear in a log object. Secrets should never reach a log call
 * in the first place (the planner never sees them); this is the second line of defence.
 */
export const REDACT_PATHS = [
  'env',
  '*.env',
  '*.*.env',
  'Env',
  '*.Env',
  'headers.authorization',
  'headers["x-litellm-api-key"]',
  '*.headers.authorization',
  '*.headers["x-litellm-api-key"]',
  'masterKey',
  '*.masterKey',
  'authentication_token',
  '*.authentication_token',
  'password',
  '*.password',
  'dsn',
  '*.dsn',
];

/**
 * The root logger: one JSON object per line on stdout, level from LOG_LEVEL. Pretty output is
 * deliberately not built in: `jq` reads the JSON. `journal: true` prefixes each line with its
 * `<priority>` (the journal's stream without the native writer); `daemonLogger` picks the mode.
 */
export function createLogger(
  opts: { level?: string; destination?: pino.DestinationStream; journal?: boolean } = {},
): Logger {
  const level = opts.level ?? process.env['LOG_LEVEL'] ?? 'info';
  const options: pino.LoggerOptions = {
    level,
    base: { name: 'mcp-reconciler' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(opts.journal ? { hooks: { streamWrite: journalPrefix } } : {}),
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

export type { Logger };
export { journalPrefix };

export type LogMode = 'journal-native' | 'journal-stream' | 'json';

/**
 * The daemon's logger. Under systemd (JOURNAL_STREAM names our stderr or stdout) each entry is a native
 * journal entry with MCP_SERVER, MCP_CONDITION, MCP_REASON, ... fields; when the native writer cannot be
 * had, `<priority>`-prefixed JSON lines on the stream (`why` says so); elsewhere (a terminal, a container)
 * plain JSON lines. `close` releases the journal socket at shutdown.
 */
export function daemonLogger(opts: {
  journalStream: string | undefined;
  level?: string;
  socketPath?: string;
  sender?: () => DatagramSender | Error;
  stdout?: (line: string) => void;
  /** The fds JOURNAL_STREAM is compared with (stderr, stdout). */
  fds?: readonly number[];
}): { log: Logger; mode: LogMode; why: string | null; close(): void } {
  const base = opts.level ? { level: opts.level } : {};
  if (!journalAttached(opts.journalStream, opts.fds)) return { log: createLogger(base), mode: 'json', why: null, close: () => {} };
  const sender = (opts.sender ?? unixDgramSender)();
  if (sender instanceof Error) {
    return { log: createLogger({ ...base, journal: true }), mode: 'journal-stream', why: sender.message, close: () => {} };
  }
  const out = opts.stdout ?? ((line: string) => void process.stdout.write(line));
  const destination = new JournalDestination({ sender, fallback: out, ...(opts.socketPath ? { socketPath: opts.socketPath } : {}) });
  return { log: createLogger({ ...base, destination }), mode: 'journal-native', why: null, close: () => destination.close() };
}
