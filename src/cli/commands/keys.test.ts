import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeKey, gatewayGuarded } from './keys.js';
import { testSettings } from '../../testing/fixtures.js';
import { renderGatewayConfig } from '../../litellm/config-file.js';
import type { Settings } from '../../config/settings.js';
import type { CreatedKey } from '../../keys/keys.js';

const key: CreatedKey = {
  key: 'sk-secret',
  alias: 'mcp-reconciler/default/laptop',
  servers: [{ name: 'alpha', id: 'x' }],
  routes: ['mcp'],
  expires: null,
  budget: null,
  rotated: false,
};

describe('keys: what stderr says the key enforces (ADR 0019)', () => {
  test('guarded: calls to other servers are refused through /mcp/; not guarded: how to load the guard; never the key', () => {
    const guarded = describeKey('laptop', key, true);
    assert.match(guarded, /note: through \/mcp\/ it lists and calls only these servers' tools: the gateway guard refuses/);
    const bare = describeKey('laptop', key, false);
    assert.match(bare, /does not refuse a call to them by name; list mcp_reconciler_guard\.guard under litellm_settings\.callbacks/);
    for (const t of [guarded, bare]) assert.doesNotMatch(t, /sk-secret/);
  });

  test('routes: mcp only by default (/mcp-rest/ refused); with llm, that the LLM API\'s MCP tools ignore the servers', () => {
    const mcp = describeKey('laptop', key, true);
    assert.match(mcp, new RegExp(
      'routes mcp;.*\\nnote: LiteLLM accepts this key only on \\/mcp\\/ \\(allowed_routes mcp_routes\\); ' +
        '\\/mcp-rest\\/, the LLM API and the management API refuse it',
    ));
    const llm = describeKey('laptop', { ...key, routes: ['mcp', 'llm'] }, true);
    assert.match(llm, /routes mcp,llm;.*\nnote: LiteLLM accepts this key on \/mcp\/ and its LLM API .* not limited to these servers/);
  });

  test('gatewayGuarded: a managed gateway always; an unmanaged one when its config.yaml lists the guard', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keys-guard-'));
    try {
      mkdirSync(join(dir, 'litellm'));
      const unmanaged = (): Settings => {
        const s = testSettings({ MCP_RECONCILER_PROJECTS_ROOT: dir });
        return { ...s, gateway: { ...s.gateway, managed: false } };
      };
      assert.equal(gatewayGuarded(testSettings({ MCP_RECONCILER_PROJECTS_ROOT: dir })), true);
      assert.equal(gatewayGuarded(unmanaged()), false, 'no config.yaml');
      writeFileSync(join(dir, 'litellm', 'config.yaml'), renderGatewayConfig(null, {}, false));
      assert.equal(gatewayGuarded(unmanaged()), false);
      writeFileSync(join(dir, 'litellm', 'config.yaml'), renderGatewayConfig(null, {}, true));
      assert.equal(gatewayGuarded(unmanaged()), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
