import { LineCounter, parseDocument, isMap, isPair, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { suggest } from '../desired/yaml-located.js';
import { clip } from '../fs/safe-read.js';
import type { Finding } from './findings.js';

/** Largest file `doctor` reads (capped while reading); a LiteLLM config is kilobytes, 256 KiB lints in under a second. */
export const MAX_DOCTOR_BYTES = 256 * 1024;

/**
 * Keys of an `mcp_servers` entry where `os.environ/NAME` is meant (the credential LiteLLM sends, the
 * env of a stdio child). LiteLLM 1.77.3 substitutes a value starting with `os.environ/` in EVERY
 * mapping of the config (proxy_server.py ProxyConfig._check_for_os_environ_vars, called from
 * load_config; get_secret in secret_managers/main.py): anywhere else, e.g. `description`, the
 * secret becomes text that clients read.
 */
export const ENVIRON_KEYS = ['authentication_token', 'auth_value', 'env'];

/**
 * `doctor FILE...`: lint an existing LiteLLM 1.77.3 deployment — config.yaml, a deploy script, a
 * compose file — for the mistakes that break it silently. Every rule cites
 * ../shared/facts/litellm-v1.77.3.md (copied in docs/litellm-1.77.3-corrections.md where corrected).
 */
export type FileKind = 'litellm-config' | 'compose' | 'script' | 'text';

/** Per-server keys 1.77.3 reads (mcp_server_manager.load_servers_from_config). */
export const KNOWN_SERVER_KEYS = [
  'url', 'transport', 'command', 'args', 'env', 'auth_type',
  'authentication_token', 'auth_value', 'alias', 'description', 'mcp_info', 'access_groups',
];
/** Keys added after 1.77.3: accepted by the YAML, ignored by 1.77.3. */
export const LATER_KEYS: Record<string, string> = {
  spec_version: 'a later release',
  allowed_tools: 'a later release',
  disallowed_tools: 'a later release',
  extra_headers: '1.77.6',
  static_headers: '1.79',
};
/** Commands the official LiteLLM image does not have (upstream issues #15560, #16287). */
export const MISSING_IN_IMAGE = ['npx', 'uvx', 'uv', 'node', 'npm', 'pnpm', 'bun', 'bunx', 'deno', 'docker'];
export const PINNED_TAGS: Record<string, string> = {
  'ghcr.io/berriai/litellm': 'v1.77.3-stable',
  'ghcr.io/berriai/litellm-database': 'main-v1.77.3-stable',
};

/** Top-level keys that make a file (any extension) a LiteLLM config; `mcp_settings` and `virtual_keys` are seed mistakes. */
export const CONFIG_KEYS = [
  'mcp_servers', 'model_list', 'general_settings', 'litellm_settings', 'router_settings', 'mcp_settings', 'virtual_keys',
];
/**
 * Names people give `mcp_servers` (other gateways, client configs, guesses). In a LiteLLM config their
 * entries are never loaded, so doctor checks them as if they were `mcp_servers`. Compared after
 * lower-casing and dropping `_` and `-`.
 */
export const MISNAMED_SERVER_KEYS = ['mcpsettings', 'mcpservers', 'mcpserver', 'mcp', 'servers', 'mcpconfig', 'mcptools'];
const norm = (k: string): string => k.toLowerCase().replace(/[-_]/g, '');
const isMisnamed = (k: string): boolean => k !== 'mcp_servers' && MISNAMED_SERVER_KEYS.includes(norm(k));
/** A top-level key LiteLLM 1.77.3 never reads but users write for keys (the seed's `api_keys`). */
const isKeyList = (k: string): boolean => ['apikeys', 'apikey', 'keys'].includes(norm(k));
/** Host paths: a stdio command runs inside the LiteLLM container, which has none of them. */
const HOST_PATH = /^(~|\/home\/|\/root\/|\/Users\/|[A-Za-z]:\\)/;

export function guessKind(path: string, text: string): FileKind {
  if (/\.(sh|bash)$/.test(path) || /^#!.*\b(ba)?sh\b/.test(text)) return 'script';
  if (/\.ya?ml$/.test(path) && /^services:/m.test(text)) return 'compose';
  if (looksLikeConfig(text)) return 'litellm-config';
  return 'text';
}

/** Any extension: a YAML mapping or a JSON object with a LiteLLM top-level key. */
function looksLikeConfig(text: string): boolean {
  const body = text.replace(/^\uFEFF/, '');
  const keys = CONFIG_KEYS.join('|');
  if (new RegExp(`^["']?(${keys})["']?[ \\t]*:`, 'm').test(body)) return true;
  if (!body.trimStart().startsWith('{') || !new RegExp(`"(${keys})"\\s*:`).test(body)) return false;
  try {
    const root: unknown = JSON.parse(body);
    return typeof root === 'object' && root !== null && Object.keys(root).some((k) => CONFIG_KEYS.includes(k));
  } catch {
    return false;
  }
}

/**
 * Lint one file as read from disk: bytes that are not UTF-8 text (NUL bytes, UTF-16, invalid
 * sequences) are one located error and nothing else; a UTF-8 byte-order mark is a warning and the
 * rest is linted as usual.
 */
export function lintBytes(path: string, bytes: Uint8Array): Finding[] {
  const where = (offset: number): string => {
    const before = Buffer.from(bytes.subarray(0, offset)).toString('utf8').split('\n');
    return `${path}:${before.length}:${(before[before.length - 1] ?? '').length + 1}`;
  };
  const fix = 'save it as UTF-8 text (LiteLLM reads config.yaml as UTF-8; anything else stops it at start-up)';
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return [{
      severity: 'error',
      rule: 'file.binary',
      where: `${path}:1:1`,
      message: 'the file is UTF-16 (byte-order mark FF FE / FE FF), not UTF-8',
      fix,
    }];
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    return [{
      severity: 'error',
      rule: 'file.binary',
      where: where(nul),
      message: 'a NUL byte: this is a binary file, not a text config or script',
      fix,
    }];
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const loose = Buffer.from(bytes).toString('utf8');
    const bad = Buffer.byteLength(loose.slice(0, Math.max(0, loose.indexOf('\uFFFD'))), 'utf8');
    return [{ severity: 'error', rule: 'file.binary', where: where(bad), message: 'bytes that are not valid UTF-8', fix }];
  }
  return lintFile(path, text);
}

/** Lint one file; rules that apply to every kind run on the raw text too. */
export function lintFile(path: string, raw: string): Finding[] {
  const out: Finding[] = [];
  const text = raw.replace(/^\uFEFF/, '');
  const kind = guessKind(path, text);
  if (text !== raw) {
    out.push({
      severity: 'warning',
      rule: 'file.bom',
      where: `${path}:1:1`,
      message: 'the file starts with a UTF-8 byte-order mark: PyYAML skips it, but line tools (grep ^mcp_servers:, sed, a shebang) do not',
      fix: 'save it as UTF-8 without BOM',
    });
  }
  if (kind === 'litellm-config') out.push(...lintConfig(path, text));
  out.push(...lintText(path, text, kind));
  return out.sort((a, b) => locKey(a.where) - locKey(b.where));
}

function locKey(where: string): number {
  const m = /:(\d+):(\d+)$/.exec(where);
  return m ? Number(m[1]) * 10_000 + Number(m[2]) : 0;
}

type At = (n: Node | null | undefined) => string;
const pairsOf = (m: YAMLMap): Pair[] => m.items.filter(isPair).filter((p) => isScalar(p.key));
const keyOf = (p: { key: unknown }): string => String((p.key as { value: unknown }).value);

/** Where server entries sit: `mcp_servers`, or a misnamed key (maybe one level down, e.g. `mcp_settings.servers`). */
interface ServerBlock {
  path: string;
  /** The key naming the block, where block-level findings point. */
  keyNode: Node;
  value: unknown;
  misnamed: boolean;
}

function serverBlocks(root: YAMLMap): ServerBlock[] {
  const blocks: ServerBlock[] = [];
  for (const p of pairsOf(root)) {
    const k = keyOf(p);
    if (k === 'mcp_servers') blocks.push({ path: k, keyNode: p.key as Node, value: p.value, misnamed: false });
    else if (isMisnamed(k)) {
      const inner = isMap(p.value) ? pairsOf(p.value).find((q) => ['mcpservers', 'servers'].includes(norm(keyOf(q)))) : undefined;
      if (inner) blocks.push({ path: `${clip(k)}.${clip(keyOf(inner))}`, keyNode: inner.key as Node, value: inner.value, misnamed: true });
      else blocks.push({ path: clip(k), keyNode: p.key as Node, value: p.value, misnamed: true });
    }
  }
  return blocks;
}

function lintConfig(path: string, text: string): Finding[] {
  const lc = new LineCounter();
  // uniqueKeys: false — the library's duplicate-key check is quadratic (a 2 MB file took 25 s).
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false });
  const out: Finding[] = [];
  const at: At = (n) => {
    const p = n?.range ? lc.linePos(n.range[0]) : { line: 1, col: 1 };
    return `${path}:${p.line}:${p.col}`;
  };
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const p = lc.linePos(e.pos[0]);
      out.push({
        severity: 'error',
        rule: 'config.yaml-syntax',
        where: `${path}:${p.line}:${p.col}`,
        message: clip(e.message.split('\n')[0] ?? 'YAML error', 160),
        fix: 'fix the YAML; LiteLLM refuses to start',
      });
    }
    return out;
  }
  const root = doc.contents;
  if (!isMap(root)) return out;
  for (const p of pairsOf(root)) {
    const k = keyOf(p);
    const node = p.key as Node;
    if (k === 'mcp_settings') {
      out.push({
        severity: 'error',
        rule: 'config.mcp-settings',
        where: at(node),
        message: '`mcp_settings` is not a LiteLLM 1.77.3 key; its servers are never loaded (checked below as if they were mcp_servers)',
        fix: 'rename it to `mcp_servers:` (a mapping name -> settings)',
      });
    } else if (isMisnamed(k)) {
      out.push({
        severity: 'error',
        rule: 'config.mcp-servers-misnamed',
        where: at(node),
        message: `\`${clip(k)}\` is not a LiteLLM 1.77.3 key; its servers are never loaded (checked below as if they were mcp_servers)`,
        fix: 'rename it to `mcp_servers:` (a mapping name -> settings)',
      });
    }
    if (k === 'virtual_keys') {
      out.push({
        severity: 'error',
        rule: 'config.virtual-keys',
        where: at(node),
        message: 'there is no top-level `virtual_keys`; keys in config are ignored',
        fix: 'create virtual keys with POST /key/generate (needs the database)',
      });
    }
    if (isKeyList(k)) out.push(apiKeys(k, at(node)));
    if (isMisnamed(k) && isMap(p.value)) {
      for (const q of pairsOf(p.value)) if (isKeyList(keyOf(q))) out.push(apiKeys(`${clip(k)}.${keyOf(q)}`, at(q.key as Node)));
    }
    if (k === 'master_key' || k === 'database_url' || k === 'store_model_in_db') {
      out.push({
        severity: 'error',
        rule: 'config.general-settings-key',
        where: at(node),
        message: `\`${k}\` at the top level is ignored`,
        fix: `move it under general_settings:`,
      });
    }
    if (k === 'mcp_aliases') {
      out.push({
        severity: 'error',
        rule: 'config.mcp-aliases-placement',
        where: at(node),
        message: '`mcp_aliases` at the top level is ignored',
        fix: 'move it under litellm_settings:',
      });
    }
    if (k === 'litellm_settings' && isMap(p.value)) {
      for (const q of pairsOf(p.value)) {
        const kk = keyOf(q);
        if (kk === 'database_url' || kk === 'master_key' || kk === 'store_model_in_db') {
          out.push({
            severity: 'error',
            rule: 'config.database-url-placement',
            where: at(q.key as Node),
            message: `\`litellm_settings.${kk}\` is silently ignored`,
            fix: 'move it under general_settings: ' +
              `(${kk === 'database_url' ? 'or set DATABASE_URL in the environment' : 'as os.environ/...'})`,
          });
        }
      }
    }
  }
  for (const block of serverBlocks(root)) out.push(...lintServerBlock(block, at));
  return out;
}

