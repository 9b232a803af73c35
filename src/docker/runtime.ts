import Docker from 'dockerode';
import type { Logger } from 'pino';
import { Readable } from 'node:stream';
import type {
  BuildProgress, ContainerLogs, ContainerRuntime, LogLine, LogOptions, RuntimeEvent, ObserveQuery, RuntimeSnapshot,
} from '../ports/index.js';
import type { BuildSpec, ContainerSpec, ObservedContainer, ObservedImage, ObservedNetwork, ObservedVolume } from '../model/types.js';
import { BuildContextError, contextHash, readContextMembers, tarOf } from '../build/context.js';
import { ReconcilerError, ErrorCode, clipText, errorMessage } from '../errors/index.js';
import { readEnvFile } from '../desired/env-file.js';
import { Labels, MANAGED_BY, isOwned, parseRole, parseSpecLabel } from './labels.js';
import { countApiCall } from '../ports/api-calls.js';

const COUNTED = Symbol('mcp-reconciler.api-calls-counted');

/** Report every Engine API request of this client (docker-modem's one entry point) to the pass counter. */
function countRequests(docker: Docker): void {
  const modem = (docker as unknown as { modem?: Record<string | symbol, unknown> & { dial?: (...a: unknown[]) => unknown } }).modem;
  if (!modem || typeof modem.dial !== 'function' || modem[COUNTED]) return;
  const dial = modem.dial.bind(modem);
  modem.dial = (...a: unknown[]): unknown => {
    countApiCall();
    return dial(...a);
  };
  modem[COUNTED] = true;
}

/** Grace period before Docker kills a container on stop (Init: true makes this ~0.1 s in practice). */
export const STOP_TIMEOUT_S = 5;
/** At most one pull-progress log line this often. */
const PULL_PROGRESS_EVERY_MS = 2_000;
/** Lines of build output kept for the error message, and how many of them it quotes. */
const BUILD_TAIL_LINES = 20;
const BUILD_TAIL_IN_ERROR = 5;
/** Poll interval while waiting for a container to settle. */
const POLL_MS = 100;

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

function dockerError(what: string, err: unknown, location?: string): ReconcilerError {
  const unreachable = /ECONNREFUSED|ENOENT|socket hang up|EPIPE|ECONNRESET/.test(errorMessage(err));
  return new ReconcilerError(
    unreachable ? ErrorCode.DockerUnavailable : ErrorCode.DockerOperationFailed,
    `${what}: ${errorMessage(err).split('\n')[0]}`,
    { retryable: true, cause: err, ...(location ? { location } : {}) },
  );
}

/** `2026-12-01T07:00:00.123456789Z text` (Docker's timestamps option) as a LogLine. */
function logLine(stream: LogLine['stream'], line: string): LogLine {
  const space = line.indexOf(' ');
  const stamped = space > 0 && /^\d{4}-\d\d-\d\dT/.test(line);
  return { stream, time: stamped ? line.slice(0, space) : '', text: (stamped ? line.slice(space + 1) : line).replace(/\r$/, '') };
}

/** When ensureImage may pull (settings `images.pull`): only a missing image, or never (tests, offline machines). */
export type PullPolicy = 'missing' | 'never';

/** The one real ContainerRuntime, over the Docker Engine API (dockerode, /var/run/docker.sock). */
export class DockerRuntime implements ContainerRuntime, ContainerLogs {
  readonly docker: Docker;
  readonly #log: Logger | undefined;
  readonly #pull: PullPolicy;

  constructor(docker: Docker = new Docker(), log?: Logger, opts: { pull?: PullPolicy } = {}) {
    this.docker = docker;
    countRequests(docker);
    this.#log = log;
    this.#pull = opts.pull ?? 'missing';
  }

