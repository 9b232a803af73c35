import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Settings } from '../config/settings.js';
import { resolveImage, LITELLM_IMAGE, LITELLM_DATABASE_IMAGE } from '../config/settings.js';
import { Labels, ownerLabels } from '../docker/labels.js';
import { errorMessage } from '../errors/index.js';
import { secretDigest, sha256Hex, specHash } from '../reconcile/hash.js';
import type { BuildSpec, ContainerSpec, GatewayColour, Hardening, ServerModel } from '../model/types.js';
import {
  HealthSchema, SecuritySchema, gatewayServerName, memoryBytes, mountRe, parsePackageSpec, type Security, type ServerSpec,
} from './schema.js';
import { BuildContextError, contextHash, readContext } from '../build/context.js';
import { baseImagesOf, packageDockerfile } from '../build/dockerfile.js';
import { readRegularFile, realpathInside, UnsafeFileError } from '../fs/safe-read.js';
import { deepFreeze } from '../memo/memo.js';
import type { LocatedIssue } from '../errors/index.js';

export { gatewayServerName };
import { assertPrivateFile, DIGEST_KEY_FILE, loadOrCreateDigestKey, parseEnvFile, readSecretsFile } from './env-file.js';
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

/**
 * A server's own network (ADR 0007): `<network>.<name>`, or `<network>.<name>.internal` without
 * egress. Server names have no dots, so no two servers' networks can share a name.
 */
export function serverNetworkName(settings: Pick<Settings, 'network'>, name: string, internal: boolean): string {
  return `${settings.network}.${name}${internal ? '.internal' : ''}`;
}

export function gatewayContainerName(settings: Pick<Settings, 'namePrefix'>): string {
  return `${settings.namePrefix}litellm`;
}

/** The daemon's own container under `reach: network` (deploy/compose.yaml names it so): the edge lets it probe. */
export function reconcilerContainerName(settings: Pick<Settings, 'namePrefix'>): string {
  return `${settings.namePrefix}reconciler`;
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

/** A problem with one of a server's host inputs (env file, mount source), at a path of its desired file. */
export class InputError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'InputError';
    this.path = path;
  }
}

/** Where a problem with the env file is located in the desired file. */
function envFileAt(spec: ServerSpec): 'envFile' | 'envFile.path' {
  return typeof spec.envFile === 'object' ? 'envFile.path' : 'envFile';
}

/** The envFile field, normalized. */
export function envFileRef(v: ServerSpec['envFile']): { path: string; shared: boolean } | null {
  if (v === undefined) return null;
  return typeof v === 'string' ? { path: v, shared: false } : { path: v.path, shared: v.shared };
}

/**
 * The env file a server gets, confined to the secrets dir: `<secretsDir>/<prefix><name>.env` if it
 * exists, or the file inside secretsDir that `envFile:` names. Resolved with realpath (a symlink
 * cannot lead out), never the gateway's env file or the digest key, and another server's
 * `<prefix><other>.env` only with `shared: true`. Returns the resolved path; throws InputError.
 */
export function serverEnvFile(settings: Settings, d: Pick<DesiredServer, 'name' | 'spec'>): string | null {
  const ref = envFileRef(d.spec.envFile);
  const at = envFileAt(d.spec);
  const own = `${settings.namePrefix}${d.name}.env`;
  const named = join(settings.secretsDir, ref ? ref.path : own);
  // No exception for the common case of no env file (500 servers: 500 exceptions per pass).
  if (!ref && !present(named)) return null;
  let real: string;
  try {
    real = realpathInside(settings.secretsDir, named);
  } catch (err) {
    const reason = (err as UnsafeFileError).reason;
    if (reason === 'outside') throw new InputError(at, `${named} resolves outside the secrets dir ${settings.secretsDir}`);
    throw new InputError(at, (err as Error).message);
  }
  const gatewayFile = existsSync(settings.gateway.envFile) ? realpathSync(settings.gateway.envFile) : null;
  if (
    real === gatewayFile ||
    basename(real) === `${settings.namePrefix}litellm.env` ||
    basename(named) === `${settings.namePrefix}litellm.env`
  ) {
    throw new InputError(at, `${named} is the gateway's env file (master key, database URL); it is never given to an MCP server`);
  }
  if (basename(real) === DIGEST_KEY_FILE) throw new InputError(at, `${named} is the reconciler's digest key; never given to a server`);
  // namePrefix is [a-z0-9-] only (settings), so it needs no escaping in a regex.
  const serverFile = new RegExp(`^${settings.namePrefix}(.+)\\.env$`);
  for (const f of new Set([basename(named), basename(real)])) {
    const other = serverFile.exec(f)?.[1];
    if (other !== undefined && other !== d.name && !ref?.shared) {
      throw new InputError(
        at,
        `${f} is server "${other}"'s env file; to share it on purpose write envFile: {path: ${ref?.path ?? f}, shared: true}`,
      );
    }
  }
  return real;
}

