import {
  closeSync, existsSync, fchmodSync, fchownSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Replace a file atomically: temp file in the same folder, fsync, rename over, fsync the folder.
 * A reader sees the old or the new content, never a mix. An existing file keeps its mode and, where
 * the process may (root), its owner; a new file gets `newMode` (default 0600: configs hold keys).
 */
export function writeFileAtomic(path: string, text: string, opts: { newMode?: number; dirMode?: number } = {}): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, ...(opts.dirMode !== undefined ? { mode: opts.dirMode } : {}) });
  const before = existsSync(path) ? statSync(path) : null;
  const mode = before ? before.mode & 0o7777 : (opts.newMode ?? 0o600);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      fchmodSync(fd, mode); // exact, whatever the umask
      if (before && (before.uid !== process.getuid?.() || before.gid !== process.getgid?.())) {
        try {
          fchownSync(fd, before.uid, before.gid);
        } catch {
          /* only root may give a file away; then the rewritten file is ours, with the same mode */
        }
      }
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw err;
  }
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/**
 * Create a new file with exactly `mode` (whatever the umask): never an existing file and never through
 * a symlink (O_CREAT|O_EXCL: EEXIST for both). `created` runs once the file exists, before its text is
 * written, so a caller can remove it again when writing fails.
 */
export function writeNewFile(path: string, text: string, mode: number, created: () => void = () => {}): void {
  const fd = openSync(path, 'wx', mode);
  created();
  try {
    fchmodSync(fd, mode);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
