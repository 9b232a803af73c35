import { LineCounter, parseDocument, isMap, isPair, isScalar, isNode, isSeq, isAlias, type Document, type Node } from 'yaml';
import { distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import type { LocatedIssue } from '../errors/index.js';
import { clip } from '../fs/safe-read.js';

/**
 * Largest input file we parse; anything bigger is an error, not a memory spike. A desired file is
 * about 1 KiB; at 64 KiB the slowest input we know (a map of tiny keys) parses in about 0.2 s on the
 * development machine, so the daemon's event loop is never held longer than that by one file.
 */
export const MAX_YAML_BYTES = 64 * 1024;
/** Problems reported per file; the rest are counted in one last line. */
export const MAX_ISSUES = 50;
/** Alias expansions allowed when turning YAML into data (defuses "billion laughs"). */
export const MAX_ALIAS_COUNT = 50;
/** Longest message we keep from the YAML library (it may quote an alias or a scalar). */
const MAX_MESSAGE = 160;
/**
 * Keys that would reach Object.prototype machinery when the YAML becomes a JS object (yaml drops
 * or redefines `__proto__`): refused everywhere instead of disappearing silently.
 */
export const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

type ZodIssue = z.core.$ZodIssue;

export interface LocatedYaml {
  value: unknown;
  /** Syntax problems; when non-empty `value` is null. */
  issues: LocatedIssue[];
  /** Map schema issues to file positions (and add "did you mean" to unknown keys). */
  locate(issues: readonly ZodIssue[], knownKeys?: (path: PropertyKey[]) => string[]): LocatedIssue[];
  /** Position of the node at a data path, or of the closest parent that exists. */
  positionOf(path: PropertyKey[]): { line: number; col: number };
  /** Key -> text exactly as written, for the plain (unquoted) scalar values of the map at a data path. */
  plainScalars(path: PropertyKey[]): Map<string, string>;
}

/** Parse YAML keeping source positions, so every later error can say file:line:col. */
export function parseYamlLocated(text: string, file: string): LocatedYaml {
  const lineCounter = new LineCounter();
  const issues: LocatedIssue[] = [];
  const at = (offset: number): { line: number; col: number } => lineCounter.linePos(offset);
  if (Buffer.byteLength(text, 'utf8') > MAX_YAML_BYTES) {
    issues.push({ file, line: 1, col: 1, path: '', message: `file is larger than ${MAX_YAML_BYTES} bytes`, severity: 'error' });
  }
  const doc: Document.Parsed | null =
    // uniqueKeys: false — yaml's own check is quadratic per map; checkKeys below is linear.
    issues.length === 0 ? parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false }) : null;
  let value: unknown = null;
  if (doc) {
    for (const e of doc.errors) {
      const p = at(e.pos[0]);
      issues.push({ file, ...p, path: '', message: clip(firstLine(e.message), MAX_MESSAGE), severity: 'error' });
    }
    if (issues.length === 0) issues.push(...checkKeys(doc, file, at));
    if (issues.length === 0) {
      try {
        value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
      } catch (err) {
        issues.push({ file, line: 1, col: 1, path: '', message: clip(firstLine((err as Error).message), MAX_MESSAGE), severity: 'error' });
        value = null;
      }
    }
  }

  const nodeAt = (path: PropertyKey[]): { node: Node | null; depth: number } => {
    if (!doc) return { node: null, depth: 0 };
    let cur: unknown = doc.contents;
    let depth = 0;
    for (const key of path) {
      if (!isNode(cur)) break;
      const next = (cur as unknown as { get?: (k: unknown, keep: boolean) => unknown }).get?.(
        typeof key === 'symbol' ? String(key) : key,
        true,
      );
      if (next === undefined || next === null) break;
      cur = next;
      depth++;
    }
    return { node: isNode(cur) ? (cur as Node) : null, depth };
  };

  const positionOf = (path: PropertyKey[]): { line: number; col: number } => {
    const { node } = nodeAt(path);
    const off = node?.range?.[0];
    return off === undefined ? { line: 1, col: 1 } : at(off);
  };

  // One index per map, built once: looking every unknown key up by a scan would be quadratic.
  const keyIndex = new Map<Node, Map<string, number>>();
  const keyPosition = (path: PropertyKey[], key: string): { line: number; col: number } => {
    const { node, depth } = nodeAt(path);
    if (node && depth === path.length && isMap(node)) {
      let index = keyIndex.get(node);
      if (!index) {
        index = new Map();
        for (const item of node.items) {
          if (isPair(item) && isScalar(item.key) && item.key.range && !index.has(String(item.key.value)))
            index.set(String(item.key.value), item.key.range[0]);
        }
        keyIndex.set(node, index);
      }
      const off = index.get(key);
      if (off !== undefined) return at(off);
    }
    return positionOf(path);
  };

  const locate: LocatedYaml['locate'] = (zodIssues, knownKeys) => {
    const out: LocatedIssue[] = [];
    for (const i of zodIssues) {
      const path = i.path as PropertyKey[];
      if (out.length > MAX_ISSUES) break;
      if (i.code === 'unrecognized_keys') {
        for (const k of i.keys.slice(0, MAX_ISSUES + 1)) {
          const known = knownKeys?.(path) ?? [];
          const hint = suggest(k, known);
          out.push({
            file,
            ...keyPosition(path, k),
            path: dotPath([...path, k]),
            message: `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`,
            severity: 'error',
          });
        }
        continue;
      }
      const { depth } = nodeAt(path);
      const missing = depth < path.length;
      const issue: LocatedIssue = {
        file,
        ...positionOf(path),
        path: dotPath(path),
        message: clip(describe(i, missing), MAX_MESSAGE),
        severity: 'error',
      };
      // Two checks of one value that say the same thing (a regex and a refinement) are one problem.
      if (!out.some((o) => o.path === issue.path && o.message === issue.message)) out.push(issue);
    }
    return out;
  };

  const plainScalars = (path: PropertyKey[]): Map<string, string> => {
    const out = new Map<string, string>();
    const { node, depth } = nodeAt(path);
    if (!node || depth !== path.length || !isMap(node)) return out;
    for (const item of node.items) {
      if (!isPair(item) || !isScalar(item.key) || !isScalar(item.value)) continue;
      const v = item.value;
      if (v.type === 'PLAIN' && v.range) out.set(String(item.key.value), text.slice(v.range[0], v.range[1]));
    }
    return out;
  };

  return { value, issues: capIssues(issues, file), locate: (i, k) => capIssues(locate(i, k), file), positionOf, plainScalars };
}

