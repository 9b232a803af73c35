import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve, dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { parseYamlLocated, MAX_YAML_BYTES } from '../desired/yaml-located.js';
import { readRegularFile } from '../fs/safe-read.js';
import { ReconcilerError, ErrorCode, formatIssue } from '../errors/index.js';

/** The pinned upstream gateway images (../shared/facts/litellm-v1.77.3.md). */
export const LITELLM_IMAGE = 'ghcr.io/berriai/litellm:v1.77.3-stable';
export const LITELLM_DATABASE_IMAGE = 'ghcr.io/berriai/litellm-database:main-v1.77.3-stable';
/** The reconciler's own image, built from this repository's Dockerfile; it also serves the edge. */
export const RECONCILER_IMAGE = 'mcp-reconciler:0.1.0';

const GatewaySchema = z
  .strictObject({
    managed: z.boolean().default(true).describe('run LiteLLM as the managed mcp-litellm container'),
    mode: z
      .enum(['auto', 'config', 'api'])
      .default('auto')
      .describe('auto: API mode when the gateway has a database (hot changes), else config mode (restart)'),
    handover: z
      .enum(['restart', 'blue-green'])
      .default('restart')
      .describe(
        'restart: a change recreates mcp-litellm (its clients fail for the restart). blue-green: <namePrefix>front holds the port ' +
          'and a change starts the other LiteLLM colour beside the running one, switching once it lists the tools (ADR 0025)',
      ),
    image: z
      .string()
      .min(1)
      .optional()
      .describe(`default ${LITELLM_IMAGE}, or ${LITELLM_DATABASE_IMAGE} when the gateway env file has DATABASE_URL`),
    containerPort: z.number().int().min(1).max(65535).default(4000),
    hostPort: z.number().int().min(1).max(65535).default(4000).describe('published port clients use'),
    hostIp: z.string().default('0.0.0.0').describe('address the gateway port is published on (LAN)'),
    configPath: z.string().optional().describe('LiteLLM config.yaml; default <projectsRoot>/litellm/config.yaml'),
    restartContainer: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/)
      .optional()
      .describe('with managed: false, the name of your LiteLLM container the reconciler may restart when config.yaml changed'),
    envFile: z.string().optional().describe('default <secretsDir>/<namePrefix>litellm.env, i.e. mcp-litellm.env'),
    networks: z
      .array(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/))
      .default([])
      .describe("extra Docker networks the managed gateway joins (they must exist), e.g. your Postgres's own network"),
    entrypoint: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("replaces the gateway image's entrypoint; the reconciler's arguments (--config ... --port ...) follow it"),
    mounts: z
      .array(z.string().regex(/^\/[^:]*:\/[^:]*(:ro|:rw)?$/, 'host:container[:ro|rw], both absolute'))
      .default([])
      .describe('extra bind mounts into the managed gateway (host:container[:ro|rw]); e.g. a test double of its database'),
    url: z
      .string()
      .url()
      .optional()
      .describe(
        'how the reconciler reaches the gateway; default http://127.0.0.1:<hostPort>, ' +
          'with reach: network http://<namePrefix>litellm:<containerPort>',
      ),
  })
  .prefault({});

const EdgeSchema = z
  .strictObject({
    image: z.string().min(1).default(RECONCILER_IMAGE),
    port: z.number().int().min(1).max(65535).default(8080),
    hostPort: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe('publish the edge on <publishHostIp>:<hostPort> (default: a free port); fix it when LiteLLM runs on the host'),
    url: z
      .string()
      .url()
      .optional()
      .describe(
        'how LiteLLM reaches the edge; default http://mcp-edge:<port> (LiteLLM on mcp-net); ' +
          'e.g. http://127.0.0.1:8081 for a host LiteLLM',
      ),
    networks: z
      .array(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/))
      .default([])
      .describe('extra Docker networks the edge joins (they must exist), to reach a remote url: server that lives on one'),
  })
  .prefault({});

