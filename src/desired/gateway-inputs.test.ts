// What the gateway container is built from (its env file, upstream credentials, config.yaml mount)
// and when a server's model is rebuilt: the branches of resolve.ts StrykerJS found unchecked
// (issue 15). Secrets are files of mode 600 in a temp dir; their values never appear in a result.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, type Settings } from '../config/settings.js';
import { parseDesiredFile } from './load.js';
import { gatewayCredentialProblems, gatewayImage, gatewayProblem, gatewaySpec, resolveServer, resolveServers } from './resolve.js';

function stack(env: Record<string, string> = {}): { secrets: string; settings: Settings } {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-inputs-'));
  const secrets = join(dir, 'secrets');
  mkdirSync(secrets, { mode: 0o700 });
  writeFileSync(join(secrets, 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-gateway-secret\n', { mode: 0o600 });
  return { secrets, settings: loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: dir, MCP_RECONCILER_SECRETS_DIR: secrets, ...env } }) };
}
const desired = (name: string, extra = '') =>
  parseDesiredFile(`image: mcp/x:1\ntransport: http\nport: 3001\n${extra}`, `mcp-${name}.yaml`, `mcp-${name}.yaml`).server!;
const AUTH = 'auth:\n  type: bearer_token\n  secret: TOKEN\n';

