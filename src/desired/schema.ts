import { z } from 'zod';

/** Schema version written into labels; bump when the meaning of a field changes. */
export const SCHEMA_VERSION = '1';

export const SERVER_NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
export const SERVER_NAME_MAX = 40;
/**
 * Names the stack itself uses (its own containers and folders): a server may not take them.
 * `litellm` is the gateway, `edge` the header-normalizing proxy (docs/adr/0003), `net` the
 * network, `desired-state` the folder beside the per-server folders.
 */
export const RESERVED_NAMES = ['litellm', 'edge', 'net', 'reconciler', 'desired-state', 'secrets'] as const;

import { TRANSPORTS, type Transport } from '../model/types.js';
import { CompiledPolicy, globProblem, TOOL_NAME_RE } from '../policy/tool-policy.js';
export { TRANSPORTS, type Transport };

/** LiteLLM 1.77.3 rejects `-` in server names (the tool-prefix separator): mcp-foo-bar -> mcp_foo_bar. */
export function gatewayServerName(name: string): string {
  return `mcp_${name.replace(/-/g, '_')}`;
}

const envKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _');
export const mountRe = /^(?<src>[^:]+):(?<dst>\/[^:]*)(?::(?<mode>ro|rw))?$/;

const memoryRe = /^\d+(\.\d+)?[kmg]?$/i;
/** Docker refuses a memory limit below 6 MiB; "0" would mean unlimited. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
/** The smallest CPU limit Docker expresses (NanoCpus 1e7); below it rounds to 0 = unlimited or fails. */
export const MIN_CPUS = 0.01;

/**
 * Docker image references (distribution/reference grammar): [host[:port]/]path[:tag][@digest],
 * lowercase path components, tag <= 128 characters, digest algorithm:hex.
 */
