import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { relative, sep } from 'node:path';

/**
 * Every file the reconciler reads from a user (desired files, settings, env files, doctor inputs)
 * goes through here: open without blocking (a FIFO never hangs us), fstat the open descriptor,
 * refuse anything that is not a regular file (FIFO, /dev/zero, a directory), and enforce the size
 * cap while reading (a file that grows after fstat is still cut off). Messages name the file and
 * the reason, never its content.
 */
export type UnsafeReason = 'missing' | 'not-regular' | 'too-large' | 'symlink' | 'outside' | 'unreadable';

export class UnsafeFileError extends Error {
  readonly reason: UnsafeReason;
  readonly path: string;
  constructor(reason: UnsafeReason, path: string, message: string) {
    super(message);
    this.name = 'UnsafeFileError';
    this.reason = reason;
    this.path = path;
  }
}

export interface SafeReadOptions {
  /** Bytes allowed; one more byte is an error. */
  maxBytes: number;
  /** Refuse a symlink as the last path component (O_NOFOLLOW). Default false. */
  noFollow?: boolean;
  /** Called with the fstat of the open descriptor before reading (e.g. mode and owner checks). */
  check?: (st: Stats) => void;
}

const CHUNK = 64 * 1024;

/** What a file that is not regular is, for the message ("is a FIFO, not a regular file"). */
export function fileKind(st: Pick<Stats, 'isDirectory' | 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isSocket'>): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

/** Read a regular file as bytes, at most `maxBytes`. Throws UnsafeFileError. */
export function readRegularFileBytes(path: string, opts: SafeReadOptions): Buffer {
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (opts.noFollow ? constants.O_NOFOLLOW : 0);
  let fd: number;
  try {
    fd = openSync(path, flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UnsafeFileError('missing', path, `${path} does not exist`);
    if (code === 'ELOOP') throw new UnsafeFileError('symlink', path, `${path} is a symlink; refused`);
    // A directory opens (O_RDONLY); fstat below refuses it.
    throw new UnsafeFileError('unreadable', path, `cannot read ${path}: ${String(code)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UnsafeFileError('not-regular', path, `${path} is ${fileKind(st)}, not a regular file`);
    if (st.size > opts.maxBytes) throw tooLarge(path, opts.maxBytes);
    opts.check?.(st);
    // One buffer sized from fstat (plus a byte to see the end, or growth); it doubles if the file
    // grew meanwhile, never beyond the cap plus one byte.
    let buf = Buffer.allocUnsafe(Math.min(st.size + 1, opts.maxBytes + 1));
    let total = 0;
    for (;;) {
      if (total === buf.length) {
        const next = Buffer.allocUnsafe(Math.min(Math.max(buf.length * 2, CHUNK), opts.maxBytes + 1));
        buf.copy(next, 0, 0, total);
        buf = next;
      }
      let n: number;
      try {
        n = readSync(fd, buf, total, buf.length - total, null);
      } catch (err) {
        throw new UnsafeFileError('unreadable', path, `cannot read ${path}: ${String((err as NodeJS.ErrnoException).code)}`);
      }
      if (n === 0) break;
      total += n;
      if (total > opts.maxBytes) throw tooLarge(path, opts.maxBytes);
    }
    return buf.subarray(0, total);
  } finally {
    closeSync(fd);
  }
}

function tooLarge(path: string, max: number): UnsafeFileError {
  return new UnsafeFileError('too-large', path, `${path} is larger than ${max} bytes`);
}

/** Read a regular file as UTF-8 text, at most `maxBytes`. Throws UnsafeFileError. */
export function readRegularFile(path: string, opts: SafeReadOptions): string {
  return readRegularFileBytes(path, opts).toString('utf8');
}

/** Is `child` (absolute, resolved) `parent` itself or below it? (POSIX: relative() of two absolute paths is never absolute.) */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== '..' && !rel.startsWith(`..${sep}`);
}

/**
 * Resolve `path` with realpath and require it to stay inside `root` (also resolved). Returns the
 * resolved path; throws UnsafeFileError ('missing' or 'outside') otherwise.
 */
export function realpathInside(root: string, path: string): string {
  let realRoot: string;
  let real: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    throw new UnsafeFileError('missing', root, `${root} does not exist`);
  }
  try {
    real = realpathSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UnsafeFileError('missing', path, `${path} does not exist`);
    if (code === 'ELOOP') throw new UnsafeFileError('symlink', path, `${path} is a symlink loop`);
    throw new UnsafeFileError('unreadable', path, `cannot resolve ${path}: ${String(code)}`);
  }
  if (!isInside(realRoot, real)) throw new UnsafeFileError('outside', path, `${path} resolves outside ${root}`);
  return real;
}

/** Shorten text we quote from a user's file (a key, a value) so no message carries more than that. */
export function clip(s: string, max = 40): string {
  // Control characters (newlines, escapes) would forge lines in a terminal or a log.
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
