/** Error codes are part of the interface: they appear in `plan --json`, `status` and logs. */
export const ErrorCode = {
  SpecInvalid: 'SpecInvalid',
  SettingsInvalid: 'SettingsInvalid',
  ImageUnavailable: 'ImageUnavailable',
  BuildFailed: 'BuildFailed',
  DockerUnavailable: 'DockerUnavailable',
  DockerOperationFailed: 'DockerOperationFailed',
  GatewayConfigInvalid: 'GatewayConfigInvalid',
  GatewayUnavailable: 'GatewayUnavailable',
  SecretsFileUnsafe: 'SecretsFileUnsafe',
  NameConflict: 'NameConflict',
  Internal: 'Internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base error: a code from the enum, where it happened, and whether a retry can help. */
export class ReconcilerError extends Error {
  readonly code: ErrorCode;
  readonly location: string | undefined;
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { location?: string; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ReconcilerError';
    this.code = code;
    this.location = opts.location;
    this.retryable = opts.retryable ?? false;
  }
}

/** One located problem in an input file: `file:line:col path: message`. */
export interface LocatedIssue {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

export function formatIssue(i: LocatedIssue): string {
  const where = `${i.file}:${i.line}:${i.col}`;
  const what = i.path ? `${i.path}: ${i.message}` : i.message;
  return i.severity === 'warning' ? `${where} warning: ${what}` : `${where} ${what}`;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What marks text cut short by `clipText`; masking (src/status/redact.ts) masks a known secret's start before it. */
export const CLIP_MARK = '…';

/** At most `max` characters of `text`, marked with CLIP_MARK when cut, so a cut secret can still be recognised. */
export function clipText(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}${CLIP_MARK}` : text;
}