function apiKeys(key: string, where: string): Finding {
  return {
    severity: 'error',
    rule: 'config.api-keys',
    where,
    message: `\`${clip(key)}\` is not a LiteLLM 1.77.3 key: these keys are never accepted (only the master key and virtual keys are)`,
    fix: 'set general_settings.master_key: os.environ/LITELLM_MASTER_KEY; ' +
      'give each client a virtual key (POST /key/generate, needs the database)',
  };
}

/** The entries of one server block: a mapping name -> settings; a list or a scalar stops LiteLLM at start-up. */
function lintServerBlock(block: ServerBlock, at: At): Finding[] {
  const out: Finding[] = [];
  const { value, path } = block;
  const blockNode = block.keyNode;
  const refuses = block.misnamed ? 'it would stop LiteLLM 1.77.3 at start-up once renamed' : 'LiteLLM 1.77.3 refuses to start';
  if (isSeq(value)) {
    out.push({
      severity: 'error',
      rule: 'config.mcp-servers-list',
      where: at(blockNode),
      message: `\`${path}\` is a list; it must be a mapping name -> settings (${refuses})`,
      fix: 'write each server as `name:` with its settings indented below it',
    });
    value.items.forEach((item, i) => {
      if (!isMap(item)) {
        out.push(notMapping(`${path}[${i}]`, item, at, refuses));
        return;
      }
      const nameNode = pairsOf(item).find((q) => keyOf(q) === 'name');
      const name = nameNode && isScalar(nameNode.value) ? clip(String(nameNode.value.value)) : `${path}[${i}]`;
      out.push(...lintEntry(name, (nameNode?.key as Node | undefined) ?? item, item, at, ['name']));
    });
    return out;
  }
  if (value === null || value === undefined || (isScalar(value) && (value.value === null || value.value === ''))) {
    return out; // empty: nothing loaded
  }
  if (!isMap(value)) {
    out.push({
      severity: 'error',
      rule: 'config.mcp-servers-not-mapping',
      where: at(blockNode),
      message: `\`${path}\` is not a mapping name -> settings (${refuses})`,
      fix: 'write each server as `name:` with its settings indented below it',
    });
    return out;
  }
  for (const s of pairsOf(value)) {
    const name = clip(keyOf(s));
    if (block.misnamed && isKeyList(name)) continue; // reported as config.api-keys
    if (name.includes('-')) {
      out.push({
        severity: 'error',
        rule: 'config.server-name-dash',
        where: at(s.key as Node),
        message: `server name "${name}" contains "-", the tool-prefix separator: LiteLLM 1.77.3 refuses to load the config`,
        fix: `rename it to "${name.replace(/-/g, '_')}"`,
      });
    }
    if (!isMap(s.value)) {
      out.push(notMapping(name, s.value ?? s.key, at, refuses, s.key as Node));
      continue;
    }
    out.push(...lintEntry(name, s.key as Node, s.value, at, []));
  }
  return out;
}

