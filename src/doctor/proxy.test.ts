import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { doctorProxy } from './proxy.js';

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
