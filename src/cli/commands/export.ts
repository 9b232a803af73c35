import type { Command } from 'commander';
import { Option } from 'commander';
import { lstatSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Settings } from '../../config/settings.js';
import { displayPath, loadDesiredDir, type DesiredServer } from '../../desired/load.js';
import { envFileKeys, kubectlEnvFileProblems, readSecretsFile } from '../../desired/env-file.js';
import { InputError, mountBinds, serverEnvFile } from '../../desired/resolve.js';
import { errorMessage, formatIssue, type LocatedIssue } from '../../errors/index.js';
import {
  EXPORT_FORMATS,
  exportManifests,
  renderFile,
  type ExportFile,
  type ExportFormat,
  type ExportServer,
  type HostFacts,
} from '../../export/index.js';
import { writeNewFile } from '../../fs/atomic-write.js';
import { readRegularFile } from '../../fs/safe-read.js';
import { schemaCheck } from '../../export/validate.js';
import { LABEL_ROLE } from '../../export/pod.js';
import { defineCommand, onRun, usageError, Exit } from '../command.js';
import { settingsFrom, type GlobalOptions } from '../shared.js';

interface ExportOptions {
  format: ExportFormat;
  namespace: string;
  out?: string;
  skipRefused?: boolean;
}

export const DEFAULT_NAMESPACE = 'mcp';

export function register(program: Command): void {
  const cmd = defineCommand(program, 'export', 'write the desired state as Kubernetes manifests (toolhive operator or plain; ADR 0018)', {
    examples: ['--format toolhive --namespace mcp --out ./k8s', '--format kubernetes | kubectl apply -f -'],
    exits: [
      [Exit.Ok, 'exported (and every document valid against the checked-in schemas)'],
      [Exit.Error, 'an invalid desired file, a server the format cannot express (nothing written), or settings that do not load'],
    ],
  })
    .addOption(
      new Option('--format <format>', 'toolhive: MCPServer resources; kubernetes: Deployments, Services, NetworkPolicies')
        .choices(EXPORT_FORMATS)
        .makeOptionMandatory(),
    )
    .option('--namespace <ns>', 'namespace of every object', DEFAULT_NAMESPACE)
    .option('--out <dir>', 'write one file per server, litellm.yaml, secrets/ templates and README.md there (default: documents on stdout)')
    .option('--skip-refused', 'export the other servers when one cannot be expressed (it is named on stderr)');
  onRun(cmd, (o: ExportOptions, c: Command) => exportCommand(o, c.optsWithGlobals<GlobalOptions>(), c));
}

/** The env file's keys and each mount source's kind: what the pure export needs from this machine. Never a value. */
function hostFacts(settings: Settings, d: DesiredServer): HostFacts | LocatedIssue[] {
  const at = (path: string, message: string): LocatedIssue => {
    const pos = d.positions[path] ?? { line: 1, col: 1 };
    return { file: d.file, ...pos, path, message, severity: 'error' };
  };
  const problems: LocatedIssue[] = [];
  let envFile: HostFacts['envFile'] = null;
  const envField = typeof d.spec.envFile === 'object' ? 'envFile.path' : 'envFile';
  try {
    const path = serverEnvFile(settings, d);
    if (path) {
      const text = readSecretsFile(path);
      envFile = { path, keys: envFileKeys(text), kubectlProblems: kubectlEnvFileProblems(text) };
    }
  } catch (err) {
    problems.push(err instanceof InputError ? at(err.path, err.message.slice(err.path.length + 2)) : at(envField, errorMessage(err)));
  }
  const mounts: HostFacts['mounts'] = [];
  try {
    for (const bind of mountBinds(settings, d)) {
      // `<real source>:<target>:ro`; a target has no colon (the schema), a source may.
      const noMode = bind.slice(0, bind.lastIndexOf(':'));
      const source = noMode.slice(0, noMode.lastIndexOf(':'));
      mounts.push({ source, kind: statSync(source).isDirectory() ? 'dir' : 'file' });
    }
  } catch (err) {
    problems.push(err instanceof InputError ? at(err.path, err.message.slice(err.path.length + 2)) : at('mounts', errorMessage(err)));
  }
  return problems.length ? problems : { envFile, mounts };
}