function isNode(v: unknown): v is Node {
  return isMap(v) || isSeq(v) || isScalar(v);
}

function notMapping(name: string, node: unknown, at: At, refuses: string, fallback?: Node): Finding {
  const kind = isSeq(node) ? 'a list' : isScalar(node) && node.value !== null ? `the text "${clip(String(node.value))}"` : 'empty';
  const where = isNode(node) && node.range && !(isScalar(node) && node.value === null) ? at(node) : at(fallback ?? (node as Node));
  return {
    severity: 'error',
    rule: 'config.server-not-mapping',
    where,
    message: `server "${name}" is ${kind}, not a mapping of settings (${refuses})`,
    fix: 'give it settings: url + transport (http, sse), or command + args with transport: stdio',
  };
}

/** One server's settings (the same rules under `mcp_servers` and under a misnamed key). */
function lintEntry(name: string, nameNode: Node, entry: YAMLMap, at: At, extraKeys: readonly string[]): Finding[] {
  const out: Finding[] = [];
  const pairs = pairsOf(entry);
  const keys = pairs.map(keyOf);
  const transport = pairs.find((q) => keyOf(q) === 'transport');
  if (!transport) {
    out.push({
      severity: 'warning',
      rule: 'config.transport-implicit',
      where: at(nameNode),
      message: `server "${name}" has no transport: the config default is http, the API default sse`,
      fix: 'write transport: http (streamable HTTP), sse or stdio explicitly',
    });
  } else if (isScalar(transport.value) && !['http', 'sse', 'stdio'].includes(String(transport.value.value))) {
    out.push({
      severity: 'error',
      rule: 'config.transport-invalid',
      where: at(transport.value as Node),
      message: `transport "${String(transport.value.value)}" is not one of http, sse, stdio`,
      fix: 'streamable HTTP is `http`',
    });
  }
  out.push(...environOutsideKnownKeys(entry, name, at));
  for (const q of pairs) {
    const kk = clip(keyOf(q));
    if (KNOWN_SERVER_KEYS.includes(kk) || kk.startsWith('x-') || extraKeys.includes(kk)) continue;
    if (kk in LATER_KEYS) {
      out.push({
        severity: 'error',
        rule: 'config.key-not-in-1.77.3',
        where: at(q.key as Node),
        message: `\`${kk}\` arrived in ${LATER_KEYS[kk]}; 1.77.3 ignores it silently`,
        fix: `remove it, or upgrade LiteLLM (this stack pins 1.77.3)`,
      });
    } else if (isKeyList(kk)) {
      out.push(apiKeys(kk, at(q.key as Node)));
    } else {
      const hint = suggest(kk, KNOWN_SERVER_KEYS);
      out.push({
        severity: 'warning',
        rule: 'config.unknown-key',
        where: at(q.key as Node),
        message: `\`${kk}\` is not a key LiteLLM 1.77.3 reads; it is ignored`,
        fix: hint ? `did you mean \`${hint}\`?` : `known keys: ${KNOWN_SERVER_KEYS.join(', ')}`,
      });
    }
  }
  const command = pairs.find((q) => keyOf(q) === 'command');
  const isStdio = transport && isScalar(transport.value) && transport.value.value === 'stdio';
  const args = pairs.find((q) => keyOf(q) === 'args');
  if (command && isScalar(command.value) && (isStdio || keys.includes('args') || !keys.includes('url'))) {
    const cmd = String(command.value.value);
    const bin = cmd.split(/\s+/)[0]?.split('/').pop() ?? '';
    if (MISSING_IN_IMAGE.includes(bin)) {
      out.push({
        severity: 'error',
        rule: 'config.stdio-command',
        where: at(command.value as Node),
        message: `\`${clip(bin)}\` does not exist in the LiteLLM image, where a stdio command runs: ` +
          'this server can never start (issues #15560, #16287)',
        fix: 'run the server in its own container (mcp-reconciler: transport stdio in a desired file) and give LiteLLM an HTTP URL',
      });
    }
    const hostPaths: { node: Node; path: string }[] = [];
    const inCommand = cmd.split(/\s+/).find((w) => HOST_PATH.test(w));
    if (inCommand) hostPaths.push({ node: command.value as Node, path: inCommand });
    if (args && isSeq(args.value)) {
      for (const a of args.value.items) {
        if (isScalar(a) && HOST_PATH.test(String(a.value))) hostPaths.push({ node: a as Node, path: String(a.value) });
      }
    }
    for (const { node: n, path } of hostPaths) {
      out.push({
        severity: 'error',
        rule: 'config.stdio-host-path',
        where: at(n),
        message: `server "${name}": \`${clip(path, 80)}\` is a path on the host; ` +
          'a stdio command runs inside the LiteLLM container, which does not have it',
        fix: 'run the server in its own container with that code (mcp-reconciler: a desired file with transport stdio) ' +
          'and give LiteLLM its HTTP URL',
      });
    }
  }
  if (args && isSeq(args.value)) {
    for (const a of args.value.items) {
      if (isScalar(a) && String(a.value).includes('os.environ/')) {
        out.push({
          severity: 'error',
          rule: 'config.environ-in-args',
          where: at(a as Node),
          message: '`os.environ/VAR` is not substituted inside `args`',
          fix: 'pass it through `env:` (substituted there) and let the server read the variable',
        });
      }
    }
  }
  return out;
}

