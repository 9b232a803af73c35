import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, symlinkSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../config/settings.js';
import { parseDesiredFile, loadDesiredDir } from './load.js';
import { resolveServer, checkServerInputs, serverEnvFile } from './resolve.js';
import { formatIssue } from '../errors/index.js';
import { checkPrivate } from './env-file.js';

const root = mkdtempSync(join(tmpdir(), 'confine-'));
after(() => rmSync(root, { recursive: true, force: true }));
const secrets = join(root, 'secrets');
const projects = join(root, 'projects');
mkdirSync(secrets, { mode: 0o700 });
mkdirSync(join(projects, 'x'), { recursive: true });
mkdirSync(join(root, 'outside'));
const SECRET = 'LITELLM_MASTER_KEY=sk-do-not-leak\n';
writeFileSync(join(secrets, 'mcp-litellm.env'), SECRET, { mode: 0o600 });
writeFileSync(join(secrets, 'mcp-y.env'), 'Y_TOKEN=y\n', { mode: 0o600 });
writeFileSync(join(secrets, 'team.env'), 'TEAM=t\n', { mode: 0o600 });
writeFileSync(join(secrets, 'open.env'), 'A=b\n', { mode: 0o644 });
chmodSync(join(secrets, 'open.env'), 0o644);
writeFileSync(join(root, 'outside', 'x.env'), 'A=b\n', { mode: 0o600 });
symlinkSync(join(root, 'outside', 'x.env'), join(secrets, 'escape.env'));
symlinkSync(join(secrets, 'mcp-litellm.env'), join(secrets, 'innocent.env'));
execFileSync('mkfifo', [join(secrets, 'fifo.env')]);
writeFileSync(join(projects, 'x', 'config.toml'), 'a = 1\n');
symlinkSync('/', join(projects, 'x', 'root'));
symlinkSync(join(projects, 'x', 'config.toml'), join(projects, 'x', 'inside-link'));
const settings = loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: projects, MCP_RECONCILER_SECRETS_DIR: secrets } });

function server(extra: string, name = 'x') {
  const r = parseDesiredFile(`image: a:1\ntransport: http\nport: 1\n${extra}`, `desired-state/mcp-${name}.yaml`, `mcp-${name}.yaml`);
  assert.ok(r.server, JSON.stringify(r.invalid));
  return r.server;
}
const F = 'desired-state/mcp-x.yaml';

