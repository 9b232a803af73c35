import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { request } from 'undici';
import type Docker from 'dockerode';
import { createStack, docker, waitFor, type Stack } from './harness.js';
import { HealthMonitor } from '../../src/health/monitor.js';
import { FileConfigStore } from '../../src/litellm/file-store.js';
import { createLogger } from '../../src/log/logger.js';

/**
 * Isolation (docs/adr/0007): from inside an MCP container, other servers, the edge's routes and
 * LiteLLM's management API are out of reach, while LiteLLM still lists every server's tools; an
 * `egress: false` server has no route out. Real dockerd, real LiteLLM 1.77.3. Every address used
 * belongs to a network or container this test (or the stack it created) made.
 */

/** Runs inside a container: each check is `tcp host port` or `http METHOD url`; prints one JSON result per check. */
const PROBE = `
const net = require('net');
const tcp = (host, port) => new Promise((r) => {
  const s = net.connect({ host, port: Number(port) });
  const t = setTimeout(() => { s.destroy(); r('timeout'); }, 3000);
  s.on('connect', () => { clearTimeout(t); s.destroy(); r('connected'); });
  s.on('error', (e) => { clearTimeout(t); r(e.code || e.message); });
});
const http = async (method, url) => {
  try {
    const res = await fetch(url, {
      method, signal: AbortSignal.timeout(3000),
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: method === 'POST' ? JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }) : undefined,
    });
    return 'HTTP ' + res.status;
  } catch (e) { return (e.cause && e.cause.code) || e.name; }
};
const checks = JSON.parse(process.argv[1]);
Promise.all(checks.map((c) => (c[0] === 'tcp' ? tcp(c[1], c[2]) : http(c[1], c[2])))).then((r) => console.log(JSON.stringify(r)));
`;