/** Does a path exist (as anything, a dangling symlink included)? Any error counts as no. */
function present(path: string): boolean {
  try {
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: equivalent but for speed; a throw on a missing file also answers no (below)
    return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
    // Stryker disable next-line BlockStatement: equivalent; an empty catch returns undefined, which is no as well
  } catch {
    return false;
  }
}

/**
 * Bind sources, resolved with realpath: each must exist (Docker would create an empty folder) and
 * stay inside `<projectsRoot>/<name>/` (a symlink `root -> /` is refused). Throws InputError.
 */
export function mountBinds(settings: Settings, d: Pick<DesiredServer, 'name' | 'spec'>): string[] {
  const serverDir = join(settings.projectsRoot, d.name);
  return (d.spec.mounts ?? []).map((m, i) => {
    // The schema matched every mount against mountRe, so both groups are there.
    const g = mountRe.exec(m)!.groups as { src: string; dst: string };
    const src = join(serverDir, g.src);
    let real: string;
    try {
      real = realpathInside(serverDir, src);
    } catch (err) {
      const reason = (err as UnsafeFileError).reason;
      if (reason === 'missing') throw new InputError(`mounts.${i}`, `source ${src} does not exist (Docker would mount an empty folder)`);
      if (reason === 'outside') throw new InputError(`mounts.${i}`, `source ${src} resolves outside the server folder ${serverDir}`);
      throw new InputError(`mounts.${i}`, (err as Error).message);
    }
    return `${real}:${g.dst}:ro`;
  });
}

/** The repository of images built for a server: `mcp-reconciler-build/<instance>/<name>` (the tag is the context hash). */
export function buildRepository(settings: Pick<Settings, 'instance'>, name: string): string {
  return `mcp-reconciler-build/${settings.instance}/${name}`;
}

/** Build arguments every build gets: the package bases (a Dockerfile may take them with ARG NODE_BASE / PYTHON_BASE). */
function baseArgs(settings: Settings): { NODE_BASE: string; PYTHON_BASE: string } {
  return {
    NODE_BASE: resolveImage(settings, settings.packages.nodeBase),
    PYTHON_BASE: resolveImage(settings, settings.packages.pythonBase),
  };
}

/**
 * What a `build:` or `package:` server builds (ADR 0023), from the files as they are now: the context
 * is read with the safe readers (confined to `<projectsRoot>/<name>/`, regular files, capped) and
 * hashed into the tag. Throws InputError at `build` / `build.context` / `build.dockerfile`.
 */
