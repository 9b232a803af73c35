import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { probeTarget, type ProbeTargetInput } from './reach.js';

const edge = { name: 'mcp-edge', port: 8080, hostPort: 49001 };
const base: ProbeTargetInput = {
  reach: 'host',
  transport: 'http',
  internal: false,
  container: 'mcp-x',
  port: 3001,
  mcpPath: '/mcp',
  hostPort: 49002,
  edge,
};
/** The server's routes on the edge: by its 127.0.0.1 port (reach: host), by its name (reach: network). */
const EDGE_HOST = 'http://127.0.0.1:49001/mcp-x';
const EDGE_NAME = 'http://mcp-edge:8080/mcp-x';
const EDGE_DOWN = { why: 'the edge is not running (the probe goes through it)' };
const via = (url: string): { url: string; transport: 'http' } => ({ url, transport: 'http' });

describe('where McpReady probes go', () => {
  const cases: Array<[string, Partial<ProbeTargetInput>, ReturnType<typeof probeTarget>]> = [
    ['host: http on its 127.0.0.1 port', {}, { url: 'http://127.0.0.1:49002/mcp', transport: 'http' }],
    ['host: sse on its 127.0.0.1 port', { transport: 'sse', mcpPath: '/sse' }, { url: 'http://127.0.0.1:49002/sse', transport: 'sse' }],
    ['host: http on an internal network through the edge port', { internal: true, hostPort: null }, via(`${EDGE_HOST}/3001/mcp`)],
    ['host: stdio through the edge port', { transport: 'stdio', port: undefined, hostPort: null }, via(`${EDGE_HOST}/stdio/mcp`)],
    ['host: stdio without an edge', { transport: 'stdio', edge: null }, EDGE_DOWN],
    ['host: http without a published port', { hostPort: null }, { why: 'no published port to probe' }],
    ['network: http by the edge name, never 127.0.0.1', { reach: 'network' }, via('http://mcp-edge:8080/mcp-x/3001/mcp')],
    ['network: internal http the same way', { reach: 'network', internal: true, hostPort: null }, via(`${EDGE_NAME}/3001/mcp`)],
    ['network: stdio through the edge', { reach: 'network', transport: 'stdio', port: undefined }, via(`${EDGE_NAME}/stdio/mcp`)],
    ['network: the edge need not publish a port', { reach: 'network', edge: { ...edge, hostPort: null } }, via(`${EDGE_NAME}/3001/mcp`)],
    ['network: no edge running', { reach: 'network', edge: null }, EDGE_DOWN],
    [
      'network: sse is not probed (no shared network)',
      { reach: 'network', transport: 'sse' },
      { why: 'sse servers are not probed with reach: network (the daemon shares no network with them); see GatewayReady' },
    ],
  ];
  for (const [name, over, want] of cases) test(name, () => assert.deepEqual(probeTarget({ ...base, ...over }), want));
});
