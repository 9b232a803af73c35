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
  opts: { level?: string; destination?: pino.DestinationStream; journal?: boolean; mask?: (text: string) => string } = {},
): Logger {
  const level = opts.level ?? process.env['LOG_LEVEL'] ?? 'info';
  const mask = opts.mask;
  const options: pino.LoggerOptions = {
    level,
    base: { name: 'mcp-reconciler' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: {
      ...(opts.journal ? { streamWrite: journalPrefix } : {}),
      // Every string of an entry (message and fields) through the mask: an error or a condition message may quote a secret.
      ...(mask
        ? {
            logMethod(this: Logger, args: Parameters<pino.LogFn>, method: pino.LogFn): void {
              method.apply(this, args.map((a) => maskStrings(a, mask)) as Parameters<pino.LogFn>);
            },
          }
        : {}),
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** Strings in plain objects and arrays masked (an Error or another class instance is left as it is). */
function maskStrings(v: unknown, mask: (text: string) => string): unknown {
  if (typeof v === 'string') return mask(v);
  if (Array.isArray(v)) return v.map((x) => maskStrings(x, mask));
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskStrings(x, mask)]));
  }
  return v;
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
  /** Masks secrets in every entry (the daemon's SecretMask.text). */
  mask?: (text: string) => string;
}): { log: Logger; mode: LogMode; why: string | null; close(): void } {
  const base = { ...(opts.level ? { level: opts.level } : {}), ...(opts.mask ? { mask: opts.mask } : {}) };
  if (!journalAttached(opts.journalStream, opts.fds)) return { log: createLogger(base), mode: 'json', why: null, close: () => {} };
  const sender = (opts.sender ?? unixDgramSender)();
  if (sender instanceof Error) {
    return { log: createLogger({ ...base, journal: true }), mode: 'journal-stream', why: sender.message, close: () => {} };
  }
  const out = opts.stdout ?? ((line: string) => void process.stdout.write(line));
  const destination = new JournalDestination({ sender, fallback: out, ...(opts.socketPath ? { socketPath: opts.socketPath } : {}) });
  return { log: createLogger({ ...base, destination }), mode: 'journal-native', why: null, close: () => destination.close() };
}
