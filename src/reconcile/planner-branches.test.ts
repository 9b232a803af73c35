// Planner branches StrykerJS found unchecked (issue 15): the role and server each operation names,
// how causes read, held changes, stopped and misplaced attachments, the unmanaged gateway, and API
// mode. Apart from planner.test.ts and planner-golden.test.ts to avoid edit clashes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiBody, describeDrift, gatewayHash, plan, type PlanInput } from './planner.js';
import { sha256Hex } from './hash.js';
import { apiRowFor, baseInput, converged, model, runningFor, testSettings, HTTP } from '../testing/fixtures.js';
import type { ApiServerRow, HeldChange, Operation, ServerModel } from '../model/types.js';
import { parsePolicyFile, renderPolicyFile } from '../policy/tool-policy.js';

const settings = testSettings();
const a = model(settings, 'a', HTTP);
const legacy = model(settings, 'legacy', 'image: a:1\ntransport: sse\nport: 8000\n');
const prefix = 'mcp-reconciler~default~';
const line = (o: Operation): string => `${o.type} ${o.resourceId}: ${o.cause}`;
const written = (input: PlanInput): string | undefined => {
  const w = plan(input).operations.find((o) => o.type === 'write-gateway-config');
  return w?.type === 'write-gateway-config' ? w.text : undefined;
};
/** What Docker and config.yaml look like after a perfect apply of input. */
const settled = (input: PlanInput): PlanInput['observed'] => converged(input, written(input) ?? input.observed.gatewayConfigText ?? '');

describe('what each operation names', () => {
  test('every created container names its role, and a server container its server', () => {
    const ops = plan(baseInput(settings, [a])).operations.filter((o) => o.type === 'create-container');
    assert.deepEqual(ops.map((o) => [o.resourceId, o.type === 'create-container' ? o.role : '', o.server]), [
      ['container:mcp-edge.docker', 'edge-docker', undefined],
      ['container:mcp-edge', 'edge', undefined],
      ['container:mcp-a', 'server', 'a'],
      ['container:mcp-litellm', 'gateway', undefined],
    ]);
  });

  test('the gateway spec label records the hash of the config.yaml it starts with', () => {
    const input = baseInput(settings, [a]);
    const gateway = plan(input).operations.find((o) => o.resourceId === 'container:mcp-litellm');
    assert.ok(gateway?.type === 'create-container');
    const label = JSON.parse(gateway.spec.labels['io.mcp-reconciler.spec'] ?? '{}') as Record<string, unknown>;
    assert.equal(label['config'], sha256Hex(written(input) ?? ''));
  });

  test('a removed container keeps its role and server; one without a role is removed as a server, named "?" when unnamed', () => {
    const input = baseInput(settings, []);
    input.observed = {
      networkExists: true,
      volumes: [],
      gatewayConfigText: null,
      containers: [
        runningFor(a, { id: 'n1', name: 'mcp-a.next' }),
        runningFor(a, { id: 'n2', name: 'mcp-edge.next', role: 'edge', server: null }),
        runningFor(legacy, { id: 'o1' }),
        runningFor(a, { id: 'o2', name: 'mcp-odd', role: null, server: null }),
        runningFor(a, { id: 'o3', name: 'mcp-anon', server: null }),
      ],
    };
    const removed = plan(input).operations.filter((o) => o.type === 'remove-container');
    assert.deepEqual(removed, [
      {
        type: 'remove-container', resourceId: 'container:mcp-a.next', cause: 'leftover of an interrupted recreate',
        containerId: 'n1', role: 'server', server: 'a',
      },
      {
        type: 'remove-container', resourceId: 'container:mcp-edge.next', cause: 'leftover of an interrupted recreate',
        containerId: 'n2', role: 'edge',
      },
      {
        type: 'remove-container', resourceId: 'container:mcp-legacy', cause: 'no desired file for server "legacy"',
        containerId: 'o1', role: 'server', server: 'legacy',
      },
      { type: 'remove-container', resourceId: 'container:mcp-odd', cause: 'container no longer needed', containerId: 'o2', role: 'server' },
      {
        type: 'remove-container', resourceId: 'container:mcp-anon', cause: 'no desired file for server "?"',
        containerId: 'o3', role: 'server',
      },
    ]);
  });

  test('the edge joins a server network with no aliases, as role edge', () => {
    const connect = plan(baseInput(settings, [a])).operations.find((o) => o.type === 'connect-network');
    assert.deepEqual(connect, {
      type: 'connect-network', resourceId: 'endpoint:mcp-edge@mcp-net.a', cause: 'edge reaches server "a" on its own network',
      network: 'mcp-net.a', container: 'mcp-edge', aliases: [], role: 'edge',
    });
  });

  test('an internal network (egress: false) says so in its cause', () => {
    const closed = model(settings, 'a', `${HTTP}egress: false\n`);
    const created = plan(baseInput(settings, [closed])).operations.filter((o) => o.type === 'create-network').map(line);
    assert.deepEqual(created, [
      'create-network network:mcp-net: not found',
      'create-network network:mcp-net.a.internal: not found (internal: egress: false)',
    ]);
  });

  test('a conflict says what is taken and what is not done', () => {
    const b = model(settings, 'b', `${HTTP}data: /data\n`);
    const input = baseInput(settings, [a, b]);
    input.observed = {
      ...input.observed,
      volumes: [{ name: 'mcp-edge.docker', owned: false }, { name: 'mcp-b-data', owned: false }],
      networks: [{ name: 'mcp-net.a', owned: false, internal: false, server: null }],
      gatewayConfigText: 'mcp_servers:\n  mcp_b:\n    url: http://mine/mcp\n    transport: http\n',
    };
    assert.deepEqual(plan(input).operations.filter((o) => o.type === 'conflict').map(line), [
      'conflict volume:mcp-edge.docker: a volume named mcp-edge.docker exists but is not managed by mcp-reconciler; ' +
        "the edge's Docker proxy is not started",
      'conflict network:mcp-net.a: a network named mcp-net.a exists but is not managed by mcp-reconciler; the server is not started on it',
      'conflict volume:mcp-b-data: a volume named mcp-b-data exists but is not managed by mcp-reconciler; ' +
        "the server is not started on someone else's data",
    ]);
    input.observed = { ...input.observed, volumes: [], networks: [] };
    assert.deepEqual(plan(input).operations.filter((o) => o.type === 'conflict').map(line), [
      'conflict gateway-entry:mcp_b: config.yaml already has an entry "mcp_b" that mcp-reconciler does not own; rename or remove it',
    ]);
  });
});

