// Tests that kill the mutations of the safety checks (issue 15): each names the behaviour a
// broken check would lose. Kept apart from planner.test.ts so concurrent edits do not collide.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, type Settings } from '../config/settings.js';
import { checkServerName, parseDesiredFile, type DesiredLoad } from '../desired/load.js';
import { resolveServer, resolveServers } from '../desired/resolve.js';
import { pruneDecision } from './controller.js';
import { checkPrivate } from '../desired/env-file.js';
import { plan, type PlanInput } from './planner.js';
import { SCHEMA_VERSION } from '../desired/schema.js';
import { baseInput, converged, model, runningFor, testSettings, HTTP } from '../testing/fixtures.js';

function stack(): { dir: string; secrets: string; settings: Settings } {
  const dir = mkdtempSync(join(tmpdir(), 'safety-'));
  const secrets = join(dir, 'secrets');
  mkdirSync(secrets, { mode: 0o700 });
  writeFileSync(join(secrets, 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
  return { dir, secrets, settings: loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: dir, MCP_RECONCILER_SECRETS_DIR: secrets } }) };
}
const desired = (name: string, extra = '') =>
  parseDesiredFile(`image: mcp/x:1\ntransport: http\nport: 3001\n${extra}`, `mcp-${name}.yaml`, `mcp-${name}.yaml`).server!;

describe('secrets digest in the spec hash', () => {
  test('a rotated secret in the env file changes the spec hash, and the planner recreates the server', () => {
    const { secrets, settings } = stack();
    const envFile = join(secrets, 'mcp-gh.env');
    writeFileSync(envFile, 'TOKEN=old-secret\n', { mode: 0o600 });
    const before = resolveServer(settings, desired('gh'));
    writeFileSync(envFile, 'TOKEN=new-secret\n', { mode: 0o600 });
    const after = resolveServer(settings, desired('gh'));
    assert.notEqual(after.specHash, before.specHash, 'a new secret must give a new hash');
    const input = baseInput(settings, [after]);
    input.observed = { ...converged(input, ''), containers: [runningFor(before)] };
    const ops = plan(input).operations.filter((o) => o.resourceId === `container:${after.container!.name}`);
    assert.deepEqual(ops.map((o) => o.type), ['recreate-container']);
  });

  test('the same env file content gives the same spec hash (no recreate without a change)', () => {
    const { secrets, settings } = stack();
    writeFileSync(join(secrets, 'mcp-gh.env'), 'TOKEN=same\n', { mode: 0o600 });
    assert.equal(resolveServer(settings, desired('gh')).specHash, resolveServer(settings, desired('gh')).specHash);
  });

  test('neither the spec nor its hash input carries the secret value, only its keyed digest', () => {
    const { secrets, settings } = stack();
    writeFileSync(join(secrets, 'mcp-gh.env'), 'TOKEN=very-secret-value\n', { mode: 0o600 });
    const m = resolveServer(settings, desired('gh'));
    assert.match(m.container!.secretDigest ?? '', /^[0-9a-f]{32}$/);
    assert.ok(!JSON.stringify(m).includes('very-secret-value'));
  });
});

describe('mode 600 on secrets files', () => {
  for (const mode of [0o640, 0o604, 0o620, 0o602, 0o610, 0o601, 0o644]) {
    test(`an env file with mode ${mode.toString(8)} (group or others may access it) is refused with the chmod that fixes it`, () => {
      const { secrets, settings } = stack();
      const envFile = join(secrets, 'mcp-gh.env');
      writeFileSync(envFile, 'TOKEN=leaky-secret\n');
      chmodSync(envFile, mode);
      const r = resolveServers(settings, [desired('gh')]);
      assert.equal(r.models.length, 0, 'the server is not resolved');
      assert.equal(r.failures.length, 1);
      assert.match(r.failures[0]?.message ?? '', /chmod 600/);
      assert.ok(!r.failures[0]?.message.includes('leaky-secret'), 'the message names the file, never its content');
    });
  }
  for (const mode of [0o600, 0o400]) {
    test(`an env file with mode ${mode.toString(8)} (owner only) is accepted`, () => {
      const { secrets, settings } = stack();
      const envFile = join(secrets, 'mcp-gh.env');
      writeFileSync(envFile, 'TOKEN=x\n');
      chmodSync(envFile, mode);
      assert.equal(resolveServers(settings, [desired('gh')]).models.length, 1);
    });
  }
});

