import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { isInside, readRegularFileBytes, realpathInside, UnsafeFileError } from '../fs/safe-read.js';

/**
 * A build context (`build:` folder, ADR 0023), read with the project's safe readers: regular files,
 * folders and symlinks that stay inside the context only (a FIFO, a device or a link out is refused),
 * everything capped. `.dockerignore` is honoured like Docker's classic builder (patterns, `!` exceptions,
 * last match wins). The Dockerfile and .dockerignore are always sent (Docker's rule).
 */
export interface ContextEntry {
  /** Relative, `/`-separated. */
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  /** Permission bits. */
  mode: number;
  size: number;
  /** sha256 of the content (files), of the link text (symlinks), '' (folders). */
  digest: string;
  linkTarget?: string;
}

export class BuildContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BuildContextError';
  }
}

/** Files in one context at most (a node_modules without .dockerignore would pass this quickly). */
export const MAX_CONTEXT_FILES = 20_000;
/** tar (ustar) limits a path to 100 characters plus a 155-character prefix; we stay well inside. */
const MAX_PATH = 240;

/** Digests by path, valid while size, mtime and inode stay the same: a pass over an unchanged folder reads no file. */
const digestMemo = new Map<string, { size: number; mtimeMs: number; ino: number; digest: string }>();
const DIGEST_MEMO_MAX = 50_000;

function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** `.dockerignore` as a predicate over relative paths (Docker's classic rules, simplified: see ADR 0023). */
export function dockerignore(text: string): (path: string) => boolean {
  const rules: { re: RegExp; negate: boolean }[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1).trim();
    line = posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '');
    if (line === '' || line === '.') continue;
    let re = '';
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (c === '*' && line[i + 1] === '*') {
        // `**/` any number of folders, `**` anything.
        if (line[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    // A pattern matching a folder excludes everything below it.
    rules.push({ re: new RegExp(`^${re}(?:/.*)?$`), negate });
  }
  return (path: string): boolean => {
    let ignored = false;
    for (const r of rules) if (r.re.test(path)) ignored = !r.negate;
    return ignored;
  };
}

export interface ReadContextOptions {
  maxBytes: number;
  /** The Dockerfile's path relative to the context (always sent). */
  dockerfile: string;
}

/**
 * The entries of a context folder, sorted by path. `root` is the server folder: the context and
 * every symlink in it must resolve inside it. Throws BuildContextError with what and where.
 */
export function readContext(root: string, contextDir: string, opts: ReadContextOptions): ContextEntry[] {
  let realContext: string;
  try {
    realContext = realpathInside(root, contextDir);
  } catch (err) {
    const reason = (err as UnsafeFileError).reason;
    if (reason === 'missing') throw new BuildContextError(`${contextDir} does not exist`);
    if (reason === 'outside') throw new BuildContextError(`${contextDir} resolves outside the server folder ${root}`);
    throw new BuildContextError((err as Error).message);
  }
  const st = lstatSync(realContext);
  if (!st.isDirectory()) throw new BuildContextError(`${contextDir} is not a folder`);
  const ignoreFile = join(realContext, '.dockerignore');
  const ignoreText = lstatSync(ignoreFile, { throwIfNoEntry: false })?.isFile()
    ? readRegularFileBytes(ignoreFile, { maxBytes: 64 * 1024, noFollow: true }).toString('utf8')
    : '';
  const ignored = dockerignore(ignoreText);
  const always = new Set([posix.normalize(opts.dockerfile), '.dockerignore']);
  const dockerfile = posix.normalize(opts.dockerfile);
  const dfStat = lstatSync(join(realContext, dockerfile), { throwIfNoEntry: false });
  if (!dfStat) throw new BuildContextError(`no ${dockerfile} in ${contextDir}`);
  if (!dfStat.isFile()) throw new BuildContextError(`${join(contextDir, dockerfile)} is not a regular file`);
  const entries: ContextEntry[] = [];
  let bytes = 0;
  const walk = (rel: string): void => {
    const abs = rel === '' ? realContext : join(realContext, rel);
    for (const name of readdirSync(abs).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      if (ignored(path) && !always.has(path)) continue;
      if (path.length > MAX_PATH) throw new BuildContextError(`${join(contextDir, path)}: path longer than ${MAX_PATH} characters`);
      const full = join(abs, name);
      const s = lstatSync(full);
      if (entries.length >= MAX_CONTEXT_FILES) {
        throw new BuildContextError(`${contextDir} has more than ${MAX_CONTEXT_FILES} files; leave some out with .dockerignore`);
      }
      if (s.isSymbolicLink()) {
        const target = readlinkSync(full);
        let real: string;
        try {
          real = realpathInside(realContext, full);
        } catch {
          throw new BuildContextError(`${join(contextDir, path)} is a symlink that leads outside the build context (or nowhere)`);
        }
        if (!isInside(realContext, real)) throw new BuildContextError(`${join(contextDir, path)} leads outside the build context`);
        entries.push({ path, kind: 'symlink', mode: 0o777, size: 0, digest: sha256(target), linkTarget: target });
      } else if (s.isDirectory()) {
        entries.push({ path, kind: 'dir', mode: s.mode & 0o7777, size: 0, digest: '' });
        walk(path);
      } else if (s.isFile()) {
        bytes += s.size;
        if (bytes > opts.maxBytes) {
          const why = `is larger than ${opts.maxBytes} bytes (settings build.maxContextBytes); leave files out with .dockerignore`;
          throw new BuildContextError(`${contextDir} ${why}`);
        }
        entries.push({ path, kind: 'file', mode: s.mode & 0o7777, size: s.size, digest: fileDigest(full, s) });
      } else {
        throw new BuildContextError(`${join(contextDir, path)} is not a regular file, folder or symlink`);
      }
    }
  };
  walk('');
  return entries;
}

function fileDigest(full: string, s: Stats): string {
  const hit = digestMemo.get(full);
  if (hit && hit.size === s.size && hit.mtimeMs === s.mtimeMs && hit.ino === s.ino) return hit.digest;
  let content: Buffer;
  try {
    content = readRegularFileBytes(full, { maxBytes: s.size, noFollow: true });
  } catch (err) {
    throw new BuildContextError((err as Error).message);
  }
  const digest = sha256(content);
  if (digestMemo.size >= DIGEST_MEMO_MAX) digestMemo.clear();
  digestMemo.set(full, { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, digest });
  return digest;
}

/** The identity of a context: entries (path, kind, mode, content digest) in a canonical text, hashed. */
export function contextHash(entries: readonly ContextEntry[], extra: unknown): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(extra));
  for (const e of entries) h.update(`\n${e.kind}\0${e.path}\0${(e.mode & 0o111) !== 0 ? 'x' : '-'}\0${e.digest}\0${e.linkTarget ?? ''}`);
  return h.digest('hex');
}