export function buildSpecOf(settings: Settings, d: Pick<DesiredServer, 'name' | 'spec' | 'source'>): BuildSpec | null {
  const s = d.spec;
  const labels = (hash: string): Record<string, string> => ({
    ...ownerLabels(settings.instance, 'server', { server: d.name, source: d.source }),
    [Labels.BuildContext]: hash,
  });
  const common = { extraHosts: [...settings.build.extraHosts], maxContextBytes: settings.build.maxContextBytes };
  if (s.package !== undefined) {
    // The schema parsed it (package: only passes when pinned and well formed).
    const pkg = parsePackageSpec(s.package)!;
    const base = pkg.ecosystem === 'npm' ? baseArgs(settings).NODE_BASE : baseArgs(settings).PYTHON_BASE;
    const text = packageDockerfile(pkg, base, s.command === undefined);
    const hash = sha256Hex(text);
    return {
      tag: `${buildRepository(settings, d.name)}:${hash.slice(0, 20)}`,
      kind: pkg.ecosystem,
      source: s.package,
      root: null,
      contextDir: null,
      dockerfile: 'Dockerfile',
      dockerfileText: text,
      args: {},
      baseImages: [base],
      contextHash: hash,
      labels: labels(hash),
      ...common,
    };
  }
  if (s.build === undefined) return null;
  const b = typeof s.build === 'string' ? { context: s.build } : s.build;
  const at = typeof s.build === 'string' ? 'build' : 'build.context';
  const root = join(settings.projectsRoot, d.name);
  const contextDir = join(root, b.context);
  const dockerfile = b.dockerfile ?? 'Dockerfile';
  const args = { ...baseArgs(settings), ...(b.args ?? {}) };
  let entries;
  try {
    entries = readContext(root, contextDir, { maxBytes: settings.build.maxContextBytes, dockerfile });
  } catch (err) {
    const aboutDockerfile = err instanceof BuildContextError && /^no |Dockerfile|is not a regular file$/.test(err.message);
    const where = aboutDockerfile && b.dockerfile ? 'build.dockerfile' : at;
    throw new InputError(where, errorMessage(err));
  }
  let dockerfileText: string;
  try {
    // Stryker disable next-line BooleanLiteral: equivalent; readContext has refused a Dockerfile that is not a regular file
    // (a second guard)
    dockerfileText = readRegularFile(join(realpathInside(root, contextDir), dockerfile), { maxBytes: 1024 * 1024, noFollow: true });
  } catch (err) {
    throw new InputError(b.dockerfile ? 'build.dockerfile' : at, errorMessage(err));
  }
  const hash = contextHash(entries, { dockerfile, args });
  return {
    tag: `${buildRepository(settings, d.name)}:${hash.slice(0, 20)}`,
    kind: 'dir',
    source: `build: ${b.context}`,
    root,
    contextDir,
    dockerfile,
    dockerfileText: null,
    args,
    baseImages: baseImagesOf(dockerfileText, args),
    contextHash: hash,
    labels: labels(hash),
    ...common,
  };
}

/**
 * Check a server's host inputs without writing anything (for `validate`): env file confined, regular,
 * mode 600, ours; mount sources present and inside the server folder; auth.secret in the env file.
 */
export function checkServerInputs(settings: Settings, d: DesiredServer): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  // serverEnvFile and mountBinds throw only InputError.
  const add = (err: unknown): void => {
    const { path, message } = err as InputError;
    // parseDesiredFile records the position of every path these errors name.
    const pos = d.positions[path]!;
    issues.push({ file: d.file, ...pos, path, message: message.slice(path.length + 2), severity: 'error' });
  };
  try {
    const f = serverEnvFile(settings, d);
    if (f) {
      try {
        const vars = parseEnvFile(readSecretsFile(f));
        if (d.spec.auth && !(d.spec.auth.secret in vars)) add(new InputError('auth.secret', `${f} has no ${d.spec.auth.secret}`));
      } catch (err) {
        add(new InputError(envFileAt(d.spec), (err as Error).message));
      }
    } else if (d.spec.auth) {
      add(new InputError(
        'auth.secret',
        `needs the server's env file (${join(settings.secretsDir, `${settings.namePrefix}${d.name}.env`)})`,
      ));
    }
  } catch (err) {
    add(err);
  }
  try {
    mountBinds(settings, d);
  } catch (err) {
    add(err);
  }
  try {
    buildSpecOf(settings, d);
  } catch (err) {
    add(err);
  }
  return issues;
}

/**
 * Turn validated desired files into models: defaults applied, paths resolved, secrets reduced to
 * a keyed digest. Reads files (env files, digest key) but decides nothing.
 */
export function resolveServers(settings: Settings, desired: readonly DesiredServer[]): ResolveResult {
  const models: ServerModel[] = [];
  const failures: ResolveResult['failures'] = [];
  const ctx = { settingsKey: JSON.stringify(settings), digestKey: null as Buffer | null };
  for (const d of desired) {
    try {
      models.push(resolveServer(settings, d, ctx));
    } catch (err) {
      failures.push({ name: d.name, file: d.file, message: errorMessage(err) });
    }
  }
  return { models, failures };
}

