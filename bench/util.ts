import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { LITELLM_IMAGE, LITELLM_DATABASE_IMAGE, RECONCILER_IMAGE } from '../src/config/settings.js';
export { freePort } from '../src/testing/net.js';

/** One row of the bench table. */
export interface Row {
  bench: string;
  case: string;
  value: string;
  baseline: string;
  note: string;
}

/** The p-th percentile (nearest rank). */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

export function fmt(xs: readonly number[], digits = 1): string {
  return `p50 ${pct(xs, 50).toFixed(digits)} ms, p95 ${pct(xs, 95).toFixed(digits)} ms (n=${xs.length})`;
}

/** A free TCP port on 127.0.0.1. */

/** A throwaway stack (own prefix, instance, network, secrets) for a benchmark. */
export function stackDir(id: string, gateway: Record<string, unknown>): { dir: string; settingsFile: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), `${id}-`));
  const secrets = join(dir, 'secrets');
  mkdirSync(secrets, { mode: 0o700 });
  mkdirSync(join(dir, 'projects', 'desired-state'), { recursive: true });
  const key = `sk-bench-${randomBytes(8).toString('hex')}`;
  writeFileSync(join(secrets, `${id}-litellm.env`), `LITELLM_MASTER_KEY=${key}\n`, { mode: 0o600 });
  const settingsFile = join(dir, 'settings.yaml');
  writeFileSync(settingsFile, JSON.stringify({
    projectsRoot: join(dir, 'projects'), secretsDir: secrets, network: `${id}-net`, namePrefix: `${id}-`, instance: id,
    statusPort: 0, gateway,
    imageOverrides: {
      'mcp/everything:latest': 'local/mcp-everything:test',
      [LITELLM_IMAGE]: 'local/litellm:1.77.3',
      [LITELLM_DATABASE_IMAGE]: 'local/litellm:1.77.3',
      // A branch's own build of the edge and the front (scripts/images/build-prod.sh <tag>), as in the tests.
      [RECONCILER_IMAGE]: process.env['MCP_TEST_RECONCILER_IMAGE'] ?? 'local/mcp-reconciler:prod',
    },
  }));
  return { dir, settingsFile, key };
}

/** Remove a benchmark stack's containers, network and files. */
export async function cleanupStack(docker: Docker, id: string, dir: string): Promise<void> {
  const all = await docker.listContainers({ all: true, filters: { name: [`${id}-`] } });
  await Promise.all(all.map((x) => docker.getContainer(x.Id).remove({ force: true }).catch(() => undefined)));
  // The stack network and the per-server networks (`<id>-net.<server>`), all labeled with our instance.
  const nets = await docker.listNetworks({ filters: { label: [`io.mcp-reconciler.instance=${id}`] } });
  await Promise.all([`${id}-net`, ...nets.map((n) => n.Name)].map((n) => docker.getNetwork(n).remove().catch(() => undefined)));
  rmSync(dir, { recursive: true, force: true });
}


/** The median of xs. */
export function median(xs: readonly number[]): number {
  return pct(xs, 50);
}

/** CPU ms (this process) and wall ms of fn. */
export async function measure(fn: () => Promise<void>): Promise<{ cpuMs: number; wallMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { cpuMs: (c.user + c.system) / 1000, wallMs: performance.now() - t0 };
}

/** Poll fn every 25 ms until it returns true; throws after timeoutMs. */
export async function waitUntil(fn: () => Promise<boolean>, timeoutMs: number, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms`);
}

/**
 * Counts the HTTP requests dockerode sends to the Docker socket (every Engine API call goes
 * through `modem.dial` once), by method and path with ids and queries stripped.
 */
export class DockerCallCounter {
  readonly byRoute = new Map<string, number>();
  total = 0;

  constructor(docker: Docker) {
    const modem = (docker as unknown as { modem: { dial: (o: { method?: string; path?: string }, cb: unknown) => unknown } }).modem;
    const dial = modem.dial.bind(modem);
    modem.dial = (o, cb) => {
      this.total++;
      const path = (o.path ?? '').split('?')[0] ?? '';
      const route = `${o.method ?? 'GET'} ${path.replace(/\/(containers|networks|volumes|images)\/(?!json$|create$)[^/]+/, '/$1/{id}')}`;
      this.byRoute.set(route, (this.byRoute.get(route) ?? 0) + 1);
      return dial(o, cb);
    };
  }

  /** Counts since the last reset, then zero them. */
  take(): { total: number; byRoute: Record<string, number> } {
    const out = { total: this.total, byRoute: Object.fromEntries([...this.byRoute].sort()) };
    this.total = 0;
    this.byRoute.clear();
    return out;
  }
}

/** A container's cumulative CPU time in ns, from the Engine API's stats (the container's cgroup). */
export async function containerCpuNs(docker: Docker, nameOrId: string): Promise<number> {
  const s = (await docker.getContainer(nameOrId).stats({ stream: false, 'one-shot': true } as { stream: false })) as {
    cpu_stats: { cpu_usage: { total_usage: number } };
  };
  return s.cpu_stats.cpu_usage.total_usage;
}