  async observe(q: ObserveQuery): Promise<RuntimeSnapshot> {
    let list: Docker.ContainerInfo[];
    let networks: Docker.NetworkInspectInfo[];
    let vols: Docker.VolumeInspectInfo[];
    let images: Docker.ImageInfo[];
    try {
      const [l, n, v, i] = await Promise.all([
        this.docker.listContainers({ all: true }),
        this.docker.listNetworks(),
        this.docker.listVolumes(),
        q.images?.length ? this.docker.listImages() : Promise.resolve([]),
      ]);
      list = l;
      networks = n;
      vols = v.Volumes ?? [];
      images = i;
    } catch (err) {
      throw dockerError('observe', err);
    }
    const imageIds = localImageIds(q.images ?? [], images);
    const containers: ObservedContainer[] = [];
    for (const c of list) {
      const name = (c.Names[0] ?? '').replace(/^\//, '');
      const owned = isOwned(c.Labels, q.instance);
      if (!owned && !name.startsWith(q.namePrefix)) continue;
      const hostPorts: Record<number, number> = {};
      for (const p of c.Ports ?? []) if (p.PublicPort) hostPorts[p.PrivatePort] = p.PublicPort;
      containers.push({
        id: c.Id,
        name,
        image: c.Image,
        imageId: c.ImageID,
        created: c.Created,
        state: c.State,
        running: c.State === 'running',
        owned,
        role: owned ? parseRole(c.Labels[Labels.Role]) : null,
        server: owned ? (c.Labels[Labels.Server] ?? null) : null,
        specHash: owned ? (c.Labels[Labels.SpecHash] ?? null) : null,
        specSummary: owned ? parseSpecLabel(c.Labels[Labels.Spec]) : null,
        source: owned ? (c.Labels[Labels.Source] ?? null) : null,
        hostPorts,
        networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort(),
      });
    }
    const volumes: ObservedVolume[] = vols
      .filter((v) => isOwned(v.Labels ?? undefined, q.instance) || v.Name.startsWith(q.namePrefix))
      .map((v) => ({ name: v.Name, owned: isOwned(v.Labels ?? undefined, q.instance) }));
    const observedNetworks: ObservedNetwork[] = networks
      .filter((n) => isOwned(n.Labels ?? undefined, q.instance) || n.Name.startsWith(`${q.network}.`))
      .map((n) => {
        const owned = isOwned(n.Labels ?? undefined, q.instance);
        return { name: n.Name, owned, internal: n.Internal === true, server: owned ? (n.Labels?.[Labels.Server] ?? null) : null };
      });
    const builtImages: ObservedImage[] = images
      .filter((i) => isOwned(i.Labels ?? undefined, q.instance) && i.Labels?.[Labels.BuildContext] !== undefined)
      .map((i) => ({ id: i.Id, tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'), server: i.Labels?.[Labels.Server] ?? '' }));
    return {
      networkExists: networks.some((n) => n.Name === q.network),
      networks: observedNetworks,
      containers,
      volumes,
      imageIds,
      ...(q.images?.length ? { builtImages } : {}),
    };
  }

  /**
   * Build an image (ADR 0023) with the classic builder (`POST /build`, no BuildKit here): the context
   * read again through the safe readers and checked against the planned hash, base images checked
   * first (images.pull: never never pulls one), every output line to `onLine` and, at most every
   * 2 s, to the log. A failure carries the last lines of the output.
   */
  async buildImage(build: BuildSpec, onLine: BuildProgress): Promise<void> {
    let tar: Buffer;
    try {
      if (build.dockerfileText !== null) {
        tar = tarOf([{ path: 'Dockerfile', kind: 'file', mode: 0o644, content: Buffer.from(build.dockerfileText) }]);
      } else {
        const opts = { maxBytes: build.maxContextBytes, dockerfile: build.dockerfile };
        const { entries, members } = readContextMembers(build.root!, build.contextDir!, opts);
        if (contextHash(entries, { dockerfile: build.dockerfile, args: build.args }) !== build.contextHash) {
          throw new BuildContextError(`${build.contextDir} changed since the plan; the next pass builds what is there then`);
        }
        tar = tarOf(members);
      }
    } catch (err) {
      throw new ReconcilerError(ErrorCode.BuildFailed, `build of ${build.tag}: ${errorMessage(err)}`, {
        location: `image:${build.tag}`,
        retryable: false,
      });
    }
    for (const base of build.baseImages) await this.#ensureBase(base, build);
    this.#log?.info({ image: build.tag, source: build.source }, `building ${build.tag} (${build.source})`);
    const tail: string[] = [];
    let lastLog = 0;
    const line = (text: string): void => {
      for (const l of text.split(/\r?\n/)) {
        const t = l.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').trimEnd();
        if (t === '') continue;
        tail.push(t);
        if (tail.length > BUILD_TAIL_LINES) tail.shift();
        onLine(t);
        const step = /^Step \d+\/\d+ :/.test(t);
        if (step || Date.now() - lastLog >= PULL_PROGRESS_EVERY_MS) {
          lastLog = Date.now();
          this.#log?.info({ image: build.tag, line: clipText(t, 300) }, `building ${build.tag}`);
        }
      }
    };
    const started = Date.now();
    try {
      const stream = await this.docker.buildImage(Readable.from([tar]), {
        t: build.tag,
        dockerfile: build.dockerfile,
        buildargs: build.args,
        labels: build.labels,
        ...(build.extraHosts.length ? { extrahosts: build.extraHosts.join(',') } : {}),
        rm: true,
        forcerm: true,
        pull: false,
        version: '1',
      } as Docker.ImageBuildOptions);
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(
          stream,
          (e: Error | null, out: { error?: string; errorDetail?: { message?: string } }[] | undefined) => {
            const failed = e ?? out?.find((o) => o.error)?.error;
            if (failed) reject(failed instanceof Error ? failed : new Error(failed));
            else resolve();
          },
          (p: { stream?: string; status?: string; error?: string }) => {
            if (p.stream) line(p.stream);
            else if (p.status) line(p.status);
            if (p.error) line(p.error);
          },
        );
      });
    } catch (err) {
      const last = tail.slice(-BUILD_TAIL_IN_ERROR).join(' | ') || errorMessage(err);
      throw new ReconcilerError(ErrorCode.BuildFailed, `build of ${build.tag} (${build.source}) failed: ${last}`, {
        location: `image:${build.tag}`,
        retryable: false,
        cause: err,
      });
    }
    try {
      await this.docker.getImage(build.tag).inspect();
    } catch (err) {
      const last = tail.slice(-BUILD_TAIL_IN_ERROR).join(' | ');
      throw new ReconcilerError(ErrorCode.BuildFailed, `build of ${build.tag} ended without the image: ${last}`, {
        location: `image:${build.tag}`,
        cause: err,
      });
    }
    this.#log?.info({ image: build.tag, ms: Date.now() - started }, `built ${build.tag} (${build.source})`);
  }

  /** A build's base image: present, or pulled when images.pull allows it. */
  async #ensureBase(base: string, build: BuildSpec): Promise<void> {
    try {
      await this.ensureImage(base);
    } catch (err) {
      const hint = this.#pull === 'never' ? ' (tests: scripts/images/build-package-bases.sh builds the local bases)' : '';
      throw new ReconcilerError(ErrorCode.ImageUnavailable, `base image of ${build.tag} (${build.source}): ${errorMessage(err)}${hint}`, {
        location: `image:${base}`,
        retryable: false,
        cause: err,
      });
    }
  }

  async removeImage(id: string): Promise<void> {
    try {
      await this.docker.getImage(id).remove({ noprune: false });
    } catch (err) {
      if (statusOf(err) === 404) return;
      throw dockerError(`remove image ${id}`, err, `image:${id}`);
    }
  }

  async createNetwork(name: string, labels: Record<string, string>, opts: { internal?: boolean } = {}): Promise<void> {
    try {
      await this.docker.createNetwork({
        Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels, Internal: opts.internal === true,
      });
    } catch (err) {
      if (statusOf(err) === 409) return; // created meanwhile: fine
      throw dockerError(`create network ${name}`, err, `network:${name}`);
    }
  }

  async connectNetwork(network: string, container: string, aliases: string[]): Promise<void> {
    try {
      await this.docker.getNetwork(network).connect({ Container: container, EndpointConfig: { Aliases: aliases } });
    } catch (err) {
      // 403 "endpoint ... already exists in network": attached already.
      if (statusOf(err) === 403 && /already exists/.test(errorMessage(err))) return;
      throw dockerError(`connect ${container} to ${network}`, err, `network:${network}`);
    }
  }

  async disconnectNetwork(network: string, container: string): Promise<void> {
    try {
      await this.docker.getNetwork(network).disconnect({ Container: container, Force: true });
    } catch (err) {
      if (statusOf(err) === 404 || (statusOf(err) === 403 && /not connected/.test(errorMessage(err)))) return;
      throw dockerError(`disconnect ${container} from ${network}`, err, `network:${network}`);
    }
  }

  async removeNetwork(name: string): Promise<void> {
    try {
      await this.docker.getNetwork(name).remove();
    } catch (err) {
      if (statusOf(err) === 404) return;
      throw dockerError(`remove network ${name}`, err, `network:${name}`);
    }
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    try {
      await this.docker.createVolume({ Name: name, Labels: labels });
    } catch (err) {
      throw dockerError(`create volume ${name}`, err, `volume:${name}`);
    }
  }

  async ensureImage(image: string): Promise<void> {
    try {
      await this.docker.getImage(image).inspect();
      return;
    } catch (err) {
      if (statusOf(err) !== 404) throw dockerError(`inspect image ${image}`, err);
    }
    if (this.#pull === 'never') {
      throw new ReconcilerError(
        ErrorCode.ImageUnavailable,
        `image ${image} is not present locally and images.pull is "never": build or load it first (the test images: scripts/images/)`,
        { location: `image:${image}`, retryable: false },
      );
    }
    try {
      await this.#download(image);
    } catch (err) {
      throw new ReconcilerError(
        ErrorCode.ImageUnavailable,
        `image ${image} is not present locally and could not be pulled: ${errorMessage(err).split('\n')[0]}`,
        { location: `image:${image}`, retryable: false, cause: err },
      );
    }
  }

  /** `apply --pull`: fetch the reference from its registry even when present; the local id after. */
  async pull(image: string): Promise<string> {
    if (this.#pull === 'never') {
      throw new ReconcilerError(ErrorCode.ImageUnavailable, `images.pull is "never": not pulling ${image}`, { location: `image:${image}` });
    }
    try {
      await this.#download(image);
      return (await this.docker.getImage(image).inspect()).Id;
    } catch (err) {
      throw new ReconcilerError(ErrorCode.ImageUnavailable, `could not pull ${image}: ${errorMessage(err).split('\n')[0]}`, {
        location: `image:${image}`,
        cause: err,
      });
    }
  }

  async #download(image: string): Promise<void> {
    this.#log?.info({ image }, `pulling ${image}`);
    const stream = await this.docker.pull(image);
    let lastLog = 0;
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (e: Error | null) => (e ? reject(e) : resolve()),
        (p: { status?: string; id?: string; progress?: string }) => {
          if (Date.now() - lastLog < PULL_PROGRESS_EVERY_MS) return;
          lastLog = Date.now();
          this.#log?.info({ image, layer: p.id, status: p.status, progress: p.progress }, `pulling ${image}`);
        },
      );
    });
    this.#log?.info({ image }, `pulled ${image}`);
  }

  async create(spec: ContainerSpec, name: string = spec.name): Promise<string> {
    const env: Record<string, string> = {};
    for (const f of spec.envFiles) Object.assign(env, readEnvFile(f));
    for (const e of spec.envFromFiles ?? []) {
      const v = readEnvFile(e.file)[e.key];
      if (v !== undefined) env[e.as] = v;
    }
    Object.assign(env, spec.env); // like compose: `environment` wins over `env_file`
    const [first, ...rest] = spec.networks;
    const portKey = spec.exposedPort !== undefined ? `${spec.exposedPort}/tcp` : undefined;
    const h = spec.hardening;
    let id: string | undefined;
    try {
      const container = await this.docker.createContainer({
        name,
        // The container's own hostname is its DNS name on mcp-net (DBHub, for one, allows its
        // hostname in its Host-header check).
        Hostname: spec.name,
        Image: spec.image,
        ...(spec.cmd ? { Cmd: spec.cmd } : {}),
        ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
        ...(h.user ? { User: h.user } : {}),
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        Labels: spec.labels,
        ...(spec.stdin ? { OpenStdin: true, StdinOnce: false, Tty: false, AttachStdin: false } : {}),
        ...(portKey ? { ExposedPorts: { [portKey]: {} } } : {}),
        ...(spec.healthcheck
          ? {
              Healthcheck: {
                Test: spec.healthcheck.test,
                Interval: spec.healthcheck.intervalS * 1e9,
                Timeout: spec.healthcheck.timeoutS * 1e9,
                StartPeriod: spec.healthcheck.startPeriodS * 1e9,
                Retries: spec.healthcheck.retries,
              },
            }
          : {}),
        HostConfig: {
          Init: spec.init,
          RestartPolicy: { Name: spec.restart },
          Binds: spec.binds,
          ...(spec.groupAdd?.length ? { GroupAdd: spec.groupAdd } : {}),
          Mounts: spec.volumes.map((v) => ({ Type: 'volume' as const, Source: v.name, Target: v.target, ReadOnly: false })),
          ReadonlyRootfs: h.readOnlyRootFilesystem,
          Tmpfs: Object.fromEntries(h.tmpfs.map((t) => [t, 'rw,nosuid,nodev,size=64m'])),
          CapDrop: h.capDrop,
          CapAdd: h.capAdd,
          SecurityOpt: h.noNewPrivileges ? ['no-new-privileges:true'] : [],
          ...(h.memoryBytes !== null ? { Memory: h.memoryBytes } : {}),
          ...(h.pids !== null ? { PidsLimit: h.pids } : {}),
          ...(h.nanoCpus !== null ? { NanoCpus: h.nanoCpus } : {}),
          LogConfig: { Type: 'json-file', Config: { 'max-size': h.logMaxSize, 'max-file': String(h.logMaxFiles) } },
          ...(portKey && spec.publish
            ? {
                PortBindings: {
                  [portKey]: [{
                    HostIp: spec.publish.hostIp,
                    HostPort: spec.publish.hostPort === null ? '' : String(spec.publish.hostPort),
                  }],
                },
              }
            : {}),
          ...(first ? { NetworkMode: first.name } : {}),
        },
        ...(first ? { NetworkingConfig: { EndpointsConfig: { [first.name]: { Aliases: first.aliases } } } } : {}),
      });
      id = container.id;
      for (const n of rest) {
        await this.docker.getNetwork(n.name).connect({ Container: id, EndpointConfig: { Aliases: n.aliases } });
      }
      return id;
    } catch (err) {
      if (id) await this.remove(id).catch(() => undefined);
      if (err instanceof ReconcilerError) throw err;
      throw dockerError(`create ${name}`, err, `container:${spec.name}`);
    }
  }

  async start(id: string): Promise<void> {
    const c = this.docker.getContainer(id);
    try {
      // A container paused behind our back is put back by unpausing it (start would fail).
      const i = await c.inspect();
      if (i.State.Paused) {
        await c.unpause();
        return;
      }
      await c.start();
    } catch (err) {
      if (statusOf(err) === 304) return;
      throw dockerError(`start ${id.slice(0, 12)}`, err);
    }
  }

  async stop(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: STOP_TIMEOUT_S });
    } catch (err) {
      if (statusOf(err) === 304 || statusOf(err) === 404) return;
      throw dockerError(`stop ${id.slice(0, 12)}`, err);
    }
  }

  async rename(id: string, name: string): Promise<void> {
    try {
      await this.docker.getContainer(id).rename({ name });
    } catch (err) {
      throw dockerError(`rename ${id.slice(0, 12)} to ${name}`, err);
    }
  }

  async waitRunning(id: string, settleMs: number): Promise<void> {
    const c = this.docker.getContainer(id);
    const deadline = Date.now() + settleMs;
    for (;;) {
      let info: Docker.ContainerInspectInfo;
      try {
        info = await c.inspect();
      } catch (err) {
        throw dockerError(`inspect ${id.slice(0, 12)}`, err);
      }
      if (!info.State.Running || info.State.Restarting || info.RestartCount > 0) {
        let last = '';
        try {
          const logs = (await c.logs({ stdout: true, stderr: true, tail: 5 })) as unknown as Buffer;
          last = demuxLogs(logs).trim().split('\n').pop() ?? '';
        } catch {
          /* logs are a courtesy */
        }
        // `exited 1: <last log line>`: the reason the Progressing condition shows.
        const how = info.State.Restarting || info.RestartCount > 0 ? 'keeps restarting' : `exited ${info.State.ExitCode}`;
        throw new ReconcilerError(
          ErrorCode.DockerOperationFailed,
          `${how}${last ? `: ${clipText(last, 200)}` : ' (no log output)'}`,
          { retryable: false },
        );
      }
      if (Date.now() >= deadline) return;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  async remove(id: string): Promise<void> {
    await this.stop(id);
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (err) {
      if (statusOf(err) !== 404) throw dockerError(`remove ${id.slice(0, 12)}`, err);
    }
  }

  async inspectByName(name: string): Promise<{ id: string; startedAt: number; running: boolean } | null> {
    try {
      const i = await this.docker.getContainer(name).inspect();
      return { id: i.Id, startedAt: Date.parse(i.State.StartedAt), running: i.State.Running };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw dockerError(`inspect ${name}`, err);
    }
  }


  /**
   * Container `name`'s log through the Engine API (`GET /containers/{name}/logs`, timestamps on), split
   * into lines per stream (docker-modem demultiplexes; a TTY container's raw log is all stdout).
   */
  async *readLog(name: string, opts: LogOptions): AsyncGenerator<LogLine> {
    const tail = opts.tail === 'all' ? {} : { tail: opts.tail };
    const query = { stdout: true, stderr: true, timestamps: true, abortSignal: opts.signal, ...tail };
    let raw: NodeJS.ReadableStream;
    try {
      raw = opts.follow
        ? await this.docker.getContainer(name).logs({ ...query, follow: true })
        : Readable.from([await this.docker.getContainer(name).logs({ ...query, follow: false })]);
    } catch (err) {
      if (opts.signal.aborted) return;
      throw dockerError(`logs ${name}`, err);
    }
    const queue: LogLine[] = [];
    let done = false;
    let failed: unknown = null;
    let wake: (() => void) | null = null;
    const notify = (): void => {
      wake?.();
      wake = null;
    };
    const partial = { stdout: '', stderr: '' };
    const sink = (stream: LogLine['stream']) => ({
      write: (chunk: Buffer): boolean => {
        const lines = (partial[stream] + chunk.toString('utf8')).split('\n');
        partial[stream] = lines.pop() ?? '';
        for (const l of lines) queue.push(logLine(stream, l));
        notify();
        return true;
      },
    });
    // demuxStream only calls write() on its two outputs, frame by frame, in order.
    const out = sink('stdout') as unknown as NodeJS.WritableStream;
    const err = sink('stderr') as unknown as NodeJS.WritableStream;
    this.docker.modem.demuxStream(raw, out, err);
    raw.on('end', () => {
      done = true;
      notify();
    });
    raw.on('error', (err: unknown) => {
      if (!opts.signal.aborted) failed = err;
      done = true;
      notify();
    });
    const onAbort = (): void => {
      done = true;
      (raw as Readable).destroy?.();
      notify();
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift() as LogLine;
        if (done) break;
        await new Promise<void>((r) => (wake = r));
      }
      while (queue.length > 0) yield queue.shift() as LogLine;
      for (const stream of ['stdout', 'stderr'] as const) {
        if (partial[stream] && !opts.signal.aborted) yield logLine(stream, partial[stream]);
      }
      if (failed) throw dockerError(`logs ${name}`, failed);
    } finally {
      opts.signal.removeEventListener('abort', onAbort);
      (raw as Readable).destroy?.();
    }
  }

  /**
   * Follow Docker events for our containers and call `onEvent` for each (a hint to reconcile).
   * When the stream breaks (dockerd restarted, socket gone) it reconnects with a capped backoff
   * (EVENTS_BACKOFF) that resets once a stream is established, until `signal` aborts. `hooks.lost`
   * hears every failed attempt; `hooks.connected` hears a stream established after a loss.
   */
  async watchEvents(
    onEvent: (e: RuntimeEvent) => void,
    signal: AbortSignal,
    hooks: EventHooks = {},
    backoffOpts: BackoffOptions = EVENTS_BACKOFF,
  ): Promise<void> {
    const backoff = new Backoff(backoffOpts);
    let attempt = 0;
    while (!signal.aborted) {
      let stream: (NodeJS.ReadableStream & { destroy?: () => void }) | null = null;
      try {
        stream = (await this.docker.getEvents({
          filters: { type: ['container'], label: [`${Labels.ManagedBy}=${MANAGED_BY}`] },
        })) as NodeJS.ReadableStream & { destroy?: () => void };
      } catch (err) {
        if (signal.aborted) break;
        attempt++;
        const waitMs = backoff.next();
        hooks.lost?.({ attempt, err: errorMessage(err), nextInMs: waitMs });
        await abortableSleep(waitMs, signal);
        continue;
      }
      if (attempt > 0) hooks.connected?.({ afterAttempts: attempt });
      attempt = 0;
      backoff.reset();
      let ended = 'event stream ended';
      const s = stream;
      const stop = (): void => s.destroy?.();
      signal.addEventListener('abort', stop, { once: true });
      try {
        let buf = '';
        for await (const chunk of s as AsyncIterable<Buffer>) {
          buf += chunk.toString('utf8');
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            try {
              const e = JSON.parse(line) as { Action?: string; Actor?: { Attributes?: Record<string, string> } };
              onEvent({ action: e.Action ?? '?', container: e.Actor?.Attributes?.['name'] ?? '?' });
            } catch {
              /* a partial or foreign line: events are hints only */
            }
          }
        }
      } catch (err) {
        ended = errorMessage(err);
      } finally {
        signal.removeEventListener('abort', stop);
      }
      if (signal.aborted) break; // our own stop is not a loss
      attempt++;
      hooks.lost?.({ attempt, err: ended, nextInMs: 0 }); // first retry at once: it is usually a fresh dockerd
    }
  }
}

