import { mkdtempSync, rmSync, chownSync, existsSync, readFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { freePort, waitFor } from './harness.js';

/** Debian's postgresql-15 binaries (scripts/setup.sh installs the package when they are missing). */
export const PG_BIN = process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin';

/** A throwaway PostgreSQL 15 cluster owned by one test file: its own data dir, port and socket, trust only there. */
export interface PgCluster {
  readonly port: number;
  /** postgres://USER@127.0.0.1:PORT/DB (trust: no password). */
  url(db?: string, user?: string): string;
  /** Fast shutdown, then the data dir is removed. */
  stop(): Promise<void>;
}

/** initdb and postgres refuse to run as root: as root, run them as `postgres` (Debian's package user) or `nobody`. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const users = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':'));
  const u = users.find((f) => f[0] === 'postgres') ?? users.find((f) => f[0] === 'nobody');
  if (!u) throw new Error('neither a postgres nor a nobody user exists to run the test cluster as');
  return { uid: Number(u[2]), gid: Number(u[3]) };
}

/**
 * Starts a fresh cluster: initdb into a temp dir (owned by the unprivileged user), postgres listening on
 * 127.0.0.1:<free port> and a unix socket in that dir only, durability off (it is thrown away).
 * Nothing here reads or needs the machine's own clusters or their pg_hba.conf.
 */
export async function startPostgres(): Promise<PgCluster> {
  for (const b of ['initdb', 'postgres']) {
    if (!existsSync(join(PG_BIN, b))) {
      throw new Error(`${join(PG_BIN, b)} not found: run scripts/setup.sh (installs Debian's postgresql-15)`);
    }
  }
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'mcpr-pg-'));
  if (as) chownSync(dir, as.uid, as.gid);
  const data = join(dir, 'data');
  const init = spawnSync(
    join(PG_BIN, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync'],
    { encoding: 'utf8', cwd: dir, ...(as ?? {}) },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (exit ${init.status}): ${init.stderr || init.error?.message}`);
  }
  const logFile = join(dir, 'postgres.log');
  let child: ChildProcess | undefined;
  let port = 0;
  const kill = (): void => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', kill); // a crashed test file leaves no cluster behind
  const url = (db = 'postgres', user = 'postgres'): string => `postgres://${user}@127.0.0.1:${port}/${db}`;
  // freePort can race with another process taking the port: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const log = openSync(logFile, 'a');
    const c = spawn(
      join(PG_BIN, 'postgres'),
      ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`,
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
      { cwd: dir, stdio: ['ignore', log, log], ...(as ?? {}) },
    );
    closeSync(log);
    child = c;
    let exited = false;
    c.once('exit', () => (exited = true));
    try {
      await waitFor(`test postgres on 127.0.0.1:${port}`, async () => {
        if (exited) throw new Error('exited');
        const cl = new pg.Client({ connectionString: url() });
        await cl.connect();
        await cl.end();
        return true;
      }, 30_000, 100);
      break;
    } catch (err) {
      c.kill('SIGKILL');
      if (attempt >= 3) {
        const tail = readFileSync(logFile, 'utf8').split('\n').slice(-10).join('\n');
        kill();
        throw new Error(`test postgres did not start: ${(err as Error).message}\n${tail}`);
      }
    }
  }
  return {
    port,
    url,
    stop: async () => {
      const c = child;
      if (c && c.exitCode === null && c.signalCode === null) {
        const gone = new Promise<void>((r) => c.once('exit', () => r()));
        c.kill('SIGINT'); // fast shutdown
        const t = setTimeout(() => c.kill('SIGKILL'), 20_000);
        await gone;
        clearTimeout(t);
      }
      process.removeListener('exit', kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