describe('which servers need the edge', () => {
  test('a blocked server starts no edge and gets no config.yaml entry', () => {
    const ops = plan(baseInput(settings, [{ ...a, blocked: 'cannot run now' }])).operations;
    assert.deepEqual(ops.filter((o) => o.resourceId.startsWith('container:mcp-edge')), []);
    assert.ok(!(written(baseInput(settings, [{ ...a, blocked: 'cannot run now' }])) ?? '').includes('mcp_a'));
  });

  test('without an edge Docker proxy, or one without a socket volume, the edge alone is ensured', () => {
    for (const edgeDocker of [undefined, { ...baseInput(settings, []).edgeDocker!, volumes: [] }]) {
      const input = baseInput(settings, [a]);
      input.edgeDocker = edgeDocker;
      const ops = plan(input).operations.filter((o) => o.resourceId.includes('edge'));
      assert.deepEqual(ops.map((o) => `${o.type} ${o.resourceId}`).slice(0, 1), ['create-container container:mcp-edge']);
      assert.ok(!ops.some((o) => o.resourceId.includes('mcp-edge.docker')));
    }
  });

  test('a server without a gateway entry gets no config.yaml entry and no API registration', () => {
    const bare: ServerModel = { ...a, gatewayEntry: null };
    assert.ok(!(written(baseInput(settings, [bare])) ?? '').includes('mcp_a'));
    const input = baseInput(settings, [bare]);
    input.gateway = { ...input.gateway, mode: 'api' };
    input.observed = { ...input.observed, apiServers: [] };
    assert.deepEqual(plan(input).operations.filter((o) => o.resourceId.startsWith('gateway-api')), []);
  });
});