const ALNUM = '[a-z0-9]+';
const PATH_COMPONENT = `${ALNUM}(?:(?:[._]|__|-+)${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const IMAGE_NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
export const IMAGE_REF_RE = new RegExp(
  `^(?<name>${IMAGE_NAME})(?::(?<tag>[\\w][\\w.-]{0,127}))?` +
    `(?:@(?<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`,
);
/** Docker's limit on the name part of a reference. */
export const IMAGE_NAME_MAX = 255;

/** Why an image reference would fail in Docker, or null. */
export function imageRefProblem(ref: string): string | null {
  const m = IMAGE_REF_RE.exec(ref);
  if (!m) return 'not a Docker image reference ([registry/]name[:tag][@sha256:...], lowercase name, tag of letters, digits, . _ -)';
  if ((m.groups?.['name'] ?? '').length > IMAGE_NAME_MAX) return `the image name has more than ${IMAGE_NAME_MAX} characters`;
  const digest = m.groups?.['digest'];
  if (digest?.startsWith('sha256:') && digest.length !== 'sha256:'.length + 64) return 'a sha256 digest has exactly 64 hex digits';
  return null;
}

/**
 * Capabilities a server may add without explaining why; anything else (SYS_ADMIN, NET_ADMIN, ALL...)
 * needs `security.reason`.
 */
export const CAP_ALLOWLIST = ['NET_BIND_SERVICE', 'CHOWN', 'SETUID', 'SETGID', 'FOWNER', 'KILL'] as const;
/** Linux capabilities Docker knows (without CAP_), and ALL. */
export const KNOWN_CAPS = [
  'ALL', 'AUDIT_CONTROL', 'AUDIT_READ', 'AUDIT_WRITE', 'BLOCK_SUSPEND', 'BPF', 'CHECKPOINT_RESTORE', 'CHOWN', 'DAC_OVERRIDE',
  'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'IPC_LOCK', 'IPC_OWNER', 'KILL', 'LEASE', 'LINUX_IMMUTABLE', 'MAC_ADMIN', 'MAC_OVERRIDE',
  'MKNOD', 'NET_ADMIN', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_RAW', 'PERFMON', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID',
  'SYS_ADMIN', 'SYS_BOOT', 'SYS_CHROOT', 'SYS_MODULE', 'SYS_NICE', 'SYS_PACCT', 'SYS_PTRACE', 'SYS_RAWIO', 'SYS_RESOURCE',
  'SYS_TIME', 'SYS_TTY_CONFIG', 'SYSLOG', 'WAKE_ALARM',
] as const;

/** Docker network names a server may not join: they replace or bypass the stack's network. */
export const FORBIDDEN_NETWORKS = ['host', 'none', 'bridge', 'default'] as const;

/** Container paths a tmpfs, data volume or mount may not cover: the root, and system folders. */
const SYSTEM_PATHS = [
  '/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/sbin', '/sys', '/usr', '/var', '/run',
];
/** Kernel interfaces: nothing may be mounted anywhere below them either. */
const KERNEL_PATHS = ['/proc', '/sys', '/dev'];

/** Why a container path may not be a mount target, or null. */
export function containerPathProblem(p: string): string | null {
  if (!p.startsWith('/')) return 'an absolute path inside the container';
  if (p.includes('\0')) return 'contains a NUL byte';
  const segs = p.split('/').slice(1);
  if (segs.some((x) => x === '..' || x === '.') ) return 'no . or .. segments';
  if (p !== '/' && (p.endsWith('/') || p.includes('//'))) return 'write the path without // or a trailing /';
  if (p === '/') return 'not the root filesystem /';
  if (SYSTEM_PATHS.includes(p)) return `not the system folder ${p}`;
  if (KERNEL_PATHS.some((k) => p.startsWith(`${k}/`))) return 'not below /proc, /sys or /dev';
  return null;
}

/** Why a URL path would be unsafe in the gateway entry (routing through the edge), or null. */
export function urlPathProblem(full: string): string | null {
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$/.test(full)) {
    return 'a URL path starting with / (an optional ?query), without spaces or #';
  }
  const p = full.split('?')[0] ?? '';
  const segs = p.split('/').map((x) => {
    try {
      return decodeURIComponent(x);
    } catch {
      return x;
    }
  });
  if (segs.some((x) => x === '..' || x === '.' || x.includes('/') || x.includes('\\')))
    return 'no . or .. segments (they would route to another server)';
  if (p.includes('//')) return 'no empty segments (//)';
  return null;
}

/** LiteLLM 1.77.3 substitutes `os.environ/NAME` in every config value (proxy_server.py _check_for_os_environ_vars). */
export const OS_ENVIRON = 'os.environ/';

/** Is `user` root (name or uid 0, with or without a group)? */
export function isRootUser(user: string): boolean {
  const u = user.split(':')[0] ?? '';
  return u === 'root' || /^0+$/.test(u);
}

/** The env file reference in a desired file: a name inside the secrets dir. */
export function envFileNameProblem(p: string): string | null {
  if (p.length === 0) return 'must not be empty';
  if (p.length > 255) return 'at most 255 characters';
  if (p.startsWith('/') || p.startsWith('~')) return 'a file name inside the secrets dir, not an absolute path';
  if (p.split('/').some((x) => x === '..' || x === '.' || x === ''))
    return 'a file name inside the secrets dir: no .., . or empty segments';
  if (!/^[A-Za-z0-9._/-]+$/.test(p)) return 'letters, digits, . _ - and / only';
  return null;
}

/** Why a path relative to the server folder (build context, Dockerfile) is unusable, or null. */
export function relativePathProblem(p: string): string | null {
  if (p.length === 0) return 'must not be empty (use . for the server folder itself)';
  if (p.includes('\0')) return 'contains a NUL byte';
  if (p.startsWith('/') || p.startsWith('~')) return 'a path relative to the server folder <projectsRoot>/<name>/, not an absolute one';
  if (p.split('/').includes('..')) return 'must stay inside the server folder <projectsRoot>/<name>/ (no ..)';
  if (p.includes('\\')) return 'use / as the separator';
  return null;
}

const buildDir = z
  .string()
  .max(255)
  .superRefine((p, ctx) => {
    const why = relativePathProblem(p);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  });

/** npm package names (scoped or not), as the registry accepts new ones. */
const NPM_NAME = '(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*';
/** An exact semver version: 1.2.3, 1.2.3-beta.1, 2026.8.31 (no range, no tag). */
const SEMVER = '(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?';
/** PyPI project names (PEP 508) and exact PEP 440 versions (no wildcard, no local part). */
const PYPI_NAME = '[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?';
const PEP440 = '(?:\\d+!)?\\d+(?:\\.\\d+)*(?:(?:a|b|rc)\\d+)?(?:\\.post\\d+)?(?:\\.dev\\d+)?';
export const NPM_PACKAGE_RE = new RegExp(`^npm:(?<name>${NPM_NAME})@(?<version>${SEMVER})$`);
export const PYPI_PACKAGE_RE = new RegExp(`^pypi:(?<name>${PYPI_NAME})==(?<version>${PEP440})$`);

/** A `package:` value, parsed: which registry, the name and the exact version. */
export interface PackageRef {
  ecosystem: 'npm' | 'pypi';
  name: string;
  version: string;
}

export function parsePackageSpec(p: string): PackageRef | null {
  const npm = NPM_PACKAGE_RE.exec(p)?.groups;
  if (npm) return { ecosystem: 'npm', name: npm['name']!, version: npm['version']! };
  const py = PYPI_PACKAGE_RE.exec(p)?.groups;
  if (py) return { ecosystem: 'pypi', name: py['name']!, version: py['version']! };
  return null;
}

/**
 * Why a `package:` value is refused, or null. Unpinned versions are refused (ADR 0023): a build
 * must give the same image tomorrow, and the context hash cannot see a registry's "latest".
 */
export function packageSpecProblem(p: string): string | null {
  if (parsePackageSpec(p) !== null) return null;
  if (/\s|\0/.test(p)) return 'no spaces or NUL bytes';
  if (p.startsWith('npm:')) {
    const at = p.lastIndexOf('@');
    const name = at > 4 ? p.slice(4, at) : p.slice(4);
    if (!new RegExp(`^${NPM_NAME}$`).test(name)) return `"${name.slice(0, 80)}" is not an npm package name (lowercase, @scope/name)`;
    if (at <= 4) return `not pinned: write an exact version, npm:${name}@1.2.3 (\`npm view ${name} version\` shows the newest)`;
    const fix = `write npm:${name}@1.2.3 (\`npm view ${name} version\` shows the newest)`;
    return `not pinned: "${p.slice(at + 1, at + 40)}" is a range or tag, not an exact version; ${fix}`;
  }
  if (p.startsWith('pypi:')) {
    const m = /^pypi:([^=<>!~\[ ]*)(.*)$/.exec(p);
    const name = m?.[1] ?? '';
    if (!new RegExp(`^${PYPI_NAME}$`).test(name)) return `"${name.slice(0, 80)}" is not a PyPI project name`;
    const rest = m?.[2] ?? '';
    if (rest === '') return `not pinned: write an exact version, pypi:${name}==1.2.3 (\`pip index versions ${name}\` shows them)`;
    const fix = `write pypi:${name}==1.2.3 (\`pip index versions ${name}\` shows them)`;
    return `not pinned: "${rest.slice(0, 40)}" is not ==<exact version>; ${fix}`;
  }
  return 'npm:<name>@<exact version> or pypi:<name>==<exact version>';
}

const envFileName = z.string().superRefine((p, ctx) => {
  const why = envFileNameProblem(p);
  if (why) ctx.addIssue({ code: 'custom', message: why });
});


/**
 * Hardening, on by default. Each field says when a user would relax it.
 */
export const SecuritySchema = z.strictObject({
  readOnlyRootFilesystem: z
    .boolean()
    .default(true)
    .describe('root filesystem read-only with a tmpfs /tmp; turn off for images that write outside /tmp and data:'),
  dropAllCapabilities: z
    .boolean()
    .default(true)
    .describe('cap-drop ALL; add back single capabilities with capAdd (e.g. NET_BIND_SERVICE for a port below 1024)'),
  capAdd: z
    .array(
      z.string().refine((c) => (KNOWN_CAPS as readonly string[]).includes(c), 'a Linux capability without CAP_, like NET_BIND_SERVICE'),
    )
    .default([])
    .describe(`add back capabilities; anything outside ${CAP_ALLOWLIST.join(', ')} needs reason:`),
  reason: z
    .string()
    .min(10)
    .max(500)
    .optional()
    .describe('why this server needs a capability outside the allowlist (required then)'),
  noNewPrivileges: z.boolean().default(true).describe('no-new-privileges; only images that need setuid binaries need false'),
  user: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]+(:[a-zA-Z0-9_.-]+)?$/, 'user or uid[:gid]')
    .optional()
    .describe("run as this user; default: the image's own USER"),
  memory: z
    .string()
    .regex(memoryRe, 'a size like 512m or 1g')
    .refine((m) => !memoryRe.test(m) || memoryBytes(m) >= MIN_MEMORY_BYTES, 'at least 6m (Docker\'s minimum; 0 would mean unlimited)')
    .default('512m')
    .describe('memory limit, at least 6m'),
  pids: z.number().int().min(16).max(65536).default(256).describe('process limit (fork bombs)'),
  cpus: z.number().min(MIN_CPUS, 'at least 0.01 (the smallest limit Docker expresses)').max(64).optional().describe('CPU limit, e.g. 0.5'),
  tmpfs: z
    .array(
      z
        .string()
        .regex(/^\/[^:,]*$/, 'an absolute path')
        .superRefine((p, ctx) => {
          const why = containerPathProblem(p);
          if (why) ctx.addIssue({ code: 'custom', message: why });
        }),
    )
    .default(['/tmp'])
    .describe('writable in-memory folders when the root filesystem is read-only'),
}).superRefine((sec, ctx) => {
  const unusual = sec.capAdd.filter((c) => !(CAP_ALLOWLIST as readonly string[]).includes(c));
  if (unusual.length > 0 && !sec.reason) {
    ctx.addIssue({
      code: 'custom',
      path: ['capAdd'],
      message: `${unusual.join(', ')} is outside ${CAP_ALLOWLIST.join(', ')}: write why in security.reason`,
    });
  }
});
export type Security = z.output<typeof SecuritySchema>;

