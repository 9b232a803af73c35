import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createStack, docker, waitFor, REPO, type Stack } from './harness.js';
import { managedGatewayOnDouble, UNUSED_DATABASE_URL } from '../litellm-db/proxy.js';
import { writeOps, type Operation } from '../../src/model/types.js';
import { LiteLLMApi, apiServerId } from '../../src/litellm/api.js';
import { Reconciler } from '../../src/reconcile/controller.js';
import { FileConfigStore } from '../../src/litellm/file-store.js';
import { createLogger } from '../../src/log/logger.js';
import { progressingCondition } from '../../src/health/conditions.js';

/**
 * Servers built by the reconciler (ADR 0023) through the real LiteLLM 1.77.3: a `build:` folder
 * (examples/projects/hello, a Node project with src/index.js on the MCP SDK), an npm package and a
 * PyPI package, each on the local bases (scripts/images/build-package-bases.sh; never pulled), each
 * reaching a tool call through LiteLLM's /mcp/. The builds install from the npm registry and PyPI.
 */
const BASES = { packages: { nodeBase: 'local/node-pkg:22', pythonBase: 'local/python-pkg:3.11' } };
const THINK = 'package: npm:@modelcontextprotocol/server-sequential-thinking@2026.8.31\ntransport: stdio\negress: false\n';
const CLOCK =
  'package: pypi:mcp-server-time==2026.10.19\ntransport: stdio\negress: false\ncommand: [mcp-server-time, --local-timezone, UTC]\n';
const THOUGHT = (thought: string) => ({ thought, thoughtNumber: 1, totalThoughts: 1, nextThoughtNeeded: false });

function gatewayCaller(stack: () => Stack) {
  return async (name: string, args: Record<string, unknown>): Promise<string> => {
    const s = stack();
    const c = new Client({ name: 'itest', version: '1' });
    const headers = { 'x-litellm-api-key': `Bearer ${s.masterKey}` };
    await c.connect(new StreamableHTTPClientTransport(new URL(s.gateway.mcpUrl), { requestInit: { headers } }));
    try {
      return JSON.stringify((await c.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })).content);
    } finally {
      await (c.transport as StreamableHTTPClientTransport | undefined)?.terminateSession();
      await c.close();
    }
  };
}

const types = (ops: readonly Operation[]): string[] => ops.map((o) => `${o.type} ${o.resourceId}`);

