import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { LiteLLMContractServer } from '../litellm-contract-server.js';
import { LiteLLMApi, apiServerId } from '../../src/litellm/api.js';
import { Reconciler } from '../../src/reconcile/controller.js';
import { loadSettings, type Settings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log/logger.js';
import { InMemoryRuntime, MemoryConfigStore } from '../../src/testing/fake-runtime.js';
import { readGatewayConfig } from '../../src/litellm/config-file.js';
import { writeOps } from '../../src/model/types.js';

const KEY = 'sk-contract-master';
const HTTP = (d: string) => `image: mcp/everything:1\ntransport: http\nport: 3001\ndescription: ${d}\n`;

describe('LiteLLM 1.77.3 database mode, per the contract server: what the design works around', () => {
  let c: LiteLLMContractServer;
  let base = '';
  before(async () => {
    c = new LiteLLMContractServer({ masterKey: KEY, workers: 2, config: [{ name: 'from_config', url: 'http://x/mcp', transport: 'http' }] });
    base = await c.listen();
  });
  after(() => c.close());
  const call = async (method: string, path: string, worker: number, body?: unknown) => {
    const r = await request(`${base}${path}`, { method: method as 'GET', headers: { authorization: `Bearer ${KEY}`, 'x-contract-worker': String(worker), ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await r.body.text();
    return { status: r.statusCode, json: text ? (JSON.parse(text) as unknown) : null };
  };
  const tools = async (worker: number) => ((await call('GET', '/v1/mcp/tools', worker)).json as { tools: { name: string }[] }).tools.map((t) => t.name).sort();

  test('POST reaches only the worker that handled it', async () => {
    const r = await call('POST', '/v1/mcp/server', 0, { server_id: 'a', server_name: 'srv_a', transport: 'http', url: 'http://a/mcp' });
    assert.equal(r.status, 201);
    assert.deepEqual(await tools(0), ['from_config-ping', 'srv_a-ping']);
    assert.deepEqual(await tools(1), ['from_config-ping']);
  });

  test('PUT writes the DB but never the memory', async () => {
    assert.equal((await call('PUT', '/v1/mcp/server', 0, { server_id: 'a', server_name: 'srv_renamed' })).status, 202);
    assert.deepEqual(await tools(0), ['from_config-ping', 'srv_a-ping'], 'the old definition serves');
  });

  test('DELETE leaves other workers stale until restart; 404 for an unknown id; 400 for a duplicate id or a "-" name', async () => {
    c.restart();
    assert.deepEqual(await tools(1), ['from_config-ping', 'srv_renamed-ping']);
    assert.equal((await call('DELETE', '/v1/mcp/server/a', 0)).status, 202);
    assert.deepEqual(await tools(0), ['from_config-ping']);
    assert.deepEqual(await tools(1), ['from_config-ping', 'srv_renamed-ping'], 'stale');
    assert.equal((await call('DELETE', '/v1/mcp/server/a', 0)).status, 404);
    await call('POST', '/v1/mcp/server', 0, { server_id: 'b', server_name: 'srv_b', transport: 'http', url: 'http://b/mcp' });
    assert.equal((await call('POST', '/v1/mcp/server', 0, { server_id: 'b', server_name: 'srv_b', transport: 'http', url: 'http://b/mcp' })).status, 400);
    assert.equal((await call('POST', '/v1/mcp/server', 0, { server_id: 'c', server_name: 'srv-c', transport: 'http', url: 'http://c/mcp' })).status, 400);
  });
});

describe('reconciler in API mode against the contract server (one worker, as the managed gateway runs)', () => {
  let c: LiteLLMContractServer;
  let dir = '';
  let settings: Settings;
  let config: MemoryConfigStore;
  let r: Reconciler;
  const desired = () => join(dir, 'desired-state');
  const rows = () => [...c.db.values()].map((x) => `${x.server_id} ${x.server_name} ${x.description}`).sort();

  beforeEach(async () => {
    c?.close();
    c = new LiteLLMContractServer({ masterKey: KEY, workers: 1 });
    const base = await c.listen();
    dir = mkdtempSync(join(tmpdir(), 'apimode-'));
    mkdirSync(desired());
    mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
    writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), `LITELLM_MASTER_KEY=${KEY}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'settings.yaml'), `projectsRoot: ${dir}\nsecretsDir: ${dir}/secrets\ngateway:\n  managed: false\n  url: ${base}\n`);
    writeFileSync(join(desired(), 'mcp-alpha.yaml'), HTTP('first'));
    writeFileSync(join(desired(), 'mcp-beta.yaml'), HTTP('second'));
    settings = loadSettings({ file: join(dir, 'settings.yaml'), env: {} });
    config = new MemoryConfigStore();
    const api = new LiteLLMApi(base, () => KEY);
    r = new Reconciler(settings, { runtime: new InMemoryRuntime(), config, gateway: null, api, log: createLogger({ level: 'silent' }) });
  });
  after(() => {
    c?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('auto -> API mode; POST with stable ids, read back; the second pass changes nothing', async () => {
    const first = await r.reconcile();
    assert.deepEqual(first.gatewayMode, { mode: 'api', why: 'the gateway has a database' });
    assert.deepEqual(first.result.failed, []);
    assert.deepEqual(rows(), [`${apiServerId('default', 'alpha')} mcp_alpha first`, `${apiServerId('default', 'beta')} mcp_beta second`]);
    assert.deepEqual([...c.memory[0]!.values()].map((m) => m.name).sort(), ['mcp_alpha', 'mcp_beta'], 'served at once, no restart');
    assert.deepEqual(readGatewayConfig(config.read(settings.gateway.configPath)).owned, {}, 'nothing in config.yaml');
    assert.deepEqual(writeOps((await r.reconcile()).plan), []);
  });

  test('a change is DELETE then POST (PUT would not reach memory); the new definition serves at once', async () => {
    await r.reconcile();
    writeFileSync(join(desired(), 'mcp-alpha.yaml'), HTTP('changed'));
    const p = await r.reconcile();
    assert.deepEqual(p.plan.operations.map((o) => `${o.type} ${o.cause}`), ['api-delete description changed (update = delete + create)', 'api-create description changed']);
    assert.ok(rows().includes(`${apiServerId('default', 'alpha')} mcp_alpha changed`));
  });

  test("a deleted file deregisters; rows we do not own are never touched; a name clash is a conflict", async () => {
    await r.reconcile();
    c.db.set('user-made', { ...c.db.get(apiServerId('default', 'alpha'))!, server_id: 'user-made', server_name: 'user_tool' });
    unlinkSync(join(desired(), 'mcp-beta.yaml'));
    const p = await r.reconcile();
    assert.deepEqual(p.plan.operations.map((o) => `${o.type} ${o.resourceId}`), [`api-delete gateway-api:${apiServerId('default', 'beta')}`, 'remove-container container:mcp-beta'], 'deregistered before its container goes');
    assert.ok(c.db.has('user-made'));
    c.db.set('user-clash', { ...c.db.get('user-made')!, server_id: 'user-clash', server_name: 'mcp_gamma' });
    writeFileSync(join(desired(), 'mcp-gamma.yaml'), HTTP('third'));
    const q = await r.reconcile();
    assert.ok(q.plan.operations.some((o) => o.type === 'conflict' && o.resourceId === 'gateway-api:mcp_gamma'));
    assert.ok(!c.db.has(apiServerId('default', 'gamma')));
  });

  test('config mode -> API mode when the database appears: entries leave config.yaml before the POSTs', async () => {
    c.database = false;
    const first = await r.reconcile();
    assert.equal(first.gatewayMode.mode, 'config');
    assert.deepEqual(Object.keys(readGatewayConfig(config.read(settings.gateway.configPath)).owned).sort(), ['mcp_alpha', 'mcp_beta']);
    c.database = true;
    const second = await r.reconcile();
    assert.equal(second.gatewayMode.mode, 'api');
    const types = second.plan.operations.map((o) => o.type);
    assert.ok(types.indexOf('write-gateway-config') < types.indexOf('api-create'), types.join(','));
    assert.deepEqual(readGatewayConfig(config.read(settings.gateway.configPath)).owned, {});
    assert.equal(c.db.size, 2);
  });

  test('API mode -> config mode (gateway.mode: config): DELETEs first, then config.yaml', async () => {
    await r.reconcile();
    r.settings = { ...settings, gateway: { ...settings.gateway, mode: 'config' } };
    const p = await r.reconcile();
    const types = p.plan.operations.map((o) => o.type);
    assert.deepEqual(types, ['api-delete', 'api-delete', 'write-gateway-config']);
    assert.equal(c.db.size, 0);
    assert.deepEqual(Object.keys(readGatewayConfig(config.read(settings.gateway.configPath)).owned).sort(), ['mcp_alpha', 'mcp_beta']);
  });

  test('gateway.mode: api with the API down: registration waits, containers still reconcile', async () => {
    r.settings = { ...settings, gateway: { ...settings.gateway, mode: 'api' } };
    c.close();
    const p = await r.reconcile();
    assert.ok(p.plan.operations.some((o) => o.type === 'blocked' && o.resourceId === 'gateway-api'));
    assert.ok(p.plan.operations.some((o) => o.type === 'create-container' && o.resourceId === 'container:mcp-alpha'));
  });
});
