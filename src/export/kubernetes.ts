/**
 * `export --format kubernetes`: plain manifests. Per server a Deployment, a Service (http, sse), a
 * NetworkPolicy mirroring its Docker network (ADR 0007); a stdio server is a StatefulSet of one pod
 * whose container `server` keeps stdin open, bridged by the edge through `pods/attach` (ADR 0018);
 * one edge Deployment in front of http and stdio servers (ADR 0003, 0004) applying the tool policy
 * (ADR 0021); LiteLLM's config with the gateway guard (ADR 0019) as a ConfigMap; Secret templates.
 */
import type { ExportFile, ExportOptions, ExportResult, ExportServer, Manifest, Refusal } from './model.js';
import { exportWith, type ServerOutput } from './gateway.js';
import {
  commonRefusals,
  containerParts,
  envSecretName,
  gatewayEntry,
  LABEL_ROLE,
  LABEL_SERVER,
  LITELLM_POD_LABELS,
  mcpPath,
  meta,
  networkPolicy,
} from './pod.js';
import { memoryBytes } from '../desired/schema.js';
import { renderPolicyFile, type ToolPolicy } from '../policy/tool-policy.js';
import { SERVER_CONTAINER, STDIO_POD_LABELS, stdioPodName } from '../kube/names.js';

/** Pods of LiteLLM, in any namespace (its chart may run elsewhere). */
const FROM_LITELLM = { namespaceSelector: {}, podSelector: { matchLabels: { ...LITELLM_POD_LABELS } } };
const EDGE_MEMORY = '128m';

export function edgeName(o: ExportOptions): string {
  return `${o.prefix}edge`;
}

export function kubernetesRefusals(s: ExportServer): Refusal[] {
  return commonRefusals(s);
}

/** Where the edge reads the tool policy (the ConfigMap's folder; as /etc/mcp-edge in Docker). */
export const EDGE_POLICY_DIR = '/etc/mcp-edge';
export const EDGE_POLICY_FILE = 'tool-policy.json';

export function edgePolicyConfigMapName(o: ExportOptions): string {
  return `${edgeName(o)}-tool-policy`;
}

/** The Role (and RoleBinding, ServiceAccount) that lets the edge attach to the stdio servers' pods. */
export function edgeAttachName(o: ExportOptions): string {
  return `${edgeName(o)}-attach`;
}

function selector(name: string): Record<string, string> {
  return { [LABEL_SERVER]: name, [LABEL_ROLE]: 'server' };
}

/**
 * A stdio server: a StatefulSet of one pod (`<name>-0`, a name the edge's Role can list) running the
 * image unmodified as container `server` with stdin open and no TTY, as in Docker (ADR 0004). No Service
 * and no ingress at all: the edge reaches the process through the API server (`pods/attach`).
 */
function stdioServerFile(s: ExportServer, o: ExportOptions): ServerOutput {
  const d = s.desired;
  const name = `${o.prefix}${d.name}`;
  const labels = selector(d.name);
  const parts = containerParts(s, o);
  const container = {
    name: SERVER_CONTAINER,
    ...parts.container,
    ...(s.host.envFile ? { envFrom: [{ secretRef: { name: envSecretName(s.host.envFile.path) } }] } : {}),
    stdin: true,
    stdinOnce: false,
    tty: false,
  };
  const statefulSet: Manifest = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(o, name, labels, { 'io.mcp-reconciler/source': d.source }),
    spec: {
      // One process (the bridge multiplexes every session onto it); a new pod starts only after the old one is gone.
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels: { ...labels, ...STDIO_POD_LABELS } },
        spec: {
          automountServiceAccountToken: false,
          containers: [container],
          ...(parts.volumes.length ? { volumes: parts.volumes } : {}),
        },
      },
    },
  };
  const policy = networkPolicy(o, name, labels, labels, [], d.spec.egress !== false);
  return {
    file: {
      path: `${name}.yaml`,
      apply: true,
      comment: [
        `From ${d.file} (mcp-reconciler export --format kubernetes).`,
        `stdio: the edge attaches to pod ${stdioPodName(name)}, container ${SERVER_CONTAINER} (pods/attach; ADR 0018).`,
      ],
      documents: [...parts.extra, statefulSet, policy],
    },
    notes: parts.notes,
    commands: parts.commands,
  };
}

