/**
 * What both formats emit besides the servers: LiteLLM's config as a ConfigMap (with the Helm chart
 * values that use it), the Secret templates of the env files (keys, no values) and of the upstream
 * credentials LiteLLM sends.
 */
import { stringify } from 'yaml';
import type { ExportFile, ExportOptions, ExportResult, ExportServer, Manifest } from './model.js';
import { authSecretName, authVar, envSecretName, meta, refusal, shellWord, LABEL_ROLE } from './pod.js';
import type { Refusal } from './model.js';
import { GUARD_CALLBACK, GUARD_FILE, GUARD_PY } from '../litellm/guard.js';

/** The ConfigMap LiteLLM's chart is pointed at (values `proxyConfigMap`). */
export function litellmConfigMapName(o: ExportOptions): string {
  return `${o.prefix}litellm-config`;
}

/** The env var LiteLLM's Helm chart fills from its master key Secret (templates/deployment.yaml). */
export const HELM_MASTER_KEY_VAR = 'PROXY_MASTER_KEY';

/** Where LiteLLM's Helm chart mounts config.yaml (templates/deployment.yaml: `--config /etc/litellm/config.yaml`). */
export const HELM_CONFIG_DIR = '/etc/litellm';

/**
 * LiteLLM's config.yaml as a ConfigMap: the master key from the chart's env var, our mcp_servers and the
 * gateway guard (ADR 0019: GUARD_FILE, which LiteLLM loads from config.yaml's folder, listed under
 * litellm_settings.callbacks). A model_list of the user's goes in beside it.
 */
export function litellmFile(o: ExportOptions, entries: [string, Record<string, unknown>][], withAuth: boolean): ExportFile {
  const config = {
    general_settings: { master_key: `os.environ/${HELM_MASTER_KEY_VAR}` },
    litellm_settings: { callbacks: [GUARD_CALLBACK] },
    mcp_servers: Object.fromEntries([...entries].sort(([a], [b]) => a.localeCompare(b))),
  };
  const name = litellmConfigMapName(o);
  const cm: Manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(o, name, { [LABEL_ROLE]: 'gateway' }),
    data: { 'config.yaml': stringify(config, { lineWidth: 0, aliasDuplicateObjects: false }), [GUARD_FILE]: GUARD_PY },
  };
  return {
    path: 'litellm.yaml',
    apply: true,
    comment: [
      `LiteLLM's config.yaml with the MCP servers (mcp_servers) for the official Helm chart (deploy/charts/litellm-helm).`,
      'Add your model_list to config.yaml here, then install the chart with these values:',
      `  proxyConfigMap: {create: false, name: ${name}, key: config.yaml}`,
      ...(withAuth ? [`  environmentSecrets: [${authSecretName(o)}]`] : []),
      `  masterkeySecretName: <your Secret>   # the chart gives its key to LiteLLM as ${HELM_MASTER_KEY_VAR}`,
      `  volumes: [{name: mcp-reconciler-guard, configMap: {name: ${name}, items: [{key: ${GUARD_FILE}, path: ${GUARD_FILE}}]}}]`,
      `  volumeMounts: [{name: mcp-reconciler-guard, mountPath: ${HELM_CONFIG_DIR}/${GUARD_FILE}, subPath: ${GUARD_FILE}, readOnly: true}]`,
      `The guard (ADR 0019) must sit beside config.yaml: LiteLLM loads ${GUARD_CALLBACK} from config.yaml's folder;`,
      'without it LiteLLM stops at start (ImportError: the callback cannot be loaded). It keeps a client key to its servers.',
      'Or keep the chart\'s own ConfigMap: copy mcp_servers and litellm_settings.callbacks under proxy_config: in its values,',
      `and mount ${GUARD_FILE} from this ConfigMap as above.`,
      `Run the chart in namespace ${o.namespace}, or anywhere with its pods labelled app.kubernetes.io/name: litellm:`,
      'the NetworkPolicies admit only those.',
    ],
    documents: [cm],
  };
}

