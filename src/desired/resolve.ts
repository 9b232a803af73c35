import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Settings } from '../config/settings.js';
import { resolveImage, LITELLM_IMAGE, LITELLM_DATABASE_IMAGE } from '../config/settings.js';
import { ownerLabels } from '../docker/labels.js';
import { errorMessage } from '../errors/index.js';
import { secretDigest, specHash } from '../reconcile/hash.js';
import type { ContainerSpec, Hardening, ServerModel } from '../model/types.js';
import { HealthSchema, SecuritySchema, gatewayServerName, memoryBytes, type Security } from './schema.js';

export { gatewayServerName };
import { assertPrivateFile, loadOrCreateDigestKey, parseEnvFile } from './env-file.js';
import type { DesiredServer } from './load.js';


export function containerName(settings: Pick<Settings, 'namePrefix'>, name: string): string {
  return `${settings.namePrefix}${name}`;
}

export function edgeContainerName(settings: Pick<Settings, 'namePrefix'>): string {
  return `${settings.namePrefix}edge`;
}

/** The edge as LiteLLM reaches it: by name on mcp-net, or edge.url (a LiteLLM on the host). */
export function edgeBaseUrl(settings: Pick<Settings, 'namePrefix' | 'edge'>): string {
  return (settings.edge.url ?? `http://${edgeContainerName(settings)}:${settings.edge.port}`).replace(/\/+$/, '');
}

export function gatewayContainerName(settings: Pick<Settings, 'namePrefix'>): string {
  return `${settings.namePrefix}litellm`;
}

/** Where LiteLLM's config folder is mounted in the gateway container. */
export const GATEWAY_CONFIG_DIR_IN_CONTAINER = '/app/litellm';

/** json-file log rotation for every container we create. */
export const LOG_MAX_SIZE = '10m';
export const LOG_MAX_FILES = 3;

/** Docker hardening from a desired `security:` block (all defaults on). */
export function hardeningFrom(sec: Security): Hardening {
  return {
    readOnlyRootFilesystem: sec.readOnlyRootFilesystem,
    capDrop: sec.dropAllCapabilities ? ['ALL'] : [],
    capAdd: [...sec.capAdd].sort(),
    noNewPrivileges: sec.noNewPrivileges,
    user: sec.user ?? null,
    memoryBytes: memoryBytes(sec.memory),
    pids: sec.pids,
    nanoCpus: sec.cpus !== undefined ? Math.round(sec.cpus * 1e9) : null,
    tmpfs: sec.readOnlyRootFilesystem ? [...sec.tmpfs].sort() : [],
    logMaxSize: LOG_MAX_SIZE,
    logMaxFiles: LOG_MAX_FILES,
  };
}

/** The edge is our own small Node process: fully locked down. */
const EDGE_HARDENING: Hardening = hardeningFrom(SecuritySchema.parse({ memory: '128m', pids: 128 }));
/**
 * LiteLLM writes below its install folder at start-up, so its root stays writable; everything
 * else is locked down like an MCP server.
 */
const GATEWAY_HARDENING: Hardening = hardeningFrom(SecuritySchema.parse({ readOnlyRootFilesystem: false, memory: '2g', pids: 512 }));

export interface ResolveResult {
  models: ServerModel[];
  /** Servers whose desired file is valid but whose inputs (env file, ...) are not usable now. */
  failures: { name: string; file: string; message: string }[];
}

/** The env file a server gets: explicit (relative to the secrets dir) or the default one if it exists. */
export function serverEnvFile(settings: Settings, d: DesiredServer): { path: string; explicit: boolean } | null {
  if (d.spec.envFile) {
    const p = isAbsolute(d.spec.envFile) ? d.spec.envFile : join(settings.secretsDir, d.spec.envFile);
    return { path: p, explicit: true };
  }
  const p = join(settings.secretsDir, `${settings.namePrefix}${d.name}.env`);
  return existsSync(p) ? { path: p, explicit: false } : null;
}

/**
 * Turn validated desired files into models: defaults applied, paths resolved, secrets reduced to
 * a keyed digest. Reads files (env files, digest key) but decides nothing.
 */
export function resolveServers(settings: Settings, desired: readonly DesiredServer[]): ResolveResult {
  const models: ServerModel[] = [];
  const failures: ResolveResult['failures'] = [];
  for (const d of desired) {
    try {
      models.push(resolveServer(settings, d));
    } catch (err) {
      failures.push({ name: d.name, file: d.file, message: errorMessage(err) });
    }
  }
  return { models, failures };
}

