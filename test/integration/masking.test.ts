import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { createStack, waitFor, freePort, REPO, type Stack } from './harness.js';
import { notesPath } from '../../src/notes/deployment-notes.js';

/**
 * No secret in anything the operator reads, through the real code paths: a "gateway" on the
 * stack's gateway port answers every request with 401 and an error text that quotes the master key
 * and a value of the server's env file (as an upstream error might). That text becomes the
 * GatewayReady condition message; the CLI's `status` (without a daemon, then through it, and
 * `--watch`), the daemon's `/status`, its page, its log lines and the notes file must show
 * `[redacted]` instead. The env value has no credential shape: only masking by value hides it.
 */
describe('secrets are masked where the status document is made', { timeout: 300_000 }, () => {
  let stack: Stack;
  let gateway: Server;
  let daemon: ChildProcess | null = null;
  let logs = '';
  let statusPort = 0;
  const SECRET = `opensesame${randomBytes(6).toString('hex')}`;
  /** The CLI in a child process, waited for without blocking this process (the fake gateway answers from here). */
  const cli = (...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const argv = [join(REPO, 'dist/src/main.js'), ...args, '--config', stack.settingsFile];
      const p = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('error', reject);
      p.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  const secrets = (): string[] => [SECRET, stack.masterKey];
  const assertMasked = (what: string, text: string): void => {
    for (const s of secrets()) assert.ok(!text.includes(s), `${what} shows a secret`);
    const quoted = /HTTP 401 for initialize: [^\n]*invalid key \[redacted\][^\n]*said \S{0,12}\[redacted\]/;
    assert.match(text, quoted, `${what}: the quoted message`);
  };

  before(async () => {
    statusPort = await freePort();
    stack = await createStack({ gateway: { managed: false }, statusPort });
    stack.copyExample('everything');
    writeFileSync(join(stack.settings.secretsDir, `${stack.id}-everything.env`), `EVERYTHING_API_TOKEN=${SECRET}\n`, { mode: 0o600 });
    gateway = createServer((req, res) => {
      req.resume();
      const body = JSON.stringify({ error: `invalid key ${stack.masterKey}; upstream said "${SECRET}" is not accepted` });
      res.writeHead(401, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((r) => gateway.listen(stack.settings.gateway.hostPort, '127.0.0.1', r));
  });
  after(async () => {
    daemon?.kill('SIGKILL');
    gateway?.closeAllConnections();
    await new Promise((r) => gateway?.close(r));
    await stack?.cleanup();
  });

  test('status without a daemon (table, one server, --json) masks the quoted secrets', async () => {
    const one = await cli('status', 'everything');
    assert.equal(one.status, 1, one.stderr);
    assert.match(one.stdout, /GatewayReady +False +GatewayDown/);
    assertMasked('status everything', one.stdout);
    const json = await cli('status', '--json');
    assert.equal(json.status, 1, json.stderr);
    assertMasked('status --json', json.stdout);
    const table = await cli('status');
    assert.match(table.stdout, /from one-off probe/);
    for (const s of secrets()) assert.ok(!table.stdout.includes(s) && !table.stderr.includes(s), 'status shows a secret');
  });

  test('the daemon: /status, the page, its log lines, the notes; status and status --watch through it', async () => {
    daemon = spawn(process.execPath, [join(REPO, 'dist/src/main.js'), 'run', '--config', stack.settingsFile], {
      env: { ...process.env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    daemon.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    const base = `http://127.0.0.1:${statusPort}`;
    const doc = await waitFor('GatewayReady False with the gateway\'s message in /status', async () => {
      const text = await request(`${base}/status`).then((r) => r.body.text(), () => '');
      return /HTTP 401 for initialize/.test(text) ? text : null;
    }, 120_000);
    assertMasked('/status', doc);
    assertMasked('the page', await (await request(`${base}/`)).body.text());
    await waitFor('the transition in the log', async () => /GatewayReady[^\n]*HTTP 401 for initialize/.test(logs));
    assertMasked('the daemon log', logs);
    const notes = readFileSync(notesPath(stack.settings.projectsRoot), 'utf8');
    for (const s of secrets()) assert.ok(!notes.includes(s), 'the notes show a secret');

    const via = await cli('status', 'everything', '--json');
    assert.match(via.stdout, /"GatewayReady"/);
    assertMasked('status everything --json (from the daemon)', via.stdout);
    const table = await cli('status');
    assert.match(table.stdout, /from daemon/);
    for (const s of secrets()) assert.ok(!table.stdout.includes(s), 'status (from the daemon) shows a secret');

    const argv = [join(REPO, 'dist/src/main.js'), 'status', 'everything', '--watch', '--json', '--config', stack.settingsFile];
    const watch = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let watched = '';
    watch.stdout!.on('data', (d: Buffer) => (watched += d.toString()));
    const exited = new Promise<number | null>((r) => watch.on('exit', r));
    try {
      await waitFor('a document from status --watch', async () => watched.includes('\n'));
    } finally {
      watch.kill('SIGINT');
    }
    assert.equal(await exited, 0);
    assertMasked('status --watch --json', watched);
  });
});
