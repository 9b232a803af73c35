import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Settings } from '../config/settings.js';
import { parseDesiredFile, type DesiredServer } from '../desired/load.js';
import { mountRe } from '../desired/schema.js';
import { writeNewFile } from '../fs/atomic-write.js';
import { clip } from '../fs/safe-read.js';

/**
 * The offline catalog (docs/adr/0020): vetted desired files shipped in the package, `catalog/<template>.yaml`,
 * with the files their server folder needs in `catalog/<template>/`, and what `add` prints about secrets in
 * `catalog/_catalog.yaml`. `add` renders one, validates it with the loader the daemon uses, and writes it
 * without ever replacing a file or folder.
 */
export const CATALOG_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../catalog');

/** A template's name is its file name; `_catalog.yaml` (and anything else) is not a template. */
const TEMPLATE_FILE_RE = /^([a-z0-9][a-z0-9-]*)\.yaml$/;
const META_FILE = '_catalog.yaml';
/** The placeholders a template may use; anything else in `{{ }}` is a broken template. */
const PLACEHOLDER_RE = /\{\{(\w+)\}\}/g;

const SecretNeedSchema = z.strictObject({
  key: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
  example: z.string().min(1),
  why: z.string().min(1),
});
export type SecretNeed = z.output<typeof SecretNeedSchema>;
const MetaSchema = z.record(
  z.string(),
  z.strictObject({ secrets: z.array(SecretNeedSchema).default([]), next: z.array(z.string()).default([]) }),
);

/** Why `add` refused; the command turns `kind` into an exit code. */
export class CatalogError extends Error {
  readonly kind: 'unknown-template' | 'bad-name' | 'exists' | 'missing-dir' | 'broken-template';
  constructor(kind: CatalogError['kind'], message: string) {
    super(message);
    this.name = 'CatalogError';
    this.kind = kind;
  }
}

/** The templates in a catalog folder, sorted. */
export function templateNames(dir: string = CATALOG_DIR): string[] {
  return readdirSync(dir)
    .map((f) => TEMPLATE_FILE_RE.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();
}

/** `{{name}}` and the like replaced; an unknown placeholder is a broken template. */
export function render(text: string, vars: Record<string, string>, what: string): string {
  return text.replace(PLACEHOLDER_RE, (_m, key: string) => {
    const v = vars[key];
    if (v === undefined) throw new CatalogError('broken-template', `${what}: unknown placeholder {{${key}}}`);
    return v;
  });
}

/** One line per template for `add --list`: its name and the `description:` it gives LiteLLM. */
export function listTemplates(dir: string = CATALOG_DIR): { template: string; description: string }[] {
  return templateNames(dir).map((template) => {
    const text = render(readFileSync(join(dir, `${template}.yaml`), 'utf8'), { name: template, container: `mcp-${template}` }, template);
    const doc = parseYaml(text) as { description?: unknown } | null;
    return { template, description: typeof doc?.description === 'string' ? doc.description : '' };
  });
}

function readMeta(dir: string): z.output<typeof MetaSchema> {
  let text: string;
  try {
    text = readFileSync(join(dir, META_FILE), 'utf8');
  } catch {
    return {};
  }
  const parsed = MetaSchema.safeParse(parseYaml(text) ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new CatalogError('broken-template', `${META_FILE}: ${issues}`);
  }
  return parsed.data;
}

/** Every file below `dir`, as paths relative to it (sorted). */
function filesBelow(dir: string, base: string = dir): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = join(dir, e);
    return lstatSync(p).isDirectory() ? filesBelow(p, base) : [relative(base, p)];
  });
}

/** Does anything (a dangling symlink too) exist at `p`? */
function present(p: string): boolean {
  return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}

/** Everything `add` would write and print, decided before anything is written. */
export interface AddPlan {
  template: string;
  name: string;
  /** `<desiredDir>/mcp-<name>.yaml` */
  desiredFile: string;
  /** The rendered desired file, comments kept. */
  text: string;
  /** It, as the loader reads it (warnings such as a floating :latest included). */
  server: DesiredServer;
  /** `<projectsRoot>/<name>`, when the template writes into it. */
  folder: string | null;
  /** Files for the server folder (relative to it), rendered. */
  files: { path: string; text: string }[];
  /** Mount sources the template ships no file for: created as empty folders. */
  dirs: string[];
  /** The env file the server reads (`<secretsDir>/<namePrefix><name>.env`) and the keys to put there. */
  envFile: string;
  secrets: SecretNeed[];
  next: string[];
}

export type AddTarget = Pick<Settings, 'desiredDir' | 'projectsRoot' | 'secretsDir' | 'namePrefix'>;

/**
 * Render a template for one server name and check it with the desired-file validation the daemon
 * uses (the name rules included: a refused name is `bad-name`). Reads the catalog and looks whether
 * the targets exist; writes nothing.
 */
