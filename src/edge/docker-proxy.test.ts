import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server } from 'node:net';
import Docker from 'dockerode';
import { createDockerProxy } from './docker-proxy.js';
import { attachStdio } from '../docker/attach.js';
import { ownerLabels } from '../docker/labels.js';
import { createLogger } from '../log/logger.js';

const FULL_ID = 'a'.repeat(64);
const info = (over: { labels?: Record<string, string>; stdin?: boolean }) => ({
  Id: FULL_ID,
  Name: '/mcp-mem',
  RestartCount: 0,
  Config: {
    Labels: over.labels ?? ownerLabels('t', 'server', { server: 'mem' }),
    OpenStdin: over.stdin ?? true,
    Tty: false,
    Env: ['SECRET=hunter2'],
  },
  State: { Running: true, Restarting: false, Status: 'running' },
});
const CONTAINERS: Record<string, ReturnType<typeof info>> = {
  'mcp-mem': info({}),
  'mcp-http': info({ stdin: false }),
  'mcp-litellm': info({ labels: ownerLabels('t', 'gateway') }),
  'other-stack': info({ labels: ownerLabels('someone-else', 'server', { server: 'x' }) }),
};

/** Docker's attach as the real engine answers it: 101, then a multiplexed stdout frame echoing stdin lines. */
function fakeEngine(seen: string[]): Server {
  return createServer((s) => {
    let head = '';
    const onData = (c: Buffer): void => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      seen.push(head.split('\r\n')[0]!);
      s.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      s.on('data', (line: Buffer) => {
        const frame = Buffer.alloc(8);
        frame[0] = 1;
        frame.writeUInt32BE(line.length, 4);
        s.write(Buffer.concat([frame, line]));
      });
    };
    s.on('data', onData);
  });
}

describe('the edge docker proxy lets the edge inspect and attach to stdio servers, and nothing else', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-docker-'));
  const engineSock = join(dir, 'engine.sock');
  const proxySock = join(dir, 'proxy.sock');
  const seen: string[] = [];
  let engine: Server;
  let proxy: Server;
  const edgeDocker = new Docker({ socketPath: proxySock });
  before(async () => {
    engine = fakeEngine(seen);
    await new Promise<void>((r) => engine.listen(engineSock, r));
    const docker = {
      getContainer: (id: string) => ({ inspect: async () => CONTAINERS[id] ?? Promise.reject(new Error('404')) }),
    } as unknown as Docker;
    proxy = createDockerProxy({ docker, dockerSocket: engineSock, instance: 't', log: createLogger({ level: 'silent' }) });
    await new Promise<void>((r) => proxy.listen(proxySock, r));
  });
  after(() => {
    proxy.close();
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One raw request through the proxy; the status line and body. */
  const raw = (text: string): Promise<string> =>
    new Promise((resolve) => {
      const s = connect(proxySock);
      let out = '';
      s.on('data', (c) => (out += c.toString()));
      s.on('close', () => resolve(out));
      s.write(text);
    });

  test('the bridge attaches through it (inspect + hijacked attach) and messages flow both ways', async () => {
    const got: unknown[] = [];
    const pipe = await attachStdio(edgeDocker, 'mcp-mem', 't', (m) => got.push(m));
    pipe.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    pipe.close();
    assert.deepEqual(got, [{ jsonrpc: '2.0', id: 1, method: 'ping' }]);
    assert.deepEqual(
      seen,
      [`POST /containers/${FULL_ID}/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1`],
      'forwarded to the full id with a fixed query',
    );
  });

  test('inspect is answered by the proxy, without the environment', async () => {
    const i = await edgeDocker.getContainer('mcp-mem').inspect();
    assert.equal(i.Config.OpenStdin, true);
    assert.equal(i.State.Running, true);
    assert.equal((i.Config as { Env?: unknown }).Env, undefined);
    assert.ok(!JSON.stringify(i).includes('hunter2'));
  });

  const refused: [string, string, RegExp][] = [
    ['an http server (no open stdin)', 'GET /containers/mcp-http/json HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 404/],
    ['the gateway', 'POST /containers/mcp-litellm/attach?stream=1 HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 404/],
    ["another instance's server", 'GET /containers/other-stack/json HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 404/],
    ['listing containers', 'GET /containers/json HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 403/],
    ['creating a container', 'POST /containers/create HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}', /^HTTP\/1\.1 403/],
    ['starting one', 'POST /containers/mcp-mem/start HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 403/],
    ['exec', 'POST /containers/mcp-mem/exec HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 403/],
    ['removing one', 'DELETE /containers/mcp-mem HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 403/],
    ['inspect by POST', 'POST /containers/mcp-mem/json HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 403/],
    ['attach with a body', 'POST /containers/mcp-mem/attach HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', /^HTTP\/1\.1 403/],
    ['images', 'GET /images/json HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 403/],
    ['a path that climbs', 'GET /containers/../images/json HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 403/],
  ];
  for (const [what, req, want] of refused) {
    test(`refused: ${what}`, async () => {
      const before = seen.length;
      assert.match(await raw(req), want);
      assert.equal(seen.length, before, 'nothing reached Docker');
    });
  }

  test('a request pipelined behind an inspect never reaches Docker', async () => {
    const before = seen.length;
    const out = await raw('GET /containers/mcp-mem/json HTTP/1.1\r\n\r\nPOST /containers/mcp-mem/start HTTP/1.1\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 200/);
    assert.equal(out.match(/HTTP\/1\.1/g)?.length, 1, 'one answer, then the connection closes');
    assert.equal(seen.length, before);
  });

  test('versioned paths and /_ping work like dockerode sends them', async () => {
    assert.match(await raw('GET /v1.41/containers/mcp-mem/json HTTP/1.1\r\n\r\n'), /^HTTP\/1\.1 200/);
    assert.match(await raw('GET /_ping HTTP/1.1\r\n\r\n'), /^HTTP\/1\.1 200[^]*OK$/);
  });
});