describe('changes held by the failure memory', () => {
  const held = (hash: string): HeldChange[] => [{
    object: 'container:mcp-a', specHash: hash, until: 40_000, failures: 1, reason: 'exited 1: boom', nextTryIn: '10 s',
  }];
  const report = {
    type: 'backoff-held', resourceId: 'container:mcp-a', server: 'a', failures: 1, until: 40_000,
    cause: 'exited 1: boom; next try in 10 s (1 failed try)',
  };
  const stopped = (input: PlanInput): PlanInput['observed'] => {
    const o = settled(input);
    return { ...o, containers: o.containers.map((c) => (c.role === 'server' ? { ...c, running: false, state: 'exited' } : c)) };
  };

  test('a held first create is reported, and nothing is created or started', () => {
    const ops = plan(baseInput(settings, [a], { held: held(a.specHash) })).operations.filter((o) => o.resourceId === 'container:mcp-a');
    assert.deepEqual(ops, [report]);
  });

  test('a stopped container whose start failed with the same spec is held, not started again', () => {
    const input = baseInput(settings, [a]);
    input.observed = stopped(input);
    assert.deepEqual(plan({ ...input, held: held(a.specHash) }).operations, [report]);
  });

  test('while a recreate is held, the stopped last working version is started as the same server', () => {
    const input = baseInput(settings, [a]);
    input.observed = stopped(input);
    const changed = model(settings, 'a', `${HTTP}env:\n  FOO: bar\n`);
    assert.deepEqual(plan({ ...input, servers: [changed], held: held(changed.specHash) }).operations, [
      report,
      {
        type: 'start-container',
        resourceId: 'container:mcp-a',
        cause: 'container is exited; the last working version runs while the change is held',
        containerId: 'id-mcp-a',
        role: 'server',
        server: 'a',
      },
    ]);
  });
});

describe('attachments of the edge and the gateway', () => {
  test('a stopped edge is started, keeps its networks, and still leaves the ones it should not be on', () => {
    const input = baseInput(settings, [a, legacy]);
    const o = settled(input);
    o.containers = o.containers.map((c) =>
      (c.name === 'mcp-edge' ? { ...c, running: false, state: 'exited', networks: ['mcp-net', 'mcp-net.a', 'mcp-net.legacy'] } : c));
    o.containers = o.containers.map((c) => (c.name === 'mcp-litellm' ? { ...c, networks: ['mcp-net', 'mcp-net.legacy', 'mcp-net.a'] } : c));
    assert.deepEqual(plan({ ...input, observed: o }).operations.map(line), [
      'start-container container:mcp-edge: container is exited',
      'disconnect-network endpoint:mcp-edge@mcp-net.legacy: edge does not serve server "legacy" on this network',
      'disconnect-network endpoint:mcp-litellm@mcp-net.a: gateway does not serve server "a" on this network',
    ]);
  });
});

describe('config.yaml', () => {
  test('the write names the entries added, updated and removed; a rewrite with the same entries says format', () => {
    const b = model(settings, 'b', HTTP);
    const c = model(settings, 'c', HTTP);
    const input = baseInput(settings, [a, legacy]);
    input.observed = settled(input);
    const renamed = model(settings, 'a', `${HTTP}description: renamed\n`);
    const w = plan({ ...input, servers: [renamed, b, c] }).operations.find((o) => o.type === 'write-gateway-config');
    assert.equal(w?.cause, 'mcp_servers: add mcp_b, mcp_c; update mcp_a; remove mcp_legacy');
    const empty = baseInput(settings, [], { observed: { networkExists: true, containers: [], volumes: [], gatewayConfigText: '' } });
    empty.gateway = { ...empty.gateway, managed: false }; // a managed gateway's file also gets the guard callback
    assert.equal(plan(empty).operations.find((o) => o.type === 'write-gateway-config')?.cause, 'file rewritten (format)');
  });

  test('in API mode config.yaml keeps none of our entries, not even a held server’s', () => {
    const input = baseInput(settings, [a, legacy]);
    input.observed = settled(input);
    assert.match(input.observed.gatewayConfigText ?? '', /mcp_legacy:/);
    const api: PlanInput = {
      ...input,
      servers: [a],
      hold: ['legacy'],
      gateway: { ...input.gateway, mode: 'api' },
      observed: { ...input.observed, apiServers: [] },
    };
    const text = written(api) ?? '';
    assert.ok(!text.includes('mcp_legacy') && !text.includes('mcp_a'), text);
  });
});

