import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import Docker from 'dockerode';
import { Labels, isOwned } from './labels.js';

/** A JSON-RPC pipe to a stdio MCP server's process, over the Docker attach API. */
export interface StdioPipe {
  send(message: unknown): void;
  /** Resolves when the attach stream ends (the process exited or the container stopped). */
  closed: Promise<void>;
  close(): void;
}

/** Why a container cannot be attached; `permanent`: waiting will not help (missing, not ours, not stdio). */
export class NotAttachable extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/**
 * Attach to the stdin/stdout of an owned stdio container (OpenStdin, no TTY). stdout carries
 * newline-delimited JSON-RPC; stderr is the server's log (kept, not parsed). Only one consumer
 * may attach at a time (docker-here.md): the edge is that consumer.
 */
export async function attachStdio(
  docker: Docker,
  name: string,
  instance: string,
  onMessage: (m: unknown) => void,
  onStderr?: (line: string) => void,
): Promise<StdioPipe> {
  const c = docker.getContainer(name);
  const info = await c.inspect().catch(() => null);
  if (!info) throw new NotAttachable(`${name} does not exist`, true);
  if (!isOwned(info.Config.Labels ?? undefined, instance) || info.Config.Labels?.[Labels.Role] !== 'server') {
    throw new NotAttachable(`${name} is not a server managed by mcp-reconciler`, true);
  }
  if (!info.Config.OpenStdin || info.Config.Tty) throw new NotAttachable(`${name} is not a stdio server (no open stdin)`, true);
  if (!info.State.Running) throw new NotAttachable(`${name} is not running (${info.State.Status})`, false);
  const stream = (await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as NodeJS.ReadWriteStream & {
    destroy(): void;
    end(): void;
  };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(stream, stdout, stderr);
  createInterface({ input: stdout }).on('line', (line) => {
    const t = line.trim();
    if (!t.startsWith('{')) return; // a server printing non-JSON to stdout: not a message
    try {
      onMessage(JSON.parse(t));
    } catch {
      /* a broken line is dropped; the request it answered times out or fails on exit */
    }
  });
  if (onStderr) createInterface({ input: stderr }).on('line', onStderr);
  const closed = new Promise<void>((resolve) => {
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    stream.once('error', () => resolve());
  });
  return {
    send: (m) => {
      stream.write(`${JSON.stringify(m)}\n`);
    },
    closed,
    close: () => stream.destroy(),
  };
}

/** Wait until a container runs again (Docker's restart policy), polling, within a deadline. */
export async function waitRunning(docker: Docker, name: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const i = await docker.getContainer(name).inspect().catch(() => null);
    if (i?.State.Running && !i.State.Restarting) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