async function execIn(container: string, args: string[]): Promise<string> {
  const exec = await docker.getContainer(container).exec({ Cmd: ['node', '-e', PROBE, ...args], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  const errs: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  err.on('data', (c: Buffer) => errs.push(c));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((r) => stream.on('end', () => r()));
  const text = Buffer.concat(chunks).toString().trim();
  if (!text) throw new Error(`probe printed nothing: ${Buffer.concat(errs).toString()}`);
  return text;
}

/** Run checks inside a container; results in the same order. */
async function probeFrom(container: string, checks: (['tcp', string, number] | ['http', 'GET' | 'POST', string])[]): Promise<string[]> {
  return JSON.parse(await execIn(container, [JSON.stringify(checks)])) as string[];
}

const ipOn = (i: Docker.ContainerInspectInfo, network: string): string => {
  const ip = i.NetworkSettings.Networks[network]?.IPAddress;
  assert.ok(ip, `${i.Name} has an address on ${network}`);
  return ip;
};

const NOT_REACHED = /^(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|timeout|TimeoutError)$/;

describe('isolation: per-server networks, an edge only the gateway may use, egress: false', { timeout: 300_000 }, () => {
  let stack: Stack;
  const name = (s: string): string => `${stack.id}-${s}`;
  let outside: Docker.Network | undefined;
  let listener: Docker.Container | undefined;

  before(async () => {
    stack = await createStack();
    const http = (extra = ''): string =>
      'image: mcp/everything:latest\ntransport: http\ncommand: ["node", "dist/index.js", "streamableHttp"]\n' +
        `port: 3001\nenv: {PORT: 3001}\n${extra}`;
    stack.writeDesired('open', http());
    stack.writeDesired('closed', http('egress: false\n'));
    stack.writeDesired('stdioev', 'image: mcp/everything:latest\ntransport: stdio\ncommand: ["node", "dist/index.js", "stdio"]\n');
    // On a loaded machine LiteLLM may need longer than one pass waits for it: converge, bounded.
    const out = await waitFor('a pass that converges', async () => {
      const o = await stack.reconciler.reconcile();
      return o.result.failed.length === 0 ? o : null;
    }, 240_000, 1_000);
    models = out.input.servers;
  });
  let models: Parameters<HealthMonitor['update']>[0] = [];
  after(async () => {
    await listener?.remove({ force: true }).catch(() => undefined);
    await outside?.remove().catch(() => undefined);
    await stack?.cleanup();
  });

  test('LiteLLM lists every server\'s tools (http with and without egress, stdio)', async () => {
    await waitFor('all tools through LiteLLM', async () => {
      const r = await stack.gateway.listTools();
      return r.ok && ['mcp_open-echo', 'mcp_closed-echo', 'mcp_stdioev-echo'].every((t) => r.tools.includes(t));
    }, 90_000, 500);
  });

  test('each server is on its own network: shared with the edge (http) or nobody (stdio), ' +
    'never with LiteLLM or another server', async () => {
    const nets = async (s: string): Promise<string[]> =>
      Object.keys((await docker.getContainer(name(s)).inspect()).NetworkSettings.Networks).sort();
    const gw = stack.settings.network;
    assert.deepEqual(await nets('open'), [`${gw}.open`]);
    assert.deepEqual(await nets('closed'), [`${gw}.closed.internal`]);
    assert.deepEqual(await nets('stdioev'), [`${gw}.stdioev`]);
    assert.deepEqual(await nets('edge'), [gw, `${gw}.closed.internal`, `${gw}.open`].sort());
    assert.deepEqual(await nets('litellm'), [gw]);
    const internal = await docker.getNetwork(`${gw}.closed.internal`).inspect();
    assert.equal(internal.Internal, true);
    assert.equal((await docker.getNetwork(`${gw}.open`).inspect()).Internal, false);
  });

  test('from inside one server: another server, the edge\'s routes and LiteLLM\'s management API all fail', async () => {
    const closed = await docker.getContainer(name('closed')).inspect();
    const litellm = await docker.getContainer(name('litellm')).inspect();
    const edge = `http://${name('edge')}:${stack.settings.edge.port}`;
    const r = await probeFrom(name('open'), [
      ['http', 'POST', `http://${name('closed')}:3001/mcp`],
      ['tcp', ipOn(closed, `${stack.settings.network}.closed.internal`), 3001],
      ['http', 'POST', `${edge}/${name('closed')}/3001/mcp`],
      ['http', 'POST', `${edge}/${name('stdioev')}/stdio/mcp`],
      ['http', 'POST', `${edge}/${name('open')}/3001/mcp`],
      ['http', 'POST', `${edge}/${name('nosuchserver')}/stdio/mcp`],
      ['http', 'GET', `${edge}/_bridges`],
      ['http', 'GET', `http://${name('litellm')}:4000/v1/mcp/server`],
      ['tcp', ipOn(litellm, stack.settings.network), 4000],
    ]);
    const [byName, byIp, edgeOther, edgeStdio, edgeOwn, edgeUnknown, edgeStats, apiByName, apiByIp] = r as [
      string, string, string, string, string, string, string, string, string,
    ];
    assert.match(byName, NOT_REACHED, 'another server by name');
    assert.match(byIp, NOT_REACHED, 'another server by address');
    assert.equal(edgeOther, 'HTTP 403', "the edge's route to another server");
    assert.equal(edgeStdio, 'HTTP 403', "the edge's stdio route to another server");
    assert.equal(edgeOwn, 'HTTP 403', "the edge's route to itself (only LiteLLM may use the edge)");
    assert.equal(edgeUnknown, 'HTTP 403', 'a bridge for a made-up name');
    assert.equal(edgeStats, 'HTTP 403', 'the bridge list');
    assert.match(apiByName, NOT_REACHED, "LiteLLM's /v1/mcp/server by name");
    assert.match(apiByIp, NOT_REACHED, "LiteLLM's port by its address on the gateway network");
    const bridges = await request(`http://127.0.0.1:${await edgeHostPort()}/_bridges`);
    const names = ((await bridges.body.json()) as { container: string }[]).map((b) => b.container);
    assert.ok(!names.includes(name('nosuchserver')), `no bridge was made for the refused request: ${names.join(', ')}`);
  });

  test('the edge holds no Docker socket: through its proxy it can inspect a stdio server but not list, create or exec', async () => {
    const edge = await docker.getContainer(name('edge')).inspect();
    assert.ok(!(edge.HostConfig.Binds ?? []).some((b) => b.includes('docker.sock')), JSON.stringify(edge.HostConfig.Binds));
    await waitFor(
      'the edge\'s Docker proxy reports healthy',
      async () => (await docker.getContainer(name('edge.docker')).inspect()).State.Health?.Status === 'healthy',
      60_000,
      1_000,
    );
    const script = `
      const http = require('http');
      const ask = (method, path) => new Promise((r) => {
        const q = http.request({ socketPath: '/run/mcp-docker/docker.sock', method, path }, (res) => { res.resume(); r(res.statusCode); });
        q.on('error', (e) => r(e.code)); q.end();
      });
      Promise.all([['GET', '/containers/${name('stdioev')}/json'], ['GET', '/containers/json'], ['POST', '/containers/create'],
        ['POST', '/containers/${name('stdioev')}/exec'], ['GET', '/containers/${name('open')}/json'], ` +
      `['GET', '/containers/${name('litellm')}/json']]
        .map(([m, p]) => ask(m, p))).then((r) => console.log(JSON.stringify(r)));`;
    const exec = await docker.getContainer(name('edge')).exec({ Cmd: ['node', '-e', script], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    docker.modem.demuxStream(stream, out, new PassThrough());
    await new Promise<void>((r) => stream.on('end', () => r()));
    assert.deepEqual(JSON.parse(Buffer.concat(chunks).toString()), [200, 403, 403, 403, 404, 404]);
  });

  test('the host still reaches servers through the edge (the daemon\'s probes)', async () => {
    const res = await request(`http://127.0.0.1:${await edgeHostPort()}/${name('open')}/3001/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    assert.equal(res.statusCode, 200, await res.body.text());
  });

  test('the daemon\'s probe reaches an egress: false server (Docker publishes no port there) through the edge', async () => {
    const monitor = new HealthMonitor({
      runtime: stack.runtime,
      config: new FileConfigStore(),
      configPath: stack.settings.gateway.configPath,
      gateway: stack.gateway,
      observe: { namePrefix: stack.settings.namePrefix, instance: stack.settings.instance, network: stack.settings.network },
      log: createLogger({ level: 'silent' }),
    });
    try {
      monitor.update(models, new Map());
      await monitor.probe('closed');
      const h = monitor.snapshot().find((x) => x.name === 'closed');
      assert.equal(h?.container.hostPort, null, 'no published port on an internal network');
      const ready = h?.conditions.find((c) => c.type === 'McpReady');
      assert.equal(ready?.status, 'True', ready?.message);
      assert.match(ready.message, /^13 tools/);
    } finally {
      monitor.stop();
    }
  });

  test('egress: false: no TCP connection to a container on another network; the same probe from an egress server connects', async () => {
    // The test's own network and listener, published only on the two servers' bridge addresses.
    outside = await docker.createNetwork({ Name: `${stack.id}-outside`, Labels: { 'io.mcp-reconciler.test': stack.id } });
    const gwOf = async (net: string): Promise<string> => {
      const g = (await docker.getNetwork(net).inspect()).IPAM?.Config?.[0]?.Gateway;
      assert.ok(g, `${net} has a gateway address`);
      return g;
    };
    const openGw = await gwOf(`${stack.settings.network}.open`);
    const closedGw = await gwOf(`${stack.settings.network}.closed.internal`);
    listener = await docker.createContainer({
      name: `${stack.id}-listener`,
      Image: 'local/node-base:20',
      Cmd: ['node', '-e', "require('net').createServer((s) => s.end('hi')).listen(7000)"],
      ExposedPorts: { '7000/tcp': {} },
      HostConfig: {
        NetworkMode: `${stack.id}-outside`,
        PortBindings: { '7000/tcp': [{ HostIp: openGw, HostPort: '' }, { HostIp: closedGw, HostPort: '' }] },
      },
    });
    await listener.start();
    const li = await listener.inspect();
    const ports = li.NetworkSettings.Ports['7000/tcp'] ?? [];
    const portOn = (ip: string): number => Number(ports.find((p) => p.HostIp === ip)?.HostPort);
    const listenerIp = ipOn(li, `${stack.id}-outside`);
    const [openOut] = await waitFor('the listener reachable from the egress server', async () => {
      const r = await probeFrom(name('open'), [['tcp', openGw, portOn(openGw)]]);
      return r[0] === 'connected' ? r : null;
    }, 20_000, 300);
    assert.equal(openOut, 'connected');
    const [closedOut, closedDirect] = await probeFrom(name('closed'), [
      ['tcp', closedGw, portOn(closedGw)],
      ['tcp', listenerIp, 7000],
    ]);
    assert.match(closedOut!, NOT_REACHED, 'through the host');
    assert.match(closedDirect!, NOT_REACHED, 'directly');
  });

  async function edgeHostPort(): Promise<number> {
    const e = (await stack.containers()).find((c) => c.Names[0] === `/${name('edge')}`);
    const p = e?.Ports.find((x) => x.PrivatePort === stack.settings.edge.port)?.PublicPort;
    assert.ok(p, 'the edge publishes its port on 127.0.0.1');
    return p;
  }
});
