import { join } from 'node:path';
import { loadSettings, type Settings } from '../config/settings.js';
import { parseDesiredFile } from '../desired/load.js';
import { resolveServer, edgeSpec, edgeDockerSpec, gatewaySpec } from '../desired/resolve.js';
import { gatewayHash, type PlanInput } from '../reconcile/planner.js';
import type { ApiServerRow, ObservedContainer, ServerModel } from '../model/types.js';
import { specHash } from '../reconcile/hash.js';
import { readGatewayConfig } from '../litellm/config-file.js';
import { GUARD_PY } from '../litellm/guard.js';

/** Builders for unit tests of the planner and friends. Not used by production code. */
export function testSettings(overrides: Record<string, string> = {}): Settings {
  return loadSettings({
    env: {
      MCP_RECONCILER_PROJECTS_ROOT: '/srv/projects/mcp',
      MCP_RECONCILER_SECRETS_DIR: '/srv/secrets-that-do-not-exist',
      ...overrides,
    },
    cwd: '/srv',
  });
}

export function model(settings: Settings, name: string, yaml: string): ServerModel {
  const r = parseDesiredFile(yaml, `desired-state/mcp-${name}.yaml`, `mcp-${name}.yaml`, `desired-state/mcp-${name}.yaml`);
  if (!r.server) throw new Error(JSON.stringify(r.invalid));
  return resolveServer(settings, r.server);
}

export const HTTP = 'image: mcp/everything:1\ntransport: http\nport: 3001\n';

/** A running, owned container exactly as the reconciler would have created it. */
export function runningFor(m: ServerModel, over: Partial<ObservedContainer> = {}): ObservedContainer {
  if (!m.container) throw new Error(`${m.name} is a url: server: it has no container`);
  return {
    id: `id-${m.container.name}`,
    name: m.container.name,
    image: m.container.image,
    state: 'running',
    running: true,
    owned: true,
    role: 'server',
    server: m.name,
    specHash: m.specHash,
    specSummary: null,
    source: m.source,
    hostPorts: {},
    imageId: 'sha256:test',
    ...over,
  };
}

export function baseInput(settings: Settings, servers: ServerModel[], over: Partial<PlanInput> = {}): PlanInput {
  return {
    network: settings.network,
    instance: settings.instance,
    servers,
    hold: [],
    edge: edgeSpec(settings),
    edgeDocker: edgeDockerSpec(settings),
    gateway: {
      managed: true, mode: 'config', apiIdPrefix: 'mcp-reconciler~default~', spec: gatewaySpec(settings),
      configPath: settings.gateway.configPath, problem: null,
    },
    observed: { networkExists: false, containers: [], volumes: [], gatewayConfigText: null },
    prune: { allowed: true, reason: '' },
    ...over,
  };
}

/** Observed state after a perfect apply of `input` (what Docker would then report). */
export function converged(input: PlanInput, configText: string): PlanInput['observed'] {
  const runnable = input.servers.filter((s) => s.blocked === null);
  const local = runnable.filter((m) => m.container !== null);
  const containers: ObservedContainer[] = local.map((m) => ({ ...runningFor(m), networks: m.container!.networks.map((n) => n.name) }));
  const netsOf = (t: string): string[] => runnable.filter((s) => s.transport === t).flatMap((s) => (s.network ? [s.network.name] : []));
  if (runnable.some((s) => s.transport === 'http' || s.transport === 'stdio')) {
    containers.push({ ...other(input.edge.name, 'edge', specHash(input.edge)), networks: [input.network, ...netsOf('http')] });
    if (input.edgeDocker) {
      containers.push({ ...other(input.edgeDocker.name, 'edge-docker', specHash(input.edgeDocker)), networks: ['none'] });
    }
  }
  containers.push({
    ...other(input.gateway.spec.name, 'gateway', gatewayHash(input.gateway.spec, configText).hash),
    networks: [input.network, ...netsOf('sse')],
  });
  const volumes = [...input.servers, ...(input.edgeDocker ? [{ container: input.edgeDocker }] : [])]
    .flatMap((s) => (s.container?.volumes ?? []).map((v) => ({ name: v.name, owned: true })));
  const networks = runnable.flatMap((s) => (s.network ? [{ ...s.network, owned: true, server: s.name }] : []));
  const guard = readGatewayConfig(configText).guard ? { gatewayGuardText: GUARD_PY } : {};
  return { networkExists: true, networks, containers, volumes, gatewayConfigText: configText, ...guard };
}

function other(name: string, role: 'edge' | 'edge-docker' | 'gateway', hash: string): ObservedContainer {
  return {
    id: `id-${name}`, name, image: 'x', imageId: 'sha256:x', state: 'running', running: true, owned: true, role, server: null,
    specHash: hash, specSummary: null, source: null, hostPorts: {},
  };
}

/** The row LiteLLM's API would hold for `m` registered under `prefix` (API mode), with `over` changed. */
export function apiRowFor(m: ServerModel, prefix: string, over: Partial<ApiServerRow> = {}): ApiServerRow {
  const e = m.gatewayEntry as Record<string, string>;
  return {
    server_id: `${prefix}${m.name}`,
    server_name: m.gatewayName,
    url: e['url'],
    transport: e['transport'],
    description: e['description'],
    ...over,
  };
}

/** The environment of a CLI run against a throwaway projects root `dir` and secrets folder (no other settings leak in). */
export function cliEnv(dir: string, secrets: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'cfg'),
    MCP_RECONCILER_PROJECTS_ROOT: dir,
    MCP_RECONCILER_SECRETS_DIR: secrets,
  };
}
