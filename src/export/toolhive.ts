/**
 * `export --format toolhive`: one MCPServer (toolhive.stacklok.dev/v1beta1, operator v0.44.0) per
 * desired file, LiteLLM's entries pointing at the operator's proxy Services, and NetworkPolicies, since
 * the operator does not enforce a permission profile on Kubernetes (ADR 0018).
 *
 * Read in stacklok/toolhive at v0.44.0:
 * - proxy Service `mcp-<name>-proxy` (cmd/thv-operator/pkg/controllerutil/resources.go CreateProxyServiceName),
 *   port `proxyPort` (default 8080), selected by `labelsForMCPServer` (app: mcpserver, app.kubernetes.io/instance: <name>);
 * - its URL: `/mcp` for stdio (proxyMode streamable-http) and streamable-http, `/sse` for sse (pkg/transport/url.go);
 *   http and sse servers sit behind a transparent proxy that forwards any path, so their own path is kept;
 * - the server's pods carry `app: <name>` and the container is named `mcp` (pkg/container/kubernetes/client.go),
 *   which `podTemplateSpec` patches (securityContext, env, volumes);
 * - `spec.secrets` is a list keyed by Secret name alone (one key per Secret), so an env file's keys go in as
 *   secretKeyRef env of the `mcp` container, which is what the operator makes of `secrets` itself (WithSecrets);
 * - `permissionProfile` is accepted but not enforced there (client.go: "TODO: Implement permission profile
 *   support for Kubernetes").
 * - the server's pods are labelled `app: <container name>`, which is the MCPServer's name (mcpserver_runconfig.go
 *   `runner.WithName(m.Name)`, pkg/runner/config.go ContainerName, client.go DeployWorkload).
 * - `toolConfigRef` names an MCPToolConfig (v1beta1): `toolsFilter` exact names (after `toolsOverride`), calls to
 *   other tools answered `tool not found`; `toolsOverride` maps a server's tool name to {name, description}
 *   (pkg/mcp/tool_filter.go, pkg/runner/middleware.go: applied to every transport).
 * - the transparent proxy (http servers) forwards request headers as they came (pkg/transport/proxy/transparent),
 *   so LiteLLM 1.77.3's doubled mcp-protocol-version would reach an SDK server, which refuses it (ADR 0003): LiteLLM
 *   reaches http servers through our edge, which routes to `mcp-<name>-proxy`. The stdio proxy reads the header
 *   with Header.Get (the first value) and validates it only in its opt-in strict mode (streamable_proxy.go).
 */