/** MCP-level health probing (initialize + tools/list), per server. */
export const HealthSchema = z.strictObject({
  intervalSeconds: z.number().int().min(5).max(3600).default(30).describe('time between probes (jittered)'),
  timeoutSeconds: z.number().int().min(1).max(120).default(10).describe('one probe: initialize + tools/list'),
  gatewayIntervalSeconds: z
    .number()
    .int()
    .min(5)
    .max(86400)
    .default(600)
    .describe(
      'time between checks of its tools through LiteLLM (GatewayReady); at once after a change, a failure or a new LiteLLM or edge',
    ),
  failureThreshold: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(3)
    .describe('failed probes in a row before a running container counts as hung and is restarted'),
  restartOnHang: z.boolean().default(true).describe('restart a hung container (bounded, with backoff)'),
});
export type Health = z.output<typeof HealthSchema>;

/** The tool `mcp-reconciler check` calls on this server (src/check/): it must change nothing. */
export const CheckToolSchema = z.strictObject({
  tool: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_.:/-]+$/, "the server's own tool name (without LiteLLM's mcp_<name>- prefix)")
    .describe("the server's own tool name, as its tools/list shows it (without LiteLLM's prefix)"),
  arguments: z.record(z.string(), z.unknown()).optional().describe('its arguments (default none)'),
});
export type CheckTool = z.output<typeof CheckToolSchema>;