describe('build: and package: servers through LiteLLM (config mode)', { timeout: 900_000 }, () => {
  let stack: Stack;
  let hello = '';
  const call = gatewayCaller(() => stack);
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(REPO, 'dist/src/main.js'), ...args, '--config', stack.settingsFile], {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });
  const tag = async (name: string): Promise<string> => (await docker.getContainer(`${stack.id}-${name}`).inspect()).Config.Image;

  before(async () => {
    stack = await createStack(BASES);
    hello = join(stack.settings.projectsRoot, 'hello');
    cpSync(join(REPO, 'examples/projects/hello'), hello, { recursive: true });
    stack.writeDesired('hello', readFileSync(join(hello, 'mcp-hello.yaml'), 'utf8'));
    stack.writeDesired('think', THINK);
    stack.writeDesired('clock', CLOCK);
  });
  after(async () => {
    await stack?.cleanup();
  });

  test('plan shows three builds and builds nothing (plan writes nothing)', async () => {
    const { plan } = await stack.reconciler.plan();
    const builds = plan.operations.filter((o) => o.type === 'build-image').map((o) => o.server).sort();
    assert.deepEqual(builds, ['clock', 'hello', 'think']);
    const images = await docker.listImages({ filters: { label: [`io.mcp-reconciler.instance=${stack.id}`] } });
    assert.deepEqual(images, [], 'nothing built by planning');
  });

  test('one pass builds the three images and runs their servers; each answers a tool call through LiteLLM', async () => {
    const started = Date.now();
    const out = await stack.reconciler.reconcile();
    const built = out.result.done.filter((o) => o.type === 'build-image').map((o) => o.server);
    assert.deepEqual(built.sort(), ['clock', 'hello', 'think']);
    assert.deepEqual(out.result.failed.filter((f) => f.op.server !== undefined).map((f) => f.error), [], 'every server ran');
    console.log(`# three builds and the stack in one pass: ${Math.round((Date.now() - started) / 1000)} s`);
    // LiteLLM may need more than its 120 s to get ready beside three builds on a loaded machine; the
    // daemon would try again, so does the test (apply --once) until nothing is left to do.
    await waitFor('the stack converged', async () => {
      const again = await stack.reconciler.reconcile({ retryNow: true });
      return again.result.failed.length === 0 && writeOps(again.plan).length === 0;
    }, 300_000, 2_000);
    for (const name of ['hello', 'think', 'clock']) {
      assert.match(await tag(name), new RegExp(`^mcp-reconciler-build/${stack.id}/${name}:[0-9a-f]{20}$`));
    }
    await waitFor('the three servers through LiteLLM', async () => {
      const r = await stack.gateway.listTools();
      return r.ok && ['mcp_hello-greet', 'mcp_think-sequentialthinking', 'mcp_clock-get_current_time'].every((t) => r.tools.includes(t));
    }, 180_000, 1_000);
    assert.match(await call('mcp_hello-greet', { name: 'Ada' }), /Hello, Ada!/);
    assert.match(await call('mcp_think-sequentialthinking', THOUGHT('one')), /thoughtNumber/);
    assert.match(await call('mcp_clock-get_current_time', { timezone: 'UTC' }), /"timezone\\?":\s*\\?"UTC/);
    const builds = stack.reconciler.builds().map((b) => `${b.server} ${b.state}`).sort();
    assert.deepEqual(builds, ['clock built', 'hello built', 'think built']);
  });

  test('built images carry the instance labels and the context hash; the steady state builds and writes nothing', async () => {
    const img = await docker.getImage(await tag('hello')).inspect();
    assert.equal(img.Config.Labels?.['io.mcp-reconciler.instance'], stack.id);
    assert.equal(img.Config.Labels?.['io.mcp-reconciler.server'], 'hello');
    assert.match(img.Config.Labels?.['io.mcp-reconciler.build-context'] ?? '', /^[0-9a-f]{64}$/);
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(types(writeOps(out.plan)), []);
  });

  test('a daemon restart (a new process planning) builds nothing', () => {
    const r = cli('plan');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /build-image/);
  });

  test('a file changed in the build context: new tag, rebuild, recreate; the old image goes at the next pass', async () => {
    const before = await tag('hello');
    const src = join(hello, 'src/index.js');
    writeFileSync(src, readFileSync(src, 'utf8').replace("const GREETING = 'Hello';", "const GREETING = 'Howdy';"));
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed.map((f) => f.error), []);
    const build = out.plan.operations.find((o) => o.type === 'build-image');
    assert.match(build?.cause ?? '', /^build context changed \([0-9a-f]{8} -> [0-9a-f]{8}\)$/);
    assert.deepEqual(types(writeOps(out.plan)).filter((t) => t.includes('hello')), [
      `build-image ${build!.resourceId}`,
      `recreate-container container:${stack.id}-hello`,
    ]);
    const after = await tag('hello');
    assert.notEqual(after, before);
    const greeting = async (): Promise<boolean> => /Howdy, Ada!/.test(await call('mcp_hello-greet', { name: 'Ada' }));
    await waitFor('the new greeting through LiteLLM', greeting, 60_000, 1_000);
    const next = await stack.reconciler.reconcile();
    assert.deepEqual(types(writeOps(next.plan)), [`remove-image image:${before}`]);
    await assert.rejects(docker.getImage(before).inspect(), /no such image/i);
    await docker.getImage('local/node-pkg:22').inspect(); // a base without our labels is never removed
  });

  test('a build that fails keeps the running container, waits for its backoff and shows the last lines', async () => {
    const running = await tag('hello');
    const dockerfile = join(hello, 'Dockerfile');
    const good = readFileSync(dockerfile, 'utf8');
    writeFileSync(dockerfile, good.replace('COPY src ./src', 'RUN echo "broken on purpose" && exit 3\nCOPY src ./src'));
    const out = await stack.reconciler.reconcile();
    assert.equal(out.result.failed.length, 1);
    assert.equal(out.result.failed[0]?.code, 'BuildFailed');
    assert.match(out.result.failed[0]?.error ?? '', /broken on purpose/);
    assert.equal(await tag('hello'), running, 'the old container keeps serving');
    assert.match(await call('mcp_hello-greet', { name: 'Bo' }), /Howdy, Bo!/);
    const b = stack.reconciler.builds().find((x) => x.server === 'hello');
    assert.equal(b?.state, 'failed');
    assert.ok(b?.lastLines.some((l) => l.includes('broken on purpose')), JSON.stringify(b));
    const held = await stack.reconciler.reconcile();
    assert.deepEqual(types(writeOps(held.plan)), [], 'no second try before the backoff');
    assert.ok(held.plan.operations.some((o) => o.type === 'backoff-held' && o.resourceId === `container:${stack.id}-hello`));
    // What the daemon's health monitor makes of the failure memory: status <name> shows this condition.
    const failure = stack.reconciler.failures().find((f) => f.object === `container:${stack.id}-hello`);
    const cond = progressingCondition(failure && { ...failure }, Date.now());
    assert.equal(`${cond.status} ${cond.reason}`, 'False BuildFailed');
    assert.match(cond.message, /broken on purpose/);
    // Back to the good Dockerfile: that context's image exists, so nothing is built or recreated.
    writeFileSync(dockerfile, good);
    const back = await stack.reconciler.reconcile();
    assert.deepEqual(types(writeOps(back.plan)), []);
  });

  test('validate: a build: folder outside the server folder and an unpinned package are located errors', () => {
    writeFileSync(join(stack.settings.desiredDir, 'mcp-bad.yaml'), 'build: ../hello\ntransport: stdio\n');
    writeFileSync(join(stack.settings.desiredDir, 'mcp-loose.yaml'), 'package: npm:left-pad@^1.3.0\ntransport: stdio\n');
    try {
      const r = cli('validate');
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /mcp-bad\.yaml:1:8 build: must stay inside the server folder/);
      assert.match(r.stdout + r.stderr, /mcp-loose\.yaml:1:10 package: not pinned: "\^1\.3\.0" is a range or tag/);
    } finally {
      stack.removeDesired('bad');
      stack.removeDesired('loose');
    }
  });
});

