import Docker from 'dockerode';
import type { ContainerRuntime } from '../ports/index.js';
import type { ContainerSpec, ObservedContainer } from '../reconcile/types.js';
import { ReconcilerError, ErrorCode, errorMessage } from '../errors/index.js';
import { readEnvFile } from '../desired/env-file.js';
import { Labels, isOwned, parseRole } from './labels.js';

/** Grace period before Docker kills a container on stop (Init: true makes this ~0.1 s in practice). */
export const STOP_TIMEOUT_S = 5;

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

/** The one real ContainerRuntime, over the Docker Engine API (dockerode, /var/run/docker.sock). */
export class DockerRuntime implements ContainerRuntime {
  readonly docker: Docker;

  constructor(docker: Docker = new Docker()) {
    this.docker = docker;
  }

  async observe(q: { namePrefix: string; instance: string; network: string }): Promise<{
    networkExists: boolean;
    containers: ObservedContainer[];
  }> {
    const [list, networks] = await Promise.all([
      this.docker.listContainers({ all: true }),
      this.docker.listNetworks({ filters: { name: [q.network] } }),
    ]);
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
        state: c.State,
        running: c.State === 'running',
        owned,
        role: owned ? parseRole(c.Labels[Labels.Role]) : null,
        server: owned ? (c.Labels[Labels.Server] ?? null) : null,
        specHash: owned ? (c.Labels[Labels.SpecHash] ?? null) : null,
        source: owned ? (c.Labels[Labels.Source] ?? null) : null,
        hostPorts,
      });
    }
    return { networkExists: networks.some((n) => n.Name === q.network), containers };
  }

  async createNetwork(name: string, labels: Record<string, string>): Promise<void> {
    try {
      await this.docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels });
    } catch (err) {
      if (statusOf(err) === 409) return; // created meanwhile: fine
      throw new ReconcilerError(ErrorCode.DockerOperationFailed, `create network ${name}: ${errorMessage(err)}`, {
        location: `network:${name}`,
        retryable: true,
        cause: err,
      });
    }
  }

  async ensureImage(image: string): Promise<void> {
    try {
      await this.docker.getImage(image).inspect();
      return;
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    try {
      const stream = await this.docker.pull(image);
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve()));
      });
    } catch (err) {
      throw new ReconcilerError(
        ErrorCode.ImageUnavailable,
        `image ${image} is not present locally and could not be pulled: ${errorMessage(err).split('\n')[0]}`,
        { location: `image:${image}`, retryable: true, cause: err },
      );
    }
  }

  async createAndStart(spec: ContainerSpec): Promise<string> {
    const env: Record<string, string> = {};
    for (const f of spec.envFiles) Object.assign(env, readEnvFile(f));
    Object.assign(env, spec.env); // like compose: `environment` wins over `env_file`
    const [first, ...rest] = spec.networks;
    const portKey = spec.exposedPort !== undefined ? `${spec.exposedPort}/tcp` : undefined;
    let id: string | undefined;
    try {
      const container = await this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        ...(spec.cmd ? { Cmd: spec.cmd } : {}),
        ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        Labels: spec.labels,
        ...(portKey ? { ExposedPorts: { [portKey]: {} } } : {}),
        HostConfig: {
          Init: spec.init,
          RestartPolicy: { Name: spec.restart },
          Binds: spec.binds,
          ...(portKey && spec.publish
            ? {
                PortBindings: {
                  [portKey]: [{ HostIp: spec.publish.hostIp, HostPort: spec.publish.hostPort === null ? '' : String(spec.publish.hostPort) }],
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
      await container.start();
      return id;
    } catch (err) {
      if (id) await this.remove(id).catch(() => undefined);
      if (err instanceof ReconcilerError) throw err;
      throw new ReconcilerError(ErrorCode.DockerOperationFailed, `create ${spec.name}: ${errorMessage(err)}`, {
        location: `container:${spec.name}`,
        retryable: true,
        cause: err,
      });
    }
  }

  async start(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      if (statusOf(err) === 304) return;
      throw new ReconcilerError(ErrorCode.DockerOperationFailed, `start ${id.slice(0, 12)}: ${errorMessage(err)}`, {
        retryable: true,
        cause: err,
      });
    }
  }

  async remove(id: string): Promise<void> {
    const c = this.docker.getContainer(id);
    try {
      await c.stop({ t: STOP_TIMEOUT_S });
    } catch (err) {
      if (statusOf(err) !== 304 && statusOf(err) !== 404) throw err;
    }
    try {
      await c.remove({ force: true });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }

  /** Host port Docker picked for a container port (published on 127.0.0.1 for probes). */
  async hostPort(id: string, containerPort: number): Promise<number | null> {
    const info = await this.docker.getContainer(id).inspect();
    const b = info.NetworkSettings.Ports?.[`${containerPort}/tcp`]?.[0];
    return b ? Number(b.HostPort) : null;
  }
}
