import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { createStatusServer } from '../../src/server/http.js';
import { SecretMask } from '../../src/status/redact.js';
import { buildStatusDocument } from '../../src/status/document.js';
import { statusDocument, ago } from '../../src/testing/status-doc.js';
import { dumpDom, screenshot, pngSize } from '../../src/testing/chromium.js';

/**
 * The status page in a real browser (Debian's headless Chromium, JavaScript off): what a user sees
 * is rendered by the server, hostile values stay text, and no secret reaches the page: neither a
 * value of an env file the daemon knows (quoted by a server in its error) nor a credential-shaped
 * string in a condition message.
 */
describe('status page in headless Chromium', { timeout: 600_000 }, () => {
  const ENV_SECRET = 'opensesame-from-the-env-file-42';
  const TOKEN = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
  const DB_PASSWORD = 'Tr0ub4dor-and-3';
  let dir = '';
  let server: Server;
  let url = '';
  let dom = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'status-page-'));
    const envFile = join(dir, 'mcp-github.env');
    writeFileSync(envFile, `GITHUB_PERSONAL_ACCESS_TOKEN=${ENV_SECRET}\n`, { mode: 0o600 });
    const now = Date.now();
    const doc = statusDocument(now, `401 from upstream: Authorization: Bearer ${TOKEN}; server said "${ENV_SECRET}" is not a valid token`);
    const everything = doc.servers[0]!;
    everything.tools = [...(everything.tools ?? []), '<img src=x onerror=alert(1)>'];
    everything.events.push({ time: ago(now, 30), message: `tools changed: +[</td><script>alert(2)</script>] -[]` });
    const error = `db: postgres://litellm:${DB_PASSWORD}@db:5432/litellm refused`;
    doc.lastPass = { at: ago(now, 20), ms: 84, operations: 0, failed: 1, error };
    const mask = new SecretMask([envFile]);
    server = createStatusServer(() => buildStatusDocument(doc, doc.servers, mask), undefined, undefined, {
      now: () => now, // ages on the page are fixed, however long Chromium takes to start
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    dom = await dumpDom(url);
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('servers with their conditions, tools, events, gateway and the client URL are on the page', () => {
    assert.match(dom, /<title>1\/2 ready - mcp-reconciler<\/title>/);
    assert.match(dom, /<meta http-equiv="refresh" content="10">/);
    assert.match(dom, /<tr class="ok" data-server="everything">/);
    assert.match(dom, /<tr class="bad" data-server="github">[\s\S]*?McpReady<\/span> ProbeFailed: 401 from upstream/);
    assert.match(dom, /<tr data-condition="McpReady"><td>McpReady<\/td><td class="False">False<\/td><td>ProbeFailed<\/td>\s*<td>95s<\/td>/);
    assert.match(dom, /<summary>Tools exposed: 4, 3 through LiteLLM<\/summary>[\s\S]*?<code>get-sum<\/code>/);
    assert.match(dom, /id="gateway-mode">config mode/);
    assert.match(dom, /id="gateway-address"><code>http:\/\/127\.0\.0\.1:4000<\/code>/);
    assert.match(dom, /id="client-url"><code>http:\/\/127\.0\.0\.1:4000\/mcp\/<\/code>/);
    assert.match(dom, /<table id="events">[\s\S]*?<td>github<\/td><td class="msg">McpReady True -&gt; False \(ProbeFailed\)/);
    assert.match(dom, /<td>daemon<\/td><td class="msg">gateway registration: config mode/);
  });

  test('no script: the policy forbids every script and the page has none, so it reads the same without JavaScript', async () => {
    const r = await fetch(url);
    const csp = r.headers.get('content-security-policy') ?? '';
    assert.match(csp, /^default-src 'none'; /);
    assert.doesNotMatch(csp, /script-src/);
    assert.doesNotMatch(await r.text(), /<script|<[^>]*\son[a-z]+=/i);
  });

  test('hostile values stay text: no element comes from data', () => {
    assert.doesNotMatch(dom, /<script/i);
    assert.doesNotMatch(dom, /<img/i);
    assert.match(dom, /<code>&lt;img src=x onerror=alert\(1\)&gt;<\/code>/);
    assert.match(dom, /tools changed: \+\[&lt;\/td&gt;&lt;script&gt;alert\(2\)&lt;\/script&gt;\]/);
  });

  test('no secret on the page: env-file values and credentials in messages are masked', () => {
    for (const secret of [ENV_SECRET, TOKEN, DB_PASSWORD]) assert.ok(!dom.includes(secret), `${secret} shown`);
    assert.match(dom, /Authorization: Bearer \[redacted\]; server said "\[redacted\]" is not a valid token/);
    assert.match(dom, /postgres:\/\/litellm:\[redacted\]@db:5432/);
  });

  test('a screenshot renders at desktop and phone widths', async () => {
    for (const size of [{ width: 1200, height: 1500 }, { width: 412, height: 900 }]) {
      const png = await screenshot(url, join(dir, `page-${size.width}.png`), size);
      assert.deepEqual(pngSize(png), size);
      assert.ok(png.length > 20_000, `a blank page would be a few KB; got ${png.length} bytes`);
    }
  });
});
