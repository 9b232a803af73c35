#!/usr/bin/env node
// Copies the Kubernetes JSON schemas of the kinds `mcp-reconciler export` emits into schema/kubernetes/<version>/,
// with `_definitions.json` reduced to the definitions those kinds reach ($ref closure; each kept verbatim).
// Source: the `kubernetes-json-schema/<version>-local-strict/` folder of the PyPI wheel kubernetes-validate
// (schema/kubernetes/README.md names the wheel, its sha256 and the version).
//   node scripts/vendor-kubernetes-schemas.mjs <source dir> <dest dir>
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const KINDS = [
  'deployment-apps-v1.json',
  'service-v1.json',
  'secret-v1.json',
  'configmap-v1.json',
  'networkpolicy-networking-v1.json',
  'persistentvolumeclaim-v1.json',
  'podtemplatespec-v1.json',
  'statefulset-apps-v1.json',
  'serviceaccount-v1.json',
  'role-rbac-v1.json',
  'rolebinding-rbac-v1.json',
];

const [src, dest] = process.argv.slice(2);
if (!src || !dest) {
  process.stderr.write('usage: vendor-kubernetes-schemas.mjs <source dir> <dest dir>\n');
  process.exit(2);
}
mkdirSync(dest, { recursive: true });
const defs = JSON.parse(readFileSync(join(src, '_definitions.json'), 'utf8'));
const keep = new Set();
// Kind files point into _definitions.json by absolute path, definitions at each other by fragment.
const PREFIXES = ['/api/_definitions.json#/$defs/', '#/$defs/'];
function walk(node) {
  if (Array.isArray(node)) return node.forEach(walk);
  if (node === null || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    const prefix = k === '$ref' && typeof v === 'string' ? PREFIXES.find((p) => v.startsWith(p)) : undefined;
    if (prefix !== undefined) {
      const name = v.slice(prefix.length);
      if (!keep.has(name)) {
        if (!(name in defs.$defs)) throw new Error(`missing definition ${name}`);
        keep.add(name);
        walk(defs.$defs[name]);
      }
    } else walk(v);
  }
}
for (const k of KINDS) {
  const text = readFileSync(join(src, k), 'utf8');
  walk(JSON.parse(text));
  writeFileSync(join(dest, k), text);
}
const out = { ...defs, $defs: Object.fromEntries([...keep].sort().map((n) => [n, defs.$defs[n]])) };
writeFileSync(join(dest, '_definitions.json'), `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`${KINDS.length} kinds, ${keep.size} of ${Object.keys(defs.$defs).length} definitions\n`);
