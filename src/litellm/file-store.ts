import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, writeSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import type { ConfigStore } from '../ports/index.js';
import { readRegularFile } from '../fs/safe-read.js';

/** LiteLLM's config.yaml is hand-editable: read it like any input (regular file, capped while reading). */
export const MAX_GATEWAY_CONFIG_BYTES = 4 * 1024 * 1024;

/** The real ConfigStore: atomic replace (temp file in the same folder, fsync, rename, fsync dir). */
export class FileConfigStore implements ConfigStore {
  read(path: string): string | null {
    return existsSync(path) ? readRegularFile(path, { maxBytes: MAX_GATEWAY_CONFIG_BYTES }) : null;
  }

  mtime(path: string): number | null {
    return existsSync(path) ? statSync(path).mtimeMs : null;
  }

  writeAtomic(path: string, text: string): void {
    const dir = dirname(path);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
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
}