function serverFile(s: ExportServer, o: ExportOptions): ServerOutput {
  if (s.desired.spec.transport === 'stdio') return stdioServerFile(s, o);
  const d = s.desired;
  const spec = d.spec;
  const name = `${o.prefix}${d.name}`;
  const labels = selector(d.name);
  const parts = containerParts(s, o);
  const port = spec.port!;
  const container = {
    name: 'mcp',
    ...parts.container,
    ...(s.host.envFile ? { envFrom: [{ secretRef: { name: envSecretName(s.host.envFile.path) } }] } : {}),
    ports: [{ name: 'mcp', containerPort: port, protocol: 'TCP' }],
    readinessProbe: { tcpSocket: { port }, periodSeconds: 10 },
  };
  const deployment: Manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(o, name, labels, { 'io.mcp-reconciler/source': d.source }),
    spec: {
      replicas: 1,
      // One process, as in Docker (and a ReadWriteOnce claim cannot be attached twice during a rollout).
      strategy: { type: 'Recreate' },
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          containers: [container],
          ...(parts.volumes.length ? { volumes: parts.volumes } : {}),
        },
      },
    },
  };
  const service: Manifest = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(o, name, labels),
    spec: { selector: labels, ports: [{ name: 'mcp', port, targetPort: port, protocol: 'TCP' }] },
  };
  // Who may connect (ADR 0007): the edge for http, LiteLLM for sse; nobody else, no other server.
  const from = spec.transport === 'http' ? [{ podSelector: { matchLabels: { [LABEL_ROLE]: 'edge' } } }] : [FROM_LITELLM];
  const policy = networkPolicy(o, name, labels, labels, [{ from, ports: [{ protocol: 'TCP', port }] }], spec.egress !== false);
  return {
    file: {
      path: `${name}.yaml`,
      apply: true,
      comment: [`From ${d.file} (mcp-reconciler export --format kubernetes).`],
      documents: [...parts.extra, deployment, service, policy],
    },
    notes: parts.notes,
    commands: parts.commands,
  };
}

/** What the edge serves besides http routing: stdio servers to attach to, tool policies by the name it looks them up. */
export interface EdgeNeeds {
  /** StatefulSet names of stdio servers (kubernetes format): the edge may attach to their pods only. */
  stdio: string[];
  /** Tool policy per server, keyed as the edge looks it up (the container name without the allowed prefix). */
  policies: Record<string, ToolPolicy>;
}

/**
 * The edge: LiteLLM 1.77.3 sends mcp-protocol-version twice, which SDK http servers refuse (ADR 0003);
 * it also holds the stdio bridges (over pods/attach) and applies the tool policy from a ConfigMap.
 * `allowPrefix`: the names it routes to (our Services, or toolhive's `mcp-<name>-proxy`).
 */