describe('secrets confinement: a server gets its own env file or one inside secretsDir it names', () => {
  const refused: [string, string, string][] = [
    [
      "the gateway's env file",
      'envFile: mcp-litellm.env\n',
      `${F}:4:10 envFile: ${join(secrets, 'mcp-litellm.env')} is the gateway's env file`,
    ],
    [
      "the gateway's env file even as shared",
      'envFile: {path: mcp-litellm.env, shared: true}\n',
      `${F}:4:17 envFile.path: ${join(secrets, 'mcp-litellm.env')} is the gateway's env file`,
    ],
    [
      "a symlink to the gateway's env file",
      'envFile: innocent.env\n',
      `${F}:4:10 envFile: ${join(secrets, 'innocent.env')} is the gateway's env file`,
    ],
    ["another server's env file", 'envFile: mcp-y.env\n', `${F}:4:10 envFile: mcp-y.env is server "y"'s env file`],
    [
      'a symlink leading out of secretsDir',
      'envFile: escape.env\n',
      `${F}:4:10 envFile: ${join(secrets, 'escape.env')} resolves outside the secrets dir`,
    ],
    ['a missing file', 'envFile: nope.env\n', `${F}:4:10 envFile: ${join(secrets, 'nope.env')} does not exist`],
    [
      'a file others can read',
      'envFile: open.env\n',
      `${F}:4:10 envFile: ${join(secrets, 'open.env')} is readable by group or others (mode 644)`,
    ],
    ['a FIFO', 'envFile: fifo.env\n', `${F}:4:10 envFile: ${join(secrets, 'fifo.env')} is a FIFO, not a regular file`],
    [
      'a mount source through a symlink to /',
      'mounts: ["root/etc:/x"]\n',
      `${F}:4:10 mounts.0: source ${join(projects, 'x', 'root/etc')} resolves outside the server folder`,
    ],
    [
      'a missing mount source',
      'mounts: ["config.toml:/a", "missing.toml:/b"]\n',
      `${F}:4:28 mounts.1: source ${join(projects, 'x', 'missing.toml')} does not exist`,
    ],
  ];
  for (const [what, extra, expected] of refused) {
    test(`refuses ${what}, located, in validate and at apply`, () => {
      const d = server(extra);
      const got = checkServerInputs(settings, d).map(formatIssue);
      assert.ok(got.some((g) => g.startsWith(expected)), `expected ${JSON.stringify(expected)} in ${JSON.stringify(got)}`);
      assert.throws(() => resolveServer(settings, d));
      assert.ok(got.every((g) => !g.includes('sk-do-not-leak')));
    });
  }

  test("another server's file with shared: true, a plain file by name, the own default file", () => {
    assert.equal(serverEnvFile(settings, server('envFile: {path: mcp-y.env, shared: true}\n')), join(secrets, 'mcp-y.env'));
    assert.equal(serverEnvFile(settings, server('envFile: team.env\n')), join(secrets, 'team.env'));
    assert.equal(serverEnvFile(settings, server('', 'y')), join(secrets, 'mcp-y.env'));
    assert.equal(serverEnvFile(settings, server('')), null);
  });

  test("a server's env file is handed to its container, resolved; without one the container gets none", () => {
    assert.deepEqual(resolveServer(settings, server('envFile: team.env\n')).container!.envFiles, [join(secrets, 'team.env')]);
    assert.deepEqual(resolveServer(settings, server('', 'z2')).container!.envFiles, []);
  });

  test('mount sources resolve with realpath and stay inside the server folder', () => {
    const m = resolveServer(settings, server('mounts: ["config.toml:/a", "inside-link:/b"]\n'));
    assert.deepEqual(m.container!.binds, [`${join(projects, 'x', 'config.toml')}:/a:ro`, `${join(projects, 'x', 'config.toml')}:/b:ro`]);
  });

  test('an env file owned by another user is refused (unless we are root)', () => {
    assert.throws(() => checkPrivate('/f', { mode: 0o100600, uid: 1234 }, 1000), /belongs to uid 1234, not to this user \(uid 1000\)/);
    assert.doesNotThrow(() => checkPrivate('/f', { mode: 0o100600, uid: 1234 }, 0));
    assert.doesNotThrow(() => checkPrivate('/f', { mode: 0o100600, uid: 1000 }, 1000));
  });
});

