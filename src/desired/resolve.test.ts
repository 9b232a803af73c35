import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../config/settings.js';
import { parseDesiredFile } from './load.js';
import { resolveServer, gatewaySpec } from './resolve.js';
import { plan } from '../reconcile/planner.js';
import { baseInput } from '../testing/fixtures.js';

describe('upstream credentials (auth:)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'auth-'));
  mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
  writeFileSync(join(dir, 'secrets', 'mcp-github.env'), 'GITHUB_TOKEN=ghp_secret_value\n', { mode: 0o600 });
  writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
  const settings = loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: dir, MCP_RECONCILER_SECRETS_DIR: join(dir, 'secrets') } });
  const desired = (extra: string) => parseDesiredFile(`image: gh:1\ntransport: http\nport: 8000\n${extra}`, 'f', 'mcp-github.yaml').server!;

  test('config mode: auth_type + authentication_token as os.environ/, the value only at create time', () => {
    const m = resolveServer(settings, desired('auth:\n  type: bearer_token\n  secret: GITHUB_TOKEN\n'));
    assert.equal(m.gatewayEntry?.['auth_type'], 'bearer_token');
    assert.equal(m.gatewayEntry?.['authentication_token'], 'os.environ/MCP_AUTH_GITHUB');
    const g = gatewaySpec(settings, [m]);
    assert.deepEqual(g.envFromFiles, [{ file: join(dir, 'secrets', 'mcp-github.env'), key: 'GITHUB_TOKEN', as: 'MCP_AUTH_GITHUB' }]);
    assert.ok(!JSON.stringify(g).includes('ghp_secret_value'), 'no secret value in the spec');
    assert.ok(!JSON.stringify(plan(baseInput(settings, [m]))).includes('ghp_secret_value'), 'no secret value in the plan');
  });

  test('a secret change changes the gateway hash input (keyed digest), not the spec text', () => {
    const m = resolveServer(settings, desired('auth:\n  type: bearer_token\n  secret: GITHUB_TOKEN\n'));
    const a = gatewaySpec(settings, [m]).secretDigest;
    writeFileSync(join(dir, 'secrets', 'mcp-github.env'), 'GITHUB_TOKEN=ghp_rotated\n', { mode: 0o600 });
    assert.notEqual(gatewaySpec(settings, [m]).secretDigest, a);
  });

  test('API mode: plainly blocked, since 1.77.3 has no field for it', () => {
    const m = resolveServer(settings, desired('auth:\n  type: api_key\n  secret: GITHUB_TOKEN\n'));
    const input = baseInput(settings, [m], { observed: { networkExists: true, containers: [], volumes: [], gatewayConfigText: null, apiServers: [] } });
    input.gateway = { ...input.gateway, mode: 'api' };
    const op = plan(input).operations.find((o) => o.resourceId === 'gateway-api:mcp-reconciler~default~github');
    assert.equal(op?.type, 'blocked');
    assert.match(op!.cause, /management API cannot carry/);
  });

  test('a missing secret is a clear error naming the file, not the value', () => {
    assert.throws(() => resolveServer(settings, desired('auth:\n  type: bearer_token\n  secret: NOPE\n')), /has no NOPE/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('LiteLLM on the host (both deployment shapes)', () => {
  test('edge.url and edge.hostPort: entries point at the published edge', async () => {
    const { testSettings, model, HTTP } = await import('../testing/fixtures.js');
    const s = testSettings();
    s.edge = { ...s.edge, hostPort: 8081, url: 'http://127.0.0.1:8081' };
    const http = model(s, 'web', HTTP);
    const stdio = model(s, 'mem', 'image: mcp/memory:1\ntransport: stdio\n');
    assert.equal(http.gatewayEntry?.['url'], 'http://127.0.0.1:8081/mcp-web/3001/mcp');
    assert.equal(stdio.gatewayEntry?.['url'], 'http://127.0.0.1:8081/mcp-mem/stdio/mcp');
    const { edgeSpec } = await import('./resolve.js');
    assert.deepEqual(edgeSpec(s).publish, { hostIp: '127.0.0.1', hostPort: 8081 });
    const d = testSettings();
    assert.equal(model(d, 'web', HTTP).gatewayEntry?.['url'], 'http://mcp-edge:8080/mcp-web/3001/mcp');
  });
});

describe('reach: network (the daemon in a container, deploy/compose.yaml)', () => {
  test('the edge serves the daemon\'s own container too (--peer-host); with reach: host its command is unchanged', async () => {
    const { testSettings } = await import('../testing/fixtures.js');
    const { edgeSpec } = await import('./resolve.js');
    const host = testSettings();
    const net = { ...testSettings(), reach: 'network' as const };
    const cmd = (x: typeof host): string[] => edgeSpec(x).cmd ?? [];
    assert.deepEqual(cmd(net).slice(-2), ['--peer-host', 'mcp-reconciler']);
    assert.deepEqual(cmd(net).slice(0, -2), cmd(host));
    assert.ok(!cmd(host).includes('--peer-host'));
  });
});

describe('the managed gateway container', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-'));
  mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
  const envFile = join(dir, 'secrets', 'mcp-litellm.env');
  const settingsFile = join(dir, 'settings.yaml');
  const load = (yaml = '') => {
    writeFileSync(settingsFile, `projectsRoot: ${dir}\nsecretsDir: ${dir}/secrets\n${yaml}`);
    return loadSettings({ file: settingsFile, env: {} });
  };

  test('with DATABASE_URL: the database image and STORE_MODEL_IN_DB (DB servers loaded at start and polled); without: neither', () => {
    writeFileSync(envFile, 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
    const plain = gatewaySpec(load());
    assert.equal(plain.upstreamImage, 'ghcr.io/berriai/litellm:v1.77.3-stable');
    assert.deepEqual(plain.env, { LITELLM_LOCAL_MODEL_COST_MAP: 'True' });
    writeFileSync(envFile, 'LITELLM_MASTER_KEY=sk-x\nDATABASE_URL=postgresql://l:p@db:5432/litellm\n', { mode: 0o600 });
    const db = gatewaySpec(load());
    assert.equal(db.upstreamImage, 'ghcr.io/berriai/litellm-database:main-v1.77.3-stable');
    assert.deepEqual(db.env, { LITELLM_LOCAL_MODEL_COST_MAP: 'True', STORE_MODEL_IN_DB: 'True' });
    assert.ok(!JSON.stringify(db).includes('postgresql://'), 'the URL stays in the env file');
  });

  test('gateway.networks are joined besides mcp-net; gateway.mounts and gateway.entrypoint are passed as given', () => {
    writeFileSync(envFile, 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
    const g = gatewaySpec(load('gateway:\n  networks: [pg-net, mcp-net]\n  mounts: ["/opt/double:/opt/double:ro"]\n  entrypoint: [/opt/py, /opt/double/launch.py]\n'));
    assert.deepEqual(g.networks, [{ name: 'mcp-net', aliases: ['mcp-litellm'] }, { name: 'pg-net', aliases: [] }]);
    assert.deepEqual(g.binds.slice(1), ['/opt/double:/opt/double:ro']);
    assert.deepEqual(g.entrypoint, ['/opt/py', '/opt/double/launch.py']);
    assert.deepEqual(g.cmd?.slice(0, 1), ['--config']);
  });

  test('a relative mount is refused with its location', () => {
    assert.throws(() => load('gateway:\n  mounts: ["double:/opt/double"]\n'), /settings\.yaml:4:\d+ gateway\.mounts\.0: host:container/);
  });

  test('the default gateway env file follows namePrefix (<secretsDir>/<prefix>litellm.env)', () => {
    assert.equal(load().gateway.envFile, envFile);
    assert.equal(load('namePrefix: t1-\n').gateway.envFile, join(dir, 'secrets', 't1-litellm.env'));
  });
});