/** `os.environ/` in an mcp_servers entry outside ENVIRON_KEYS: LiteLLM substitutes it anyway. */
function environOutsideKnownKeys(entry: YAMLMap, name: string, at: (n: Node | null | undefined) => string): Finding[] {
  const out: Finding[] = [];
  const stack: { node: unknown; key: string }[] = entry.items.filter(isPair).map((p) => ({
    node: p.value,
    key: isScalar(p.key) ? String(p.key.value) : '?',
  }));
  while (stack.length > 0) {
    const { node, key } = stack.pop()!;
    const top = key.split('.')[0] ?? '';
    if (ENVIRON_KEYS.includes(top)) continue;
    if (isScalar(node) && typeof node.value === 'string' && node.value.startsWith('os.environ/')) {
      out.push({
        severity: 'error',
        rule: 'config.environ-exposed',
        where: at(node),
        message: `server "${name}": \`${clip(key)}\` is os.environ/...; ` +
          'LiteLLM substitutes it here too, so the secret becomes text clients can read',
        fix: `use os.environ/ only in ${ENVIRON_KEYS.join(', ')}; write plain text here`,
      });
    } else if (isMap(node)) {
      for (const p of node.items) {
        if (isPair(p)) stack.push({ node: p.value, key: `${key}.${isScalar(p.key) ? String(p.key.value) : '?'}` });
      }
    } else if (isSeq(node)) {
      // LiteLLM substitutes inside mappings that sit in lists too.
      node.items.forEach((n, i) => {
        if (isMap(n)) stack.push({ node: n, key: `${key}.${i}` });
      });
    }
  }
  return out;
}