describe('an unmanaged gateway (gateway.managed: false)', () => {
  test('its container is never created, and servers nobody wants are still removed', () => {
    const input = baseInput(settings, [a, legacy]);
    const o = settled(input);
    const unmanaged: PlanInput = {
      ...input,
      servers: [a],
      gateway: { ...input.gateway, managed: false },
      observed: { ...o, containers: o.containers.filter((c) => c.role !== 'gateway') },
    };
    const ops = plan(unmanaged).operations.filter((x) => x.resourceId.startsWith('container:'));
    assert.deepEqual(ops.map((x) => `${x.type} ${x.resourceId}`), ['remove-container container:mcp-legacy']);
  });

  test('it is not restarted for container changes that leave config.yaml as it is', () => {
    const input = baseInput(settings, [a]);
    input.gateway = { ...input.gateway, managed: false, restartContainer: 'my-litellm' };
    const o = settled(input);
    o.containers = o.containers.map((c) => (c.role === 'server' ? { ...c, running: false, state: 'exited' } : c));
    input.observed = { ...o, restartTarget: { id: 'gw', startedAt: 1000, running: true }, gatewayConfigMtime: 1000 };
    assert.deepEqual(plan(input).operations.map(line), ['start-container container:mcp-a: container is exited']);
  });
});

describe('API mode', () => {
  const api = (servers: ServerModel[], rows: NonNullable<PlanInput['observed']['apiServers']>, hold: string[] = []): PlanInput => {
    const input = baseInput(settings, servers, { hold });
    input.observed = { ...settled(input), apiServers: rows };
    input.gateway = { ...input.gateway, mode: 'api' };
    return input;
  };
  const row = (m: ServerModel, over: Partial<ApiServerRow> = {}): ApiServerRow => apiRowFor(m, prefix, over);
  const apiOps = (input: PlanInput): string[] => plan(input).operations.filter((o) => o.resourceId.startsWith('gateway-api')).map(line);

  test('a registration that matches is left alone; a missing description on both sides is no change', () => {
    assert.deepEqual(apiOps(api([a], [row(a)])), []);
    const plain: ServerModel = { ...a, gatewayEntry: { url: (a.gatewayEntry as Record<string, unknown>)['url'], transport: 'http' } };
    assert.deepEqual(apiOps(api([plain], [row(a, { description: undefined })])), []);
  });

  test('an update names every changed field and is a delete then a create', () => {
    const id = `${prefix}a`;
    assert.deepEqual(apiOps(api([a], [row(a, { url: 'http://old/mcp', description: 'old' })])), [
      `api-delete gateway-api:${id}: url, description changed (update = delete + create)`,
      `api-create gateway-api:${id}: url, description changed`,
    ]);
  });

  test('a server that needs an upstream credential stays unregistered in API mode, saying why', () => {
    const withAuth: ServerModel = { ...a, auth: { type: 'bearer_token', file: '/s/mcp-a.env', key: 'TOKEN', gatewayVar: 'MCP_AUTH_A' } };
    assert.deepEqual(plan(api([withAuth], [])).operations.filter((o) => o.resourceId.startsWith('gateway-api')), [{
      type: 'blocked', resourceId: `gateway-api:${prefix}a`, server: 'a',
      cause: "needs an upstream credential (auth:), which LiteLLM 1.77.3's management API cannot carry; " +
        'it stays unregistered in API mode (set gateway.mode: config to serve it)',
    }]);
  });

  test('a held server keeps its registration even while pruning is allowed', () => {
    assert.deepEqual(apiOps(api([a], [row(a), row(legacy)], ['legacy'])), []);
    assert.deepEqual(apiOps(api([a], [row(a), row(legacy)])), [`api-delete gateway-api:${prefix}legacy: no desired file`]);
  });

  test('the POST body carries the entry, an empty description when it has none, and empty access groups, args and env', () => {
    const plain: ServerModel = { ...a, gatewayEntry: { url: 'http://mcp-edge:8080/mcp-a/3001/mcp', transport: 'http' } };
    assert.deepEqual(apiBody('id-1', plain), {
      server_id: 'id-1', server_name: 'mcp_a', description: '', transport: 'http', url: 'http://mcp-edge:8080/mcp-a/3001/mcp',
      mcp_info: { server_name: 'mcp_a', description: '' }, mcp_access_groups: [], args: [], env: {},
    });
  });
});