describe('the gateway container', () => {
  test('reads config.yaml read-only, runs one worker, is labelled as our gateway, and restarts unless stopped', () => {
    const { settings } = stack();
    const g = gatewaySpec(settings);
    assert.deepEqual(g.cmd, [
      '--config', '/app/litellm/config.yaml', '--port', String(settings.gateway.containerPort), '--num_workers', '1',
    ]);
    assert.deepEqual(g.binds[0], `${join(settings.projectsRoot, 'litellm')}:/app/litellm:ro`);
    assert.equal(g.labels['io.mcp-reconciler.role'], 'gateway');
    assert.equal(g.labels['io.mcp-reconciler.managed-by'], 'mcp-reconciler');
    assert.deepEqual([g.init, g.restart, g.volumes], [true, 'unless-stopped', []]);
    assert.deepEqual(g.envFiles, [settings.gateway.envFile]);
    assert.deepEqual(g.publish, { hostIp: settings.gateway.hostIp, hostPort: settings.gateway.hostPort });
    assert.deepEqual(g.networks, [{ name: settings.network, aliases: ['mcp-litellm'] }]);
    assert.deepEqual(
      [g.hardening.readOnlyRootFilesystem, g.hardening.memoryBytes, g.hardening.pids],
      [false, 2 * 1024 ** 3, 512],
      'LiteLLM writes below its install folder',
    );
    assert.match(g.secretDigest ?? '', /^[0-9a-f]{32}$/);
    assert.ok(!JSON.stringify(g).includes('sk-gateway-secret'), 'the master key is never in the spec');
  });

  test('without a usable env file it gets no env file and no secret digest', () => {
    const { secrets, settings } = stack();
    chmodSync(join(secrets, 'mcp-litellm.env'), 0o644);
    const g = gatewaySpec(settings);
    assert.deepEqual([g.envFiles, g.secretDigest], [[], null]);
  });

  test('a DATABASE_URL picks the database image and makes LiteLLM load its stored servers; a set image wins', () => {
    const { secrets, settings } = stack();
    assert.equal(gatewaySpec(settings).env['STORE_MODEL_IN_DB'], undefined);
    writeFileSync(join(secrets, 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-x\nDATABASE_URL=postgresql://u@h/db\n', { mode: 0o600 });
    const g = gatewaySpec(settings);
    assert.equal(g.env['STORE_MODEL_IN_DB'], 'True');
    assert.match(g.upstreamImage ?? '', /litellm-database/);
    const pinned: Settings = { ...settings, gateway: { ...settings.gateway, image: 'my/litellm:1' } };
    assert.equal(gatewayImage(pinned, 'DATABASE_URL=x\n'), 'my/litellm:1');
  });
});

describe('the gateway env file (master key) must exist and be private', () => {
  test('a missing file is a problem that says how to create it', () => {
    const { secrets, settings } = stack();
    rmSync(join(secrets, 'mcp-litellm.env'));
    assert.equal(
      gatewayProblem(settings),
      `gateway env file ${settings.gateway.envFile} is missing; create it (chmod 600) with LITELLM_MASTER_KEY=sk-...`,
    );
  });

  test('a file group or others may read is a problem naming the chmod, never the content; mode 600 is none', () => {
    const { secrets, settings } = stack();
    assert.equal(gatewayProblem(settings), null);
    chmodSync(join(secrets, 'mcp-litellm.env'), 0o640);
    const p = gatewayProblem(settings) ?? '';
    assert.match(p, /chmod 600/);
    assert.ok(!p.includes('sk-gateway-secret'));
  });
});

describe('upstream credentials (auth:) on the gateway', () => {
  test('reach the gateway as MCP_AUTH_<NAME>, dashes as underscores, read from the server’s env file', () => {
    const { secrets, settings } = stack();
    writeFileSync(join(secrets, 'mcp-my-srv.env'), 'TOKEN=t-1\n', { mode: 0o600 });
    const m = resolveServer(settings, desired('my-srv', AUTH));
    assert.deepEqual(m.auth, { type: 'bearer_token', file: join(secrets, 'mcp-my-srv.env'), key: 'TOKEN', gatewayVar: 'MCP_AUTH_MY_SRV' });
    assert.deepEqual(gatewaySpec(settings, [m]).envFromFiles, [
      { file: join(secrets, 'mcp-my-srv.env'), key: 'TOKEN', as: 'MCP_AUTH_MY_SRV' },
    ]);
    assert.equal(gatewaySpec(settings, []).envFromFiles, undefined);
  });

  test('a rotated or removed credential changes the gateway’s secret digest', () => {
    const { secrets, settings } = stack();
    const file = join(secrets, 'mcp-gh.env');
    writeFileSync(file, 'TOKEN=t-1\n', { mode: 0o600 });
    const m = resolveServer(settings, desired('gh', AUTH));
    const before = gatewaySpec(settings, [m]).secretDigest;
    writeFileSync(file, 'TOKEN=t-2\n', { mode: 0o600 });
    const rotated = gatewaySpec(settings, [m]).secretDigest;
    writeFileSync(file, 'OTHER=x\n', { mode: 0o600 });
    const removed = gatewaySpec(settings, [m]).secretDigest;
    assert.equal(new Set([before, rotated, removed]).size, 3);
    writeFileSync(file, 'TOKEN=\n', { mode: 0o600 });
    assert.equal(gatewaySpec(settings, [m]).secretDigest, removed, 'a removed credential reads as an empty one');
  });

  test('a credential file that lost mode 600, went missing or lost its key is a problem of that server only', () => {
    const { secrets, settings } = stack();
    const models = ['ok', 'leaky', 'gone', 'keyless'].map((n) => {
      writeFileSync(join(secrets, `mcp-${n}.env`), 'TOKEN=t\n', { mode: 0o600 });
      return resolveServer(settings, desired(n, AUTH));
    });
    const plain = resolveServer(settings, desired('plain'));
    chmodSync(join(secrets, 'mcp-leaky.env'), 0o644);
    rmSync(join(secrets, 'mcp-gone.env'));
    writeFileSync(join(secrets, 'mcp-keyless.env'), 'OTHER=t\n', { mode: 0o600 });
    const problems = gatewayCredentialProblems([...models, plain]);
    assert.deepEqual(problems.map((p) => [p.name, p.file]), ['leaky', 'gone', 'keyless'].map((n) => [n, join(secrets, `mcp-${n}.env`)]));
    assert.ok(problems.every((p) => p.message.startsWith('auth.secret: ')));
    assert.match(problems[0]?.message ?? '', /chmod 600/);
    assert.equal(problems[2]?.message, `auth.secret: ${join(secrets, 'mcp-keyless.env')} has no TOKEN`);
  });

  test('auth: without an env file is refused, naming the file it needs', () => {
    const { secrets, settings } = stack();
    const r = resolveServers(settings, [desired('gh', AUTH)]);
    assert.deepEqual(r.failures.map((f) => f.message), [`auth.secret TOKEN needs the server's env file (${join(secrets, 'mcp-gh.env')})`]);
  });
});

describe('when a server’s model is rebuilt', () => {
  test('the same parsed file gets a new spec hash once its secret is rotated', () => {
    const { secrets, settings } = stack();
    const d = desired('gh');
    writeFileSync(join(secrets, 'mcp-gh.env'), 'TOKEN=old\n', { mode: 0o600 });
    const before = resolveServer(settings, d);
    writeFileSync(join(secrets, 'mcp-gh.env'), 'TOKEN=new\n', { mode: 0o600 });
    assert.notEqual(resolveServer(settings, d).specHash, before.specHash);
    assert.notEqual(resolveServers(settings, [d]).models[0]?.specHash, before.specHash, 'resolveServers too');
  });

  test('the same parsed file under other settings gets a model for those settings', () => {
    const a = stack();
    const b = { ...a, settings: { ...a.settings, network: 'other-net' } };
    const d = desired('x');
    assert.equal(resolveServer(a.settings, d).network?.name, 'mcp-net.x');
    assert.equal(resolveServer(b.settings, d).network?.name, 'other-net.x');
    assert.equal(resolveServers(a.settings, [d]).models[0]?.network?.name, 'mcp-net.x');
    assert.equal(resolveServers(b.settings, [d]).models[0]?.network?.name, 'other-net.x');
  });
});
