/**
 * Validates exported documents against the schemas checked into schema/ (schema/kubernetes/README.md,
 * schema/toolhive/README.md): Kubernetes v1.34.0 JSON schemas of the kinds the export writes, and the
 * MCPServer CRD of toolhive v0.44.0 (its podTemplateSpec, which the CRD leaves open, against
 * Kubernetes' PodTemplateSpec).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { parseAllDocuments } from 'yaml';
import { APP_ROOT } from '../install/install.js';
import type { Manifest } from './model.js';

export const KUBERNETES_SCHEMA_VERSION = 'v1.34.0';
export const TOOLHIVE_CRD_VERSION = 'v0.44.0';
export const KUBERNETES_SCHEMA_DIR = join(APP_ROOT, 'schema', 'kubernetes', KUBERNETES_SCHEMA_VERSION);
export const TOOLHIVE_CRD_FILE = join(APP_ROOT, 'schema', 'toolhive', TOOLHIVE_CRD_VERSION, 'toolhive.stacklok.dev_mcpservers.yaml');
export const TOOLHIVE_TOOLCONFIG_CRD_FILE = join(
  APP_ROOT,
  'schema',
  'toolhive',
  TOOLHIVE_CRD_VERSION,
  'toolhive.stacklok.dev_mcptoolconfigs.yaml',
);

/** apiVersion/kind -> the schema file of that kind. */
const KINDS: Record<string, string> = {
  'apps/v1/Deployment': 'deployment-apps-v1.json',
  'v1/Service': 'service-v1.json',
  'v1/Secret': 'secret-v1.json',
  'v1/ConfigMap': 'configmap-v1.json',
  'networking.k8s.io/v1/NetworkPolicy': 'networkpolicy-networking-v1.json',
  'v1/PersistentVolumeClaim': 'persistentvolumeclaim-v1.json',
  'apps/v1/StatefulSet': 'statefulset-apps-v1.json',
  'v1/ServiceAccount': 'serviceaccount-v1.json',
  'rbac.authorization.k8s.io/v1/Role': 'role-rbac-v1.json',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'rolebinding-rbac-v1.json',
};
const DEFS_ID = 'https://kubernetes.io/api/_definitions.json';

/**
 * The CRD's openAPIV3Schema for one version, closed: the API server prunes a field a structural schema
 * does not list (silently), so for us an unknown field is an error. Open where the CRD says so
 * (x-kubernetes-preserve-unknown-fields, additionalProperties).
 */
interface CrdVersion {
  name: string;
  schema: { openAPIV3Schema: Record<string, unknown> };
}

export function closedCrdSchema(crdYaml: string, version: string): Record<string, unknown> {
  const crd = parseAllDocuments(crdYaml)
    .map((d) => d.toJS() as { kind?: string; spec?: { versions?: CrdVersion[] } })
    .find((d) => d?.kind === 'CustomResourceDefinition');
  const v = crd?.spec?.versions?.find((x) => x.name === version);
  if (!v) throw new Error(`CRD has no version ${version}`);
  const close = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(close);
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    const open = o['additionalProperties'] !== undefined || o['x-kubernetes-preserve-unknown-fields'];
    if (o['properties'] && !open) o['additionalProperties'] = false;
    Object.values(o).forEach(close);
  };
  const schema = structuredClone(v.schema.openAPIV3Schema);
  close(schema);
  return schema;
}

export interface SchemaCheck {
  /** Problems of one document, `<kind>/<name>: <path> <message>`; empty when it is valid. */
  validate(doc: Manifest): string[];
}

let cached: SchemaCheck | null = null;

/** The validator over the checked-in schemas (compiled once per process). */
export function schemaCheck(): SchemaCheck {
  if (cached) return cached;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  for (const f of ['int32', 'int64']) ajv.addFormat(f, { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) });
  ajv.addSchema(JSON.parse(readFileSync(join(KUBERNETES_SCHEMA_DIR, '_definitions.json'), 'utf8')) as object);
  const byKind = new Map<string, ValidateFunction>();
  const kindSchema = (file: string): object => JSON.parse(readFileSync(join(KUBERNETES_SCHEMA_DIR, file), 'utf8')) as object;
  for (const [key, file] of Object.entries(KINDS)) byKind.set(key, ajv.compile(kindSchema(file)));
  const podTemplate = ajv.compile(kindSchema('podtemplatespec-v1.json'));
  const objectMeta = ajv.compile({ $ref: `${DEFS_ID}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` });
  byKind.set('toolhive.stacklok.dev/v1beta1/MCPServer', ajv.compile(closedCrdSchema(readFileSync(TOOLHIVE_CRD_FILE, 'utf8'), 'v1beta1')));
  const toolConfig = closedCrdSchema(readFileSync(TOOLHIVE_TOOLCONFIG_CRD_FILE, 'utf8'), 'v1beta1');
  byKind.set('toolhive.stacklok.dev/v1beta1/MCPToolConfig', ajv.compile(toolConfig));
  const errors = (fn: ValidateFunction, at: string): string[] =>
    (fn.errors ?? []).map((e) => {
      const extra = e.params && 'additionalProperty' in e.params ? ` (${String(e.params['additionalProperty'])})` : '';
      return `${at}${e.instancePath || '/'} ${e.message ?? 'invalid'}${extra}`;
    });
  cached = {
    validate(doc) {
      const where = `${doc.kind}/${doc.metadata?.name ?? '?'}: `;
      const fn = byKind.get(`${doc.apiVersion}/${doc.kind}`);
      if (!fn) return [`${where}no schema for ${doc.apiVersion} ${doc.kind}`];
      const out = fn(doc) ? [] : errors(fn, where);
      // Names the schemas do not check: DNS-1123 labels, a Service's a DNS-1035 label (starts with a letter).
      const name = String(doc.metadata?.name ?? '');
      const label = doc.kind === 'Service' ? /^[a-z]([-a-z0-9]*[a-z0-9])?$/ : /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
      const rule = doc.kind === 'Service' ? 'DNS-1035' : 'DNS-1123';
      if (!label.test(name) || name.length > 63) out.push(`${where}metadata.name is not a ${rule} label`);
      if (doc.kind === 'MCPServer' || doc.kind === 'MCPToolConfig') {
        if (!objectMeta(doc.metadata)) out.push(...errors(objectMeta, `${where}metadata`));
      }
      if (doc.kind === 'MCPServer') {
        const pts = (doc['spec'] as { podTemplateSpec?: unknown } | undefined)?.podTemplateSpec;
        if (pts !== undefined && !podTemplate(pts)) out.push(...errors(podTemplate, `${where}spec.podTemplateSpec`));
      }
      return out;
    },
  };
  return cached;
}