const toolGlob = z
  .string()
  .max(256)
  .superRefine((g, ctx) => {
    const why = globProblem(g);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  });
const toolName = z
  .string()
  .regex(TOOL_NAME_RE, 'a tool name: 1-128 letters, digits, _ . : / - (no wildcards)');

/**
 * Which tools LiteLLM sees and may call (docs/adr/0018): enforced by the edge on every tools/list
 * and tools/call, changed without restarting the server or LiteLLM. Names are the server's own.
 */
export const ToolsSchema = z
  .strictObject({
    allow: z
      .array(toolGlob)
      .refine((a) => a.length > 0, 'an empty allow would hide every tool; leave allow out to allow all')
      .optional()
      .describe("globs over the server's tool names (* any characters, ? one); only matching tools are exposed; default all"),
    deny: z.array(toolGlob).optional().describe('globs; a matching tool is hidden and a call to it refused, even when allow matches it'),
    rename: z
      .record(toolName, toolName)
      .optional()
      .describe("server's tool name -> the name LiteLLM shows (as mcp_<server>-<name>); calls to the new name reach the tool"),
    description: z
      .record(
        toolName,
        z
          .string()
          .min(1)
          .max(2000)
          .refine((d) => !d.includes('\0'), 'contains a NUL byte'),
      )
      .optional()
      .describe("server's tool name -> the description LiteLLM shows instead of the server's own"),
  })
  .superRefine((t, ctx) => {
    const policy = new CompiledPolicy(t);
    const seen = new Map<string, string>();
    for (const [from, to] of Object.entries(t.rename ?? {})) {
      if (from === to) ctx.addIssue({ code: 'custom', path: ['rename', from], message: 'renames a tool to its own name' });
      const other = seen.get(to);
      if (other !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['rename', from], message: `${other} is renamed to ${to} too (each new name once)` });
      }
      seen.set(to, from);
    }
    for (const field of ['rename', 'description'] as const) {
      for (const name of Object.keys(t[field] ?? {})) {
        if (!policy.permits(name)) {
          const by = new CompiledPolicy({ allow: t.allow }).permits(name) ? 'deny' : 'allow';
          ctx.addIssue({ code: 'custom', path: [field, name], message: `${name} is hidden by ${by}; a ${field} for it would never show` });
        }
      }
    }
  });
