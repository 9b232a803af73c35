import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse } from 'yaml';
import { parseDesiredFile, type DesiredServer } from '../desired/load.js';
import { envFileKeys, kubectlEnvFileProblems } from '../desired/env-file.js';
import { exportManifests, renderFile } from './index.js';
import type { ExportFormat, ExportOptions, ExportServer, HostFacts, Manifest } from './index.js';
import { closedCrdSchema, schemaCheck } from './validate.js';
import { shellWord } from './pod.js';
import { GUARD_CALLBACK, GUARD_FILE, GUARD_PY } from '../litellm/guard.js';
import { planAdd, templateNames, writeAdd } from '../catalog/catalog.js';
import { cliEnv } from '../testing/fixtures.js';

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../main.js');
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FORMATS: ExportFormat[] = ['toolhive', 'kubernetes'];
const OPTS: ExportOptions = { namespace: 'mcp', prefix: 'mcp-', edgeImage: 'registry.example/mcp-reconciler:0.1.0', edgePort: 8080 };

function desired(name: string, text: string): DesiredServer {
  const r = parseDesiredFile(text, `desired/mcp-${name}.yaml`, `mcp-${name}.yaml`);
  assert.ok(r.server, JSON.stringify(r.invalid?.issues));
  return r.server;
}
const noHost: HostFacts = { envFile: null, mounts: [] };
/** The smallest http server's desired file. */
const HTTP = 'image: x/y:1\ntransport: http\nport: 80\n';
const SECRET_TEMPLATE = 'secrets/mcp-postgresql-env.yaml';

/** Every document of every file, each checked against the checked-in schemas. */
function assertValid(files: { path: string; documents: Manifest[] }[]): number {
  const check = schemaCheck();
  let n = 0;
  for (const f of files) {
    for (const d of f.documents) {
      assert.deepEqual(check.validate(d), [], `${f.path} ${d.kind}/${d.metadata.name}`);
      n++;
    }
  }
  return n;
}

/** Desired files that use every field the export maps (beside the shipped examples). */
const CASES: Record<string, string> = {
  sse: 'image: ghcr.io/x/sse-server:1.2\ntransport: sse\nport: 9000\npath: /events\negress: true\n',
  authed: 'image: ghcr.io/x/api:2\ntransport: http\nport: 8000\nauth: {type: bearer_token, secret: TOKEN}\n',
  tuned:
    'image: ghcr.io/x/tuned:3\ntransport: http\nport: 80\nnetworks: [pg-net]\nsecurity:\n' +
    '  readOnlyRootFilesystem: false\n  dropAllCapabilities: false\n  capAdd: [NET_BIND_SERVICE]\n  noNewPrivileges: false\n' +
    '  user: "1000:1000"\n  memory: 1g\n  cpus: 0.5\n  pids: 64\ntools: {deny: [drop_*]}\n',
  stdio:
    'image: ghcr.io/x/stdio:1\ntransport: stdio\ncommand: [serve, --stdio]\ndata: /state\n' +
    'security: {tmpfs: [/tmp, /cache], user: root}\n' +
    'tools: {allow: [read, write], rename: {write: store}, description: {read: Reads a note.}}\n',
};
const hostOf: Record<string, HostFacts> = {
  authed: { envFile: { path: '/home/u/projects/secrets/mcp-authed.env', keys: ['TOKEN', 'OTHER'] }, mounts: [] },
};

describe('export: every document is valid against the checked-in schemas (Kubernetes v1.34.0, toolhive v0.44.0 CRD)', () => {
  for (const format of FORMATS) {
    test(`${format}: the field cases`, () => {
      const servers: ExportServer[] = Object.entries(CASES).map(([n, t]) => ({ desired: desired(n, t), host: hostOf[n] ?? noHost }));
      const r = exportManifests(format, servers, OPTS);
      assert.deepEqual(r.refusals.map((x) => x.file), []);
      assert.ok(assertValid(r.files) >= 6);
    });
  }

  test('the validator fails a wrong document (so the tests above can fail)', () => {
    const check = schemaCheck();
    const files = exportManifests('toolhive', [{ desired: desired('sse', CASES['sse']!), host: noHost }], OPTS).files;
    const server = files[0]!.documents.find((d) => d.kind === 'MCPServer');
    const bad = structuredClone(server!) as Manifest & { spec: Record<string, unknown> };
    bad.spec['transport'] = 'websocket';
    bad.spec['toolsFilter'] = ['x'];
    (bad.spec['podTemplateSpec'] as { spec: { containers: unknown[] } }).spec.containers.push({ image: 'x' });
    const problems = check.validate(bad).join('\n');
    assert.match(problems, /\/spec\/transport must be equal to one of the allowed values/);
    assert.match(problems, /must NOT have additional properties \(toolsFilter\)/);
    assert.match(problems, /spec\.podTemplateSpec\/spec\/containers\/1 must have required property 'name'/);
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: '1bad' }, spec: { ports: [{ port: 'x' }] } };
    assert.match(check.validate(service).join('\n'), /DNS-1035/);
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 'one' } };
    assert.match(check.validate(deployment).join('\n'), /replicas/);
  });

  test('the CRD schema is closed where Kubernetes prunes and open where it preserves', () => {
    const crd = readFileSync(join(REPO, 'schema/toolhive/v0.44.0/toolhive.stacklok.dev_mcpservers.yaml'), 'utf8');
    const s = closedCrdSchema(crd, 'v1beta1') as {
      properties: { spec: { additionalProperties: unknown; properties: { podTemplateSpec: Record<string, unknown> } } };
    };
    assert.equal(s.properties.spec.additionalProperties, false);
    assert.equal(s.properties.spec.properties.podTemplateSpec['additionalProperties'], undefined);
  });
});

