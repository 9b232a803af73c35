import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { request } from 'undici';
import { clientHostOf, createStatusServer } from './http.js';
import { SecretMask } from '../status/redact.js';
import { buildStatusDocument } from '../status/document.js';
import { statusDocument } from '../testing/status-doc.js';

for (const [header, fallback, want] of [
  ['linuxserver.lan:9464', '127.0.0.1', 'linuxserver.lan'],
  ['192.168.1.5:9464', '127.0.0.1', '192.168.1.5'],
  ['[fd00::5]:9464', '127.0.0.1', '[fd00::5]'],
  ['evil"><b>:9464', '127.0.0.1', '127.0.0.1'],
  ['a b', '192.168.1.5', '192.168.1.5'],
  [undefined, '0.0.0.0', '127.0.0.1'],
  [undefined, '192.168.1.5', '192.168.1.5'],
] as const) {
  test(`clientHostOf(${String(header)}, ${fallback}) = ${want}`, () => assert.equal(clientHostOf(header, fallback), want));
}

const SECRET = 'value-from-an-env-file-123';
let dir = '';
let server: Server;
let base = '';
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'http-'));
  const env = join(dir, 'mcp-github.env');
  writeFileSync(env, `API_TOKEN=${SECRET}\n`, { mode: 0o600 });
  const doc = statusDocument(Date.now(), `upstream echoed ${SECRET} and password=hunter2hunter2`);
  const mask = new SecretMask([env]);
  server = createStatusServer(() => buildStatusDocument(doc, doc.servers, mask), undefined, undefined, { address: '127.0.0.1' });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('GET / is the HTML page with its security headers; the client URL uses the host the browser asked for', async () => {
  const r = await request(`${base}/`, { headers: { host: 'linuxserver.lan:9464' } });
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.match(String(r.headers['content-security-policy']), /^default-src 'none'/);
  assert.match(await r.body.text(), /id="client-url"><code>http:\/\/linuxserver\.lan:4000\/mcp\/<\/code>/);
});

test('GET / and /status (as buildStatusDocument makes them) mask known secret values and credential-shaped text', async () => {
  for (const path of ['/', '/status']) {
    const text = await (await request(`${base}${path}`)).body.text();
    assert.ok(!text.includes(SECRET), `${path} shows the env file's value`);
    assert.ok(!text.includes('hunter2hunter2'), `${path} shows the password`);
    assert.match(text, /upstream echoed \[redacted\] and password=\[redacted\]/);
  }
});

test('other paths are unchanged: /healthz answers JSON, POST / is refused', async () => {
  assert.equal((await request(`${base}/healthz`)).statusCode, 200);
  const r = await request(`${base}/`, { method: 'POST', body: 'x' });
  assert.equal(r.statusCode, 405);
  await r.body.dump();
});
