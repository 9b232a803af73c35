import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { request } from 'undici';
import { parseDocument } from 'yaml';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createStack, docker, waitFor, freePort, REPO, type Stack } from '../integration/harness.js';
import { DbProxy } from '../litellm-db/proxy.js';
import { readGatewayConfig } from '../../src/litellm/config-file.js';
import { GUARD_FILE, GUARD_PY } from '../../src/litellm/guard.js';
import { apiIdPrefix } from '../../src/litellm/api.js';
import { writeOps } from '../../src/model/types.js';
import { FAILPOINT_ENV, HANDOVER_STEPS, STEPS } from '../../src/failpoint/index.js';
import { frontActivePath } from '../../src/desired/resolve.js';
import { parseActive } from '../../src/front/active.js';

/**
 * Reliability: faults against the real dockerd and the real LiteLLM 1.77.3. Every named crash
 * point of the executor is armed once (`MCP_RECONCILER_FAILPOINT`, the process SIGKILLs itself
 * there); one more pass must converge: one owned container per wanted server and role, no `.next`,
 * each wanted entry registered once and nothing else, volumes intact, the memory server's data
 * still there. Bounded in count and time; only local addresses.
 */
const main = join(REPO, 'dist/src/main.js');
const quiet = { ...process.env, LOG_LEVEL: 'silent' };
const everything = readFileSync(join(REPO, 'desired-state/mcp-everything.yaml'), 'utf8');
const memory = readFileSync(join(REPO, 'desired-state/mcp-memory.yaml'), 'utf8');
const alphaYaml = (env: Record<string, string>, description = 'alpha'): string =>
  everything.replace('name: everything', 'name: alpha').replace(/^description: .*$/m, `description: ${description}`)
    .replace('PORT: 3001\n', `PORT: 3001\n${Object.entries(env).map(([k, v]) => `  ${k}: "${v}"\n`).join('')}`);
/** The shipped memory example with these env entries added (under `env:`, wherever that block sits in the file). */
const memoryYaml = (env: Record<string, string>): string => {
  const doc = parseDocument(memory);
  for (const [k, v] of Object.entries(env)) doc.setIn(['env', k], v);
  return doc.toString();
};

/**
 * `apply --once` in a child process, optionally armed with a failpoint. Asynchronous: the contract
 * server of the API-mode cases answers from this process meanwhile.
 */
async function apply(
  settingsFile: string,
  failpoint?: string,
): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [main, 'apply', '--once', '--config', settingsFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: failpoint ? { ...quiet, [FAILPOINT_ENV]: failpoint } : quiet,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGTERM'), 300_000);
  const [status, signal] = (await new Promise((r) => child.once('exit', (code, sig) => r([code, sig])))) as [
    number | null,
    NodeJS.Signals | null,
  ];
  clearTimeout(timer);
  return { status, signal, stdout, stderr };
}

