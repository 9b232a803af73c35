import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { acquireLock, lockHolder, lockPath, LockHeldError, processStartTicks } from './instance-lock.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'mcpr-lock-'));

describe('instance lock', () => {
  test('a second taker is refused with the holder: pid, command, since', () => {
    const file = lockPath(dir(), 'x');
    const a = acquireLock(file, { command: 'run' });
    try {
      assert.throws(
        () => acquireLock(file, { command: 'apply --once' }),
        (err: unknown) =>
          err instanceof LockHeldError &&
          err.holder.pid === process.pid &&
          err.holder.command === 'run' &&
          err.message.includes(`pid ${process.pid}`) &&
          err.message.includes(a.holder.since),
      );
    } finally {
      a.release();
    }
    const b = acquireLock(file, { command: 'apply --once' });
    b.release();
    assert.equal(existsSync(file), false);
  });

  test('the lock of a process killed with SIGKILL is taken over at once (no timeout)', async () => {
    const d = dir();
    const file = lockPath(d, 'x');
    const mod = new URL('./instance-lock.js', import.meta.url).href;
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      const { acquireLock } = await import(${JSON.stringify(mod)});
      acquireLock(${JSON.stringify(file)}, { command: 'run' });
      process.stdout.write('held\\n');
      setInterval(() => {}, 1000);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => child.stdout!.once('data', () => r()));
    assert.equal(lockHolder(file)?.pid, child.pid);
    assert.throws(() => acquireLock(file, { command: 'apply --once' }), LockHeldError);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(existsSync(file), true, 'SIGKILL leaves the file behind');
    assert.equal(lockHolder(file), null, 'but it holds nothing');
    const mine = acquireLock(file, { command: 'apply --once' });
    assert.equal(lockHolder(file)?.pid, process.pid);
    mine.release();
    assert.deepEqual(readdirSync(d), [], 'no temp files left');
  });

  test('a live PID with another start time is a reused PID, not a holder', () => {
    const file = lockPath(dir(), 'x');
    const ticks = processStartTicks(process.pid);
    assert.notEqual(ticks, null, '/proc is readable here');
    writeFileSync(file, JSON.stringify({
      pid: process.pid, startTicks: ticks! + 1, host: hostname(), command: 'run', since: 'x', endpoint: null, token: null,
    }));
    const l = acquireLock(file, { command: 'run' });
    assert.equal(lockHolder(file)?.startTicks, ticks);
    l.release();
  });

  test('garbage in the lock file is stale; a holder on another host is assumed alive', () => {
    const file = lockPath(dir(), 'x');
    writeFileSync(file, 'not json');
    acquireLock(file, { command: 'run' }).release();
    writeFileSync(file, JSON.stringify({
      pid: 1, startTicks: null, host: `${hostname()}-other`, command: 'run', since: 'x', endpoint: null, token: null,
    }));
    assert.throws(() => acquireLock(file, { command: 'run' }), LockHeldError);
  });

  test('the daemon lock carries a token for its endpoint, mode 600; setEndpoint moves it and keeps the token', () => {
    const file = lockPath(dir(), 'x');
    const l = acquireLock(file, { command: 'run', endpoint: { address: '127.0.0.1', port: 9464 } });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const token = l.holder.token;
    assert.match(token ?? '', /^[0-9a-f]{48}$/);
    l.setEndpoint({ address: '127.0.0.1', port: 9999 });
    const onDisk = JSON.parse(readFileSync(file, 'utf8')) as { endpoint: { port: number }; token: string };
    assert.equal(onDisk.endpoint.port, 9999);
    assert.equal(onDisk.token, token);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    l.release();
    assert.equal(existsSync(file), false, 'release after setEndpoint still removes it');
  });

  test('release leaves a file that is no longer ours', () => {
    const file = lockPath(dir(), 'x');
    const l = acquireLock(file, { command: 'run' });
    writeFileSync(file, JSON.stringify({
      pid: 1, startTicks: null, host: 'elsewhere', command: 'run', since: 'x', endpoint: null, token: null,
    }));
    l.release();
    assert.equal(existsSync(file), true);
  });
});
