import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allReady, renderServer, renderStatus, serverReady, type StatusView } from './status.js';
import { serverHealth, statusDocument } from '../testing/status-doc.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

/** Two ready servers from the daemon, nothing held: the one state `status` exits 0 for. */
function readyView(): StatusView {
  const doc = { ...statusDocument(NOW), servers: [serverHealth('everything', NOW), serverHealth('github', NOW)], failures: [] };
  return { source: 'daemon', doc, gatewayReady: true, invalid: [], held: [] };
}

const failure = (object: string) => ({
  object,
  change: 'recreate-container',
  failures: 2,
  reason: 'exited 1: bad flag',
  nextTryAt: '2026-12-01T12:00:40.000Z',
});

test('status: exit 0 only when everything is ready and nothing is held', () => {
  assert.equal(allReady(readyView()), true);
  const cases: Array<[string, (v: StatusView) => void]> = [
    ['a failed change waiting for its retry (the old container serves)', (v) => (v.doc.failures = [failure('container:mcp-github')])],
    ['a failed change of the edge', (v) => (v.doc.failures = [failure('container:mcp-edge')])],
    [
      'deletions held by the guard',
      (v) => v.held.push({ type: 'prune-held', resourceId: 'container:mcp-old', cause: 'no desired file; not removed' }),
    ],
    [
      'a blocked server',
      (v) => v.held.push({ type: 'blocked', resourceId: 'container:mcp-x', cause: 'stdio before the bridge', server: 'x' }),
    ],
    ['an invalid desired file', (v) => v.invalid.push({ file: 'mcp-x.yaml', message: 'bad' })],
    ['the gateway not ready', (v) => (v.gatewayReady = false)],
  ];
  for (const [what, change] of cases) {
    const v = readyView();
    change(v);
    assert.equal(allReady(v), false, what);
  }
});

test('status: held deletions and blocked servers are listed under the table (a failure already is)', () => {
  const v = readyView();
  v.doc.failures = [failure('container:mcp-github')];
  v.held.push(
    { type: 'prune-held', resourceId: 'container:mcp-old', cause: 'no desired file; not removed: last server (--allow-empty)' },
    { type: 'backoff-held', resourceId: 'container:mcp-github', cause: 'exited 1: bad flag; next try in 40 s' },
  );
  const text = renderStatus(v);
  assert.match(text, /changes that failed[^\n]*\n {2}container:mcp-github: recreate-container failed 2x: exited 1: bad flag/);
  assert.match(
    text,
    /held or blocked[^\n]*\n {2}! prune-held container:mcp-old: no desired file; not removed: last server \(--allow-empty\)\n\n/,
  );
  assert.doesNotMatch(text, /! backoff-held/);
});

test('status <name>: exit 0 only when that server is ready and nothing of its own is held', () => {
  const v = readyView();
  const [everything, github] = v.doc.servers as [ReturnType<typeof serverHealth>, ReturnType<typeof serverHealth>];
  v.doc.failures = [failure('container:mcp-github')];
  v.held.push({ type: 'blocked', resourceId: 'gateway-entry:mcp_everything', cause: 'auth: in API mode', server: 'everything' });
  assert.equal(serverReady(v, github), false);
  assert.equal(serverReady(v, everything), false);
  assert.match(renderServer(github, v), /held \(not in place yet\):\n {2}container:mcp-github: recreate-container failed 2x/);
  assert.match(renderServer(everything, v), /held \(not in place yet\):\n {2}! blocked gateway-entry:mcp_everything: auth: in API mode$/);
  const clean = readyView();
  assert.equal(serverReady(clean, clean.doc.servers[0]!), true);
  assert.doesNotMatch(renderServer(clean.doc.servers[0]!, clean), /held/);
});

test('status: under a tool policy TOOLS shows the exposed count and how many are hidden; status <name> names them', () => {
  const v = readyView();
  const fs = { ...serverHealth('everything', NOW), toolPolicy: { exposed: 1, hidden: ['get-sum', 'print-env'] } };
  v.doc.servers = [fs, serverHealth('github', NOW)];
  const table = renderStatus(v).split('\n');
  const header = table.find((l) => l.startsWith('NAME'))!;
  const row = table.find((l) => l.startsWith('everything'))!;
  assert.equal(row.slice(header.indexOf('TOOLS')).split(/\s{2,}/)[0], '1 (2 hidden)');
  assert.equal(table.find((l) => l.startsWith('github'))!.slice(header.indexOf('TOOLS')).split(/\s{2,}/)[0], '3', 'no policy: the count');
  assert.match(renderServer(fs, v), /^policy {5}1 exposed, 2 hidden by tools: get-sum, print-env$/m);
  assert.doesNotMatch(renderServer(serverHealth('github', NOW), v), /^policy/m);
});

test('status: a build in progress or failed is listed under the table with its step and last line; a finished one is not', () => {
  const v = readyView();
  const build = (server: string, state: 'building' | 'built' | 'failed', last: string) => ({
    server, tag: `mcp-reconciler-build/default/${server}:ab12`, source: 'build: .', state, startedAt: new Date().toISOString(),
    finishedAt: null, step: 'Step 4/9 : RUN npm ci', lastLines: ['Step 4/9 : RUN npm ci', last], error: null,
  });
  v.doc.builds = [build('hello', 'building', 'added 91 packages'), build('think', 'built', 'done'), build('bad', 'failed', 'npm ERR! 404')];
  const text = renderStatus(v);
  assert.match(text, /\nbuilds:\n {2}hello building mcp-reconciler-build\/default\/hello:ab12 \(build: \.\) since \d+s: Step 4\/9 /);
  assert.match(text, /RUN npm ci \| added 91 packages\n {2}bad failed .*\| npm ERR! 404\n/);
  assert.doesNotMatch(text, /think built/);
});