/** What is wrong with the owned containers: duplicates per server/role, orphans (incl. `.next`), missing ones. */
async function containerFaults(
  stack: Stack,
  servers: string[],
  roles: string[],
): Promise<{ duplicates: string[]; orphans: string[]; missing: string[]; notRunning: string[] }> {
  const all = await stack.containers();
  const key = (c: (typeof all)[number]): string => {
    const role = c.Labels['io.mcp-reconciler.role'] ?? '?';
    return role === 'server' ? `server:${c.Labels['io.mcp-reconciler.server']}` : role;
  };
  const wanted = [...servers.map((s) => `server:${s}`), ...roles];
  const count = new Map<string, number>();
  const orphans: string[] = [];
  const notRunning: string[] = [];
  for (const c of all) {
    const name = c.Names[0]?.slice(1) ?? '?';
    if (name.endsWith('.next') || !wanted.includes(key(c))) {
      orphans.push(name);
      continue;
    }
    count.set(key(c), (count.get(key(c)) ?? 0) + 1);
    if (c.State !== 'running') notRunning.push(`${name} ${c.State}`);
  }
  return {
    duplicates: [...count].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`),
    orphans,
    missing: wanted.filter((w) => !count.has(w)),
    notRunning,
  };
}

/** Entries of a config.yaml text, counted as written (a map hides a duplicate key from a parser). */
function entryCounts(text: string, names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, (text.match(new RegExp(`^  ${n}:`, 'gm')) ?? []).length]));
}

async function mcpClient(url: string): Promise<Client> {
  const c = new Client({ name: 'reliability', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  return c;
}

describe('crash points in config mode (real dockerd and LiteLLM)', { timeout: 1_500_000 }, () => {
  let stack: Stack;
  let volumeCreatedAt = '';
  let round = 0;
  const bridgeUrl = async (): Promise<string> => {
    const edge = (await stack.containers()).find((c) => c.Labels['io.mcp-reconciler.role'] === 'edge')!;
    return `http://127.0.0.1:${edge.Ports.find((p) => p.PrivatePort === 8080)!.PublicPort}/${stack.id}-memory/stdio/mcp`;
  };
  const graph = async (): Promise<string> => {
    const c = await mcpClient(await bridgeUrl());
    try {
      return JSON.stringify(await c.callTool({ name: 'read_graph', arguments: {} }));
    } finally {
      await c.close();
    }
  };
  const memoryVolume = async () =>
    ((await docker.listVolumes({ filters: { label: [`io.mcp-reconciler.instance=${stack.id}`] } })).Volumes ?? [])
      .filter((v) => v.Name === `${stack.id}-memory-data`);

  before(async () => {
    stack = await createStack({ resyncIntervalMs: 600_000 });
    stack.writeDesired('alpha', alphaYaml({ ROUND: '0' }));
    stack.writeDesired('memory', memoryYaml({ ROUND: '0' }));
    const r = await apply(stack.settingsFile);
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    await waitFor('the memory server answers through the edge', async () => {
      const c = await mcpClient(await bridgeUrl());
      try {
        await c.callTool({
          name: 'create_entities',
          arguments: { entities: [{ name: 'survivor', entityType: 'test', observations: ['written before the crashes'] }] },
        });
        return true;
      } finally {
        await c.close();
      }
    }, 60_000, 500);
    assert.match(await graph(), /survivor/);
    const v = await memoryVolume();
    assert.equal(v.length, 1);
    volumeCreatedAt = (v[0] as unknown as { CreatedAt: string }).CreatedAt;
  });
  after(async () => {
    await stack?.cleanup();
    for (const v of await memoryVolume().catch(() => [])) await docker.getVolume(v.Name).remove().catch(() => undefined);
  });

  const configPoints = STEPS.filter((s) => !s.startsWith('api-') && !HANDOVER_STEPS.includes(s))
    .flatMap((s) => [`before:${s}`, `after:${s}`]);
  for (const point of configPoints) {
    test(`killed at ${point}: one more pass converges, the data survives`, async () => {
      round++;
      // Every round changes both servers (alpha is recreated beside the old one, memory by stop-start);
      // the gateway points also change alpha's entry, so config.yaml is written and LiteLLM recreated.
      const gatewayPoint = /write-config|recreate-gateway/.test(point);
      stack.writeDesired('alpha', alphaYaml({ ROUND: String(round) }, gatewayPoint ? `alpha round ${round}` : 'alpha'));
      stack.writeDesired('memory', memoryYaml({ ROUND: String(round) }));
      // The guard file is written only when it differs (ADR 0019): an edited one makes its points reachable.
      const guardPath = join(dirname(stack.settings.gateway.configPath), GUARD_FILE);
      if (point.endsWith(':write-guard')) writeFileSync(guardPath, '# edited\n');
      const killed = await apply(stack.settingsFile, point);
      assert.equal(killed.signal, 'SIGKILL', `the failpoint ${point} was reached (status ${killed.status}): ${killed.stderr}`);
      const t0 = Date.now();
      const again = await apply(stack.settingsFile);
      assert.equal(again.status, 0, `${again.stdout}${again.stderr}`);
      const faults = await containerFaults(stack, ['alpha', 'memory'], ['edge', 'edge-docker', 'gateway']);
      const text = readFileSync(stack.settings.gateway.configPath, 'utf8');
      const counts = entryCounts(text, ['mcp_alpha', 'mcp_memory']);
      const owned = Object.keys(readGatewayConfig(text).owned).sort();
      const lost = Object.entries(counts).filter(([, n]) => n === 0).map(([k]) => k);
      console.log(`# ${point}: converged in one pass (${Date.now() - t0} ms): ` +
        `${faults.duplicates.length} duplicates, ${faults.orphans.length} orphans, ${lost.length} lost entries`);
      assert.deepEqual(faults, { duplicates: [], orphans: [], missing: [], notRunning: [] });
      assert.deepEqual(counts, { mcp_alpha: 1, mcp_memory: 1 }, 'each wanted entry exactly once');
      assert.deepEqual(owned, ['mcp_alpha', 'mcp_memory'], 'no unwanted entry');
      assert.ok(
        readGatewayConfig(text).guard && readFileSync(guardPath, 'utf8') === GUARD_PY,
        'config.yaml lists the guard, the guard file is current',
      );
      for (const name of ['alpha', 'memory']) {
        const env = (await docker.getContainer(`${stack.id}-${name}`).inspect()).Config.Env;
        assert.ok(env.includes(`ROUND=${round}`), `${name} runs round ${round}`);
      }
      const v = await memoryVolume();
      assert.deepEqual(v.map((x) => (x as unknown as { CreatedAt: string }).CreatedAt), [volumeCreatedAt], 'the same volume');
      assert.match(await waitFor('the memory graph', () => graph(), 60_000, 500), /survivor/);
      assert.deepEqual(writeOps((await stack.reconciler.plan()).plan), []);
    });
  }
});