describe('export: toolhive', () => {
  const all = (): ExportServer[] => Object.entries(CASES).map(([n, t]) => ({ desired: desired(n, t), host: hostOf[n] ?? noHost }));
  const r = exportManifests('toolhive', all(), OPTS);
  const cm = r.files.find((f) => f.path === 'litellm.yaml')!.documents[0]!;
  const config = parse((cm['data'] as Record<string, string>)['config.yaml']!) as {
    mcp_servers: Record<string, Record<string, string>>;
  };
  type WithSpec = Manifest & { spec: Record<string, unknown> };
  const server = (name: string): WithSpec =>
    r.files.flatMap((f) => f.documents).find((d) => d.kind === 'MCPServer' && d.metadata.name === name) as WithSpec;

  test("LiteLLM reaches each server through the operator's proxy Service (mcp-<name>-proxy:8080), http ones via the edge", () => {
    assert.deepEqual(
      Object.fromEntries(Object.entries(config.mcp_servers).map(([k, v]) => [k, `${v['transport']} ${v['url']}`])),
      {
        mcp_authed: 'http http://mcp-edge.mcp.svc.cluster.local:8080/mcp-authed-proxy/8080/mcp',
        mcp_sse: 'sse http://mcp-sse-proxy.mcp.svc.cluster.local:8080/events',
        mcp_stdio: 'http http://mcp-stdio-proxy.mcp.svc.cluster.local:8080/mcp',
        mcp_tuned: 'http http://mcp-edge.mcp.svc.cluster.local:8080/mcp-tuned-proxy/8080/mcp',
      },
    );
    assert.equal(config.mcp_servers['mcp_authed']!['authentication_token'], 'os.environ/MCP_AUTH_AUTHED');
    const docs = r.files.flatMap((f) => f.documents);
    const edge = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'mcp-edge')!;
    const args = '"args":["edge","--port","8080","--allow-prefix","mcp-","--tool-policy","/etc/mcp-edge/tool-policy.json"]';
    assert.ok(JSON.stringify(edge).includes(args), JSON.stringify(edge));
    // No stdio server for the edge to attach to under toolhive: no ServiceAccount, no token.
    assert.match(JSON.stringify(edge), /"automountServiceAccountToken":false/);
    assert.ok(!docs.some((d) => d.kind === 'Role' || d.kind === 'ServiceAccount' || d.kind === 'RoleBinding'));
    const ingress = (name: string): unknown =>
      (docs.find((d) => d.kind === 'NetworkPolicy' && d.metadata.name === name)!['spec'] as Record<string, unknown>)['ingress'];
    const port = [{ protocol: 'TCP', port: 8080 }];
    const edgePods = { podSelector: { matchLabels: { 'io.mcp-reconciler/role': 'edge' } } };
    assert.deepEqual(ingress('mcp-tuned-proxy'), [{ from: [edgePods], ports: port }]);
    const litellm = { namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'litellm' } } };
    assert.deepEqual(ingress('mcp-sse-proxy'), [{ from: [litellm], ports: port }]);
  });

  test("tools: a stdio server's becomes an MCPToolConfig (filter after rename, overrides); an http server's the edge's policy", () => {
    const docs = r.files.flatMap((f) => f.documents);
    const tc = docs.find((d) => d.kind === 'MCPToolConfig')!;
    assert.equal(tc.metadata.name, 'mcp-stdio-tools');
    assert.deepEqual(tc['spec'], {
      toolsFilter: ['read', 'store'],
      toolsOverride: { read: { description: 'Reads a note.' }, write: { name: 'store' } },
    });
    assert.deepEqual(server('stdio').spec['toolConfigRef'], { name: 'mcp-stdio-tools' });
    assert.equal(server('tuned').spec['toolConfigRef'], undefined);
    assert.equal(docs.filter((d) => d.kind === 'MCPToolConfig').length, 1);
    const policy = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'mcp-edge-tool-policy')!;
    // The edge looks a policy up by the routed name (mcp-tuned-proxy) without its prefix.
    const file = JSON.parse((policy['data'] as Record<string, string>)['tool-policy.json']!) as unknown;
    assert.deepEqual(file, { version: 1, servers: { 'tuned-proxy': { deny: ['drop_*'] } } });
  });

  test("tools: what toolhive's filter cannot say for a stdio server (a pattern, deny) is refused at that entry", () => {
    const stdio = 'image: x/y:1\ntransport: stdio\n';
    const pattern = desired('pat', `${stdio}tools:\n  allow: [read, "get_*"]\n`);
    const deny = desired('den', `${stdio}tools:\n  deny: [drop]\n`);
    const out = exportManifests('toolhive', [{ desired: pattern, host: noHost }, { desired: deny, host: noHost }], OPTS);
    assert.deepEqual(out.refusals.map((x) => `${x.file}:${x.line}:${x.col} ${x.path}`), [
      'desired/mcp-pat.yaml:4:17 tools.allow.1',
      'desired/mcp-den.yaml:4:10 tools.deny.0',
    ]);
    assert.match(out.refusals[0]!.message, /"get_\*" is a pattern; toolhive's MCPToolConfig toolsFilter lists exact tool names/);
    assert.match(out.refusals[1]!.message, /no deny list/);
    assert.ok(!out.files.some((f) => f.path.startsWith('mcp-pat') || f.path.startsWith('mcp-den')));
    // The same files are exported in the kubernetes format, where the edge enforces them.
    const both = [{ desired: pattern, host: noHost }, { desired: deny, host: noHost }];
    assert.deepEqual(exportManifests('kubernetes', both, OPTS).refusals, []);
  });

  test('transport, ports, args, limits, profile and hardening map onto MCPServer', () => {
    const tuned = server('tuned').spec;
    assert.equal(tuned['transport'], 'streamable-http');
    assert.equal(tuned['mcpPort'], 80);
    assert.deepEqual(tuned['resources'], { limits: { memory: '1Gi', cpu: '500m' } });
    assert.deepEqual(tuned['permissionProfile'], { type: 'builtin', name: 'network' });
    const c = (tuned['podTemplateSpec'] as { spec: { containers: Record<string, unknown>[] } }).spec.containers[0]!;
    assert.deepEqual(c['securityContext'], {
      readOnlyRootFilesystem: false,
      allowPrivilegeEscalation: true,
      capabilities: { add: ['NET_BIND_SERVICE'] },
      runAsUser: 1000,
      runAsGroup: 1000,
    });
    const stdio = server('stdio').spec;
    assert.equal(stdio['transport'], 'stdio');
    assert.equal(stdio['proxyMode'], 'streamable-http');
    assert.deepEqual(stdio['args'], ['serve', '--stdio']);
    assert.deepEqual(stdio['permissionProfile'], { type: 'builtin', name: 'network' });
    const pod = (stdio['podTemplateSpec'] as { spec: { volumes: Record<string, unknown>[] } }).spec;
    assert.deepEqual(pod.volumes.map((v) => v['name']), ['tmpfs-0', 'tmpfs-1', 'data']);
    assert.ok(r.files.flatMap((f) => f.documents).some((d) => d.kind === 'PersistentVolumeClaim' && d.metadata.name === 'mcp-stdio-data'));
  });

  test("an env file's keys arrive as secretKeyRef env of the mcp container; the Secret template has keys and no values", () => {
    const c = (server('authed').spec['podTemplateSpec'] as { spec: { containers: Record<string, unknown>[] } }).spec.containers[0]!;
    assert.deepEqual(c['env'], [
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'mcp-authed-env', key: 'TOKEN' } } },
      { name: 'OTHER', valueFrom: { secretKeyRef: { name: 'mcp-authed-env', key: 'OTHER' } } },
    ]);
    const templates = r.files.filter((f) => !f.apply);
    assert.deepEqual(templates.map((f) => f.path), ['secrets/mcp-authed-env.yaml', 'secrets/mcp-litellm-auth.yaml']);
    assert.deepEqual(templates.map((f) => f.documents[0]!['stringData']), [{ TOKEN: '', OTHER: '' }, { MCP_AUTH_AUTHED: '' }]);
  });

  test('a plain env value wins over the env file key of the same name (as in Docker), so that key is no secretKeyRef', () => {
    const d = desired('both', 'image: x/y:1\ntransport: http\nport: 80\nenv: {MODE: ro}\n');
    const host = { envFile: { path: '/s/mcp-both.env', keys: ['MODE', 'TOKEN'] }, mounts: [] };
    const r2 = exportManifests('toolhive', [{ desired: d, host }], OPTS);
    const spec = r2.files[0]!.documents.find((x) => x.kind === 'MCPServer')!['spec'] as Record<string, unknown>;
    assert.deepEqual(spec['env'], [{ name: 'MODE', value: 'ro' }]);
    const c = (spec['podTemplateSpec'] as { spec: { containers: Record<string, unknown>[] } }).spec.containers[0]!;
    assert.deepEqual((c['env'] as { name: string }[]).map((e) => e.name), ['TOKEN']);
  });

  test('egress: false is profile none and a NetworkPolicy with no egress; ingress only from its proxy', () => {
    const quiet = desired('quiet', 'image: x/y:1\ntransport: http\nport: 3000\negress: false\n');
    const r2 = exportManifests('toolhive', [{ desired: quiet, host: noHost }], OPTS);
    const docs = r2.files[0]!.documents;
    const spec = docs.find((d) => d.kind === 'MCPServer')!['spec'] as Record<string, unknown>;
    assert.deepEqual(spec['permissionProfile'], { type: 'builtin', name: 'none' });
    const policy = docs.find((d) => d.kind === 'NetworkPolicy' && d.metadata.name === 'mcp-quiet')!['spec'] as Record<string, unknown>;
    assert.deepEqual(policy['egress'], []);
    assert.deepEqual(policy['podSelector'], { matchLabels: { app: 'quiet' } });
    const proxy = { podSelector: { matchLabels: { app: 'mcpserver', 'app.kubernetes.io/instance': 'quiet' } } };
    assert.deepEqual(policy['ingress'], [{ from: [proxy], ports: [{ protocol: 'TCP', port: 3000 }] }]);
  });
});

