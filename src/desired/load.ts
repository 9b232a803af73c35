import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { errorMessage, type LocatedIssue } from '../errors/index.js';
import { clip, readRegularFile, realpathInside, UnsafeFileError } from '../fs/safe-read.js';
import { parseYamlLocated, MAX_YAML_BYTES } from './yaml-located.js';
import { memoize } from '../memo/memo.js';
import {
  ServerSpecSchema,
  knownSpecKeys,
  RESERVED_NAMES,
  SERVER_NAME_MAX,
  SERVER_NAME_RE,
  isRootUser,
  gatewayServerName,
  type ServerSpec,
} from './schema.js';
import { LLM_FUNCTION_NAME_RE } from '../policy/tool-policy.js';

/** A desired file that parsed and validated. */
export interface DesiredServer {
  name: string;
  /** Path for messages (relative to the working directory when inside it). */
  file: string;
  /** Stable id for labels and markers: `<desired dir name>/<file name>`, independent of the cwd. */
  source: string;
  spec: ServerSpec;
  warnings: LocatedIssue[];
  /** Where some fields are in the file (envFile, mounts.N, auth.secret), for located host-input errors. */
  positions: Record<string, { line: number; col: number }>;
}

/** A desired file that did not validate; `name` is known when the file name is well-formed. */
export interface InvalidDesiredFile {
  name: string | null;
  file: string;
  issues: LocatedIssue[];
}

export interface DesiredLoad {
  dir: string;
  /** `missing` and `unreadable` must never be read as "no servers wanted" (mass-deletion guard). */
  dirState: 'ok' | 'missing' | 'unreadable';
  servers: DesiredServer[];
  invalid: InvalidDesiredFile[];
}

const FILE_RE = /^mcp-(.+)\.ya?ml$/;

/** Files an editor or a partial write leaves around; never desired state. */
export function isIgnoredFileName(f: string): boolean {
  return f.startsWith('.') || f.endsWith('~') || /\.(swp|swx|tmp|bak|orig|part)$/.test(f) || f.includes('.tmp.');
}

/** `abs` relative to `cwd` when it is below it, else as is. */
export function displayPath(abs: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith('..') ? rel : abs;
}

/** Is `name` usable as a server name? Returns the reason when it is not. */
export function checkServerName(name: string): string | null {
  if (!SERVER_NAME_RE.test(name)) return 'a server name is lowercase letters, digits and -, starting with a letter or digit';
  if (name.length > SERVER_NAME_MAX) return `a server name has at most ${SERVER_NAME_MAX} characters`;
  if ((RESERVED_NAMES as readonly string[]).includes(name) || name.startsWith('litellm-')) {
    return `"${name}" is reserved for the stack itself`;
  }
  return null;
}

/** Validate one desired file's text. Pure: used by the loader, `validate` and the tests. */
export function parseDesiredFile(
  text: string,
  file: string,
  fileName: string,
  source: string = fileName,
): { server: DesiredServer | null; invalid: InvalidDesiredFile | null } {
  const m = FILE_RE.exec(fileName);
  const fromFile = m?.[1] ?? null;
  const nameProblem = fromFile === null ? 'file name must be mcp-<name>.yaml' : checkServerName(fromFile);
  const name = nameProblem ? null : fromFile;
  const y = parseYamlLocated(text, file);
  const issues: LocatedIssue[] = [...y.issues];
  if (nameProblem) issues.unshift({ file, line: 1, col: 1, path: '', message: nameProblem, severity: 'error' });
  if (y.issues.length > 0) return { server: null, invalid: { name, file, issues } };
  if (y.value === null || typeof y.value !== 'object' || Array.isArray(y.value)) {
    issues.push({
      file, line: 1, col: 1, path: '', message: 'expected a mapping of settings (see schema/desired-state.schema.json)', severity: 'error',
    });
    return { server: null, invalid: { name, file, issues } };
  }
  // Values as written: an unquoted env number or boolean keeps the user's text (1.10 stays "1.10",
  // 0x1F stays "0x1F"), instead of the number YAML reads.
  // (A misshapen env, such as a list or a string, has no plain scalars of a map; the schema refuses it.)
  const raw = y.value as Record<string, unknown>;
  const env = (raw['env'] ?? {}) as Record<string, unknown>;
  const written = y.plainScalars(['env']);
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== 'number' && typeof v !== 'boolean') continue;
    const text = written.get(k);
    if (text !== undefined) env[k] = text;
  }
  const parsed = ServerSpecSchema.safeParse(raw);
  if (!parsed.success) issues.push(...y.locate(parsed.error.issues, knownSpecKeys));
  if (parsed.success && parsed.data.name !== undefined && fromFile !== null && parsed.data.name !== fromFile) {
    issues.push({
      file,
      ...y.positionOf(['name']),
      path: 'name',
      message: `"${parsed.data.name}" does not match the file name (expected "${fromFile}")`,
      severity: 'error',
    });
  }
  if (issues.length > 0) return { server: null, invalid: { name, file, issues } };
  // Stryker disable next-line all: equivalent; a failed parse or a null name always left an issue (returned above); this narrows the types
  if (!parsed.success || name === null) return { server: null, invalid: { name, file, issues } };
  const warnings: LocatedIssue[] = [];
  // A url: server has no image (the schema refused one beside url:).
  const image = parsed.data.image ?? '';
  const tag = image.includes('@') ? 'digest' : /:[^/]+$/.test(image) ? image.slice(image.lastIndexOf(':') + 1) : 'latest';
  if (image !== '' && tag === 'latest') {
    warnings.push({
      file,
      ...y.positionOf(['image']),
      path: 'image',
      message: `"${clip(image, 80)}" floats (:latest); pin a version tag or digest so a pull cannot change what runs`,
      severity: 'warning',
    });
  }
  const user = parsed.data.security?.user;
  if (user !== undefined && isRootUser(user)) {
    warnings.push({
      file,
      ...y.positionOf(['security', 'user']),
      path: 'security.user',
      message: 'runs as root inside the container; prefer the image\'s own user or a uid above 0',
      severity: 'warning',
    });
  }
  const positions: Record<string, { line: number; col: number }> = {};
  const at = (path: PropertyKey[]): void => {
    positions[path.join('.')] = y.positionOf(path);
  };
  at(['envFile']);
  at(['envFile', 'path']);
  at(['auth', 'secret']);
  at(['transport']);
  at(['url']);
  at(['build']);
  at(['package']);
  at(['build', 'context']);
  at(['build', 'dockerfile']);
  at(['networks']);
  at(['security', 'user']);
  at(['data']);
  (parsed.data.mounts ?? []).forEach((_, i) => at(['mounts', i]));
  const tools = parsed.data.tools;
  if (tools) at(['tools']);
  for (const field of ['allow', 'deny'] as const) (tools?.[field] ?? []).forEach((_, i) => at(['tools', field, i]));
  for (const field of ['rename', 'description'] as const) for (const k of Object.keys(tools?.[field] ?? {})) at(['tools', field, k]);
  // A name LiteLLM shows as mcp_<name>-<tool>: LLM APIs take [A-Za-z0-9_-]{1,64} as a function name (ADR 0021).
  for (const [from, to] of Object.entries(tools?.rename ?? {})) {
    const shown = `${gatewayServerName(name)}-${to}`;
    if (!LLM_FUNCTION_NAME_RE.test(shown)) {
      warnings.push({
        file,
        ...y.positionOf(['tools', 'rename', from]),
        path: `tools.rename.${from}`,
        message:
          `LiteLLM shows it as ${shown}: LLM APIs (OpenAI, Anthropic) take only letters, digits, _ and - ` +
          'up to 64 characters as a tool name',
        severity: 'warning',
      });
    }
  }
  return { server: { name, file, source, spec: parsed.data, warnings, positions }, invalid: null };
}