/** A namespace name is a DNS-1123 label. */
export const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function exportCommand(o: ExportOptions, globals: GlobalOptions, cmd: Command): number {
  if (!NAMESPACE_RE.test(o.namespace)) {
    usageError(cmd, `--namespace ${o.namespace}: a namespace is lowercase letters, digits and -, at most 63`);
  }
  let settings: Settings;
  try {
    settings = settingsFrom(globals);
  } catch (err) {
    process.stderr.write(`${errorMessage(err)}\n`);
    return Exit.Error;
  }
  const load = loadDesiredDir(settings.desiredDir);
  if (load.dirState !== 'ok') {
    const why = load.dirState === 'missing' ? 'does not exist' : 'is not a readable directory';
    process.stderr.write(`${displayPath(settings.desiredDir)}: desired directory ${why}\n`);
    return Exit.Error;
  }
  if (load.invalid.length > 0) {
    for (const bad of load.invalid) for (const i of bad.issues) process.stderr.write(`${formatIssue(i)}\n`);
    process.stderr.write(`${load.invalid.length} invalid desired file(s): nothing exported (mcp-reconciler validate)\n`);
    return Exit.Error;
  }
  const servers: ExportServer[] = [];
  const refused: LocatedIssue[] = [];
  for (const d of load.servers) {
    const host = hostFacts(settings, d);
    if (Array.isArray(host)) refused.push(...host);
    else servers.push({ desired: d, host });
  }
  const result = exportManifests(o.format, servers, {
    namespace: o.namespace,
    prefix: settings.namePrefix,
    edgeImage: settings.edge.image,
    edgePort: settings.edge.port,
  });
  refused.push(...result.refusals);
  for (const r of refused) process.stderr.write(`${formatIssue(r)}\n`);
  if (refused.length > 0 && !o.skipRefused) {
    const n = new Set(refused.map((r) => r.file)).size;
    process.stderr.write(`${n} server(s) cannot be exported as ${o.format}: nothing written (--skip-refused exports the others)\n`);
    return Exit.Error;
  }
  const check = schemaCheck();
  const invalid = result.files.flatMap((f) => f.documents.flatMap((d) => check.validate(d).map((p) => `${f.path}: ${p}`)));
  if (invalid.length > 0) {
    for (const p of invalid) process.stderr.write(`${p}\n`);
    process.stderr.write('the export does not match the checked-in schemas (a bug of mcp-reconciler): nothing written\n');
    return Exit.Error;
  }
  if (o.out === undefined) {
    process.stdout.write(result.files.filter((f) => f.apply).map(renderFile).join(''));
    for (const c of result.commands) process.stderr.write(`run first: ${c}\n`);
    for (const n of result.notes) process.stderr.write(`note: ${n}\n`);
    return Exit.Ok;
  }
  const dir = resolve(o.out);
  const stale = previousExport(dir);
  if (typeof stale === 'string') {
    process.stderr.write(`${displayPath(dir)} ${stale}: pick another --out\n`);
    return Exit.Error;
  }
  try {
    writeExport(dir, stale, result.files, readme(o, result.notes, result.commands, templatesOf(result.files), edgeFileOf(result.files)));
  } catch (err) {
    process.stderr.write(`${displayPath(dir)}: ${errorMessage(err)}\n`);
    return Exit.Error;
  }
  const docs = result.files.reduce((n, f) => n + f.documents.length, 0);
  const next = displayPath(join(dir, 'README.md'));
  process.stdout.write(`${result.files.length} file(s), ${docs} document(s) in ${displayPath(dir)}; next steps: ${next}\n`);
  return Exit.Ok;
}

function edgeFileOf(files: ExportFile[]): string | null {
  const edge = files.find((f) => f.documents.some((d) => d.kind === 'Deployment' && d.metadata.labels?.[LABEL_ROLE] === 'edge'));
  return edge ? edge.path : null;
}

function templatesOf(files: ExportFile[]): string[] {
  return files.filter((f) => !f.apply).map((f) => f.path);
}

