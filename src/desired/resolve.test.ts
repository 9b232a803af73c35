import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../config/settings.js';
import { parseDesiredFile } from './load.js';
import { resolveServer, gatewaySpec, edgeSpec, edgeDockerSpec } from './resolve.js';
import { testSettings, model } from '../testing/fixtures.js';
import { plan } from '../reconcile/planner.js';
import { baseInput } from '../testing/fixtures.js';

describe('upstream credentials (auth:)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'auth-'));
  mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
  writeFileSync(join(dir, 'secrets', 'mcp-github.env'), 'GITHUB_TOKEN=ghp_secret_value\n', { mode: 0o600 });
  writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
  const settings = loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: dir, MCP_RECONCILER_SECRETS_DIR: join(dir, 'secrets') } });
  const desired = (extra: string) => parseDesiredFile(`image: gh:1\ntransport: http\nport: 8000\n${extra}`, 'f', 'mcp-github.yaml').server!;

  test('config mode: auth_type + authentication_token as os.environ/, the value only at create time', () => {
    const m = resolveServer(settings, desired('auth:\n  type: bearer_token\n  secret: GITHUB_TOKEN\n'));
    assert.equal(m.gatewayEntry?.['auth_type'], 'bearer_token');
    assert.equal(m.gatewayEntry?.['authentication_token'], 'os.environ/MCP_AUTH_GITHUB');
    const g = gatewaySpec(settings, [m]);
    assert.deepEqual(g.envFromFiles, [{ file: join(dir, 'secrets', 'mcp-github.env'), key: 'GITHUB_TOKEN', as: 'MCP_AUTH_GITHUB' }]);
    assert.ok(!JSON.stringify(g).includes('ghp_secret_value'), 'no secret value in the spec');
    assert.ok(!JSON.stringify(plan(baseInput(settings, [m]))).includes('ghp_secret_value'), 'no secret value in the plan');
  });

  test('a secret change changes the gateway hash input (keyed digest), not the spec text', () => {
    const m = resolveServer(settings, desired('auth:\n  type: bearer_token\n  secret: GITHUB_TOKEN\n'));
    const a = gatewaySpec(settings, [m]).secretDigest;
    writeFileSync(join(dir, 'secrets', 'mcp-github.env'), 'GITHUB_TOKEN=ghp_rotated\n', { mode: 0o600 });
    assert.notEqual(gatewaySpec(settings, [m]).secretDigest, a);
  });

  test('API mode: plainly blocked, since 1.77.3 has no field for it', () => {
    const m = resolveServer(settings, desired('auth:\n  type: api_key\n  secret: GITHUB_TOKEN\n'));
    const input = baseInput(settings, [m], {
      observed: { networkExists: true, containers: [], volumes: [], gatewayConfigText: null, apiServers: [] },
    });
    input.gateway = { ...input.gateway, mode: 'api' };
    const op = plan(input).operations.find((o) => o.resourceId === 'gateway-api:mcp-reconciler~default~github');
    assert.equal(op?.type, 'blocked');
    assert.match(op!.cause, /management API cannot carry/);
  });

  test('a missing secret is a clear error naming the file, not the value', () => {
    assert.throws(() => resolveServer(settings, desired('auth:\n  type: bearer_token\n  secret: NOPE\n')), /has no NOPE/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('LiteLLM on the host (both deployment shapes)', () => {
  test('edge.url and edge.hostPort: entries point at the published edge', async () => {
    const { testSettings, model, HTTP } = await import('../testing/fixtures.js');
    const s = testSettings();
    s.edge = { ...s.edge, hostPort: 8081, url: 'http://127.0.0.1:8081' };
    const http = model(s, 'web', HTTP);
    const stdio = model(s, 'mem', 'image: mcp/memory:1\ntransport: stdio\n');
    assert.equal(http.gatewayEntry?.['url'], 'http://127.0.0.1:8081/mcp-web/3001/mcp');
    assert.equal(stdio.gatewayEntry?.['url'], 'http://127.0.0.1:8081/mcp-mem/stdio/mcp');
    const { edgeSpec } = await import('./resolve.js');
    assert.deepEqual(edgeSpec(s).publish, { hostIp: '127.0.0.1', hostPort: 8081 });
    const d = testSettings();
    assert.equal(model(d, 'web', HTTP).gatewayEntry?.['url'], 'http://mcp-edge:8080/mcp-web/3001/mcp');
  });
});

describe('reach: network (the daemon in a container, deploy/compose.yaml)', () => {
  test('the edge serves the daemon\'s own container too (--peer-host); with reach: host its command is unchanged', async () => {
    const { testSettings } = await import('../testing/fixtures.js');
    const { edgeSpec } = await import('./resolve.js');
    const host = testSettings();
    const net = { ...testSettings(), reach: 'network' as const };
    const cmd = (x: typeof host): string[] => edgeSpec(x).cmd ?? [];
    assert.deepEqual(cmd(net).slice(-2), ['--peer-host', 'mcp-reconciler']);
    assert.deepEqual(cmd(net).slice(0, -2), cmd(host));
    assert.ok(!cmd(host).includes('--peer-host'));
  });
});

describe('the managed gateway container', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-'));
  mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
  const envFile = join(dir, 'secrets', 'mcp-litellm.env');
  const settingsFile = join(dir, 'settings.yaml');
  const load = (yaml = '') => {
    writeFileSync(settingsFile, `projectsRoot: ${dir}\nsecretsDir: ${dir}/secrets\n${yaml}`);
    return loadSettings({ file: settingsFile, env: {} });
  };

  test('with DATABASE_URL: the database image and STORE_MODEL_IN_DB (DB servers loaded at start and polled); without: neither', () => {
    writeFileSync(envFile, 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
    const plain = gatewaySpec(load());
    assert.equal(plain.upstreamImage, 'ghcr.io/berriai/litellm:v1.77.3-stable');
    assert.deepEqual(plain.env, { LITELLM_LOCAL_MODEL_COST_MAP: 'True' });
    writeFileSync(envFile, 'LITELLM_MASTER_KEY=sk-x\nDATABASE_URL=postgresql://l:p@db:5432/litellm\n', { mode: 0o600 });
    const db = gatewaySpec(load());
    assert.equal(db.upstreamImage, 'ghcr.io/berriai/litellm-database:main-v1.77.3-stable');
    assert.deepEqual(db.env, { LITELLM_LOCAL_MODEL_COST_MAP: 'True', STORE_MODEL_IN_DB: 'True' });
    assert.ok(!JSON.stringify(db).includes('postgresql://'), 'the URL stays in the env file');
  });

  test('gateway.networks are joined besides mcp-net; gateway.mounts and gateway.entrypoint are passed as given', () => {
    writeFileSync(envFile, 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
    const g = gatewaySpec(load(
      'gateway:\n  networks: [pg-net, mcp-net]\n  mounts: ["/opt/double:/opt/double:ro"]\n  entrypoint: [/opt/py, /opt/double/launch.py]\n',
    ));
    assert.deepEqual(g.networks, [{ name: 'mcp-net', aliases: ['mcp-litellm'] }, { name: 'pg-net', aliases: [] }]);
    assert.deepEqual(g.binds.slice(1), ['/opt/double:/opt/double:ro']);
    assert.deepEqual(g.entrypoint, ['/opt/py', '/opt/double/launch.py']);
    assert.deepEqual(g.cmd?.slice(0, 1), ['--config']);
  });

  test('a relative mount is refused with its location', () => {
    assert.throws(() => load('gateway:\n  mounts: ["double:/opt/double"]\n'), /settings\.yaml:4:\d+ gateway\.mounts\.0: host:container/);
  });

  test('the default gateway env file follows namePrefix (<secretsDir>/<prefix>litellm.env)', () => {
    assert.equal(load().gateway.envFile, envFile);
    assert.equal(load('namePrefix: t1-\n').gateway.envFile, join(dir, 'secrets', 't1-litellm.env'));
  });
});

describe('the containers we create, field by field (what Docker is given)', () => {
  const s = testSettings();
  const owner = (role: string, extra: Record<string, string> = {}): Record<string, string> => ({
    'io.mcp-reconciler.managed-by': 'mcp-reconciler', 'io.mcp-reconciler.instance': 'default', 'io.mcp-reconciler.role': role,
    'io.mcp-reconciler.schema-version': '1', ...extra,
  });
  const locked = {
    readOnlyRootFilesystem: true, capDrop: ['ALL'], capAdd: [], noNewPrivileges: true, user: null, nanoCpus: null, tmpfs: ['/tmp'],
    logMaxSize: '10m', logMaxFiles: 3,
  };

  test('an http server without egress: its own internal network, extra networks but never the gateway network, ' +
    'data volume, hardening as written', () => {
    const m = model(s, 'web-x', [
      'image: mcp/web:1', 'transport: http', 'port: 3001', 'command: [node, s.js]', 'env:', '  A: 1', 'data: /data',
      'networks: [pg-net, mcp-net, mcp-net.web-x.internal]', 'egress: false',
      'security:', '  capAdd: [SETUID, CHOWN]', '  user: "1000"', '  memory: 1g', '  pids: 100', '  cpus: 0.5', '  tmpfs: [/tmp, /run/x]',
      'health:', '  intervalSeconds: 7', '  timeoutSeconds: 2', '  failureThreshold: 4', '  restartOnHang: false',
      '  gatewayIntervalSeconds: 60', '',
    ].join('\n'));
    assert.deepEqual(m.container, {
      name: 'mcp-web-x', image: 'mcp/web:1', upstreamImage: 'mcp/web:1', cmd: ['node', 's.js'], env: { A: '1' }, envFiles: [],
      secretDigest: null,
      binds: [], exposedPort: 3001, publish: { hostIp: '127.0.0.1', hostPort: null },
      networks: [{ name: 'mcp-net.web-x.internal', aliases: ['mcp-web-x'] }, { name: 'pg-net', aliases: [] }],
      labels: owner('server', { 'io.mcp-reconciler.server': 'web-x', 'io.mcp-reconciler.source': 'desired-state/mcp-web-x.yaml' }),
      init: true, restart: 'unless-stopped', volumes: [{ name: 'mcp-web-x-data', target: '/data' }],
      hardening: {
        ...locked, capAdd: ['CHOWN', 'SETUID'], user: '1000', memoryBytes: 1073741824, pids: 100, nanoCpus: 500000000,
        tmpfs: ['/run/x', '/tmp'],
      },
    });
    assert.deepEqual(m.network, { name: 'mcp-net.web-x.internal', internal: true });
    assert.deepEqual([m.mcpPath, m.gatewayName, m.blocked, m.auth], ['/mcp', 'mcp_web_x', null, null]);
    assert.deepEqual(m.gatewayEntry, {
      url: 'http://mcp-edge:8080/mcp-web-x/3001/mcp', transport: 'http', description: 'web-x (managed by mcp-reconciler)',
    });
    assert.deepEqual(m.health, { intervalMs: 7000, gatewayIntervalMs: 60000, timeoutMs: 2000, failureThreshold: 4, restartOnHang: false });
  });

  test('a stdio server: stdin open, no port, served by the edge; relaxed hardening keeps no tmpfs and no cap-drop', () => {
    const m = model(s, 'mem', 'image: mcp/memory:1\ntransport: stdio\nsecurity:\n' +
      '  readOnlyRootFilesystem: false\n  dropAllCapabilities: false\n  noNewPrivileges: false\n');
    assert.deepEqual(m.container, {
      name: 'mcp-mem', image: 'mcp/memory:1', upstreamImage: 'mcp/memory:1', env: {}, envFiles: [], secretDigest: null, binds: [],
      networks: [{ name: 'mcp-net.mem', aliases: ['mcp-mem'] }],
      labels: owner('server', { 'io.mcp-reconciler.server': 'mem', 'io.mcp-reconciler.source': 'desired-state/mcp-mem.yaml' }),
      init: true, restart: 'unless-stopped', volumes: [],
      hardening: {
        ...locked, readOnlyRootFilesystem: false, capDrop: [], noNewPrivileges: false, memoryBytes: 536870912, pids: 256, tmpfs: [],
      },
      stdin: true,
    });
    assert.deepEqual(m.network, { name: 'mcp-net.mem', internal: false });
    assert.equal(m.mcpPath, null);
    assert.deepEqual(m.gatewayEntry, {
      url: 'http://mcp-edge:8080/mcp-mem/stdio/mcp', transport: 'http', description: 'mem (managed by mcp-reconciler)',
    });
  });

  test('an sse server is reached directly on its network at /sse; an http path and default health are kept', () => {
    const sse = model(s, 'ev', 'image: mcp/ev:1\ntransport: sse\nport: 3002\ndescription: events\n');
    assert.deepEqual([sse.mcpPath, sse.gatewayEntry], ['/sse', { url: 'http://mcp-ev:3002/sse', transport: 'sse', description: 'events' }]);
    const sseAt = model(s, 'ev', 'image: mcp/ev:1\ntransport: sse\nport: 3002\npath: /events\n');
    assert.deepEqual([sseAt.mcpPath, sseAt.gatewayEntry?.['url']], ['/events', 'http://mcp-ev:3002/events']);
    const h = model(s, 'h', 'image: mcp/h:1\ntransport: http\nport: 3003\npath: /x/mcp\n');
    assert.deepEqual([h.mcpPath, h.gatewayEntry?.['url']], ['/x/mcp', 'http://mcp-edge:8080/mcp-h/3003/x/mcp']);
    assert.deepEqual(h.health, {
      intervalMs: 30000, gatewayIntervalMs: 600000, timeoutMs: 10000, failureThreshold: 3, restartOnHang: true,
    });
    // LiteLLM is never asked more often than the server itself.
    const often = model(s, 'o',
      'image: mcp/o:1\ntransport: http\nport: 3003\nhealth:\n  intervalSeconds: 120\n  gatewayIntervalSeconds: 5\n');
    assert.deepEqual([often.health.intervalMs, often.health.gatewayIntervalMs], [120000, 120000]);
    assert.deepEqual(h.container!.hardening, { ...locked, memoryBytes: 536870912, pids: 256 });
  });

  test('the edge: our own image, its port published on 127.0.0.1, no Docker socket, serving only the managed gateway; ' +
    'the tool policy folder read-only', () => {
    assert.deepEqual(edgeSpec(s), {
      name: 'mcp-edge', image: 'mcp-reconciler:0.1.0', upstreamImage: 'mcp-reconciler:0.1.0',
      cmd: [
        'edge', '--port', '8080', '--allow-prefix', 'mcp-', '--instance', 'default', '--tool-policy', '/etc/mcp-edge/tool-policy.json',
        '--gateway-host', 'mcp-litellm',
      ],
      env: { DOCKER_HOST: 'unix:///run/mcp-docker/docker.sock' }, envFiles: [], secretDigest: null,
      binds: [`${s.projectsRoot}/edge:/etc/mcp-edge:ro`], exposedPort: 8080,
      publish: { hostIp: '127.0.0.1', hostPort: null }, networks: [{ name: 'mcp-net', aliases: ['mcp-edge'] }], labels: owner('edge'),
      init: true, restart: 'unless-stopped', volumes: [{ name: 'mcp-edge.docker', target: '/run/mcp-docker' }],
      hardening: { ...locked, memoryBytes: 134217728, pids: 128 },
      healthcheck: {
        test: ['CMD', 'node', '-e', "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"],
        intervalS: 30, timeoutS: 3, startPeriodS: 10, retries: 3,
      },
    });
  });

  test('the edge serves the user\'s named gateway when unmanaged, or only the host', () => {
    const named = { ...s, gateway: { ...s.gateway, managed: false, restartContainer: 'my-litellm' } };
    assert.deepEqual(edgeSpec(named).cmd?.slice(-2), ['--gateway-host', 'my-litellm']);
    const none = { ...s, gateway: { ...s.gateway, managed: false, restartContainer: undefined } };
    assert.deepEqual(edgeSpec(none).cmd?.slice(-1), ['--host-only']);
  });

  test("the edge's Docker proxy: the socket bound in, no network, root without capabilities", () => {
    assert.deepEqual(edgeDockerSpec(s), {
      name: 'mcp-edge.docker', image: 'mcp-reconciler:0.1.0', upstreamImage: 'mcp-reconciler:0.1.0',
      cmd: ['edge-docker', '--socket', '/run/mcp-docker/docker.sock', '--instance', 'default'],
      healthcheck: {
        test: [
          'CMD', 'node', '-e',
          "require('http').get({socketPath:'/run/mcp-docker/docker.sock',path:'/_ping'}," +
            "r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))",
        ],
        intervalS: 30, timeoutS: 3, startPeriodS: 10, retries: 3,
      },
      env: {}, envFiles: [], secretDigest: null, binds: ['/var/run/docker.sock:/var/run/docker.sock'],
      networks: [{ name: 'none', aliases: [] }],
      labels: owner('edge-docker'), init: true, restart: 'unless-stopped',
      volumes: [{ name: 'mcp-edge.docker', target: '/run/mcp-docker' }],
      hardening: { ...locked, user: '0:0', memoryBytes: 134217728, pids: 128 },
    });
  });

  test('an edge.url with trailing slashes gives entry URLs without a double slash', () => {
    const u = { ...s, edge: { ...s.edge, url: 'http://127.0.0.1:8081//' } };
    assert.equal(
      model(u, 'web', 'image: mcp/w:1\ntransport: http\nport: 3001\n').gatewayEntry?.['url'],
      'http://127.0.0.1:8081/mcp-web/3001/mcp',
    );
  });
});