describe("the gateway's env file, the digest key and other servers' files never reach a server", () => {
  // The gateway's env file configured elsewhere, so each of the three gateway checks is tested alone.
  const gw = { ...settings, gateway: { ...settings.gateway, envFile: join(secrets, 'gw.env') } };
  writeFileSync(join(secrets, 'gw.env'), SECRET, { mode: 0o600 });
  mkdirSync(join(secrets, 'sub'));
  mkdirSync(join(secrets, 'sub2'));
  writeFileSync(join(secrets, 'sub', 'mcp-litellm.env'), 'A=b\n', { mode: 0o600 });
  symlinkSync(join(secrets, 'sub', 'mcp-litellm.env'), join(secrets, 'alias-gw.env'));
  symlinkSync(join(secrets, 'team.env'), join(secrets, 'sub2', 'mcp-litellm.env'));
  symlinkSync(join(secrets, 'mcp-y.env'), join(secrets, 'alias-y.env'));
  symlinkSync(join(secrets, 'mcp-y.env'), join(secrets, 'mcp-z.env'));
  writeFileSync(join(secrets, 'mcp-w.env'), 'W=1\n', { mode: 0o600 });
  writeFileSync(join(secrets, '.mcp-reconciler-digest.key'), 'ab'.repeat(32), { mode: 0o600 });
  symlinkSync(join(secrets, 'loop-b.env'), join(secrets, 'loop-a.env'));
  symlinkSync(join(secrets, 'loop-a.env'), join(secrets, 'loop-b.env'));
  symlinkSync(join(projects, 'x', 'mloop-b'), join(projects, 'x', 'mloop-a'));
  symlinkSync(join(projects, 'x', 'mloop-a'), join(projects, 'x', 'mloop-b'));
  const issues = (extra: string, name = 'x', s = gw): string[] => checkServerInputs(s, server(extra, name)).map(formatIssue);

  test("the configured gateway env file, under any name, is refused", () => {
    assert.deepEqual(issues('envFile: gw.env\n'), [
      `${F}:4:10 envFile: ${join(secrets, 'gw.env')} is the gateway's env file (master key, database URL); ` +
        'it is never given to an MCP server',
    ]);
  });

  test('a symlink to a file named <prefix>litellm.env is refused as the gateway\'s', () => {
    assert.deepEqual(issues('envFile: alias-gw.env\n'), [
      `${F}:4:10 envFile: ${join(secrets, 'alias-gw.env')} is the gateway's env file (master key, database URL); ` +
        'it is never given to an MCP server',
    ]);
  });

  test('a path named <prefix>litellm.env is refused as the gateway\'s, wherever it leads', () => {
    assert.deepEqual(issues('envFile: sub2/mcp-litellm.env\n'), [
      `${F}:4:10 envFile: ${join(secrets, 'sub2', 'mcp-litellm.env')} is the gateway's env file (master key, database URL); ` +
        'it is never given to an MCP server',
    ]);
  });

  test("the reconciler's digest key is refused", () => {
    assert.deepEqual(issues('envFile: .mcp-reconciler-digest.key\n'), [
      `${F}:4:10 envFile: ${join(secrets, '.mcp-reconciler-digest.key')} is the reconciler's digest key; never given to a server`,
    ]);
  });

  test("a symlink to another server's env file is refused as that server's", () => {
    assert.deepEqual(issues('envFile: alias-y.env\n'), [
      `${F}:4:10 envFile: mcp-y.env is server "y"'s env file; to share it on purpose write envFile: {path: alias-y.env, shared: true}`,
    ]);
  });

  test("a server's own default env file that is a symlink to another server's is refused, naming the shared: true fix", () => {
    assert.deepEqual(issues('', 'z'), [
      'desired-state/mcp-z.yaml:1:1 envFile: mcp-y.env is server "y"\'s env file; ' +
        'to share it on purpose write envFile: {path: mcp-y.env, shared: true}',
    ]);
  });

  test("a server's env file resolves while the gateway's env file does not exist yet", () => {
    const noGateway = { ...settings, gateway: { ...settings.gateway, envFile: join(secrets, 'not-yet.env') } };
    assert.equal(serverEnvFile(noGateway, server('envFile: team.env\n')), join(secrets, 'team.env'));
  });

  test("a server may name its own <prefix><name>.env explicitly", () => {
    assert.deepEqual(issues('envFile: mcp-w.env\n', 'w'), []);
    assert.equal(serverEnvFile(gw, server('envFile: mcp-w.env\n', 'w')), join(secrets, 'mcp-w.env'));
  });

  test('a host-input problem is an error (validate fails on it), not a warning', () => {
    assert.deepEqual(checkServerInputs(gw, server('envFile: gw.env\n')).map((i) => i.severity), ['error']);
  });

  test('a symlink loop as env file or mount source is refused, located', () => {
    assert.deepEqual(issues('envFile: loop-a.env\n'), [`${F}:4:10 envFile: ${join(secrets, 'loop-a.env')} is a symlink loop`]);
    assert.deepEqual(issues('mounts: ["mloop-a:/a"]\n'), [`${F}:4:10 mounts.0: ${join(projects, 'x', 'mloop-a')} is a symlink loop`]);
  });
});

describe('validate checks auth.secret against the env file', () => {
  test('a secret the env file lacks is located at auth.secret, naming the file', () => {
    const got = checkServerInputs(settings, server('envFile: team.env\nauth:\n  type: bearer_token\n  secret: MISSING\n')).map(formatIssue);
    assert.deepEqual(got, [`${F}:7:11 auth.secret: ${join(secrets, 'team.env')} has no MISSING`]);
  });

  test('a secret present in the env file is no problem', () => {
    assert.deepEqual(checkServerInputs(settings, server('envFile: team.env\nauth:\n  type: bearer_token\n  secret: TEAM\n')), []);
  });

  test('auth without any env file names the file the server would need', () => {
    const got = checkServerInputs(settings, server('auth:\n  type: bearer_token\n  secret: T\n')).map(formatIssue);
    assert.deepEqual(got, [`${F}:6:11 auth.secret: needs the server's env file (${join(secrets, 'mcp-x.env')})`]);
  });
});

