import type { Transport } from '../model/types.js';

/** How the daemon reaches what it probes (settings `reach`, ADR 0016). */
export type Reach = 'host' | 'network';

export interface ProbeTargetInput {
  reach: Reach;
  transport: Transport;
  /** On an internal network (egress: false): Docker publishes no port there. */
  internal: boolean;
  container: string;
  /** The server's container port and MCP path. */
  port: number | undefined;
  mcpPath: string | null;
  /** Its port published on 127.0.0.1, if any. */
  hostPort: number | null;
  /** The running edge: its container name, container port and published port. */
  edge: { name: string; port: number; hostPort: number | null } | null;
  /** A url: server's URL (ADR 0022): sse is probed there, http through the edge's remote route, as LiteLLM reaches it. */
  remoteUrl?: string | null;
}

/**
 * Where McpReady's probe goes, or why there is none. reach: host (the daemon on the host): a server's
 * 127.0.0.1 port, or the edge's 127.0.0.1 port for stdio servers and http servers on an internal
 * network. reach: network (the daemon in a container on <network>, beside LiteLLM and the edge): every
 * http and stdio server through the edge by container name, on the route LiteLLM uses; the daemon joins no
 * server's own network (ADR 0007), so an sse server (whose network only LiteLLM shares) is not probed.
 */
export function probeTarget(i: ProbeTargetInput): { url: string; transport: 'http' | 'sse' } | { why: string } {
  if (i.remoteUrl) {
    if (i.transport === 'sse') return { url: i.remoteUrl, transport: 'sse' };
    const byName = i.edge ? `http://${i.edge.name}:${i.edge.port}` : null;
    const base = i.reach === 'network' ? byName : i.edge?.hostPort ? `http://127.0.0.1:${i.edge.hostPort}` : null;
    if (base === null) return { why: 'the edge is not running (the probe goes through it)' };
    return { url: `${base}/${i.container}/remote`, transport: 'http' };
  }
  const route =
    i.transport === 'stdio' ? '/stdio/mcp' : i.transport === 'http' && i.port !== undefined ? `/${i.port}${i.mcpPath ?? ''}` : null;
  if (i.reach === 'network') {
    if (route === null) {
      return { why: 'sse servers are not probed with reach: network (the daemon shares no network with them); see GatewayReady' };
    }
    if (!i.edge) return { why: 'the edge is not running (the probe goes through it)' };
    return { url: `http://${i.edge.name}:${i.edge.port}/${i.container}${route}`, transport: 'http' };
  }
  if (i.transport === 'stdio' || (i.transport === 'http' && i.internal)) {
    if (!i.edge?.hostPort || route === null) return { why: 'the edge is not running (the probe goes through it)' };
    return { url: `http://127.0.0.1:${i.edge.hostPort}/${i.container}${route}`, transport: 'http' };
  }
  if (i.hostPort && i.mcpPath !== null) {
    return { url: `http://127.0.0.1:${i.hostPort}${i.mcpPath}`, transport: i.transport === 'sse' ? 'sse' : 'http' };
  }
  return { why: 'no published port to probe' };
}
