// Bench case `stdio-bridge`: the stdio bridge against supergateway 4.0.0 (stateful and stateless,
// wrapper containers) and against the floor (an already-initialized stdio pipe), called the way
// LiteLLM calls (a new session per call), then the same through the real LiteLLM 1.77.3.
// Needs dockerd and the local images (scripts/setup.sh + build-supergateway.sh). Bounded counts.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import type { BenchCase, BenchRow } from './case.js';
import { pct, fmt, freePort, stackDir, cleanupStack } from './util.js';
import { request } from 'undici';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { loadSettings } from '../src/config/settings.js';
import { DockerRuntime } from '../src/docker/runtime.js';
import { FileConfigStore } from '../src/litellm/file-store.js';
import { LiteLLMGateway } from '../src/litellm/gateway-client.js';
import { createLogger } from '../src/log/logger.js';
import { Reconciler, masterKeyFrom } from '../src/reconcile/controller.js';



async function rpc(url: string, body: unknown, session?: string): Promise<{ session: string | undefined; text: string }> {
  const r = await request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await r.body.text();
  if (r.statusCode >= 400) throw new Error(`${url} ${r.statusCode}: ${text.slice(0, 200)}`);
  const sid = r.headers['mcp-session-id'];
  return { session: typeof sid === 'string' ? sid : session, text };
}

/** One call the way LiteLLM makes it: initialize, initialized, tools/call, and DELETE where the server gave a session. */
async function litellmStyleCall(url: string, i: number): Promise<number> {
  const t0 = performance.now();
  const init = await rpc(url, {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
  });
  await rpc(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, init.session);
  const call = await rpc(
    url,
    { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: `m${i}` } } },
    init.session,
  );
  if (!call.text.includes(`m${i}`)) throw new Error(`wrong answer: ${call.text.slice(0, 200)}`);
  if (init.session) {
    const d = await request(url, { method: 'DELETE', headers: { 'mcp-session-id': init.session } });
    await d.body.dump();
  }
  return performance.now() - t0;
}

/**
 * An MCP server in one line of Node that answers each message at once and gives no session (LiteLLM's
 * floor: without an Mcp-Session-Id its client sends no GET and no DELETE, the fewest requests a call
 * through it can take; ADR 0004).
 */
const INSTANT = [
  "require('http').createServer((q, s) => { let b = ''; q.on('data', (d) => (b += d)); q.on('end', () => {",
  "if (q.method === 'GET') return s.writeHead(405).end(); if (q.method !== 'POST') return s.writeHead(200).end(); const m = JSON.parse(b);",
  "if (m.id === undefined) return s.writeHead(202).end();",
  "const r = m.method === 'initialize' ? { protocolVersion: '2025-06-18', capabilities: { tools: {} }, " +
    "serverInfo: { name: 'instant', version: '1' } }",
  ": m.method === 'tools/list' ? { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] }",
  ": { content: [{ type: 'text', text: JSON.stringify(m.params && m.params.arguments) }] };",
  "s.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: r }));",
  "}); }).listen(3001);",
].join(' ');

/** The floor: one stdio pipe, initialized once, then tools/call round trips. */
async function floor(n: number): Promise<number[]> {
  const child = spawn('docker', ['run', '-i', '--rm', '--init', 'local/mcp-everything:test', 'node', 'dist/index.js', 'stdio'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  let buf = '';
  const waiters = new Map<number, () => void>();
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const m = JSON.parse(line) as { id?: number };
        if (m.id !== undefined) waiters.get(m.id)?.();
      } catch {
        /* not JSON */
      }
    }
  });
  const call = (id: number, method: string, params: unknown) =>
    new Promise<void>((resolve) => {
      waiters.set(id, resolve);
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  await call(0, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } });
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  const times: number[] = [];
  for (let i = 1; i <= n; i++) {
    const t0 = performance.now();
    await call(i, 'tools/call', { name: 'echo', arguments: { message: `m${i}` } });
    times.push(performance.now() - t0);
  }
  child.kill();
  return times;
}

