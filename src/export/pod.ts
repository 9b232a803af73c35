/**
 * The parts of a pod both formats share: a server's container (image, args, env, hardening, limits,
 * volumes), names, labels, Secret and ConfigMap names, and the refusals of what Kubernetes cannot say.
 */
import { basename } from 'node:path';
import { SecuritySchema, gatewayServerName, memoryBytes, mountRe, type Security, type ServerSpec } from '../desired/schema.js';
import type { DesiredServer } from '../desired/load.js';
import type { ExportOptions, ExportServer, Manifest, Refusal } from './model.js';

/** Label keys of everything the export writes (the Docker labels' prefix, as a Kubernetes label prefix). */
export const LABEL_SERVER = 'io.mcp-reconciler/server';
export const LABEL_ROLE = 'io.mcp-reconciler/role';
export const PART_OF = { 'app.kubernetes.io/part-of': 'mcp-reconciler' } as const;
/** How LiteLLM's official Helm chart labels its pods (templates/_helpers.tpl selectorLabels, nameOverride "litellm"). */
export const LITELLM_POD_LABELS = { 'app.kubernetes.io/name': 'litellm' } as const;
/** Size of the PersistentVolumeClaim that replaces a `data:` volume (Docker volumes have no size). */
export const DATA_VOLUME_SIZE = '1Gi';