export function edgeFile(o: ExportOptions, allowPrefix: string, needs: EdgeNeeds): ExportFile {
  const name = edgeName(o);
  const labels = { [LABEL_ROLE]: 'edge' };
  const attach = needs.stdio.length > 0;
  const rbac = edgeAttachName(o);
  const policyCm = edgePolicyConfigMapName(o);
  const policyArg = ['--tool-policy', `${EDGE_POLICY_DIR}/${EDGE_POLICY_FILE}`];
  const args = ['edge', '--port', String(o.edgePort), '--allow-prefix', allowPrefix, ...policyArg];
  const deployment: Manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(o, name, labels),
    spec: {
      replicas: 1,
      // With stdio servers: one edge at a time, since two would both attach to each process's stdin and stdout.
      ...(attach ? { strategy: { type: 'Recreate' } } : {}),
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          // The token (for pods/attach) only where it is needed: the edge, and only with stdio servers.
          ...(attach ? { serviceAccountName: rbac, automountServiceAccountToken: true } : { automountServiceAccountToken: false }),
          containers: [
            {
              name: 'edge',
              image: o.edgeImage,
              // No --gateway-host: a peer check by address cannot name pods; the NetworkPolicy admits only LiteLLM.
              args: attach ? [...args, '--attach', 'kubernetes'] : args,
              ports: [{ name: 'http', containerPort: o.edgePort, protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: '/healthz', port: o.edgePort }, periodSeconds: 10 },
              securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              resources: { limits: { memory: `${memoryBytes(EDGE_MEMORY) / 1024 ** 2}Mi` } },
              volumeMounts: [{ name: 'tool-policy', mountPath: EDGE_POLICY_DIR, readOnly: true }],
            },
          ],
          volumes: [{ name: 'tool-policy', configMap: { name: policyCm } }],
        },
      },
    },
  };
  const service: Manifest = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(o, name, labels),
    spec: { selector: labels, ports: [{ name: 'http', port: o.edgePort, targetPort: o.edgePort, protocol: 'TCP' }] },
  };
  const policy = networkPolicy(o, name, labels, labels, [{ from: [FROM_LITELLM], ports: [{ protocol: 'TCP', port: o.edgePort }] }]);
  // The same file the reconciler writes for the Docker edge (ADR 0021); the edge re-reads it when the kubelet updates it.
  const policyConfigMap: Manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(o, policyCm, labels),
    data: { [EDGE_POLICY_FILE]: renderPolicyFile(needs.policies) },
  };
  const rbacDocs: Manifest[] = attach ? edgeRbac(o, rbac, labels, needs.stdio.map(stdioPodName)) : [];
  return {
    path: `${name}.yaml`,
    apply: true,
    comment: [
      `The edge (ADR 0003) runs the reconciler's image ${o.edgeImage}: push it to a registry the cluster pulls from.`,
      `Tool policies (ADR 0021): ConfigMap ${policyCm}.`,
      ...(attach ? [`It bridges the stdio servers through pods/attach as ServiceAccount ${rbac} (Role ${rbac}: those pods only).`] : []),
    ],
    documents: [...rbacDocs, policyConfigMap, deployment, service, policy],
  };
}

/** ServiceAccount, Role (get pods, create/get pods/attach, on the named pods only) and RoleBinding of the edge. */
function edgeRbac(o: ExportOptions, name: string, labels: Record<string, string>, pods: string[]): Manifest[] {
  const resourceNames = [...pods].sort();
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(o, name, labels), automountServiceAccountToken: false },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(o, name, labels),
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get'], resourceNames },
        // A WebSocket attach is an upgraded GET, authorized as get; newer API servers check create as well (as for POST).
        { apiGroups: [''], resources: ['pods/attach'], verbs: ['create', 'get'], resourceNames },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(o, name, labels),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: o.namespace }],
    },
  ];
}

/** Every server that can be expressed, plus the edge, LiteLLM's ConfigMap and the Secret templates. */
export function exportKubernetes(servers: readonly ExportServer[], o: ExportOptions): ExportResult {
  const svc = (n: string): string => `${n}.${o.namespace}.svc.cluster.local`;
  const edgeBase = `http://${svc(edgeName(o))}:${o.edgePort}`;
  return exportWith(servers, o, {
    refusals: kubernetesRefusals,
    serverFile,
    entry: (s) => {
      const spec = s.desired.spec;
      const name = `${o.prefix}${s.desired.name}`;
      if (spec.transport === 'stdio') return gatewayEntry(s.desired, `${edgeBase}/${name}/stdio/mcp`, 'http');
      return spec.transport === 'http'
        ? gatewayEntry(s.desired, `${edgeBase}/${name}/${spec.port}${mcpPath(spec)}`, 'http')
        : gatewayEntry(s.desired, `http://${svc(name)}:${spec.port}${mcpPath(spec)}`, 'sse');
    },
    edge: (ok) => {
      const behind = ok.filter((s) => s.desired.spec.transport !== 'sse');
      if (behind.length === 0) return null;
      const withTools = behind.filter((s) => s.desired.spec.tools);
      const policies = Object.fromEntries(withTools.map((s) => [s.desired.name, { ...s.desired.spec.tools! }]));
      const stdio = behind.filter((s) => s.desired.spec.transport === 'stdio').map((s) => `${o.prefix}${s.desired.name}`);
      return edgeFile(o, o.prefix, { stdio, policies });
    },
  });
}
