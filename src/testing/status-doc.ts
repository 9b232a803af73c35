import type { Condition, ConditionStatus, ConditionType, Reason } from '../health/conditions.js';
import type { ServerHealth } from '../health/monitor.js';
import type { StatusDocument } from '../status/document.js';

/** A time `s` seconds before `now`, ISO. */
export const ago = (now: number, s: number): string => new Date(now - s * 1000).toISOString();

const c = (type: ConditionType, status: ConditionStatus, reason: Reason, message: string, at: string): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: at,
});

/** One server as the monitor reports it, all seven conditions True unless `override` says otherwise. */
export function serverHealth(name: string, now: number, override: Partial<ServerHealth> = {}): ServerHealth {
  const at = ago(now, 3600);
  return {
    name,
    file: `/home/u/projects/mcp/desired-state/mcp-${name}.yaml`,
    transport: 'http',
    gatewayName: `mcp_${name}`,
    container: {
      name: `mcp-${name}`,
      id: 'a1b2c3d4e5f6',
      state: 'running',
      hostPort: 32768,
      image: `mcp/${name}:latest`,
      imageId: null,
      created: Math.round(now / 1000) - 7200,
    },
    conditions: [
      c('Valid', 'True', 'SpecValid', `/home/u/projects/mcp/desired-state/mcp-${name}.yaml`, at),
      c('ImageAvailable', 'True', 'ImagePresent', `mcp/${name}:latest`, at),
      c('Progressing', 'True', 'Applied', 'the last change was applied', at),
      c('ContainerRunning', 'True', 'Running', 'a1b2c3d4e5f6', at),
      c('McpReady', 'True', 'ToolsListed', '3 tools in 12 ms', at),
      c('Registered', 'True', 'InConfig', `mcp_${name} in /home/u/projects/mcp/litellm/config.yaml`, at),
      c('GatewayReady', 'True', 'ToolsThroughGateway', '3 tools through LiteLLM', at),
    ],
    tools: ['echo', 'get-sum', 'print-env'],
    gatewayTools: [`mcp_${name}-echo`, `mcp_${name}-get-sum`, `mcp_${name}-print-env`],
    gatewayCheckedAt: ago(now, 120),
    consecutiveFailures: 0,
    hungRestarts: 0,
    lastProbeAt: ago(now, 4),
    events: [{ time: ago(now, 3600), message: 'McpReady none -> True (ToolsListed): 3 tools in 12 ms' }],
    ...override,
  };
}

/** A daemon's status: `everything` ready, `github` failing with `message` in its McpReady condition. */
export function statusDocument(now: number, failingMessage = 'connect ECONNREFUSED 127.0.0.1:32769 (4 in a row)'): StatusDocument {
  const github = serverHealth('github', now, { tools: null, gatewayTools: [] });
  github.conditions = github.conditions.map((x) =>
    x.type === 'McpReady'
      ? { ...x, status: 'False', reason: 'ProbeFailed', message: failingMessage, lastTransitionTime: ago(now, 95) }
      : x.type === 'GatewayReady'
        ? {
            ...x,
            status: 'False',
            reason: 'NoToolsThroughGateway',
            message: 'LiteLLM lists no mcp_github-* tools',
            lastTransitionTime: ago(now, 95),
          }
        : x,
  );
  github.events = [{ time: ago(now, 95), message: `McpReady True -> False (ProbeFailed): ${failingMessage}` }];
  return {
    startedAt: ago(now, 7300),
    firstPassAt: ago(now, 7290),
    lastPass: { at: ago(now, 20), ms: 84, operations: 0, failed: 0, error: null },
    passes: 131,
    summary: '2 servers: 2 running; gateway running',
    gatewayMode: { mode: 'config', why: 'no database configured' },
    paths: {
      desiredDir: '/home/u/projects/mcp/desired-state',
      secretsDir: '/home/u/projects/secrets',
      gatewayEnvFile: '/home/u/projects/secrets/mcp-litellm.env',
    },
    gateway: { url: 'http://127.0.0.1:4000', mcpUrl: 'http://127.0.0.1:4000/mcp/' },
    failures: [],
    events: [{ time: ago(now, 7290), message: 'gateway registration: config mode (no database configured)' }],
    clientPort: 4000,
    servers: [serverHealth('everything', now), github],
  };
}
