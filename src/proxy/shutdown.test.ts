import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeGracefully } from './shutdown.js';

/** A server whose /slow answers when `release` is called, and whose /stream never ends. */
async function serve(): Promise<{ port: number; server: ReturnType<typeof createServer>; release: () => void }> {
  let release = (): void => undefined;
  const server = createServer((req, res) => {
    if (req.url === '/stream') return void res.writeHead(200, { 'content-type': 'text/event-stream' }).write(': open\n\n');
    release = () => res.end('answered');
  });
  server.keepAliveTimeout = 120_000; // an idle keep-alive connection alone would hold close() for 2 min
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, server, release: () => release() };
}

const fetchText = (port: number, path: string, agent: Agent): Promise<{ res: IncomingMessage; body: Promise<string> }> =>
  new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      resolve({ res, body: new Promise((r, j) => (res.on('end', () => r(text)), res.on('error', j))) });
    }).on('error', reject);
  });

test('a call in flight at shutdown is answered, its keep-alive connection then closes at once, and new connections are refused',
  { timeout: 20_000 },
  async () => {
    const { port, server, release } = await serve();
    const agent = new Agent({ keepAlive: true });
    try {
      const inflight = fetchText(port, '/slow', agent);
      await new Promise<void>((r) => server.once('request', () => r()));
      let closed = false;
      const closing = closeGracefully(server, 60_000).then(() => (closed = true));
      await assert.rejects(fetchText(port, '/slow', new Agent()), /ECONNREFUSED/, 'no new connection once closing');
      assert.equal(closed, false, 'waits for the call in flight');
      release();
      assert.equal(await (await inflight).body, 'answered');
      await closing; // within the test's 20 s: neither the 60 s grace nor the 2 min keep-alive holds the close
      assert.equal(closed, true);
    } finally {
      agent.destroy();
    }
  });

test('a stream that never ends is cut after the grace period', async () => {
  const { port, server } = await serve();
  const agent = new Agent({ keepAlive: true });
  try {
    const stream = await fetchText(port, '/stream', agent);
    const cut = assert.rejects(stream.body, /aborted/, 'cut, not ended by its server');
    await closeGracefully(server, 200);
    await cut;
    assert.equal(stream.res.complete, false);
  } finally {
    agent.destroy();
  }
});
