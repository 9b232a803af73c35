import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { plan, describeDrift, gatewayHash } from './planner.js';
import { specHash, sha256Hex } from './hash.js';
import { GUARD_PY } from '../litellm/guard.js';
import { readGatewayConfig } from '../litellm/config-file.js';
import { renderPlan } from './render-plan.js';
import { writeOps } from '../model/types.js';
import { testSettings, model, HTTP, baseInput, converged, runningFor } from '../testing/fixtures.js';

const s = testSettings();
const everything = model(s, 'everything', HTTP);
const sse = model(s, 'legacy', 'image: a:1\ntransport: sse\nport: 8000\n');
const stdio = model(s, 'memory', 'image: mcp/memory:1\ntransport: stdio\n');

function configAfter(input: ReturnType<typeof baseInput>): string {
  const op = plan(input).operations.find((o) => o.type === 'write-gateway-config');
  return op && op.type === 'write-gateway-config' ? op.text : (input.observed.gatewayConfigText ?? '');
}

describe('planner', () => {
  test('from nothing: network, edge, servers, config, gateway — in that order', () => {
    const p = plan(baseInput(s, [everything, sse]));
    assert.equal(
      renderPlan(p),
      [
        '+ create-network network:mcp-net: not found',
        '+ create-volume volume:mcp-edge.docker: not found',
        '+ create-container container:mcp-edge.docker: not found',
        '+ create-container container:mcp-edge: not found',
        '+ create-network network:mcp-net.everything: not found',
        '+ create-container container:mcp-everything: not found',
        '+ create-network network:mcp-net.legacy: not found',
        '+ create-container container:mcp-legacy: not found',
        '+ connect-network endpoint:mcp-edge@mcp-net.everything: edge reaches server "everything" on its own network',
        '~ write-gateway-guard file:/srv/projects/mcp/litellm/mcp_reconciler_guard.py: not found',
        '~ write-gateway-config file:/srv/projects/mcp/litellm/config.yaml: ' +
          'mcp_servers: add mcp_everything, mcp_legacy; litellm_settings.callbacks: add mcp_reconciler_guard.guard',
        '+ create-container container:mcp-litellm: not found',
        '+ connect-network endpoint:mcp-litellm@mcp-net.legacy: gateway reaches server "legacy" on its own network',
      ].join('\n'),
    );
  });

  test('steady state: the plan is empty', () => {
    const input = baseInput(s, [everything, sse]);
    const steady = { ...input, observed: converged(input, configAfter(input)) };
    assert.deepEqual(plan(steady).operations, []);
    assert.equal(renderPlan(plan(steady)), 'No changes. The running state matches the desired state.');
  });

  test('spec change recreates only that container; the gateway is untouched when its entry is the same', () => {
    const input = baseInput(s, [everything]);
    const observed = converged(input, configAfter(input));
    const changed = model(s, 'everything', `${HTTP}env:\n  FOO: bar\n`);
    const p = plan({ ...input, servers: [changed], observed });
    assert.deepEqual(p.operations.map((o) => `${o.type} ${o.resourceId}`), ['recreate-container container:mcp-everything']);
  });

  test('a tag whose local image id changed (rebuilt, re-pulled) recreates that container and names the cause', () => {
    const input = baseInput(s, [everything]);
    const observed = converged(input, configAfter(input));
    const gateway = input.gateway.spec.image;
    const same = { ...observed, imageIds: { 'mcp/everything:1': 'sha256:test', [gateway]: 'sha256:x', [input.edge.image]: 'sha256:x' } };
    assert.deepEqual(plan({ ...input, observed: same }).operations, [], 'same ids: nothing to do');
    const rebuilt = { ...same, imageIds: { ...same.imageIds, 'mcp/everything:1': `sha256:${'ab12'.repeat(16)}` } };
    assert.equal(
      renderPlan(plan({ ...input, observed: rebuilt })),
      '~ recreate-container container:mcp-everything: image mcp/everything:1 now ab12ab12ab12 (container runs test)',
    );
    const gatewayRepulled = { ...same, imageIds: { ...same.imageIds, [gateway]: 'sha256:fresh' } };
    assert.deepEqual(
      plan({ ...input, observed: gatewayRepulled }).operations.map((o) => `${o.type} ${o.resourceId}: ${o.cause}`),
      [`recreate-container container:mcp-litellm: image ${gateway} now fresh (container runs x)`],
    );
  });

  test('an image reference that is not present locally is no reason to recreate', () => {
    const input = baseInput(s, [everything]);
    const observed = { ...converged(input, configAfter(input)), imageIds: { 'mcp/everything:1': null } };
    assert.deepEqual(plan({ ...input, observed }).operations, []);
  });

  test('a stopped container is started, not recreated', () => {
    const input = baseInput(s, [everything]);
    const observed = converged(input, configAfter(input));
    observed.containers = observed.containers.map((c) => (c.role === 'server' ? { ...c, running: false, state: 'exited' } : c));
    assert.equal(renderPlan(plan({ ...input, observed })), '> start-container container:mcp-everything: container is exited');
  });

  test('an unowned container with our name is a conflict, never touched', () => {
    const input = baseInput(s, [everything]);
    const observed = converged(input, configAfter(input));
    observed.containers = observed.containers.map((c) =>
      (c.role === 'server' ? { ...c, owned: false, role: null, server: null, specHash: null } : c));
    const p = plan({ ...input, observed });
    // ... and the edge no longer reaches into that server's network.
    assert.deepEqual(p.operations.map((o) => o.type), ['conflict', 'write-gateway-config', 'recreate-container', 'disconnect-network']);
    const write = p.operations[1];
    assert.ok(
      write?.type === 'write-gateway-config' && !write.text.includes('mcp_everything:'),
      'no LiteLLM entry for a container we do not own',
    );
    assert.match(p.operations[0]!.cause, /exists but is not managed by mcp-reconciler/);
    assert.ok(!writeOps(p).some((o) => o.resourceId === 'container:mcp-everything'), 'the unowned container is not touched');
  });

  test('a deleted desired file removes the container and the registration', () => {
    const input = baseInput(s, [everything, sse]);
    const observed = converged(input, configAfter(input));
    const p = plan({ ...input, servers: [everything], observed });
    const lines = renderPlan(p).split('\n');
    assert.deepEqual(lines, [
      '~ write-gateway-config file:/srv/projects/mcp/litellm/config.yaml: mcp_servers: remove mcp_legacy',
      lines[1], // the gateway restarts with the new file (its hash changes)
      '- remove-container container:mcp-legacy: no desired file for server "legacy"',
      '- remove-network network:mcp-net.legacy: no desired server uses it (server "legacy")',
    ]);
    assert.match(lines[1] as string, /^~ recreate-container container:mcp-litellm: spec changed/);
  });

  test('each server is on its own network only; the edge joins http servers\' networks, the gateway sse ones, nobody stdio ones', () => {
    const input = baseInput(s, [everything, sse, stdio]);
    for (const m of [everything, sse, stdio]) {
      assert.deepEqual(m.container!.networks, [{ name: `mcp-net.${m.name}`, aliases: [`mcp-${m.name}`] }]);
    }
    const p = plan(input);
    const attach = p.operations.filter((o) => o.type === 'connect-network').map((o) => o.resourceId);
    assert.deepEqual(attach, ['endpoint:mcp-edge@mcp-net.everything', 'endpoint:mcp-litellm@mcp-net.legacy']);
    assert.deepEqual(input.edge.networks.map((n) => n.name), ['mcp-net']);
    assert.deepEqual(input.gateway.spec.networks.map((n) => n.name), ['mcp-net']);
  });

  test('egress: false puts the server on an internal network; flipping it moves the server and removes the old network', () => {
    const closed = model(s, 'everything', `${HTTP}egress: false\n`);
    const created = plan(baseInput(s, [closed])).operations
      .find((o) => o.type === 'create-network' && o.network === 'mcp-net.everything.internal');
    assert.ok(created?.type === 'create-network' && created.internal === true, 'an internal network');
    assert.deepEqual(closed.container!.networks.map((n) => n.name), ['mcp-net.everything.internal']);
    const input = baseInput(s, [everything]);
    const observed = converged(input, configAfter(input));
    assert.deepEqual(
      renderPlan(plan({ ...input, servers: [closed], observed })).split('\n').map((l) => l.split(':')[0] + ':' + l.split(':')[1]),
      [
        '+ create-network network:mcp-net.everything.internal',
        '~ recreate-container container:mcp-everything',
        '+ connect-network endpoint:mcp-edge@mcp-net.everything.internal',
        '- disconnect-network endpoint:mcp-edge@mcp-net.everything',
        '- remove-network network:mcp-net.everything',
      ],
    );
  });

  test('a network with a server network\'s name that we do not own is a conflict; the server is not started on it', () => {
    const input = baseInput(s, [everything]);
    const p = plan({
      ...input,
      observed: { ...input.observed, networks: [{ name: 'mcp-net.everything', owned: false, internal: false, server: null }] },
    });
    assert.ok(p.operations.some((o) => o.type === 'conflict' && o.resourceId === 'network:mcp-net.everything'));
    assert.ok(!p.operations.some((o) => o.resourceId === 'container:mcp-everything' || o.resourceId.endsWith('@mcp-net.everything')));
  });

  test('the edge has no Docker socket; its Docker proxy holds it, on no network, and shares only a socket volume with it', () => {
    const input = baseInput(s, [everything]);
    assert.deepEqual(input.edge.binds, [`${s.projectsRoot}/edge:/etc/mcp-edge:ro`]); // the tool policy folder (ADR 0021), no socket
    assert.equal(input.edge.groupAdd, undefined);
    assert.equal(input.edge.env['DOCKER_HOST'], 'unix:///run/mcp-docker/docker.sock');
    const d = input.edgeDocker!;
    assert.deepEqual(d.binds, ['/var/run/docker.sock:/var/run/docker.sock']);
    assert.deepEqual(d.networks, [{ name: 'none', aliases: [] }]);
    assert.deepEqual(d.hardening.capDrop, ['ALL']);
    assert.deepEqual(d.volumes, input.edge.volumes);
    const foreign = plan({ ...input, observed: { ...input.observed, volumes: [{ name: 'mcp-edge.docker', owned: false }] } });
    assert.ok(foreign.operations.some((o) => o.type === 'conflict' && o.resourceId === 'volume:mcp-edge.docker'));
    assert.ok(!foreign.operations.some((o) => o.resourceId === 'container:mcp-edge.docker'), 'not started on a volume we do not own');
  });

  test('pruning held: no server network is detached or removed', () => {
    const input = baseInput(s, [everything, sse]);
    const observed = converged(input, configAfter(input));
    const p = plan({ ...input, servers: [], observed, prune: { allowed: false, reason: 'the desired dir is missing' } });
    assert.ok(!p.operations.some((o) => o.type === 'remove-network' || o.type === 'disconnect-network'));
  });

  test('mass-deletion guard: nothing is removed and the entries stay when pruning is held', () => {
    const input = baseInput(s, [everything, sse]);
    const observed = converged(input, configAfter(input));
    const p = plan({ ...input, servers: [], observed, prune: { allowed: false, reason: 'the desired dir is missing' } });
    assert.deepEqual(
      p.operations.map((o) => o.type),
      ['prune-held', 'prune-held'],
    );
    assert.ok(p.operations.every((o) => o.cause.endsWith('not removed: the desired dir is missing')));
  });

  test('an invalid file without a last good state holds its server as it runs', () => {
    const input = baseInput(s, [everything, sse]);
    const observed = converged(input, configAfter(input));
    const p = plan({ ...input, servers: [everything], hold: ['legacy'], observed });
    assert.deepEqual(p.operations, []);
  });

  test('a user entry with the same LiteLLM name is reported, not overwritten', () => {
    const user = 'mcp_servers:\n  mcp_everything:\n    url: http://elsewhere/mcp\n    transport: http\n';
    const p = plan(baseInput(s, [everything], { observed: { networkExists: true, containers: [], volumes: [], gatewayConfigText: user } }));
    const conflict = p.operations.find((o) => o.type === 'conflict');
    assert.equal(conflict?.resourceId, 'gateway-entry:mcp_everything');
    const write = p.operations.find((o) => o.type === 'write-gateway-config');
    assert.ok(write?.type === 'write-gateway-config');
    assert.equal(write.cause, 'litellm_settings.callbacks: add mcp_reconciler_guard.guard', 'only the guard callback is added');
    assert.ok(write.text.startsWith(user), write.text);
  });

  test('the guard (ADR 0019): written beside config.yaml before config.yaml names it; a managed gateway gets it in API mode too', () => {
    const api = baseInput(s, [everything], { gateway: { ...baseInput(s, []).gateway, mode: 'api' } });
    const ops = plan({ ...api, observed: { ...api.observed, apiServers: [] } }).operations;
    const guard = ops.findIndex((o) => o.type === 'write-gateway-guard');
    const config = ops.find((o) => o.type === 'write-gateway-config');
    assert.ok(guard >= 0 && config?.type === 'write-gateway-config' && guard < ops.indexOf(config));
    assert.deepEqual(ops[guard], {
      type: 'write-gateway-guard', resourceId: 'file:/srv/projects/mcp/litellm/mcp_reconciler_guard.py', cause: 'not found',
      path: '/srv/projects/mcp/litellm/mcp_reconciler_guard.py', text: GUARD_PY,
    });
    assert.equal(config.cause, 'litellm_settings.callbacks: add mcp_reconciler_guard.guard');
    assert.doesNotMatch(config.text, /mcp_everything/, 'API mode: no entries, only the callback');
  });

  test('the guard: edited on disk it is written back; another guard version recreates the gateway (its digest is in the hash)', () => {
    const input = baseInput(s, [everything]);
    const text = configAfter(input);
    const steady = converged(input, text);
    assert.deepEqual(
      writeOps(plan({ ...input, observed: { ...steady, gatewayGuardText: 'edited\n' } })).map((o) => `${o.type} ${o.cause}`),
      ['write-gateway-guard content differs'],
    );
    const older = specHash({ spec: input.gateway.spec, config: sha256Hex(text), guard: sha256Hex('an older guard') });
    assert.notEqual(older, gatewayHash(input.gateway.spec, text).hash);
    const containers = steady.containers.map((c) => (c.role === 'gateway' ? { ...c, specHash: older } : c));
    assert.deepEqual(
      writeOps(plan({ ...input, observed: { ...steady, containers } })).map((o) => `${o.type} ${o.resourceId}`),
      ['recreate-container container:mcp-litellm'],
    );
  });

  test('the guard: an unmanaged gateway gets no callback; one its config lists is kept current and restarts it', () => {
    const base = baseInput(s, [everything]);
    const input = { ...base, gateway: { ...base.gateway, managed: false, restartContainer: 'my-litellm' } };
    const observed = {
      ...converged(input, configAfter(input)),
      restartTarget: { id: 'id-my', startedAt: 2000, running: true },
      gatewayConfigMtime: 1000,
    };
    assert.equal(readGatewayConfig(observed.gatewayConfigText).guard, false);
    assert.deepEqual(writeOps(plan({ ...input, observed })), []);
    const listed = `${observed.gatewayConfigText}litellm_settings:\n  callbacks:\n    - mcp_reconciler_guard.guard\n`;
    assert.deepEqual(
      writeOps(plan({ ...input, observed: { ...observed, gatewayConfigText: listed } })).map((o) => `${o.type}: ${o.cause}`),
      [
        'write-gateway-guard: not found',
        'restart-gateway: mcp_reconciler_guard.py changes now; gateway.restartContainer allows a restart',
      ],
    );
  });

  test('the guard: callbacks of a shape it cannot join are a conflict; nothing of it is written', () => {
    const input = baseInput(s, [everything], {
      observed: { networkExists: true, containers: [], volumes: [], gatewayConfigText: 'litellm_settings:\n  callbacks: {a: 1}\n' },
    });
    const ops = plan(input).operations;
    assert.deepEqual(ops.filter((o) => o.type === 'conflict').map((o) => `${o.resourceId}: ${o.cause}`), [
      'gateway-callback:mcp_reconciler_guard.guard: litellm_settings.callbacks is neither a list nor a string; ' +
        'the guard that refuses a key\'s calls to other servers is not loaded (make it a list)',
    ]);
    assert.ok(!ops.some((o) => o.type === 'write-gateway-guard'));
  });

  test('stdio servers run with stdin open behind the edge; no edge for sse only', () => {
    const p = plan(baseInput(s, [stdio, sse]));
    const create = p.operations.find((o) => o.resourceId === 'container:mcp-memory');
    assert.ok(create?.type === 'create-container' && create.spec.stdin === true && create.spec.exposedPort === undefined);
    assert.ok(p.operations.some((o) => o.resourceId === 'container:mcp-edge'));
    const write = p.operations.find((o) => o.type === 'write-gateway-config');
    assert.ok(write?.type === 'write-gateway-config' && write.text.includes('url: http://mcp-edge:8080/mcp-memory/stdio/mcp'));
    assert.ok(!plan(baseInput(s, [sse])).operations.some((o) => o.resourceId === 'container:mcp-edge'));
  });

  test('gateway.managed false: its container is neither created nor removed', () => {
    const input = baseInput(s, [everything]);
    input.gateway = { ...input.gateway, managed: false };
    const observed = converged(baseInput(s, [everything]), configAfter(input));
    const p = plan({ ...input, observed });
    assert.deepEqual(p.operations, []);
  });

  test('a gateway problem blocks only the gateway', () => {
    const input = baseInput(s, [everything]);
    input.gateway = { ...input.gateway, problem: 'env file missing' };
    const p = plan(input);
    assert.ok(p.operations.some((o) => o.type === 'create-container' && o.resourceId === 'container:mcp-everything'));
    assert.ok(p.operations.some((o) => o.type === 'blocked' && o.resourceId === 'container:mcp-litellm'));
  });

  test('a config.yaml that does not parse is left alone', () => {
    const p = plan(baseInput(s, [everything], {
      observed: { networkExists: true, containers: [runningFor(everything)], volumes: [], gatewayConfigText: 'mcp_servers: [\n' },
    }));
    assert.ok(p.operations.some((o) => o.type === 'blocked' && o.cause.startsWith('config.yaml does not parse')));
    assert.ok(!p.operations.some((o) => o.type === 'write-gateway-config'));
  });

  test('a leftover <name>.next from an interrupted recreate is removed first, even while pruning is held', () => {
    const input = baseInput(s, [everything]);
    const observed = converged(input, configAfter(input));
    observed.containers.push(runningFor(everything, { id: 'id-next', name: 'mcp-everything.next' }));
    const p = plan({ ...input, observed, prune: { allowed: false, reason: 'held' } });
    assert.equal(renderPlan(p), '- remove-container container:mcp-everything.next: leftover of an interrupted recreate');
  });

  test('data: creates an owned volume before the container; a foreign volume is a conflict', () => {
    const withData = model(s, 'memory', `${HTTP}data: /data\n`);
    const p = plan(baseInput(s, [withData]));
    const i = p.operations.findIndex((o) => o.type === 'create-volume' && o.resourceId === 'volume:mcp-memory-data');
    const j = p.operations.findIndex((o) => o.resourceId === 'container:mcp-memory');
    assert.ok(i >= 0 && i < j);
    const foreign = plan(baseInput(s, [withData], {
      observed: { networkExists: true, containers: [], volumes: [{ name: 'mcp-memory-data', owned: false }], gatewayConfigText: null },
    }));
    assert.ok(foreign.operations.some((o) => o.type === 'conflict' && o.resourceId === 'volume:mcp-memory-data'));
    assert.ok(!foreign.operations.some((o) => o.resourceId === 'container:mcp-memory'));
  });

  test('a running server whose volume or network turns out to be foreign keeps running: reported, never pruned', () => {
    const withData = model(s, 'memory', `${HTTP}data: /data\n`);
    const input = baseInput(s, [withData]);
    const observed = converged(input, configAfter(input));
    const volumeTaken = { ...observed, volumes: [{ name: 'mcp-memory-data', owned: false }] };
    const p1 = plan({ ...input, observed: volumeTaken });
    assert.ok(p1.operations.some((o) => o.type === 'conflict' && o.resourceId === 'volume:mcp-memory-data'));
    assert.deepEqual(p1.operations.filter((o) => o.resourceId === 'container:mcp-memory').map((o) => o.type), []);
    const networkTaken = { ...observed, networks: (observed.networks ?? []).map((n) => ({ ...n, owned: false })) };
    const p2 = plan({ ...input, observed: networkTaken });
    assert.ok(p2.operations.some((o) => o.type === 'conflict' && o.resourceId === 'network:mcp-net.memory'));
    assert.deepEqual(p2.operations.filter((o) => o.resourceId === 'container:mcp-memory').map((o) => o.type), []);
  });

  test('a server that became blocked keeps its running container', () => {
    const input = baseInput(s, [everything]);
    const observed = converged(input, configAfter(input));
    const blocked = { ...everything, blocked: 'cannot run now' };
    const p = plan({ ...input, servers: [blocked], observed });
    assert.ok(p.operations.some((o) => o.type === 'blocked' && o.resourceId === 'server:everything'));
    assert.ok(!p.operations.some((o) => o.type === 'remove-container' && o.resourceId === 'container:mcp-everything'));
  });
});