import type { ExportOptions, ExportResult, ExportServer, Manifest, Refusal } from './model.js';
import { exportWith, type ServerOutput } from './gateway.js';
import type { Tools } from '../desired/schema.js';
import {
  commonRefusals,
  refusal,
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
import { edgeFile, edgeName } from './kubernetes.js';

export const TOOLHIVE_VERSION = 'v0.44.0';
export const TOOLHIVE_API = 'toolhive.stacklok.dev/v1beta1';
/** The operator's default proxyPort, written out so the LiteLLM URL does not depend on a default. */
export const PROXY_PORT = 8080;

const TRANSPORT = { http: 'streamable-http', sse: 'sse', stdio: 'stdio' } as const;
const FROM_LITELLM = { namespaceSelector: {}, podSelector: { matchLabels: { ...LITELLM_POD_LABELS } } };
const FROM_EDGE = { podSelector: { matchLabels: { [LABEL_ROLE]: 'edge' } } };
/** toolhive names every proxy Service `mcp-<name>-proxy`, whatever our prefix: the edge routes to those. */
const PROXY_PREFIX = 'mcp-';

export function proxyServiceName(name: string): string {
  return `mcp-${name}-proxy`;
}

export function toolConfigName(o: ExportOptions, name: string): string {
  return `${o.prefix}${name}-tools`;
}

/**
 * `tools:` of a stdio server goes to toolhive's own tool filter (MCPToolConfig), whose filter is a list
 * of exact names with no deny list; http servers keep the edge's policy (ADR 0021), sse has none.
 */
export function toolhiveRefusals(s: ExportServer): Refusal[] {
  const out = commonRefusals(s);
  const d = s.desired;
  const tools = d.spec.tools;
  if (d.spec.transport !== 'stdio' || !tools) return out;
  const i = (tools.allow ?? []).findIndex((g) => /[*?]/.test(g));
  if (i >= 0) {
    const why = `"${tools.allow![i]}" is a pattern; toolhive's MCPToolConfig toolsFilter lists exact tool names: list them`;
    out.push(refusal(d, `tools.allow.${i}`, why));
  }
  if ((tools.deny ?? []).length > 0) {
    out.push(refusal(d, 'tools.deny.0', "toolhive's MCPToolConfig has no deny list: list the tools to keep under allow instead"));
  }
  return out;
}

/** The MCPToolConfig of a stdio server's `tools:` (refusals above rule out patterns and deny). */
function toolConfig(o: ExportOptions, name: string, tools: Tools): Manifest {
  const rename = tools.rename ?? {};
  const description = tools.description ?? {};
  const overridden = [...new Set([...Object.keys(rename), ...Object.keys(description)])].sort();
  const toolsOverride = Object.fromEntries(
    overridden.map((t) => [t, { ...(rename[t] ? { name: rename[t] } : {}), ...(description[t] ? { description: description[t] } : {}) }]),
  );
  return {
    apiVersion: TOOLHIVE_API,
    kind: 'MCPToolConfig',
    metadata: meta(o, toolConfigName(o, name), { [LABEL_SERVER]: name }),
    spec: {
      // The filter is matched against the names clients see, after the override.
      ...(tools.allow ? { toolsFilter: [...new Set(tools.allow.map((t) => rename[t] ?? t))].sort() } : {}),
      ...(overridden.length ? { toolsOverride } : {}),
    },
  };
}

function serverFile(s: ExportServer, o: ExportOptions): ServerOutput {
  const d = s.desired;
  const spec = d.spec;
  const parts = containerParts(s, o);
  // resources is a field of MCPServer itself; the pod patch carries the rest of the container.
  type Parts = { image: string; args?: string[]; env?: { name: string; value: string }[]; resources: object } & Record<string, unknown>;
  const { image, args, env, resources, ...patch } = parts.container as Parts;
  // A plain env value wins over the env file's, as in Docker (src/docker/runtime.ts, like compose): that key is left out.
  const plain = new Set(Object.keys(spec.env ?? {}));
  const secretEnv = s.host.envFile
    ? s.host.envFile.keys
        .filter((key) => !plain.has(key))
        .map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: envSecretName(s.host.envFile!.path), key } } }))
    : [];
  const container = { name: 'mcp', ...patch, ...(secretEnv.length ? { env: secretEnv } : {}) };
  const mcpServer: Manifest = {
    apiVersion: TOOLHIVE_API,
    kind: 'MCPServer',
    metadata: meta(o, d.name, { [LABEL_SERVER]: d.name }, { 'io.mcp-reconciler/source': d.source }),
    spec: {
      image,
      transport: TRANSPORT[spec.transport],
      ...(spec.transport === 'stdio' ? { proxyMode: 'streamable-http' } : { mcpPort: spec.port! }),
      proxyPort: PROXY_PORT,
      ...(args ? { args } : {}),
      ...(spec.transport === 'stdio' && spec.tools ? { toolConfigRef: { name: toolConfigName(o, d.name) } } : {}),
      ...(env ? { env } : {}),
      // builtin "none": no network; "network": outbound allowed (the desired egress), recorded for toolhive.
      permissionProfile: { type: 'builtin', name: spec.egress === false ? 'none' : 'network' },
      resources,
      podTemplateSpec: {
        spec: { automountServiceAccountToken: false, containers: [container], ...(parts.volumes.length ? { volumes: parts.volumes } : {}) },
      },
    },
  };
  const backend = { app: d.name };
  const proxy = { app: 'mcpserver', 'app.kubernetes.io/instance': d.name };
  const fromProxy = { from: [{ podSelector: { matchLabels: proxy } }], ports: [{ protocol: 'TCP', port: spec.port! }] };
  const labels = { [LABEL_SERVER]: d.name };
  // stdio: the proxy attaches through the Kubernetes API, no connection to the pod at all.
  const serverIngress = spec.transport === 'stdio' ? [] : [fromProxy];
  const serverPolicy = networkPolicy(o, `${o.prefix}${d.name}`, labels, backend, serverIngress, spec.egress !== false);
  // http: only the edge (which LiteLLM goes through); sse and stdio: LiteLLM itself.
  const fromProxyClients = { from: [spec.transport === 'http' ? FROM_EDGE : FROM_LITELLM], ports: [{ protocol: 'TCP', port: PROXY_PORT }] };
  const proxyPolicy = networkPolicy(o, proxyServiceName(d.name), labels, proxy, [fromProxyClients]);
  return {
    file: {
      path: `${o.prefix}${d.name}.yaml`,
      apply: true,
      comment: [`From ${d.file} (mcp-reconciler export --format toolhive, operator ${TOOLHIVE_VERSION}).`],
      documents: [
        ...parts.extra,
        ...(spec.transport === 'stdio' && spec.tools ? [toolConfig(o, d.name, spec.tools)] : []),
        mcpServer,
        serverPolicy,
        proxyPolicy,
      ],
    },
    notes: parts.notes,
    commands: parts.commands,
  };
}

export function exportToolhive(servers: readonly ExportServer[], o: ExportOptions): ExportResult {
  return exportWith(servers, o, {
    refusals: toolhiveRefusals,
    serverFile,
    entry: (s) => {
      const spec = s.desired.spec;
      const proxy = proxyServiceName(s.desired.name);
      const base = `http://${proxy}.${o.namespace}.svc.cluster.local:${PROXY_PORT}`;
      if (spec.transport === 'sse') return gatewayEntry(s.desired, `${base}${mcpPath(spec)}`, 'sse');
      // stdio: toolhive's own streamable proxy answers (it reads the header's first value only).
      if (spec.transport === 'stdio') return gatewayEntry(s.desired, `${base}/mcp`, 'http');
      // http: the transparent proxy passes LiteLLM's doubled mcp-protocol-version on, so the edge goes in front (ADR 0003).
      const edge = `http://${edgeName(o)}.${o.namespace}.svc.cluster.local:${o.edgePort}`;
      return gatewayEntry(s.desired, `${edge}/${proxy}/${PROXY_PORT}${mcpPath(spec)}`, 'http');
    },
    edge: (ok) => {
      const http = ok.filter((s) => s.desired.spec.transport === 'http');
      if (http.length === 0) return null;
      // The edge looks a policy up by the routed name without PROXY_PREFIX: `<name>-proxy`.
      const withTools = http.filter((s) => s.desired.spec.tools);
      const policies = Object.fromEntries(withTools.map((s) => [`${s.desired.name}-proxy`, { ...s.desired.spec.tools! }]));
      return edgeFile(o, PROXY_PREFIX, { stdio: [], policies });
    },
  });
}
