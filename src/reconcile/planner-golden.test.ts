// Golden plans (type, resource and cause of every operation) for the planner's branches, written
// to kill the mutants StrykerJS found surviving: a changed cause, a dropped operation or a
// loosened ownership check changes the listing. Apart from planner.test.ts to avoid edit clashes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, describeDrift, type PlanInput } from './planner.js';
import { apiRowFor, baseInput, converged, model, runningFor, testSettings, HTTP } from '../testing/fixtures.js';
import type { ObservedContainer } from '../model/types.js';

const settings = testSettings();
/** One line per operation; spec hashes (which change with any spec field) read as `hash`. */
const show = (input: PlanInput): string[] =>
  plan(input).operations.map((o) => `${o.type} ${o.resourceId}: ${o.cause}`.replace(/\([0-9a-f]{8} -> [0-9a-f]{8}\)/, '(hash -> hash)'));
const a = model(settings, 'a', HTTP);
const b = model(settings, 'b', `${HTTP}data: /data\n`);
/** Compare with the reviewed listing at the end of this file. */
function golden(name: string, actual: string[]): void {
  assert.deepEqual(actual, GOLDEN[name]);
}
/** What Docker and config.yaml look like after a perfect apply of input (no gateway noise). */
function settled(input: PlanInput): PlanInput['observed'] {
  const w = plan(input).operations.find((o) => o.type === 'write-gateway-config');
  return converged(input, w && 'text' in w ? String(w.text) : '');
}
const foreign = (name: string): ObservedContainer => ({
  ...runningFor(a), id: `id-${name}`, name, owned: false, role: null, server: null, specHash: null,
});

describe('golden plans', () => {
  test('an empty engine: network, edge, per-server networks, volume, servers, edge connections, config.yaml, gateway', () => {
    golden('EMPTY', show(baseInput(settings, [a, b])));
  });

  test('ownership: containers and volumes with our names that we do not own are conflicts, never touched', () => {
    const input = baseInput(settings, [a, b]);
    const c = settled(input);
    input.observed = {
      ...c,
      containers: [
        ...c.containers.filter((x) => x.role === 'gateway'),
        foreign(a.container!.name),
        foreign('mcp-edge'),
        foreign('mcp-x.next'),
      ],
      volumes: [{ name: 'mcp-b-data', owned: false }],
    };
    golden('OWNERSHIP', show(input));
  });

  test('drift: each cause names what changed; a stopped container is started; an interrupted recreate is cleaned first', () => {
    const a2 = model(settings, 'a', `${HTTP}env:\n  FOO: "2"\n`);
    const input = baseInput(settings, [a2, b]);
    const c = settled(input);
    input.observed = {
      ...c,
      containers: [
        ...c.containers.filter((x) => x.role !== 'server'),
        runningFor(a2, {
          specHash: 'old-hash-1234',
          specSummary: { ...a.container, labels: undefined } as unknown as Record<string, unknown>,
        }),
        runningFor(b, { running: false, state: 'exited' }),
        { ...runningFor(b), id: 'id-next', name: `${b.container!.name}.next` },
      ],
    };
    golden('DRIFT', show(input));
  });

  test('a rebuilt image tag recreates the container, naming both image ids', () => {
    const input = baseInput(settings, [a]);
    input.observed = { ...settled(input), imageIds: { [a.container!.image]: 'sha256:bbbbbbbbbbbbbbbbbbbb' } };
    input.observed.containers = input.observed.containers
      .map((x) => (x.role === 'server' ? { ...x, imageId: 'sha256:aaaaaaaaaaaaaaaaaaaa' } : x));
    assert.deepEqual(show(input).filter((l) => l.startsWith('recreate')), [
      `recreate-container container:mcp-a: image ${a.container!.image} now bbbbbbbbbbbb (container runs aaaaaaaaaaaa)`,
    ]);
  });

  test('prune: unwanted owned containers go (edge included); held servers keep their container and entry', () => {
    const c = model(settings, 'c', HTTP);
    const full = baseInput(settings, [a, c]);
    const input = baseInput(settings, [], { hold: ['c'] });
    input.observed = settled(full);
    golden('PRUNE', show(input));
    input.prune = { allowed: false, reason: 'the desired dir is empty' };
    golden('PRUNE_HELD', show(input));
  });
});

