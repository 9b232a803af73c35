import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { networkInterfaces } from 'node:os';
import { PeerPolicy, bridgeGateways, PEER_REFRESH_MS, PEER_MAX_AGE_MS } from './peers.js';

type Ifaces = ReturnType<typeof networkInterfaces>;
const iface = (address: string, cidr: string) => ({ address, cidr, family: 'IPv4' as const, internal: false, netmask: '', mac: '' });
/** The edge on the gateway network (172.20/16) and on one http server's network (10.5.3.0/24). */
const IFACES: Ifaces = {
  lo: [{ address: '127.0.0.1', cidr: '127.0.0.1/8', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '' }],
  eth0: [iface('172.20.0.3', '172.20.0.3/16')],
  eth1: [iface('10.5.3.4', '10.5.3.4/24')],
};

describe('who may use the edge', () => {
  test('the host is the first address of each of the edge\'s subnets (the bridge gateway)', () => {
    assert.deepEqual(bridgeGateways(IFACES), ['172.20.0.1', '10.5.3.1']);
  });

  const cases: [string, string | undefined, boolean][] = [
    ['the gateway container', '172.20.0.2', true],
    ['the gateway container (IPv4-mapped)', '::ffff:172.20.0.2', true],
    ['the host through the published port', '::ffff:172.20.0.1', true],
    ['the host on a server network', '10.5.3.1', true],
    ['inside the edge', '127.0.0.1', true],
    ['an MCP server on its own network', '10.5.3.2', false],
    ['another container on the gateway network', '172.20.0.9', false],
    ['no address', undefined, false],
  ];
  for (const [who, addr, want] of cases) {
    test(`${who} (${addr}): ${want ? 'served' : 'refused'}`, async () => {
      const p = new PeerPolicy({ gatewayHost: 'mcp-litellm', resolve: async () => ['172.20.0.2'], interfaces: () => IFACES });
      assert.equal(await p.allows(addr), want);
    });
  }

  test('a recreated gateway (new address) is served after one refresh; its old address is not', async () => {
    let now = 0;
    let gw = ['172.20.0.2'];
    let lookups = 0;
    const p = new PeerPolicy({
      gatewayHost: 'mcp-litellm', resolve: async () => (lookups++, gw), interfaces: () => IFACES, now: () => now,
    });
    assert.equal(await p.allows('172.20.0.2'), true);
    gw = ['172.20.0.7'];
    now += PEER_REFRESH_MS - 1;
    assert.equal(await p.allows('172.20.0.7'), false, 'refused peers do not re-resolve more than once a second');
    assert.equal(lookups, 1);
    now += 1;
    assert.equal(await p.allows('172.20.0.7'), true);
    now += PEER_MAX_AGE_MS;
    assert.equal(await p.allows('172.20.0.2'), false, 'an address is not trusted forever');
  });

  test('reach: network: the daemon\'s own container (--peer-host) is served beside the gateway, by its resolved address', async () => {
    const names: string[] = [];
    const addr: Record<string, string[]> = { 'mcp-litellm': ['172.20.0.2'], 'mcp-reconciler': ['172.20.0.5'] };
    const resolve = async (h: string): Promise<string[]> => (names.push(h), addr[h] ?? []);
    const p = new PeerPolicy({ gatewayHost: 'mcp-litellm', peerHosts: ['mcp-reconciler'], resolve, interfaces: () => IFACES });
    assert.equal(await p.allows('172.20.0.5'), true);
    assert.equal(await p.allows('172.20.0.2'), true);
    assert.equal(await p.allows('172.20.0.9'), false);
    assert.deepEqual(names, ['mcp-litellm', 'mcp-reconciler']);
  });

  test('without a gateway name (LiteLLM on the host) only the host is served', async () => {
    const p = new PeerPolicy({ gatewayHost: null, resolve: async () => assert.fail('no lookup'), interfaces: () => IFACES });
    assert.equal(await p.allows('172.20.0.1'), true);
    assert.equal(await p.allows('172.20.0.2'), false);
  });
});