/** What the event follower reports while Docker is away and when it is back. */
export interface EventHooks {
  lost?: (info: { attempt: number; err: string; nextInMs: number }) => void;
  connected?: (info: { afterAttempts: number }) => void;
}

export interface BackoffOptions {
  initialMs: number;
  factor: number;
  maxMs: number;
}

/** Reconnect backoff of the Docker event stream: 250 ms doubling to 2 s. */
export const EVENTS_BACKOFF: BackoffOptions = { initialMs: 250, factor: 2, maxMs: 2_000 };

/** Capped exponential backoff; `reset()` after a success starts over from `initialMs`. */
export class Backoff {
  #n = 0;
  constructor(readonly opts: BackoffOptions) {}
  next(): number {
    const ms = Math.min(this.opts.maxMs, this.opts.initialMs * this.opts.factor ** this.#n);
    this.#n++;
    return ms;
  }
  reset(): void {
    this.#n = 0;
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** `node` -> `node:latest`, `docker.io/library/node:20` -> `node:20`: the form of `RepoTags`. */
export function normalizeImageRef(ref: string): string {
  let r = ref.replace(/^docker\.io\//, '').replace(/^index\.docker\.io\//, '').replace(/^library\//, '');
  if (r.includes('@')) return r;
  const lastSlash = r.lastIndexOf('/');
  if (!r.slice(lastSlash + 1).includes(':')) r = `${r}:latest`;
  return r;
}

/** The local image id of each reference (by tag or digest), from one `GET /images/json`. */
export function localImageIds(
  refs: readonly string[],
  images: readonly Pick<Docker.ImageInfo, 'Id' | 'RepoTags' | 'RepoDigests'>[],
): Record<string, string | null> {
  const byRef = new Map<string, string>();
  for (const img of images) {
    for (const t of [...(img.RepoTags ?? []), ...(img.RepoDigests ?? [])]) byRef.set(normalizeImageRef(t), img.Id);
  }
  return Object.fromEntries(refs.map((r) => [r, byRef.get(normalizeImageRef(r)) ?? null]));
}

/** Docker multiplexes stdout/stderr of a non-TTY container in frames with an 8-byte header. */
export function demuxLogs(buf: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 0 || buf[i] === 1 || buf[i] === 2)) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return i === 0 ? buf.toString('utf8') : Buffer.concat(out).toString('utf8');
}
