import type { ContainerSpec, ObservedContainer } from '../reconcile/types.js';

/** Docker as the reconciler needs it. One real adapter: docker/runtime.ts (dockerode). */
export interface ContainerRuntime {
  /** Containers that are ours (owner label + instance) or carry our name prefix, and the network. */
  observe(q: { namePrefix: string; instance: string; network: string }): Promise<{
    networkExists: boolean;
    containers: ObservedContainer[];
  }>;
  createNetwork(name: string, labels: Record<string, string>): Promise<void>;
  /** Image present locally, pulled if missing; throws ImageUnavailable naming the image. */
  ensureImage(image: string): Promise<void>;
  /** Create (already labelled) and start; env files are read here and nowhere earlier. */
  createAndStart(spec: ContainerSpec): Promise<string>;
  start(id: string): Promise<void>;
  /** Stop (short grace period) and remove. Callers guarantee the container is owned. */
  remove(id: string): Promise<void>;
}

/** config.yaml on disk. One real adapter: litellm/file-store.ts. */
export interface ConfigStore {
  read(path: string): string | null;
  /** temp file in the same folder, fsync, rename. */
  writeAtomic(path: string, text: string): void;
}

/** Waits for the gateway after a (re)start. One real adapter: litellm/gateway-client.ts. */
export interface GatewayReadiness {
  waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void>;
}