describe('drift causes', () => {
  test('the env file content, data and upstream image are named as the desired file names them', () => {
    const before = { secretDigest: 'd1', volumes: [], upstreamImage: 'a:1' };
    assert.equal(
      describeDrift(before, { secretDigest: 'd2', volumes: [{ name: 'v' }], upstreamImage: 'a:2' }, 'h1', 'h2'),
      'envFile content, image, data changed',
    );
  });
});

describe('files beside the gateway: causes, held servers, the hash', () => {
  const policyPath = '/srv/projects/mcp/edge/tool-policy.json';
  const policyOp = (input: PlanInput): Extract<Operation, { type: 'write-tool-policy' }> => {
    const op = plan(input).operations.find((o) => o.type === 'write-tool-policy');
    assert.ok(op?.type === 'write-tool-policy');
    return op;
  };

  test('a held server the policy file does not list, or with no file yet, gets no policy; a missing file is "not found"', () => {
    const input = baseInput(settings, [a], { toolPolicy: { path: policyPath }, hold: ['gone'] });
    const fresh = policyOp(input);
    assert.equal(fresh.cause, 'not found');
    assert.deepEqual(parsePolicyFile(fresh.text), { ok: true, servers: {} });
    const listed = policyOp({ ...input, observed: { ...input.observed, toolPolicyText: renderPolicyFile({ other: { deny: ['x'] } }) } });
    assert.equal(listed.cause, 'tool policy changed');
    assert.deepEqual(parsePolicyFile(listed.text), { ok: true, servers: {} });
  });

  test('a missing guard file is "not found", whether the observation says null or nothing', () => {
    for (const gatewayGuardText of [null, undefined]) {
      const input = baseInput(settings, [a]);
      input.observed = { ...input.observed, gatewayGuardText };
      assert.equal(plan(input).operations.find((o) => o.type === 'write-gateway-guard')?.cause, 'not found', String(gatewayGuardText));
    }
  });

  test('a policy file observed as null is "not found" too', () => {
    const input = baseInput(settings, [a], { toolPolicy: { path: policyPath } });
    assert.equal(policyOp({ ...input, observed: { ...input.observed, toolPolicyText: null } }).cause, 'not found');
  });

  test("without the guard callback the gateway's hash still covers config.yaml's content (a config change restarts it)", () => {
    const spec = baseInput(settings, []).gateway.spec;
    const one = gatewayHash(spec, 'mcp_servers: {}\n');
    assert.deepEqual(one.summary, { config: sha256Hex('mcp_servers: {}\n') });
    assert.notEqual(one.hash, gatewayHash(spec, 'model_list: []\n').hash);
  });

  test('a config.yaml that does not parse: every problem is in the cause, separated by "; "', () => {
    const input = baseInput(settings, [a]);
    input.observed = { ...settled(input), gatewayConfigText: 'a: 1\na: 2\nb: 1\nb: 2\n' };
    const op = plan(input).operations.find((o) => o.resourceId === `file:${input.gateway.configPath}`);
    assert.match(op?.cause ?? '', /^config\.yaml does not parse \([^;]+; [^;]+\); it is left as it is until fixed$/);
  });

  test('entries updated together are named in one list, separated by ", "', () => {
    const b = model(settings, 'b', HTTP);
    const input = baseInput(settings, [a, b]);
    input.observed = settled(input);
    const changed = [model(settings, 'a', `${HTTP}description: one\n`), model(settings, 'b', `${HTTP}description: two\n`)];
    const w = plan({ ...input, servers: changed }).operations.find((o) => o.type === 'write-gateway-config');
    assert.equal(w?.cause, 'mcp_servers: update mcp_a, mcp_b');
  });

  test('a leftover of an interrupted recreate without a role label is removed as a server', () => {
    const input = baseInput(settings, [a]);
    const o = settled(input);
    input.observed = { ...o, containers: [...o.containers, runningFor(a, { id: 'n9', name: 'mcp-a.next', role: null, server: null })] };
    const op = plan(input).operations.find((x) => x.resourceId === 'container:mcp-a.next');
    assert.deepEqual(op, {
      type: 'remove-container', resourceId: 'container:mcp-a.next', cause: 'leftover of an interrupted recreate',
      containerId: 'n9', role: 'server',
    });
  });
});