describe('export: kubernetes', () => {
  const servers = Object.entries(CASES).map(([n, t]) => ({ desired: desired(n, t), host: hostOf[n] ?? noHost }));
  const r = exportManifests('kubernetes', servers, OPTS);
  const docs = r.files.flatMap((f) => f.documents);

  test('http and stdio servers go through the edge, sse servers are reached directly', () => {
    const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'mcp-litellm-config')!;
    const config = parse((cm['data'] as Record<string, string>)['config.yaml']!) as { mcp_servers: Record<string, { url: string }> };
    assert.deepEqual(Object.fromEntries(Object.entries(config.mcp_servers).map(([k, v]) => [k, v.url])), {
      mcp_authed: 'http://mcp-edge.mcp.svc.cluster.local:8080/mcp-authed/8000/mcp',
      mcp_sse: 'http://mcp-sse.mcp.svc.cluster.local:9000/events',
      mcp_stdio: 'http://mcp-edge.mcp.svc.cluster.local:8080/mcp-stdio/stdio/mcp',
      mcp_tuned: 'http://mcp-edge.mcp.svc.cluster.local:8080/mcp-tuned/80/mcp',
    });
    const edge = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'mcp-edge')!;
    const policyArg = ['--tool-policy', '/etc/mcp-edge/tool-policy.json'];
    const args = ['edge', '--port', '8080', '--allow-prefix', 'mcp-', ...policyArg, '--attach', 'kubernetes'];
    assert.ok(JSON.stringify(edge).includes(`"args":${JSON.stringify(args)}`), JSON.stringify(edge));
  });

  test('a stdio server: a StatefulSet of one pod, its image unmodified as container server with stdin open, no Service, no ingress', () => {
    const sts = docs.find((d) => d.kind === 'StatefulSet')! as Manifest & { spec: Record<string, unknown> };
    assert.equal(sts.metadata.name, 'mcp-stdio');
    assert.equal(sts.spec['replicas'], 1);
    const template = sts.spec['template'] as { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> };
    assert.equal(template.metadata.labels['io.mcp-reconciler/transport'], 'stdio');
    assert.equal(template.metadata.labels['io.mcp-reconciler/role'], 'server');
    assert.equal(template.spec['automountServiceAccountToken'], false);
    const [c] = template.spec['containers'] as Record<string, unknown>[];
    assert.deepEqual([c!['name'], c!['image'], c!['args'], c!['stdin'], c!['stdinOnce'], c!['tty']], [
      'server', 'ghcr.io/x/stdio:1', ['serve', '--stdio'], true, false, false,
    ]);
    assert.equal(c!['ports'], undefined);
    assert.ok(!docs.some((d) => d.kind === 'Service' && d.metadata.name === 'mcp-stdio'));
    assert.ok(!docs.some((d) => d.kind === 'Deployment' && d.metadata.name === 'mcp-stdio'));
    const policy = docs.find((d) => d.kind === 'NetworkPolicy' && d.metadata.name === 'mcp-stdio')!['spec'] as Record<string, unknown>;
    assert.deepEqual([policy['ingress'], policy['policyTypes']], [[], ['Ingress', 'Egress']]);
  });

  test("the edge may attach to the stdio servers' pods only: a ServiceAccount, a Role naming those pods, the token only there", () => {
    const role = docs.find((d) => d.kind === 'Role')!;
    assert.equal(role.metadata.name, 'mcp-edge-attach');
    assert.deepEqual(role['rules'], [
      { apiGroups: [''], resources: ['pods'], verbs: ['get'], resourceNames: ['mcp-stdio-0'] },
      { apiGroups: [''], resources: ['pods/attach'], verbs: ['create', 'get'], resourceNames: ['mcp-stdio-0'] },
    ]);
    const binding = docs.find((d) => d.kind === 'RoleBinding')!;
    assert.deepEqual(binding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'mcp-edge-attach' });
    assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'mcp-edge-attach', namespace: 'mcp' }]);
    assert.equal(docs.find((d) => d.kind === 'ServiceAccount')!.metadata.name, 'mcp-edge-attach');
    const podSpecs = docs
      .filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet')
      .map((d) => [d.metadata.name, ((d['spec'] as { template: { spec: Record<string, unknown> } }).template.spec)] as const);
    const withToken = podSpecs
      .filter(([, p]) => p['automountServiceAccountToken'] !== false)
      .map(([n, p]) => `${n} ${String(p['serviceAccountName'])}`);
    assert.deepEqual(withToken, ['mcp-edge mcp-edge-attach']);
    // One edge at a time: two would both read every stdio process's stdout.
    const edge = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'mcp-edge')!['spec'] as Record<string, unknown>;
    assert.deepEqual(edge['strategy'], { type: 'Recreate' });
  });

  test('tools: every policy goes to the edge (http and stdio), as the same file the Docker edge reads, mounted from a ConfigMap', () => {
    const policy = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'mcp-edge-tool-policy')!;
    assert.deepEqual(JSON.parse((policy['data'] as Record<string, string>)['tool-policy.json']!), {
      version: 1,
      servers: {
        stdio: { allow: ['read', 'write'], rename: { write: 'store' }, description: { read: 'Reads a note.' } },
        tuned: { deny: ['drop_*'] },
      },
    });
    const edge = JSON.stringify(docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'mcp-edge'));
    assert.ok(edge.includes('"volumeMounts":[{"name":"tool-policy","mountPath":"/etc/mcp-edge","readOnly":true}]'), edge);
    assert.ok(edge.includes('"volumes":[{"name":"tool-policy","configMap":{"name":"mcp-edge-tool-policy"}}]'), edge);
  });

  test("LiteLLM's ConfigMap carries the gateway guard beside config.yaml and lists it under litellm_settings.callbacks", () => {
    for (const format of FORMATS) {
      const files = exportManifests(format, servers, OPTS).files;
      const cm = files.find((f) => f.path === 'litellm.yaml')!;
      const data = cm.documents[0]!['data'] as Record<string, string>;
      assert.deepEqual(Object.keys(data).sort(), ['config.yaml', GUARD_FILE]);
      assert.equal(data[GUARD_FILE], GUARD_PY);
      assert.deepEqual((parse(data['config.yaml']!) as { litellm_settings: unknown }).litellm_settings, { callbacks: [GUARD_CALLBACK] });
      const note = cm.comment.join('\n');
      assert.ok(note.includes(`mountPath: /etc/litellm/${GUARD_FILE}, subPath: ${GUARD_FILE}`), note);
    }
  });

  test('an export without http and stdio servers has no edge', () => {
    const only = exportManifests('kubernetes', [{ desired: desired('sse', CASES['sse']!), host: noHost }], OPTS);
    assert.deepEqual(only.files.map((f) => f.path), ['mcp-sse.yaml', 'litellm.yaml']);
  });

  test('NetworkPolicies: an http server admits only the edge, an sse server only LiteLLM, the edge only LiteLLM', () => {
    const policy = (name: string): Record<string, unknown> =>
      docs.find((d) => d.kind === 'NetworkPolicy' && d.metadata.name === name)!['spec'] as Record<string, unknown>;
    const edge = { podSelector: { matchLabels: { 'io.mcp-reconciler/role': 'edge' } } };
    assert.deepEqual(policy('mcp-tuned')['ingress'], [{ from: [edge], ports: [{ protocol: 'TCP', port: 80 }] }]);
    const litellm = [{ namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'litellm' } } }];
    assert.deepEqual(policy('mcp-sse')['ingress'], [{ from: litellm, ports: [{ protocol: 'TCP', port: 9000 }] }]);
    assert.deepEqual(policy('mcp-edge')['ingress'], [{ from: litellm, ports: [{ protocol: 'TCP', port: 8080 }] }]);
    assert.deepEqual(policy('mcp-sse')['egress'], [{}]);
  });

  test('the env file is the Secret of envFrom; nothing is refused', () => {
    const dep = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'mcp-authed')!;
    assert.match(JSON.stringify(dep), /"envFrom":\[\{"secretRef":\{"name":"mcp-authed-env"\}\}\]/);
    assert.deepEqual(r.refusals, []);
  });
});

