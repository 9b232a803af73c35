import { statSync } from 'node:fs';

/**
 * A file's identity for "re-read when it changed" (the edge's tool policy, the front's active
 * file): inode, size, mtime and ctime from one stat. An atomic rename changes the inode, an edit in
 * place the size or times, so comparing stamps is enough and costs no read per request. A file that
 * cannot be stat'ed gets `missing:<code>`, which differs from every real stamp and changes with the
 * reason, so a file that appears (or starts failing differently) is noticed too. Never throws.
 */
export function fileStamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? ''}`;
  }
}