/** One tar member: a file's bytes, a folder, or a symlink. */
export interface TarMember {
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  mode: number;
  content?: Buffer;
  linkTarget?: string;
}

/**
 * A context as tar members, the files read again (safe reader, capped at the sizes seen). The
 * caller checks the hash of what was read against the tag it builds (a file edited since the plan
 * gives another hash: that build waits for the next pass).
 */
export function readContextMembers(
  root: string,
  contextDir: string,
  opts: ReadContextOptions,
): { entries: ContextEntry[]; members: TarMember[] } {
  const entries = readContext(root, contextDir, opts);
  const realContext = realpathInside(root, contextDir);
  const members: TarMember[] = [];
  for (const e of entries) {
    if (e.kind === 'file') {
      const content = readRegularFileBytes(join(realContext, e.path), { maxBytes: e.size, noFollow: true });
      if (sha256(content) !== e.digest) {
        throw new BuildContextError(`${join(contextDir, e.path)} changed while it was read; the next pass builds it`);
      }
      members.push({ path: e.path, kind: 'file', mode: e.mode, content });
    } else if (e.kind === 'dir') members.push({ path: e.path, kind: 'dir', mode: e.mode });
    else members.push({ path: e.path, kind: 'symlink', mode: 0o777, linkTarget: e.linkTarget ?? '' });
  }
  return { entries, members };
}

/** A POSIX ustar archive of the members (what Docker's build endpoint takes), in memory. */
export function tarOf(members: readonly TarMember[]): Buffer {
  const blocks: Buffer[] = [];
  for (const m of members) {
    const header = Buffer.alloc(512, 0);
    let name = m.kind === 'dir' ? `${m.path}/` : m.path;
    let prefix = '';
    if (Buffer.byteLength(name) > 100) {
      const cut = name.lastIndexOf('/', name.length - 2 > 155 ? 155 : name.length - 2);
      prefix = name.slice(0, cut);
      name = name.slice(cut + 1);
      if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) {
        throw new BuildContextError(`${m.path}: path too long for a tar header`);
      }
    }
    const size = m.kind === 'file' ? (m.content?.length ?? 0) : 0;
    header.write(name, 0, 100, 'utf8');
    header.write(octal(m.mode & 0o7777, 7), 100, 8, 'ascii');
    header.write(octal(0, 7), 108, 8, 'ascii');
    header.write(octal(0, 7), 116, 8, 'ascii');
    header.write(octal(size, 11), 124, 12, 'ascii');
    // A fixed mtime: the archive of an unchanged folder is the same bytes.
    header.write(octal(0, 11), 136, 12, 'ascii');
    header.write('        ', 148, 8, 'ascii');
    header.write(m.kind === 'file' ? '0' : m.kind === 'dir' ? '5' : '2', 156, 1, 'ascii');
    if (m.kind === 'symlink') header.write(m.linkTarget ?? '', 157, 100, 'utf8');
    header.write('ustar\u000000', 257, 8, 'ascii');
    header.write(prefix, 345, 155, 'utf8');
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${octal(sum, 6)}\0 `, 148, 8, 'ascii');
    blocks.push(header);
    if (size > 0) {
      blocks.push(m.content!);
      const pad = (512 - (size % 512)) % 512;
      if (pad) blocks.push(Buffer.alloc(pad, 0));
    }
  }
  blocks.push(Buffer.alloc(1024, 0));
  return Buffer.concat(blocks);
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width, '0');
}
