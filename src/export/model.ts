/**
 * Types of the Kubernetes export (docs/adr/0018): pure functions from loaded desired files plus a few
 * host facts (names, never values) to Kubernetes documents.
 */
import type { DesiredServer } from '../desired/load.js';
import type { LocatedIssue } from '../errors/index.js';

export const EXPORT_FORMATS = ['toolhive', 'kubernetes'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One Kubernetes object as plain data. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** What the export needs to know about a server besides its desired file: paths and names, never a value. */
export interface HostFacts {
  /** The env file the server gets (confined to the secrets dir, as the reconciler resolves it) and its variable names. */
  envFile: { path: string; keys: string[]; kubectlProblems?: string[] } | null;
  /** Per `mounts:` entry: its source on this machine and whether that is a file or a folder. */
  mounts: { source: string; kind: 'file' | 'dir' }[];
}

export interface ExportServer {
  desired: DesiredServer;
  host: HostFacts;
}

export interface ExportOptions {
  /** Namespace of every object (and of the Service addresses LiteLLM is given). */
  namespace: string;
  /** settings.namePrefix (`mcp-`). */
  prefix: string;
  /** The reconciler's image, which the edge runs (kubernetes format). */
  edgeImage: string;
  edgePort: number;
}

/** A desired file or field the target cannot express: file, line, col and the field's dot path. */
export type Refusal = LocatedIssue;

/** One output file: documents applied together, or templates a user fills in (never applied as they are). */
export interface ExportFile {
  /** Relative to --out. */
  path: string;
  /** false: a template under secrets/ (keys without values); `kubectl apply -f <dir>` does not recurse into it. */
  apply: boolean;
  /** Comment lines written at the top of the file (without `# `). */
  comment: string[];
  documents: Manifest[];
}

export interface ExportResult {
  files: ExportFile[];
  /** Servers left out, with why; nothing of theirs is in `files`. */
  refusals: Refusal[];
  /** What the user should know (replacements, what is not carried over), each naming its desired file. */
  notes: string[];
  /** Shell commands to run before `kubectl apply`: Secrets and ConfigMaps created from local files by kubectl. */
  commands: string[];
}