/** Daemon settings. Every field has a default that matches the user's layout. */
export const SettingsSchema = z.strictObject({
  projectsRoot: z.string().default('~/projects/mcp').describe('per-server folders live in <projectsRoot>/<name>/'),
  desiredDir: z.string().optional().describe('default <projectsRoot>/desired-state'),
  secretsDir: z.string().default('~/projects/secrets'),
  network: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/).default('mcp-net'),
  namePrefix: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*-$/)
    .default('mcp-')
    .describe('prefix of every asset name; change it only to run a second, separate stack (tests)'),
  instance: z.string().regex(/^[a-z0-9][a-z0-9-]*$/).default('default').describe('ownership scope of labels'),
  publishHostIp: z.string().default('127.0.0.1').describe('MCP ports are published here only, for probes'),
  gateway: GatewaySchema,
  edge: EdgeSchema,
  imageOverrides: z.record(z.string(), z.string()).default({}).describe('upstream image -> local image'),
  images: z
    .strictObject({
      pull: z
        .enum(['missing', 'never'])
        .default('missing')
        .describe('missing: pull an image that is not present locally; never: a missing image is an error (tests, offline)'),
    })
    .prefault({}),
  build: z
    .strictObject({
      extraHosts: z
        .array(z.string().regex(/^[A-Za-z0-9.-]+:[0-9A-Fa-f.:]+$/, 'host:ip, as compose build.extra_hosts'))
        .default([])
        .describe("compose's build.extra_hosts: name resolution the build container gets (a registry on a private address)"),
      maxContextBytes: z
        .number()
        .int()
        .min(1024)
        .default(64 * 1024 * 1024)
        .describe('a build: folder larger than this is refused (leave node_modules and data out with .dockerignore)'),
    })
    .prefault({})
    .describe('building images from build: folders and package: specs (docs/adr/0023)'),
  packages: z
    .strictObject({
      nodeBase: z.string().min(1).default('node:22-slim').describe('base image of npm: packages (needs npm); NODE_BASE build argument'),
      pythonBase: z
        .string()
        .min(1)
        .default('python:3.12-slim')
        .describe('base image of pypi: packages (needs python3 -m venv); PYTHON_BASE build argument'),
    })
    .prefault({})
    .describe('base images for package: servers; a missing one is pulled unless images.pull is never'),
  probeTimeoutMs: z.number().int().positive().default(10_000),
  dockerSocket: z.string().default('/var/run/docker.sock').describe('the edge attaches to stdio servers through it'),
  statusAddress: z
    .string()
    .default('127.0.0.1')
    .describe('where the daemon serves /healthz, /readyz, /status; 0.0.0.0 in a container whose port is published (deploy/compose.yaml)'),
  reach: z
    .enum(['host', 'network'])
    .default('host')
    .describe(
      'how the daemon reaches the gateway and servers. host: their ports published on 127.0.0.1 (the daemon on the host). ' +
        'network: by container name on <network> (the daemon in a container there, named <namePrefix>reconciler; ADR 0016)',
    ),
  statusPort: z.number().int().min(0).max(65535).default(9464),
  allowEmptyDesired: z
    .boolean()
    .default(false)
    .describe('let an empty desired dir remove every running server without `apply --allow-empty`'),
  resyncIntervalMs: z.number().int().positive().default(60_000),
});
export type SettingsInput = z.input<typeof SettingsSchema>;
type SettingsRaw = z.output<typeof SettingsSchema>;

/** Settings with every path resolved to an absolute one. */
export interface Settings extends Omit<SettingsRaw, 'desiredDir' | 'gateway'> {
  desiredDir: string;
  settingsFile: string | null;
  gateway: Required<Omit<SettingsRaw['gateway'], 'image' | 'restartContainer' | 'entrypoint'>> & {
    image: string | undefined;
    restartContainer: string | undefined;
    entrypoint: string[] | undefined;
  };
}

/** Environment variables that override single settings (documented in README). */
export const ENV_OVERRIDES: Record<string, (s: Record<string, unknown>, v: string) => void> = {
  MCP_RECONCILER_PROJECTS_ROOT: (s, v) => (s['projectsRoot'] = v),
  MCP_RECONCILER_DESIRED_DIR: (s, v) => (s['desiredDir'] = v),
  MCP_RECONCILER_SECRETS_DIR: (s, v) => (s['secretsDir'] = v),
  MCP_RECONCILER_NETWORK: (s, v) => (s['network'] = v),
  MCP_RECONCILER_GATEWAY_PORT: (s, v) => (sub(s, 'gateway')['hostPort'] = Number(v)),
  MCP_RECONCILER_GATEWAY_HANDOVER: (s, v) => (sub(s, 'gateway')['handover'] = v),
  MCP_RECONCILER_GATEWAY_MANAGED: (s, v) => (sub(s, 'gateway')['managed'] = v === 'true' || v === '1'),
  MCP_RECONCILER_STATUS_PORT: (s, v) => (s['statusPort'] = Number(v)),
  MCP_RECONCILER_STATUS_ADDRESS: (s, v) => (s['statusAddress'] = v),
  MCP_RECONCILER_REACH: (s, v) => (s['reach'] = v),
};