describe('export refuses what Kubernetes cannot express, naming the file and the field', () => {
  const cases: [string, string, RegExp][] = [
    ['named', `${HTTP}security: {user: app}\n`, /^desired\/mcp-named\.yaml:4:18 security\.user: "app" is a user name/],
    ['walled', `${HTTP}egress: false\nnetworks: [pg]\n`, /^desired\/mcp-walled\.yaml:5:11 networks: a Docker network has no Kubernetes/],
  ];
  for (const format of FORMATS) {
    for (const [name, text, re] of cases) {
      test(`${format}: ${name}`, () => {
        const r = exportManifests(format, [{ desired: desired(name, text), host: noHost }], OPTS);
        assert.equal(r.refusals.length, 1);
        const x = r.refusals[0]!;
        assert.match(`${x.file}:${x.line}:${x.col} ${x.path}: ${x.message}`, re);
        assert.ok(!r.files.some((f) => f.documents.some((d) => d.metadata.name.includes(name))), 'nothing of a refused server is written');
      });
    }
  }
});

describe('export refuses two env files that would be one Secret', () => {
  for (const format of FORMATS) {
    test(format, () => {
      const a = { desired: desired('a', HTTP), host: { envFile: { path: '/s/a_b.env', keys: ['K'] }, mounts: [] } };
      const b = { desired: desired('b', `${HTTP}envFile: a-b.env\n`), host: { envFile: { path: '/s/a-b.env', keys: ['K'] }, mounts: [] } };
      const r = exportManifests(format, [a, b], OPTS);
      assert.deepEqual(r.refusals.map((x) => `${x.file}:${x.line} ${x.path}: ${x.message}`), [
        'desired/mcp-b.yaml:4 envFile: /s/a-b.env and /s/a_b.env would both be the Secret a-b-env; rename one of the files',
      ]);
    });
  }
});

