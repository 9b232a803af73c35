import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createStack, waitFor, docker, REPO, type Stack } from './harness.js';
import { writeOps } from '../../src/model/types.js';
import { Labels } from '../../src/docker/labels.js';
import { readGatewayConfig } from '../../src/litellm/config-file.js';

/**
 * The first vertical slice, end to end against the real dockerd and the real LiteLLM 1.77.3
 * proxy (local image of the pip package): drop a file -> tools listed through LiteLLM `/mcp/`;
 * edit -> recreated; delete -> gone from Docker and LiteLLM.
 */
describe('slice: one YAML file becomes an MCP server listed by the real LiteLLM 1.77.3', { timeout: 300_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await createStack();
  });
  after(async () => {
    await stack?.cleanup();
  });

  const gatewayTools = async (): Promise<string[] | null> => {
    const r = await stack.gateway.listTools();
    return r.ok ? r.tools : null;
  };
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(REPO, 'dist/src/main.js'), ...args, '--config', stack.settingsFile], {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });

  test('plan shows the changes and exits 2 before the first apply', () => {
    stack.copyExample('everything');
    const r = cli('plan');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stdout, new RegExp(`\\+ create-container container:${stack.id}-everything: not found`));
    assert.match(r.stdout, new RegExp(`\\+ create-container container:${stack.id}-litellm: not found`));
    const cfg = cli('litellm-config');
    assert.equal(cfg.status, 0, cfg.stderr);
    assert.match(cfg.stdout, new RegExp(
      `^mcp_servers:\\n  mcp_everything:\\n    url: http://${stack.id}-edge:8080/${stack.id}-everything/3001/mcp\\n` +
        '    transport: http\\n',
    ));
  });

  test('drop mcp-everything.yaml -> its tools appear in LiteLLM tools/list (master key)', async () => {
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed, []);
    const tools = await waitFor('mcp_everything tools through LiteLLM', async () => {
      const t = await gatewayTools();
      return t && t.includes('mcp_everything-echo') ? t : null;
    });
    assert.ok(tools.includes('mcp_everything-get-sum'), tools.join(','));
    const info = (await stack.containers()).find((c) => c.Names[0] === `/${stack.id}-everything`);
    assert.ok(info, 'container exists');
    assert.equal(info.Labels[Labels.Server], 'everything');
    assert.equal(info.Labels[Labels.Source], 'desired-state/mcp-everything.yaml');
    assert.ok(info.Ports.every((p) => !p.IP || p.IP === '127.0.0.1'), 'published on 127.0.0.1 only');
    const litellm = (await stack.containers()).find((c) => c.Names[0] === `/${stack.id}-litellm`);
    assert.ok(litellm?.Ports.some((p) => p.IP === '127.0.0.1' && p.PublicPort === stack.settings.gateway.hostPort));
  });

  test('a client-style tools/call through POST /mcp/ with x-litellm-api-key: Bearer works', async () => {
    const client = new Client({ name: 'itest', version: '1' });
    const t = new StreamableHTTPClientTransport(new URL(stack.gateway.mcpUrl), {
      requestInit: { headers: { 'x-litellm-api-key': `Bearer ${stack.masterKey}` } },
    });
    await client.connect(t);
    const r = await client.callTool({ name: 'mcp_everything-echo', arguments: { message: 'hello from the slice' } });
    await client.close();
    assert.match(JSON.stringify(r.content), /hello from the slice/);
  });

  test('doctor against the running stack: LiteLLM 1.77.3, /mcp redirects, no database; our config is clean', () => {
    const r = cli('doctor');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /info \[proxy\.ok\] LiteLLM 1\.77\.3 ready/);
    assert.match(r.stdout, /info \[proxy\.mcp-redirect\] \/mcp answers 307/);
    assert.match(r.stdout, /info \[proxy\.no-database\]/);
    assert.match(r.stdout, /info \[proxy\.servers\] 1 MCP server\(s\) registered/);
    assert.ok(!/(error|warning) \[/.test(r.stdout), r.stdout);
  });

  test('management API without a database: what the real proxy answers (config mode)', async () => {
    const { LiteLLMApi } = await import('../../src/litellm/api.js');
    const { request } = await import('undici');
    const base = stack.settings.gateway.url;
    const api = new LiteLLMApi(base, () => stack.masterKey);
    const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
      const r = await request(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${stack.masterKey}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: r.statusCode, text: await r.body.text() };
    };
    const post = await call('POST', '/v1/mcp/server', {
      server_id: 'x', server_name: 'x_y', transport: 'http', url: 'http://x/mcp', mcp_info: {},
    });
    const one = await call('GET', '/v1/mcp/server/anything');
    const tools = await call('GET', '/v1/mcp/tools');
    const real = {
      database: await api.database(),
      listed: (await api.list()).some((r) => r.server_name === 'mcp_everything'),
      post: `${post.status} ${/Database not connected/.test(post.text)}`,
      one: `${one.status} ${/Database not connected/.test(one.text)}`,
      tools: tools.status,
    };
    assert.deepEqual(real, { database: 'no-database', listed: true, post: '500 true', one: '500 true', tools: 200 });
    const out = await stack.reconciler.plan();
    assert.deepEqual(out.gatewayMode, { mode: 'config', why: 'the gateway has no database' });
    const st = cli('status');
    assert.match(st.stdout, /^gateway http:\/\/127\.0\.0\.1:\d+\/mcp\/  ready  config mode \(the gateway has no database\)/m);
  });

  test('second pass: empty plan and zero Docker writes; plan exits 0', async () => {
    stack.runtime.writes = [];
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(writeOps(out.plan), []);
    assert.deepEqual(stack.runtime.writes, []);
    const r = cli('plan');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /No changes/);
  });

  test('edit env -> container recreated, still served through LiteLLM', async () => {
    const before = (await stack.containers()).find((c) => c.Names[0] === `/${stack.id}-everything`);
    const text = readFileSync(join(REPO, 'desired-state/mcp-everything.yaml'), 'utf8');
    stack.writeDesired('everything', text.replace('env:\n  PORT: 3001\n', 'env:\n  PORT: 3001\n  GREETING: changed\n'));
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.plan.operations.map((o) => `${o.type} ${o.resourceId}`), [`recreate-container container:${stack.id}-everything`]);
    const after = (await stack.containers()).find((c) => c.Names[0] === `/${stack.id}-everything`);
    assert.ok(after && before && after.Id !== before.Id, 'a new container');
    const env = (await docker.getContainer(after.Id).inspect()).Config.Env;
    assert.ok(env.includes('GREETING=changed'));
    await waitFor('tools again after recreate', async () => ((await gatewayTools()) ?? []).includes('mcp_everything-echo'));
  });

  test('an unowned container with the same name is a conflict and is left alone', async () => {
    const squatter = await docker.createContainer({
      name: `${stack.id}-squatter`,
      Image: 'local/node-base:20',
      Cmd: ['node', '-e', 'setInterval(() => {}, 1e6)'],
      HostConfig: { Init: true },
    });
    stack.writeDesired('squatter',
      'image: mcp/everything:latest\ntransport: http\nport: 3001\ncommand: [node, dist/index.js, streamableHttp]\n');
    const r = cli('apply', '--once');
    assert.equal(r.status, 1, 'apply reports the conflict');
    assert.match(r.stdout, new RegExp(
      `! conflict container:${stack.id}-squatter: a container named ${stack.id}-squatter exists but is not managed by mcp-reconciler`,
    ));
    const info = await squatter.inspect();
    assert.equal(info.Id, squatter.id);
    assert.equal(info.Config.Labels[Labels.ManagedBy], undefined);
    stack.removeDesired('squatter');
    await squatter.remove({ force: true });
  });

  test('delete the file -> held while it is the last one, then (confirmed) gone from Docker and LiteLLM', async () => {
    stack.removeDesired('everything');
    // The dir is now empty while a server runs: the mass-deletion guard holds until confirmed.
    const held = await stack.reconciler.reconcile();
    assert.deepEqual(held.plan.operations.map((o) => o.type), ['prune-held']);
    assert.ok((await stack.containers()).some((c) => c.Names[0] === `/${stack.id}-everything`), 'still running');
    // status says so and is not exit 0 while the deletion waits for confirmation.
    const st = cli('status');
    assert.equal(st.status, 1, st.stdout);
    assert.match(st.stdout, new RegExp(`held or blocked[^\n]*\n {2}! prune-held container:${stack.id}-everything: `));
    const out = await stack.reconciler.reconcile({ allowEmpty: true });
    assert.deepEqual(out.result.failed, []);
    assert.ok(out.plan.operations.some((o) => o.type === 'remove-container' && o.resourceId === `container:${stack.id}-everything`));
    const names = (await stack.containers()).map((c) => c.Names[0]);
    assert.ok(!names.includes(`/${stack.id}-everything`), names.join(','));
    const view = readGatewayConfig(readFileSync(stack.settings.gateway.configPath, 'utf8'));
    assert.deepEqual(Object.keys(view.owned), []);
    const tools = await waitFor('gateway answering after restart', gatewayTools);
    assert.ok(!tools.some((t) => t.startsWith('mcp_everything-')), tools.join(','));
  });
});
