/**
 * Per-server tool policy (docs/adr/0018-tool-policy-in-the-edge.md): which of a server's tools
 * LiteLLM sees and may call, under which name and description. Pure: no I/O. The desired file
 * declares it (`tools:`), the planner writes every server's policy into one file, and the edge
 * applies it to each tools/list answer and each tools/call request it forwards.
 *
 * Every pattern and key names a tool by the server's own name (what its tools/list says), never
 * by the renamed one and never with LiteLLM's `mcp_<name>-` prefix.
 */

import type { ToolPolicy } from '../model/types.js';
export type { ToolPolicy };

/**
 * A tools/list with this header set to 1 gets the server's whole list (the daemon's probe counts
 * hidden tools). The edge honours it only from a peer that is not the gateway and strips it from
 * every other request; calls stay policed either way.
 */
export const UNFILTERED_HEADER = 'x-mcp-reconciler-unfiltered';

/** Characters of a tool name we accept in a pattern or key (MCP's SEP-986 set plus : and /). */
export const TOOL_NAME_RE = /^[A-Za-z0-9_.:/-]{1,128}$/;
export const TOOL_NAME_MAX = 128;
/** What clients of LLM APIs accept as a function name once LiteLLM prefixed it (OpenAI, Anthropic). */
export const LLM_FUNCTION_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** Why a glob can never match a tool name, or null. Wildcards: `*` (any run) and `?` (one character). */
export function globProblem(glob: string): string | null {
  if (glob.length === 0) return 'an empty pattern matches no tool name';
  const bad = [...glob].find((ch) => !/[A-Za-z0-9_.:/*?-]/.test(ch));
  if (bad !== undefined) {
    if ('[]{}!^'.includes(bad)) return `"${bad}" is not a wildcard here: only * (any characters) and ? (one character)`;
    return `${JSON.stringify(bad)} cannot occur in a tool name (letters, digits, _ . : / -; wildcards * and ?)`;
  }
  if (glob.replace(/\*/g, '').length > TOOL_NAME_MAX) return `longer than a tool name can be (${TOOL_NAME_MAX} characters)`;
  return null;
}

/** A glob as an anchored regular expression. */
export function globRegExp(glob: string): RegExp {
  const body = [...glob].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 's');
}

/** Does any of the globs match the name? */
export function matchesAny(name: string, globs: readonly string[] | undefined): boolean {
  return (globs ?? []).some((g) => globRegExp(g).test(name));
}

/** A tool as tools/list carries it; other fields pass through untouched. */
export interface ListedTool {
  name: string;
  description?: string;
  [k: string]: unknown;
}

/** The outcome of a tools/call name: forward under the server's name, or refuse. */
export type CallDecision = { ok: true; name: string } | { ok: false; message: string };

/** A policy ready to apply: regular expressions built once. */
export class CompiledPolicy {
  readonly #allow: RegExp[] | null;
  readonly #deny: RegExp[];
  /** exposed name -> server's name */
  readonly #renamedFrom: Map<string, string>;
  readonly #rename: Map<string, string>;
  readonly #description: Map<string, string>;

  constructor(readonly policy: ToolPolicy) {
    this.#allow = policy.allow ? policy.allow.map(globRegExp) : null;
    this.#deny = (policy.deny ?? []).map(globRegExp);
    this.#rename = new Map(Object.entries(policy.rename ?? {}));
    this.#renamedFrom = new Map([...this.#rename].map(([from, to]) => [to, from]));
    this.#description = new Map(Object.entries(policy.description ?? {}));
  }

