import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, unlinkSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { join } from 'node:path';
import { appendFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { DbProxy, managedGatewayOnDouble, UNUSED_DATABASE_URL } from '../litellm-db/proxy.js';
import { createStack, waitFor, docker, REPO, type Stack } from './harness.js';
import { FakeEdge } from '../litellm-db/upstream.js';
import { LiteLLMApi, apiServerId } from '../../src/litellm/api.js';
import { LiteLLMGateway } from '../../src/litellm/gateway-client.js';
import { Reconciler } from '../../src/reconcile/controller.js';
import { loadSettings, type Settings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log/logger.js';
import { InMemoryRuntime, MemoryConfigStore } from '../../src/testing/fake-runtime.js';
import { readGatewayConfig } from '../../src/litellm/config-file.js';
import { writeOps } from '../../src/model/types.js';
import { HealthMonitor } from '../../src/health/monitor.js';
import { apiIdPrefix } from '../../src/litellm/api.js';

/**
 * API mode against the real LiteLLM 1.77.3 proxy in database mode: its own handlers, start-up and
 * scheduled jobs, with an in-memory Prisma double for the database (test/litellm-db/). What the double
 * cannot show (real Postgres/Prisma behaviour, migrations) is listed in docs/adr/0008.
 */
const KEY = 'sk-dbmode-master';
const HTTP = (d: string) => `image: mcp/everything:1\ntransport: http\nport: 3001\ndescription: ${d}\n`;
/** Tool names through the gateway's /mcp/ (master key), sorted; throws with LiteLLM's error. */
async function listed(url: string, servers?: string[]): Promise<string[]> {
  const r = await new LiteLLMGateway(url, () => KEY).listTools({ timeoutMs: 10_000, ...(servers ? { servers } : {}) });
  if (!r.ok) throw new Error(`tools/list through ${url}/mcp/: ${r.error}`);
  return r.tools.sort();
}
const row = (over: Record<string, unknown> = {}) => ({
  server_id: 'a', server_name: 'srv_a', transport: 'http', url: 'http://127.0.0.1:9/mcp', mcp_info: {}, ...over,
});

describe('real LiteLLM 1.77.3 in database mode (Prisma double): what the design relies on', { timeout: 300_000 }, () => {
  let p: DbProxy;
  let edge: FakeEdge;
  let edgeUrl = '';
  before(async () => {
    edge = new FakeEdge();
    edgeUrl = await edge.listen();
    p = new DbProxy({ masterKey: KEY });
    await p.start();
  });
  after(async () => {
    await p?.close();
    edge?.close();
  });
  const tools = (): Promise<string[]> => listed(p.url);

  test('readiness says db "connected"; POST needs mcp_info as an object (Prisma Json null rule) ' +
    'and answers 201 with alias filled', async () => {
    assert.equal(((await p.call('GET', '/health/readiness')).json as { db: string }).db, 'connected');
    const bare = await p.call('POST', '/v1/mcp/server', {
      server_id: 'bare', server_name: 'srv_bare', transport: 'http', url: 'http://127.0.0.1:9/mcp',
    });
    assert.equal(bare.status, 500);
    assert.match(bare.text, /mcp_info.*Json/);
    const ok = await p.call('POST', '/v1/mcp/server', row({ url: `${edgeUrl}/srv-a/3001/mcp` }));
    assert.equal(ok.status, 201, ok.text);
    assert.equal((ok.json as { alias: string }).alias, 'srv_a');
    assert.deepEqual(await tools(), ['srv_a-echo', 'srv_a-whoami'], 'served at once, no restart');
  });

  test('errors: body validation is FastAPI 422 with a detail list; a duplicate id is 400; an unknown DELETE is 404', async () => {
    const v = await p.call('POST', '/v1/mcp/server', { server_name: 'srv_x', transport: 'http' });
    assert.equal(v.status, 422);
    assert.match(((v.json as { detail: { msg: string }[] }).detail[0]!).msg, /url is required for HTTP\/SSE transport/);
    const dup = await p.call('POST', '/v1/mcp/server', row());
    assert.equal(dup.status, 400);
    assert.match(dup.text, /MCP Server with id a already exists/);
    assert.equal((await p.call('DELETE', '/v1/mcp/server/nope')).status, 404);
  });

  test('PUT writes the row but not the memory: the old definition serves until DELETE + POST', async () => {
    const put = await p.call('PUT', '/v1/mcp/server', row({
      server_name: 'srv_renamed', alias: 'srv_renamed', url: `${edgeUrl}/srv-a/3001/mcp`,
    }));
    assert.equal(put.status, 202, put.text);
    assert.equal((await p.rows())['litellm_mcpservertable']!.find((r) => r['server_id'] === 'a')!['server_name'], 'srv_renamed');
    assert.deepEqual(await tools(), ['srv_a-echo', 'srv_a-whoami']);
    assert.equal((await p.call('DELETE', '/v1/mcp/server/a')).status, 202);
    assert.equal((await p.call('POST', '/v1/mcp/server', row({ server_name: 'srv_b', url: `${edgeUrl}/srv-b/3001/mcp` }))).status, 201);
    assert.deepEqual(await tools(), ['srv_b-echo', 'srv_b-whoami']);
  });

  test('audit trail: a tool call through /mcp/ writes one LiteLLM_SpendLogs row ' +
    'naming the call type, server, tool and hashed key', async () => {
    const client = new Client({ name: 'audit', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${p.url}/mcp/`), {
      requestInit: { headers: { 'x-litellm-api-key': `Bearer ${KEY}` } },
    }));
    const r = await client.callTool({ name: 'srv_b-echo', arguments: { message: 'audit me' } });
    await client.close();
    assert.match(JSON.stringify(r.content), /audit me/);
    // update_spend flushes the queue in batches (proxy_batch_write_at, ~10 s).
    const row = await waitFor('a spend log row', async () =>
      (await p.rows())['litellm_spendlogs']?.find((x) => x['call_type'] === 'call_mcp_tool'), 60_000, 500);
    const meta = (row['metadata'] as { mcp_tool_call_metadata: Record<string, unknown> }).mcp_tool_call_metadata;
    assert.deepEqual(
      {
        call: row['call_type'], tool: row['mcp_namespaced_tool_name'], server: meta['mcp_server_name'], name: meta['name'],
        args: meta['arguments'], key: row['api_key'], status: row['status'],
      },
      {
        call: 'call_mcp_tool', tool: 'srv_b/echo', server: 'srv_b', name: 'echo',
        args: { message: 'audit me' }, key: createHash('sha256').update(KEY).digest('hex'), status: 'success',
      },
    );
  });

  test('after a restart, DB servers are served only with STORE_MODEL_IN_DB (start-up load and 10 s poll)', async () => {
    await p.stop();
    await p.start();
    assert.deepEqual(await tools(), [], 'rows are in the database, but not loaded without store_model_in_db');
    await p.stop();
    const withStore = new DbProxy({ masterKey: KEY, env: { STORE_MODEL_IN_DB: 'True' } });
    // Same database: carry the rows over by re-creating them, then restart with the flag.
    await withStore.start();
    assert.equal((await withStore.call('POST', '/v1/mcp/server', row({
      server_id: 'c', server_name: 'srv_c', url: `${edgeUrl}/srv-c/3001/mcp`,
    }))).status, 201);
    await withStore.stop();
    await withStore.start();
    try {
      assert.deepEqual(await listed(withStore.url), ['srv_c-echo', 'srv_c-whoami'], 'loaded from the database at start-up');
    } finally {
      await withStore.close();
    }
    await p.start();
  });
});

describe('reconciler in API mode against the real LiteLLM 1.77.3 in database mode (one worker)', { timeout: 600_000 }, () => {
  let p: DbProxy;
  let edge: FakeEdge;
  let edgeUrl = '';
  let dir = '';
  let settings: Settings;
  let config: MemoryConfigStore;
  let r: Reconciler;
  const desired = () => join(dir, 'desired-state');
  const ours = async () =>
    ((await p.rows())['litellm_mcpservertable'] ?? [])
      .map((x) => `${String(x['server_id'])} ${String(x['server_name'])} ${String(x['description'])}`)
      .sort();

  before(async () => {
    edge = new FakeEdge();
    edgeUrl = await edge.listen();
    p = new DbProxy({ masterKey: KEY, env: { STORE_MODEL_IN_DB: 'True' } });
    await p.start();
  });
  beforeEach(async () => {
    for (const x of (await p.rows())['litellm_mcpservertable'] ?? []) {
      await p.call('DELETE', `/v1/mcp/server/${encodeURIComponent(String(x['server_id']))}`);
    }
    dir = mkdtempSync(join(tmpdir(), 'apimode-'));
    mkdirSync(desired());
    mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
    writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), `LITELLM_MASTER_KEY=${KEY}\n`, { mode: 0o600 });
    writeFileSync(
      join(dir, 'settings.yaml'),
      `projectsRoot: ${dir}\nsecretsDir: ${dir}/secrets\ngateway:\n  managed: false\n  url: ${p.url}\nedge:\n  url: ${edgeUrl}\n`,
    );
    writeFileSync(join(desired(), 'mcp-alpha.yaml'), HTTP('first'));
    writeFileSync(join(desired(), 'mcp-beta.yaml'), HTTP('second'));
    settings = loadSettings({ file: join(dir, 'settings.yaml'), env: {} });
    config = new MemoryConfigStore();
    r = new Reconciler(settings, {
      runtime: new InMemoryRuntime(), config, gateway: null, api: new LiteLLMApi(p.url, () => KEY), log: createLogger({ level: 'silent' }),
    });
  });
  after(async () => {
    await p?.close();
    edge?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('auto -> API mode; POST with stable ids; tools served through /mcp/ at once; the second pass changes nothing', async () => {
    const first = await r.reconcile();
    assert.deepEqual(first.gatewayMode, { mode: 'api', why: 'the gateway has a database' });
    assert.deepEqual(first.result.failed, []);
    assert.deepEqual(await ours(), [
      `${apiServerId('default', 'alpha')} mcp_alpha first`,
      `${apiServerId('default', 'beta')} mcp_beta second`,
    ]);
    assert.deepEqual(await listed(p.url), ['mcp_alpha-echo', 'mcp_alpha-whoami', 'mcp_beta-echo', 'mcp_beta-whoami']);
    assert.deepEqual(readGatewayConfig(config.read(settings.gateway.configPath)).owned, {}, 'nothing in config.yaml');
    assert.deepEqual(writeOps((await r.reconcile()).plan), []);
  });

  test('a url: server (ADR 0022) is a row through the edge route, served at once; with auth: it waits, said why', async () => {
    writeFileSync(join(desired(), 'mcp-lan.yaml'), 'url: https://mcp.example.lan/mcp\ntransport: http\ndescription: remote\n');
    writeFileSync(join(dir, 'secrets', 'mcp-vault.env'), 'VAULT_TOKEN=v4ult\n', { mode: 0o600 });
    const vault = 'url: https://vault.example/mcp\ntransport: http\nauth:\n  type: bearer_token\n  secret: VAULT_TOKEN\n';
    writeFileSync(join(desired(), 'mcp-vault.yaml'), vault);
    const runtime = new InMemoryRuntime();
    const api = new LiteLLMApi(p.url, () => KEY);
    r = new Reconciler(settings, { runtime, config, gateway: null, api, log: createLogger({ level: 'silent' }) });
    const out = await r.reconcile();
    assert.deepEqual(out.result.failed, []);
    const row = ((await p.rows())['litellm_mcpservertable'] ?? []).find((x) => x['server_id'] === apiServerId('default', 'lan'));
    assert.equal(row?.['url'], `${edgeUrl}/mcp-lan/remote`);
    assert.equal(row?.['transport'], 'http');
    assert.deepEqual(await listed(p.url, ['mcp_lan']), ['mcp_lan-echo', 'mcp_lan-whoami'], 'through the (fake) edge route');
    assert.deepEqual([...runtime.containers.values()].map((c) => c.name).filter((n) => n === 'mcp-lan' || n === 'mcp-vault'), []);
    const blocked = out.plan.operations.find((o) => o.type === 'blocked' && o.server === 'vault');
    assert.match(blocked?.cause ?? '', /needs an upstream credential \(auth:\), which LiteLLM 1\.77\.3's management API cannot carry/);
    assert.ok(!JSON.stringify(await p.rows()).includes('v4ult'), 'the token is in no row');
    assert.deepEqual(writeOps((await r.reconcile()).plan), []);
  });

  test('status in API mode: Registered=True InGatewayDatabase from the rows (not config.yaml); False before the POST', async () => {
    const runtime = new InMemoryRuntime();
    const api = new LiteLLMApi(p.url, () => KEY);
    const monitor = new HealthMonitor({
      runtime, config, configPath: settings.gateway.configPath, gateway: new LiteLLMGateway(p.url, () => KEY), api,
      apiIdPrefix: apiIdPrefix('default'),
      observe: { namePrefix: settings.namePrefix, instance: settings.instance, network: settings.network },
      log: createLogger({ level: 'silent' }),
    });
    const registered = async () => {
      const out = await r.plan();
      monitor.update(out.input.servers, new Map(), [], out.gatewayMode.mode);
      await monitor.probeAll();
      return monitor.snapshot().map((h) => {
        const c = h.conditions.find((x) => x.type === 'Registered')!;
        const g = h.conditions.find((x) => x.type === 'GatewayReady')!;
        return `${h.name} ${c.status} ${c.reason} ${g.status}`;
      });
    };
    assert.deepEqual(await registered(), ['alpha False NotInGatewayDatabase False', 'beta False NotInGatewayDatabase False']);
    await r.reconcile();
    assert.deepEqual(await registered(), ['alpha True InGatewayDatabase True', 'beta True InGatewayDatabase True']);
  });

  test('every POST carries mcp_info (name, description): the row holds it', async () => {
    await r.reconcile();
    const rows = (await p.rows())['litellm_mcpservertable']!;
    assert.deepEqual(rows.find((x) => x['server_name'] === 'mcp_alpha')!['mcp_info'], { server_name: 'mcp_alpha', description: 'first' });
  });

  test('a change is DELETE then POST (PUT would not reach memory); the new definition serves at once', async () => {
    await r.reconcile();
    writeFileSync(join(desired(), 'mcp-alpha.yaml'), HTTP('changed'));
    const q = await r.reconcile();
    assert.deepEqual(
      q.plan.operations.map((o) => `${o.type} ${o.cause}`),
      ['api-delete description changed (update = delete + create)', 'api-create description changed'],
    );
    assert.deepEqual(q.result.failed, []);
    assert.ok((await ours()).includes(`${apiServerId('default', 'alpha')} mcp_alpha changed`));
    assert.deepEqual(await listed(p.url, ['mcp_alpha']), ['mcp_alpha-echo', 'mcp_alpha-whoami']);
  });

  test('a deleted file deregisters (gone from /mcp/ too); rows we do not own are never touched; a name clash is a conflict', async () => {
    await r.reconcile();
    assert.equal((await p.call('POST', '/v1/mcp/server', row({
      server_id: 'user-made', server_name: 'user_tool', url: `${edgeUrl}/user/1/mcp`,
    }))).status, 201);
    unlinkSync(join(desired(), 'mcp-beta.yaml'));
    const q = await r.reconcile();
    assert.deepEqual(
      q.plan.operations.map((o) => `${o.type} ${o.resourceId}`).slice(0, 2),
      [`api-delete gateway-api:${apiServerId('default', 'beta')}`, 'remove-container container:mcp-beta'],
      'deregistered before its container goes',
    );
    const t = await listed(p.url);
    assert.ok(!t.some((x) => x.startsWith('mcp_beta-')), t.join(','));
    assert.ok((await ours()).some((x) => x.startsWith('user-made ')));
    assert.equal((await p.call('POST', '/v1/mcp/server', row({
      server_id: 'user-clash', server_name: 'mcp_gamma', url: `${edgeUrl}/user/2/mcp`,
    }))).status, 201);
    writeFileSync(join(desired(), 'mcp-gamma.yaml'), HTTP('third'));
    const z = await r.reconcile();
    assert.ok(z.plan.operations.some((o) => o.type === 'conflict' && o.resourceId === 'gateway-api:mcp_gamma'));
    assert.ok(!(await ours()).some((x) => x.startsWith(apiServerId('default', 'gamma'))));
  });

  test('API mode -> config mode (gateway.mode: config): DELETEs first, then config.yaml', async () => {
    await r.reconcile();
    r.settings = { ...settings, gateway: { ...settings.gateway, mode: 'config' } };
    const q = await r.reconcile();
    assert.deepEqual(q.plan.operations.map((o) => o.type), ['api-delete', 'api-delete', 'write-gateway-config']);
    assert.deepEqual(await ours(), []);
    assert.deepEqual(Object.keys(readGatewayConfig(config.read(settings.gateway.configPath)).owned).sort(), ['mcp_alpha', 'mcp_beta']);
  });

  test('config mode -> API mode when the database appears: entries leave config.yaml before the POSTs', async () => {
    await p.stop();
    const plain = new DbProxy({ masterKey: KEY, env: { PRISMA_DOUBLE: 'off' } });
    await plain.start();
    try {
      const noDb = new Reconciler(settings, {
        runtime: new InMemoryRuntime(), config, gateway: null, api: new LiteLLMApi(plain.url, () => KEY),
        log: createLogger({ level: 'silent' }),
      });
      const first = await noDb.reconcile();
      assert.deepEqual(first.gatewayMode, { mode: 'config', why: 'the gateway has no database' });
      assert.deepEqual(Object.keys(readGatewayConfig(config.read(settings.gateway.configPath)).owned).sort(), ['mcp_alpha', 'mcp_beta']);
    } finally {
      await plain.close();
    }
    await p.start();
    const second = await r.reconcile();
    assert.equal(second.gatewayMode.mode, 'api');
    const types = second.plan.operations.map((o) => o.type);
    assert.ok(types.indexOf('write-gateway-config') < types.indexOf('api-create'), types.join(','));
    assert.deepEqual(readGatewayConfig(config.read(settings.gateway.configPath)).owned, {});
    assert.equal((await ours()).length, 2);
  });

  test('gateway.mode: api with the API down: registration waits, containers still reconcile', async () => {
    r.settings = { ...settings, gateway: { ...settings.gateway, mode: 'api' } };
    await p.stop();
    try {
      const q = await r.reconcile();
      assert.ok(q.plan.operations.some((o) => o.type === 'blocked' && o.resourceId === 'gateway-api'));
      assert.ok(q.plan.operations.some((o) => o.type === 'create-container' && o.resourceId === 'container:mcp-alpha'));
    } finally {
      await p.start();
    }
  });
});

describe('the managed gateway container in database mode (local LiteLLM image + the double mounted in)', { timeout: 1_200_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await createStack({ gateway: managedGatewayOnDouble() });
    // DATABASE_URL switches the gateway to the database image (mapped to the local image) and API mode;
    // the double keeps its rows in the container's own filesystem, so they survive `docker restart`.
    appendFileSync(stack.settings.gateway.envFile, `${UNUSED_DATABASE_URL}\nPRISMA_DOUBLE_STATE=/app/prisma-double.json\n`);
  });
  after(async () => {
    await stack?.cleanup();
  });
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(REPO, 'dist/src/main.js'), ...args, '--config', stack.settingsFile], {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });
  const served = () =>
    waitFor('mcp_everything tools through the gateway', async () => {
      const t = await stack.gateway.listTools({ servers: ['mcp_everything'], timeoutMs: 10_000 });
      return t.ok && t.tools.includes('mcp_everything-echo') ? t.tools : null;
    }, 300_000);

  test('drop a file -> API mode (POST, no config.yaml entry) -> tools through /mcp/; ' +
    'status exits 0 with Registered InGatewayDatabase', async () => {
    stack.copyExample('everything');
    // The first passes start the gateway (slow on a loaded machine); registration happens once its API
    // answers with a database. Converged = API mode, nothing failed, nothing left to write.
    const api = new LiteLLMApi(stack.settings.gateway.url, () => stack.masterKey);
    await waitFor('API mode with our row in the database', async () => {
      const out = await stack.reconciler.reconcile();
      if (out.gatewayMode.mode !== 'api' || out.result.failed.length > 0 || writeOps(out.plan).length > 0) return null;
      return (await api.list()).some((x) => x.server_id === apiServerId(stack.id, 'everything'));
    }, 400_000, 1_000);
    await served();
    assert.deepEqual(
      Object.keys(readGatewayConfig(readFileSyncText(stack.settings.gateway.configPath)).owned),
      [],
      'nothing in config.yaml',
    );
    const st = cli('status', 'everything');
    assert.equal(st.status, 0, st.stdout + st.stderr);
    assert.match(st.stdout, /Registered\s+True\s+InGatewayDatabase/);
  });

  test('docker restart of the gateway: its servers come back from the database without a pass (STORE_MODEL_IN_DB)', async () => {
    const c = docker.getContainer(`${stack.id}-litellm`);
    const env = ((await c.inspect()).Config.Env ?? []).filter((e) => e.startsWith('STORE_MODEL_IN_DB='));
    assert.deepEqual(env, ['STORE_MODEL_IN_DB=True']);
    await c.restart();
    await stack.gateway.waitReady(300_000);
    await served();
  });
});

function readFileSyncText(p: string): string | null {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}
