import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { doctorProxy } from './proxy.js';
import { createFront } from '../front/server.js';
import { createLogger } from '../log/logger.js';

test('port taken by something that is not LiteLLM: an error (LiteLLM would silently move)', async () => {
  const s = createServer((_req, res) => res.writeHead(200).end('<html>some other app</html>'));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  try {
    const f = await doctorProxy(`http://127.0.0.1:${port}`, null);
    assert.deepEqual(f.map((x) => `${x.severity} ${x.rule}`), ['error proxy.port-taken']);
    assert.match(f[0]!.message, new RegExp(`port ${port} is taken by something that is not LiteLLM`));
  } finally {
    s.close();
  }
});

test('nothing listening: a warning, not an error', async () => {
  const f = await doctorProxy('http://127.0.0.1:1', null);
  assert.deepEqual(f.map((x) => `${x.severity} ${x.rule}`), ['warning proxy.down']);
});

test('behind the blue/green front: the active colour is named and the checks reach it; with no colour yet, an error says why', async () => {
  // A LiteLLM 1.77.3 stand-in for the green colour: liveliness and readiness as it answers them.
  const green = createServer((req, res) => {
    if (req.url === '/health/liveliness') return void res.writeHead(200).end('"I\'m alive!"');
    if (req.url === '/health/readiness') return void res.writeHead(200).end(JSON.stringify({ litellm_version: '1.77.3' }));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => green.listen(0, '127.0.0.1', r));
  const greenPort = (green.address() as AddressInfo).port;
  let active: 'blue' | 'green' | null = null;
  const front = createFront({
    upstreams: { blue: 'blue.invalid:4000', green: 'green.invalid:4000' },
    active: { active: () => active },
    log: createLogger({ level: 'silent' }),
    origin: () => `http://127.0.0.1:${greenPort}`,
  });
  await new Promise<void>((r) => front.server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(front.server.address() as AddressInfo).port}`;
  try {
    const none = await doctorProxy(url, null, { namePrefix: 'x-' });
    assert.deepEqual(none.map((f) => `${f.severity} ${f.rule}`), ['error proxy.front-no-colour'], 'not "port taken"');
    assert.match(none[0]!.fix, /apply --once.*docker logs x-front/);
    active = 'green';
    const ok = await doctorProxy(url, null, { namePrefix: 'x-' });
    assert.deepEqual(ok.map((f) => `${f.severity} ${f.rule}`), ['info proxy.front', 'info proxy.ok']);
    assert.equal(ok[0]!.message, 'the blue/green front (ADR 0025) forwards to x-litellm-green; calls in flight: blue 0, green 0');
  } finally {
    front.server.closeAllConnections();
    front.server.close();
    green.close();
  }
});

test('a port whose status route is not our front is checked as a plain LiteLLM (no front finding)', async () => {
  const s = createServer((req, res) => {
    if (req.url === '/_mcp-reconciler/front') return void res.writeHead(200).end('{"active":"purple"}');
    if (req.url === '/health/liveliness') return void res.writeHead(200).end('"I\'m alive!"');
    if (req.url === '/health/readiness') return void res.writeHead(200).end(JSON.stringify({ litellm_version: '1.77.3' }));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  try {
    const f = await doctorProxy(`http://127.0.0.1:${(s.address() as AddressInfo).port}`, null);
    assert.deepEqual(f.map((x) => `${x.severity} ${x.rule}`), ['info proxy.ok']);
  } finally {
    s.close();
  }
});