/**
 * An earlier export's manifests go first (a server removed since must not be applied again by
 * `kubectl apply -f`), then every file is created anew (`wx`: never written through a symlink put in
 * its place, nor over anything that appeared meanwhile), README.md last.
 */
function writeExport(dir: string, stale: string[], files: ExportFile[], readmeText: string): void {
  for (const f of stale) rmSync(join(dir, f)); // unlink: a symlink goes, never what it points to
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    const sub = dirname(f.path);
    if (sub !== '.') realDir(join(dir, sub));
    writeNewFile(join(dir, f.path), renderFile(f), OUT_FILE_MODE);
  }
  writeNewFile(join(dir, 'README.md'), readmeText, OUT_FILE_MODE);
}

/** What --out holds carries keys and paths, never a value. */
const OUT_FILE_MODE = 0o644;

/** `p` made, or there as a folder of its own (a symlink to one is refused: nothing is written through it). */
function realDir(p: string): void {
  try {
    mkdirSync(p, { mode: 0o755 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !lstatSync(p).isDirectory()) throw err;
  }
}

/** The first line of the README.md an export writes: marks a folder whose manifests a new export may replace. */
export const README_MARK = '# mcp-reconciler export';

/**
 * What an earlier export left in `dir` that a new one removes: its .yaml files (top level and secrets/)
 * and its README.md; [] for a missing or empty folder. A string says why `dir` is not ours to clear:
 * anything else in it, `dir` or its secrets/ or README.md a symlink (never followed: clearing stays
 * inside --out and deletes through no link).
 */
function previousExport(dir: string): string[] | string {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (st === undefined) return [];
  if (st.isSymbolicLink()) return 'is a symlink (name the folder itself)';
  if (!st.isDirectory()) return 'is not a folder';
  const entries = readdirSync(dir);
  if (entries.length === 0) return [];
  let first = '';
  try {
    first = readRegularFile(join(dir, 'README.md'), { maxBytes: 1024 * 1024, noFollow: true }).split('\n', 1)[0] ?? '';
  } catch {
    first = '';
  }
  if (!first.startsWith(README_MARK)) return `is not empty and holds no earlier export (no ${README_MARK} README.md)`;
  const secrets = lstatSync(join(dir, 'secrets'), { throwIfNoEntry: false });
  if (secrets !== undefined && !secrets.isDirectory()) return 'holds secrets/ that is not a folder of its own (a symlink?)';
  const yaml = (sub: string, names: string[]): string[] =>
    names
      .filter((f) => /\.ya?ml$/.test(f) && !lstatSync(join(dir, sub, f)).isDirectory())
      .map((f) => join(sub, f));
  return [...yaml('', entries), ...yaml('secrets', secrets ? readdirSync(join(dir, 'secrets')) : []), 'README.md'];
}

function readme(o: ExportOptions, notes: string[], commands: string[], templates: string[], edge: string | null): string {
  const lines = [
    `${README_MARK} --format ${o.format}`,
    '',
    'Generated: exporting again into this folder replaces every .yaml file here and in secrets/.',
    'Every document was validated against the schemas in schema/ of mcp-reconciler.',
    '',
    '1. Namespace and secrets (the values stay in your env files; kubectl reads them itself):',
    '',
    '```',
    `kubectl create namespace ${o.namespace}`,
    ...commands,
    '```',
    '',
    ...(templates.length ? [`   Templates (keys only, never apply as they are): ${templates.join(', ')}`, ''] : []),
    `2. ${[
      ...(o.format === 'toolhive' ? ['The toolhive operator and its CRDs (v0.44.0) are installed in the cluster.'] : []),
      ...(edge ? [`The reconciler's image, which ${edge} runs, is in a registry the cluster pulls from.`] : []),
      ...(o.format !== 'toolhive' && !edge ? ['Nothing else to install.'] : []),
    ].join(' ')}`,
    '',
    `3. \`kubectl apply -f .\` here (not recursive: secrets/ is left out).`,
    '',
    '4. LiteLLM: see the comment at the top of litellm.yaml for the Helm chart values.',
    '',
    'Notes:',
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ];
  return lines.join('\n');
}
