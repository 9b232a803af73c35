/**
 * `mcp-reconciler export` (docs/adr/0018): the desired state as Kubernetes documents, for the toolhive
 * operator or as plain manifests. Pure: desired files and host facts in, files of documents out.
 */
import { stringify } from 'yaml';
import { exportKubernetes } from './kubernetes.js';
import { exportToolhive } from './toolhive.js';
import type { ExportFile, ExportFormat, ExportOptions, ExportResult, ExportServer } from './model.js';

export * from './model.js';

export function exportManifests(format: ExportFormat, servers: readonly ExportServer[], o: ExportOptions): ExportResult {
  return format === 'toolhive' ? exportToolhive(servers, o) : exportKubernetes(servers, o);
}

/** A file's YAML: its comment, then one document per object. */
export function renderFile(f: ExportFile): string {
  const head = f.comment.map((l) => `# ${l}`.trimEnd()).join('\n');
  const docs = f.documents.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false }));
  return `${head}\n${docs.map((d) => `---\n${d}`).join('')}`;
}
