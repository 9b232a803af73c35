import { chmodSync, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.js';
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

  /** Keeps an existing file's mode and owner; a new config.yaml is 0600 (LiteLLM configs often hold provider keys). */
  writeAtomic(path: string, text: string): void {
    writeFileAtomic(path, text, { newMode: 0o600 });
  }

  /** A file the edge container reads as its own user: no secret in it, so world-readable, folder too (any umask). */
  writeShared(path: string, text: string): void {
    writeFileAtomic(path, text, { newMode: 0o644, dirMode: 0o755 });
    chmodSync(dirname(path), 0o755);
    chmodSync(path, 0o644);
  }

}
