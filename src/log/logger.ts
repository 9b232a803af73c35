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
export function createLogger(opts: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const level = opts.level ?? process.env['LOG_LEVEL'] ?? 'info';
  const options: pino.LoggerOptions = {
    level,
    base: { name: 'mcp-reconciler' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

export type { Logger };
