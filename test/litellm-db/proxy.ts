/**
 * The real LiteLLM 1.77.3 proxy in database mode, on the host venv, with the in-memory Prisma
 * double (test/litellm-db/prisma_double.py, started by launch.py). One worker, like the managed
 * gateway. Used by the API-mode integration tests and the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { freePort } from '../../src/testing/net.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Where the double and its launcher live (python files are not compiled; read from the source tree). */
export const DOUBLE_DIR = join(REPO_ROOT, 'test', 'litellm-db');
export const VENV_PYTHON = join(REPO_ROOT, '.cache', 'litellm-venv', 'bin', 'python');

/**
 * Settings that run the managed gateway container (local/litellm:1.77.3, unmodified) on the double:
 * the double is mounted read-only and its launcher replaces the image's entrypoint; the reconciler's
 * own arguments (--config ... --port ... --num_workers 1) follow. Together with DATABASE_URL in the
 * gateway env file (which picks the database image, mapped to the local image here) this is the
 * database path as the reconciler runs it, minus Postgres.
 */
export function managedGatewayOnDouble(): Record<string, unknown> {
  return {
    entrypoint: ['/opt/litellm-venv/bin/python', '/opt/prisma-double/launch.py'],
    mounts: [`${DOUBLE_DIR}:/opt/prisma-double:ro`],
  };
}
/** The gateway env file line that switches the reconciler to the database image and API mode. */
export const UNUSED_DATABASE_URL = 'DATABASE_URL=postgresql://litellm:unused@prisma-double.invalid:5432/litellm';

export interface DbProxyOptions {
  masterKey: string;
  /** config.yaml text; default: no servers. */
  config?: string;
  /** Further files beside config.yaml, by name (e.g. the gateway guard, which LiteLLM loads from the config's folder). */
  files?: Record<string, string>;
  /** Extra environment (e.g. STORE_MODEL_IN_DB=True, as the managed gateway gets with a database). */
  env?: Record<string, string>;
}


/** A running proxy: its URL, the double's rows, stop and start again (the double's rows survive: PRISMA_DOUBLE_STATE). */
export class DbProxy {
  url = '';
  #child: ChildProcess | null = null;
  #log = '';
  readonly #dir: string;
  #port = 0;

  constructor(readonly o: DbProxyOptions) {
    if (!existsSync(VENV_PYTHON)) throw new Error(`no LiteLLM venv at ${VENV_PYTHON}: run scripts/setup-litellm-venv.sh`);
    this.#dir = mkdtempSync(join(tmpdir(), 'litellm-db-'));
    writeFileSync(join(this.#dir, 'config.yaml'), o.config ?? 'mcp_servers: {}\n');
    for (const [name, text] of Object.entries(o.files ?? {})) writeFileSync(join(this.#dir, name), text);
  }

  get log(): string {
    return this.#log;
  }

  async start(): Promise<string> {
    this.#port ||= await freePort();
    this.url = `http://127.0.0.1:${this.#port}`;
    this.#log = '';
    const child = spawn(VENV_PYTHON, [
      join(DOUBLE_DIR, 'launch.py'), '--config', join(this.#dir, 'config.yaml'), '--port', String(this.#port), '--host', '127.0.0.1',
    ], {
      cwd: this.#dir,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: this.#dir,
        LITELLM_MASTER_KEY: this.o.masterKey,
        LITELLM_LOCAL_MODEL_COST_MAP: 'True',
        PRISMA_DOUBLE_STATE: join(this.#dir, 'db.json'),
        ...this.o.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (this.#log = (this.#log + d.toString()).slice(-20_000)));
    child.stderr!.on('data', (d: Buffer) => (this.#log = (this.#log + d.toString()).slice(-20_000)));
    this.#child = child;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`LiteLLM (prisma double) exited ${child.exitCode}:\n${this.#log}`);
      try {
        const r = await request(`${this.url}/health/readiness`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
        const body = (await r.body.json()) as { db?: string };
        if (r.statusCode === 200 && (body.db === 'connected' || this.o.env?.['PRISMA_DOUBLE'] === 'off')) return this.url;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`LiteLLM (prisma double) not ready in 120 s:\n${this.#log}`);
  }

  async stop(): Promise<void> {
    const c = this.#child;
    this.#child = null;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(t);
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** The double's modelled tables, as LiteLLM wrote them. */
  async rows(): Promise<Record<string, Record<string, unknown>[]>> {
    const r = await request(`${this.url}/prisma-double/rows`, { headers: { authorization: `Bearer ${this.o.masterKey}` } });
    if (r.statusCode !== 200) throw new Error(`/prisma-double/rows answered ${r.statusCode}`);
    return (await r.body.json()) as Record<string, Record<string, unknown>[]>;
  }

  /** Call the proxy with a key (default the master key). */
  async call(
    method: string,
    path: string,
    body?: unknown,
    key = this.o.masterKey,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: unknown; text: string }> {
    const r = await request(`${this.url}${path}`, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.body.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: r.statusCode, json, text };
  }
}