/** What a server's model depends on besides its desired file and the settings: read from disk each pass. */
interface HostInputs {
  envFile: string | null;
  /** Keyed digest of the env file's content (null: no env file). */
  digest: string | null;
  binds: string[];
  /** The image to build (build:, package:), its tag the hash of the context as read now. */
  build: BuildSpec | null;
}

/**
 * Per desired file (the parsed file, shared between passes while its text is unchanged): the last
 * model built from it and the key of everything else it was built from (settings, host inputs).
 */
const modelMemo = new WeakMap<DesiredServer, { key: string; model: ServerModel }>();

/**
 * A desired file's model. The host inputs (env file, its digest, mount sources) are read every
 * time; building the model from them is pure and remembered per parsed file, so a pass over
 * unchanged files neither rebuilds nor re-hashes any spec.
 */
export function resolveServer(
  settings: Settings,
  d: DesiredServer,
  ctx: { settingsKey: string; digestKey: Buffer | null } = { settingsKey: JSON.stringify(settings), digestKey: null },
): ServerModel {
  const s = d.spec;
  const envFile = serverEnvFile(settings, d);
  let digest: string | null = null;
  // Stryker disable next-line StringLiteral: equivalent; without an env file the text is never read (auth without one throws first)
  let envText = '';
  if (envFile) {
    envText = readSecretsFile(envFile);
    ctx.digestKey ??= loadOrCreateDigestKey(settings.secretsDir);
    digest = secretDigest(ctx.digestKey, envText);
  }
  if (s.auth) {
    if (!envFile) throw new Error(
      `auth.secret ${s.auth.secret} needs the server's env file (${join(settings.secretsDir, `${settings.namePrefix}${d.name}.env`)})`,
    );
    if (!(s.auth.secret in parseEnvFile(envText))) throw new Error(`auth.secret: ${envFile} has no ${s.auth.secret}`);
  }
  const io: HostInputs = { envFile, digest, binds: mountBinds(settings, d), build: buildSpecOf(settings, d) };
  const key = `${ctx.settingsKey}\u0000${JSON.stringify(io)}`;
  const hit = modelMemo.get(d);
  // Stryker disable next-line ConditionalExpression: equivalent; a memo (a miss builds an equal model)
  if (hit?.key === key) return hit.model;
  const model = deepFreeze(buildModel(settings, d, io));
  // Stryker disable next-line ObjectLiteral: equivalent; a memo (a miss builds an equal model)
  modelMemo.set(d, { key, model });
  return model;
}

/** The model of a desired file from its host inputs: pure (no I/O). */
function buildModel(settings: Settings, d: DesiredServer, io: HostInputs): ServerModel {
  const s = d.spec;
  if (s.url !== undefined) return buildRemoteModel(settings, d, io, s.url);
  const name = containerName(settings, d.name);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.env ?? {})) env[k] = String(v);
  const { envFile, digest, binds, build } = io;
  // The schema demands image: whenever url:, build: and package: are absent.
  const image = build ? build.tag : resolveImage(settings, s.image!);
  const network = { name: serverNetworkName(settings, d.name, s.egress === false), internal: s.egress === false };
  const spec: ContainerSpec = {
    name,
    image,
    upstreamImage: build ? build.tag : s.image!,
    ...(s.command ? { cmd: s.command } : {}),
    env,
    envFiles: envFile ? [envFile] : [],
    secretDigest: digest,
    binds,
    ...(s.port !== undefined ? { exposedPort: s.port, publish: { hostIp: settings.publishHostIp, hostPort: null } } : {}),
    // Its own network only (ADR 0007): never the gateway network, never another server's.
    networks: [
      { name: network.name, aliases: [name] },
      ...(s.networks ?? []).filter((n) => n !== settings.network && n !== network.name).map((n) => ({ name: n, aliases: [] })),
    ],
    labels: ownerLabels(settings.instance, 'server', { server: d.name, source: d.source }),
    init: true,
    restart: 'unless-stopped',
    volumes: s.data ? [{ name: `${name}-data`, target: s.data }] : [],
    hardening: hardeningFrom(s.security ?? SecuritySchema.parse({})),
    ...(s.transport === 'stdio' ? { stdin: true } : {}),
  };
  const gatewayName = gatewayServerName(d.name);
  const auth = authOf(d, envFile);
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
  return {
    name: d.name,
    file: d.file,
    source: d.source,
    transport: s.transport,
    mcpPath: s.transport === 'stdio' ? null : (s.path ?? (s.transport === 'http' ? '/mcp' : '/sse')),
    container: spec,
    remote: null,
    specHash: specHash(spec),
    network,
    gatewayName,
    gatewayEntry: withAuth(gatewayEntry, auth),
    blocked,
    auth,
    toolPolicy: s.tools ? { ...s.tools } : null,
    build,
    health: healthOf(s),
  };
}