function sub(s: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = s[key];
  if (v && typeof v === 'object') return v as Record<string, unknown>;
  const fresh: Record<string, unknown> = {};
  s[key] = fresh;
  return fresh;
}

export function expandHome(p: string, home: string = homedir()): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return join(home, p.slice(2));
  return p;
}

/** Default settings file: $XDG_CONFIG_HOME/mcp-reconciler/settings.yaml. */
export function defaultSettingsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CONFIG_HOME'] || join(homedir(), '.config');
  return join(base, 'mcp-reconciler', 'settings.yaml');
}

/**
 * Load settings: file (explicit, $MCP_RECONCILER_CONFIG or the default path if it exists), then
 * environment overrides, then zod. Relative paths in the file resolve against the file's folder.
 */
export function loadSettings(
  opts: { file?: string | undefined; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Settings {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const explicit = opts.file ?? env['MCP_RECONCILER_CONFIG'];
  let file: string | null = null;
  let raw: Record<string, unknown> = {};
  if (explicit) {
    file = resolve(cwd, expandHome(explicit));
    if (!existsSync(file)) {
      throw new ReconcilerError(ErrorCode.SettingsInvalid, `settings file not found: ${file}`, { location: file });
    }
  } else if (existsSync(defaultSettingsPath(env))) {
    file = defaultSettingsPath(env);
  }
  let located: ReturnType<typeof parseYamlLocated> | null = null;
  if (file) {
    let text: string;
    try {
      text = readRegularFile(file, { maxBytes: MAX_YAML_BYTES });
    } catch (err) {
      throw new ReconcilerError(ErrorCode.SettingsInvalid, `settings file: ${(err as Error).message}`, { location: file });
    }
    located = parseYamlLocated(text, file);
    if (located.issues.length > 0) {
      throw new ReconcilerError(ErrorCode.SettingsInvalid, located.issues.map(formatIssue).join('\n'), { location: file });
    }
    const v = located.value ?? {};
    if (typeof v !== 'object' || Array.isArray(v)) {
      throw new ReconcilerError(ErrorCode.SettingsInvalid, `${file}: settings must be a mapping`, { location: file });
    }
    raw = v as Record<string, unknown>;
  }
  for (const [name, apply] of Object.entries(ENV_OVERRIDES)) {
    const v = env[name];
    if (v !== undefined && v !== '') apply(raw, v);
  }
  const parsed = SettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = located
      ? located.locate(parsed.error.issues)
      : parsed.error.issues.map((i) => ({
          file: 'settings',
          line: 1,
          col: 1,
          path: i.path.join('.'),
          message: i.message,
          severity: 'error' as const,
        }));
    throw new ReconcilerError(ErrorCode.SettingsInvalid, issues.map(formatIssue).join('\n'), {
      location: file ?? 'environment',
    });
  }
  const base = file ? dirname(file) : cwd;
  const abs = (p: string): string => (isAbsolute(expandHome(p)) ? expandHome(p) : resolve(base, expandHome(p)));
  const s = parsed.data;
  const projectsRoot = abs(s.projectsRoot);
  const secretsDir = abs(s.secretsDir);
  const hostPort = s.gateway.hostPort;
  const frontServes = s.gateway.managed && s.gateway.handover === 'blue-green';
  return {
    ...s,
    settingsFile: file,
    projectsRoot,
    secretsDir,
    desiredDir: s.desiredDir ? abs(s.desiredDir) : join(projectsRoot, 'desired-state'),
    gateway: {
      ...s.gateway,
      image: s.gateway.image,
      restartContainer: s.gateway.restartContainer,
      entrypoint: s.gateway.entrypoint,
      configPath: s.gateway.configPath ? abs(s.gateway.configPath) : join(projectsRoot, 'litellm', 'config.yaml'),
      envFile: s.gateway.envFile ? abs(s.gateway.envFile) : join(secretsDir, `${s.namePrefix}litellm.env`),
      // reach: network: the managed gateway (blue/green: its front, ADR 0025) by its container name on <network>, on its container port.
      url:
        s.gateway.url ??
        (s.reach === 'network'
          ? `http://${s.namePrefix}${frontServes ? 'front' : 'litellm'}:${s.gateway.containerPort}`
          : `http://127.0.0.1:${hostPort}`),
    },
  };
}

/** The image actually run for an upstream image name (imageOverrides; tests and offline machines). */
export function resolveImage(settings: Pick<Settings, 'imageOverrides'>, image: string): string {
  return settings.imageOverrides[image] ?? image;
}
