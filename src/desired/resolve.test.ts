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