describe('crash points of the blue/green handover (real dockerd and LiteLLM; ADR 0025)', { timeout: 1_500_000 }, () => {
  let stack: Stack;
  let round = 0;
  before(async () => {
    stack = await createStack({ resyncIntervalMs: 600_000, gateway: { handover: 'blue-green', mode: 'config' } });
    stack.writeDesired('alpha', alphaYaml({}, 'alpha round 0'));
    const r = await apply(stack.settingsFile);
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });
  after(async () => {
    await stack?.cleanup();
  });

  for (const point of HANDOVER_STEPS.flatMap((s) => [`before:${s}`, `after:${s}`])) {
    test(`killed at ${point}: one more pass converges on one colour behind the front, serving the new entry`, async () => {
      round++;
      stack.writeDesired('alpha', alphaYaml({}, `alpha round ${round}`)); // the entry changes: a handover
      const killed = await apply(stack.settingsFile, point);
      assert.equal(killed.signal, 'SIGKILL', `the failpoint ${point} was reached (status ${killed.status}): ${killed.stderr}`);
      const again = await apply(stack.settingsFile);
      assert.equal(again.status, 0, `${again.stdout}${again.stderr}`);
      const faults = await containerFaults(stack, ['alpha'], ['edge', 'edge-docker', 'front', 'gateway']);
      const colour = parseActive(readFileSync(frontActivePath(stack.settings), 'utf8'));
      const gateways = (await stack.containers())
        .filter((c) => c.Labels['io.mcp-reconciler.role'] === 'gateway')
        .map((c) => c.Names[0]?.slice(1));
      console.log(`# ${point}: ${faults.duplicates.length} duplicates, ${faults.orphans.length} orphans; active ${colour}`);
      assert.deepEqual(faults, { duplicates: [], orphans: [], missing: [], notRunning: [] });
      assert.deepEqual(gateways, [`${stack.id}-litellm-${colour}`], 'the active file names the one colour that runs');
      const text = readFileSync(stack.settings.gateway.configPath, 'utf8');
      assert.deepEqual(entryCounts(text, ['mcp_alpha']), { mcp_alpha: 1 });
      assert.match(text, new RegExp(`alpha round ${round}`));
      const tools = await waitFor('alpha through the front', async () => {
        const t = await stack.gateway.listTools();
        return t.ok && t.tools.includes('mcp_alpha-echo') ? t : null;
      }, 120_000);
      assert.ok(tools.ok);
      assert.deepEqual(writeOps((await stack.reconciler.plan()).plan), []);
    });
  }
});