  /** Allowed by allow/deny (server's name); rename and name clashes aside. */
  permits(original: string): boolean {
    if (this.#allow && !this.#allow.some((r) => r.test(original))) return false;
    return !this.#deny.some((r) => r.test(original));
  }

  /** The name LiteLLM sees for a tool, or null when it is hidden. */
  exposedName(original: string): string | null {
    if (!this.permits(original)) return null;
    const to = this.#rename.get(original);
    if (to !== undefined) return to;
    // Another tool was renamed to this name: that one answers to it, so this one stays hidden.
    if (this.#renamedFrom.has(original)) return null;
    return original;
  }

  /** What a tools/call for `exposed` becomes: the server's name, or a refusal (hidden, unknown, or no name). */
  resolveCall(exposed: unknown): CallDecision {
    if (typeof exposed !== 'string') return { ok: false, message: 'tools/call without a tool name' };
    const from = this.#renamedFrom.get(exposed);
    const original = from ?? exposed;
    if (this.exposedName(original) !== exposed) return { ok: false, message: `Unknown tool: ${exposed}` };
    return { ok: true, name: original };
  }

  /** A tools/list page as LiteLLM should see it: hidden tools dropped, renames and descriptions applied. */
  filterTools(tools: readonly ListedTool[]): ListedTool[] {
    const out: ListedTool[] = [];
    for (const t of tools) {
      if (typeof t?.name !== 'string') continue;
      const name = this.exposedName(t.name);
      if (name === null) continue;
      const description = this.#description.get(t.name);
      out.push({ ...t, name, ...(description !== undefined ? { description } : {}) });
    }
    return out;
  }

  /** Counts over a full tool list (the server's names). */
  count(names: readonly string[]): { exposed: number; hidden: number } {
    const exposed = names.filter((n) => this.exposedName(n) !== null).length;
    return { exposed, hidden: names.length - exposed };
  }

  /** Patterns and keys that matched none of these names (validate's warnings after a probe). */
  unmatched(names: readonly string[]): { field: 'allow' | 'deny' | 'rename' | 'description'; pattern: string }[] {
    const out: { field: 'allow' | 'deny' | 'rename' | 'description'; pattern: string }[] = [];
    for (const field of ['allow', 'deny'] as const) {
      for (const g of this.policy[field] ?? []) if (!names.some((n) => globRegExp(g).test(n))) out.push({ field, pattern: g });
    }
    for (const field of ['rename', 'description'] as const) {
      for (const k of Object.keys(this.policy[field] ?? {})) if (!names.includes(k)) out.push({ field, pattern: k });
    }
    return out;
  }
}

/**
 * The answer to a tools/call the policy refuses: a tool error result, worded as current MCP SDK
 * servers answer a tool they do not have (`MCP error -32602: ...`), so a hidden tool looks like a
 * missing one. Not a JSON-RPC error: LiteLLM 1.77.3 answers an upstream JSON-RPC error to tools/call
 * with a 500 and then hangs every later /mcp request (measured; ADR 0021).
 */
export function refusedCallResult(message: string): { content: { type: 'text'; text: string }[]; isError: true } {
  return { content: [{ type: 'text', text: `MCP error -32602: ${message}` }], isError: true };
}

/**
 * A JSON-RPC error answered to a tools/call, as the tool error a current SDK server would answer
 * (`MCP error <code>: <message>`, isError). LiteLLM 1.77.3 cannot take the error itself: its client
 * disconnects inside the request's task and every later /mcp/ request hangs (ADR 0021), so the edge
 * and the stdio bridge never pass one on for a tools/call.
 */
export function rpcErrorAsToolResult(error: unknown): { content: { type: 'text'; text: string }[]; isError: true } {
  const e = (error ?? {}) as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'number' ? e.code : -32603;
  const message = typeof e.message === 'string' ? e.message : 'the server answered an error without a message';
  return { content: [{ type: 'text', text: `MCP error ${code}: ${message}` }], isError: true };
}

/** The file the reconciler writes and the edge reads: policies by container name. */
export interface ToolPolicyFile {
  version: 1;
  servers: Record<string, ToolPolicy>;
}

/** Canonical text of the policy file (sorted, so an unchanged policy is an unchanged file). */
export function renderPolicyFile(servers: Record<string, ToolPolicy>): string {
  const sorted: Record<string, ToolPolicy> = {};
  for (const name of Object.keys(servers).sort()) {
    const p = servers[name]!;
    const sortObj = (o: Record<string, string> | undefined): Record<string, string> | undefined =>
      o === undefined ? undefined : Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    sorted[name] = {
      ...(p.allow ? { allow: [...p.allow] } : {}),
      ...(p.deny ? { deny: [...p.deny] } : {}),
      ...(p.rename ? { rename: sortObj(p.rename)! } : {}),
      ...(p.description ? { description: sortObj(p.description)! } : {}),
    };
  }
  return `${JSON.stringify({ version: 1, servers: sorted } satisfies ToolPolicyFile, null, 2)}\n`;
}

/** Reads the policy file's text: the policies, or why it is not one. Never throws. */
export function parsePolicyFile(text: string): { ok: true; servers: Record<string, ToolPolicy> } | { ok: false; error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  if (typeof doc !== 'object' || doc === null || (doc as { version?: unknown }).version !== 1) {
    return { ok: false, error: 'not a version 1 tool policy file' };
  }
  const servers = (doc as { servers?: unknown }).servers;
  if (typeof servers !== 'object' || servers === null || Array.isArray(servers)) return { ok: false, error: 'servers: not an object' };
  const out: Record<string, ToolPolicy> = {};
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' && globProblem(x) === null);
  const names = (v: unknown): v is Record<string, string> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
  for (const [name, p] of Object.entries(servers as Record<string, unknown>)) {
    if (typeof p !== 'object' || p === null) return { ok: false, error: `servers.${name}: not an object` };
    const { allow, deny, rename, description } = p as Record<string, unknown>;
    if (allow !== undefined && !strings(allow)) return { ok: false, error: `servers.${name}.allow: not a list of patterns` };
    if (deny !== undefined && !strings(deny)) return { ok: false, error: `servers.${name}.deny: not a list of patterns` };
    if (rename !== undefined && !names(rename)) return { ok: false, error: `servers.${name}.rename: not a map of names` };
    if (description !== undefined && !names(description)) return { ok: false, error: `servers.${name}.description: not a map of texts` };
    out[name] = { allow, deny, rename, description } as ToolPolicy;
  }
  return { ok: true, servers: out };
}