export function planAdd(target: AddTarget, template: string, name: string = template, dir: string = CATALOG_DIR): AddPlan {
  if (!templateNames(dir).includes(template)) {
    throw new CatalogError('unknown-template', `no template "${clip(template)}"; \`add --list\` shows them`);
  }
  const container = `${target.namePrefix}${name}`;
  const folder = join(target.projectsRoot, name);
  const vars = { name, container, folder };
  const fileName = `mcp-${name}.yaml`;
  const text = render(readFileSync(join(dir, `${template}.yaml`), 'utf8'), vars, `${template}.yaml`);
  const r = parseDesiredFile(text, fileName, fileName);
  if (r.invalid) {
    // The loader could not take a name from the file name: the name is what it refused.
    if (r.invalid.name === null) throw new CatalogError('bad-name', `--name ${clip(name)}: ${r.invalid.issues[0]?.message ?? 'refused'}`);
    const issues = r.invalid.issues.map((i) => `${i.line}:${i.col} ${i.path ? `${i.path}: ` : ''}${i.message}`).join('; ');
    throw new CatalogError('broken-template', `${template}.yaml does not validate: ${issues}`);
  }
  const server = r.server!;
  const files = filesBelow(join(dir, template)).map((p) => ({
    path: p,
    text: render(readFileSync(join(dir, template, p), 'utf8'), vars, `${template}/${p}`),
  }));
  const dirs = (server.spec.mounts ?? [])
    .map((m) => mountRe.exec(m)!.groups!['src']!.replace(/\/+$/, ''))
    .filter((src) => !files.some((f) => f.path === src || f.path.startsWith(`${src}/`)));
  const meta = readMeta(dir)[template] ?? { secrets: [], next: [] };
  const plan: AddPlan = {
    template,
    name,
    desiredFile: join(target.desiredDir, fileName),
    text,
    server,
    folder: files.length > 0 || dirs.length > 0 ? folder : null,
    files,
    dirs,
    envFile: join(target.secretsDir, `${container}.env`),
    secrets: meta.secrets,
    next: meta.next.map((n) => render(n, vars, `${META_FILE} ${template}.next`)),
  };
  refuseExisting(target, plan);
  return plan;
}

/** Never replace: a desired file of that name (.yaml or .yml) or the server folder it would write. */
function refuseExisting(target: AddTarget, plan: AddPlan): void {
  for (const [what, p] of [['desired dir', target.desiredDir], ['projects root', target.projectsRoot]] as const) {
    if (!present(p)) throw new CatalogError('missing-dir', `the ${what} ${p} does not exist (\`mcp-reconciler install\` creates it)`);
  }
  for (const f of [plan.desiredFile, plan.desiredFile.replace(/\.yaml$/, '.yml')]) {
    if (present(f)) throw new CatalogError('exists', `${f} exists; not replaced (edit it, or remove it first, or pick another --name)`);
  }
  if (plan.folder !== null && present(plan.folder)) {
    throw new CatalogError('exists', `${plan.folder} exists; not replaced (remove it first, or pick another --name)`);
  }
}

/** Modes of what `add` writes, whatever the umask: nothing in it is secret, and a server's container may run as another uid. */
export const FILE_MODE = 0o644;
export const DIR_MODE = 0o755;

/** `rel`'s folders below `root` (a folder this call made), each a real folder with DIR_MODE. */
function makeDirs(root: string, rel: string): void {
  let p = root;
  for (const part of rel.split('/').filter((x) => x !== '' && x !== '.')) {
    p = join(p, part);
    try {
      mkdirSync(p, { mode: DIR_MODE });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !lstatSync(p).isDirectory()) throw err;
    }
    chmodSync(p, DIR_MODE);
  }
}

/**
 * Write a plan: the server folder first (created, never reused) with its files, then the desired file
 * through a hidden temp file and a hard link, so the daemon's watcher never sees half a file and an
 * existing file is never replaced, even one that appeared after planAdd. Nothing is written through a
 * symlink (O_EXCL, link(2)). Whatever fails midway (a full disk, a folder gone), what this call made
 * is removed again: no half-written server folder stays behind. Returns the paths written.
 */
export function writeAdd(plan: AddPlan): string[] {
  const written: string[] = [];
  let madeFolder = false;
  let madeTmp = false;
  const tmp = join(dirname(plan.desiredFile), `.mcp-${plan.name}.yaml.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    if (plan.folder !== null) {
      try {
        mkdirSync(plan.folder, { mode: DIR_MODE });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CatalogError('exists', `${plan.folder} exists; not replaced`);
        throw err;
      }
      madeFolder = true;
      chmodSync(plan.folder, DIR_MODE);
      for (const f of plan.files) {
        makeDirs(plan.folder, dirname(f.path));
        const p = join(plan.folder, f.path);
        writeNewFile(p, f.text, FILE_MODE);
        written.push(p);
      }
      for (const d of plan.dirs) {
        makeDirs(plan.folder, d);
        written.push(`${join(plan.folder, d)}/`);
      }
    }
    writeNewFile(tmp, plan.text, FILE_MODE, () => (madeTmp = true));
    try {
      linkSync(tmp, plan.desiredFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CatalogError('exists', `${plan.desiredFile} exists; not replaced`);
      throw err;
    }
  } catch (err) {
    // Only what this call created is removed again (rm never follows a symlink put in its place).
    if (madeFolder) rmSync(plan.folder!, { recursive: true, force: true });
    throw err;
  } finally {
    if (madeTmp) rmSync(tmp, { force: true });
  }
  written.unshift(plan.desiredFile);
  return written;
}