describe('golden plans, API mode', () => {
  const prefix = 'mcp-reconciler~default~';
  const api = (rows: PlanInput['observed']['apiServers'], servers = [a, b]): PlanInput => {
    const input = baseInput(settings, servers);
    input.gateway = { ...input.gateway, mode: 'api' };
    input.observed = { ...settled({ ...input, gateway: { ...input.gateway, mode: 'config' } }), apiServers: rows };
    return input;
  };
  const row = (m: typeof a, over: Record<string, string> = {}) => apiRowFor(m, prefix, over);

  test('registers what is missing, replaces what changed, removes what nobody wants, leaves rows of others alone', () => {
    const rows = [
      row(a, { url: 'http://old/mcp' }),
      { server_id: `${prefix}gone`, server_name: 'mcp_gone' },
      { server_id: 'someone-else', server_name: 'mcp_other' },
    ];
    golden('API', show(api(rows)));
  });

  test('a name another registration owns is a conflict; an unreadable API blocks; held prune keeps rows', () => {
    golden('API_CONFLICT', show(api([{ server_id: 'theirs', server_name: a.gatewayName }], [a])));
    golden('API_NULL', show(api(null, [a])));
    const held = api([{ server_id: `${prefix}gone`, server_name: 'mcp_gone' }], []);
    held.prune = { allowed: false, reason: 'confirm first' };
    golden('API_HELD', show(held));
  });

  test('config mode deletes our rows left in the database (moving from API mode), never anyone else’s', () => {
    const input = baseInput(settings, [a]);
    input.observed = { ...settled(input), apiServers: [{ server_id: `${prefix}a` }, { server_id: 'someone-else' }] };
    assert.deepEqual(show(input).filter((l) => l.startsWith('api-')), [
      `api-delete gateway-api:${prefix}a: gateway in config mode: the entry moves to config.yaml`,
    ]);
  });
});

describe('golden plans, gateway', () => {
  test('an unmanaged gateway is restarted only when named, and only when config.yaml changed or is newer', () => {
    const input = baseInput(settings, [a]);
    input.gateway = { ...input.gateway, managed: false, restartContainer: 'my-litellm' };
    const target = { id: 'gw', startedAt: 1000, running: true };
    input.observed = { ...converged(input, ''), restartTarget: target, gatewayConfigMtime: 1000 };
    const restarts = (i: PlanInput): string[] => show(i).filter((l) => l.startsWith('restart-gateway'));
    assert.deepEqual(restarts(input), [
      'restart-gateway container:my-litellm: config.yaml changes now; gateway.restartContainer allows a restart',
    ]);
    const text = plan(input).operations.find((o) => o.type === 'write-gateway-config');
    input.observed = { ...input.observed, gatewayConfigText: text && 'text' in text ? String(text.text) : '' };
    assert.deepEqual(restarts(input), [], 'file unchanged and not newer than the start');
    input.observed = { ...input.observed, gatewayConfigMtime: 1001 };
    assert.deepEqual(restarts(input), [
      'restart-gateway container:my-litellm: config.yaml is newer than the running gateway; gateway.restartContainer allows a restart',
    ]);
    input.observed = { ...input.observed, gatewayConfigMtime: null };
    assert.deepEqual(restarts(input), []);
    input.gateway = { ...input.gateway, restartContainer: undefined };
    input.observed = { ...input.observed, gatewayConfigMtime: 5000 };
    assert.deepEqual(restarts(input), [], 'never without restartContainer');
    input.gateway = { ...input.gateway, restartContainer: 'my-litellm', mode: 'api' };
    input.observed = { ...input.observed, apiServers: [] };
    assert.deepEqual(restarts(input), [], 'never in API mode');
  });

  test('a gateway that cannot run and a config.yaml that does not parse are blocked, not overwritten', () => {
    const input = baseInput(settings, [a]);
    input.gateway = { ...input.gateway, problem: 'env file missing' };
    input.observed = { ...converged(input, ''), gatewayConfigText: 'mcp_servers: [unclosed' };
    golden('BLOCKED', show(input).filter((l) => l.startsWith('blocked') || l.startsWith('write')));
  });
});

describe('drift descriptions', () => {
  test('names fields as written in the desired file, at most five, then how many more', () => {
    assert.equal(describeDrift({ cmd: ['a'], env: { A: '1' } }, { cmd: ['b'], env: { A: '2' } }, 'h1', 'h2'), 'command, env.A changed');
    const before = { a: 1, b: 1, c: 1, d: 1, e: 1, f: 1, g: 1 };
    const after = { a: 2, b: 2, c: 2, d: 2, e: 2, f: 2, g: 2 };
    assert.equal(describeDrift(before, after, 'h1', 'h2'), 'a, b, c, d, e and 2 more changed');
    assert.equal(describeDrift({ a: 1, b: 1, c: 1, d: 1, e: 1 }, { a: 2, b: 2, c: 2, d: 2, e: 2 }, 'x', 'y'), 'a, b, c, d, e changed');
    assert.equal(describeDrift(null, {}, null, '0123456789'), 'spec changed (none -> 01234567)');
    assert.equal(describeDrift({ a: 1 }, { a: 1 }, 'abcdefghij', '0123456789'), 'spec changed (abcdefgh -> 01234567)');
    assert.equal(
      describeDrift(
        { secretDigest: 'x', binds: [], exposedPort: 1, volumes: [], hardening: {}, config: 'c', upstreamImage: 'i', image: 'j' },
        {
          secretDigest: 'y', binds: ['m'], exposedPort: 2, volumes: ['v'], hardening: { x: 1 }, config: 'd', upstreamImage: 'k', image: 'l',
        },
        'a',
        'b',
      ),
      'mounts, config.yaml, port, security.x, image (resolved) and 3 more changed',
    );
    assert.equal(describeDrift({ a: [1, 2] }, { a: [1, 3] }, 'a', 'b'), 'a changed');
    assert.equal(describeDrift({ n: { x: 1 } }, { n: 5 } as Record<string, unknown>, 'a', 'b'), 'n changed');
  });
});

