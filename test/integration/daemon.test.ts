import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { mkdirSync, symlinkSync, renameSync, writeFileSync, copyFileSync } from 'node:fs';
import { request } from 'undici';
import { createServer } from 'node:http';
import { createStack, waitFor, docker, freePort, REPO, type Stack } from './harness.js';
import { writeOps } from '../../src/model/types.js';
import { DockerProxy } from '../../src/testing/docker-proxy.js';
import { lockPath } from '../../src/lock/instance-lock.js';
import { dumpDom, screenshot, pngSize } from '../../src/testing/chromium.js';
import { NOTES_MARKER, notesPath } from '../../src/notes/deployment-notes.js';

/**
 * The daemon (`run`) against the real dockerd: Docker events make it notice a stopped container
 * long before the resync (set to 10 minutes here), and it survives Docker going away: the daemon
 * reaches Docker through a unix-socket proxy this test owns and cuts (the host's dockerd is never
 * restarted; other suites share it).
 */
describe('daemon', { timeout: 300_000 }, () => {
  let stack: Stack;
  let daemon: ChildProcess;
  let proxy: DockerProxy;
  let out = '';
  const example = readFileSync(join(REPO, 'desired-state/mcp-everything.yaml'), 'utf8');
  const find = async () => (await stack.containers()).find((c) => c.Names[0] === `/${stack.id}-everything`);

  let statusPort = 0;
  let v1 = '';
  /** In the server's env file: must reach neither the status page nor the deployment notes. */
  const SECRET = `sk-everything-${Date.now().toString(36)}-not-for-the-page`;
  const status = async (path: string): Promise<{ code: number; body: Record<string, unknown> }> => {
    const r = await request(`http://127.0.0.1:${statusPort}${path}`);
    return { code: r.statusCode, body: (await r.body.json()) as Record<string, unknown> };
  };

  before(async () => {
    statusPort = await freePort();
    stack = await createStack({ gateway: { managed: false }, resyncIntervalMs: 600_000, statusPort, desiredDir: './projects/desired' });
    // The desired dir is a symlink, so a later test can swap it atomically.
    v1 = join(stack.dir, 'projects', 'v1');
    mkdirSync(v1);
    symlinkSync('v1', join(stack.dir, 'projects', 'desired'));
    stack.writeDesired('everything', example);
    writeFileSync(join(stack.settings.secretsDir, `${stack.id}-everything.env`), `EVERYTHING_API_TOKEN=${SECRET}\n`, { mode: 0o600 });
    proxy = new DockerProxy(join(stack.dir, 'docker.sock'));
    await proxy.restore();
    daemon = spawn(process.execPath, [join(REPO, 'dist/src/main.js'), 'run', '--config', stack.settingsFile], {
      env: { ...process.env, LOG_LEVEL: 'info', DOCKER_HOST: proxy.dockerHost },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    daemon.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('first reconcile by the daemon', async () => (await find())?.State === 'running');
  });
  after(async () => {
    daemon?.kill('SIGKILL');
    await proxy?.close();
    await stack?.cleanup();
  });

  test('/healthz, /readyz and /status on 127.0.0.1', async () => {
    assert.equal((await status('/healthz')).code, 200);
    await waitFor('/readyz after the first pass', async () => (await status('/readyz')).code === 200, 30_000);
    const st = await status('/status');
    assert.match(String(st.body['summary']), /^1 server: 1 running/);
    assert.deepEqual(st.body['gatewayMode'], { mode: 'config', why: 'gateway not answering; no database configured' });
    await waitFor('conditions in /status', async () => {
      const servers = (await status('/status')).body['servers'] as { name: string; conditions: { type: string; status: string }[] }[];
      return servers[0]?.conditions.find((c) => c.type === 'McpReady')?.status === 'True';
    }, 120_000); // a first probe that fails (slow start on a loaded machine) waits twice the probe interval
    const m = await request(`http://127.0.0.1:${statusPort}/metrics`);
    const text = await m.body.text();
    assert.match(text, /^mcp_reconciler_reconcile_duration_seconds_count \d+$/m);
    assert.match(text, /^mcp_reconciler_server_condition\{server="everything",condition="McpReady"\} 1$/m);
  });

  test('the status page at / in headless Chromium: server, conditions, tools, events, gateway; no secret', async () => {
    const url = `http://127.0.0.1:${statusPort}/`;
    await waitFor('tools on the page', async () => /Tools exposed: [1-9]/.test(await (await request(url)).body.text()), 60_000);
    const dom = await dumpDom(url);
    assert.match(dom, /<tr class="(ok|bad)" data-server="everything">/);
    assert.match(dom, /<tr data-condition="McpReady"><td>McpReady<\/td><td class="True">True<\/td><td>ToolsListed<\/td>/);
    assert.match(dom, /<tr data-condition="ContainerRunning"><td>ContainerRunning<\/td><td class="True">True<\/td>/);
    assert.match(dom, /id="gateway-mode">config mode/);
    assert.match(dom, new RegExp(`id="client-url"><code>http://127\\.0\\.0\\.1:${stack.settings.gateway.hostPort}/mcp/</code>`));
    assert.match(dom, /<td>everything<\/td><td class="msg">McpReady [A-Za-z]+ -&gt; True \(ToolsListed\)/);
    assert.match(dom, /<td>daemon<\/td><td class="msg">1 server: 1 running/);
    for (const secret of [SECRET, stack.masterKey]) assert.ok(!dom.includes(secret), 'a secret on the page');
    const png = await screenshot(url, join(stack.dir, 'status-page.png'), { width: 1200, height: 1200 });
    assert.deepEqual(pngSize(png), { width: 1200, height: 1200 });
  });

  test('the daemon keeps <projectsRoot>/litellm/CLAUDE.md: servers, endpoint, secrets paths, never a value', () => {
    const notes = readFileSync(notesPath(stack.settings.projectsRoot), 'utf8');
    assert.ok(notes.startsWith(NOTES_MARKER));
    assert.match(notes, /^\| everything \| http \| `mcp\/everything:latest` \|/m);
    assert.ok(notes.includes(`:${stack.settings.gateway.hostPort}/mcp/`));
    assert.ok(notes.includes(`\`${join(stack.settings.secretsDir, `${stack.id}-everything.env`)}\``));
    for (const secret of [SECRET, stack.masterKey]) assert.ok(!notes.includes(secret), 'a secret in the notes');
  });

  test('a burst of 150 file events in about a second becomes few passes, not 150', async () => {
    const before = Number((await status('/status')).body['passes']);
    for (let i = 0; i < 100; i++) stack.writeDesired('everything', `${example}# edit ${i}\n`);
    for (let i = 0; i < 50; i++) writeFileSync(join(stack.settings.desiredDir, `.mcp-x.yaml.${i}.swp`), 'x');
    await waitFor('the burst to settle', async () => {
      const s1 = Number((await status('/status')).body['passes']);
      await new Promise((r) => setTimeout(r, 1_000));
      const s2 = Number((await status('/status')).body['passes']);
      return s2 > before && s1 === s2 ? s2 : null;
    }, 30_000, 0);
    const passes = Number((await status('/status')).body['passes']) - before;
    console.log(`# 150 file events -> ${passes} pass(es)`);
    assert.ok(passes >= 1 && passes <= 4, `passes: ${passes}`);
  });

  test('a file dropped while it runs is applied (chokidar + debounce)', async () => {
    stack.writeDesired('second', example.replace('name: everything', 'name: second'));
    await waitFor(
      'second server running',
      async () => (await stack.containers()).some((c) => c.Names[0] === `/${stack.id}-second` && c.State === 'running'),
      30_000,
    );
  });

  test('docker stop behind its back is undone within seconds (Docker events; resync is 10 min)', async () => {
    const c = await find();
    const t0 = Date.now();
    await docker.getContainer(c!.Id).stop({ t: 1 });
    await waitFor('container running again', async () => (await find())?.State === 'running', 20_000, 100);
    const ms = Date.now() - t0;
    // The pass logs why it ran when it ends, which can be after Docker already reports the container running.
    const byEvent = /"why":"docker (stop|die|kill) /;
    await waitFor('the pass that started it logged as triggered by a Docker event', async () => byEvent.test(out), 10_000, 50);
    console.log(`# stop -> running again in ${ms} ms`);
  });

  test('one reconciler per instance: a second `run` exits 1 naming the holder; `apply --once` has the daemon do the pass', async () => {
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
        const c = spawn(process.execPath, [join(REPO, 'dist/src/main.js'), ...args, '--config', stack.settingsFile], {
          env: { ...process.env, DOCKER_HOST: proxy.dockerHost },
        });
        let stdout = '';
        let stderr = '';
        c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        c.once('exit', (code) => done({ code, stdout, stderr }));
      });
    const second = await cli(['run']);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(
      `another reconciler of this instance is running: run \\(pid ${daemon.pid} on .*, since \\d{4}-`,
    ));
    const passes = Number((await status('/status')).body['passes']);
    const apply = await cli(['apply', '--once']);
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stderr, new RegExp(`the daemon \\(pid ${daemon.pid}\\) ran this pass`));
    assert.match(apply.stdout, /^No changes\. The running state matches the desired state\./);
    assert.ok(Number((await status('/status')).body['passes']) > passes, 'the daemon counted the pass');
    const forged = await request(`http://127.0.0.1:${statusPort}/apply`, { method: 'POST', headers: { authorization: 'Bearer nope' } });
    assert.equal(forged.statusCode, 401);
    await forged.body.text();
  });

  test('Docker away for seconds (proxy cut): status says so, and a pass runs as soon as Docker answers again', async () => {
    const second = async () => (await stack.containers()).find((c) => c.Names[0] === `/${stack.id}-second`);
    const acceptedBefore = proxy.accepted;
    const lost = (): number => out.split('docker event stream lost; reconnecting').length - 1;
    const lostBefore = lost();
    await proxy.cut();
    await waitFor(
      '/status to say Docker is unavailable',
      async () => /^docker unavailable/.test(String((await status('/status')).body['summary'])),
      20_000,
      100,
    );
    // Behind the daemon's back while it cannot see Docker (its events are missed): only a pass can undo it.
    await docker.getContainer((await second())!.Id).stop({ t: 1 });
    // Held until the daemon failed to reconnect at least twice: Docker stays away for a few seconds.
    await waitFor('two failed reconnects while Docker is away', async () => lost() >= lostBefore + 2, 20_000, 100);
    await proxy.restore();
    const t0 = Date.now();
    await waitFor('the event stream reconnected through the proxy', async () => proxy.accepted > acceptedBefore, 10_000, 50);
    // The resync is 10 minutes: only the reconnect can have started this pass.
    await waitFor('status correct again', async () => {
      const st = await status('/status');
      const servers = st.body['servers'] as { name: string; conditions: { type: string; status: string }[] }[];
      const running = (c: (typeof servers)[number]) => c.conditions.find((x) => x.type === 'ContainerRunning')?.status === 'True';
      return st.body['summary'] === '2 servers: 2 running' && servers.length === 2 && servers.every(running);
    }, 30_000, 100);
    console.log(`# Docker answering again -> correct status in ${Date.now() - t0} ms`);
    assert.equal((await second())?.State, 'running');
    assert.match(out, /docker event stream back; reconciling now/);
    assert.equal(daemon.exitCode, null, 'the daemon is still running');
    const p = await stack.reconciler.plan();
    assert.deepEqual(writeOps(p.plan), []);
  });

  test('the desired dir swapped by symlink is followed without waiting for the resync', async () => {
    const v2 = join(stack.dir, 'projects', 'v2');
    mkdirSync(v2);
    copyFileSync(join(v1, 'mcp-everything.yaml'), join(v2, 'mcp-everything.yaml'));
    copyFileSync(join(v1, 'mcp-second.yaml'), join(v2, 'mcp-second.yaml'));
    writeFileSync(join(v2, 'mcp-third.yaml'), example.replace('name: everything', 'name: third'));
    symlinkSync('v2', join(stack.dir, 'projects', 'desired.tmp'));
    renameSync(join(stack.dir, 'projects', 'desired.tmp'), join(stack.dir, 'projects', 'desired'));
    await waitFor(
      'third server from the new target',
      async () => (await stack.containers()).some((c) => c.Names[0] === `/${stack.id}-third` && c.State === 'running'),
      30_000,
    );
    // A later edit in the new target is seen too.
    writeFileSync(
      join(v2, 'mcp-third.yaml'),
      example.replace('name: everything', 'name: third').replace('PORT: 3001\n', 'PORT: 3001\n  SWAPPED: "yes"\n'),
    );
    await waitFor('edit in the new target applied', async () => {
      const c = (await stack.containers()).find((x) => x.Names[0] === `/${stack.id}-third`);
      return c ? (await docker.getContainer(c.Id).inspect()).Config.Env.includes('SWAPPED=yes') : false;
    }, 30_000);
  });

  test('SIGHUP rebuilds what depends on settings: a new gateway port and a new status port both take effect', async () => {
    // A stand-in gateway on the new port: any request there comes from the rebuilt clients.
    const seen: string[] = [];
    const fakeGateway = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(503).end();
    });
    const gatewayPort = await freePort();
    await new Promise<void>((r) => fakeGateway.listen(gatewayPort, '127.0.0.1', r));
    try {
      const oldStatus = statusPort;
      const newStatus = await freePort();
      const cfg = JSON.parse(readFileSync(stack.settingsFile, 'utf8')) as { gateway: Record<string, unknown>; statusPort: number };
      cfg.gateway['hostPort'] = gatewayPort;
      cfg.statusPort = newStatus;
      writeFileSync(stack.settingsFile, JSON.stringify(cfg, null, 2));
      assert.deepEqual(seen, []);
      daemon.kill('SIGHUP');
      statusPort = newStatus;
      await waitFor('the status server on the new port', async () => (await status('/healthz')).code === 200, 20_000, 100);
      await waitFor(
        '/status names the new gateway url',
        async () => ((await status('/status')).body['gateway'] as { url?: string } | null)?.url === `http://127.0.0.1:${gatewayPort}`,
        20_000,
        100,
      );
      await waitFor('a request from the daemon at the new gateway port', async () => seen.length > 0, 30_000, 100);
      await assert.rejects(request(`http://127.0.0.1:${oldStatus}/healthz`), 'the old status port is closed');
      assert.match(out, /settings reloaded \(SIGHUP\)/);
      assert.equal(daemon.exitCode, null);
      // apply --once finds the daemon at its new port through the lock file.
      const lock = JSON.parse(readFileSync(lockPath(stack.settings.secretsDir, stack.id), 'utf8')) as { endpoint: { port: number } };
      assert.equal(lock.endpoint.port, newStatus);
    } finally {
      await new Promise((r) => fakeGateway.close(r));
    }
  });

  test('SIGTERM: exits 0 within seconds and leaves every MCP container running', async () => {
    const t0 = Date.now();
    daemon.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => daemon.once('exit', (c) => r(c)));
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal(existsSync(lockPath(stack.settings.secretsDir, stack.id)), false, 'the instance lock is released');
    assert.equal((await find())?.State, 'running');
  });
});