export type Tools = z.output<typeof ToolsSchema>;

/** One MCP server, one file `desired-state/mcp-<name>.yaml`. The single source of its types. */
export const ServerSpecSchema = z
  .strictObject({
    name: z
      .string()
      .regex(SERVER_NAME_RE, 'lowercase letters, digits and -, starting with a letter or digit')
      .max(SERVER_NAME_MAX)
      .optional()
      .describe('optional; must equal the file name without mcp- and .yaml'),
    description: z
      .string()
      .max(500)
      .refine((d) => !d.includes(OS_ENVIRON), 'must not contain os.environ/ (LiteLLM would replace it with a secret from its environment)')
      .refine((d) => !d.includes('\0'), 'contains a NUL byte')
      .optional()
      .describe('shown in LiteLLM'),
    image: z
      .string()
      .min(1)
      .max(512)
      .regex(/^[^\s\0]+$/, 'an image reference has no spaces')
      .superRefine((ref, ctx) => {
        const why = imageRefProblem(ref);
        if (why) ctx.addIssue({ code: 'custom', message: why });
      })
      .optional()
      .describe(
        'the unmodified upstream image, ideally pinned to a version tag or digest; required unless url:, build: or package: is given',
      ),
    build: z
      .union([
        buildDir,
        z.strictObject({
          context: buildDir.describe('the build context, relative to <projectsRoot>/<name>/'),
          dockerfile: z
            .string()
            .max(255)
            .superRefine((p, ctx) => {
              const why = relativePathProblem(p);
              if (why) ctx.addIssue({ code: 'custom', message: why });
            })
            .optional()
            .describe('the Dockerfile, relative to the context (default Dockerfile)'),
          args: z
            .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a build argument name'), z.string().max(1024))
            .optional()
            .describe('build arguments (ARG); not for secrets (they stay in the image history)'),
        }),
      ])
      .optional()
      .describe(
        "compose's build: a folder inside <projectsRoot>/<name>/ with a Dockerfile; built by the reconciler, tagged by " +
          'a hash of the context, rebuilt when it changes (docs/adr/0023)',
      ),
    package: z
      .string()
      .max(300)
      .superRefine((p, ctx) => {
        const why = packageSpecProblem(p);
        if (why) ctx.addIssue({ code: 'custom', message: why });
      })
      .optional()
      .describe(
        'npm:<name>@<exact version> or pypi:<name>==<exact version>: the reconciler writes the Dockerfile on a pinned base ' +
          "(settings packages.nodeBase / pythonBase) and runs the package's entry point (docs/adr/0023)",
      ),
    url: z
      .string()
      .max(2048)
      .superRefine((u, ctx) => {
        const why = remoteUrlProblem(u);
        if (why) ctx.addIssue({ code: 'custom', message: why });
      })
      .optional()
      .describe(
        'a remote or LAN MCP server (http(s)://host[:port]/path) that runs elsewhere: no container, only registered ' +
          'with LiteLLM and probed; a credential goes in the env file, named under auth: (docs/adr/0022)',
      ),
    transport: z.enum(TRANSPORTS).describe('what the server itself speaks'),
    command: z
      .array(z.string().refine((c) => !c.includes('\0'), 'contains a NUL byte'))
      .min(1)
      .optional()
      .describe("replaces the image's CMD"),
    port: z.number().int().min(1).max(65535).optional().describe('container port (http, sse)'),
    path: z
      .string()
      .max(200)
      .regex(/^\/[^\s]*$/, 'a URL path starting with /')
      .superRefine((p, ctx) => {
        const why = urlPathProblem(p) ?? (p.includes(OS_ENVIRON) ? 'must not contain os.environ/' : null);
        if (why) ctx.addIssue({ code: 'custom', message: why });
      })
      .optional()
      .describe('http default /mcp, sse default /sse'),
    env: z
      .record(envKey, z.union([z.string().refine((v) => !v.includes('\0'), 'contains a NUL byte'), z.number(), z.boolean()]))
      .optional()
      .describe('plain, non-secret values, kept as written (1.10 stays "1.10"); secrets go into the env file'),
    envFile: z
      .union([
        envFileName,
        z.strictObject({
          path: envFileName,
          shared: z.literal(true).describe("confirms this file may be another server's env file"),
        }),
      ])
      .optional()
      .describe(
        "secrets file inside <secretsDir>; default <secretsDir>/mcp-<name>.env if it exists. Another server's " +
          'mcp-<other>.env only as {path, shared: true}; the gateway\'s never. Never copied into labels, logs or plans',
      ),
    mounts: z
      .array(
        z
          .string()
          .regex(mountRe, 'expected "source:/container/path[:ro|rw]"')
          .refine((m) => {
            const src = mountRe.exec(m)?.groups?.['src'] ?? '';
            return !src.startsWith('/') && !src.split('/').includes('..') && !src.startsWith('~');
          }, 'the source must be relative to the server folder <projectsRoot>/<name>/ and stay inside it')
          .superRefine((m, ctx) => {
            const dst = mountRe.exec(m)?.groups?.['dst'];
            const why = dst === undefined ? null : containerPathProblem(dst);
            if (why) ctx.addIssue({ code: 'custom', message: `target: ${why}` });
          }),
      )
      .optional()
      .describe('sources relative to <projectsRoot>/<name>/, nothing outside it'),
    networks: z
      .array(
        z
          .string()
          .max(128)
          .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'a Docker network name')
          .refine(
            (n) => !(FORBIDDEN_NETWORKS as readonly string[]).includes(n.toLowerCase()),
            'host, none, bridge and default would bypass or replace the stack\'s network',
          ),
      )
      .optional()
      .describe("extra existing networks to join besides the server's own network"),
    egress: z
      .boolean()
      .optional()
      .describe("false: the server's own network is internal (no route out of the host); default true (docs/adr/0007)"),
    data: z
      .string()
      .regex(/^\/[^:,]*$/, 'an absolute path inside the container')
      .superRefine((p, ctx) => {
        const why = containerPathProblem(p);
        if (why) ctx.addIssue({ code: 'custom', message: why });
      })
      .optional()
      .describe('mount the named volume mcp-<name>-data here, writable (for servers that keep state)'),
    security: SecuritySchema.optional().describe('hardening; every default is on, each can be relaxed with a reason'),
    health: HealthSchema.optional().describe('MCP probe settings'),
    auth: z
      .strictObject({
        type: z
          .enum(['bearer_token', 'api_key', 'basic', 'authorization'])
          .describe('how LiteLLM sends it: Authorization: Bearer, X-API-Key, Authorization: Basic, or Authorization as is'),
        secret: envKey.describe("the variable in this server's env file that holds the credential"),
      })
      .optional()
      .describe('a credential LiteLLM must send to this server (config mode; the 1.77.3 API has no field for it)'),
    tools: ToolsSchema.optional().describe(
      'tool policy: allow/deny globs, rename, description; enforced by the edge (http, stdio), changed without a restart',
    ),
    check: CheckToolSchema.optional().describe(
      'the harmless tool `mcp-reconciler check` calls through LiteLLM; ' +
        'default: the first listed tool marked read-only (readOnlyHint) that needs no arguments',
    ),
  })
  .superRefine((s, ctx) => {
    // A url: server has no container fields; the checks below that are about other fields still apply.
    if (s.url !== undefined) remoteSpecIssues(s, ctx);
    else imageSourceIssues(s, ctx);
    if (s.url === undefined && (s.transport === 'http' || s.transport === 'sse') && s.port === undefined) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: `required for transport ${s.transport}` });
    }
    if (s.transport === 'stdio' && (s.port !== undefined || s.path !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [s.port !== undefined ? 'port' : 'path'],
        message: 'a stdio server has no port or path',
      });
    }
    if (s.transport === 'sse' && s.tools !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['tools'],
        message: 'an sse server is reached by LiteLLM directly, not through the edge that enforces tool policy (ADR 0003, 0018)',
      });
    }
    if (s.check !== undefined && s.tools !== undefined && new CompiledPolicy(s.tools).resolveCall(s.check.tool).ok === false) {
      const message = `${s.check.tool} is not exposed under tools: (check calls the name LiteLLM shows)`;
      ctx.addIssue({ code: 'custom', path: ['check', 'tool'], message });
    }
    if (s.transport === 'stdio' && s.auth !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth'],
        message: 'a stdio server takes no credential (the edge bridges it; nothing would send it)',
      });
    }
    // Two mounts on one target: Docker refuses the container, or one silently hides the other.
    const targets: { target: string; path: PropertyKey[] }[] = [];
    (s.mounts ?? []).forEach((m, i) => {
      const dst = mountRe.exec(m)?.groups?.['dst'];
      if (dst !== undefined) targets.push({ target: dst, path: ['mounts', i] });
    });
    if (s.data !== undefined) targets.push({ target: s.data, path: ['data'] });
    const sec = s.security;
    if (sec === undefined || sec.readOnlyRootFilesystem) {
      (sec?.tmpfs ?? ['/tmp']).forEach((t, i) => targets.push({ target: t, path: sec ? ['security', 'tmpfs', i] : ['data'] }));
    }
    const seen = new Set<string>();
    for (const t of targets) {
      if (seen.has(t.target))
        ctx.addIssue({ code: 'custom', path: t.path, message: `${t.target} is already a mount target (each target once)` });
      seen.add(t.target);
    }
    const tmpfs = sec === undefined ? ['/tmp'] : sec.readOnlyRootFilesystem ? sec.tmpfs : [];
    if (s.data !== undefined && tmpfs.some((t) => s.data!.startsWith(`${t}/`))) {
      ctx.addIssue({
        code: 'custom',
        path: ['data'],
        message: 'inside a tmpfs: the volume would be hidden or lost; pick a path outside it',
      });
    }
  });