interface TextRule {
  rule: string;
  severity: Finding['severity'];
  re: RegExp;
  kinds?: FileKind[];
  message: (m: RegExpExecArray) => string | null;
  fix: string;
}

const TEXT_RULES: TextRule[] = [
  {
    rule: 'config.shell-var',
    severity: 'error',
    re: /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g,
    kinds: ['litellm-config'],
    message: (m) => `LiteLLM never expands \${${m[1]}}; the value stays the literal text`,
    fix: 'use os.environ/VAR as the whole value (e.g. master_key: os.environ/LITELLM_MASTER_KEY)',
  },
  {
    rule: 'image.tag',
    severity: 'error',
    re: /ghcr\.io\/berriai\/(litellm(?:-database)?)(?::([A-Za-z0-9._-]+))?/g,
    message: (m) => {
      const repo = `ghcr.io/berriai/${m[1]}`;
      const want = PINNED_TAGS[repo];
      const tag = m[2] ?? 'latest';
      return want && tag !== want
        ? `${repo}:${tag} is not the pinned 1.77.3 image${/latest/.test(tag) ? ' (a floating tag: any pull can change what runs)' : ''}`
        : null;
    },
    fix: 'use ghcr.io/berriai/litellm:v1.77.3-stable, or ghcr.io/berriai/litellm-database:main-v1.77.3-stable with a database',
  },
  {
    rule: 'script.master-key-expansion',
    severity: 'error',
    re: /--master_key["']?[ =,]+["']?\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g,
    kinds: ['script', 'compose', 'text'],
    message: () => 'the host shell (or compose) expands this before LiteLLM sees it, often to an empty string: no master key',
    fix: 'put LITELLM_MASTER_KEY in the container environment and use general_settings.master_key: os.environ/LITELLM_MASTER_KEY',
  },
  {
    rule: 'client.url-no-slash',
    severity: 'warning',
    re: /https?:\/\/[A-Za-z0-9.-]+(?::\d+)?\/mcp(?![/\w-])/g,
    kinds: ['script', 'compose', 'text'],
    message: () => 'LiteLLM answers /mcp with a 307 redirect, which several clients do not follow',
    fix: 'end the client URL with /mcp/',
  },
  {
    rule: 'sql.litellm-logs',
    severity: 'error',
    re: /\blitellm_logs\b/g,
    message: () => 'there is no table litellm_logs; LiteLLM 1.77.3 logs to "LiteLLM_SpendLogs"',
    fix: 'query "LiteLLM_SpendLogs" (quoted, case-sensitive); ' +
      '`mcp-reconciler doctor --db-env-file ~/projects/secrets/mcp-litellm.env` prints the audit query',
  },
  {
    rule: 'script.num-workers',
    severity: 'warning',
    re: /--num_workers[ =]+([2-9]|\d{2,})/g,
    message: (m) => `${m[1]} workers: MCP servers added through the API reach only the worker that handled the call ` +
      '(empty tool lists, #12359, #15061)',
    fix: 'run one worker (--num_workers 1)',
  },
];

function lintText(path: string, text: string, kind: FileKind): Finding[] {
  const out: Finding[] = [];
  const lines = text.split('\n');
  for (const r of TEXT_RULES) {
    if (r.kinds && !r.kinds.includes(kind)) continue;
    lines.forEach((line, i) => {
      if (/^\s*#/.test(line) && r.rule !== 'image.tag') return; // comments: only images matter
      r.re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = r.re.exec(line))) {
        const message = r.message(m);
        if (message) out.push({ severity: r.severity, rule: r.rule, where: `${path}:${i + 1}:${m.index + 1}`, message, fix: r.fix });
      }
    });
  }
  return out;
}