export function resolveServer(settings: Settings, d: DesiredServer): ServerModel {
  const s = d.spec;
  const name = containerName(settings, d.name);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.env ?? {})) env[k] = String(v);
  const envFile = serverEnvFile(settings, d);
  let digest: string | null = null;
  if (envFile) {
    if (!existsSync(envFile.path)) throw new Error(`envFile ${envFile.path} does not exist`);
    assertPrivateFile(envFile.path);
    digest = secretDigest(loadOrCreateDigestKey(settings.secretsDir), readFileSync(envFile.path, 'utf8'));
  }
  const serverDir = join(settings.projectsRoot, d.name);
  const binds = (s.mounts ?? []).map((m) => {
    const [src, dst] = m.split(':') as [string, string];
    return `${join(serverDir, src)}:${dst}:ro`;
  });
  const spec: ContainerSpec = {
    name,
    image: resolveImage(settings, s.image),
    upstreamImage: s.image,
    ...(s.command ? { cmd: s.command } : {}),
    env,
    envFiles: envFile ? [envFile.path] : [],
    secretDigest: digest,
    binds,
    ...(s.port !== undefined ? { exposedPort: s.port, publish: { hostIp: settings.publishHostIp, hostPort: null } } : {}),
    networks: [
      { name: settings.network, aliases: [name] },
      ...(s.networks ?? []).filter((n) => n !== settings.network).map((n) => ({ name: n, aliases: [] })),
    ],
    labels: ownerLabels(settings.instance, 'server', { server: d.name, source: d.source }),
    init: true,
    restart: 'unless-stopped',
    volumes: s.data ? [{ name: `${name}-data`, target: s.data }] : [],
    hardening: hardeningFrom(s.security ?? SecuritySchema.parse({})),
    ...(s.transport === 'stdio' ? { stdin: true } : {}),
  };
  const gatewayName = gatewayServerName(d.name);
  let auth: ServerModel['auth'] = null;
  if (s.auth) {
    if (!envFile) throw new Error(`auth.secret ${s.auth.secret} needs the server's env file (${join(settings.secretsDir, `${settings.namePrefix}${d.name}.env`)})`);
    if (!(s.auth.secret in parseEnvFile(readFileSync(envFile.path, 'utf8')))) throw new Error(`auth.secret: ${envFile.path} has no ${s.auth.secret}`);
    auth = { type: s.auth.type, file: envFile.path, key: s.auth.secret, gatewayVar: `MCP_AUTH_${d.name.toUpperCase().replace(/-/g, '_')}` };
  }
  let gatewayEntry: Record<string, unknown> | null = null;
  let blocked: string | null = null;
  const description = s.description ?? `${d.name} (managed by mcp-reconciler)`;
  if (s.transport === 'http') {
    const path = s.path ?? '/mcp';
    // Through the edge: LiteLLM 1.77.3 sends mcp-protocol-version twice, which SDK servers reject (ADR 0003).
    gatewayEntry = { url: `${edgeBaseUrl(settings)}/${name}/${s.port}${path}`, transport: 'http', description };
  } else if (s.transport === 'sse') {
    gatewayEntry = { url: `http://${name}:${s.port}${s.path ?? '/sse'}`, transport: 'sse', description };
  } else {
    // stdio: the edge attaches to the process and serves it as streamable HTTP (ADR 0004).
    gatewayEntry = { url: `${edgeBaseUrl(settings)}/${name}/stdio/mcp`, transport: 'http', description };
  }
  if (gatewayEntry && auth) {
    // LiteLLM substitutes os.environ/VAR in mapping values; the gateway container gets VAR.
    gatewayEntry = { ...gatewayEntry, auth_type: auth.type, authentication_token: `os.environ/${auth.gatewayVar}` };
  }
  return {
    name: d.name,
    file: d.file,
    source: d.source,
    transport: s.transport,
    mcpPath: s.transport === 'stdio' ? null : (s.path ?? (s.transport === 'http' ? '/mcp' : '/sse')),
    container: spec,
    specHash: specHash(spec),
    gatewayName,
    gatewayEntry,
    blocked,
    auth,
    health: (() => {
      const h = HealthSchema.parse(s.health ?? {});
      return { intervalMs: h.intervalSeconds * 1000, timeoutMs: h.timeoutSeconds * 1000, failureThreshold: h.failureThreshold, restartOnHang: h.restartOnHang };
    })(),
  };
}