test('shell words in the printed commands: plain paths as they are, others single-quoted', () => {
  assert.equal(shellWord('--from-env-file=/home/u/secrets/mcp-x.env'), '--from-env-file=/home/u/secrets/mcp-x.env');
  assert.equal(shellWord("--from-file=/home/u/my files/it's.toml"), "'--from-file=/home/u/my files/it'\\''s.toml'");
});

test('kubectlEnvFileProblems names the lines kubectl reads differently, by line and key, without the value', () => {
  const text = 'OK=plain\nexport EXP=1\nSP = 2\nQ="secret words"\nS=\'x\'\n# c\n';
  const problems = kubectlEnvFileProblems(text);
  assert.deepEqual(problems, [
    'line 2 (EXP): kubectl refuses the export prefix',
    'line 3 (SP): kubectl refuses spaces around =',
    'line 4 (Q): kubectl keeps the quotes around the value',
    "line 5 (S): kubectl keeps the quotes around the value",
  ]);
  assert.ok(!problems.join('').includes('secret words'));
});

test('envFileKeys names the variables and never carries a value', () => {
  const keys = envFileKeys('# c\nA=1\nexport B="two words"\n\nA=again\nbad line\nC_3=\n');
  assert.deepEqual(keys, ['A', 'B', 'C_3']);
  assert.ok(!JSON.stringify(keys).includes('two words'));
});

