import { mkdtempSync, writeFileSync, rmSync, mkdirSync, chmodSync, unlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { loadSettings, LITELLM_IMAGE, LITELLM_DATABASE_IMAGE, RECONCILER_IMAGE, type Settings } from '../../src/config/settings.js';
import { DockerRuntime } from '../../src/docker/runtime.js';
import { Labels } from '../../src/docker/labels.js';
import { FileConfigStore } from '../../src/litellm/file-store.js';
import { LiteLLMGateway } from '../../src/litellm/gateway-client.js';
import { LiteLLMApi } from '../../src/litellm/api.js';
import { FrontHandover } from '../../src/front/client.js';
import { createLogger } from '../../src/log/logger.js';
import { Reconciler, masterKeyFrom } from '../../src/reconcile/controller.js';
import type { ContainerRuntime } from '../../src/ports/index.js';
import type { ContainerSpec } from '../../src/model/types.js';
import { freePort } from '../../src/testing/net.js';
export { freePort };

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Local stand-ins for the upstream images (built by scripts/setup.sh from this machine's files). */
export const TEST_IMAGES: Record<string, string> = {
  'mcp/everything:latest': 'local/mcp-everything:test',
  'mcp/memory:latest': 'local/mcp-memory:test',
  'bytebase/dbhub:1.4.0': 'local/dbhub:1.4.0',
  [LITELLM_IMAGE]: 'local/litellm:1.77.3',
  // The same local image: database mode runs on the Prisma double (test/litellm-db/), mounted in.
  [LITELLM_DATABASE_IMAGE]: 'local/litellm:1.77.3',
  // MCP_TEST_RECONCILER_IMAGE: a branch's own build of the edge (scripts/images/build-prod.sh <tag>).
  [RECONCILER_IMAGE]: process.env['MCP_TEST_RECONCILER_IMAGE'] ?? 'local/mcp-reconciler:prod',
};

/** The script that builds each local image the tests use (scripts/setup.sh runs them all). Tests never pull. */
export const IMAGE_BUILDERS: Record<string, string> = {
  'local/mcp-everything:test':
    'scripts/images/build-npm-server.sh @modelcontextprotocol/server-everything 2026.8.31 local/mcp-everything:test mcp-everything',
  'local/mcp-memory:test':
    'scripts/images/build-npm-server.sh @modelcontextprotocol/server-memory 2026.8.31 local/mcp-memory:test mcp-memory',
  'local/dbhub:1.4.0': 'scripts/images/build-dbhub.sh',
  'local/litellm:1.77.3': 'scripts/images/build-litellm.sh',
  'local/mcp-reconciler:prod': 'scripts/images/build-prod.sh',
  'local/postgres:15': 'scripts/images/build-postgres.sh',
  'local/node-base:20': 'scripts/images/build-node-base.sh',
  // Bases of build: / package: servers (ADR 0023): settings packages.nodeBase / pythonBase in build.test.ts.
  'local/node-pkg:22': 'scripts/images/build-package-bases.sh',
  'local/python-pkg:3.11': 'scripts/images/build-package-bases.sh',
};

/** Images only some tests need (not checked by createStack): the systemd box. */
export const EXTRA_IMAGE_BUILDERS: Record<string, string> = {
  'local/debian-systemd:12': 'scripts/images/build-debian-systemd.sh',
};

export const docker = new Docker();

/** Poll a condition (never a fixed sleep); returns its last truthy value or throws with the last seen value. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
  );
}


/** A write-counting wrapper: proves a steady-state pass makes zero Docker writes. */
export class CountingRuntime implements ContainerRuntime {
  writes: string[] = [];
  constructor(readonly inner: DockerRuntime) {}
  #w<T>(what: string, p: Promise<T>): Promise<T> {
    this.writes.push(what);
    return p;
  }
  observe(q: Parameters<ContainerRuntime['observe']>[0]): ReturnType<ContainerRuntime['observe']> {
    return this.inner.observe(q);
  }
  createNetwork(n: string, l: Record<string, string>, o?: { internal?: boolean }): Promise<void> {
    return this.#w(`createNetwork ${n}`, this.inner.createNetwork(n, l, o));
  }
  connectNetwork(n: string, c: string, a: string[]): Promise<void> {
    return this.#w(`connectNetwork ${n} ${c}`, this.inner.connectNetwork(n, c, a));
  }
  disconnectNetwork(n: string, c: string): Promise<void> {
    return this.#w(`disconnectNetwork ${n} ${c}`, this.inner.disconnectNetwork(n, c));
  }
  removeNetwork(n: string): Promise<void> {
    return this.#w(`removeNetwork ${n}`, this.inner.removeNetwork(n));
  }
  createVolume(n: string, l: Record<string, string>): Promise<void> {
    return this.#w(`createVolume ${n}`, this.inner.createVolume(n, l));
  }
  pull(i: string): Promise<string> {
    return this.#w(`pull ${i}`, this.inner.pull(i));
  }
  ensureImage(i: string): Promise<void> {
    return this.#w(`ensureImage ${i}`, this.inner.ensureImage(i));
  }
  buildImage(b: Parameters<ContainerRuntime['buildImage']>[0], onLine: Parameters<ContainerRuntime['buildImage']>[1]): Promise<void> {
    return this.#w(`buildImage ${b.tag}`, this.inner.buildImage(b, onLine));
  }
  removeImage(id: string): Promise<void> {
    return this.#w(`removeImage ${id}`, this.inner.removeImage(id));
  }
  create(s: ContainerSpec, name?: string): Promise<string> {
    return this.#w(`create ${name ?? s.name}`, this.inner.create(s, name));
  }
  start(id: string): Promise<void> {
    return this.#w(`start ${id}`, this.inner.start(id));
  }
  stop(id: string): Promise<void> {
    return this.#w(`stop ${id}`, this.inner.stop(id));
  }
  rename(id: string, name: string): Promise<void> {
    return this.#w(`rename ${id} ${name}`, this.inner.rename(id, name));
  }
  remove(id: string): Promise<void> {
    return this.#w(`remove ${id}`, this.inner.remove(id));
  }
  inspectByName(name: string): ReturnType<ContainerRuntime['inspectByName']> {
    return this.inner.inspectByName(name);
  }
  waitRunning(id: string, settleMs: number): Promise<void> {
    return this.inner.waitRunning(id, settleMs);
  }
}

export interface Stack {
  id: string;
  dir: string;
  settingsFile: string;
  settings: Settings;
  runtime: CountingRuntime;
  reconciler: Reconciler;
  gateway: LiteLLMGateway;
  masterKey: string;
  writeDesired(name: string, yaml: string): void;
  copyExample(name: string): void;
  removeDesired(name: string): void;
  containers(): Promise<Docker.ContainerInfo[]>;
  cleanup(): Promise<void>;
}

/** Fails fast, naming the build script, when a local image is missing (tests never pull: settings images.pull never). */
export async function assertImages(images: string[] = Object.keys(IMAGE_BUILDERS)): Promise<void> {
  for (const img of images) {
    try {
      await docker.getImage(img).inspect();
    } catch {
      const script = IMAGE_BUILDERS[img] ?? EXTRA_IMAGE_BUILDERS[img] ?? 'scripts/setup.sh';
      throw new Error(`test image ${img} is missing: build it with \`bash ${script}\` (or run scripts/setup.sh, README "Run the tests")`);
    }
  }
}

/** The gateway's env file `<secrets>/<id>-litellm.env` (mode 600) with a fresh master key, which it returns. */
export function writeGatewayEnv(secrets: string, id: string): string {
  const masterKey = `sk-test-${randomBytes(12).toString('hex')}`;
  const envFile = join(secrets, `${id}-litellm.env`);
  writeFileSync(envFile, `LITELLM_MASTER_KEY=${masterKey}\n`, { mode: 0o600 });
  chmodSync(envFile, 0o600);
  return masterKey;
}

/** Settings of a test stack named `id`: its own prefix, instance, network, local images only, gateway on a free 127.0.0.1 port. */
export async function stackSettings(
  id: string,
  projectsRoot: string,
  secretsDir: string,
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  return {
    projectsRoot,
    secretsDir,
    network: `${id}-net`,
    namePrefix: `${id}-`,
    instance: id,
    imageOverrides: TEST_IMAGES,
    images: { pull: 'never' },
    ...extra,
    gateway: { hostIp: '127.0.0.1', hostPort: await freePort(), ...((extra['gateway'] as Record<string, unknown> | undefined) ?? {}) },
  };
}

/** A separate stack per test file: own prefix, instance, network, gateway port and temp dirs. */
export async function createStack(extra: Record<string, unknown> = {}): Promise<Stack> {
  await assertImages();
  const id = `t${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), `mcpr-${id}-`));
  const secrets = join(dir, 'secrets');
  mkdirSync(secrets, { mode: 0o700 });
  mkdirSync(join(dir, 'projects', 'desired-state'), { recursive: true });
  const masterKey = writeGatewayEnv(secrets, id);
  const settingsFile = join(dir, 'settings.yaml');
  writeFileSync(settingsFile, JSON.stringify(await stackSettings(id, join(dir, 'projects'), secrets, extra), null, 2));
  const settings = loadSettings({ file: settingsFile, env: {} });
  const runtime = new CountingRuntime(new DockerRuntime(docker, undefined, { pull: settings.images.pull }));
  const gateway = new LiteLLMGateway(settings.gateway.url, () => masterKeyFrom(settings));
  const reconciler = new Reconciler(settings, {
    runtime,
    config: new FileConfigStore(),
    gateway,
    api: new LiteLLMApi(settings.gateway.url, () => masterKeyFrom(settings)),
    // gateway.handover: blue-green (ADR 0025): the handover goes through the front, as in the CLI.
    handover: settings.gateway.handover === 'blue-green' ? new FrontHandover(settings.gateway.url, () => masterKeyFrom(settings)) : null,
    log: createLogger({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' }),
  });
  const desired = settings.desiredDir;
  return {
    id,
    dir,
    settingsFile,
    settings,
    runtime,
    reconciler,
    gateway,
    masterKey,
    writeDesired: (name, yaml) => writeFileSync(join(desired, `mcp-${name}.yaml`), yaml),
    copyExample: (name) => copyFileSync(join(REPO, 'desired-state', `mcp-${name}.yaml`), join(desired, `mcp-${name}.yaml`)),
    removeDesired: (name) => unlinkSync(join(desired, `mcp-${name}.yaml`)),
    containers: () => docker.listContainers({ all: true, filters: { label: [`${Labels.Instance}=${id}`] } }),
    cleanup: async () => {
      const all = await docker.listContainers({ all: true, filters: { name: [`${id}-`] } });
      await Promise.all(all.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
      const nets = await docker.listNetworks({ filters: { label: [`${Labels.Instance}=${id}`] } });
      await Promise.all(nets.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
      await docker.getNetwork(`${id}-net`).remove().catch(() => undefined);
      // The edge's Docker proxy socket volume (ADR 0007); server data volumes are the tests' own business.
      await docker.getVolume(`${id}-edge.docker`).remove().catch(() => undefined);
      // Images the stack built (build:, package:; ADR 0023) carry its instance label.
      const images = await docker.listImages({ filters: { label: [`${Labels.Instance}=${id}`] } });
      for (const i of images) await docker.getImage(i.Id).remove({ force: true }).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

