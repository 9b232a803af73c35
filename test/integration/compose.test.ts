import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, TEST_IMAGES, createStack, docker, freePort, stackSettings, waitFor, writeGatewayEnv } from './harness.js';

/**
 * deploy/compose.yaml as shipped, brought up with Debian's docker-compose: the daemon in a container
 * (the image this repository builds, local/mcp-reconciler:prod) reaches LiteLLM and the edge by container
 * name on the stack's network (`reach: network`, set by the compose file) and serves /status on 0.0.0.0
 * inside, reached through the port published on 127.0.0.1. Every name carries the test's random prefix:
 * the compose project, the containers (MCP_NAME_PREFIX), the network (MCP_NETWORK); all removed at the end.
 */
const COMPOSE = join(REPO, 'deploy/compose.yaml');

interface Status {
  servers: Array<{ name: string; conditions: Array<{ type: string; status: string; reason: string; message: string }> }>;
}

describe('deploy/compose.yaml: the daemon as a container', { timeout: 900_000 }, () => {
  test('docker-compose up: a server becomes ready, seen through the published status port', async () => {
    const stack = await createStack();
    const id = stack.id;
    const home = join(stack.dir, 'home');
    const secrets = join(home, 'projects', 'secrets');
    const config = join(home, '.config', 'mcp-reconciler');
    mkdirSync(join(home, 'projects', 'mcp', 'desired-state'), { recursive: true });
    mkdirSync(secrets, { recursive: true, mode: 0o700 });
    mkdirSync(config, { recursive: true, mode: 0o700 });
    // The gateway's key, and the postgres service's env file (compose reads it even for a service not started).
    writeGatewayEnv(secrets, id);
    writeFileSync(join(secrets, 'mcp-litellm-db.env'), '', { mode: 0o600 });
    const statusPort = await freePort();
    writeFileSync(join(config, 'settings.yaml'), JSON.stringify(await stackSettings(id, join(home, 'projects', 'mcp'), secrets)));
    await docker.createNetwork({ Name: `${id}-net` });
    const env = {
      ...process.env,
      HOME: home,
      UID: '0',
      GID: '0',
      DOCKER_GID: String(statSync('/var/run/docker.sock').gid),
      MCP_NAME_PREFIX: `${id}-`,
      MCP_NETWORK: `${id}-net`,
      MCP_RECONCILER_IMAGE: TEST_IMAGES['mcp-reconciler:0.1.0'] as string,
      MCP_STATUS_HOST_PORT: String(statusPort),
    };
    const compose = (...args: string[]) =>
      spawnSync('docker-compose', ['-p', id, '-f', COMPOSE, '--profile', 'container', ...args], { encoding: 'utf8', env, cwd: stack.dir });
    try {
      const up = compose('up', '-d', '--no-build', 'reconciler');
      assert.equal(up.status, 0, up.stderr);
      const self = await docker.getContainer(`${id}-reconciler`).inspect();
      assert.equal(self.Config.Labels['com.docker.compose.project'], id);
      assert.deepEqual(self.HostConfig.PortBindings?.['9464/tcp'], [{ HostIp: '127.0.0.1', HostPort: String(statusPort) }]);

      copyFileSync(join(REPO, 'desired-state/mcp-everything.yaml'), join(home, 'projects', 'mcp', 'desired-state', 'mcp-everything.yaml'));
      const url = `http://127.0.0.1:${statusPort}/status`;
      const ready = await waitFor(
        'everything McpReady and GatewayReady through the published status port',
        async () => {
          const doc = (await (await fetch(url)).json()) as Status;
          const s = doc.servers.find((x) => x.name === 'everything');
          const c = (t: string) => s?.conditions.find((x) => x.type === t);
          return c('McpReady')?.status === 'True' && c('GatewayReady')?.status === 'True' ? s : null;
        },
        600_000,
        1_000,
      );
      // McpReady: probed by name through the edge (egress: false publishes no port at all); GatewayReady: LiteLLM by
      // name (its 127.0.0.1 port is the daemon container's own loopback). Status listens on every interface inside.
      assert.match(ready.conditions.find((x) => x.type === 'McpReady')?.message ?? '', /^\d+ tools in \d+ ms$/);
      const logs = spawnSync('docker', ['logs', `${id}-reconciler`], { encoding: 'utf8' });
      assert.match(logs.stdout, /"address":"0\.0\.0\.0","port":9464,"msg":"status server listening"/);
    } finally {
      // -v: the project's own volumes too (compose creates the postgres volume even for a service not started).
      const down = compose('down', '-v');
      if (down.status !== 0) process.stderr.write(down.stderr);
      await docker.getVolume(`${id}_mcp-litellm-db-data`).remove().catch(() => undefined);
      await stack.cleanup();
    }
  });
});