/** Secret templates: one per env file (keys, empty values) and one for LiteLLM's upstream credentials. */
export function secretFiles(
  o: ExportOptions,
  servers: readonly ExportServer[],
): { files: ExportFile[]; notes: string[]; commands: string[] } {
  const files: ExportFile[] = [];
  const notes: string[] = [];
  const commands: string[] = [];
  const byName = new Map<string, { path: string; keys: Set<string> }>();
  for (const s of servers) {
    const f = s.host.envFile;
    if (!f) continue;
    const name = envSecretName(f.path);
    const seen = byName.get(name);
    if (!seen) for (const p of f.kubectlProblems ?? []) notes.push(`${f.path}: ${p}; fix the line before creating the Secret ${name}`);
    const entry = seen ?? { path: f.path, keys: new Set<string>() };
    for (const k of f.keys) entry.keys.add(k);
    byName.set(name, entry);
  }
  for (const [name, { path, keys }] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    const comment = [`Keys of ${path}; the values stay in that file. Create the Secret from it:`, createFromEnvFile(o, name, path)];
    files.push(secretTemplate(o, name, [...keys], comment));
    commands.push(createFromEnvFile(o, name, path));
  }
  const auth = servers.filter((s) => s.desired.spec.auth);
  if (auth.length > 0) {
    const name = authSecretName(o);
    const keys = auth.map((s) => authVar(s.desired.name));
    const from = auth.map((s) => {
      const file = s.host.envFile?.path ?? `${s.desired.name}'s env file`;
      return `${authVar(s.desired.name)} = ${s.desired.spec.auth!.secret} of ${file}`;
    });
    files.push(secretTemplate(o, name, keys, ['Credentials LiteLLM sends upstream (desired auth:), one key per server:', ...from]));
    notes.push(`${name}: fill the template secrets/${name}.yaml (${from.join('; ')}); the chart gives it to LiteLLM (environmentSecrets)`);
  }
  return { files, notes, commands };
}

/** kubectl reads the file itself: the values never pass through argv or this program. */
function createFromEnvFile(o: ExportOptions, name: string, path: string): string {
  return `kubectl -n ${o.namespace} create secret generic ${name} ${shellWord(`--from-env-file=${path}`)}`;
}

function secretTemplate(o: ExportOptions, name: string, keys: string[], comment: string[]): ExportFile {
  const secret: Manifest = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(o, name),
    type: 'Opaque',
    stringData: Object.fromEntries(keys.map((k) => [k, ''])),
  };
  return {
    path: `secrets/${name}.yaml`,
    apply: false,
    comment: ['A template: the keys without their values. Applying it as it is would set every value empty.', ...comment],
    documents: [secret],
  };
}

/**
 * Two env files whose Secret names come out the same (`a_b.env`, `a-b.env`) would share one Secret:
 * the second server is refused at its envFile.
 */
export function secretNameClashes(servers: readonly ExportServer[]): Map<ExportServer, Refusal> {
  const first = new Map<string, string>();
  const out = new Map<ExportServer, Refusal>();
  for (const s of servers) {
    const f = s.host.envFile;
    if (!f) continue;
    const name = envSecretName(f.path);
    const had = first.get(name);
    if (had === undefined) first.set(name, f.path);
    else if (had !== f.path) {
      const field = typeof s.desired.spec.envFile === 'object' ? 'envFile.path' : 'envFile';
      out.set(s, refusal(s.desired, field, `${f.path} and ${had} would both be the Secret ${name}; rename one of the files`));
    }
  }
  return out;
}

/** What one server adds to an export: its file, the notes on it and the commands it needs first. */
export interface ServerOutput {
  file: ExportFile;
  notes: string[];
  commands: string[];
}

/** What makes a format: what it refuses, a server's file, LiteLLM's entry for a server, the edge in front of http servers. */
export interface Format {
  refusals: (s: ExportServer) => Refusal[];
  serverFile: (s: ExportServer, o: ExportOptions) => ServerOutput;
  entry: (s: ExportServer) => [string, Record<string, unknown>];
  /** The edge, when the exported servers need one (null: none). */
  edge: (ok: readonly ExportServer[]) => ExportFile | null;
}

/**
 * An export in a format: every server it can express (the others refused, and so are env files that
 * would share a Secret name), the edge when an http server needs it, LiteLLM's ConfigMap, Secret templates.
 */
export function exportWith(servers: readonly ExportServer[], o: ExportOptions, format: Format): ExportResult {
  const refusals: Refusal[] = [];
  const ok: ExportServer[] = [];
  const clashes = secretNameClashes(servers);
  for (const s of servers) {
    const r = [...format.refusals(s), ...(clashes.has(s) ? [clashes.get(s)!] : [])];
    if (r.length) refusals.push(...r);
    else ok.push(s);
  }
  const outputs = ok.map((s) => format.serverFile(s, o));
  const files = outputs.map((x) => x.file);
  const edge = format.edge(ok);
  if (edge) files.push(edge);
  files.push(litellmFile(o, ok.map(format.entry), ok.some((s) => s.desired.spec.auth)));
  const secrets = secretFiles(o, ok);
  return {
    files: [...files, ...secrets.files],
    refusals,
    notes: [...outputs.flatMap((x) => x.notes), ...secrets.notes],
    commands: [...secrets.commands, ...outputs.flatMap((x) => x.commands)],
  };
}
