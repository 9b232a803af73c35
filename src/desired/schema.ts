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
export { TRANSPORTS, type Transport };

/** LiteLLM 1.77.3 rejects `-` in server names (the tool-prefix separator): mcp-foo-bar -> mcp_foo_bar. */
export function gatewayServerName(name: string): string {
  return `mcp_${name.replace(/-/g, '_')}`;
}

const envKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _');
const mountRe = /^(?<src>[^:]+):(?<dst>\/[^:]*)(?::(?<mode>ro|rw))?$/;

const memoryRe = /^\d+(\.\d+)?[kmg]?$/i;

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
  capAdd: z.array(z.string().regex(/^[A-Z_]+$/, 'a capability name like NET_BIND_SERVICE')).default([]),
  noNewPrivileges: z.boolean().default(true).describe('no-new-privileges; only images that need setuid binaries need false'),
  user: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]+(:[a-zA-Z0-9_.-]+)?$/, 'user or uid[:gid]')
    .optional()
    .describe("run as this user; default: the image's own USER"),
  memory: z.string().regex(memoryRe, 'a size like 512m or 1g').default('512m').describe('memory limit'),
  pids: z.number().int().min(16).max(65536).default(256).describe('process limit (fork bombs)'),
  cpus: z.number().positive().max(64).optional().describe('CPU limit, e.g. 0.5'),
  tmpfs: z
    .array(z.string().regex(/^\/[^:]*$/, 'an absolute path'))
    .default(['/tmp'])
    .describe('writable in-memory folders when the root filesystem is read-only'),
});
export type Security = z.output<typeof SecuritySchema>;

/** MCP-level health probing (initialize + tools/list), per server. */
export const HealthSchema = z.strictObject({
  intervalSeconds: z.number().int().min(5).max(3600).default(30).describe('time between probes (jittered)'),
  timeoutSeconds: z.number().int().min(1).max(120).default(10).describe('one probe: initialize + tools/list'),
  failureThreshold: z.number().int().min(1).max(100).default(3).describe('failed probes in a row before a running container counts as hung and is restarted'),
  restartOnHang: z.boolean().default(true).describe('restart a hung container (bounded, with backoff)'),
});
export type Health = z.output<typeof HealthSchema>;

/** One MCP server, one file `desired-state/mcp-<name>.yaml`. The single source of its types. */
export const ServerSpecSchema = z
  .strictObject({
    name: z
      .string()
      .regex(SERVER_NAME_RE, 'lowercase letters, digits and -, starting with a letter or digit')
      .max(SERVER_NAME_MAX)
      .optional()
      .describe('optional; must equal the file name without mcp- and .yaml'),
    description: z.string().max(500).optional().describe('shown in LiteLLM'),
    image: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^\s]+$/, 'an image reference has no spaces')
      .describe('the unmodified upstream image, ideally pinned to a version tag or digest'),
    transport: z.enum(TRANSPORTS).describe('what the server itself speaks'),
    command: z.array(z.string()).min(1).optional().describe("replaces the image's CMD"),
    port: z.number().int().min(1).max(65535).optional().describe('container port (http, sse)'),
    path: z
      .string()
      .regex(/^\/[^\s]*$/, 'a URL path starting with /')
      .optional()
      .describe('http default /mcp, sse default /sse'),
    env: z
      .record(envKey, z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe('plain, non-secret values; secrets go into the env file'),
    envFile: z
      .string()
      .min(1)
      .optional()
      .describe('secrets file; default <secretsDir>/mcp-<name>.env if it exists; never copied into labels, logs or plans'),
    mounts: z
      .array(
        z
          .string()
          .regex(mountRe, 'expected "source:/container/path[:ro|rw]"')
          .refine((m) => {
            const src = mountRe.exec(m)?.groups?.['src'] ?? '';
            return !src.startsWith('/') && !src.split('/').includes('..') && !src.startsWith('~');
          }, 'the source must be relative to the server folder <projectsRoot>/<name>/ and stay inside it'),
      )
      .optional()
      .describe('sources relative to <projectsRoot>/<name>/, nothing outside it'),
    networks: z
      .array(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'a Docker network name'))
      .optional()
      .describe('extra existing networks to join besides mcp-net'),
    data: z
      .string()
      .regex(/^\/[^:]*$/, 'an absolute path inside the container')
      .optional()
      .describe('mount the named volume mcp-<name>-data here, writable (for servers that keep state)'),
    security: SecuritySchema.optional().describe('hardening; every default is on, each can be relaxed with a reason'),
    health: HealthSchema.optional().describe('MCP probe settings'),
    auth: z
      .strictObject({
        type: z.enum(['bearer_token', 'api_key', 'basic', 'authorization']).describe('how LiteLLM sends it: Authorization: Bearer, X-API-Key, Authorization: Basic, or Authorization as is'),
        secret: envKey.describe("the variable in this server's env file that holds the credential"),
      })
      .optional()
      .describe('a credential LiteLLM must send to this server (config mode; the 1.77.3 API has no field for it)'),
  })
  .superRefine((s, ctx) => {
    if ((s.transport === 'http' || s.transport === 'sse') && s.port === undefined) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: `required for transport ${s.transport}` });
    }
    if (s.transport === 'stdio' && (s.port !== undefined || s.path !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [s.port !== undefined ? 'port' : 'path'],
        message: 'a stdio server has no port or path',
      });
    }
  });

export type ServerSpec = z.infer<typeof ServerSpecSchema>;

/** Keys an object accepts at a path of the spec, for "did you mean". */
export function knownSpecKeys(path: PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(ServerSpecSchema.shape);
  if (path.length === 1 && path[0] === 'security') return Object.keys(SecuritySchema.shape);
  if (path.length === 1 && path[0] === 'health') return Object.keys(HealthSchema.shape);
  if (path.length === 1 && path[0] === 'auth') return ['type', 'secret'];
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
