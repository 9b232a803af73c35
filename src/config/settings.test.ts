import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, resolveImage, LITELLM_IMAGE, LITELLM_DATABASE_IMAGE } from './settings.js';
import { gatewayImage } from '../desired/resolve.js';

describe('settings', () => {
  test("defaults match the user's layout, resolved for the user", () => {
    const s = loadSettings({ env: { HOME: '/home/u' }, cwd: '/' });
    assert.ok(s.projectsRoot.endsWith('/projects/mcp'));
    assert.equal(s.desiredDir, join(s.projectsRoot, 'desired-state'));
    assert.ok(s.secretsDir.endsWith('/projects/secrets'));
    assert.equal(s.gateway.envFile, join(s.secretsDir, 'mcp-litellm.env'));
    assert.equal(s.gateway.configPath, join(s.projectsRoot, 'litellm', 'config.yaml'));
    assert.equal(s.gateway.image, undefined, 'chosen from the env file: see gatewayImage');
    assert.equal(s.network, 'mcp-net');
    assert.equal(s.gateway.managed, true);
    assert.equal(s.gateway.url, 'http://127.0.0.1:4000');
    assert.equal(s.images.pull, 'missing', 'production pulls a missing image; tests set never');
  });

  test('reach: network (the daemon in a container): the gateway by container name, set from the environment', () => {
    const env = { HOME: '/home/u', MCP_RECONCILER_REACH: 'network', MCP_RECONCILER_STATUS_ADDRESS: '0.0.0.0' };
    const s = loadSettings({ env, cwd: '/' });
    assert.equal(s.reach, 'network');
    assert.equal(s.statusAddress, '0.0.0.0');
    assert.equal(s.gateway.url, 'http://mcp-litellm:4000');
    assert.equal(loadSettings({ env: { HOME: '/home/u' }, cwd: '/' }).reach, 'host');
    assert.throws(() => loadSettings({ env: { HOME: '/home/u', MCP_RECONCILER_REACH: 'bridge' }, cwd: '/' }), /reach/);
  });

  test('file values resolve relative to the file; env overrides win', () => {
    const dir = mkdtempSync(join(tmpdir(), 'settings-'));
    try {
      const f = join(dir, 'settings.yaml');
      writeFileSync(f, 'projectsRoot: ./p\nimageOverrides:\n  a:1: local/a:test\nimages:\n  pull: never\ngateway:\n  hostPort: 4100\n');
      const s = loadSettings({ file: f, env: { MCP_RECONCILER_NETWORK: 'other-net' } });
      assert.equal(s.projectsRoot, join(dir, 'p'));
      assert.equal(s.network, 'other-net');
      assert.equal(s.gateway.hostPort, 4100);
      assert.equal(resolveImage(s, 'a:1'), 'local/a:test');
      assert.equal(resolveImage(s, 'b:1'), 'b:1');
      assert.equal(s.images.pull, 'never');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('gateway image: pinned 1.77.3, the database variant when DATABASE_URL is configured, the setting wins', () => {
    const s = loadSettings({ env: {}, cwd: '/' });
    assert.equal(gatewayImage(s, 'LITELLM_MASTER_KEY=sk-1\n'), LITELLM_IMAGE);
    assert.equal(gatewayImage(s, 'LITELLM_MASTER_KEY=sk-1\nDATABASE_URL=postgresql://x@db/litellm\n'), LITELLM_DATABASE_IMAGE);
    assert.equal(gatewayImage({ ...s, gateway: { ...s.gateway, image: 'mine:1' } }, 'DATABASE_URL=x\n'), 'mine:1');
    assert.equal(LITELLM_IMAGE, 'ghcr.io/berriai/litellm:v1.77.3-stable');
    assert.equal(LITELLM_DATABASE_IMAGE, 'ghcr.io/berriai/litellm-database:main-v1.77.3-stable');
  });

  test('a bad settings file gives a located error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'settings-'));
    try {
      const f = join(dir, 'settings.yaml');
      writeFileSync(f, 'network: mcp-net\ngatway:\n  hostPort: 1\n');
      assert.throws(() => loadSettings({ file: f, env: {} }), (e: Error) => {
        assert.equal(e.message, `${f}:2:1 gatway: unknown key`);
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
