import type { ServerHealth } from '../health/monitor.js';
import type { ServerModel } from '../model/types.js';
import type { BuildState } from '../reconcile/controller.js';
import { secretFilesOf } from '../notes/deployment-notes.js';
import type { SecretMask } from './redact.js';

/** What the daemon's HTTP face reports; filled in by the loop after every pass. */
export interface DaemonState {
  startedAt: string;
  /** Set after the first complete reconcile pass. */
  firstPassAt: string | null;
  lastPass: { at: string; ms: number; operations: number; failed: number; error: string | null; dockerApiCalls?: number } | null;
  /** Completed passes since start (bursts of events should merge into few). */
  passes: number;
  summary: string;
  /** config or api registration, and why (updated every pass). */
  gatewayMode: { mode: 'config' | 'api'; why: string } | null;
  /** Resolved paths and the gateway endpoint, for `status`. */
  paths: Record<string, string>;
  gateway: { url: string; mcpUrl: string } | null;
  /** Container changes (servers, edge, gateway) that failed and wait for their next try (ADR 0005). */
  failures?: { object: string; change: string; failures: number; reason: string; nextTryAt: string }[];
  /**
   * Builds of build: / package: servers (ADR 0023), the newest per server, read live (a build in
   * progress shows its step and last output lines; masked like every other string here).
   */
  builds?: BuildState[];
  /** The daemon's own transitions (summary, gateway mode, failed passes, reloads), oldest first, bounded. */
  events?: { time: string; message: string }[];
  /** The gateway's published port, for the client URL the status page shows (settings gateway.hostPort). */
  clientPort?: number;
}

/** What /status serves and `status` shows: the daemon state plus every server's conditions. */
export type StatusDocument = DaemonState & { servers: ServerHealth[] };

/**
 * The status document, the one way it is made: the daemon's `/status` and page and the CLI's
 * `status` (from the daemon or its own probe, once or `--watch`) all take it from here, so every
 * string in it (condition messages, events, failure reasons, a failed pass's error) is masked
 * here: the values of the env files `mask` knows and credential-shaped text (src/status/redact.ts).
 */
export function buildStatusDocument(state: DaemonState, servers: readonly ServerHealth[], mask: SecretMask): StatusDocument {
  return mask.deep({ ...state, servers: [...servers] });
}

/** The env files whose values must never be shown: the gateway's (master key) and every server's. */
export function statusSecretFiles(gatewayEnvFile: string, servers: readonly ServerModel[]): string[] {
  return [gatewayEnvFile, ...servers.flatMap((m) => secretFilesOf(m))];
}
