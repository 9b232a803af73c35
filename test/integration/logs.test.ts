import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createStack, docker, waitFor, REPO, TEST_IMAGES, type Stack } from './harness.js';
import { ownerLabels } from '../../src/docker/labels.js';

const MAIN = join(REPO, 'dist/src/main.js');
const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (stdout|stderr|bridge) (.*)$/;

/** `logs` against real containers: an http server, a stdio server behind the edge, a container that is not ours. */
describe('logs', { timeout: 300_000 }, () => {
  let stack: Stack;
  let edgePort = 0;
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [MAIN, 'logs', ...args, '--config', stack.settingsFile], { encoding: 'utf8', timeout: 60_000 });
  /** What Docker itself has for a container (both streams, in order), as text lines: its multiplexed frames read here. */
  const dockerLines = async (name: string): Promise<string[]> => {
    const buf = await docker.getContainer(name).logs({ stdout: true, stderr: true, follow: false });
    let text = '';
    for (let at = 0; at + 8 <= buf.length; ) {
      const size = buf.readUInt32BE(at + 4);
      text += buf.subarray(at + 8, at + 8 + size).toString('utf8');
      at += 8 + size;
    }
    return text.split('\n').filter(Boolean);
  };
  /** A container running `script` under node, named `<id>-<name>`, with our labels or none. */
  const side = async (name: string, script: string, owned: boolean): Promise<void> => {
    const c = await docker.createContainer({
      name: `${stack.id}-${name}`,
      Image: TEST_IMAGES['mcp/everything:latest'],
      Entrypoint: ['node', '-e', script],
      Cmd: [],
      Labels: owned ? ownerLabels(stack.id, 'server', { server: name }) : {},
    });
    await c.start();
  };

  before(async () => {
    stack = await createStack({ gateway: { managed: false } });
    stack.copyExample('everything');
    stack.writeDesired('stdioev', 'image: mcp/everything:latest\ntransport: stdio\ncommand: ["node", "dist/index.js", "stdio"]\n');
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed, []);
    const edge = (await stack.containers()).find((c) => c.Names[0] === `/${stack.id}-edge`);
    assert.ok(edge, 'edge container');
    edgePort = edge.Ports.find((p) => p.PrivatePort === 8080)?.PublicPort ?? 0;
    assert.ok(edgePort > 0, 'edge port published');
    const healthz = `http://127.0.0.1:${edgePort}/healthz`;
    await waitFor('the edge to listen', async () => (await fetch(healthz).catch(() => null))?.ok, 60_000, 250);
  });
  after(async () => stack?.cleanup());

  test("an http server: the lines Docker has for its container, stamped and labelled by stream", async () => {
    const name = `${stack.id}-everything`;
    await waitFor('the server to log something', async () => (await dockerLines(name)).length > 0, 60_000, 250);
    const want = await dockerLines(name);
    const r = cli('everything');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    for (const l of lines) assert.match(l, LINE);
    // The container may log more between the two reads: what Docker had first is the CLI's beginning.
    assert.deepEqual(lines.slice(0, want.length).map((l) => LINE.exec(l)?.[2]), want.slice(-100));
  });

  test("a stdio server: its stderr and the edge's bridge lines about it, never its stdout (the MCP protocol)", async () => {
    const c = new Client({ name: 'itest', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${edgePort}/${stack.id}-stdioev/stdio/mcp`)));
    const echoed = await c.callTool({ name: 'echo', arguments: { message: 'logs-test-payload' } });
    assert.match(JSON.stringify(echoed.content), /logs-test-payload/);
    await c.close();
    let out = '';
    await waitFor('the bridge line in `logs stdioev`', async () => {
      const r = cli('stdioev');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /is a stdio server: its stdout is the MCP protocol \(not shown\)/);
      out = r.stdout;
      return /^\S+ bridge stdio bridge attached \(.*attaches=1/m.test(out);
    }, 60_000, 500);
    for (const l of out.trimEnd().split('\n')) assert.match(l, /^\S+ (stderr|bridge) /);
    // The tool result went over the container's stdout: Docker has it, `logs` does not show it.
    assert.ok((await dockerLines(`${stack.id}-stdioev`)).some((l) => l.includes('logs-test-payload')));
    assert.doesNotMatch(out, /logs-test-payload|jsonrpc/);
  });

  test('-f prints new lines as they come and stops on SIGINT with exit 0', async () => {
    await side('ticker', "let n = 0; setInterval(() => console.log('tick ' + n++), 200)", true);
    await waitFor('the ticker to log', async () => (await dockerLines(`${stack.id}-ticker`)).length > 0, 30_000, 100);
    const child = spawn(process.execPath, [MAIN, 'logs', 'ticker', '-f', '--tail', '1', '--config', stack.settingsFile]);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const ticks = (): number[] => [...out.matchAll(/ stdout tick (\d+)$/gm)].map((m) => Number(m[1]));
    // --tail 1 gives one line of the past; three more can only come from following.
    await waitFor('four ticks', async () => ticks().length >= 4, 60_000, 100);
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    const seen = ticks();
    assert.deepEqual(seen, seen.map((_, i) => (seen[0] as number) + i), 'consecutive, none lost or repeated');
  });

  test('a container that is not ours is refused, its log never printed', async () => {
    await side('foreign', "console.log('FOREIGN-LOG-LINE'); setInterval(() => {}, 1000)", false);
    await waitFor('the foreign container to log', async () => (await dockerLines(`${stack.id}-foreign`)).length > 0, 30_000, 100);
    const r = cli('foreign');
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`no container ${stack.id}-foreign of instance ${stack.id}; there are: .*everything.*stdioev`));
    assert.doesNotMatch(r.stderr, /FOREIGN-LOG-LINE/);
  });
});
