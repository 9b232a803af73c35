import { randomBytes } from 'node:crypto';
import type { BuildProgress, ContainerLogs, ContainerRuntime, LogLine, LogOptions, ObserveQuery, RuntimeSnapshot } from '../ports/index.js';
import type { BuildSpec, ContainerSpec, ObservedContainer, ObservedImage } from '../model/types.js';
import { Labels, isOwned, parseRole, parseSpecLabel } from '../docker/labels.js';
import { countApiCall } from '../ports/api-calls.js';
import { ReconcilerError, ErrorCode } from '../errors/index.js';

/**
 * In-memory ContainerRuntime: what Docker would report after each call, with optional latency
 * per call and counters, for unit tests and benchmarks. Not used by production code.
 */
export class InMemoryRuntime implements ContainerRuntime {
  readonly containers = new Map<string, { name: string; spec: ContainerSpec; running: boolean; imageId: string; networks: Set<string> }>();
  /** Local image id per reference (default `sha256:<ref>`); set one to stand for a rebuilt tag. */
  readonly imageIds = new Map<string, string>();
  /** What `pull` fetched, and the id a registry would give (absent: the current one). */
  readonly pulled: string[] = [];
  readonly registry = new Map<string, string>();
  readonly volumes = new Map<string, Record<string, string>>();
  readonly networks = new Set<string>();
  readonly networkLabels = new Map<string, { labels: Record<string, string>; internal: boolean }>();
  calls = { reads: 0, writes: 0 };
  /** Images whose process "exits at once": waitRunning rejects like the real adapter. */
  readonly failingImages = new Set<string>();
  /** Published host port by container name (default 40000 for every exposed port). */
  readonly hostPorts = new Map<string, number>();
  /** Names of the containers stopped, in order (to count how often a working one was stopped). */
  readonly stopped: string[] = [];
  /** Is a reference present? Everything is, but `missingImages` and built tags (ADR 0023) not built yet here. */
  present(ref: string): boolean {
    if (this.missingImages.has(ref)) return false;
    return !ref.startsWith('mcp-reconciler-build/') || this.built.includes(ref);
  }

  /** References that are not present locally (observe reports null; a build makes its tag present). */
  readonly missingImages = new Set<string>();
  /** Builds carried out (tags, in order), and tags whose build fails with these output lines. */
  readonly built: string[] = [];
  readonly failingBuilds = new Map<string, string[]>();
  /** Images this instance "built" (observe reports them as builtImages); removeImage drops them. */
  readonly builtImages = new Map<string, ObservedImage>();
  readonly removedImages: string[] = [];
  readonly #latencyMs: number;

  constructor(opts: { latencyMs?: number } = {}) {
    this.#latencyMs = opts.latencyMs ?? 0;
  }

  /**
   * One port call: `requests` Engine API requests as the real adapter makes them (observe: containers,
   * networks, volumes and, when asked, images, in parallel), one latency for all of them.
   */
  async #wait(kind: 'reads' | 'writes', requests = 1): Promise<void> {
    this.calls[kind]++;
    countApiCall(requests);
    if (this.#latencyMs > 0) await new Promise((r) => setTimeout(r, this.#latencyMs));
  }

  imageId(ref: string): string {
    return this.imageIds.get(ref) ?? `sha256:${ref}`;
  }

  async observe(q: ObserveQuery): Promise<RuntimeSnapshot> {
    await this.#wait('reads', q.images?.length ? 4 : 3);
    const containers: ObservedContainer[] = [];
    for (const [id, c] of this.containers) {
      const owned = isOwned(c.spec.labels, q.instance);
      if (!owned && !c.name.startsWith(q.namePrefix)) continue;
      const summary = parseSpecLabel(c.spec.labels[Labels.Spec]);
      containers.push({
        id,
        name: c.name,
        image: c.spec.image,
        imageId: c.imageId,
        state: c.running ? 'running' : 'exited',
        running: c.running,
        owned,
        role: owned ? parseRole(c.spec.labels[Labels.Role]) : null,
        server: owned ? (c.spec.labels[Labels.Server] ?? null) : null,
        specHash: owned ? (c.spec.labels[Labels.SpecHash] ?? null) : null,
        specSummary: owned ? summary : null,
        source: owned ? (c.spec.labels[Labels.Source] ?? null) : null,
        hostPorts: c.spec.exposedPort ? { [c.spec.exposedPort]: this.hostPorts.get(c.name) ?? 40000 } : {},
        networks: [...c.networks].sort(),
      });
    }
    const volumes = [...this.volumes].map(([name, labels]) => ({ name, owned: isOwned(labels, q.instance) }));
    const imageIds = Object.fromEntries((q.images ?? []).map((r) => [r, this.present(r) ? this.imageId(r) : null]));
    const networks = [...this.networks].map((name) => {
      const n = this.networkLabels.get(name);
      const owned = isOwned(n?.labels, q.instance);
      return { name, owned, internal: n?.internal ?? false, server: owned ? (n?.labels[Labels.Server] ?? null) : null };
    });
    const builtImages = q.images?.length ? [...this.builtImages.values()] : undefined;
    const built = builtImages ? { builtImages } : {};
    return { networkExists: this.networks.has(q.network), networks, containers, volumes, imageIds, ...built };
  }