describe('crash points in API mode (real LiteLLM 1.77.3 on the Prisma double, real dockerd)', { timeout: 600_000 }, () => {
  let stack: Stack;
  let proxy: DbProxy;
  let round = 0;
  before(async () => {
    // The master key is the stack's (its env file); the gateway keeps its rows across our processes.
    stack = await createStack({ resyncIntervalMs: 600_000 });
    proxy = new DbProxy({ masterKey: stack.masterKey });
    const base = await proxy.start();
    const settings = JSON.parse(readFileSync(stack.settingsFile, 'utf8')) as Record<string, Record<string, unknown>>;
    settings['gateway'] = { ...settings['gateway'], managed: false, mode: 'api', url: base };
    writeFileSync(stack.settingsFile, JSON.stringify(settings, null, 2));
    stack.writeDesired('alpha', alphaYaml({}, 'round 0'));
    const r = await apply(stack.settingsFile);
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });
  after(async () => {
    await proxy?.close();
    await stack?.cleanup();
  });

  for (const point of ['before:api-delete', 'after:api-delete', 'before:api-create', 'after:api-create']) {
    test(`killed at ${point}: one more pass registers the server exactly once`, async () => {
      round++;
      stack.writeDesired('alpha', alphaYaml({}, `round ${round}`)); // description: DELETE then POST
      const killed = await apply(stack.settingsFile, point);
      assert.equal(killed.signal, 'SIGKILL', `the failpoint ${point} was reached (status ${killed.status}): ${killed.stderr}`);
      const again = await apply(stack.settingsFile);
      assert.equal(again.status, 0, `${again.stdout}${again.stderr}`);
      const rows = ((await proxy.rows())['litellm_mcpservertable'] ?? [])
        .filter((x) => String(x['server_id']).startsWith(apiIdPrefix(stack.id)));
      const faults = await containerFaults(stack, ['alpha'], ['edge', 'edge-docker']);
      console.log(`# ${point}: ${faults.duplicates.length} duplicates, ${faults.orphans.length} orphans, ` +
        `${rows.length === 0 ? 1 : 0} lost entries (${rows.length} rows)`);
      assert.deepEqual(rows.map((x) => `${String(x['server_name'])} ${String(x['description'])}`), [`mcp_alpha round ${round}`]);
      assert.deepEqual(faults, { duplicates: [], orphans: [], missing: [], notRunning: [] });
    });
  }
});