/** Where the gateway gets a server's credential (desired `auth:`): a variable of its own, read from the env file. */
function authOf(d: DesiredServer, envFile: string | null): ServerModel['auth'] {
  if (!d.spec.auth || !envFile) return null;
  const gatewayVar = `MCP_AUTH_${d.name.toUpperCase().replace(/-/g, '_')}`;
  return { type: d.spec.auth.type, file: envFile, key: d.spec.auth.secret, gatewayVar };
}

/** LiteLLM substitutes os.environ/VAR in mapping values; the gateway container gets VAR (never the value in config.yaml). */
function withAuth(entry: Record<string, unknown>, auth: ServerModel['auth']): Record<string, unknown> {
  return auth ? { ...entry, auth_type: auth.type, authentication_token: `os.environ/${auth.gatewayVar}` } : entry;
}

function healthOf(s: ServerSpec): ServerModel['health'] {
  const h = HealthSchema.parse(s.health ?? {});
  // A url: server has no container to restart: restartOnHang never applies to it.
  const restartOnHang = s.url === undefined && h.restartOnHang;
  const intervalMs = h.intervalSeconds * 1000;
  const gatewayIntervalMs = Math.max(intervalMs, h.gatewayIntervalSeconds * 1000);
  return { intervalMs, gatewayIntervalMs, timeoutMs: h.timeoutSeconds * 1000, failureThreshold: h.failureThreshold, restartOnHang };
}

/**
 * The edge's route to a remote streamable-HTTP server: `/<prefix><name>/remote`, mapped to the URL by
 * the edge's `--remote` argument (it keeps one mcp-protocol-version, ADR 0003).
 */
export function remoteEdgeRoute(settings: Pick<Settings, 'namePrefix'>, name: string): string {
  return `/${containerName(settings, name)}/remote`;
}

/**
 * A `url:` server (ADR 0022): no container, no network. LiteLLM reaches an http one through the edge
 * (1.77.3's duplicate mcp-protocol-version header breaks SDK servers) and an sse one directly, as for
 * sse containers. Its spec hash covers what the gateway entry is made of.
 */
function buildRemoteModel(settings: Settings, d: DesiredServer, io: HostInputs, url: string): ServerModel {
  const s = d.spec;
  const auth = authOf(d, io.envFile);
  const description = s.description ?? `${d.name} (remote, managed by mcp-reconciler)`;
  const target = s.transport === 'http' ? `${edgeBaseUrl(settings)}${remoteEdgeRoute(settings, d.name)}` : url;
  return {
    name: d.name,
    file: d.file,
    source: d.source,
    transport: s.transport,
    mcpPath: null,
    container: null,
    remote: { url, object: containerName(settings, d.name) },
    specHash: specHash({ remote: url, transport: s.transport, auth: auth ? { type: auth.type, key: auth.key } : null, digest: io.digest }),
    network: null,
    gatewayName: gatewayServerName(d.name),
    gatewayEntry: withAuth({ url: target, transport: s.transport, description }, auth),
    blocked: null,
    auth,
    // http: the edge applies it on the remote route as for containers (ADR 0021 tool policy, ADR 0022).
    toolPolicy: s.tools ? { ...s.tools } : null,
    health: healthOf(s),
  };
}

/** `--remote <container name>=<url>` for every remote http server, sorted: the edge's only remote routes. */
export function edgeRemoteArgs(settings: Pick<Settings, 'namePrefix'>, servers: readonly ServerModel[]): string[] {
  return servers
    .filter((m) => m.remote && m.transport === 'http')
    .map((m) => `${m.remote!.object}=${m.remote!.url}`)
    .sort()
    .flatMap((r) => ['--remote', r]);
}

