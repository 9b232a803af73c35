import { readRegularFile } from '../fs/safe-read.js';
import { fileStamp } from '../fs/file-stamp.js';
import type { Logger } from 'pino';
import { CompiledPolicy, parsePolicyFile } from '../policy/tool-policy.js';

/** The policy file is small; anything bigger is not ours. */
export const MAX_POLICY_BYTES = 1024 * 1024;

/** What the edge asks of its tool policy on each MCP request. */
export interface PolicyLookup {
  /** False until a good policy file was read: then MCP requests are refused (fail closed). */
  ready(): boolean;
  /** The policy of a server (its name without the stack's prefix), null: none, every tool as is. */
  forServer(server: string): CompiledPolicy | null;
}

/**
 * The edge's view of the tool policy file (docs/adr/0021). Each lookup compares the file's
 * identity (inode, size, mtime, ctime: one stat) with the last read and re-reads it when it
 * changed, so a policy the reconciler writes applies to the very next request: no watcher to
 * miss an event, no restart. A file that cannot be read or parsed keeps the last good policy (and
 * is logged once per change); before any good read, MCP requests are refused.
 */
export class PolicyFile implements PolicyLookup {
  #stamp = '';
  #good: Map<string, CompiledPolicy> | null = null;

  constructor(
    readonly path: string,
    readonly log: Logger,
  ) {}

  ready(): boolean {
    this.#refresh();
    return this.#good !== null;
  }

  forServer(server: string): CompiledPolicy | null {
    this.#refresh();
    return this.#good?.get(server) ?? null;
  }

  #refresh(): void {
    const stamp = fileStamp(this.path);
    if (stamp === this.#stamp) return;
    this.#stamp = stamp;
    const why = this.#read();
    if (!why) return;
    const msg = this.#good
      ? 'edge: tool policy file unusable; keeping the last good policy'
      : 'edge: no usable tool policy file; MCP requests refused until there is one';
    this.log.warn({ path: this.path, err: why }, msg);
  }

  /** Reads the file (regular files only, capped while reading); null when it was good (and is now in force), else why not. */
  #read(): string | null {
    let text: string;
    try {
      text = readRegularFile(this.path, { maxBytes: MAX_POLICY_BYTES });
    } catch (err) {
      return (err as Error).message;
    }
    const parsed = parsePolicyFile(text);
    if (!parsed.ok) return parsed.error;
    this.#good = new Map(Object.entries(parsed.servers).map(([name, p]) => [name, new CompiledPolicy(p)]));
    this.log.info({ path: this.path, servers: Object.keys(parsed.servers) }, 'edge: tool policy loaded');
    return null;
  }
}

/** A fixed policy (tests, and an edge started without --tool-policy: always ready, no policies). */
export function staticPolicy(servers: Record<string, CompiledPolicy> = {}): PolicyLookup {
  return { ready: () => true, forServer: (s) => servers[s] ?? null };
}
