import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Service {
  image?: string;
  profiles?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  group_add?: string[];
}

test('deploy/compose.yaml: no second LiteLLM, the reconciler sees host paths at the same paths', () => {
  const c = parse(readFileSync(join(repo, 'deploy/compose.yaml'), 'utf8')) as {
    services: Record<string, Service>;
    networks: Record<string, { external?: boolean }>;
  };
  for (const [name, s] of Object.entries(c.services)) {
    assert.ok(!/litellm/i.test(s.image ?? '') && name !== 'litellm', `compose must not start LiteLLM (${name})`);
  }
  const r = c.services['reconciler'] as Service;
  assert.deepEqual(r.profiles, ['container']);
  assert.ok(r.volumes?.includes('/var/run/docker.sock:/var/run/docker.sock'));
  assert.ok(r.volumes?.includes('${HOME}/projects:${HOME}/projects'), 'same path inside and outside');
  assert.equal(r.environment?.['MCP_RECONCILER_CONFIG'], '${HOME}/.config/mcp-reconciler/settings.yaml');
  assert.equal(c.networks['mcp-net']?.external, true);
  assert.equal(c.services['postgres']?.image, 'postgres:15');
});
