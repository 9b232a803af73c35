import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { WebSocket } from 'undici';
import { BridgeRegistry } from '../docker/bridges.js';
import { NotAttachable } from '../docker/attach.js';
import { createEdgeServer } from '../edge/server.js';
import { createLogger } from '../log/logger.js';
import { FakeKubeApi } from '../testing/fake-kube-api.js';
import { STDIO_SERVER_SCRIPT } from '../testing/stdio-server.js';
import { TEST_TLS_CERT, TEST_TLS_KEY } from '../testing/tls-fixture.js';
import { inClusterApi, kubeAttachStdio, type KubeApi } from './attach.js';
import { kubeBridgeIo, stdioPodName } from './bridge-io.js';

const NS = 'mcp';
const TOKEN = 'sa-token-of-the-edge';
const log = createLogger({ level: 'silent' });
const SERVER: [string, string] = [process.execPath, STDIO_SERVER_SCRIPT];

async function edgeWith(api: KubeApi, lines: string[] = []): Promise<{ url: string; bridges: BridgeRegistry; server: Server }> {
  const capture = createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(l) } });
  const bridges = new BridgeRegistry('default', log, undefined, kubeBridgeIo(api, 5_000, capture));
  const server = createEdgeServer({ port: 0, allowPrefix: 'mcp-', log, bridgeFor: (n) => bridges.get(n) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/mcp-echo/stdio/mcp`;
  return { url, bridges, server };
}

async function client(url: string): Promise<Client> {
  const c = new Client({ name: 'k8s-attach-test', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  return c;
}

async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 10));
}

function text(r: unknown): string {
  return ((r as { content: { text: string }[] }).content[0] as { text: string }).text;
}

describe('the edge bridges a stdio server through pods/attach (v4.channel.k8s.io) of a strict fake API server', () => {
  let fake: FakeKubeApi;
  let api: KubeApi;
  let edge: Awaited<ReturnType<typeof edgeWith>>;

  before(async () => {
    fake = new FakeKubeApi({ namespace: NS, pod: stdioPodName('mcp-echo'), token: TOKEN, command: SERVER });
    fake.start();
    api = { server: await fake.listen(), namespace: NS, token: () => TOKEN };
    edge = await edgeWith(api);
  });
  after(async () => {
    edge.bridges.close();
    edge.server.closeAllConnections();
    await new Promise<void>((r) => edge.server.close(() => r()));
    await fake.close();
  });

  test('an MCP client through the edge: initialize, tools/list, tools/call on one attach', async () => {
    const c = await client(edge.url);
    assert.equal(c.getServerVersion()?.name, 'stdio-fixture');
    const tools = await c.listTools();
    assert.deepEqual(tools.tools.map((t) => t.name), ['echo', 'pid']);
    assert.equal(text(await c.callTool({ name: 'echo', arguments: { text: 'hello over attach' } })), 'hello over attach');
    await c.close();
    const c2 = await client(edge.url);
    assert.equal(text(await c2.callTool({ name: 'echo', arguments: { text: 'second session' } })), 'second session');
    await c2.close();
    assert.equal(fake.attaches, 1);
    assert.deepEqual(fake.refused, []);
  });

  test('after the server container restarts, the next call re-attaches to the new process', async () => {
    const c = await client(edge.url);
    const pid1 = text(await c.callTool({ name: 'pid', arguments: {} }));
    const attaches = fake.attaches;
    await fake.kill();
    await until(() => edge.bridges.stats()[0]?.state === 'down');
    fake.start();
    // The bridge saw the stream end; the next call attaches anew (and initializes the new process).
    const c2 = await client(edge.url);
    const pid2 = text(await c2.callTool({ name: 'pid', arguments: {} }));
    assert.notEqual(pid2, pid1);
    assert.equal(fake.attaches, attaches + 1);
    await c.close().catch(() => undefined);
    await c2.close();
  });
});

describe('the attach adapter is refused what the API server refuses (the fake is strict)', () => {
  let fake: FakeKubeApi;
  let server: string;

  before(async () => {
    fake = new FakeKubeApi({ namespace: NS, pod: 'mcp-echo-0', token: TOKEN, command: SERVER });
    fake.start();
    server = await fake.listen();
  });
  after(() => fake.close());

  test('a wrong token: NotAttachable (permanent), no attach; the client of the edge gets an error', async () => {
    const api: KubeApi = { server, namespace: NS, token: () => 'not-the-token' };
    await assert.rejects(kubeAttachStdio(api, 'mcp-echo-0', 'server', () => undefined), (e: unknown) => {
      assert.ok(e instanceof NotAttachable);
      assert.equal(e.permanent, true);
      assert.match(e.message, /refused the edge \(HTTP 401\)/);
      return true;
    });
    const lines: string[] = [];
    const edge = await edgeWith(api, lines);
    const why = /stdio server mcp-echo unavailable: pod mcp-echo-0: the API server refused the edge \(HTTP 401\)/;
    await assert.rejects(client(edge.url), why);
    const warned = lines.map((l) => JSON.parse(l) as { msg: string; pod: string; err: string });
    assert.deepEqual(warned.map((w) => [w.msg, w.pod]), [['edge: pods/attach failed', 'mcp-echo-0']]);
    assert.ok(!lines.join('').includes('not-the-token'), 'the token is never logged');
    edge.bridges.close();
    edge.server.closeAllConnections();
    await new Promise<void>((r) => edge.server.close(() => r()));
    assert.equal(fake.attaches, 0);
    assert.ok(fake.refused.every((r) => r === '401 token') && fake.refused.length >= 2, fake.refused.join('; '));
  });

  test('a pod of another namespace or name does not exist for the adapter; a pod without our labels is refused', async () => {
    const api: KubeApi = { server, namespace: 'other', token: () => TOKEN };
    await assert.rejects(kubeAttachStdio(api, 'mcp-echo-0', 'server', () => undefined), /pod mcp-echo-0 does not exist/);
    const foreign = new FakeKubeApi({ namespace: NS, pod: 'mcp-x-0', token: TOKEN, command: SERVER, labels: { app: 'x' } });
    const api2: KubeApi = { server: await foreign.listen(), namespace: NS, token: () => TOKEN };
    await assert.rejects(kubeAttachStdio(api2, 'mcp-x-0', 'server', () => undefined), /not a stdio server exported by mcp-reconciler/);
    assert.equal(foreign.attaches, 0);
    await foreign.close();
  });

  test('the fake refuses an attach with other parameters or without the v4 subprotocol', async () => {
    const attempt = async (query: string, protocols: string[]): Promise<string> => {
      const ws = new WebSocket(`${server.replace(/^http/, 'ws')}/api/v1/namespaces/${NS}/pods/mcp-echo-0/attach?${query}`, {
        protocols,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      return new Promise((r) => {
        ws.addEventListener('open', () => {
          ws.close();
          r('open');
        });
        ws.addEventListener('error', () => r('refused'));
      });
    };
    const before = fake.refused.length;
    assert.equal(await attempt('container=server&stdin=true&stdout=true&stderr=true&tty=true', ['v4.channel.k8s.io']), 'refused');
    assert.equal(await attempt('container=mcp&stdin=true&stdout=true&stderr=true&tty=false', ['v4.channel.k8s.io']), 'refused');
    assert.equal(await attempt('container=server&stdin=true&stdout=true&stderr=true&tty=false', ['v5.channel.k8s.io']), 'refused');
    assert.equal(await attempt('container=server&stdin=true&stdout=true&stderr=true&tty=false', ['v4.channel.k8s.io']), 'open');
    assert.deepEqual(fake.refused.slice(before).map((r) => r.split(' ')[1]), ['query', 'query', 'subprotocol']);
  });
});

describe('in a pod: inClusterApi over TLS, trusting only the ServiceAccount CA', () => {
  let fake: FakeKubeApi;
  let dir: string;
  let port: string;

  before(async () => {
    const tls = { cert: TEST_TLS_CERT, key: TEST_TLS_KEY };
    fake = new FakeKubeApi({ namespace: NS, pod: 'mcp-echo-0', token: TOKEN, command: SERVER, tls });
    fake.start();
    port = new URL(await fake.listen()).port;
    dir = mkdtempSync(join(tmpdir(), 'sa-'));
    writeFileSync(join(dir, 'namespace'), `${NS}\n`);
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    writeFileSync(join(dir, 'ca.crt'), TEST_TLS_CERT);
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await fake.close();
  });

  test('an MCP client through the edge reaches the stdio server over wss:// with the CA and token from the folder', async () => {
    const api = inClusterApi({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port }, dir);
    assert.match(api.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    const edge = await edgeWith(api);
    const c = await client(edge.url);
    assert.equal(text(await c.callTool({ name: 'echo', arguments: { text: 'over tls' } })), 'over tls');
    await c.close();
    edge.bridges.close();
    edge.server.closeAllConnections();
    await new Promise<void>((r) => edge.server.close(() => r()));
    assert.equal(fake.attaches, 1);
  });

  test('without that CA (the system CAs only) the API server is not trusted: no attach', async () => {
    const api: KubeApi = { server: `https://127.0.0.1:${port}`, namespace: NS, token: () => TOKEN };
    await assert.rejects(kubeAttachStdio(api, 'mcp-echo-0', 'server', () => undefined), /self[- ]signed certificate/);
    assert.equal(fake.attaches, 1);
  });
});

test('inClusterApi: the API server from KUBERNETES_SERVICE_HOST/PORT, namespace and token from the ServiceAccount folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sa-'));
  try {
    writeFileSync(join(dir, 'namespace'), 'mcp\n');
    writeFileSync(join(dir, 'token'), 'tok-1\n');
    writeFileSync(join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
    const api = inClusterApi({ KUBERNETES_SERVICE_HOST: '10.43.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    assert.equal(api.server, 'https://10.43.0.1:443');
    assert.equal(api.namespace, 'mcp');
    assert.equal(api.token(), 'tok-1');
    writeFileSync(join(dir, 'token'), 'tok-2\n'); // the kubelet rotates a projected token
    assert.equal(api.token(), 'tok-2');
    const v6 = inClusterApi({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }, dir);
    assert.equal(v6.server, 'https://[fd00::1]:6443');
    assert.throws(() => inClusterApi({}, dir), /KUBERNETES_SERVICE_HOST/);
    rmSync(join(dir, 'token'));
    assert.throws(() => inClusterApi({ KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' }, dir), /cannot read .*token: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
