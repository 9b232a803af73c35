import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, TEST_IMAGES, assertImages, createStack, docker, freePort, waitFor } from './harness.js';

/**
 * The design's own view, for real: systemd as PID 1 in a container (local/debian-systemd:12: Debian 12
 * from debootstrap plus Debian's systemd), `mcp-reconciler install` run there as an operator would,
 * a desired file dropped in, and the answer read the way CLAUDE.md says: `systemctl status` and
 * `journalctl -u mcp-reconciler MCP_SERVER=...`. The container shares the host's network (the daemon
 * probes servers on their 127.0.0.1 ports, as on a host), its Docker socket, and root's home at the
 * same path as on the host (on a host, the daemon and dockerd see one filesystem: the binds the daemon
 * asks for, such as the edge's tool policy folder, name host paths); everything the daemon creates
 * carries the test's random prefix and is removed at the end, the systemd container first.
 */
const IMAGE = 'local/debian-systemd:12';

describe('installed as a systemd service', { timeout: 900_000 }, () => {
  test('install, a desired file, then systemctl status and journal entries with fields', async () => {
    await assertImages([IMAGE]);
    const stack = await createStack({ gateway: { managed: false } });
    const box = `${stack.id}-systemd`;
    // root's home in the box: a host folder bound at its own path, so install's projects folder is one dockerd sees.
    const root = mkdtempSync(join(tmpdir(), 'mcp-systemd-home-'));
    const sh = (script: string, input?: string): { status: number | null; stdout: string; stderr: string } =>
      spawnSync('docker', ['exec', '-i', box, 'sh', '-c', script], { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
    const c = await docker.createContainer({
      name: box,
      Image: IMAGE,
      HostConfig: {
        NetworkMode: 'host',
        Tmpfs: { '/run': 'rw,mode=755', '/run/lock': 'rw' },
        Binds: ['/sys/fs/cgroup:/sys/fs/cgroup:ro', '/var/run/docker.sock:/var/run/docker.sock', `${REPO}:${REPO}:ro`, `${root}:${root}`],
      },
    });
    try {
      await c.start();
      await waitFor('systemd up', async () => /^(running|degraded)$/m.test(sh('systemctl is-system-running').stdout), 120_000, 250);

      // Settings first (install keeps an existing file): this test's prefix, network, instance and images.
      const moved = sh(`sed -i 's#^root:\\(.*\\):/root:#root:\\1:${root}:#' /etc/passwd && getent passwd root`);
      assert.match(moved.stdout, new RegExp(`:${root}:`), moved.stderr);
      const home = `${root}/projects`;
      const settings = {
        projectsRoot: `${home}/mcp`,
        desiredDir: `${home}/mcp/desired-state`,
        secretsDir: `${home}/secrets`,
        network: `${stack.id}-net`,
        namePrefix: `${stack.id}-`,
        instance: stack.id,
        imageOverrides: TEST_IMAGES,
        images: { pull: 'never' },
        statusPort: await freePort(),
        gateway: {
          managed: false,
          hostIp: '127.0.0.1',
          hostPort: stack.settings.gateway.hostPort,
          envFile: `${home}/secrets/mcp-litellm.env`,
        },
      };
      const conf = `${root}/.config/mcp-reconciler`;
      const put = sh(`mkdir -p -m 700 ${conf} && umask 077 && cat > ${conf}/settings.yaml`, JSON.stringify(settings));
      assert.equal(put.status, 0, put.stderr);

      const inst = sh(`node ${REPO}/dist/src/main.js install --user root`);
      assert.equal(inst.status, 0, inst.stderr + inst.stdout);
      assert.match(inst.stdout, /unit +\/etc\/systemd\/system\/mcp-reconciler\.service/);
      assert.equal(sh('systemctl is-active mcp-reconciler').stdout.trim(), 'active');

      const example = readFileSync(join(REPO, 'desired-state/mcp-everything.yaml'), 'utf8');
      const drop = sh(`cat > ${settings.desiredDir}/mcp-everything.yaml`, example);
      assert.equal(drop.status, 0, drop.stderr);

      const status = await waitFor(
        'systemctl status: 1 server running',
        async () => {
          const s = sh('systemctl status mcp-reconciler --no-pager --lines=8').stdout;
          if (!/Status: "1 server: 1 running/.test(s)) throw new Error(s);
          return s;
        },
        240_000,
        500,
      );
      assert.match(status, /Active: active \(running\)/);

      // The McpReady transition, found by its fields as CLAUDE.md's query does.
      type Entry = Record<string, string>;
      const entries = (args: string): Entry[] =>
        sh(`journalctl -u mcp-reconciler ${args} -o json --no-pager`)
          .stdout.split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Entry);
      const ready = await waitFor(
        'McpReady -> True in the journal',
        async () => entries('MCP_SERVER=everything MCP_CONDITION=McpReady').find((e) => e['MCP_TO'] === 'True'),
        120_000,
        500,
      );
      assert.equal(ready['PRIORITY'], '6');
      assert.equal(ready['SYSLOG_IDENTIFIER'], 'mcp-reconciler');
      assert.equal(ready['_TRANSPORT'], 'journal', 'a native entry, not a stdout line');
      assert.equal(ready['_SYSTEMD_UNIT'], 'mcp-reconciler.service');
      assert.equal(ready['MCP_COMPONENT'], 'health');
      assert.ok(ready['MCP_REASON'], 'the transition names its reason');
      assert.match(ready['MESSAGE'] ?? '', /^McpReady .* -> True \(/);

      // A refused file is a warning with its own fields; `-p warning` filters by PRIORITY.
      const bad = sh(`cat > ${settings.desiredDir}/mcp-broken.yaml`, 'name: broken\nimage: [not, a, string]\n');
      assert.equal(bad.status, 0, bad.stderr);
      const warn = await waitFor('a warning for the broken file', async () => entries('-p warning MCP_SERVER=broken')[0], 60_000, 500);
      assert.equal(warn['PRIORITY'], '4');
      assert.match(warn['MCP_FILE'] ?? '', /mcp-broken\.yaml$/);

      // Everything the daemon wrote reached the journal natively; nothing fell back to the stdout stream.
      assert.deepEqual(entries('_TRANSPORT=stdout'), []);
    } finally {
      await c.remove({ force: true }).catch(() => undefined);
      await stack.cleanup();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
