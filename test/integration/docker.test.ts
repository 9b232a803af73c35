import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createStack, waitFor, docker, REPO, type Stack } from './harness.js';
import { Labels } from '../../src/docker/labels.js';
import { writeOps } from '../../src/model/types.js';

/**
 * Docker reconciliation against the real dockerd: hardening, volumes, drift by hand, failed
 * recreates. Crashes at every executor step: test/reliability/faults.test.ts (named failpoints).
 * The gateway is not managed here (the slice test covers it) so each pass is fast.
 */
describe('docker reconciliation', { timeout: 300_000 }, () => {
  let stack: Stack;
  // With egress (the example says false): Docker publishes no port on an internal network, and
  // these tests reach the server through its 127.0.0.1 port (ADR 0007).
  const example = readFileSync(join(REPO, 'desired-state/mcp-everything.yaml'), 'utf8').replace(/^egress: false.*\n/m, '');
  const name = (): string => `${stack.id}-everything`;
  const find = async (n = name()) => (await stack.containers()).find((c) => c.Names[0] === `/${n}`);

  before(async () => {
    stack = await createStack({ gateway: { managed: false } });
    stack.writeDesired('everything', `${example}data: /data\n`);
  });
  after(async () => {
    await stack?.cleanup();
    await docker.getVolume(`${stack.id}-everything-data`).remove().catch(() => undefined);
  });

  test('created hardened by default: init, read-only root + tmpfs, cap-drop ALL, no-new-privileges, limits, log rotation', async () => {
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed, []);
    const c = await find();
    assert.ok(c);
    const h = (await docker.getContainer(c.Id).inspect()).HostConfig;
    assert.equal(h.Init, true);
    assert.equal(h.ReadonlyRootfs, true);
    assert.deepEqual(Object.keys(h.Tmpfs ?? {}), ['/tmp']);
    assert.deepEqual(h.CapDrop, ['ALL']);
    assert.deepEqual(h.SecurityOpt, ['no-new-privileges:true']);
    assert.equal(h.Memory, 512 * 1024 * 1024);
    assert.equal(h.PidsLimit, 256);
    assert.equal(h.RestartPolicy?.Name, 'unless-stopped');
    assert.deepEqual(h.LogConfig, { Type: 'json-file', Config: { 'max-file': '3', 'max-size': '10m' } });
    assert.ok(Object.values(h.PortBindings ?? {}).flat().every((b) => (b as { HostIp: string }).HostIp === '127.0.0.1'));
    // MCP itself (initialize + tools/list with the SDK client) through the port published on 127.0.0.1.
    const published = c.Ports.find((p) => p.PrivatePort === 3001 && p.IP === '127.0.0.1')?.PublicPort;
    assert.ok(published, JSON.stringify(c.Ports));
    const { server, tools } = await waitFor('MCP answering through its 127.0.0.1 port', async () => {
      const client = new Client({ name: 'itest', version: '1' });
      const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${published}/mcp`));
      await client.connect(transport);
      try {
        return { server: client.getServerVersion()?.name, tools: (await client.listTools()).tools.map((t) => t.name) };
      } finally {
        await transport.terminateSession().catch(() => undefined);
        await client.close();
      }
    });
    assert.match(server ?? '', /everything/);
    assert.ok(tools.includes('echo'), tools.join(' '));
    assert.deepEqual((await stack.reconciler.plan()).plan.operations, [], 'steady state');
  });

  test('data: gets an owned named volume mcp-<name>-data, writable', async () => {
    const v = await docker.getVolume(`${stack.id}-everything-data`).inspect();
    assert.equal(v.Labels?.[Labels.ManagedBy], 'mcp-reconciler');
    assert.equal(v.Labels?.[Labels.Server], 'everything');
    const c = await find();
    const mounts = (await docker.getContainer(c!.Id).inspect()).Mounts;
    assert.ok(mounts.some((m) => m.Name === `${stack.id}-everything-data` && m.Destination === '/data' && m.RW));
  });

  test('docker stop behind our back -> started again; docker rm -> created again', async () => {
    const c = await find();
    await docker.getContainer(c!.Id).stop({ t: 1 });
    const p1 = await stack.reconciler.reconcile();
    assert.deepEqual(p1.plan.operations.map((o) => `${o.type} ${o.resourceId}`), [`start-container container:${name()}`]);
    assert.equal((await find())?.State, 'running');
    await docker.getContainer(c!.Id).remove({ force: true });
    const p2 = await stack.reconciler.reconcile();
    assert.deepEqual(p2.plan.operations.map((o) => `${o.type} ${o.resourceId}`), [`create-container container:${name()}`]);
    assert.equal((await find())?.State, 'running');
    stack.runtime.writes = [];
    assert.deepEqual(writeOps((await stack.reconciler.reconcile()).plan), []);
    assert.deepEqual(stack.runtime.writes, []);
  });

  test('plan names the field that drifted', async () => {
    stack.writeDesired('everything', `${example}data: /data\n`.replace('PORT: 3001\n', 'PORT: 3001\n  FOO: bar\n'));
    const { plan } = await stack.reconciler.plan();
    assert.deepEqual(plan.operations.map((o) => o.cause), ['env.FOO changed']);
  });

  test('a recreate whose image is missing fails without a pull and leaves the old container running', async () => {
    const before = await find();
    stack.writeDesired('everything', `${example}data: /data\n`.replace('image: mcp/everything:latest', 'image: local/does-not-exist:1'));
    const out = await stack.reconciler.reconcile();
    assert.equal(out.result.failed.length, 1);
    assert.equal(out.result.failed[0]?.code, 'ImageUnavailable');
    assert.match(out.result.failed[0]!.error, /image local\/does-not-exist:1 is not present locally and images.pull is "never"/);
    const after = await find();
    assert.equal(after?.Id, before?.Id);
    assert.equal(after?.State, 'running');
  });

  test('a recreate whose new container cannot start leaves the old one running, and no leftover', async () => {
    const before = await find();
    stack.writeDesired('everything', `${example}data: /data\n`
      .replace('command: ["node", "dist/index.js", "streamableHttp"]', 'command: ["/no/such/binary"]'));
    const out = await stack.reconciler.reconcile();
    assert.equal(out.result.failed.length, 1, JSON.stringify(out.result));
    const all = (await stack.containers()).map((c) => `${c.Names[0]} ${c.State}`).sort();
    assert.deepEqual(all, [`/${stack.id}-edge running`, `/${stack.id}-edge.docker running`, `/${name()} running`]);
    assert.equal((await find())?.Id, before?.Id);
    assert.match(out.result.failed[0]!.error, /^(exited \d+|keeps restarting): .*exec \/no\/such\/binary failed/);
  });
});
