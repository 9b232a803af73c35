import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';

/**
 * A unix-socket proxy in front of dockerd that a test (or the bench) controls: point a daemon at it
 * with `DOCKER_HOST=unix://<path>`, then `cut()` makes Docker unreachable for that daemon only
 * (new connections fail, open ones — the event stream included — are dropped) and `restore()`
 * brings it back. Stands in for a dockerd restart without touching the host's dockerd.
 * Not used by production code.
 */
export class DockerProxy {
  readonly path: string;
  readonly #upstream: string;
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  /** Connections accepted since start (a daemon that reconnects shows up here). */
  accepted = 0;

  constructor(path: string, upstream = '/var/run/docker.sock') {
    this.path = path;
    this.#upstream = upstream;
  }

  /** `DOCKER_HOST` value for a child process. */
  get dockerHost(): string {
    return `unix://${this.path}`;
  }

  get up(): boolean {
    return this.#server !== null;
  }

  /** Start (or restore) accepting and forwarding connections. */
  async restore(): Promise<void> {
    if (this.#server) return;
    if (existsSync(this.path)) unlinkSync(this.path);
    const server = createServer((client) => {
      this.accepted++;
      const upstream = createConnection(this.#upstream);
      this.#sockets.add(client);
      this.#sockets.add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
  }

  /** Docker "goes away": stop listening (connects fail) and drop every open connection. */
  async cut(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    await closed;
    if (existsSync(this.path)) unlinkSync(this.path);
  }

  async close(): Promise<void> {
    await this.cut();
  }
}