export type ServerSpec = z.infer<typeof ServerSpecSchema>;

/** Fields that describe a container: meaningless for a `url:` server, which has none. */
export const CONTAINER_FIELDS = [
  'image', 'build', 'package', 'command', 'port', 'path', 'env', 'mounts', 'networks', 'egress', 'data', 'security',
] as const;

/** Exactly one of image:, build:, package: names what a container server runs (url: servers have none). */
function imageSourceIssues(s: { image?: unknown; build?: unknown; package?: unknown }, ctx: z.RefinementCtx): void {
  const given = (['image', 'build', 'package'] as const).filter((f) => s[f] !== undefined);
  if (given.length === 0) {
    const message = 'required (or build: for a Dockerfile folder, package: for an npm/PyPI package, url: for a server that runs elsewhere)';
    ctx.addIssue({ code: 'custom', path: ['image'], message });
  }
  for (const f of given.slice(1)) {
    ctx.addIssue({ code: 'custom', path: [f], message: `${given[0]}: and ${f}: both name what runs: keep one` });
  }
}

/** A `url:` server: no container fields, a transport LiteLLM can reach over HTTP. */
function remoteSpecIssues(s: Record<string, unknown> & { transport: Transport }, ctx: z.RefinementCtx): void {
  for (const f of CONTAINER_FIELDS) {
    if (s[f] !== undefined) {
      const message = `a url: server runs elsewhere and has no container: ${f} does not apply (drop it or drop url:)`;
      ctx.addIssue({ code: 'custom', path: [f], message });
    }
  }
  if (s.transport === 'stdio') {
    ctx.addIssue({ code: 'custom', path: ['transport'], message: 'a url: server speaks http (streamable HTTP) or sse, not stdio' });
  }
}