async function run(rows: BenchRow[]): Promise<Record<string, unknown>> {
  const docker = new Docker();
  await docker.getImage('local/supergateway:bench').inspect().catch(() => {
    throw new Error('image local/supergateway:bench missing: bash scripts/images/build-supergateway.sh');
  });
  const id = `bench${randomBytes(2).toString('hex')}`;
  const { dir, settingsFile, key } = stackDir(id, { hostIp: '127.0.0.1', hostPort: await freePort() });
  const d = join(dir, 'projects', 'desired-state');
  writeFileSync(join(d, 'mcp-bridged.yaml'), 'image: local/mcp-everything:test\ntransport: stdio\ncommand: [node, dist/index.js, stdio]\n');
  writeFileSync(
    join(d, 'mcp-sgwstateful.yaml'),
    'image: local/supergateway:bench\ntransport: http\nport: 8000\ncommand: ["--stateful"]\nsecurity:\n  readOnlyRootFilesystem: false\n',
  );
  // LiteLLM's own floor: an HTTP MCP server that answers at once (the everything server's echo),
  // reached the same way (LiteLLM -> edge -> server), so the bridge's share is what is left over.
  writeFileSync(
    join(d, 'mcp-floor.yaml'),
    'image: local/mcp-everything:test\ntransport: http\nport: 3001\ncommand: [node, dist/index.js, streamableHttp]\nenv: {PORT: 3001}\n',
  );
  // The floor proper: a server that answers every message at once (raw JSON-RPC, no SDK, no session state),
  // so what is left of a call through LiteLLM is LiteLLM's own work and the edge's hop.
  writeFileSync(
    join(d, 'mcp-instant.yaml'),
    `image: local/mcp-everything:test\ntransport: http\nport: 3001\ncommand: [node, -e, ${JSON.stringify(INSTANT)}]\n`,
  );
  writeFileSync(
    join(d, 'mcp-sgwstateless.yaml'),
    'image: local/supergateway:bench\ntransport: http\nport: 8000\nsecurity:\n  readOnlyRootFilesystem: false\n',
  );
  const settings = loadSettings({ file: settingsFile, env: {} });
  const runtime = new DockerRuntime(docker);
  const gateway = new LiteLLMGateway(settings.gateway.url, () => masterKeyFrom(settings));
  const r = new Reconciler(settings, { runtime, config: new FileConfigStore(), gateway, log: createLogger({ level: 'silent' }) });
  try {
    await r.reconcile();
    const snap = await runtime.observe({ namePrefix: settings.namePrefix, instance: id, network: settings.network });
    const hostPort = (n: string, p: number) => snap.containers.find((c) => c.name === `${id}-${n}`)?.hostPorts[p];
    const bridged = `http://127.0.0.1:${hostPort('edge', 8080)}/${id}-bridged/stdio/mcp`;
    const stateful = `http://127.0.0.1:${hostPort('sgwstateful', 8000)}/mcp`;
    const stateless = `http://127.0.0.1:${hostPort('sgwstateless', 8000)}/mcp`;
    const series = async (url: string, n: number): Promise<number[]> => {
      await litellmStyleCall(url, -1); // warm-up (the bridge attaches and initializes here)
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(await litellmStyleCall(url, i));
      return out;
    };
    const a = {
      bridge: await series(bridged, 200),
      stateful: await series(stateful, 60),
      stateless: await series(stateless, 30),
      floor: await floor(200),
    };
    const speedup = pct(a.stateful, 50) / pct(a.bridge, 50);
    rows.push({
      what: 'stdio call the way LiteLLM makes it (initialize, initialized, tools/call; DELETE where a session was given), bridge',
      value: fmt(a.bridge),
      baseline: `supergateway stateful ${fmt(a.stateful)}`,
      note: `${speedup.toFixed(0)}x faster (target >= 18x, p50 <= 10 ms)`,
    });
    rows.push({
      what: 'the same call, other baselines',
      value: `supergateway stateless ${fmt(a.stateless)}`,
      baseline: `floor (initialized pipe) ${fmt(a.floor)}`,
      note: '',
    });
    // (b) through the real LiteLLM: it opens a new upstream session for every call.
    const c = new Client({ name: 'bench', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl), {
      requestInit: { headers: { 'x-litellm-api-key': `Bearer ${key}` } },
    }));
    const through = async (tool: string, n: number, warm = true): Promise<number[]> => {
      if (warm) await c.callTool({ name: tool, arguments: { message: 'warm' } });
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await c.callTool({ name: tool, arguments: { message: `m${i}` } });
        out.push(performance.now() - t0);
      }
      return out;
    };
    // Interleaved (bridge, floor, instant, bridge, ...) so load from other processes falls on all alike.
    const bridgeB: number[] = [];
    const floorB: number[] = [];
    const instantB: number[] = [];
    await through('mcp_floor-echo', 0);
    await through('mcp_instant-echo', 0);
    await through('mcp_bridged-echo', 0);
    for (let i = 0; i < 60; i++) {
      bridgeB.push(...(await through('mcp_bridged-echo', 1, false)));
      floorB.push(...(await through('mcp_floor-echo', 1, false)));
      instantB.push(...(await through('mcp_instant-echo', 1, false)));
    }
    const b = {
      bridge: bridgeB,
      floor: floorB,
      stateful: await through('mcp_sgwstateful-echo', 30),
      stateless: await through('mcp_sgwstateless-echo', 20),
    };
    const share = bridgeB.map((x, i) => x - (floorB[i] ?? 0));
    const overInstant = bridgeB.map((x, i) => x - (instantB[i] ?? 0));
    // The most any server could reach through LiteLLM: supergateway stateful against a server that costs nothing.
    const bound = pct(b.stateful, 50) / pct(instantB, 50);
    await c.close();
    rows.push({
      what: 'stdio tools/call through LiteLLM POST /mcp/, bridge',
      value: fmt(b.bridge),
      baseline: `supergateway stateful ${fmt(b.stateful)}; stateless ${fmt(b.stateless)}`,
      note: `${(pct(b.stateful, 50) / pct(b.bridge, 50)).toFixed(1)}x faster than stateful (target >= 6x ` +
        `${pct(b.stateful, 50) / pct(b.bridge, 50) >= 6 ? 'met' : 'MISSED'}; a server answering at once reaches ${bound.toFixed(1)}x)`,
    });
    rows.push({
      what: 'LiteLLM\'s floor proper: tools/call through LiteLLM POST /mcp/ to a server answering every message at once ' +
        '(raw JSON-RPC, no session, via the edge)',
      value: `bridge over it: p50 ${pct(overInstant, 50).toFixed(1)} ms, p95 ${pct(overInstant, 95).toFixed(1)} ms ` +
        `(pairs, n=${overInstant.length})`,
      baseline: `instant server ${fmt(instantB)}`,
      note: `the most any server reaches through LiteLLM against supergateway stateful: ${bound.toFixed(1)}x`,
    });
    rows.push({
      what: "LiteLLM's own floor: tools/call through LiteLLM POST /mcp/ to an HTTP server that answers at once " +
        '(everything echo, via the edge)',
      value: `bridge over the floor: p50 ${pct(share, 50).toFixed(1)} ms, p95 ${pct(share, 95).toFixed(1)} ms (pairs, n=${share.length})`,
      baseline: `floor ${fmt(b.floor)}`,
      note: `target bridge share <= 10 ms p50: ${pct(share, 50) <= 10 ? 'met' : 'MISSED'}`,
    });
    // 1,000 more calls: nothing left open, processes not leaking; memory of the edge flat.
    const mem = async () => {
      const edge = (await docker.getContainer(`${id}-edge`).stats({ stream: false })) as { memory_stats: { usage: number } };
      return edge.memory_stats.usage / 1048576;
    };
    const procs = async () => ((await docker.getContainer(`${id}-bridged`).top()) as { Processes: unknown[] }).Processes.length;
    const m0 = await mem();
    const p0 = await procs();
    for (let i = 0; i < 1000; i++) await litellmStyleCall(bridged, i);
    const stats = (await (await request(`http://127.0.0.1:${hostPort('edge', 8080)}/_bridges`)).body.json()) as {
      container: string;
      open: number;
      upstreamInitializes: number;
    }[];
    const mine = stats.find((s) => s.container === `${id}-bridged`);
    rows.push({
      what: '1,000 more bridged calls',
      value: `requests open ${mine?.open}, processes ${await procs()} (before ${p0}), upstream initializes ${mine?.upstreamInitializes}`,
      baseline: `edge memory ${m0.toFixed(1)} -> ${(await mem()).toFixed(1)} MiB`,
      note: 'no leak = 0 open, same processes, 1 initialize',
    });
    return {
      a: { bridgeP50: pct(a.bridge, 50), statefulP50: pct(a.stateful, 50), statelessP50: pct(a.stateless, 50), floorP50: pct(a.floor, 50) },
      b: {
        bridgeP50: pct(b.bridge, 50),
        floorP50: pct(b.floor, 50),
        shareP50: pct(share, 50),
        instantP50: pct(instantB, 50),
        overInstantP50: pct(overInstant, 50),
        boundX: bound,
        statefulP50: pct(b.stateful, 50),
        statelessP50: pct(b.stateless, 50),
      },
      openAfter1000: mine?.open,
    };
  } finally {
    await cleanupStack(docker, id, dir);
  }
}

export const stdioBridge: BenchCase = {
  id: 'stdio-bridge',
  title: 'the stdio bridge against supergateway 4.0.0 and an initialized pipe, alone and through LiteLLM',
  unit: 'ms per call',
  target: 'p50 <= 10 ms and >= 18x supergateway stateful alone; through LiteLLM >= 6x and <= 10 ms p50 over its floor',
  needs: 'docker',
  async run() {
    const rows: BenchRow[] = [];
    const data = await run(rows);
    return { rows, data };
  },
};