/** The edge container: stateless header-normalizing proxy between LiteLLM and http servers. */
/** The edge's Docker proxy container and the volume holding its socket (ADR 0007). */
export function edgeDockerName(settings: Pick<Settings, 'namePrefix'>): string {
  return `${settings.namePrefix}edge.docker`;
}
/** Where the proxy's socket lives in both containers. */
export const EDGE_DOCKER_DIR = '/run/mcp-docker';

/** The tool policy file the reconciler writes and the edge reads (ADR 0021): `<projectsRoot>/edge/tool-policy.json`. */
export function toolPolicyPath(settings: Pick<Settings, 'projectsRoot'>): string {
  return join(settings.projectsRoot, 'edge', 'tool-policy.json');
}
/** Where the edge sees that file's folder (mounted read-only). */
export const EDGE_POLICY_DIR = '/etc/mcp-edge';

export function edgeSpec(settings: Settings, servers: readonly ServerModel[] = []): ContainerSpec {
  const name = edgeContainerName(settings);
  const edgeClient = settings.gateway.managed ? gatewayContainerName(settings) : (settings.gateway.restartContainer ?? null);
  return {
    name,
    image: resolveImage(settings, settings.edge.image),
    upstreamImage: settings.edge.image,
    cmd: [
      'edge', '--port', String(settings.edge.port), '--allow-prefix', settings.namePrefix, '--instance', settings.instance,
      // Tool policy (ADR 0021): re-read when the file changes, so a policy change restarts nothing.
      '--tool-policy', `${EDGE_POLICY_DIR}/${basename(toolPolicyPath(settings))}`,
      // The only container the edge serves (ADR 0007): the managed gateway, or the user's named one.
      ...(edgeClient ? ['--gateway-host', edgeClient] : ['--host-only']),
      // reach: network: the daemon probes through the edge from its own container on <network> (ADR 0016).
      ...(settings.reach === 'network' ? ['--peer-host', reconcilerContainerName(settings)] : []),
      // Remote streamable-HTTP servers (url:) the edge forwards to (ADR 0022).
      ...edgeRemoteArgs(settings, servers),
    ],
    // No Docker socket: the stdio bridge reaches Docker only through the filtering proxy (ADR 0007).
    env: { DOCKER_HOST: `unix://${EDGE_DOCKER_DIR}/docker.sock` },
    envFiles: [],
    secretDigest: null,
    // The folder, not the file: the reconciler replaces the file by rename, which a file mount would not show.
    binds: [`${dirname(toolPolicyPath(settings))}:${EDGE_POLICY_DIR}:ro`],
    // Published on 127.0.0.1 only: the daemon probes stdio servers through it.
    exposedPort: settings.edge.port,
    publish: { hostIp: settings.publishHostIp, hostPort: settings.edge.hostPort ?? null },
    networks: [
      { name: settings.network, aliases: [name] },
      // Existing networks the edge joins to reach remote (url:) servers, e.g. a LAN service's own network.
      ...settings.edge.networks.filter((n) => n !== settings.network).map((n) => ({ name: n, aliases: [] })),
    ],
    labels: ownerLabels(settings.instance, 'edge'),
    init: true,
    restart: 'unless-stopped',
    volumes: [{ name: edgeDockerName(settings), target: EDGE_DOCKER_DIR }],
    hardening: EDGE_HARDENING,
    healthcheck: edgeHealthcheck(settings.edge.port),
  };
}

/** The edge's own health check: its /healthz on its port (the image's HEALTHCHECK is the daemon's). */
export function edgeHealthcheck(port: number): NonNullable<ContainerSpec['healthcheck']> {
  const probe = `fetch('http://127.0.0.1:${port}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`;
  return { test: ['CMD', 'node', '-e', probe], intervalS: 30, timeoutS: 3, startPeriodS: 10, retries: 3 };
}

/**
 * The edge's Docker proxy: holds the real socket and answers only inspect/attach of this
 * instance's stdio servers, on a unix socket in a volume shared with the edge alone. Root (to use
 * the socket and create its own in the volume) without any capability, no network.
 */