/** A word for a shell command line: as is when plain, else single-quoted. */
export function shellWord(w: string): string {
  return /^[A-Za-z0-9_./~=:@%+,-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

export function refusal(d: DesiredServer, field: string, message: string): Refusal {
  const pos = d.positions[field] ?? { line: 1, col: 1 };
  return { file: d.file, ...pos, path: field, message, severity: 'error' };
}

/** A Kubernetes object name from a file name: lowercase letters, digits and -, at most 63 characters. */
export function dnsLabel(text: string): string {
  const s = text.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return s.slice(0, 63).replace(/-$/, '') || 'x';
}

/** The Secret an env file becomes: one per file, so a shared env file is one Secret (`mcp-github.env` -> `mcp-github-env`). */
export function envSecretName(envFilePath: string): string {
  return dnsLabel(basename(envFilePath));
}

/** The Secret holding the credentials LiteLLM sends upstream (desired `auth:`), as MCP_AUTH_<NAME>. */
export function authSecretName(o: ExportOptions): string {
  return `${o.prefix}litellm-auth`;
}

export function authVar(name: string): string {
  return `MCP_AUTH_${name.toUpperCase().replace(/-/g, '_')}`;
}

export function mountConfigMapName(o: ExportOptions, name: string, i: number): string {
  return `${o.prefix}${name}-mount-${i}`;
}

export function dataClaimName(o: ExportOptions, name: string): string {
  return `${o.prefix}${name}-data`;
}

export function meta(
  o: ExportOptions,
  name: string,
  labels: Record<string, string> = {},
  annotations?: Record<string, string>,
): Manifest['metadata'] {
  return { name, namespace: o.namespace, labels: { ...PART_OF, ...labels }, ...(annotations ? { annotations } : {}) };
}

/**
 * A NetworkPolicy for the pods `select` matches: `ingress` as given; with `egress` (the desired egress)
 * an Egress policy too, all out or nothing (a Docker internal network: no DNS either).
 */
export function networkPolicy(
  o: ExportOptions,
  name: string,
  labels: Record<string, string>,
  select: Record<string, string>,
  ingress: unknown[],
  egress?: boolean,
): Manifest {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(o, name, labels),
    spec: {
      podSelector: { matchLabels: select },
      policyTypes: egress === undefined ? ['Ingress'] : ['Ingress', 'Egress'],
      ingress,
      ...(egress === undefined ? {} : { egress: egress ? [{}] : [] }),
    },
  };
}

/** A memory limit as a Kubernetes quantity, exact (512m -> 512Mi). */
export function memoryQuantity(bytes: number): string {
  for (const [unit, size] of [['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** The server's hardening with the schema's defaults. */
export function security(spec: ServerSpec): Security {
  return spec.security ?? SecuritySchema.parse({});
}

/** `uid[:gid]` as numbers; null when the user is a name other than root (Kubernetes needs numbers). */
export function numericUser(user: string): { uid: number; gid?: number } | null {
  const [u, g] = user.split(':') as [string, string | undefined];
  const num = (x: string): number | null => (x === 'root' ? 0 : /^\d+$/.test(x) ? Number(x) : null);
  const uid = num(u);
  const gid = g === undefined ? undefined : num(g);
  if (uid === null || gid === null) return null;
  return gid === undefined ? { uid } : { uid, gid };
}

/**
 * What Kubernetes cannot express for this server, as refusals naming file and field. Shared by both
 * formats; the kubernetes format adds stdio.
 */
export function commonRefusals(s: ExportServer): Refusal[] {
  const d = s.desired;
  const out: Refusal[] = [];
  if (d.spec.url !== undefined) {
    // ADR 0022: nothing to run; the export does not register servers it does not run.
    return [refusal(d, 'url', 'a url: server runs elsewhere: there is no pod to export; register it with the exported LiteLLM by hand')];
  }
  for (const f of ['build', 'package'] as const) {
    if (d.spec[f] === undefined) continue;
    // ADR 0023: the image exists only in this machine's Docker; a cluster cannot pull it.
    const why =
      'the image is built on this machine (mcp-reconciler-build/...); ' +
      'push it to a registry the cluster pulls from and name it under image:';
    return [refusal(d, f, why)];
  }
  const user = d.spec.security?.user;
  if (user !== undefined && numericUser(user) === null) {
    const why = `"${user}" is a user name; Kubernetes runs a container as a numeric uid[:gid] (runAsUser): write the number`;
    out.push(refusal(d, 'security.user', why));
  }
  if ((d.spec.networks ?? []).length > 0 && d.spec.egress === false) {
    out.push(
      refusal(
        d,
        'networks',
        'a Docker network has no Kubernetes equivalent, and with egress: false the server would reach nothing; ' +
          'set egress: true (then the NetworkPolicy allows all egress) or add an egress rule to the exported NetworkPolicy by hand',
      ),
    );
  }
  return out;
}

export interface ContainerParts {
  container: Record<string, unknown>;
  volumes: Record<string, unknown>[];
  /** Objects the pod needs besides itself (PersistentVolumeClaim). */
  extra: Manifest[];
  notes: string[];
  /** kubectl commands that create the ConfigMaps of `mounts:` from the local files. */
  commands: string[];
}

/**
 * The server's container, without the name and the way secrets arrive (each format adds those):
 * image, args (desired `command:` replaces the image's CMD, as Kubernetes `args` does), plain env,
 * securityContext, limits, and volumes for tmpfs, `data:` (a PersistentVolumeClaim) and `mounts:`
 * (a ConfigMap each, created from the local file).
 */
export function containerParts(s: ExportServer, o: ExportOptions): ContainerParts {
  const d = s.desired;
  const spec = d.spec;
  const sec = security(spec);
  const notes: string[] = [];
  const commands: string[] = [];
  const securityContext: Record<string, unknown> = {
    readOnlyRootFilesystem: sec.readOnlyRootFilesystem,
    allowPrivilegeEscalation: !sec.noNewPrivileges,
    capabilities: { ...(sec.dropAllCapabilities ? { drop: ['ALL'] } : {}), ...(sec.capAdd.length ? { add: [...sec.capAdd].sort() } : {}) },
  };
  const user = sec.user === undefined ? null : numericUser(sec.user);
  if (user) {
    securityContext['runAsUser'] = user.uid;
    if (user.gid !== undefined) securityContext['runAsGroup'] = user.gid;
  }
  const limits: Record<string, string> = { memory: memoryQuantity(memoryBytes(sec.memory)) };
  if (sec.cpus !== undefined) limits['cpu'] = `${Math.round(sec.cpus * 1000)}m`;
  const volumes: Record<string, unknown>[] = [];
  const volumeMounts: Record<string, unknown>[] = [];
  if (sec.readOnlyRootFilesystem) {
    [...sec.tmpfs].sort().forEach((path, i) => {
      volumes.push({ name: `tmpfs-${i}`, emptyDir: { medium: 'Memory' } });
      volumeMounts.push({ name: `tmpfs-${i}`, mountPath: path });
    });
  }
  const extra: Manifest[] = [];
  if (spec.data !== undefined) {
    const claim = dataClaimName(o, d.name);
    extra.push({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: meta(o, claim, { [LABEL_SERVER]: d.name }),
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: DATA_VOLUME_SIZE } } },
    });
    volumes.push({ name: 'data', persistentVolumeClaim: { claimName: claim } });
    volumeMounts.push({ name: 'data', mountPath: spec.data });
    notes.push(
      `${d.file}: data: ${spec.data} is the PersistentVolumeClaim ${claim} (${DATA_VOLUME_SIZE}, the cluster's default StorageClass); ` +
        `to move the Docker volume ${o.prefix}${d.name}-data, copy its files into the claim once (e.g. kubectl cp into the running pod)`,
    );
  }
  (spec.mounts ?? []).forEach((m, i) => {
    const g = mountRe.exec(m)!.groups as { src: string; dst: string };
    const host = s.host.mounts[i]!;
    const cm = mountConfigMapName(o, d.name, i);
    const name = `mount-${i}`;
    volumes.push({ name, configMap: { name: cm } });
    if (host.kind === 'file') {
      volumeMounts.push({ name, mountPath: g.dst, subPath: basename(host.source), readOnly: true });
      commands.push(`kubectl -n ${o.namespace} create configmap ${cm} ${shellWord(`--from-file=${basename(host.source)}=${host.source}`)}`);
      notes.push(`${d.file}: mounts.${i}: the ConfigMap ${cm}, created from ${host.source}, mounted at ${g.dst} (subPath)`);
    } else {
      volumeMounts.push({ name, mountPath: g.dst, readOnly: true });
      commands.push(`kubectl -n ${o.namespace} create configmap ${cm} ${shellWord(`--from-file=${host.source}`)}`);
      const what = `the ConfigMap ${cm}, created from the folder ${host.source} (its top-level files only, 1 MiB in all)`;
      notes.push(`${d.file}: mounts.${i}: ${what}, mounted at ${g.dst}`);
    }
  });
  if ((spec.networks ?? []).length > 0) {
    const nets = spec.networks!.join(', ');
    notes.push(`${d.file}: networks: ${nets} have no Kubernetes equivalent; the server keeps all egress (egress: true)`);
  }
  const env = Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value: String(value) }));
  const container: Record<string, unknown> = {
    image: spec.image,
    ...(spec.command ? { args: [...spec.command] } : {}),
    ...(env.length ? { env } : {}),
    securityContext,
    resources: { limits },
    ...(volumeMounts.length ? { volumeMounts } : {}),
  };
  return { container, volumes, extra, notes, commands };
}

/** LiteLLM's entry for a server reached at `url` (the same fields the reconciler writes, without its marker). */
export function gatewayEntry(d: DesiredServer, url: string, transport: 'http' | 'sse'): [string, Record<string, unknown>] {
  const entry: Record<string, unknown> = { url, transport, description: d.spec.description ?? `${d.name} (exported by mcp-reconciler)` };
  if (d.spec.auth) {
    entry['auth_type'] = d.spec.auth.type;
    entry['authentication_token'] = `os.environ/${authVar(d.name)}`;
  }
  return [gatewayServerName(d.name), entry];
}

/** The server's MCP path inside its container (http /mcp, sse /sse by default). */
export function mcpPath(spec: ServerSpec): string {
  return spec.path ?? (spec.transport === 'sse' ? '/sse' : '/mcp');
}
