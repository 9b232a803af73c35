import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { plan, type PlanInput } from './planner.js';
import { renderPlan } from './render-plan.js';
import { Labels } from '../docker/labels.js';
import { writeOps, type ObservedContainer, type Operation } from '../model/types.js';
import { frontSpec, gatewayColourSpec, frontActivePath, gatewaySpec } from '../desired/resolve.js';
import { parseActive, renderActive } from '../front/active.js';
import { testSettings, model, HTTP, baseInput, converged } from '../testing/fixtures.js';

const s = testSettings({ MCP_RECONCILER_GATEWAY_HANDOVER: 'blue-green' });
const a = model(s, 'a', HTTP);
const b = model(s, 'b', HTTP);
const legacySse = model(s, 'legacy', 'image: a:1\ntransport: sse\nport: 8000\n');

function bgInput(servers: typeof a[], observed: PlanInput['observed']): PlanInput {
  const base = baseInput(s, servers, { observed });
  const g = gatewaySpec(s);
  return {
    ...base,
    gateway: {
      ...base.gateway,
      blueGreen: {
        front: frontSpec(s),
        colours: { blue: gatewayColourSpec(s, g, 'blue'), green: gatewayColourSpec(s, g, 'green') },
        activePath: frontActivePath(s),
      },
    },
  };
}

/** What Docker and the files look like after the executor carried out `ops` (a perfect executor). */
function apply(observed: PlanInput['observed'], ops: readonly Operation[]): PlanInput['observed'] {
  const o = { ...observed, containers: [...observed.containers], volumes: [...observed.volumes], networks: [...(observed.networks ?? [])] };
  for (const op of ops) {
    switch (op.type) {
      case 'create-network':
        if (op.network === s.network) o.networkExists = true;
        else o.networks.push({ name: op.network, owned: true, internal: op.internal === true, server: op.server ?? null });
        break;
      case 'create-volume':
        o.volumes.push({ name: op.volume, owned: true });
        break;
      case 'create-container':
      case 'recreate-container': {
        o.containers = o.containers.filter((c) => c.name !== op.spec.name);
        const c: ObservedContainer = {
          id: `id-${op.spec.name}-${o.containers.length}-${op.spec.labels[Labels.SpecHash]}`,
          name: op.spec.name, image: op.spec.image, state: 'running',
          running: true, owned: true, role: op.role, server: op.server ?? null, specHash: op.spec.labels[Labels.SpecHash] ?? null,
          specSummary: null, source: null, hostPorts: {}, imageId: '', networks: op.spec.networks.map((n) => n.name),
        };
        o.containers.push(c);
        break;
      }
      case 'start-container':
        o.containers = o.containers.map((c) => (c.id === op.containerId ? { ...c, running: true, state: 'running' } : c));
        break;
      case 'remove-container':
      case 'retire-gateway':
        o.containers = o.containers.filter((c) => c.id !== op.containerId);
        break;
      case 'disconnect-network':
        o.containers = o.containers.map((c) =>
          (c.name === op.container ? { ...c, networks: (c.networks ?? []).filter((n) => n !== op.network) } : c));
        break;
      case 'remove-network':
        o.networks = o.networks.filter((n) => n.name !== op.network);
        break;
      case 'connect-network':
        o.containers = o.containers.map((c) => (c.name === op.container ? { ...c, networks: [...(c.networks ?? []), op.network] } : c));
        break;
      case 'write-gateway-config':
        o.gatewayConfigText = op.text;
        break;
      case 'write-gateway-guard':
        o.gatewayGuardText = op.text;
        break;
      case 'switch-gateway':
        o.frontActiveText = op.text;
        break;
      default:
        break;
    }
  }
  return o;
}

/** Passes until nothing is left to do (at most 4). */
function settle(servers: typeof a[], observed: PlanInput['observed']): PlanInput['observed'] {
  let o = observed;
  for (let i = 0; i < 4; i++) {
    const ops = writeOps(plan(bgInput(servers, o)));
    if (ops.length === 0) return o;
    o = apply(o, ops);
  }
  assert.fail(`no convergence: ${renderPlan(plan(bgInput(servers, o)))}`);
}

