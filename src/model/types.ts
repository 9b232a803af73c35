/**
 * Shared domain types: the bottom layer. Imported by desired/, reconcile/, docker/, ports/ and the
 * rest; imports nothing of ours.
 */

/** A server's tool policy (desired `tools:`), as the edge's policy file carries it. */
export interface ToolPolicy {
  allow?: string[] | undefined;
  deny?: string[] | undefined;
  rename?: Record<string, string> | undefined;
  description?: Record<string, string> | undefined;
}

/** What an MCP server itself speaks. */
export const TRANSPORTS = ['http', 'sse', 'stdio'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** What a container should be. Plain data: no secret values (env files are paths). */
export interface ContainerSpec {
  name: string;
  /** Image actually run (after imageOverrides). */
  image: string;
  /** Image named in the desired file / settings. */
  upstreamImage: string;
  entrypoint?: string[];
  cmd?: string[];
  /** Plain environment values. */
  env: Record<string, string>;
  /** Secret env files, read by the adapter at create time only. */
  envFiles: string[];
  /** Single secrets taken from other env files (KEY there -> `as` here), read at create time only. */
  envFromFiles?: { file: string; key: string; as: string }[];
  /** HMAC over the env files' contents, so a secret change recreates the container. */
  secretDigest: string | null;
  /** host:container[:ro|rw] */
  binds: string[];
  exposedPort?: number;
  /** Publish exposedPort on hostIp; hostPort null picks a free port. */
  publish?: { hostIp: string; hostPort: number | null };
  networks: { name: string; aliases: string[] }[];
  labels: Record<string, string>;
  init: boolean;
  restart: 'unless-stopped' | 'no';
  /** stdio servers: stdin kept open (OpenStdin, StdinOnce false, no TTY) for the bridge to attach. */
  stdin?: boolean;
  /** Extra groups (the edge: the Docker socket's group, to attach to stdio servers). */
  groupAdd?: string[];
  /** Named volumes (e.g. mcp-<name>-data), created and labelled before the container. */
  volumes: { name: string; target: string }[];
  hardening: Hardening;
  /** Replaces the image's HEALTHCHECK (the edge runs the reconciler's image, whose check probes the daemon). */
  healthcheck?: { test: string[]; intervalS: number; timeoutS: number; startPeriodS: number; retries: number };
}

/**
 * An image the reconciler builds itself (desired `build:` or `package:`, ADR 0023). Plain data:
 * where the context is and how it hashes; the executor reads the files again when it builds.
 */
export interface BuildSpec {
  /** The image to produce: `mcp-reconciler-build/<instance>/<name>:<context hash>`. */
  tag: string;
  kind: 'dir' | 'npm' | 'pypi';
  /** What the desired file says (`build: ./app`, `npm:x@1.2.3`), for messages. */
  source: string;
  /** dir: the server folder (root of confinement) and the resolved context folder; null for packages. */
  root: string | null;
  contextDir: string | null;
  /** The Dockerfile's path inside the context. */
  dockerfile: string;
  /** packages: the generated Dockerfile (the whole context); null for dir builds. */
  dockerfileText: string | null;
  /** Build arguments (the desired ones, plus NODE_BASE / PYTHON_BASE from settings). */
  args: Record<string, string>;
  /** FROM images, checked before building (a missing one is pulled only when images.pull allows). */
  baseImages: string[];
  /** sha256 of the context (entries and contents), the arguments and the Dockerfile. */
  contextHash: string;
  /** Ownership labels of the image (prune never removes an image without them). */
  labels: Record<string, string>;
  /** compose's build.extra_hosts (settings build.extraHosts). */
  extraHosts: string[];
  /** The cap the context was read with (settings build.maxContextBytes). */
  maxContextBytes: number;
}

/** Docker HostConfig hardening, on by default for MCP servers (desired `security:` block). */
export interface Hardening {
  readOnlyRootFilesystem: boolean;
  capDrop: string[];
  capAdd: string[];
  noNewPrivileges: boolean;
  /** Empty: the image's own USER. */
  user: string | null;
  memoryBytes: number | null;
  pids: number | null;
  nanoCpus: number | null;
  tmpfs: string[];
  /** json-file log rotation. */
  logMaxSize: string;
  logMaxFiles: number;
}

/** `edge-docker`: the edge's filtering Docker proxy (ADR 0007). */
export type ContainerRole = 'server' | 'gateway' | 'edge' | 'edge-docker' | 'front';

/** A LiteLLM container of the blue/green handover (ADR 0025). */
export type GatewayColour = 'blue' | 'green';

/** A container Docker reports, with our labels already parsed. */
export interface ObservedContainer {
  id: string;
  name: string;
  image: string;
  state: string;
  running: boolean;
  /** Carries our owner label for this instance. Anything else is never touched. */
  owned: boolean;
  role: ContainerRole | null;
  server: string | null;
  specHash: string | null;
  /** The canonical spec the container was created from (label), to name what drifted. */
  specSummary: Record<string, unknown> | null;
  source: string | null;
  /** container port -> published host port */
  hostPorts: Record<number, number>;
  /** Image ID the container runs (sha256:...). */
  imageId: string;
  /** Creation time, seconds since the epoch. */
  created?: number;
  /** Names of the networks the container is attached to (absent: not observed). */
  networks?: string[];
}

/** A Docker network that is ours or named like a server network of ours. */
export interface ObservedNetwork {
  name: string;
  owned: boolean;
  internal: boolean;
  /** The server whose network it is (label), null for the gateway network. */
  server: string | null;
}

export interface ObservedVolume {
  name: string;
  owned: boolean;
}

export interface Observed {
  networkExists: boolean;
  /** Networks that are ours or carry a server network's name (absent: not observed; nothing is removed). */
  networks?: ObservedNetwork[];
  /** Volumes that are ours or carry our name prefix. */
  volumes: ObservedVolume[];
  /** Our owned containers plus any container whose name has our prefix (to detect conflicts). */
  containers: ObservedContainer[];
  /** Current LiteLLM config.yaml text, null when the file does not exist. */
  gatewayConfigText: string | null;
  /** The gateway guard file beside config.yaml (ADR 0019); null or absent: missing. */
  gatewayGuardText?: string | null;
  /** config.yaml's mtime (ms) and the unmanaged gateway container (gateway.restartContainer). */
  gatewayConfigMtime?: number | null;
  restartTarget?: { id: string; startedAt: number; running: boolean } | null;
  /** The edge's tool policy file (ADR 0021); null when missing, absent when not read. */
  toolPolicyText?: string | null;
  /** The front's active file (ADR 0025); null when missing, absent when not read (no blue/green). */
  frontActiveText?: string | null;
  /** Rows of LiteLLM's GET /v1/mcp/server when its database is there; null when not read. */
  apiServers?: ApiServerRow[] | null;
  /** Local image id (`sha256:...`) of each wanted image reference; null when not present locally. */
  imageIds?: Record<string, string | null>;
  /** Images this instance built (build:, package:; ADR 0023), by their labels. Absent: not observed (none removed). */
  builtImages?: ObservedImage[];
}

/** An image the reconciler built (owner labels and a build-context label). */
export interface ObservedImage {
  id: string;
  tags: string[];
  server: string;
}

/** What the planner reads of a LiteLLM API row. */
export interface ApiServerRow {
  server_id: string;
  server_name?: string | null | undefined;
  description?: string | null | undefined;
  url?: string | null | undefined;
  transport?: string | null | undefined;
}

/**
 * A LiteLLM virtual key as `/key/list?return_full_object=true` shows it (LiteLLM_VerificationToken +
 * its object permission). `token` is the sha256 of the key, never the key itself.
 */
export interface VirtualKeyRow {
  token: string;
  key_alias: string | null;
  /** LiteLLM's abbreviation, `sk-...abcd`. */
  key_name: string | null;
  /** ISO time; null = never expires. */
  expires: string | null;
  max_budget: number | null;
  spend: number;
  created_at: string | null;
  blocked: boolean | null;
  /** object_permission.mcp_servers: server ids; empty = no MCP restriction (LiteLLM then allows every server). */
  mcpServers: string[];
  /** allowed_routes: routes or LiteLLMRoutes names (`mcp_routes`); empty = every route a key may call (no restriction). */
  allowedRoutes: string[];
}

/** Body of POST /key/generate that mcp-reconciler sends (GenerateKeyRequest in 1.77.3, the fields we use). */
export interface NewVirtualKey {
  key_alias: string;
  object_permission: { mcp_servers: string[] };
  /** LiteLLM's route allowlist, checked for every request the key authenticates (route_checks.py); see ADR 0019. */
  allowed_routes: string[];
  max_budget?: number;
  /** LiteLLM's calendar-aligned duration ("30d" = the 1st of next month); corrected by /key/update afterwards. */
  duration?: string;
  metadata: Record<string, unknown>;
}

/** Suffix of the container that replaces an old one during a recreate. Server names have no dots. */
export const NEXT_SUFFIX = '.next';

/** A desired server after defaults and path resolution: everything the planner needs. */
export interface ServerModel {
  name: string;
  /** Path for messages. */
  file: string;
  /** Stable source id written into labels and the config marker. */
  source: string;
  transport: Transport;
  /** Path of the MCP endpoint inside the container (http, sse); null for stdio. */
  mcpPath: string | null;
  /** The container to run; null for a `url:` server, which runs elsewhere (ADR 0022). */
  container: ContainerSpec | null;
  /** A `url:` server: where it runs. LiteLLM reaches an http one through the edge, an sse one directly. */
  remote: { url: string; /** `<prefix><name>`: its edge route and failure-memory object. */ object: string } | null;
  specHash: string;
  /** LiteLLM `mcp_servers` entry (without ownership marker), or null when not yet supported. */
  gatewayName: string;
  gatewayEntry: Record<string, unknown> | null;
  /** Why the server cannot run yet (e.g. stdio before the bridge exists). */
  blocked: string | null;
  /** Credential LiteLLM sends upstream (desired `auth:`): where to read it, never the value. */
  auth: { type: 'bearer_token' | 'api_key' | 'basic' | 'authorization'; file: string; key: string; gatewayVar: string } | null;
  /**
   * The server's own network (ADR 0007): shared only with the edge (http) or the gateway (sse);
   * internal (no route out) when the desired file says `egress: false`.
   */
  network: { name: string; internal: boolean } | null;
  /**
   * Tool policy (desired `tools:`; docs/adr/0018): written to the edge's policy file, applied by the
   * edge. Not part of the container spec hash or the gateway entry: changing it restarts nothing.
   */
  toolPolicy?: ToolPolicy | null;
  /** The image is built by the reconciler from a folder or a package (ADR 0023); absent or null: image: runs as named. */
  build?: BuildSpec | null;
  /** Probe settings (desired `health:` with defaults). Not part of the container spec hash. */
  /**
   * Probes: direct every intervalMs; through LiteLLM (GatewayReady) every gatewayIntervalMs, which is
   * never shorter than intervalMs (ADR 0017: LiteLLM's listing costs ~40 ms CPU per server).
   */
  health: { intervalMs: number; gatewayIntervalMs: number; timeoutMs: number; failureThreshold: number; restartOnHang: boolean };
}

export const OperationType = {
  CreateNetwork: 'create-network',
  ConnectNetwork: 'connect-network',
  DisconnectNetwork: 'disconnect-network',
  RemoveNetwork: 'remove-network',
  CreateVolume: 'create-volume',
  CreateContainer: 'create-container',
  RecreateContainer: 'recreate-container',
  StartContainer: 'start-container',
  RemoveContainer: 'remove-container',
  WriteGatewayConfig: 'write-gateway-config',
  /** The gateway guard beside config.yaml (ADR 0019). */
  WriteGatewayGuard: 'write-gateway-guard',
  WriteToolPolicy: 'write-tool-policy',
  /** Build a server's image from its folder or package (ADR 0023), before its container is (re)created. */
  BuildImage: 'build-image',
  /** Remove an image this instance built that nothing wants any more. */
  RemoveImage: 'remove-image',
  ApiCreate: 'api-create',
  ApiDelete: 'api-delete',
  /** Blue/green (ADR 0025): the standby colour lists the expected tools. */
  AwaitGateway: 'await-gateway',
  /** Blue/green: the front's active file names the new colour. */
  SwitchGateway: 'switch-gateway',
  /** Blue/green: the old colour's calls finish (bounded), then it is removed. */
  RetireGateway: 'retire-gateway',
  /** Reported only: a name clash with something we do not own. */
  Conflict: 'conflict',
  /** Reported only: the server cannot be run as desired. */
  Blocked: 'blocked',
  /** Reported only: deletions held back by the mass-deletion guard. */
  PruneHeld: 'prune-held',
  /** Reported only: a change of this object failed and waits for its backoff (ADR 0005). */
  BackoffHeld: 'backoff-held',
} as const;
export type OperationType = (typeof OperationType)[keyof typeof OperationType];

interface OpBase {
  /** `container:mcp-everything`, `network:mcp-net`, `file:/path/config.yaml` */
  resourceId: string;
  cause: string;
  server?: string;
  /** Blue/green (ADR 0025): the gateway colour this operation is about. */
  colour?: GatewayColour;
  /** When this operation fails, the rest of its executor lane is not tried (the handover stops; the old colour serves). */
  halt?: boolean;
}

export type Operation =
  | (OpBase & { type: 'create-network'; network: string; labels: Record<string, string>; internal?: boolean })
  | (OpBase & { type: 'connect-network'; network: string; container: string; aliases: string[]; role: ContainerRole })
  | (OpBase & { type: 'disconnect-network'; network: string; container: string; role: ContainerRole })
  | (OpBase & { type: 'remove-network'; network: string })
  | (OpBase & { type: 'create-volume'; volume: string; labels: Record<string, string> })
  | (OpBase & { type: 'create-container'; spec: ContainerSpec; role: ContainerRole })
  | (OpBase & { type: 'recreate-container'; spec: ContainerSpec; role: ContainerRole; containerId: string })
  | (OpBase & { type: 'start-container'; containerId: string; role: ContainerRole })
  | (OpBase & { type: 'remove-container'; containerId: string; role: ContainerRole })
  | (OpBase & { type: 'write-gateway-config'; path: string; text: string })
  | (OpBase & { type: 'write-gateway-guard'; path: string; text: string })
  | (OpBase & { type: 'write-tool-policy'; path: string; text: string })
  | (OpBase & { type: 'build-image'; build: BuildSpec; container: string; specHash: string })
  | (OpBase & { type: 'remove-image'; imageId: string })
  | (OpBase & { type: 'api-create'; serverId: string; body: Record<string, unknown> })
  | (OpBase & { type: 'api-delete'; serverId: string })
  | (OpBase & { type: 'restart-gateway'; containerId: string })
  | (OpBase & { type: 'await-gateway'; colour: GatewayColour; expect: string[]; specHash: string })
  | (OpBase & { type: 'switch-gateway'; colour: GatewayColour; path: string; text: string })
  | (OpBase & { type: 'retire-gateway'; containerId: string; role: ContainerRole; drainTo: GatewayColour | null })
  | (OpBase & { type: 'conflict' })
  | (OpBase & { type: 'blocked' })
  | (OpBase & { type: 'prune-held' })
  | (OpBase & { type: 'backoff-held'; failures: number; until: number });

/**
 * A change that failed and is held back until `until` (ms since the epoch), from the reconciler's
 * failure memory. Held only while the desired hash is still `specHash`: a new edit retries at once.
 */
export interface HeldChange {
  /** `container:<name>`: the object whose change failed (a server's, the edge's or the gateway's container). */
  object: string;
  /** Spec hash the failed change was going to apply. */
  specHash: string;
  until: number;
  failures: number;
  /** The last failure, one line (e.g. `exited 1: <last log line>`). */
  reason: string;
  /** `40 s`, rendered by the caller (the planner has no clock). */
  nextTryIn: string;
}

export interface Plan {
  operations: Operation[];
}

/** A change that failed, as status reports it (ADR 0005). */
export interface ChangeFailure {
  /** `container:<name>` */
  object: string;
  /** What failed: `recreate-container`, `create-container` or `start-container`. */
  change: string;
  failures: number;
  /** The last failure, one line. */
  reason: string;
  /** Next try, ms since the epoch. */
  nextTryAt: number;
}

/** Operations that only report (nothing is changed). */
export function isReportOnly(o: Operation): boolean {
  return o.type === 'conflict' || o.type === 'blocked' || o.type === 'prune-held' || o.type === 'backoff-held';
}

/** Operations that change something (reported ones excluded). */
export function writeOps(plan: Plan): Operation[] {
  return plan.operations.filter((o) => !isReportOnly(o));
}
