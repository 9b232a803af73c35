import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAGE_CSP, PAGE_EVENTS, ageOf, escapeHtml, recentEvents, renderStatusPage } from './page.js';
import { statusDocument, ago } from '../testing/status-doc.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

test('escapeHtml escapes the five characters that can leave text or an attribute', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});

for (const [from, want] of [
  [ago(NOW, 5), '5s'],
  [ago(NOW, 119), '119s'],
  [ago(NOW, 600), '10m'],
  [ago(NOW, 3 * 3600), '3h'],
  [ago(NOW, 3 * 86400), '3d'],
  [Math.round(NOW / 1000) - 60, '60s'],
  [null, '-'],
  ['not a time', '-'],
] as const) {
  test(`ageOf(${String(from)}) = ${want}`, () => assert.equal(ageOf(from, NOW), want));
}

test('every value is escaped: a message, a tool, a path and the summary cannot add markup', () => {
  const doc = statusDocument(NOW, '<b>bold</b> & "quoted"');
  doc.summary = '<i>x</i>';
  doc.servers[0]!.tools = ['"><svg/onload=alert(1)>'];
  doc.paths['x'] = '</code><script>alert(1)</script>';
  const page = renderStatusPage(doc, { now: NOW, clientUrl: 'http://h:4000/mcp/' });
  assert.doesNotMatch(page, /<b>|<i>|<svg|<script/);
  assert.match(page, /&lt;b&gt;bold&lt;\/b&gt; &amp; &quot;quoted&quot;/);
  assert.match(page, /<span class="muted" id="summary">&lt;i&gt;x&lt;\/i&gt;<\/span>/);
  assert.match(page, /<code>&quot;&gt;&lt;svg\/onload=alert\(1\)&gt;<\/code>/);
});

test('the page reloads itself and carries the style its CSP allows by hash, and no script', () => {
  const page = renderStatusPage(statusDocument(NOW), { now: NOW, clientUrl: null, refreshS: 7 });
  assert.match(page, /<meta http-equiv="refresh" content="7">/);
  assert.doesNotMatch(page, /<script/);
  assert.match(PAGE_CSP, /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; /);
  assert.match(page, /id="client-url">-</);
});

test('no servers, held changes and a failed pass are shown as such', () => {
  const doc = statusDocument(NOW);
  doc.servers = [];
  doc.lastPass = { at: ago(NOW, 3), ms: 12, operations: 0, failed: 0, error: 'docker unavailable: connect ENOENT /var/run/docker.sock' };
  const failure = { object: 'container:mcp-litellm', change: 'recreate', failures: 2, reason: 'exited 1: bad config' };
  doc.failures = [{ ...failure, nextTryAt: ago(NOW, -40) }];
  const page = renderStatusPage(doc, { now: NOW, clientUrl: null });
  assert.match(page, /<title>0\/0 ready - mcp-reconciler<\/title>/);
  assert.match(page, /<td colspan="6">no servers desired<\/td>/);
  assert.match(page, /<table id="failures">.*<td>container:mcp-litellm<\/td><td>recreate<\/td><td>2<\/td>/s);
  assert.match(page, /3s ago, 12 ms, 0 changes, 0 failed <span class="False">docker unavailable: connect ENOENT/);
});

test('recent events: the daemon and every server together, newest first, at most PAGE_EVENTS', () => {
  const doc = statusDocument(NOW);
  doc.events = Array.from({ length: 40 }, (_, i) => ({ time: ago(NOW, 1000 - i), message: `daemon ${i}` }));
  const events = recentEvents(doc);
  assert.equal(events.length, PAGE_EVENTS);
  assert.deepEqual(events.slice(0, 2).map((e) => [e.source, e.message.slice(0, 18)]), [
    ['github', 'McpReady True -> F'],
    ['daemon', 'daemon 39'],
  ]);
  assert.ok(events.every((e, i) => i === 0 || events[i - 1]!.time >= e.time));
});

test('builds: one row per server with state, image, age and the last line (escaped); no table without builds', () => {
  const doc = statusDocument(NOW);
  assert.doesNotMatch(renderStatusPage(doc, { now: NOW, clientUrl: null }), /id="builds"/);
  doc.builds = [{
    server: 'hello', tag: 'mcp-reconciler-build/default/hello:ab12', source: 'build: .', state: 'failed', startedAt: ago(NOW, 30) as string,
    finishedAt: null, step: 'Step 4/9 : RUN npm ci', lastLines: ['npm ERR! <404>'], error: 'build failed: npm ERR! <404>',
  }];
  const page = renderStatusPage(doc, { now: NOW, clientUrl: null });
  assert.match(page, /<table id="builds">/);
  assert.match(page, /<td>hello<\/td><td class="False">failed<\/td><td><code>mcp-reconciler-build\/default\/hello:ab12<\/code><\/td>/);
  assert.match(page, /<td class="msg">build failed: npm ERR! &lt;404&gt;<\/td>/);
});
