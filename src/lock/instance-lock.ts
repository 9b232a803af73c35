import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * One reconciler per instance (ADR 0006). The lock is a file holding who holds it; it is taken by
 * hard-linking a complete temp file into place (atomic, fails if it exists) and it counts as held
 * only while that process lives (same host, PID alive, same start time: a reused PID is not a
 * holder). A holder killed with SIGKILL leaves the file, and the next taker sees a dead PID and takes
 * over, so the lock is released by the kernel's process table, not by a timeout.
 */
export const LockHolderSchema = z.object({
  pid: z.number().int().positive(),
  /** Process start time (clock ticks since boot, /proc/<pid>/stat field 22); null where /proc is missing. */
  startTicks: z.number().int().nullable(),
  host: z.string(),
  command: z.string(),
  since: z.string(),
  /** The daemon's HTTP face, where `apply --once` asks the running daemon for a pass. */
  endpoint: z.object({ address: z.string(), port: z.number().int() }).nullable(),
  /** Proof of access for that request: readable only by who can read this file (mode 600). */
  token: z.string().nullable(),
});
export type LockHolder = z.infer<typeof LockHolderSchema>;

export class LockHeldError extends Error {
  constructor(
    readonly file: string,
    readonly holder: LockHolder,
  ) {
    super(
      `another reconciler of this instance is running: ${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.since}); ` +
        `lock ${file}`,
    );
    this.name = 'LockHeldError';
  }
}

/** Where the lock of an instance lives: in the secrets dir (mode 700, it holds a token). */
export function lockPath(secretsDir: string, instance: string, scope: 'reconcile' | 'db-init' = 'reconcile'): string {
  return join(secretsDir, `.mcp-reconciler-${instance}${scope === 'reconcile' ? '' : `-${scope}`}.lock`);
}

/** Start time of a process in clock ticks since boot, or null when it cannot be read. */
export function processStartTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(rest[19]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

function alive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true; // cannot check another host's process table: assume held
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (h.startTicks === null) return true;
  const now = processStartTicks(h.pid);
  return now === null || now === h.startTicks;
}

function readHolder(file: string): { raw: string; holder: LockHolder | null } | null {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return { raw, holder: LockHolderSchema.parse(JSON.parse(raw)) };
  } catch {
    return { raw, holder: null }; // garbage (a torn write cannot happen: link publishes whole files)
  }
}

/** Who holds the lock right now (null when free or the holder is gone). */
export function lockHolder(file: string): LockHolder | null {
  const cur = readHolder(file);
  return cur?.holder && alive(cur.holder) ? cur.holder : null;
}

export interface InstanceLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Where `apply --once` finds the daemon now (SIGHUP may move the status server); atomic rewrite. */
  setEndpoint(endpoint: { address: string; port: number } | null): void;
  /** Remove the lock file if it is still ours (idempotent). */
  release(): void;
}

/**
 * Take the lock or throw LockHeldError naming the holder. A stale file (dead holder, unparsable
 * content) is removed and taking is retried.
 */
export function acquireLock(
  file: string,
  opts: { command: string; endpoint?: { address: string; port: number } | null },
): InstanceLock {
  const holder: LockHolder = {
    pid: process.pid,
    startTicks: processStartTicks(process.pid),
    host: hostname(),
    command: opts.command,
    since: new Date().toISOString(),
    endpoint: opts.endpoint ?? null,
    token: opts.endpoint ? randomBytes(24).toString('hex') : null,
  };
  const text = `${JSON.stringify(holder)}\n`;
  mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  try {
    for (let i = 0; i < 5; i++) {
      try {
        linkSync(tmp, file);
        let released = false;
        let current = text;
        const release = (): void => {
          if (released) return;
          released = true;
          try {
            if (readFileSync(file, 'utf8') === current) unlinkSync(file);
          } catch {
            /* already gone */
          }
        };
        const lock: InstanceLock = {
          file,
          holder,
          release,
          setEndpoint: (endpoint) => {
            Object.assign(holder, { endpoint, token: endpoint ? (holder.token ?? randomBytes(24).toString('hex')) : null });
            const next = `${JSON.stringify(holder)}\n`;
            const t = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
            writeFileSync(t, next, { mode: 0o600, flag: 'wx' });
            renameSync(t, file);
            current = next;
          },
        };
        process.once('exit', release);
        return lock;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const cur = readHolder(file);
      if (!cur) continue; // released meanwhile
      if (cur.holder && alive(cur.holder)) throw new LockHeldError(file, cur.holder);
      // Stale: remove it only if it is still the file we judged (another taker may have won meanwhile).
      const again = readHolder(file);
      if (again && again.raw === cur.raw) {
        try {
          unlinkSync(file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    }
    throw new Error(`could not take the lock ${file}: it keeps changing`);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* the link holds the content; the temp name is only a name */
    }
  }
}
