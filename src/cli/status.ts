import type { Settings } from '../config/settings.js';
import { loadDesiredDir } from '../desired/load.js';
import { resolveServers, gatewayContainerName, edgeContainerName } from '../desired/resolve.js';
import { probeMcp, type ProbeResult } from '../health/probe.js';
import type { LiteLLMGateway } from '../litellm/gateway-client.js';
import type { ContainerRuntime } from '../ports/index.js';

export interface ServerStatus {
  name: string;
  file: string;
  transport: string;
  gatewayName: string;
  container: { name: string; state: string; id: string | null; hostPort: number | null; image: string; imageDigest: string | null };
  mcp: { ok: boolean; tools: string[]; error: string | null; latencyMs: number | null };
  gateway: { tools: string[] };
  message: string;
}

export interface StackStatus {
  paths: Record<string, string>;
  gateway: { url: string; mcpUrl: string; ready: boolean; tools: number; error: string | null; container: string };
  edge: { container: string; state: string };
  servers: ServerStatus[];
  invalid: { file: string; message: string }[];
}

/** One observe + probe pass, the same data the daemon's /status will serve. Secrets never appear. */
export async function collectStatus(
  settings: Settings,
  deps: { runtime: ContainerRuntime & { imageDigest(id: string): Promise<string> }; gateway: LiteLLMGateway },
): Promise<StackStatus> {
  const load = loadDesiredDir(settings.desiredDir);
  const { models, failures } = resolveServers(settings, load.servers);
  const snap = await deps.runtime.observe({ namePrefix: settings.namePrefix, instance: settings.instance, network: settings.network });
  const byName = new Map(snap.containers.map((c) => [c.name, c]));
  const ready = await deps.gateway.ready();
  const gw: ProbeResult = ready ? await deps.gateway.listTools({ timeoutMs: settings.probeTimeoutMs }) : { ok: false, error: 'not ready', latencyMs: 0 };
  const gwTools = gw.ok ? gw.tools : [];
  const servers: ServerStatus[] = await Promise.all(
    models.map(async (m): Promise<ServerStatus> => {
      const c = byName.get(m.container.name);
      const port = m.container.exposedPort;
      const hostPort = c && port !== undefined ? (c.hostPorts[port] ?? null) : null;
      let mcp: ServerStatus['mcp'] = { ok: false, tools: [], error: 'not probed', latencyMs: null };
      if (c?.running && hostPort && m.transport !== 'stdio' && m.mcpPath !== null) {
        const r = await probeMcp({
          url: `http://127.0.0.1:${hostPort}${m.mcpPath}`,
          transport: m.transport,
          timeoutMs: settings.probeTimeoutMs,
        });
        mcp = r.ok
          ? { ok: true, tools: r.tools, error: null, latencyMs: Math.round(r.latencyMs) }
          : { ok: false, tools: [], error: r.error, latencyMs: Math.round(r.latencyMs) };
      }
      const prefix = `${m.gatewayName}-`;
      const viaGateway = gwTools.filter((t) => t.startsWith(prefix));
      let message = '';
      if (m.blocked) message = m.blocked;
      else if (!c) message = 'container not found (run apply)';
      else if (!c.owned) message = `a container named ${c.name} exists and is not managed by mcp-reconciler`;
      else if (!c.running) message = `container ${c.state}`;
      else if (!mcp.ok) message = `MCP probe failed: ${mcp.error}`;
      else if (viaGateway.length === 0) message = ready ? 'not visible through LiteLLM yet' : 'LiteLLM not ready';
      else message = 'ready';
      return {
        name: m.name,
        file: m.file,
        transport: m.transport,
        gatewayName: m.gatewayName,
        container: {
          name: m.container.name,
          state: c ? (c.owned ? c.state : 'conflict') : 'missing',
          id: c?.id.slice(0, 12) ?? null,
          hostPort,
          image: m.container.image,
          imageDigest: c?.owned ? await deps.runtime.imageDigest(c.imageId) : null,
        },
        mcp,
        gateway: { tools: viaGateway },
        message,
      };
    }),
  );
  const edge = byName.get(edgeContainerName(settings));
  return {
    paths: {
      settingsFile: settings.settingsFile ?? '(none; defaults and environment)',
      desiredDir: settings.desiredDir,
      projectsRoot: settings.projectsRoot,
      secretsDir: settings.secretsDir,
      gatewayConfig: settings.gateway.configPath,
      gatewayEnvFile: settings.gateway.envFile,
    },
    gateway: {
      url: deps.gateway.baseUrl,
      mcpUrl: deps.gateway.mcpUrl,
      ready,
      tools: gwTools.length,
      error: gw.ok ? null : gw.error,
      container: byName.get(gatewayContainerName(settings))?.state ?? 'missing',
    },
    edge: { container: edgeContainerName(settings), state: edge?.state ?? 'missing' },
    servers,
    invalid: [
      ...load.invalid.map((i) => ({ file: i.file, message: i.issues.map((x) => `${x.line}:${x.col} ${x.path ? `${x.path}: ` : ''}${x.message}`).join('; ') })),
      ...failures.map((f) => ({ file: f.file, message: f.message })),
    ],
  };
}

export function renderStatus(s: StackStatus): string {
  const rows = [['NAME', 'TRANSPORT', 'CONTAINER', 'PORT', 'MCP', 'TOOLS', 'GATEWAY', 'MESSAGE']];
  for (const x of s.servers) {
    rows.push([
      x.name,
      x.transport,
      x.container.state,
      x.container.hostPort ? `127.0.0.1:${x.container.hostPort}` : '-',
      x.mcp.ok ? 'ready' : 'failing',
      String(x.mcp.tools.length),
      x.gateway.tools.length > 0 ? `${x.gateway.tools.length} tools` : '-',
      x.message,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
  const lines = [
    `gateway ${s.gateway.mcpUrl}  ${s.gateway.ready ? 'ready' : 'NOT READY'}  container ${s.gateway.container}  ${s.gateway.tools} tools${s.gateway.error ? `  (${s.gateway.error})` : ''}`,
    `edge    ${s.edge.container} ${s.edge.state}`,
    '',
    table,
  ];
  if (s.invalid.length) {
    lines.push('', 'invalid desired files (their servers keep their last good state):');
    for (const i of s.invalid) lines.push(`  ${i.file}: ${i.message}`);
  }
  lines.push('', 'paths:');
  for (const [k, v] of Object.entries(s.paths)) lines.push(`  ${k.padEnd(15)} ${v}`);
  return lines.join('\n');
}