const names = (o: PlanInput['observed']): string[] =>
  o.containers.map((c) => c.name).filter((n) => n.startsWith('mcp-litellm') || n === 'mcp-front').sort();

/** The colour the front sends to, running: null when it names none or a container that is not there. */
function serving(o: PlanInput['observed']): string | null {
  const c = parseActive(o.frontActiveText);
  return c && o.containers.some((x) => x.name === `mcp-litellm-${c}` && x.running) ? c : null;
}

describe('blue/green gateway planner (ADR 0025)', () => {
  test('from nothing: one colour, the active file, then the front on the LAN port; a second pass changes nothing', () => {
    const p = plan(bgInput([a], { networkExists: false, containers: [], volumes: [], gatewayConfigText: null }));
    const stack = renderPlan(p).split('\n').filter((l) => /litellm|front/.test(l) && !l.includes('write-gateway'));
    assert.deepEqual(stack, [
      '+ create-container container:mcp-litellm-blue: not found',
      '~ switch-gateway file:/srv/projects/mcp/front/active.json: no front serves yet; gateway blue starts as the active one',
      '+ create-container container:mcp-front: not found',
    ]);
    const front = p.operations.find((o) => o.resourceId === 'container:mcp-front');
    assert.ok(front?.type === 'create-container');
    assert.deepEqual(front.spec.publish, { hostIp: s.gateway.hostIp, hostPort: s.gateway.hostPort });
    const blue = p.operations.find((o) => o.resourceId === 'container:mcp-litellm-blue');
    assert.ok(blue?.type === 'create-container');
    assert.equal(blue.spec.publish, undefined, 'a colour publishes no port: the front holds it');
    const edgeServes = 'the edge serves both colours by the gateway name';
    assert.deepEqual(blue.spec.networks[0], { name: s.network, aliases: ['mcp-litellm'] }, edgeServes);
    const done = settle([a], apply({ networkExists: false, containers: [], volumes: [], gatewayConfigText: null }, writeOps(p)));
    assert.deepEqual(names(done), ['mcp-front', 'mcp-litellm-blue']);
    assert.equal(done.frontActiveText, renderActive('blue'));
  });

  test('a config change: standby created, awaited for the new tools, switched to, old colour drained and removed; front untouched', () => {
    const start = settle([a], { networkExists: false, containers: [], volumes: [], gatewayConfigText: null });
    const p = plan(bgInput([a, b], start));
    const lines = renderPlan(p).split('\n').filter((l) => /litellm-|front|gateway:/.test(l));
    assert.deepEqual(lines, [
      '+ create-container container:mcp-litellm-green: not found',
      '> await-gateway gateway:green: gateway blue runs another spec; green takes over once it lists the tools',
      '~ switch-gateway file:/srv/projects/mcp/front/active.json: gateway green is ready',
      '- retire-gateway container:mcp-litellm-blue: gateway green took over',
    ]);
    const wait = p.operations.find((o) => o.type === 'await-gateway');
    assert.ok(wait?.type === 'await-gateway');
    assert.deepEqual(wait.expect, ['mcp_a', 'mcp_b']);
    const retire = p.operations.find((o) => o.type === 'retire-gateway');
    assert.ok(retire?.type === 'retire-gateway');
    assert.equal(retire.drainTo, 'green');
    const halting = p.operations.filter((o) => o.halt === true).map((o) => `${o.type} ${o.resourceId}`);
    assert.deepEqual(halting, [
      'write-gateway-config file:/srv/projects/mcp/litellm/config.yaml',
      'create-container container:mcp-litellm-green',
      'await-gateway gateway:green',
      'switch-gateway file:/srv/projects/mcp/front/active.json',
    ]);
    const done = settle([a, b], apply(start, writeOps(p)));
    assert.deepEqual(names(done), ['mcp-front', 'mcp-litellm-green']);
    assert.equal(parseActive(done.frontActiveText), 'green');
  });

  test('a crash after any step of a handover converges on the next passes, and the active colour is never removed', () => {
    const start = settle([a], { networkExists: false, containers: [], volumes: [], gatewayConfigText: null });
    const ops = writeOps(plan(bgInput([a, b], start)));
    assert.ok(ops.length >= 5);
    for (let k = 0; k <= ops.length; k++) {
      let o = apply(start, ops.slice(0, k));
      assert.notEqual(serving(o), null, `after ${k} steps something serves`);
      for (let pass = 0; pass < 4; pass++) {
        const next = writeOps(plan(bgInput([a, b], o)));
        if (next.length === 0) break;
        // Every prefix of the next pass too: a second crash never leaves nothing serving.
        for (let j = 0; j <= next.length; j++) assert.notEqual(serving(apply(o, next.slice(0, j))), null, `crash at ${k}, then at ${j}`);
        o = apply(o, next);
      }
      assert.deepEqual(writeOps(plan(bgInput([a, b], o))), [], `converged after a crash at step ${k}`);
      const colours = o.containers.filter((c) => c.name.startsWith('mcp-litellm-'));
      assert.equal(colours.length, 1, `one colour after a crash at step ${k}`);
      assert.equal(`mcp-litellm-${parseActive(o.frontActiveText)}`, colours[0]!.name);
    }
  });

  test('twenty changes in a row alternate colours and always end with one colour and the front', () => {
    let o = settle([a], { networkExists: false, containers: [], volumes: [], gatewayConfigText: null });
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const servers = i % 2 === 0 ? [a, b] : [a];
      o = settle(servers, o);
      seen.push(parseActive(o.frontActiveText) ?? 'none');
      assert.deepEqual(names(o), ['mcp-front', `mcp-litellm-${seen[i]}`]);
    }
    assert.deepEqual(seen.slice(0, 4), ['green', 'blue', 'green', 'blue']);
  });

  test('migration from handover: restart: the colour starts beside mcp-litellm, which is retired before the front takes its port', () => {
    const restart = bgInput([a], { networkExists: false, containers: [], volumes: [], gatewayConfigText: null });
    const { blueGreen: _bg, ...single } = restart.gateway;
    const first = plan({ ...restart, gateway: single }).operations.flatMap((o) => (o.type === 'write-gateway-config' ? [o.text] : []))[0]!;
    const old = converged({ ...restart, gateway: single }, first);
    const p = plan(bgInput([a], old));
    const order = p.operations.filter((o) => /litellm|front/.test(o.resourceId)).map((o) => `${o.type} ${o.resourceId}`);
    assert.deepEqual(order, [
      'create-container container:mcp-litellm-blue',
      'switch-gateway file:/srv/projects/mcp/front/active.json',
      'retire-gateway container:mcp-litellm',
      'create-container container:mcp-front',
    ]);
    const pruned = p.operations.filter((o) => o.type === 'remove-container' && o.resourceId === 'container:mcp-litellm');
    assert.deepEqual(pruned, [], 'retired once, not also pruned');
    assert.deepEqual(names(settle([a], apply(old, writeOps(p)))), ['mcp-front', 'mcp-litellm-blue']);
  });

  test('a held standby (its create failed and waits) starts no handover: no await, no switch, no retire', () => {
    const start = settle([a], { networkExists: false, containers: [], volumes: [], gatewayConfigText: null });
    const first = plan(bgInput([a, b], start));
    const create = first.operations.find((o) => o.type === 'create-container' && o.colour === 'green');
    assert.ok(create?.type === 'create-container');
    const hash = create.spec.labels[Labels.SpecHash]!;
    const held = [{ object: 'container:mcp-litellm-green', specHash: hash, until: 1, failures: 1, reason: 'exited 1', nextTryIn: '10 s' }];
    const p = plan({ ...bgInput([a, b], start), held });
    const types = p.operations
      .filter((o) => /^(container|gateway):/.test(o.resourceId) && /litellm|front|gateway:/.test(o.resourceId))
      .map((o) => o.type);
    assert.deepEqual(types, ['backoff-held']);
  });

  test('sse servers: the new colour joins their networks before it is awaited', () => {
    const start = settle([a], { networkExists: false, containers: [], volumes: [], gatewayConfigText: null });
    const p = plan(bgInput([a, legacySse], start));
    const i = (pred: (o: Operation) => boolean): number => p.operations.findIndex(pred);
    const connect = i((o) => o.type === 'connect-network' && o.container === 'mcp-litellm-green');
    assert.ok(connect > i((o) => o.type === 'create-container' && o.colour === 'green'));
    assert.ok(connect < i((o) => o.type === 'await-gateway'));
    const done = settle([a, legacySse], apply(start, writeOps(p)));
    assert.ok(done.containers.find((c) => c.name === 'mcp-litellm-green')?.networks?.includes('mcp-net.legacy'));
  });

  test('API mode: a handover (the gateway spec changed) awaits the rows already registered, and the registrations stay API calls', () => {
    const start = settle([a], { networkExists: false, containers: [], volumes: [], gatewayConfigText: null });
    const older = (c: ObservedContainer): ObservedContainer => (c.name === 'mcp-litellm-blue' ? { ...c, specHash: 'an-older-image' } : c);
    const stale = { ...start, containers: start.containers.map(older) };
    const rows = [{ server_id: 'mcp-reconciler~default~a', server_name: 'mcp_a' }, { server_id: 'someone-else', server_name: 'theirs' }];
    const input = bgInput([a], { ...stale, apiServers: rows });
    const p = plan({ ...input, gateway: { ...input.gateway, mode: 'api' } });
    const wait = p.operations.find((o) => o.type === 'await-gateway');
    assert.ok(wait?.type === 'await-gateway');
    assert.deepEqual(wait.expect, ['mcp_a']);
    assert.ok(p.operations.some((o) => o.type === 'retire-gateway' && o.resourceId === 'container:mcp-litellm-blue'));
  });

  test('API mode: an sse server removed without a handover: the serving colour leaves its network, which then goes', () => {
    const api = (servers: typeof a[], o: PlanInput['observed']): PlanInput => {
      const input = bgInput(servers, o);
      return { ...input, gateway: { ...input.gateway, mode: 'api' } };
    };
    /** Passes in API mode until nothing is left to do; registrations land in the rows as LiteLLM would keep them. */
    const settleApi = (servers: typeof a[], observed: PlanInput['observed']): PlanInput['observed'] => {
      let o = observed;
      for (let i = 0; i < 4; i++) {
        const ops = writeOps(plan(api(servers, o)));
        if (ops.length === 0) return o;
        let rows = [...(o.apiServers ?? [])];
        for (const op of ops) {
          if (op.type === 'api-delete') rows = rows.filter((r) => r.server_id !== op.serverId);
          if (op.type === 'api-create') rows.push({ ...(op.body as { server_name: string }), server_id: op.serverId });
        }
        o = { ...apply(o, ops), apiServers: rows };
      }
      assert.fail(`no convergence: ${renderPlan(plan(api(servers, o)))}`);
    };
    const start = settleApi([a, legacySse], { networkExists: false, containers: [], volumes: [], gatewayConfigText: null, apiServers: [] });
    const colour = start.containers.find((c) => /^mcp-litellm-(blue|green)$/.test(c.name))!;
    assert.ok(colour.networks?.includes('mcp-net.legacy'), 'the colour serves the sse server on its network');
    const p = plan(api([a], start));
    const lines = writeOps(p).map((o) => `${o.type} ${o.resourceId}`);
    assert.ok(!lines.some((l) => l.startsWith('create-container container:mcp-litellm-')), 'no handover: the gateway spec is the same');
    assert.ok(lines.includes(`disconnect-network endpoint:${colour.name}@mcp-net.legacy`), lines.join('\n'));
    assert.ok(lines.includes('remove-network network:mcp-net.legacy'));
    const done = settleApi([a], apply(start, writeOps(p)));
    assert.ok(!done.networks?.some((n) => n.name === 'mcp-net.legacy'));
    assert.deepEqual(done.containers.find((c) => c.name === colour.name)?.networks, [s.network]);
  });

  test('without blue/green the plan is as before: one mcp-litellm, no front', () => {
    const p = plan(baseInput(s, [a]));
    assert.ok(p.operations.some((o) => o.resourceId === 'container:mcp-litellm' && o.type === 'create-container'));
    assert.ok(!p.operations.some((o) => /front|litellm-/.test(o.resourceId)));
  });
});