describe('desired files are read safely', () => {
  const desired = join(root, 'desired-state');
  mkdirSync(desired);
  writeFileSync(join(root, 'outside', 'shadow'), 'root:$6$secrethash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n');
  symlinkSync(join(root, 'outside', 'shadow'), join(desired, 'mcp-shadow.yaml'));
  execFileSync('mkfifo', [join(desired, 'mcp-fifo.yaml')]);
  writeFileSync(join(desired, 'real.yml.txt'), '');
  writeFileSync(join(desired, 'target.yaml.in'), 'image: a:1\ntransport: http\nport: 1\n');
  symlinkSync(join(desired, 'target.yaml.in'), join(desired, 'mcp-ok.yaml'));
  mkdirSync(join(desired, 'mcp-dir.yaml'));

  test('a symlink out of the desired dir is refused without echoing content; FIFO and folder refused; an inside symlink is read', () => {
    const load = loadDesiredDir(desired, root);
    assert.deepEqual(load.servers.map((s) => s.name), ['ok']);
    const msgs = load.invalid.flatMap((i) => i.issues.map(formatIssue)).sort();
    assert.deepEqual(msgs, [
      'desired-state/mcp-dir.yaml:1:1 cannot read: is a directory, not a regular file',
      'desired-state/mcp-fifo.yaml:1:1 cannot read: is a FIFO, not a regular file',
      'desired-state/mcp-shadow.yaml:1:1 cannot read: a symlink to a file outside the desired dir; refused',
    ]);
    assert.deepEqual(load.invalid.map((i) => i.name).sort(), ['dir', 'fifo', 'shadow']);
  });
});

describe("LiteLLM's config.yaml is read like any input", () => {
  test('a FIFO in its place is an error, not a hang', async () => {
    const { FileConfigStore } = await import('../litellm/file-store.js');
    const fifo = join(root, 'config.yaml');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => new FileConfigStore().read(fifo), /is a FIFO, not a regular file/);
  });
});

describe('a running server whose inputs turn bad keeps running as it was', () => {
  test("envFile -> the gateway's file, a mount through root -> /, a missing mount: no write touches it", async () => {
    const { Reconciler } = await import('../reconcile/controller.js');
    const { InMemoryRuntime, MemoryConfigStore } = await import('../testing/fake-runtime.js');
    const { createLogger } = await import('../log/logger.js');
    const { writeOps } = await import('../model/types.js');
    const desired = join(root, 'desired-running');
    mkdirSync(desired);
    const s = { ...settings, desiredDir: desired };
    const good = 'image: a:1\ntransport: http\nport: 1\n';
    writeFileSync(join(desired, 'mcp-x.yaml'), good);
    const runtime = new InMemoryRuntime();
    const r = new Reconciler(s, { runtime, config: new MemoryConfigStore(), gateway: null, log: createLogger({ level: 'silent' }) });
    await r.reconcile();
    const snapshot = (): string[] => [...runtime.containers.entries()].map(([id, c]) => `${c.name}=${id}`).sort();
    const before = snapshot();
    const bad = ['envFile: mcp-litellm.env\n', 'mounts: ["root/etc:/x"]\n', 'mounts: ["missing:/x"]\n'];
    for (const extra of bad) {
      writeFileSync(join(desired, 'mcp-x.yaml'), `${good}${extra}`);
      const out = await r.reconcile();
      assert.equal(out.problems.length, 1, extra);
      assert.deepEqual(writeOps(out.plan).filter((o) => o.resourceId === 'container:mcp-x'), [], extra);
      assert.deepEqual(snapshot(), before, extra);
      assert.ok(!JSON.stringify(out).includes('sk-do-not-leak'));
    }
  });
});