/** The edge container: stateless header-normalizing proxy between LiteLLM and http servers. */
export function edgeSpec(settings: Settings): ContainerSpec {
  const name = edgeContainerName(settings);
  // The stdio bridge attaches through the Docker socket: mount it and join its group.
  const socketGid = existsSync(settings.dockerSocket) ? String(statSync(settings.dockerSocket).gid) : null;
  return {
    name,
    image: resolveImage(settings, settings.edge.image),
    upstreamImage: settings.edge.image,
    cmd: ['edge', '--port', String(settings.edge.port), '--allow-prefix', settings.namePrefix, '--instance', settings.instance],
    env: {},
    envFiles: [],
    secretDigest: null,
    binds: [`${settings.dockerSocket}:/var/run/docker.sock`],
    ...(socketGid ? { groupAdd: [socketGid] } : {}),
    // Published on 127.0.0.1 only: the daemon probes stdio servers through it.
    exposedPort: settings.edge.port,
    publish: { hostIp: settings.publishHostIp, hostPort: settings.edge.hostPort ?? null },
    networks: [{ name: settings.network, aliases: [name] }],
    labels: ownerLabels(settings.instance, 'edge'),
    init: true,
    restart: 'unless-stopped',
    volumes: [],
    hardening: EDGE_HARDENING,
  };
}

/**
 * The managed LiteLLM container, before the config hash is known. One worker (facts: the
 * management API only updates the memory of the worker that handled the call).
 */
export function gatewaySpec(settings: Settings, servers: readonly ServerModel[] = []): ContainerSpec {
  const g = settings.gateway;
  const name = gatewayContainerName(settings);
  const usable = gatewayProblem(settings) === null;
  const envText = usable ? readFileSync(g.envFile, 'utf8') : '';
  // Upstream credentials (desired `auth:`) reach the gateway as MCP_AUTH_<NAME>, read at create time.
  const envFromFiles = servers.filter((m) => m.auth).map((m) => ({ file: m.auth!.file, key: m.auth!.key, as: m.auth!.gatewayVar }));
  const credentials = envFromFiles.map((e) => `${e.as}=${parseEnvFile(readFileSync(e.file, 'utf8'))[e.key] ?? ''}`).join('\n');
  const digest = usable ? secretDigest(loadOrCreateDigestKey(settings.secretsDir), `${envText}\n${credentials}`) : null;
  const image = gatewayImage(settings, envText);
  return {
    name,
    image: resolveImage(settings, image),
    upstreamImage: image,
    cmd: [
      '--config',
      `${GATEWAY_CONFIG_DIR_IN_CONTAINER}/config.yaml`,
      '--port',
      String(g.containerPort),
      '--num_workers',
      '1',
    ],
    env: { LITELLM_LOCAL_MODEL_COST_MAP: 'True' },
    envFiles: usable ? [g.envFile] : [],
    ...(envFromFiles.length ? { envFromFiles } : {}),
    secretDigest: digest,
    binds: [`${dirname(g.configPath)}:${GATEWAY_CONFIG_DIR_IN_CONTAINER}:ro`],
    exposedPort: g.containerPort,
    publish: { hostIp: g.hostIp, hostPort: g.hostPort },
    networks: [{ name: settings.network, aliases: [name] }],
    labels: ownerLabels(settings.instance, 'gateway'),
    init: true,
    restart: 'unless-stopped',
    volumes: [],
    hardening: GATEWAY_HARDENING,
  };
}

/** Why the managed gateway cannot be (re)created now, or null. Names the file, never its content. */
export function gatewayProblem(settings: Settings): string | null {
  const f = settings.gateway.envFile;
  if (!existsSync(f)) return `gateway env file ${f} is missing; create it (chmod 600) with LITELLM_MASTER_KEY=sk-...`;
  try {
    assertPrivateFile(f);
  } catch (err) {
    return errorMessage(err);
  }
  return null;
}

/**
 * The gateway image: the setting if given, else the pinned 1.77.3 image — the `litellm-database`
 * variant (Prisma engines included) once the gateway env file has a DATABASE_URL.
 */
export function gatewayImage(settings: Settings, envFileText: string): string {
  if (settings.gateway.image) return settings.gateway.image;
  return parseEnvFile(envFileText)['DATABASE_URL'] ? LITELLM_DATABASE_IMAGE : LITELLM_IMAGE;
}
