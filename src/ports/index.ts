import type { BuildSpec, ContainerSpec, ObservedContainer, ObservedImage, ObservedNetwork, ObservedVolume } from '../model/types.js';

/** What one observation asks Docker for. */
export interface ObserveQuery {
  namePrefix: string;
  instance: string;
  network: string;
  images?: readonly string[];
}

/** One observation of Docker, labels already parsed. */
export interface RuntimeSnapshot {
  networkExists: boolean;
  /** Ours, or named like a server network (`<network>.<name>`). */
  networks: ObservedNetwork[];
  containers: ObservedContainer[];
  volumes: ObservedVolume[];
  /** Local image id per asked reference; null when not present locally. */
  imageIds: Record<string, string | null>;
  /** Images this instance built (ADR 0023); absent when images were not listed. */
  builtImages?: ObservedImage[];
}

/** One line of a build's output (`Step 3/7 : RUN npm install`, an npm or pip line), as it comes. */
export type BuildProgress = (line: string) => void;

/** Docker as the reconciler needs it. One real adapter: docker/runtime.ts (dockerode). */
export interface ContainerRuntime {
  /**
   * Containers that are ours (owner label + instance) or carry our name prefix, the network, and
   * the local image id of each reference in `images` (null when not present locally).
   */
  observe(q: ObserveQuery): Promise<RuntimeSnapshot>;
  /** A bridge network, labelled; `internal`: no route out of the host (Docker `Internal`). */
  createNetwork(name: string, labels: Record<string, string>, opts?: { internal?: boolean }): Promise<void>;
  /** Attach a running or created container (by name) to a network; already attached is fine. */
  connectNetwork(network: string, container: string, aliases: string[]): Promise<void>;
  /** Detach; not attached is fine. */
  disconnectNetwork(network: string, container: string): Promise<void>;
  /** Remove an (owned, empty) network; already gone is fine. */
  removeNetwork(name: string): Promise<void>;
  createVolume(name: string, labels: Record<string, string>): Promise<void>;
  /** Pull `image` from its registry even when present (`apply --pull`); resolves to the local image id. */
  pull(image: string): Promise<string>;
  /** Image present locally, pulled if missing; throws ImageUnavailable naming the image. */
  ensureImage(image: string): Promise<void>;
  /**
   * Build `build.tag` from its context (read again here, safely; the hash must still match) with
   * Docker's classic builder, `onLine` getting each output line. Throws BuildFailed with the last
   * lines, or ImageUnavailable for a missing base image that may not be pulled.
   */
  buildImage(build: BuildSpec, onLine: BuildProgress): Promise<void>;
  /** Remove an image by id (an owned built one; the caller checked the labels). Gone already is fine. */
  removeImage(id: string): Promise<void>;
  /** Create (already labelled, not started) under `name`; env files are read here and nowhere earlier. */
  create(spec: ContainerSpec, name?: string): Promise<string>;
  start(id: string): Promise<void>;
  stop(id: string): Promise<void>;
  rename(id: string, name: string): Promise<void>;
  /**
   * Resolve when the container has stayed running (no exit, no restart) for `settleMs`; reject
   * with its exit code and last log line otherwise.
   */
  waitRunning(id: string, settleMs: number): Promise<void>;
  /** Stop (short grace period) and remove. Callers guarantee the container is owned. */
  remove(id: string): Promise<void>;
  /** A container by name, owned or not (only for gateway.restartContainer). */
  inspectByName(name: string): Promise<{ id: string; startedAt: number; running: boolean } | null>;
}

/** One line a container wrote, as Docker's log driver kept it. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, as Docker stamps it (sorts as text). */
  time: string;
  text: string;
}

export interface LogOptions {
  /** Keep following new lines until `signal` aborts. */
  follow: boolean;
  /** The last this many lines first ('all': the whole log). */
  tail: number | 'all';
  signal: AbortSignal;
}

/** A container's log (`docker logs`), read only. One real adapter: docker/runtime.ts; fake: testing/fake-runtime.ts. */
export interface ContainerLogs {
  /** Lines of container `name` in the order Docker has them; ends at the end of the log (or, following, on abort). */
  readLog(name: string, opts: LogOptions): AsyncIterable<LogLine>;
}

/** A hint that something changed in Docker (a container died, was removed, ...). */
export interface RuntimeEvent {
  action: string;
  container: string;
}

/** config.yaml on disk. One real adapter: litellm/file-store.ts. */
export interface ConfigStore {
  read(path: string): string | null;
  /** temp file in the same folder, fsync, rename. */
  writeAtomic(path: string, text: string): void;
  /** The same for a file another container reads (the edge's tool policy): 0644 in a 0755 folder. */
  writeShared(path: string, text: string): void;
  /** Last modification time in ms, null when missing. */
  mtime(path: string): number | null;
}

/** Waits for the gateway after a (re)start. One real adapter: litellm/gateway-client.ts. */
export interface GatewayReadiness {
  waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void>;
}

/** How a standby got ready: servers it lists nothing of, when it answered readiness and listed, how many listings it took. */
export interface StandbyReady {
  missing: string[];
  readyAfterMs: number;
  listedAfterMs: number;
  listings: number;
}

/** The blue/green handover through the front (ADR 0025). One real adapter: front/client.ts. */
export interface GatewayHandover {
  /** The colour answers readiness and lists the expected servers' tools (or, after a bound, at least what the active one lists). */
  waitReady(colour: 'blue' | 'green', expect: readonly string[], timeoutMs: number): Promise<StandbyReady>;
  /** The front sends to `to`, and `from` has no call in flight (bounded: then returns what is still in flight). */
  drain(from: 'blue' | 'green', to: 'blue' | 'green', timeoutMs: number): Promise<{ inflight: number }>;
}

/** LiteLLM's management API for MCP servers. One real adapter: litellm/api.ts. */
export interface GatewayApi {
  database(): Promise<'database' | 'no-database' | 'unreachable'>;
  list(): Promise<import('../model/types.js').ApiServerRow[]>;
  create(body: import('../litellm/api.js').NewApiServer): Promise<void>;
  delete(serverId: string): Promise<void>;
}

/** LiteLLM's virtual-key API (/key/*, needs its database; admin = master key). One real adapter: litellm/keys-api.ts. */
export interface KeyApi {
  /** POST /key/generate: the raw key (shown once, never stored by us) and its row. */
  generate(body: import('../model/types.js').NewVirtualKey): Promise<{ key: string; row: import('../model/types.js').VirtualKeyRow }>;
  /** POST /key/update {key, duration}: expires = now + duration (exact, unlike /key/generate's); the new expiry. */
  setDuration(token: string, duration: string): Promise<string | null>;
  /** GET /key/list?return_full_object=true, every page. */
  list(): Promise<import('../model/types.js').VirtualKeyRow[]>;
  /** POST /key/delete {key_aliases}; false when no key has that alias (LiteLLM answers 404). */
  deleteByAlias(alias: string): Promise<boolean>;
}