  async buildImage(build: BuildSpec, onLine: BuildProgress): Promise<void> {
    await this.#wait('writes');
    onLine(`Step 1/1 : FROM ${build.baseImages[0] ?? 'scratch'}`);
    const failing = this.failingBuilds.get(build.tag);
    if (failing) {
      for (const l of failing) onLine(l);
      throw new ReconcilerError(ErrorCode.BuildFailed, `build of ${build.tag} failed: ${failing.slice(-3).join(' | ')}`);
    }
    this.missingImages.delete(build.tag);
    this.built.push(build.tag);
    const server = build.labels[Labels.Server] ?? '';
    this.builtImages.set(this.imageId(build.tag), { id: this.imageId(build.tag), tags: [build.tag], server });
  }

  async removeImage(id: string): Promise<void> {
    await this.#wait('writes');
    this.removedImages.push(id);
    for (const t of this.builtImages.get(id)?.tags ?? []) this.built.splice(this.built.indexOf(t), 1);
    this.builtImages.delete(id);
  }
  async createNetwork(name: string, labels: Record<string, string> = {}, opts: { internal?: boolean } = {}): Promise<void> {
    await this.#wait('writes');
    this.networks.add(name);
    this.networkLabels.set(name, { labels, internal: opts.internal === true });
  }
  async connectNetwork(network: string, container: string): Promise<void> {
    await this.#wait('writes');
    if (!this.networks.has(network)) throw new Error(`404 network ${network} not found`);
    for (const c of this.containers.values()) if (c.name === container) c.networks.add(network);
  }
  async disconnectNetwork(network: string, container: string): Promise<void> {
    await this.#wait('writes');
    for (const c of this.containers.values()) if (c.name === container) c.networks.delete(network);
  }
  async removeNetwork(name: string): Promise<void> {
    await this.#wait('writes');
    for (const c of this.containers.values()) if (c.networks.has(name)) throw new Error(`409 network ${name} has active endpoints`);
    this.networks.delete(name);
    this.networkLabels.delete(name);
  }
  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.#wait('writes');
    this.volumes.set(name, labels);
  }
  async ensureImage(): Promise<void> {
    await this.#wait('reads');
  }
  async pull(image: string): Promise<string> {
    await this.#wait('writes');
    this.pulled.push(image);
    const fresh = this.registry.get(image);
    if (fresh) this.imageIds.set(image, fresh);
    return this.imageId(image);
  }
  async create(spec: ContainerSpec, name: string = spec.name): Promise<string> {
    await this.#wait('writes');
    for (const c of this.containers.values()) if (c.name === name) throw new Error(`409 name ${name} in use`);
    const id = randomBytes(8).toString('hex');
    this.containers.set(id, {
      name, spec, running: false, imageId: this.imageId(spec.image), networks: new Set(spec.networks.map((n) => n.name)),
    });
    return id;
  }
  async start(id: string): Promise<void> {
    await this.#wait('writes');
    const c = this.containers.get(id);
    if (c) c.running = true;
  }
  async stop(id: string): Promise<void> {
    await this.#wait('writes');
    const c = this.containers.get(id);
    if (c) {
      if (c.running) this.stopped.push(c.name);
      c.running = false;
    }
  }
  async rename(id: string, name: string): Promise<void> {
    await this.#wait('writes');
    const c = this.containers.get(id);
    if (c) c.name = name;
  }
  async waitRunning(id: string): Promise<void> {
    await this.#wait('reads');
    const c = this.containers.get(id);
    if (c && this.failingImages.has(c.spec.image)) {
      c.running = false;
      throw new Error('exited 1: Error: bad flag --nope');
    }
  }
  async inspectByName(name: string): Promise<{ id: string; startedAt: number; running: boolean } | null> {
    await this.#wait('reads');
    for (const [id, c] of this.containers) if (c.name === name) return { id, startedAt: 0, running: c.running };
    return null;
  }
  async remove(id: string): Promise<void> {
    await this.#wait('writes');
    this.containers.delete(id);
  }
}

/** An in-memory ConfigStore. */
export class MemoryConfigStore {
  readonly files = new Map<string, string>();
  writes = 0;
  read(path: string): string | null {
    return this.files.get(path) ?? null;
  }
  writeAtomic(path: string, text: string): void {
    this.writes++;
    this.files.set(path, text);
    this.mtimes.set(path, Date.now());
  }
  /** Writes of shared files (the edge's tool policy), counted apart from config writes. */
  sharedWrites = 0;
  writeShared(path: string, text: string): void {
    this.sharedWrites++;
    this.files.set(path, text);
    this.mtimes.set(path, Date.now());
  }
  readonly mtimes = new Map<string, number>();
  mtime(path: string): number | null {
    return this.mtimes.get(path) ?? null;
  }
}

/** ContainerLogs over fixed lines per container; `follow` ends at the last line like a log that never grows. */
export class FakeLogs implements ContainerLogs {
  readonly reads: Array<{ name: string; tail: number | 'all' }> = [];
  constructor(readonly lines: Record<string, LogLine[]>) {}

  async *readLog(name: string, opts: LogOptions): AsyncGenerator<LogLine> {
    this.reads.push({ name, tail: opts.tail });
    const all = this.lines[name];
    if (!all) throw new Error(`no such container: ${name}`);
    yield* opts.tail === 'all' ? all : all.slice(Math.max(0, all.length - opts.tail));
  }
}