describe('daemon faults (real dockerd and LiteLLM)', { timeout: 600_000 }, () => {
  let stack: Stack;
  let statusPort = 0;
  const startDaemon = (): ChildProcess =>
    spawn(process.execPath, [main, 'run', '--config', stack.settingsFile], { stdio: 'ignore', env: quiet });
  const stopDaemon = async (d: ChildProcess) => {
    d.kill('SIGTERM');
    if (d.exitCode === null && d.signalCode === null) await new Promise((r) => d.once('exit', r));
  };
  const ready = () => waitFor(
    'daemon ready',
    async () =>
      (await request(`http://127.0.0.1:${statusPort}/readyz`).then((r) => r.body.dump().then(() => r.statusCode)).catch(() => 0)) === 200,
    120_000,
  );
  const passes = async (): Promise<number> => {
    const r = await request(`http://127.0.0.1:${statusPort}/status`);
    return Number(((await r.body.json()) as { passes: number }).passes);
  };
  const serverContainers = async () => (await stack.containers()).filter((c) => c.Labels['io.mcp-reconciler.role'] === 'server');
  const converged = async (wanted: string[]) => {
    const faults = await containerFaults(stack, wanted, ['edge', 'edge-docker', 'gateway']);
    assert.deepEqual(faults, { duplicates: [], orphans: [], missing: [], notRunning: [] });
    assert.deepEqual(
      Object.keys(readGatewayConfig(readFileSync(stack.settings.gateway.configPath, 'utf8')).owned).sort(),
      wanted.map((w) => `mcp_${w}`).sort(),
    );
    assert.deepEqual(writeOps((await stack.reconciler.plan()).plan), []);
  };

  before(async () => {
    statusPort = await freePort();
    stack = await createStack({ statusPort, resyncIntervalMs: 600_000 });
    stack.writeDesired('alpha', alphaYaml({}));
    stack.writeDesired('beta', alphaYaml({}).replace('name: alpha', 'name: beta'));
    await stack.reconciler.reconcile();
  });
  after(async () => {
    await stack?.cleanup();
  });

  test('LiteLLM down for a while, then back: MCP containers untouched, registration converges', async () => {
    const d = startDaemon();
    try {
      await ready();
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

  test('an MCP container paused, or answering garbage, or killed: put back by the daemon itself', async () => {
    const d = startDaemon();
    try {
      await ready();
      // paused: the daemon sees Docker's pause event and its pass unpauses it (no apply here)
      await docker.getContainer(`${stack.id}-beta`).pause();
      const t0 = Date.now();
      await waitFor(
        'beta unpaused by the daemon',
        async () => !(await docker.getContainer(`${stack.id}-beta`).inspect()).State.Paused,
        30_000,
        100,
      );
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
      stack.writeDesired('garbage', 'image: mcp/everything:latest\ntransport: http\nport: 3001\n' +
        'command: [node, -e, "require(\'http\').createServer((q, s) => s.end(\'garbage\')).listen(3001)"]\n');
      await waitFor(
        'garbage server running',
        async () => (await serverContainers()).some((c) => c.Names[0] === `/${stack.id}-garbage` && c.State === 'running'),
        30_000,
      );
      // Its first probe follows the pass that registers it, which restarts LiteLLM (50-90 s here).
      let seen = '';
      const mcp = await waitFor('garbage reported McpReady False', async () => {
        const st = spawnSync(process.execPath, [main, 'status', 'garbage', '--json', '--config', stack.settingsFile], { encoding: 'utf8' });
        seen = `${st.stdout.slice(0, 2_000)} ${st.stderr.slice(0, 500)}`;
        if (!st.stdout.trim().startsWith('{')) return null;
        const c = (JSON.parse(st.stdout) as { conditions: { type: string; status: string; reason: string }[] }).conditions
          .find((x) => x.type === 'McpReady');
        return c?.status === 'False' ? c : null;
      }, 180_000, 1_000).catch((err: unknown) => {
        throw new Error(`${String(err)}; status said: ${seen}`);
      });
      console.log(`# paused -> unpaused by the daemon in ${unpausedMs} ms; killed process -> running again in ${restartedMs} ms; ` +
        `garbage -> McpReady False (${mcp.reason})`);
    } finally {
      await stopDaemon(d);
      try {
        stack.removeDesired('garbage');
      } catch {
        /* not written */
      }
    }
    const r = await apply(stack.settingsFile);
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    await converged(['alpha', 'beta']);
  });

  test('the desired dir emptied, then unmounted, while servers run: nothing pruned without confirmation', async () => {
    const d = startDaemon();
    const dir = stack.settings.desiredDir;
    try {
      await ready();
      const p0 = await passes();
      renameSync(join(dir, 'mcp-alpha.yaml'), join(stack.dir, 'alpha.bak'));
      renameSync(join(dir, 'mcp-beta.yaml'), join(stack.dir, 'beta.bak'));
      await waitFor('a pass after emptying', async () => (await passes()) > p0, 120_000, 100);
      assert.equal((await serverContainers()).length, 2, 'emptied: both still running');
      renameSync(dir, `${dir}.gone`); // "unmounted"
      await waitFor('a pass after unmounting', async () => (await passes()) > p0 + 1, 120_000, 100);
      assert.equal((await serverContainers()).length, 2, 'unmounted: both still running');
      console.log(`# desired dir emptied and unmounted with 2 servers running: ${2 - (await serverContainers()).length} removed`);
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

  test('a burst of 200 spec changes in one second: few reconciles, and the last version runs', async () => {
    const d = startDaemon();
    try {
      await ready();
      const p0 = await passes();
      const t0 = Date.now();
      for (let i = 0; i < 200; i++) stack.writeDesired('alpha', alphaYaml({ BURST: String(i) }));
      const burstMs = Date.now() - t0;
      await waitFor(
        'the last version runs',
        async () => (await docker.getContainer(`${stack.id}-alpha`).inspect()).Config.Env.includes('BURST=199'),
        60_000,
        250,
      );
      let last = -1;
      await waitFor('passes settled', async () => {
        const n = await passes();
        const settled = n === last;
        last = n;
        return settled;
      }, 30_000, 1_500);
      const n = (await passes()) - p0;
      console.log(`# 200 spec changes in ${burstMs} ms -> ${n} reconcile pass(es), BURST=199 applied`);
      assert.ok(n >= 1 && n <= 4, `${n} passes`);
    } finally {
      await stopDaemon(d);
    }
    await converged(['alpha', 'beta']);
  });
});