describe('drift causes', () => {
  test('names the desired-file fields that changed', () => {
    const a = { image: 'a:1', env: { A: '1' }, cmd: ['x'], hardening: { memoryBytes: 1 } };
    assert.equal(describeDrift(a, { ...a, env: { A: '2', B: '1' } }, 'h1', 'h2'), 'env.A, env.B changed');
    assert.equal(
      describeDrift(a, { ...a, cmd: ['y'], hardening: { memoryBytes: 2 } }, 'h1', 'h2'),
      'command, security.memoryBytes changed',
    );
    assert.equal(describeDrift(null, a, 'abcdef0123', '9876543210'), 'spec changed (abcdef01 -> 98765432)');
  });
});

describe('planner: changes held by the failure memory', () => {
  const input = baseInput(s, [everything]);
  const observed = converged(input, configAfter(input));
  const changed = model(s, 'everything', `${HTTP}env:\n  FOO: bar\n`);
  const held = [{
    object: 'container:mcp-everything', specHash: changed.specHash, until: 40_000, failures: 2, reason: 'exited 1: boom', nextTryIn: '40 s',
  }];

  test('a held recreate is reported with its reason and next try, and nothing is written', () => {
    assert.equal(
      renderPlan(plan({ ...input, servers: [changed], observed, held })),
      '! backoff-held container:mcp-everything: exited 1: boom; next try in 40 s (2 failed tries)',
    );
  });

  test('a new edit (another spec hash) is not held', () => {
    const edited = model(s, 'everything', `${HTTP}env:\n  FOO: baz\n`);
    assert.deepEqual(plan({ ...input, servers: [edited], observed, held }).operations.map((o) => o.type), ['recreate-container']);
  });

  test('while held, a stopped last working version is started again', () => {
    const stopped = {
      ...observed,
      containers: observed.containers.map((c) => (c.role === 'server' ? { ...c, running: false, state: 'exited' } : c)),
    };
    assert.deepEqual(
      plan({ ...input, servers: [changed], observed: stopped, held }).operations.map((o) => o.type),
      ['backoff-held', 'start-container'],
    );
  });
});