/** Desired files whose parse is remembered (by their text): a pass re-reads every file, but parses only what changed. */
export const PARSE_MEMO_FILES = 4096;

/** parseDesiredFile, memoized by all of its inputs (pure): results are frozen and shared between passes. */
const parseDesiredFileMemo = memoize(
  parseDesiredFile,
  (text, file, fileName, source) => [file, fileName, source ?? '', text].join('\u0000'),
  PARSE_MEMO_FILES,
);

/**
 * Read one desired file safely: a regular file of at most MAX_YAML_BYTES, a symlink only when its
 * target is inside the desired dir. Throws UnsafeFileError whose message never quotes content.
 */
export function readDesiredFile(abs: string, dir: string = dirname(abs)): string {
  let target: string;
  try {
    // Resolved always: a symlink may lead only to a file inside the desired dir.
    target = realpathInside(dir, abs);
  } catch (err) {
    if ((err as UnsafeFileError).reason === 'outside')
      throw new UnsafeFileError('outside', abs, 'a symlink to a file outside the desired dir; refused');
    throw err;
  }
  // Stryker disable next-line BooleanLiteral: equivalent but for a race (the resolved file swapped for a symlink before open)
  return readRegularFile(target, { maxBytes: MAX_YAML_BYTES, noFollow: true });
}

/** Why reading failed, without the path (the issue carries it) or any content. */
function readProblem(err: unknown, abs: string): string {
  const msg = errorMessage(err);
  return msg.startsWith(`${abs} `) ? msg.slice(abs.length + 1) : msg;
}

/** Read every desired file in a directory. One bad file never hides the others. */
export function loadDesiredDir(dir: string, cwd: string = process.cwd()): DesiredLoad {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) return { dir, dirState: 'unreadable', servers: [], invalid: [] };
    entries = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { dir, dirState: code === 'ENOENT' ? 'missing' : 'unreadable', servers: [], invalid: [] };
  }
  const servers: DesiredServer[] = [];
  const invalid: InvalidDesiredFile[] = [];
  for (const f of entries.sort()) {
    if (isIgnoredFileName(f) || !/\.ya?ml$/.test(f)) continue;
    const abs = join(dir, f);
    const file = displayPath(abs, cwd);
    let text: string;
    try {
      text = readDesiredFile(abs, dir);
    } catch (err) {
      const m = FILE_RE.exec(f);
      const name = m?.[1] !== undefined && checkServerName(m[1]) === null ? m[1] : null;
      invalid.push({
        name,
        file,
        issues: [{ file, line: 1, col: 1, path: '', message: `cannot read: ${readProblem(err, abs)}`, severity: 'error' }],
      });
      continue;
    }
    const r = parseDesiredFileMemo(text, file, f, `${basename(dir)}/${f}`);
    if (r.server) servers.push(r.server);
    if (r.invalid) invalid.push(r.invalid);
  }
  // Two files for one name (mcp-x.yaml and mcp-x.yml): both are errors, neither wins.
  const files = new Map<string, number>();
  for (const s of servers) files.set(s.name, (files.get(s.name) ?? 0) + 1);
  for (const dup of servers.filter((s) => files.get(s.name) !== 1)) {
    invalid.push({
      name: dup.name,
      file: dup.file,
      issues: [
        { file: dup.file, line: 1, col: 1, path: '', message: `server "${dup.name}" is defined by more than one file`, severity: 'error' },
      ],
    });
  }
  return { dir, dirState: 'ok', servers: servers.filter((s) => files.get(s.name) === 1), invalid };
}
