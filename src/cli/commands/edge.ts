import { Option, type Command } from 'commander';
import { chmodSync, rmSync } from 'node:fs';
import { BridgeRegistry, localDocker } from '../../docker/bridges.js';
import { inClusterApi } from '../../kube/attach.js';
import { kubeBridgeIo } from '../../kube/bridge-io.js';
import { createDockerProxy } from '../../edge/docker-proxy.js';
import { PeerPolicy } from '../../edge/peers.js';
import { createEdgeServer } from '../../edge/server.js';
import { PolicyFile } from '../../edge/tool-policy-file.js';
import { ActiveFile, COLOURS, type Colour } from '../../front/active.js';
import { createFront } from '../../front/server.js';
import { closeGracefully, SHUTDOWN_GRACE_MS } from '../../proxy/shutdown.js';
import { createLogger } from '../../log/logger.js';
import { defineCommand, onRun, Exit } from '../command.js';

interface EdgeOptions {
  port: string;
  allowPrefix: string;
  gatewayHost?: string;
  hostOnly?: boolean;
  peerHost: string[];
  remote: string[];
  instance: string;
  toolPolicy?: string;
  attach: string;
}

/** `edge` and `edge-docker`: what the two edge containers run (the reconciler starts them; ADR 0003, 0004, 0007). */
export function register(program: Command): void {
  const edge = defineCommand(program, 'edge', 'serve the header-normalizing proxy and the stdio bridge (inside the mcp-edge container)', {
    examples: [
      '--port 8080 --allow-prefix mcp- --instance default --gateway-host mcp-litellm --tool-policy /etc/mcp-edge/tool-policy.json',
    ],
    exits: [[Exit.Ok, 'stopped by SIGTERM or SIGINT']],
  })
    .option('--port <port>', 'listen port', '8080')
    .option('--allow-prefix <prefix>', 'only containers named with this prefix are proxied', 'mcp-')
    .option('--gateway-host <host>', 'serve only this gateway container and the host (ADR 0007)')
    .option('--host-only', 'serve only the host (no gateway container)')
    .option(
      '--peer-host <host>',
      "also serve this container (repeatable): the daemon's own under reach: network (ADR 0016)",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--instance <name>', 'reconciler instance whose stdio servers the bridge attaches to', 'default')
    .addOption(
      new Option('--attach <api>', "how the stdio bridge reaches a server's stdin/stdout: Docker's attach API, or pods/attach in a cluster")
        .choices(['docker', 'kubernetes'])
        .default('docker'),
    )
    .option('--tool-policy <file>', 'tool policy file the reconciler writes, re-read when it changes (ADR 0021); MCP requests wait for it')
    .option(
      '--remote <name=url>',
      'forward /<name>/remote to this remote streamable-HTTP MCP server (repeatable; url: servers, ADR 0022)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    );
  onRun(edge, async (o: EdgeOptions) => {
    const port = Number(o.port);
    const log = createLogger();
    const policy = o.toolPolicy ? new PolicyFile(o.toolPolicy, log) : null;
    const policyFor = policy ? (c: string) => policy.forServer(c.slice(o.allowPrefix.length)) : undefined;
    // In a cluster (ADR 0018): server mcp-<name> is pod mcp-<name>-0, reached with this pod's ServiceAccount token.
    const io = o.attach === 'kubernetes' ? kubeBridgeIo(inClusterApi(), undefined, log) : undefined;
    const bridges = new BridgeRegistry(o.instance, log, undefined, io, policyFor);
    const server = createEdgeServer({
      port,
      allowPrefix: o.allowPrefix,
      log,
      bridgeFor: (name) => bridges.get(name),
      bridgeStats: () => bridges.stats(),
      ...(policy ? { toolPolicy: policy } : {}),
      remotes: new Map(o.remote.filter((r) => r.includes('=')).map((r) => [r.slice(0, r.indexOf('=')), r.slice(r.indexOf('=') + 1)])),
      // The daemon always passes one of the two (ADR 0007); an edge started by hand without them serves everyone.
      ...(o.gatewayHost || o.hostOnly ? { peers: new PeerPolicy({ gatewayHost: o.gatewayHost ?? null, peerHosts: o.peerHost }) } : {}),
    });
    await new Promise<void>((r) => server.listen(port, '0.0.0.0', r));
    log.info({ port }, 'edge listening');
    // Calls in flight finish (bounded) before the edge exits: a recreate of the edge cuts no answer that was on its way.
    await untilSignal(() => closeGracefully(server, SHUTDOWN_GRACE_MS));
    return Exit.Ok;
  });

  const docker = defineCommand(program, 'edge-docker', "the edge's filtering Docker proxy (inside the mcp-edge.docker container)", {
    examples: ['--socket /run/mcp-docker/docker.sock --instance default'],
    exits: [[Exit.Ok, 'stopped by SIGTERM or SIGINT']],
  })
    .option('--socket <path>', 'unix socket to serve', '/run/mcp-docker/docker.sock')
    .option('--instance <name>', 'reconciler instance whose containers it lets through', 'default');
  onRun(docker, async (o: { socket: string; instance: string }) => {
    const log = createLogger();
    rmSync(o.socket, { force: true });
    const proxy = createDockerProxy({ docker: localDocker(), dockerSocket: '/var/run/docker.sock', instance: o.instance, log });
    await new Promise<void>((r) => proxy.listen(o.socket, r));
    chmodSync(o.socket, 0o666); // the edge runs as another user; only the edge mounts this volume
    log.info({ socket: o.socket }, 'edge docker proxy listening');
    await untilSignal(() => new Promise<void>((r) => proxy.close(() => r())));
    return Exit.Ok;
  });
}

/** `front`: what the blue/green gateway's front container runs (the reconciler starts it; ADR 0025). */
export function registerFront(program: Command): void {
  const summary = "hold the gateway's port and forward to the active LiteLLM colour (inside the mcp-front container)";
  const front = defineCommand(program, 'front', summary, {
    examples: [
      '--port 4000 --active-file /etc/mcp-front/active.json --upstream blue=mcp-litellm-blue:4000 --upstream green=mcp-litellm-green:4000',
    ],
    exits: [[Exit.Ok, 'stopped by SIGTERM or SIGINT'], [Exit.Usage, 'an --upstream missing or not <blue|green>=<host>:<port>']],
  })
    .option('--port <port>', 'listen port', '4000')
    .requiredOption('--active-file <file>', 'the file naming the active colour, re-read when it changes')
    .option('--upstream <colour=host:port>', 'where a colour is reached (both blue and green)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    );
  onRun(front, async (o: { port: string; activeFile: string; upstream: string[] }) => {
    const log = createLogger();
    const upstreams: Partial<Record<Colour, string>> = {};
    for (const u of o.upstream) {
      const m = /^(blue|green)=([a-z0-9][a-z0-9.-]*:\d{1,5})$/.exec(u);
      if (!m) {
        log.error({ upstream: u }, 'front: --upstream must be <blue|green>=<host>:<port>');
        return Exit.Usage;
      }
      upstreams[m[1] as Colour] = m[2] as string;
    }
    if (!COLOURS.every((c) => upstreams[c] !== undefined)) {
      log.error('front: --upstream blue=... and --upstream green=... are both required');
      return Exit.Usage;
    }
    const port = Number(o.port);
    const { server } = createFront({ upstreams: upstreams as Record<Colour, string>, active: new ActiveFile(o.activeFile, log), log });
    await new Promise<void>((r) => server.listen(port, '0.0.0.0', r));
    log.info({ port, upstreams }, 'front listening');
    await untilSignal(() => closeGracefully(server, SHUTDOWN_GRACE_MS));
    return Exit.Ok;
  });
}

/** Waits for SIGTERM or SIGINT, then for `stop`. */
async function untilSignal(stop: () => Promise<void>): Promise<void> {
  await new Promise<void>((r) => {
    process.once('SIGTERM', r);
    process.once('SIGINT', r);
  });
  await stop();
}
