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

/**
 * Line breaks as YAML 1.1 parsers (kubectl's go-yaml) know them; a path in a comment that held one would
 * start a line of its own, a `---` there a document of its own.
 */
const LINE_BREAK = /\r\n|[\r\n\u0085\u2028\u2029]/;

/** A file's YAML: its comment (every line of it `# `, other control characters `?`), then one document per object. */
export function renderFile(f: ExportFile): string {
  const lines = f.comment.flatMap((l) => l.split(LINE_BREAK)).map((l) => l.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?'));
  const head = lines.map((l) => `# ${l}`.trimEnd()).join('\n');
  const docs = f.documents.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false }));
  return `${head}\n${docs.map((d) => `---\n${d}`).join('')}`;
}