describe('export through the CLI: the shipped examples, both formats, no secret value anywhere', () => {
  const dir = mkdtempSync(join(tmpdir(), 'export-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const secrets = join(dir, 'secrets');
  mkdirSync(secrets, { mode: 0o700 });
  mkdirSync(join(dir, 'postgresql'));
  copyFileSync(join(REPO, 'examples/projects/postgresql/dbhub.toml'), join(dir, 'postgresql/dbhub.toml'));
  const VALUE = `v-${randomBytes(12).toString('hex')}`;
  const envFile = join(secrets, 'mcp-postgresql.env');
  writeFileSync(envFile, `DSN=postgres://ro:${VALUE}@db:5432/x\nexport API_KEY="${VALUE}-2"\n`);
  chmodSync(envFile, 0o600);
  const env = cliEnv(dir, secrets);
  const run = (args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env, cwd: dir, timeout: 30_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const files = (root: string): string[] =>
    readdirSync(root).flatMap((f) => (statSync(join(root, f)).isDirectory() ? files(join(root, f)).map((x) => join(f, x)) : [f]));

  for (const format of FORMATS) {
    test(`${format}: every example of desired-state/ exports into files whose every document is valid`, () => {
      const out = join(dir, `out-${format}`);
      const args = ['export', '--desired', join(REPO, 'desired-state'), '--format', format, '--out', out];
      const r = run(args);
      assert.equal(r.status, 0, r.stderr);
      const written = files(out).sort();
      const servers = ['mcp-everything.yaml', 'mcp-memory.yaml', 'mcp-postgresql.yaml'];
      const expected = ['README.md', 'litellm.yaml', 'mcp-edge.yaml', ...servers, SECRET_TEMPLATE];
      assert.deepEqual(written, expected);
      const docs = written.filter((f) => f.endsWith('.yaml')).flatMap((f) =>
        parseAllDocuments(readFileSync(join(out, f), 'utf8')).map((d) => d.toJS() as Manifest).filter((d) => d !== null),
      );
      assert.ok(docs.length >= 9);
      assertValid([{ path: format, documents: docs }]);
      const all = [r.stdout, r.stderr, ...written.map((f) => readFileSync(join(out, f), 'utf8'))].join('\n');
      assert.ok(!all.includes(VALUE), 'a secret value reached the export');
      assert.match(readFileSync(join(out, 'secrets/mcp-postgresql-env.yaml'), 'utf8'), /stringData:\n {2}DSN: ""\n {2}API_KEY: ""/);
      assert.match(readFileSync(join(out, 'README.md'), 'utf8'), /create secret generic mcp-postgresql-env --from-env-file=/);
      assert.match(readFileSync(join(out, 'README.md'), 'utf8'), /create configmap mcp-postgresql-mount-0 --from-file=dbhub\.toml=/);
      assert.match(readFileSync(join(out, 'README.md'), 'utf8'), /mcp-postgresql\.env: line 2 \(API_KEY\): kubectl refuses the export/);
    });

    test(`${format}: to stdout, without the Secret templates, and no secret value`, () => {
      const r = run(['export', '--desired', join(REPO, 'desired-state'), '--format', format]);
      assert.equal(r.status, 0, r.stderr);
      const kinds = parseAllDocuments(r.stdout).map((d) => (d.toJS() as Manifest).kind);
      assert.ok(kinds.includes('ConfigMap'));
      assert.ok(!kinds.includes('Secret'));
      assert.match(r.stderr, /run first: kubectl -n mcp create secret generic mcp-postgresql-env --from-env-file=\S+mcp-postgresql\.env\n/);
      assert.ok(!`${r.stdout}${r.stderr}`.includes(VALUE));
    });
  }

  test('exporting again into the folder replaces the earlier export (a removed server is gone); a foreign folder is refused', () => {
    const src = join(dir, 'again-desired');
    mkdirSync(src);
    writeFileSync(join(src, 'mcp-one.yaml'), 'image: x/y:1\ntransport: http\nport: 80\n');
    writeFileSync(join(src, 'mcp-two.yaml'), 'image: x/y:1\ntransport: sse\nport: 81\n');
    const out = join(dir, 'out-again');
    assert.equal(run(['export', '--desired', src, '--format', 'kubernetes', '--out', out]).status, 0);
    assert.ok(files(out).includes('mcp-two.yaml'));
    rmSync(join(src, 'mcp-two.yaml'));
    writeFileSync(join(out, 'notes.txt'), 'mine\n');
    const r = run(['export', '--desired', src, '--format', 'kubernetes', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(files(out).sort(), ['README.md', 'litellm.yaml', 'mcp-edge.yaml', 'mcp-one.yaml', 'notes.txt']);
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'deployment.yaml'), 'kind: Deployment\n');
    const f = run(['export', '--desired', src, '--format', 'kubernetes', '--out', foreign]);
    assert.equal(f.status, 1);
    assert.match(f.stderr, /foreign is not empty and holds no earlier export/);
    assert.deepEqual(files(foreign), ['deployment.yaml']);
  });

  test('an env file open to others is refused at envFile, a missing mount source at mounts.0; nothing written', () => {
    const d = join(dir, 'bad-desired');
    mkdirSync(d);
    writeFileSync(join(d, 'mcp-leaky.yaml'), 'image: x/y:1\ntransport: http\nport: 80\nenvFile: leaky.env\n');
    writeFileSync(join(d, 'mcp-nofile.yaml'), 'image: x/y:1\ntransport: http\nport: 80\nmounts:\n  - gone.toml:/etc-app/gone.toml:ro\n');
    writeFileSync(join(secrets, 'leaky.env'), `K=${VALUE}\n`);
    chmodSync(join(secrets, 'leaky.env'), 0o644);
    const out = join(dir, 'out-bad');
    const r = run(['export', '--desired', d, '--format', 'toolhive', '--out', out]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /mcp-leaky\.yaml:4:10 envFile: .*leaky\.env is readable by group or others/);
    assert.match(r.stderr, /mcp-nofile\.yaml:5:5 mounts\.0: source .*gone\.toml does not exist/);
    assert.ok(!r.stderr.includes(VALUE));
    assert.throws(() => statSync(out), /ENOENT/);
  });

  test('env files with odd lines: keys only, as kubectl reads them named by line; no value on any output or in any file', () => {
    const d = join(dir, 'odd-desired');
    mkdirSync(d);
    writeFileSync(join(d, 'mcp-odd.yaml'), 'image: x/y:1\ntransport: http\nport: 80\nenvFile: odd.env\n');
    const lines = [
      `export EXPORTED=${VALUE}-a`,
      `DOUBLE="${VALUE}-b"`,
      `SINGLE='${VALUE}-c'`,
      `NOEQUALS${VALUE.replace(/-/g, '_')}`,
      `${VALUE}`,
      `LONG=${VALUE}${'y'.repeat(40_000)}`,
      `NUL=${VALUE}\0after`,
      `SPACED = ${VALUE}-d`,
    ];
    const binary = Buffer.concat([Buffer.from(`${lines.join('\n')}\n`), Buffer.from([0xff, 0xfe, 0x00, 0x80]), Buffer.from(`${VALUE}\n`)]);
    writeFileSync(join(secrets, 'odd.env'), binary, { mode: 0o600 });
    const out = join(dir, 'out-odd');
    const r = run(['export', '--desired', d, '--format', 'kubernetes', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const template = parse(readFileSync(join(out, 'secrets/odd-env.yaml'), 'utf8')) as { stringData: Record<string, string> };
    assert.deepEqual(Object.keys(template.stringData), ['EXPORTED', 'DOUBLE', 'SINGLE', 'LONG', 'NUL', 'SPACED']);
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    assert.match(readme, /line 1 \(EXPORTED\): kubectl refuses the export prefix/);
    assert.match(readme, /line 8 \(SPACED\): kubectl refuses spaces around =/);
    const all = [r.stdout, r.stderr, ...files(out).map((f) => readFileSync(join(out, f), 'utf8'))].join('\n');
    assert.ok(!all.includes(VALUE), 'a value of the env file reached the export');
    // Larger than the cap (64 KiB): refused by name, nothing of it printed.
    writeFileSync(join(secrets, 'odd.env'), `BIG=${VALUE}${'z'.repeat(70_000)}\n`, { mode: 0o600 });
    const big = run(['export', '--desired', d, '--format', 'kubernetes', '--out', join(dir, 'out-big')]);
    assert.equal(big.status, 1);
    assert.match(big.stderr, /odd\.env is larger than 65536 bytes/);
    assert.ok(!`${big.stdout}${big.stderr}`.includes(VALUE));
  });

  describe('--out never deletes or writes through a symlink, nor outside --out', () => {
    const src = join(dir, 'link-desired');
    mkdirSync(src);
    writeFileSync(join(src, 'mcp-one.yaml'), 'image: x/y:1\ntransport: sse\nport: 80\nenvFile: one.env\n');
    writeFileSync(join(secrets, 'one.env'), 'K=v\n', { mode: 0o600 });
    const exportTo = (out: string): ReturnType<typeof run> => run(['export', '--desired', src, '--format', 'kubernetes', '--out', out]);
    /** An earlier export in a fresh folder, and a folder outside it holding a file of the user's. */
    const earlier = (name: string): { out: string; outside: string; theirs: string } => {
      const out = join(dir, name);
      assert.equal(exportTo(out).status, 0);
      const outside = join(dir, `${name}-outside`);
      mkdirSync(outside);
      writeFileSync(join(outside, 'theirs.yaml'), 'kind: Mine\n');
      return { out, outside, theirs: join(outside, 'theirs.yaml') };
    };

    test('secrets/ a symlink to a folder outside: refused, nothing deleted there', () => {
      const e = earlier('out-link-secrets');
      rmSync(join(e.out, 'secrets'), { recursive: true });
      symlinkSync(e.outside, join(e.out, 'secrets'));
      const r = exportTo(e.out);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /holds secrets\/ that is not a folder of its own/);
      assert.deepEqual(readdirSync(e.outside), ['theirs.yaml']);
    });
    test('README.md a symlink to a file outside (with the mark): refused, the file not overwritten', () => {
      const e = earlier('out-link-readme');
      const mine = join(e.outside, 'README.md');
      writeFileSync(mine, '# mcp-reconciler export --format kubernetes\nmine\n');
      rmSync(join(e.out, 'README.md'));
      symlinkSync(mine, join(e.out, 'README.md'));
      const r = exportTo(e.out);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /holds no earlier export/);
      assert.equal(readFileSync(mine, 'utf8'), '# mcp-reconciler export --format kubernetes\nmine\n');
    });
    test('a .yaml that is a symlink to a file outside: the link is removed, the file it points to kept and unchanged', () => {
      const e = earlier('out-link-yaml');
      rmSync(join(e.out, 'mcp-one.yaml'));
      symlinkSync(e.theirs, join(e.out, 'mcp-one.yaml'));
      symlinkSync(e.theirs, join(e.out, 'secrets', 'stale.yaml'));
      const r = exportTo(e.out);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(e.theirs, 'utf8'), 'kind: Mine\n');
      assert.ok(!lstatSync(join(e.out, 'mcp-one.yaml')).isSymbolicLink());
      assert.deepEqual(readdirSync(join(e.out, 'secrets')), ['one-env.yaml']);
    });
    test('--out itself a symlink to a folder: refused (name the folder itself), nothing deleted there', () => {
      const e = earlier('out-link-self');
      const link = join(dir, 'out-link-self-link');
      symlinkSync(e.out, link);
      const before = files(e.out).sort();
      const r = exportTo(link);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /is a symlink \(name the folder itself\)/);
      assert.deepEqual(files(e.out).sort(), before);
    });
  });

  test('--format is required and checked; a namespace must be a DNS label', () => {
    assert.equal(run(['export']).status, 2);
    const ns = run(['export', '--format', 'toolhive', '--namespace', 'My_NS']);
    assert.equal(ns.status, 2);
    assert.match(ns.stderr, /--namespace My_NS: a namespace is lowercase/);
    const r = run(['export', '--format', 'helm']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Allowed choices are toolhive, kubernetes/);
  });
});

describe('export through the CLI: every catalog template, both formats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'export-catalog-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const target = {
    desiredDir: join(dir, 'desired'),
    projectsRoot: join(dir, 'projects'),
    secretsDir: join(dir, 'secrets'),
    namePrefix: 'mcp-',
  };
  mkdirSync(target.desiredDir);
  mkdirSync(target.projectsRoot);
  mkdirSync(target.secretsDir, { mode: 0o700 });
  const VALUE = `c-${randomBytes(12).toString('hex')}`;
  const templates = templateNames();
  const stdio: string[] = [];
  for (const t of templates) {
    const plan = planAdd(target, t);
    writeAdd(plan);
    if (plan.server.spec.transport === 'stdio') stdio.push(t);
    // The keys the template asks for, with a value no output may contain.
    if (plan.secrets.length > 0) {
      writeFileSync(plan.envFile, plan.secrets.map((x, i) => `${x.key}=${VALUE}-${i}\n`).join(''));
      chmodSync(plan.envFile, 0o600);
    }
  }
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'cfg'),
    MCP_RECONCILER_PROJECTS_ROOT: target.projectsRoot,
    MCP_RECONCILER_SECRETS_DIR: target.secretsDir,
  };

  test('the catalog has templates of every transport kind (so the export below covers them)', () => {
    assert.ok(templates.length >= 7, templates.join(','));
    assert.ok(stdio.length >= 1 && stdio.length < templates.length);
  });

  for (const format of FORMATS) {
    test(`${format}: every template exports, every document is valid, no secret value in the output`, () => {
      const out = join(dir, `out-${format}`);
      const args = ['export', '--desired', target.desiredDir, '--format', format, '--out', out, '--skip-refused'];
      const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env, cwd: dir, timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /refused/);
      const written = readdirSync(out).filter((f) => f.endsWith('.yaml'));
      const exported = templates;
      for (const t of exported) assert.ok(written.includes(`mcp-${t}.yaml`), `mcp-${t}.yaml in ${written.join(',')}`);
      const paths = [...written.map((f) => join(out, f)), ...readdirSync(join(out, 'secrets')).map((f) => join(out, 'secrets', f))];
      const texts = paths.map((p) => readFileSync(p, 'utf8'));
      const docs = texts.flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as Manifest));
      assertValid([{ path: format, documents: docs }]);
      const kinds = format === 'toolhive' ? ['MCPServer'] : ['Deployment', 'StatefulSet'];
      const servers = docs.filter((d) => kinds.includes(d.kind) && d.metadata.name !== 'mcp-edge');
      assert.equal(servers.length, exported.length);
      if (format === 'kubernetes') {
        // Each stdio template is a StatefulSet whose pod the edge's Role names.
        const stateful = docs.filter((d) => d.kind === 'StatefulSet').map((d) => d.metadata.name).sort();
        assert.deepEqual(stateful, stdio.map((t) => `mcp-${t}`).sort());
        const role = docs.find((d) => d.kind === 'Role')!['rules'] as { resourceNames: string[] }[];
        assert.deepEqual(role[1]!.resourceNames, stdio.map((t) => `mcp-${t}-0`).sort());
      }
      assert.ok(![r.stdout, r.stderr, ...texts, readFileSync(join(out, 'README.md'), 'utf8')].join('\n').includes(VALUE));
    });
  }
});

