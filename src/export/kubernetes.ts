/**
 * `export --format kubernetes`: plain manifests. Per server a Deployment, a Service (http, sse), a
 * NetworkPolicy mirroring its Docker network (ADR 0007); one edge Deployment in front of the http
 * servers (ADR 0003); LiteLLM's config as a ConfigMap; Secret templates. stdio servers are refused:
 * the edge's bridge attaches through the Docker API, which a cluster does not offer (ADR 0018).
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
  refusal,
} from './pod.js';
import { memoryBytes } from '../desired/schema.js';

/** Pods of LiteLLM, in any namespace (its chart may run elsewhere). */
const FROM_LITELLM = { namespaceSelector: {}, podSelector: { matchLabels: { ...LITELLM_POD_LABELS } } };
const EDGE_MEMORY = '128m';

export function edgeName(o: ExportOptions): string {
  return `${o.prefix}edge`;
}

export function kubernetesRefusals(s: ExportServer): Refusal[] {
  const out = commonRefusals(s);
  if (s.desired.spec.transport === 'stdio') {
    out.push(
      refusal(
        s.desired,
        'transport',
        "stdio: the edge's bridge attaches to the process through the Docker API, which Kubernetes does not offer; " +
          'export with --format toolhive (the operator bridges stdio itself) or run the server over http',
      ),
    );
  }
  return out;
}

function selector(name: string): Record<string, string> {
  return { [LABEL_SERVER]: name, [LABEL_ROLE]: 'server' };
}

function serverFile(s: ExportServer, o: ExportOptions): ServerOutput {
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

/**
 * The edge: LiteLLM 1.77.3 sends mcp-protocol-version twice, which SDK http servers refuse (ADR 0003).
 * `allowPrefix`: the names it routes to (our Services, or toolhive's `mcp-<name>-proxy`).
 */
export function edgeFile(o: ExportOptions, allowPrefix: string = o.prefix): ExportFile {
  const name = edgeName(o);
  const labels = { [LABEL_ROLE]: 'edge' };
  const deployment: Manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(o, name, labels),
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'edge',
              image: o.edgeImage,
              // No --gateway-host: a peer check by address cannot name pods; the NetworkPolicy admits only LiteLLM.
              args: ['edge', '--port', String(o.edgePort), '--allow-prefix', allowPrefix],
              ports: [{ name: 'http', containerPort: o.edgePort, protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: '/healthz', port: o.edgePort }, periodSeconds: 10 },
              securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              resources: { limits: { memory: `${memoryBytes(EDGE_MEMORY) / 1024 ** 2}Mi` } },
            },
          ],
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
  return {
    path: `${name}.yaml`,
    apply: true,
    comment: [`The edge (ADR 0003) runs the reconciler's image ${o.edgeImage}: push it to a registry the cluster pulls from.`],
    documents: [deployment, service, policy],
  };
}

/** Every server that can be expressed, plus the edge, LiteLLM's ConfigMap and the Secret templates. */
export function exportKubernetes(servers: readonly ExportServer[], o: ExportOptions): ExportResult {
  const svc = (n: string): string => `${n}.${o.namespace}.svc.cluster.local`;
  return exportWith(servers, o, {
    refusals: kubernetesRefusals,
    serverFile,
    entry: (s) => {
      const spec = s.desired.spec;
      const name = `${o.prefix}${s.desired.name}`;
      return spec.transport === 'http'
        ? gatewayEntry(s.desired, `http://${svc(edgeName(o))}:${o.edgePort}/${name}/${spec.port}${mcpPath(spec)}`, 'http')
        : gatewayEntry(s.desired, `http://${svc(name)}:${spec.port}${mcpPath(spec)}`, 'sse');
    },
    edge: () => edgeFile(o),
  });
}
