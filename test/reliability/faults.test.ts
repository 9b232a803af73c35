import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { createStack, docker, waitFor, freePort, REPO, type Stack } from '../integration/harness.js';
import { readGatewayConfig } from '../../src/litellm/config-file.js';
import { writeOps } from '../../src/model/types.js';

/**
 * Reliability: faults against the real dockerd and the real LiteLLM 1.77.3. Each case asserts
 * convergence (no duplicate, no orphan container, no lost LiteLLM entry) and prints a line of
 * figures. Bounded in count and time; only local addresses.
 */
describe('reliability', { timeout: 600_000 }, () => {
  let stack: Stack;
  let statusPort = 0;
  const example = readFileSync(join(REPO, 'desired-state/mcp-everything.yaml'), 'utf8');
  const main = join(REPO, 'dist/src/main.js');
  const startDaemon = (): ChildProcess =>
    spawn(process.execPath, [main, 'run', '--config', stack.settingsFile], { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'silent' } });
  const stopDaemon = async (d: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') => {
    d.kill(signal);
    if (d.exitCode === null && d.signalCode === null) await new Promise((r) => d.once('exit', r));
  };
  const serverContainers = async () => (await stack.containers()).filter((c) => c.Labels['io.mcp-reconciler.role'] === 'server');
  /** No duplicate, no orphan, no leftover, every wanted server running, every entry in config.yaml. */
  const converged = async (wanted: string[]) => {
    const names = (await serverContainers()).map((c) => `${c.Names[0]?.slice(1)} ${c.State}`).sort();
    assert.deepEqual(names, wanted.map((w) => `${stack.id}-${w} running`).sort());
    const owned = Object.keys(readGatewayConfig(readFileSync(stack.settings.gateway.configPath, 'utf8')).owned).sort();
    assert.deepEqual(owned, wanted.map((w) => `mcp_${w}`).sort());
    assert.deepEqual(writeOps((await stack.reconciler.plan()).plan), []);
  };
  const passes = async (): Promise<number> => {
    const r = await request(`http://127.0.0.1:${statusPort}/status`);
    return Number(((await r.body.json()) as { passes: number }).passes);
  };

  before(async () => {
    statusPort = await freePort();
    stack = await createStack({ statusPort, resyncIntervalMs: 600_000 });
    stack.writeDesired('alpha', example.replace('name: everything', 'name: alpha'));
    stack.writeDesired('beta', example.replace('name: everything', 'name: beta'));
    await stack.reconciler.reconcile();
  });
  after(async () => {
    await stack?.cleanup();
  });

  test('kill -9 of the daemon at random points of an apply, 20 times', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      stack.writeDesired('alpha', example.replace('name: everything', 'name: alpha').replace('PORT: 3001\n', `PORT: 3001\n  ROUND: "${i}"\n`));
      const d = startDaemon();
      const delay = 100 + Math.floor(Math.random() * 1400);
      delays.push(delay);
      await new Promise((r) => setTimeout(r, delay)); // the fault is the point: a kill at a random moment
      await stopDaemon(d, 'SIGKILL');
    }
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [main, 'apply', '--once', '--config', stack.settingsFile], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'silent' } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    await converged(['alpha', 'beta']);
    const env = (await docker.getContainer(`${stack.id}-alpha`).inspect()).Config.Env;
    assert.ok(env.includes('ROUND=19'));
    await waitFor('both servers through LiteLLM', async () => {
      const t = await stack.gateway.listTools();
      return t.ok && t.tools.includes('mcp_alpha-echo') && t.tools.includes('mcp_beta-echo');
    });
    console.log(`# kill -9 x20 (delays ${Math.min(...delays)}-${Math.max(...delays)} ms): converged in one apply (${Date.now() - t0} ms), 0 duplicates, 0 orphans, 0 lost entries`);
  });

  test('LiteLLM down for a while, then back: MCP containers untouched, registration converges', async () => {
    const d = startDaemon();
    try {
      await waitFor('daemon ready', async () => (await request(`http://127.0.0.1:${statusPort}/readyz`).then((r) => r.body.dump().then(() => r.statusCode)).catch(() => 0)) === 200, 30_000);
      const before = (await serverContainers()).map((c) => c.Id).sort();
      const t0 = Date.now();
      await docker.getContainer(`${stack.id}-litellm`).stop({ t: 1 });
      await waitFor('tools through LiteLLM again', async () => {
        const t = await stack.gateway.listTools();
        return t.ok && t.tools.includes('mcp_alpha-echo') && t.tools.includes('mcp_beta-echo');
      }, 90_000, 250);
      assert.deepEqual((await serverContainers()).map((c) => c.Id).sort(), before, 'MCP containers untouched');
      console.log(`# LiteLLM stopped -> started again by the daemon and serving both servers in ${Date.now() - t0} ms`);
    } finally {
      await stopDaemon(d);
    }
    await converged(['alpha', 'beta']);
  });

  test('an MCP container paused, or answering garbage, or killed: put back', async () => {
    const d = startDaemon();
    try {
      await waitFor('daemon ready', async () => (await request(`http://127.0.0.1:${statusPort}/readyz`).then((r) => r.body.dump().then(() => r.statusCode)).catch(() => 0)) === 200, 30_000);
      // paused: the next pass (event or resync) unpauses it
      await docker.getContainer(`${stack.id}-beta`).pause();
      const t0 = Date.now();
      spawnSync(process.execPath, [main, 'apply', '--once', '--config', stack.settingsFile], { env: { ...process.env, LOG_LEVEL: 'silent' } });
      assert.equal((await docker.getContainer(`${stack.id}-beta`).inspect()).State.Paused, false);
      const unpausedMs = Date.now() - t0;
      // killed (a crash of its process): Docker's restart policy brings it back
      const top = (await docker.getContainer(`${stack.id}-beta`).top({ ps_args: '-o pid,args' })) as { Processes: string[][] };
      const proc = top.Processes.find((p) => /dist\/index\.js/.test(p.join(' ')) && !/tini|docker-init/.test(p.join(' ')))!;
      process.kill(Number(proc[0]), 'SIGKILL');
      const t1 = Date.now();
      await waitFor('beta running again', async () => {
        const i = await docker.getContainer(`${stack.id}-beta`).inspect();
        return i.State.Running && i.RestartCount > 0;
      }, 30_000, 100);
      const restartedMs = Date.now() - t1;
      // answering garbage: status says so (McpReady False), nothing else is disturbed
      stack.writeDesired('garbage', 'image: mcp/everything:latest\ntransport: http\nport: 3001\ncommand: [node, -e, "require(\'http\').createServer((q, s) => s.end(\'garbage\')).listen(3001)"]\n');
      await waitFor('garbage server running', async () => (await serverContainers()).some((c) => c.Names[0] === `/${stack.id}-garbage` && c.State === 'running'), 30_000);
      // The daemon's monitor probes it on its schedule (first probe within 5 s): poll status.
      const mcp = await waitFor('garbage reported McpReady False', async () => {
        const st = spawnSync(process.execPath, [main, 'status', 'garbage', '--json', '--config', stack.settingsFile], { encoding: 'utf8' });
        if (!st.stdout.trim().startsWith('{')) return null;
        const c = (JSON.parse(st.stdout) as { conditions: { type: string; status: string; reason: string }[] }).conditions.find((x) => x.type === 'McpReady');
        return c?.status === 'False' ? c : null;
      }, 60_000, 1_000);
      console.log(`# paused -> unpaused in ${unpausedMs} ms; killed process -> running again in ${restartedMs} ms; garbage -> McpReady False (${mcp.reason})`);
    } finally {
      await stopDaemon(d);
      try {
        stack.removeDesired('garbage');
      } catch {
        /* not written */
      }
    }
    spawnSync(process.execPath, [main, 'apply', '--once', '--config', stack.settingsFile], { env: { ...process.env, LOG_LEVEL: 'silent' } });
    await converged(['alpha', 'beta']);
  });

  test('the desired dir emptied, then unmounted, while servers run: nothing pruned without confirmation', async () => {
    const d = startDaemon();
    const dir = stack.settings.desiredDir;
    try {
      await waitFor('daemon ready', async () => (await request(`http://127.0.0.1:${statusPort}/readyz`).then((r) => r.body.dump().then(() => r.statusCode)).catch(() => 0)) === 200, 30_000);
      const p0 = await passes();
      renameSync(join(dir, 'mcp-alpha.yaml'), join(stack.dir, 'alpha.bak'));
      renameSync(join(dir, 'mcp-beta.yaml'), join(stack.dir, 'beta.bak'));
      await waitFor('a pass after emptying', async () => (await passes()) > p0, 30_000, 100);
      assert.equal((await serverContainers()).length, 2, 'emptied: both still running');
      renameSync(dir, `${dir}.gone`); // "unmounted"
      await waitFor('a pass after unmounting', async () => (await passes()) > p0 + 1, 30_000, 100);
      assert.equal((await serverContainers()).length, 2, 'unmounted: both still running');
      console.log('# desired dir emptied and unmounted with 2 servers running: 0 removed');
    } finally {
      await stopDaemon(d);
      try {
        renameSync(`${dir}.gone`, dir);
      } catch {
        /* not moved */
      }
      renameSync(join(stack.dir, 'alpha.bak'), join(dir, 'mcp-alpha.yaml'));
      renameSync(join(stack.dir, 'beta.bak'), join(dir, 'mcp-beta.yaml'));
    }
    await converged(['alpha', 'beta']);
  });

  test('a burst of 200 file events in one second: one or few reconciles, not 200', async () => {
    const d = startDaemon();
    try {
      await waitFor('daemon ready', async () => (await request(`http://127.0.0.1:${statusPort}/readyz`).then((r) => r.body.dump().then(() => r.statusCode)).catch(() => 0)) === 200, 30_000);
      const p0 = await passes();
      const t0 = Date.now();
      for (let i = 0; i < 200; i++) {
        writeFileSync(join(stack.settings.desiredDir, 'mcp-alpha.yaml'), `${example.replace('name: everything', 'name: alpha')}# event ${i}\n`);
      }
      const burstMs = Date.now() - t0;
      let last = -1;
      await waitFor('passes settled', async () => {
        const n = await passes();
        const settled = n > p0 && n === last;
        last = n;
        return settled;
      }, 30_000, 1_000);
      const n = (await passes()) - p0;
      console.log(`# 200 file events in ${burstMs} ms -> ${n} reconcile pass(es)`);
      assert.ok(n >= 1 && n <= 4, `${n} passes`);
    } finally {
      await stopDaemon(d);
    }
    await converged(['alpha', 'beta']);
  });
});
