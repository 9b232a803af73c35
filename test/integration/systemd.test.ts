import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, createStack, waitFor, freePort } from './harness.js';

const cli = (...args: string[]) => spawnSync(process.execPath, [join(REPO, 'dist/src/main.js'), ...args], { encoding: 'utf8' });

describe('systemd unit and installer', () => {
  const root = mkdtempSync(join(tmpdir(), 'install-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('install stages unit, settings, folders and a 0600 master key; twice changes nothing', () => {
    const r = cli('install', '--user', 'root', '--root', root, '--no-enable');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /settings +\/root\/\.config\/mcp-reconciler\/settings\.yaml/);
    const env = join(root, 'root/projects/secrets/mcp-litellm.env');
    assert.equal(statSync(env).mode & 0o777, 0o600);
    assert.equal(statSync(join(root, 'root/projects/secrets')).mode & 0o777, 0o700);
    assert.match(readFileSync(env, 'utf8'), /^LITELLM_MASTER_KEY=sk-[0-9a-f]{48}\n$/);
    const key = readFileSync(env, 'utf8');
    const again = cli('install', '--user', 'root', '--root', root, '--no-enable');
    assert.equal(again.status, 0);
    assert.match(again.stdout, /kept as they were: .*mcp-litellm\.env/);
    assert.equal(readFileSync(env, 'utf8'), key, 'the key is not regenerated');
  });

  test('systemd-analyze verify accepts the rendered unit without a warning', () => {
    const unit = join(root, 'etc/systemd/system/mcp-reconciler.service');
    const text = readFileSync(unit, 'utf8');
    assert.match(text, /^Type=notify$/m);
    assert.match(text, /^NotifyAccess=all$/m);
    assert.match(text, /^Restart=on-failure$/m);
    assert.match(text, /^SupplementaryGroups=docker$/m);
    assert.match(text, new RegExp(`^ExecStart=${process.execPath} ${REPO}/dist/src/main.js run$`, 'm'));
    const v = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stderr.trim(), '', v.stderr);
  });

  test('systemd-analyze verify does flag a broken unit (the check can fail)', () => {
    const bad = join(root, 'bad.service');
    writeFileSync(bad, readFileSync(join(root, 'etc/systemd/system/mcp-reconciler.service'), 'utf8').replace('Type=notify', 'Type=notfy'));
    const v = spawnSync('systemd-analyze', ['verify', bad], { encoding: 'utf8' });
    assert.match(v.stderr, /Failed to parse service type|notfy/);
  });
});

describe('systemd notify', { timeout: 120_000 }, () => {
  test('READY=1 and a one-line STATUS reach $NOTIFY_SOCKET', async () => {
    const stack = await createStack({ gateway: { managed: false }, statusPort: await freePort() });
    const sock = join(stack.dir, 'notify.sock');
    // A stand-in for systemd's notify socket: a unix datagram socket that prints what it gets.
    const listener = spawn('python3', [
      '-u',
      '-c',
      'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("bound",flush=True)\n' +
        'while True:\n  print(s.recv(4096).decode().replace("\\n","|"),flush=True)',
      sock,
    ]);
    let got = '';
    listener.stdout.on('data', (d: Buffer) => (got += d.toString()));
    await waitFor('listener bound', async () => got.includes('bound'), 10_000, 50);
    stack.copyExample('everything');
    const daemon = spawn(process.execPath, [join(REPO, 'dist/src/main.js'), 'run', '--config', stack.settingsFile], {
      env: { ...process.env, NOTIFY_SOCKET: sock, LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });
    try {
      await waitFor('READY=1 with a status line', async () => /READY=1\|STATUS=1 server: 1 running/.test(got), 60_000);
    } finally {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
      listener.kill();
      await stack.cleanup();
    }
    assert.match(got, /STOPPING=1/);
  });
});
