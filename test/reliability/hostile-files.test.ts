import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseDesiredFile } from '../../src/desired/load.js';
import { Reconciler } from '../../src/reconcile/controller.js';
import { loadSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log/logger.js';
import { InMemoryRuntime, MemoryConfigStore } from '../../src/testing/fake-runtime.js';
import { writeOps } from '../../src/model/types.js';

const GOOD = 'image: mcp/everything:1\ntransport: http\nport: 3001\n';

/** Hostile or malformed desired files: bad YAML, alias bombs, wrong types, huge values, traversal, look-alikes. */
const hostile = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom(
    'image: [unclosed\n',
    'a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n' +
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
    `image: ${'x'.repeat(300_000)}\ntransport: http\nport: 1\n`,
    'image: a:1\ntransport: http\nport: 1\nmounts: ["../../../../etc/shadow:/x"]\n',
    'image: a:1\ntransport: http\nport: 1\nmounts: ["/var/run/docker.sock:/var/run/docker.sock"]\n',
    'image: a:1\ntransport: ht\u200btp\nport: 1\n',
    'image: a:1\ntransport: http\nport: 1e400\n',
    'image: a:1\ntransport: http\nport: -1\n',
    'image: a:1\ntransport: http\nport: 1\nenv:\n  "A=B": x\n',
    'image: a:1\ntransport: http\nport: 1\nnetworks: ["host; rm -rf /"]\n',
    '!!js/function "function(){}"\n',
    'image: !!binary aGVsbG8=\ntransport: http\nport: 1\n',
    '<<: *missing\n',
    '---\nimage: a:1\n---\nimage: b:1\n',
  ),
  fc.record({
    image: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    transport: fc.oneof(fc.constantFrom('http', 'sse', 'stdio', 'HTTP', 'websocket'), fc.string()),
    port: fc.oneof(fc.integer({ min: -10, max: 70000 }), fc.string(), fc.double()),
    name: fc.oneof(fc.constantFrom('x', 'еverything', 'X', '../x', 'litellm'), fc.string()),
  }).map((o) => JSON.stringify(o)),
);
/** Bad file names are refused on the name alone; the content property uses a valid name so content is what is tested. */
const BAD_NAMES = ['mcp-litellm.yaml', 'mcp-Х.yaml', 'mcp-..yaml', 'mcp-a b.yaml', `mcp-${'a'.repeat(60)}.yaml`, 'x.yaml'];

/** Every issue is located (file:line:col) and short: it quotes at most a clipped key. */
function assertLocated(issues: readonly { file: string; line: number; col: number; message: string; path: string }[]): void {
  for (const i of issues) {
    assert.match(`${i.file}:${i.line}:${i.col}`, /^desired-state\/.+:\d+:\d+$/);
    assert.ok(i.message.length > 0 && i.message.length <= 300, `message of ${i.message.length} characters`);
    assert.ok(i.path.length <= 300, `path of ${i.path.length} characters`);
  }
}

test('a bad file name is a located error whatever the content', () => {
  for (const name of BAD_NAMES) {
    const r = parseDesiredFile(GOOD, `desired-state/${name}`, name);
    assert.equal(r.server, null, name);
    assert.ok((r.invalid?.issues.length ?? 0) > 0, name);
    assertLocated(r.invalid?.issues ?? []);
  }
});

test('1,000 hostile desired files under a valid name: zero crashes, a located error for each invalid one, ' +
  'the last good state kept', async () => {
  const t0 = performance.now();
  let located = 0;
  fc.assert(
    fc.property(hostile, (text) => {
      const r = parseDesiredFile(text, 'desired-state/mcp-x.yaml', 'mcp-x.yaml');
      // Exactly one of the two, and whatever is reported is located and short.
      assert.notEqual(r.server === null, r.invalid === null);
      assertLocated([...(r.invalid?.issues ?? []), ...(r.server?.warnings ?? [])]);
      assert.ok(r.invalid === null || r.invalid.issues.some((i) => i.severity === 'error'));
      located += r.invalid ? 1 : 0;
      return true;
    }),
    { numRuns: 1000, seed: 20261125 },
  );
  // The generator is hostile by design: nearly every file is invalid (fixed seed, so a fixed count).
  assert.ok(located >= 950, `only ${located} of 1000 were refused`);
  // Now through the reconciler: a running server whose file turns hostile keeps running unchanged.
  const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
  try {
    const desired = join(dir, 'desired-state');
    mkdirSync(desired);
    mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
    writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
    writeFileSync(join(desired, 'mcp-x.yaml'), GOOD);
    const settings = loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: dir, MCP_RECONCILER_SECRETS_DIR: join(dir, 'secrets') } });
    const runtime = new InMemoryRuntime();
    const r = new Reconciler(settings, { runtime, config: new MemoryConfigStore(), gateway: null, log: createLogger({ level: 'silent' }) });
    await r.reconcile();
    const containers = (): string[] => [...runtime.containers.entries()].map(([id, c]) => `${c.name}=${id}`).sort();
    const before = containers();
    assert.equal(before.filter((n) => n.startsWith('mcp-x=')).length, 1);
    // Only invalid edits: a valid one may change the server on purpose.
    const samples = fc.sample(hostile, { numRuns: 100, seed: 7 }).filter((t) => parseDesiredFile(t, 'f', 'mcp-x.yaml').invalid !== null);
    assert.ok(samples.length >= 95, `only ${samples.length} invalid samples`);
    let kept = 0;
    for (const text of samples) {
      writeFileSync(join(desired, 'mcp-x.yaml'), text);
      const out = await r.reconcile();
      assert.equal(out.load.invalid.length, 1);
      const touched = writeOps(out.plan).filter((o) => o.resourceId === 'container:mcp-x');
      assert.deepEqual(touched, [], `an invalid file must not touch the running server: ${text.slice(0, 80)}`);
      assert.deepEqual(containers(), before);
      kept++;
      writeFileSync(join(desired, 'mcp-x.yaml'), GOOD);
      await r.reconcile();
    }
    assert.equal(kept, samples.length);
    console.log(`# hostile files: ${located} of 1000 refused with located errors, ` +
      `${kept}/${samples.length} invalid edits kept the running server, ${Math.round(performance.now() - t0)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