const GOLDEN: Record<string, string[]> = {
  EMPTY: [
    'create-network network:mcp-net: not found',
    'create-volume volume:mcp-edge.docker: not found',
    'create-container container:mcp-edge.docker: not found',
    'create-container container:mcp-edge: not found',
    'create-network network:mcp-net.a: not found',
    'create-container container:mcp-a: not found',
    'create-network network:mcp-net.b: not found',
    'create-volume volume:mcp-b-data: not found',
    'create-container container:mcp-b: not found',
    'connect-network endpoint:mcp-edge@mcp-net.a: edge reaches server "a" on its own network',
    'connect-network endpoint:mcp-edge@mcp-net.b: edge reaches server "b" on its own network',
    'write-gateway-guard file:/srv/projects/mcp/litellm/mcp_reconciler_guard.py: not found',
    'write-gateway-config file:/srv/projects/mcp/litellm/config.yaml: ' +
      'mcp_servers: add mcp_a, mcp_b; litellm_settings.callbacks: add mcp_reconciler_guard.guard',
    'create-container container:mcp-litellm: not found',
  ],
  OWNERSHIP: [
    'create-volume volume:mcp-edge.docker: not found',
    'create-container container:mcp-edge.docker: not found',
    'conflict container:mcp-edge: a container named mcp-edge exists but is not managed by mcp-reconciler; ' +
      'rename or remove it to let the reconciler run the edge',
    'conflict container:mcp-a: a container named mcp-a exists but is not managed by mcp-reconciler; ' +
      'rename or remove it to let the reconciler run server "a"',
    'conflict volume:mcp-b-data: a volume named mcp-b-data exists but is not managed by mcp-reconciler; ' +
      'the server is not started on someone else\'s data',
    'write-gateway-config file:/srv/projects/mcp/litellm/config.yaml: mcp_servers: remove mcp_a, mcp_b',
    'recreate-container container:mcp-litellm: spec changed (hash -> hash)',
  ],
  DRIFT: [
    'remove-container container:mcp-b.next: leftover of an interrupted recreate',
    'recreate-container container:mcp-a: env.FOO changed',
    'start-container container:mcp-b: container is exited',
  ],
  PRUNE: [
    'write-gateway-config file:/srv/projects/mcp/litellm/config.yaml: mcp_servers: remove mcp_a',
    'recreate-container container:mcp-litellm: spec changed (hash -> hash)',
    'remove-container container:mcp-a: no desired file for server "a"',
    'remove-container container:mcp-edge: edge no longer needed',
    'remove-container container:mcp-edge.docker: edge-docker no longer needed',
    'remove-network network:mcp-net.a: no desired server uses it (server "a")',
  ],
  PRUNE_HELD: [
    'prune-held container:mcp-a: no desired file for server "a"; not removed: the desired dir is empty',
  ],
  API: [
    'write-gateway-config file:/srv/projects/mcp/litellm/config.yaml: mcp_servers: remove mcp_a, mcp_b',
    'recreate-container container:mcp-litellm: spec changed (hash -> hash)',
    'api-delete gateway-api:mcp-reconciler~default~a: url changed (update = delete + create)',
    'api-create gateway-api:mcp-reconciler~default~a: url changed',
    'api-create gateway-api:mcp-reconciler~default~b: not registered',
    'api-delete gateway-api:mcp-reconciler~default~gone: no desired file',
  ],
  API_CONFLICT: [
    'write-gateway-config file:/srv/projects/mcp/litellm/config.yaml: mcp_servers: remove mcp_a',
    'recreate-container container:mcp-litellm: spec changed (hash -> hash)',
    'conflict gateway-api:mcp_a: LiteLLM already has a server "mcp_a" that mcp-reconciler does not own; rename or remove it',
  ],
  API_NULL: [
    'write-gateway-config file:/srv/projects/mcp/litellm/config.yaml: mcp_servers: remove mcp_a',
    'recreate-container container:mcp-litellm: spec changed (hash -> hash)',
    'blocked gateway-api: LiteLLM\'s management API cannot be read now; registration waits for it',
  ],
  API_HELD: [
    'prune-held gateway-api:mcp-reconciler~default~gone: no desired file; not deregistered: confirm first',
  ],
  BLOCKED: [
    'blocked file:/srv/projects/mcp/litellm/config.yaml: config.yaml does not parse ' +
      '(Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 23:); ' +
      'it is left as it is until fixed',
    'blocked container:mcp-litellm: env file missing',
  ],
};