describe('mass-deletion guard (prune)', () => {
  const load = (over: Partial<DesiredLoad>): DesiredLoad => ({ dir: '/d', dirState: 'ok', servers: [], invalid: [], ...over });
  const oneServer = [{ name: 'a' }] as unknown as DesiredLoad['servers'];
  const oneInvalid = [{ name: 'a' }] as unknown as DesiredLoad['invalid'];

  test('an empty desired dir while servers run holds every removal until confirmed with --allow-empty', () => {
    const d = pruneDecision(load({}), 1, false);
    assert.equal(d.allowed, false);
    assert.match(d.reason, /empty while 1 server\(s\) run/);
    assert.match(d.reason, /--allow-empty/);
  });

  test('an empty desired dir with --allow-empty (or allowEmptyDesired) removes', () => {
    assert.deepEqual(pruneDecision(load({}), 3, true), { allowed: true, reason: '' });
  });

  test('an empty desired dir with nothing running has nothing to hold', () => {
    assert.equal(pruneDecision(load({}), 0, false).allowed, true);
  });

  test('a desired dir with files (valid or invalid) prunes only what no file wants', () => {
    assert.equal(pruneDecision(load({ servers: oneServer }), 2, false).allowed, true);
    assert.equal(pruneDecision(load({ invalid: oneInvalid }), 2, false).allowed, true);
  });

  for (const dirState of ['missing', 'unreadable'] as const) {
    test(`a ${dirState} desired dir never removes anything, even with --allow-empty`, () => {
      const d = pruneDecision(load({ dirState }), 2, true);
      assert.equal(d.allowed, false);
      assert.match(d.reason, new RegExp(`is ${dirState}`));
    });
  }

  test('a held prune reports prune-held for each server and removes no container', () => {
    const { settings } = stack();
    const m = resolveServer(settings, desired('gone'));
    const input = baseInput(settings, []);
    input.observed = { ...converged(baseInput(settings, [m]), ''), gatewayConfigText: '' };
    input.prune = { allowed: false, reason: 'held for the test' };
    const ops = plan(input).operations;
    assert.deepEqual(ops.filter((o) => o.type === 'remove-container'), []);
    const held = ops.filter((o) => o.type === 'prune-held');
    assert.deepEqual(held.map((o) => o.resourceId), [`container:${m.container!.name}`]);
    assert.match(held[0]?.cause ?? '', /held for the test/);
  });

  test('an allowed prune removes the server that has no desired file', () => {
    const { settings } = stack();
    const m = resolveServer(settings, desired('gone'));
    const input = baseInput(settings, []);
    input.observed = { ...converged(baseInput(settings, [m]), ''), gatewayConfigText: '' };
    const removed = plan(input).operations.filter((o) => o.type === 'remove-container').map((o) => o.resourceId);
    assert.ok(removed.includes(`container:${m.container!.name}`), JSON.stringify(removed));
  });
});

describe('reserved names', () => {
  // Written out, not imported: a mutated RESERVED_NAMES must not mutate the expectation too.
  for (const name of ['litellm', 'edge', 'net', 'reconciler', 'desired-state', 'secrets', 'litellm-db', 'litellm-x']) {
    test(`a server named "${name}" is refused: its container name would collide with the stack's own`, () => {
      assert.match(checkServerName(name) ?? '', /reserved/);
    });
  }
  for (const name of ['github', 'edges', 'my-litellm', 'netbox']) {
    test(`a server named "${name}" is allowed`, () => {
      assert.equal(checkServerName(name), null);
    });
  }
});

describe('owner of secrets files', () => {
  test('a private secrets file owned by another user is refused (root may read anyone’s), naming the fix', () => {
    assert.throws(
      () => checkPrivate('/s/mcp-x.env', { mode: 0o100600, uid: 1000 }, 1001),
      /belongs to uid 1000, not to this user \(uid 1001\); fix: chown/,
    );
    assert.doesNotThrow(() => checkPrivate('/s/mcp-x.env', { mode: 0o100600, uid: 1000 }, 1000));
    assert.doesNotThrow(() => checkPrivate('/s/mcp-x.env', { mode: 0o100600, uid: 1000 }, 0));
    assert.doesNotThrow(() => checkPrivate('/s/mcp-x.env', { mode: 0o100600, uid: 1000 }, undefined));
    assert.throws(() => checkPrivate('/s/mcp-x.env', { mode: 0o100640, uid: 0 }, 0), /chmod 600 \/s\/mcp-x.env/);
  });
});

