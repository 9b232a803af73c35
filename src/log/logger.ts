import { pino, type Logger } from 'pino';

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
 * The root logger: one JSON object per line on stdout (journald turns each line into MESSAGE),
 * level from LOG_LEVEL. Pretty output is deliberately not built in: `jq` reads the JSON.
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

/** pino level -> syslog priority (debug 7, info 6, warning 4, err 3, crit 2). */
const PRIORITY: Record<number, number> = { 10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2 };

/**
 * Under systemd (JOURNAL_STREAM set), prefix each JSON line with `<priority>`: journald turns it
 * into the entry's PRIORITY and strips it, so `journalctl -p warning` filters and
 * `journalctl -o cat | jq` still reads plain JSON. No native addon needed.
 */
export function journalPrefix(line: string): string {
  const m = /"level":(\d+)/.exec(line);
  const p = m ? (PRIORITY[Number(m[1])] ?? 6) : 6;
  return `<${p}>${line}`;
}