/** At most MAX_ISSUES problems, then one line counting the rest. */
function capIssues(issues: LocatedIssue[], file: string): LocatedIssue[] {
  if (issues.length <= MAX_ISSUES) return issues;
  const rest = issues.length - MAX_ISSUES;
  return [
    ...issues.slice(0, MAX_ISSUES),
    { file, line: 1, col: 1, path: '', message: `and more problems (${rest}+ not shown)`, severity: 'error' },
  ];
}

/** A data path for a message; every segment a user wrote is clipped. */
export function dotPath(path: readonly PropertyKey[]): string {
  return path.map((k) => (typeof k === 'number' ? String(k) : clip(String(k)))).join('.');
}

/**
 * Duplicate and forbidden keys, in one linear walk over the document (no alias is expanded):
 * a 256 KiB file of distinct keys is checked in milliseconds, not seconds.
 */
function checkKeys(doc: Document.Parsed, file: string, at: (offset: number) => { line: number; col: number }): LocatedIssue[] {
  interface Step {
    node: unknown;
    key: string | null;
    parent: Step | null;
  }
  // Paths are linked to their parent so a deep document costs no copying.
  const pathOf = (s: Step | null, last: string): string[] => {
    const keys = [last];
    for (let p = s; p && p.key !== null; p = p.parent) keys.push(p.key);
    return keys.reverse();
  };
  const out: LocatedIssue[] = [];
  const stack: Step[] = [{ node: doc.contents, key: null, parent: null }];
  while (stack.length > 0) {
    const step = stack.pop()!;
    const { node } = step;
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const keyNode = item.key;
        if (isScalar(keyNode)) {
          const key = String(keyNode.value);
          const where = keyNode.range ? at(keyNode.range[0]) : { line: 1, col: 1 };
          if (seen.has(key))
            out.push({ file, ...where, path: dotPath(pathOf(step, key)), message: 'Map keys must be unique', severity: 'error' });
          seen.add(key);
          if ((FORBIDDEN_KEYS as readonly string[]).includes(key)) {
            out.push({ file, ...where, path: dotPath(pathOf(step, key)), message: 'reserved key; not allowed', severity: 'error' });
          }
          stack.push({ node: item.value, key, parent: step });
        } else if (keyNode !== null && !isAlias(keyNode)) {
          const where = isNode(keyNode) && keyNode.range ? at(keyNode.range[0]) : { line: 1, col: 1 };
          out.push({ file, ...where, path: dotPath(pathOf(step, '?')), message: 'a key must be a plain string', severity: 'error' });
        } else {
          stack.push({ node: item.value, key: '?', parent: step });
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((n, i) => stack.push({ node: n, key: String(i), parent: step }));
    }
  }
  return out.sort((a, b) => a.line - b.line || a.col - b.col);
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

/** Closest known key within a small edit distance, for "did you mean". */
export function suggest(word: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return best !== null && bestD <= limit ? best : null;
}

/** A short human message per zod issue kind (zod's own messages are generic). */
function describe(i: ZodIssue, missing: boolean): string {
  switch (i.code) {
    case 'invalid_value':
      return `expected one of ${i.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_type':
      return missing ? 'required' : `expected ${i.expected}`;
    case 'too_big':
      return i.origin === 'string'
        ? `at most ${String(i.maximum)} characters`
        : i.origin === 'array' ? `at most ${String(i.maximum)} items` : `at most ${String(i.maximum)}`;
    case 'too_small':
      return i.origin === 'string'
        ? (Number(i.minimum) <= 1 ? 'must not be empty' : `at least ${String(i.minimum)} characters`)
        : i.origin === 'array' ? `at least ${String(i.minimum)} items` : `at least ${String(i.minimum)}`;
    case 'invalid_union': {
      // One alternative got the type right and failed inside: say what failed there.
      const inner = i.errors.find((alt) => alt.some((x) => x.code !== 'invalid_type' || x.path.length > 0));
      const first = inner?.find((x) => x.code !== 'invalid_type' || x.path.length > 0);
      if (first) return `${first.path.length ? `${dotPath(first.path as PropertyKey[])}: ` : ''}${describe(first, false)}`;
      const kinds = i.errors.flatMap((alt) =>
        alt.filter((x) => x.code === 'invalid_type').map((x) => (x as { expected: string }).expected));
      return kinds.length
        ? `expected ${kinds.slice(0, -1).join(', ')}${kinds.length > 1 ? ' or ' : ''}${kinds[kinds.length - 1]}`
        : i.message;
    }
    case 'invalid_format':
      return i.format === 'regex' ? i.message : `expected a ${i.format}`;
    case 'invalid_key': {
      // A record's key failed its own schema (env names, build args): that schema's message, not zod's "Invalid key in record".
      const first = i.issues[0];
      return first ? describe(first as ZodIssue, false) : i.message;
    }
    default:
      return i.message;
  }
}
