// The bench's handle on bench/daemon-child.ts (the daemon's work in a process of its own) and on
// the host MCP servers of bench/many-servers.ts: spawn, send a command, read CPU and RSS from /proc.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const here = dirname(fileURLToPath(import.meta.url));
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU time (user + system) of a process, in ms, from /proc/<pid>/stat (clock-tick resolution). */
export function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // utime, stime (fields 14, 15)
}

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
export function procRssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

/** The NODE_OPTIONS the shipped systemd unit gives the daemon (systemd/mcp-reconciler.service). */
export function daemonNodeOptions(): string {
  const unit = readFileSync(join(here, '../../systemd/mcp-reconciler.service'), 'utf8');
  return /^Environment=NODE_OPTIONS=(.*)$/m.exec(unit)?.[1]?.trim() ?? '';
}

export interface DaemonChild {
  pid: number;
  send(cmd: 'pass' | 'probe' | 'memory'): Promise<Record<string, number>>;
  close(): void;
}

/** Start bench/daemon-child.js with `servers` desired files (direct probes to `ports`, GatewayReady through `gatewayUrl`). */
export async function startDaemonChild(opts: {
  servers: number;
  ports?: number[];
  gatewayUrl?: string;
  /** Written into each desired file's health: (default: the schema's). */
  gatewayIntervalSeconds?: number;
  /** false: a fresh MCP session at every probe (default: the daemon's kept sessions). */
  keepSessions?: boolean;
  masterKey?: string;
  /** NODE_OPTIONS of the child; default: the shipped unit's (daemonNodeOptions). */
  nodeOptions?: string;
}): Promise<DaemonChild> {
  const { nodeOptions, masterKey, ...args } = opts;
  const child = spawn(process.execPath, ['--expose-gc', join(here, 'daemon-child.js'), JSON.stringify(args)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: nodeOptions ?? daemonNodeOptions(), ...(masterKey ? { BENCH_MASTER_KEY: masterKey } : {}) },
  });
  const lines = createInterface({ input: child.stdout as NonNullable<ChildProcess['stdout']> })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, number>> => {
    const r = await lines.next();
    if (r.done) throw new Error('bench daemon child exited');
    return JSON.parse(r.value) as Record<string, number>;
  };
  await next(); // ready
  return {
    pid: child.pid as number,
    send: async (cmd) => {
      child.stdin?.write(`${cmd}\n`);
      return next();
    },
    close: () => {
      child.stdin?.end();
      child.kill();
    },
  };
}

/** N stateless MCP servers (bench/many-servers.js) on 127.0.0.1 in a child process; their ports. */
export async function startHostServers(n: number): Promise<{ ports: number[]; close(): void }> {
  const child = spawn(process.execPath, [join(here, 'many-servers.js'), String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise<number[]>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0] as string) as number[]);
    });
    child.once('exit', () => reject(new Error('bench servers exited')));
  });
  return { ports, close: () => void child.kill() };
}