describe('a package: server in API mode (managed gateway on the Prisma double)', { timeout: 900_000 }, () => {
  let stack: Stack;
  const call = gatewayCaller(() => stack);
  before(async () => {
    stack = await createStack({ ...BASES, gateway: managedGatewayOnDouble() });
    appendFileSync(stack.settings.gateway.envFile, `${UNUSED_DATABASE_URL}\nPRISMA_DOUBLE_STATE=/app/prisma-double.json\n`);
    stack.writeDesired('think', THINK);
  });
  after(async () => {
    await stack?.cleanup();
  });

  test('built, registered through the API, called through /mcp/; a restarted reconciler builds nothing', async () => {
    const api = new LiteLLMApi(stack.settings.gateway.url, () => stack.masterKey);
    await waitFor('API mode with the built server registered', async () => {
      const out = await stack.reconciler.reconcile();
      if (out.gatewayMode.mode !== 'api' || out.result.failed.length > 0 || writeOps(out.plan).length > 0) return null;
      return (await api.list()).some((x) => x.server_id === apiServerId(stack.id, 'think'));
    }, 600_000, 1_000);
    await waitFor('its tool through LiteLLM', async () => {
      const t = await stack.gateway.listTools({ servers: ['mcp_think'], timeoutMs: 10_000 });
      return t.ok && t.tools.includes('mcp_think-sequentialthinking');
    }, 300_000, 1_000);
    assert.match(await call('mcp_think-sequentialthinking', THOUGHT('api')), /thoughtNumber/);
    const fresh = new Reconciler(stack.settings, {
      runtime: stack.runtime,
      config: new FileConfigStore(),
      gateway: stack.gateway,
      api,
      log: createLogger({ level: 'silent' }),
    });
    const { plan } = await fresh.plan();
    assert.deepEqual(types(writeOps(plan)), []);
  });
});