export function edgeDockerSpec(settings: Settings): ContainerSpec {
  return {
    name: edgeDockerName(settings),
    image: resolveImage(settings, settings.edge.image),
    upstreamImage: settings.edge.image,
    cmd: ['edge-docker', '--socket', `${EDGE_DOCKER_DIR}/docker.sock`, '--instance', settings.instance],
    // Its own health: its socket answers /_ping (the image's HEALTHCHECK is the daemon's).
    healthcheck: {
      test: [
        'CMD', 'node', '-e',
        `require('http').get({socketPath:'${EDGE_DOCKER_DIR}/docker.sock',path:'/_ping'},` +
          `r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))`,
      ],
      intervalS: 30,
      timeoutS: 3,
      startPeriodS: 10,
      retries: 3,
    },
    env: {},
    envFiles: [],
    secretDigest: null,
    binds: [`${settings.dockerSocket}:/var/run/docker.sock`],
    networks: [{ name: 'none', aliases: [] }],
    labels: ownerLabels(settings.instance, 'edge-docker'),
    init: true,
    restart: 'unless-stopped',
    volumes: [{ name: edgeDockerName(settings), target: EDGE_DOCKER_DIR }],
    hardening: { ...EDGE_HARDENING, user: '0:0' },
  };
}

/**
 * The managed LiteLLM container, before the config hash is known. One worker (facts: the
 * management API only updates the memory of the worker that handled the call).
 */
// Stryker disable next-line ArrayDeclaration: equivalent; a sentinel string has no auth, so it adds no credential
export function gatewaySpec(settings: Settings, servers: readonly ServerModel[] = []): ContainerSpec {
  const g = settings.gateway;
  const name = gatewayContainerName(settings);
  const usable = gatewayProblem(settings) === null;
  // Stryker disable next-line StringLiteral: equivalent; an unusable file's text only picks the image (no DATABASE_URL either way)
  const envText = usable ? readSecretsFile(g.envFile) : '';
  // Upstream credentials (desired `auth:`) reach the gateway as MCP_AUTH_<NAME>, read at create time.
  const envFromFiles = servers.filter((m) => m.auth).map((m) => ({ file: m.auth!.file, key: m.auth!.key, as: m.auth!.gatewayVar }));
  const credentials = envFromFiles.map((e) => `${e.as}=${parseEnvFile(readSecretsFile(e.file))[e.key] ?? ''}`).join('\n');
  const digest = usable ? secretDigest(loadOrCreateDigestKey(settings.secretsDir), `${envText}\n${credentials}`) : null;
  const image = gatewayImage(settings, envText);
  const database = Boolean(parseEnvFile(envText)['DATABASE_URL']);
  return {
    name,
    image: resolveImage(settings, image),
    upstreamImage: image,
    ...(g.entrypoint ? { entrypoint: g.entrypoint } : {}),
    cmd: [
      '--config',
      `${GATEWAY_CONFIG_DIR_IN_CONTAINER}/config.yaml`,
      '--port',
      String(g.containerPort),
      '--num_workers',
      '1',
    ],
    // With a database, STORE_MODEL_IN_DB makes LiteLLM load the DB servers at start-up and poll
    // them every 10 s; without it a restarted gateway serves none of its rows (ADR 0008).
    env: { LITELLM_LOCAL_MODEL_COST_MAP: 'True', ...(database ? { STORE_MODEL_IN_DB: 'True' } : {}) },
    envFiles: usable ? [g.envFile] : [],
    ...(envFromFiles.length ? { envFromFiles } : {}),
    secretDigest: digest,
    binds: [`${dirname(g.configPath)}:${GATEWAY_CONFIG_DIR_IN_CONTAINER}:ro`, ...g.mounts],
    exposedPort: g.containerPort,
    publish: { hostIp: g.hostIp, hostPort: g.hostPort },
    networks: [
      { name: settings.network, aliases: [name] },
      ...g.networks.filter((n) => n !== settings.network).map((n) => ({ name: n, aliases: [] })),
    ],
    labels: ownerLabels(settings.instance, 'gateway'),
    init: true,
    restart: 'unless-stopped',
    volumes: [],
    hardening: GATEWAY_HARDENING,
  };
}

/** The front's container (blue/green, ADR 0025): it holds the gateway's port and name for clients. */
export function frontContainerName(settings: Pick<Settings, 'namePrefix'>): string {
  return `${settings.namePrefix}front`;
}

