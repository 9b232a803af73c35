import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createStack, waitFor, docker, REPO, type Stack } from './harness.js';
import { writeOps } from '../../src/reconcile/types.js';

/**
 * The daemon (`run`) against the real dockerd: Docker events make it notice a stopped container
 * long before the resync (set to 10 minutes here), and it survives a dockerd stop/start.
 */
describe('daemon', { timeout: 300_000 }, () => {
  let stack: Stack;
  let daemon: ChildProcess;
  let out = '';
  const example = readFileSync(join(REPO, 'desired-state/mcp-everything.yaml'), 'utf8');
  const find = async () => (await stack.containers()).find((c) => c.Names[0] === `/${stack.id}-everything`);

  before(async () => {
    stack = await createStack({ gateway: { managed: false }, resyncIntervalMs: 600_000 });
    stack.writeDesired('everything', example);
    daemon = spawn(process.execPath, [join(REPO, 'dist/src/main.js'), 'run', '--config', stack.settingsFile], {
      env: { ...process.env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    daemon.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('first reconcile by the daemon', async () => (await find())?.State === 'running');
  });
  after(async () => {
    daemon?.kill('SIGKILL');
    await stack?.cleanup();
  });

  test('a file dropped while it runs is applied (chokidar + debounce)', async () => {
    stack.writeDesired('second', example.replace('name: everything', 'name: second'));
    await waitFor('second server running', async () => (await stack.containers()).some((c) => c.Names[0] === `/${stack.id}-second` && c.State === 'running'), 30_000);
  });

  test('docker stop behind its back is undone within seconds (Docker events; resync is 10 min)', async () => {
    const c = await find();
    const t0 = Date.now();
    await docker.getContainer(c!.Id).stop({ t: 1 });
    await waitFor('container running again', async () => (await find())?.State === 'running', 20_000, 100);
    const ms = Date.now() - t0;
    assert.ok(out.includes('docker stop') || out.includes('docker die'), 'the pass was triggered by a Docker event');
    console.log(`# stop -> running again in ${ms} ms`);
  });

  test('survives a dockerd stop and start, and converges', async () => {
    const pid = execFileSync('pgrep', ['-xo', 'dockerd']).toString().trim();
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    process.kill(Number(pid), 'SIGTERM');
    await waitFor('dockerd gone', async () => {
      try {
        process.kill(Number(pid), 0);
        return false;
      } catch {
        return true;
      }
    }, 60_000);
    const log = openSync(join(tmpdir(), `dockerd-restart-${stack.id}.log`), 'a');
    const d = spawn(args[0]!, args.slice(1), { detached: true, stdio: ['ignore', log, log] });
    d.unref();
    await waitFor('dockerd answering', async () => {
      await docker.ping();
      return true;
    }, 60_000);
    await waitFor('daemon converged after the dockerd restart', async () => {
      const running = (await stack.containers()).filter((c) => c.State === 'running').length;
      return running === 3; // everything, second, edge
    }, 60_000);
    assert.equal(daemon.exitCode, null, 'the daemon is still running');
    assert.match(out, /docker event stream lost; reconnecting/);
    const p = await stack.reconciler.plan();
    assert.deepEqual(writeOps(p.plan), []);
  });

  test('SIGTERM: exits 0 within seconds and leaves every MCP container running', async () => {
    const t0 = Date.now();
    daemon.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => daemon.once('exit', (c) => r(c)));
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal((await find())?.State, 'running');
  });
});
