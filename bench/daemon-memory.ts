// Bench case `daemon-memory`: the daemon's RSS with 100 and 500 servers, measured in a process of
// its own (bench/daemon-child.ts loads the daemon's modules, runs reconcile passes and probe cycles
// with real direct MCP probes; Docker is the in-memory runtime), read from /proc/<pid>/status.
// Beside it in the same run: the same child with Node's default heap settings (without the unit's
// NODE_OPTIONS), and a bare Node process.
import { spawn } from 'node:child_process';
import type { BenchCase, BenchRow } from './case.js';
import { daemonNodeOptions, procRssBytes, startDaemonChild, startHostServers } from './daemon-process.js';

const PASSES = 3;
const PROBE_CYCLES = 2;
const TARGET_MIB_AT_100 = 120;
const mib = (b: number): string => (b / 1048576).toFixed(0);

/** RSS of the daemon child after passes and probe cycles. */
async function daemonRss(servers: number, ports: number[], nodeOptions: string): Promise<number> {
  const d = await startDaemonChild({ servers, ports, nodeOptions });
  try {
    for (let i = 0; i < PASSES; i++) await d.send('pass');
    for (let i = 0; i < PROBE_CYCLES; i++) {
      const a = await d.send('probe');
      if (a['ready'] !== servers) throw new Error(`only ${a['ready']} of ${servers} servers answered MCP`);
    }
    await d.send('memory'); // a full GC first: what stays resident, not what waits for collection
    return procRssBytes(d.pid);
  } finally {
    d.close();
  }
}

/** RSS of a Node process that loads nothing. */
async function bareNodeRss(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 1000)'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 500));
    return procRssBytes(child.pid as number);
  } finally {
    child.kill();
  }
}

export const daemonMemory: BenchCase = {
  id: 'daemon-memory',
  title: "the daemon's RSS with 100 and 500 servers, in a process of its own (no bench harness in it)",
  unit: 'MiB',
  target: `<= ${TARGET_MIB_AT_100} MiB at 100 servers`,
  needs: 'node',
  async run() {
    const rows: BenchRow[] = [];
    const data: Record<string, unknown> = { nodeOptions: daemonNodeOptions(), bareNodeRss: await bareNodeRss() };
    for (const n of [100, 500]) {
      const servers = await startHostServers(n);
      try {
        const shipped = await daemonRss(n, servers.ports, daemonNodeOptions());
        const defaults = await daemonRss(n, servers.ports, '');
        const target = n === 100 ? `; target <= ${TARGET_MIB_AT_100} MiB ${shipped / 1048576 <= TARGET_MIB_AT_100 ? 'met' : 'MISSED'}` : '';
        rows.push({
          what: `daemon RSS, ${n} servers (${PASSES} passes, ${PROBE_CYCLES} probe cycles, own process)`,
          value: `${mib(shipped)} MiB`,
          baseline: `Node defaults ${mib(defaults)} MiB; bare Node ${mib(data['bareNodeRss'] as number)} MiB`,
          note: `NODE_OPTIONS=${daemonNodeOptions() || '(none)'} as the unit sets it${target}`,
        });
        data[String(n)] = { rss: shipped, rssNodeDefaults: defaults };
      } finally {
        servers.close();
      }
    }
    return { rows, data };
  },
};