/** `mcp-litellm-blue`, `mcp-litellm-green`: the two LiteLLM containers of the handover. */
export function gatewayColourName(settings: Pick<Settings, 'namePrefix'>, colour: GatewayColour): string {
  return `${gatewayContainerName(settings)}-${colour}`;
}

/** The file naming the active colour, written by the reconciler (0644, no secret), read by the front. */
export function frontActivePath(settings: Pick<Settings, 'projectsRoot'>): string {
  return join(settings.projectsRoot, 'front', 'active.json');
}
/** Where the front sees that file's folder (mounted read-only: the file is replaced by rename). */
export const FRONT_ACTIVE_DIR = '/etc/mcp-front';

/**
 * One colour of the managed gateway: the gateway's spec under the colour's name, published on no
 * port (the front holds the LAN port and reaches it on <network>). It keeps the network alias
 * `<namePrefix>litellm`, so the edge, which serves only that name (ADR 0007), serves both colours.
 */
export function gatewayColourSpec(settings: Settings, base: ContainerSpec, colour: GatewayColour): ContainerSpec {
  const { publish: _publish, ...rest } = base;
  return { ...rest, name: gatewayColourName(settings, colour) };
}

/**
 * The front (ADR 0025): the reconciler's own image, like the edge, on the gateway's LAN port and
 * on <network> only. It forwards every request to the colour its active file names.
 */
export function frontSpec(settings: Settings): ContainerSpec {
  const g = settings.gateway;
  const name = frontContainerName(settings);
  const port = g.containerPort;
  return {
    name,
    image: resolveImage(settings, settings.edge.image),
    upstreamImage: settings.edge.image,
    cmd: [
      'front', '--port', String(port), '--active-file', `${FRONT_ACTIVE_DIR}/${basename(frontActivePath(settings))}`,
      '--upstream', `blue=${gatewayColourName(settings, 'blue')}:${port}`,
      '--upstream', `green=${gatewayColourName(settings, 'green')}:${port}`,
    ],
    env: {},
    envFiles: [],
    secretDigest: null,
    binds: [`${dirname(frontActivePath(settings))}:${FRONT_ACTIVE_DIR}:ro`],
    exposedPort: port,
    publish: { hostIp: g.hostIp, hostPort: g.hostPort },
    networks: [{ name: settings.network, aliases: [name] }],
    labels: ownerLabels(settings.instance, 'front'),
    init: true,
    restart: 'unless-stopped',
    volumes: [],
    hardening: EDGE_HARDENING,
    healthcheck: frontHealthcheck(port),
  };
}

/** The front's health check: its own status route. */
export function frontHealthcheck(port: number): NonNullable<ContainerSpec['healthcheck']> {
  const probe = `fetch('http://127.0.0.1:${port}/_mcp-reconciler/front').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`;
  return { test: ['CMD', 'node', '-e', probe], intervalS: 30, timeoutS: 3, startPeriodS: 10, retries: 3 };
}

/**
 * Servers whose upstream credential (desired `auth:`) cannot be read now: the file went missing,
 * lost mode 600, or no longer has the key. Their credential must not be dropped from a new gateway,
 * so the gateway is left as it runs until the file is back; nothing else waits for it.
 */
export function gatewayCredentialProblems(servers: readonly ServerModel[]): { name: string; file: string; message: string }[] {
  const out: { name: string; file: string; message: string }[] = [];
  for (const m of servers) {
    if (!m.auth) continue;
    try {
      if (!(m.auth.key in parseEnvFile(readSecretsFile(m.auth.file)))) throw new Error(`${m.auth.file} has no ${m.auth.key}`);
    } catch (err) {
      out.push({ name: m.name, file: m.auth.file, message: `auth.secret: ${errorMessage(err)}` });
    }
  }
  return out;
}

/** Why the managed gateway cannot be (re)created now, or null. Names the file, never its content. */
export function gatewayProblem(settings: Settings): string | null {
  const f = settings.gateway.envFile;
  if (!existsSync(f)) return `gateway env file ${f} is missing; create it (chmod 600) with LITELLM_MASTER_KEY=sk-...`;
  // assertPrivateFile reads it safely: regular, mode 600, ours, capped.
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
