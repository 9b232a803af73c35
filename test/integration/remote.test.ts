import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createStack, docker, waitFor, REPO, type Stack } from './harness.js';
import { HealthMonitor, type ServerHealth } from '../../src/health/monitor.js';
import { FileConfigStore } from '../../src/litellm/file-store.js';
import { createLogger } from '../../src/log/logger.js';
import { problemsOf } from '../../src/reconcile/controller.js';
import { Labels } from '../../src/docker/labels.js';

/**
 * url: servers (ADR 0022) against the real LiteLLM 1.77.3: two MCP servers the test itself starts on a
 * network it created (a stand-in for a LAN service), which only the edge joins (settings edge.networks).
 * The reconciler creates nothing for them, registers them, and LiteLLM lists and calls their tools;
 * one of them refuses requests without its bearer token, which comes from its env file.
 */
describe('url: servers (remote, no container)', { timeout: 300_000 }, () => {
  const lan = `lan${randomBytes(3).toString('hex')}`;
  const everything = `${lan}-everything`;
  const tools = `${lan}-tools`;
  const legacy = `${lan}-legacy`;
  const TOKEN = `tok-${randomBytes(8).toString('hex')}`;
  const work = mkdtempSync(join(tmpdir(), `mcpr-${lan}-`));
  let stack: Stack;
  let monitor: HealthMonitor;
  const health = (name: string): ServerHealth | undefined => monitor.snapshot().find((s) => s.name === name);
  const cond = (name: string, type: string) => health(name)?.conditions.find((c) => c.type === type);

  async function startServer(name: string, cmd: string[], env: string[], binds: string[]): Promise<void> {
    const c = await docker.createContainer({
      name,
      Image: 'local/mcp-everything:test',
      Cmd: cmd,
      Env: ['PORT=3001', ...env],
      HostConfig: { Init: true, NetworkMode: lan, Binds: binds },
    });
    await c.start();
  }

  async function mcp(): Promise<Client> {
    const c = new Client({ name: 'remote-test', version: '1' });
    const url = new URL(`${stack.settings.gateway.url}/mcp/`);
    const headers = { 'x-litellm-api-key': `Bearer ${stack.masterKey}` };
    await c.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
    return c;
  }

  before(async () => {
    await docker.createNetwork({ Name: lan });
    mkdirSync(join(work, 'tools'));
    copyFileSync(join(REPO, 'test/fixtures/tools-server.mjs'), join(work, 'tools', 'server.mjs'));
    writeFileSync(join(work, 'tools', 'tools.json'), JSON.stringify(['alpha', 'beta']));
    await startServer(everything, ['node', 'dist/index.js', 'streamableHttp'], [], []);
    await startServer(tools, ['node', '/app/server.mjs'], [`BEARER=${TOKEN}`], [
      `${join(work, 'tools', 'server.mjs')}:/app/server.mjs:ro`,
      `${join(work, 'tools', 'tools.json')}:/config/tools.json:ro`,
    ]);
    await startServer(legacy, ['node', 'dist/index.js', 'sse'], [], []);
    // http goes through the edge, sse straight from LiteLLM: each joins the network it needs.
    stack = await createStack({ edge: { networks: [lan] }, gateway: { networks: [lan] } });
    writeFileSync(join(stack.settings.secretsDir, `${stack.settings.namePrefix}secured.env`), `TOOLS_TOKEN=${TOKEN}\n`, { mode: 0o600 });
    stack.writeDesired('remote', `url: http://${everything}:3001/mcp\ntransport: http\ndescription: a LAN server\n`);
    stack.writeDesired('legacy', `url: http://${legacy}:3001/sse\ntransport: sse\n`);
    const auth = 'auth:\n  type: bearer_token\n  secret: TOOLS_TOKEN\n';
    // The edge applies a tool policy on the remote route too (ADR 0021): beta is hidden and refused.
    stack.writeDesired('secured', `url: http://${tools}:3001/mcp\ntransport: http\n${auth}tools:\n  deny: [beta]\n`);
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed, []);
    monitor = new HealthMonitor({
      runtime: stack.runtime,
      config: new FileConfigStore(),
      configPath: stack.settings.gateway.configPath,
      gateway: stack.gateway,
      observe: { namePrefix: stack.settings.namePrefix, instance: stack.settings.instance, network: stack.settings.network },
      log: createLogger({ level: 'silent' }),
    });
    monitor.update(out.input.servers, problemsOf(out));
  });
  after(async () => {
    monitor?.stop();
    await stack?.cleanup();
    for (const n of [everything, tools, legacy]) await docker.getContainer(n).remove({ force: true }).catch(() => undefined);
    await docker.getNetwork(lan).remove().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  test('nothing is created for them; the edge joins the given network and routes exactly their URLs', async () => {
    const ours = await stack.containers();
    assert.deepEqual(ours.filter((c) => c.Labels[Labels.Role] === 'server'), [], 'no server container');
    const edge = await docker.getContainer(`${stack.settings.namePrefix}edge`).inspect();
    assert.ok(Object.keys(edge.NetworkSettings.Networks).includes(lan), JSON.stringify(Object.keys(edge.NetworkSettings.Networks)));
    const routes = edge.Config.Cmd.filter((_, i, all) => all[i - 1] === '--remote');
    const prefix = stack.settings.namePrefix;
    assert.deepEqual(routes, [`${prefix}remote=http://${everything}:3001/mcp`, `${prefix}secured=http://${tools}:3001/mcp`]);
    const nets = await docker.listNetworks({ filters: { label: [`${Labels.Instance}=${stack.id}`] } });
    assert.deepEqual(nets.map((n) => n.Name), [stack.settings.network], 'the gateway network only, no server network');
  });

  test('config.yaml registers them through the edge and names the credential only as os.environ/', () => {
    const config = readFileSync(stack.settings.gateway.configPath, 'utf8');
    const prefix = stack.settings.namePrefix;
    assert.match(config, new RegExp(`mcp_remote:\\n\\s+url: http://${prefix}edge:8080/${prefix}remote/remote\\n\\s+transport: http`));
    assert.match(config, /auth_type: bearer_token\n\s+authentication_token: os\.environ\/MCP_AUTH_SECURED/);
    assert.ok(!config.includes(TOKEN), 'the token is not in config.yaml');
  });

  test('LiteLLM lists and calls their tools; every condition True', async () => {
    for (const name of ['remote', 'secured']) {
      await waitFor(`${name} GatewayReady`, async () => {
        await monitor.probe(name);
        return cond(name, 'GatewayReady')?.status === 'True';
      });
      const h = health(name)!;
      for (const c of h.conditions) assert.equal(c.status, 'True', `${name} ${c.type}: ${c.message}`);
      assert.equal(cond(name, 'ContainerRunning')?.reason, 'Remote');
    }
    assert.deepEqual(health('secured')!.gatewayTools.sort(), ['mcp_secured-alpha'], 'beta hidden by the tool policy');
    assert.ok(health('remote')!.gatewayTools.includes('mcp_remote-echo'), JSON.stringify(health('remote')!.gatewayTools));
    const c = await mcp();
    try {
      const echoed = await c.callTool({ name: 'mcp_remote-echo', arguments: { message: 'through the edge' } });
      assert.match(JSON.stringify(echoed.content), /through the edge/);
      const alpha = await c.callTool({ name: 'mcp_secured-alpha', arguments: {} });
      assert.deepEqual(alpha.content, [{ type: 'text', text: 'alpha' }]);
      const beta = await c.callTool({ name: 'mcp_secured-beta', arguments: {} });
      assert.deepEqual(beta.content, [{ type: 'text', text: 'MCP error -32602: Unknown tool: beta' }], 'refused at the edge');
    } finally {
      await c.close();
    }
  });

  test('an sse url: server is registered with its own URL and reached by LiteLLM directly', async () => {
    const config = readFileSync(stack.settings.gateway.configPath, 'utf8');
    assert.match(config, new RegExp(`mcp_legacy:\\n\\s+url: http://${legacy}:3001/sse\\n\\s+transport: sse`));
    // McpReady is probed from the daemon's side (the host), which cannot resolve a name on the test's network.
    await waitFor('legacy GatewayReady', async () => {
      await monitor.probe('legacy');
      return cond('legacy', 'GatewayReady')?.status === 'True';
    });
    const c = await mcp();
    try {
      const echoed = await c.callTool({ name: 'mcp_legacy-echo', arguments: { message: 'over sse' } });
      assert.match(JSON.stringify(echoed.content), /over sse/);
    } finally {
      await c.close();
    }
  });

  test('the secured server refuses a request without its token (so LiteLLM sent it)', async () => {
    const edge = (await stack.containers()).find((c) => c.Names.includes(`/${stack.settings.namePrefix}edge`))!;
    const port = edge.Ports.find((p) => p.PrivatePort === 8080)!.PublicPort;
    const params = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } };
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params };
    const post = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${port}/${stack.settings.namePrefix}secured/remote`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify(init),
      });
    assert.equal((await post({})).status, 401);
    assert.equal((await post({ authorization: `Bearer ${TOKEN}` })).status, 200);
  });
});