test('renderFile: a comment line with line breaks (a path holding \n---\n, U+2028, U+0085) stays comment; no extra document', () => {
  const evil = '/srv/a\n---\napiVersion: v1\nkind: Secret\rb\u2028---\u2028c\u0085---\u0085d\u0007';
  const documents = [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }];
  const f = { path: 'x.yaml', apply: true, comment: [`From ${evil}`], documents };
  const text = renderFile(f);
  const head = text.slice(0, text.indexOf('\n---\n'));
  for (const line of head.split('\n')) assert.match(line, /^#( |$)/, JSON.stringify(line));
  assert.ok(!/[\r\u0085\u2028\u2029\u0007]/.test(text));
  assert.deepEqual(parseAllDocuments(text).map((d) => (d.toJS() as Manifest).kind), ['ConfigMap']);
});

test('values with newlines, ---, anchors, tags and comments in env, args and description stay scalars: one document each', () => {
  const tricky = ['a\n---\nkind: Secret', '--- x', '*ref', '&anchor v', '!!binary AAAA', 'a # not a comment', '...'];
  tricky.push('x\u2028---\u2028y', "'\"q");
  const text = [
    'image: x/y:1',
    'transport: sse',
    'port: 80',
    `description: ${JSON.stringify(tricky.join(' | '))}`,
    `command: ${JSON.stringify(tricky)}`,
    'env:',
    ...tricky.map((v, i) => `  V${i}: ${JSON.stringify(v)}`),
    '',
  ].join('\n');
  for (const format of FORMATS) {
    const r = exportManifests(format, [{ desired: desired('tricky', text), host: noHost }], OPTS);
    for (const f of r.files) {
      const docs = parseAllDocuments(renderFile(f));
      assert.equal(docs.length, f.documents.length, `${format} ${f.path}`);
      assert.deepEqual(docs.map((d) => d.toJS() as unknown), f.documents, `${format} ${f.path}`);
    }
  }
});

test('renderFile writes the comment, then one document per object, without YAML aliases', () => {
  const r = exportManifests('kubernetes', [{ desired: desired('sse', CASES['sse']!), host: noHost }], OPTS);
  const text = renderFile(r.files[0]!);
  assert.match(text, /^# From desired\/mcp-sse\.yaml/);
  assert.equal(text.split('\n---\n').length, 4);
  assert.ok(!/[&*]a\d/.test(text));
});