/** Query parameter names that carry a credential: such a URL would put a secret into config.yaml and logs. */
const SECRET_QUERY_RE = /(token|secret|passw|pwd|api[-_]?key|^key$|^auth|credential|signature|^sig$)/i;

/** Why a `url:` value cannot name a remote MCP server, or null. */
export function remoteUrlProblem(raw: string): string | null {
  if (/[\s\0]/.test(raw)) return 'a URL has no spaces or NUL bytes';
  if (raw.includes(OS_ENVIRON)) return 'must not contain os.environ/ (LiteLLM would replace it with a secret from its environment)';
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'not a URL: write http(s)://host[:port]/path';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `${u.protocol.replace(/:$/, '')}: is not http or https`;
  if (u.hostname === '') return 'the URL names no host';
  if (u.username !== '' || u.password !== '') {
    return 'credentials inline (user:password@): put the secret in the env file and name it under auth:';
  }
  for (const k of u.searchParams.keys()) {
    if (SECRET_QUERY_RE.test(k)) return `credentials inline (query parameter ${k}): put the secret in the env file and name it under auth:`;
  }
  if (u.hash !== '') return 'no #fragment (it is never sent to the server)';
  return null;
}

/** Keys an object accepts at a path of the spec, for "did you mean". */
export function knownSpecKeys(path: PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(ServerSpecSchema.shape);
  if (path.length === 1 && path[0] === 'security') return Object.keys(SecuritySchema.shape);
  if (path.length === 1 && path[0] === 'health') return Object.keys(HealthSchema.shape);
  if (path.length === 1 && path[0] === 'auth') return ['type', 'secret'];
  if (path.length === 1 && path[0] === 'envFile') return ['path', 'shared'];
  if (path.length === 1 && path[0] === 'check') return Object.keys(CheckToolSchema.shape);
  if (path.length === 1 && path[0] === 'build') return ['context', 'dockerfile', 'args'];
  if (path.length === 1 && path[0] === 'tools') return Object.keys(ToolsSchema.shape);
  return [];
}

/** Parse a memory size (`512m`, `1g`, `1048576`) into bytes. */
export function memoryBytes(v: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(v);
  if (!m) throw new Error(`not a size: ${v}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

/** The published JSON Schema (schema/desired-state.schema.json) is generated from the zod schema. */
export function desiredStateJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ServerSpecSchema, { target: 'draft-2020-12', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    $id: 'https://github.com/mcp-reconciler/mcp-reconciler/schema/desired-state.schema.json',
    title: 'mcp-reconciler desired state (one MCP server)',
    ...schema,
  };
}