describe('ownership of what the planner creates and touches', () => {
  const settings = testSettings();
  const a = model(settings, 'a', HTTP);
  const legacy = model(settings, 'legacy', 'image: a:1\ntransport: sse\nport: 8000\n');
  const settled = (input: PlanInput): PlanInput['observed'] => {
    const w = plan(input).operations.find((o) => o.type === 'write-gateway-config');
    return converged(input, w?.type === 'write-gateway-config' ? w.text : '');
  };
  // Written out, not built with ownerLabels: a mutated label must not mutate the expectation too.
  const owner = (role: string, server?: string): Record<string, string> => ({
    'io.mcp-reconciler.managed-by': 'mcp-reconciler',
    'io.mcp-reconciler.instance': settings.instance,
    'io.mcp-reconciler.role': role,
    'io.mcp-reconciler.schema-version': SCHEMA_VERSION,
    ...(server ? { 'io.mcp-reconciler.server': server } : {}),
  });

  test('the gateway network, server networks and volumes are created with our owner labels, their role and server', () => {
    const b = model(settings, 'b', `${HTTP}data: /data\n`);
    const ops = plan(baseInput(settings, [b])).operations;
    const labelsOf = (id: string): Record<string, string> | undefined => {
      const o = ops.find((x) => x.resourceId === id);
      return o?.type === 'create-network' || o?.type === 'create-volume' ? o.labels : undefined;
    };
    assert.deepEqual(labelsOf('network:mcp-net'), owner('network'));
    assert.deepEqual(labelsOf('network:mcp-net.b'), owner('network', 'b'));
    assert.deepEqual(labelsOf('volume:mcp-b-data'), owner('volume', 'b'));
    assert.deepEqual(labelsOf('volume:mcp-edge.docker'), owner('volume'));
  });

  test('an edge or gateway container we do not own is never connected to a server network', () => {
    const input = baseInput(settings, [a, legacy]);
    const o = settled(input);
    o.containers = o.containers.map((c) =>
      (c.role === 'edge' || c.role === 'gateway' ? { ...c, owned: false, role: null, networks: ['mcp-net'] } : c));
    const ops = plan({ ...input, observed: o }).operations;
    assert.deepEqual(ops.filter((x) => x.type === 'conflict').map((x) => x.resourceId), ['container:mcp-edge', 'container:mcp-litellm']);
    assert.deepEqual(ops.filter((x) => x.type === 'connect-network' || x.type === 'disconnect-network'), []);
  });

  test('a network we do not own is never detached from or removed, even when it carries a server label', () => {
    const input = baseInput(settings, [a]);
    const o = settled(input);
    o.networks = [...(o.networks ?? []), { name: 'mcp-net.x', owned: false, internal: false, server: 'x' }];
    o.containers = o.containers.map((c) => (c.role === 'edge' ? { ...c, networks: [...(c.networks ?? []), 'mcp-net.x'] } : c));
    assert.deepEqual(plan({ ...input, observed: o }).operations, []);
  });

  test('while pruning is held, a wanted server whose container we do not own still loses its config.yaml entry', () => {
    const input = baseInput(settings, [a]);
    const o = settled(input);
    assert.match(o.gatewayConfigText ?? '', /mcp_a:/);
    o.containers = o.containers.map((c) => (c.role === 'server' ? { ...c, owned: false, role: null, server: null, specHash: null } : c));
    const ops = plan({ ...input, observed: o, prune: { allowed: false, reason: 'held' } }).operations;
    const w = ops.find((x) => x.type === 'write-gateway-config');
    assert.ok(w?.type === 'write-gateway-config' && !w.text.includes('mcp_a:'), 'LiteLLM never points at a container we do not own');
  });

  test('API mode never registers a server whose container we do not own', () => {
    const input = baseInput(settings, [a]);
    const o = settled(input);
    o.containers = o.containers.map((c) => (c.role === 'server' ? { ...c, owned: false, role: null, server: null, specHash: null } : c));
    const api: PlanInput = { ...input, gateway: { ...input.gateway, mode: 'api' }, observed: { ...o, apiServers: [] } };
    assert.deepEqual(plan(api).operations.filter((x) => x.resourceId.startsWith('gateway-api')), []);
  });

  test('holding a server keeps only its own server container, not a container of another role carrying its name', () => {
    const input = baseInput(settings, [], { hold: ['legacy'] });
    input.observed = {
      networkExists: true, volumes: [], gatewayConfigText: null,
      containers: [runningFor(legacy), runningFor(legacy, { id: 'e1', name: 'mcp-edge', role: 'edge' })],
    };
    assert.deepEqual(plan(input).operations.filter((x) => x.type === 'remove-container').map((x) => x.resourceId), ['container:mcp-edge']);
  });
});
