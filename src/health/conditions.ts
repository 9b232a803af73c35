/** Condition types of a server, like a Kubernetes status. Each is a named constant. */
export const ConditionType = {
  Valid: 'Valid',
  ImageAvailable: 'ImageAvailable',
  /** The last change of the container was applied (False: it failed and waits for its next try). */
  Progressing: 'Progressing',
  ContainerRunning: 'ContainerRunning',
  McpReady: 'McpReady',
  Registered: 'Registered',
  GatewayReady: 'GatewayReady',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];
export const CONDITION_ORDER: ConditionType[] = Object.values(ConditionType);

/** Reasons are PascalCase words, never prose (the message carries the prose). */
export const Reason = {
  SpecValid: 'SpecValid',
  SpecInvalid: 'SpecInvalid',
  InputsUnusable: 'InputsUnusable',
  Blocked: 'Blocked',
  ImagePresent: 'ImagePresent',
  ImagePullFailed: 'ImagePullFailed',
  /** The image of a build: / package: server could not be built (ADR 0023). */
  BuildFailed: 'BuildFailed',
  Running: 'Running',
  NotFound: 'NotFound',
  Exited: 'Exited',
  CrashLoop: 'CrashLoop',
  NameConflict: 'NameConflict',
  ToolsListed: 'ToolsListed',
  HealthTimeout: 'HealthTimeout',
  ProbeFailed: 'ProbeFailed',
  NotProbed: 'NotProbed',
  InConfig: 'InConfig',
  NotInConfig: 'NotInConfig',
  EntryConflict: 'EntryConflict',
  InGatewayDatabase: 'InGatewayDatabase',
  NotInGatewayDatabase: 'NotInGatewayDatabase',
  ToolsThroughGateway: 'ToolsThroughGateway',
  NoToolsThroughGateway: 'NoToolsThroughGateway',
  GatewayDown: 'GatewayDown',
  Applied: 'Applied',
  RecreateFailed: 'RecreateFailed',
  CreateFailed: 'CreateFailed',
  StartFailed: 'StartFailed',
  /** A url: server: no image, no container; it runs elsewhere (ADR 0022). */
  Remote: 'Remote',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  reason: Reason;
  message: string;
  lastTransitionTime: string;
}

export interface Transition {
  condition: ConditionType;
  from: ConditionStatus | null;
  to: ConditionStatus;
  reason: Reason;
  message: string;
}

/**
 * Merge freshly computed conditions into the previous ones. The transition time changes only
 * when the status changes; the transitions returned are what gets logged (one line each).
 */
export function mergeConditions(
  prev: readonly Condition[],
  next: readonly Omit<Condition, 'lastTransitionTime'>[],
  now: string,
): { conditions: Condition[]; transitions: Transition[] } {
  const byType = new Map(prev.map((c) => [c.type, c]));
  const transitions: Transition[] = [];
  const conditions = next.map((n): Condition => {
    const p = byType.get(n.type);
    if (p && p.status === n.status) {
      if (p.reason !== n.reason) {
        transitions.push({ condition: n.type, from: p.status, to: n.status, reason: n.reason, message: n.message });
      }
      return { ...n, lastTransitionTime: p.lastTransitionTime };
    }
    transitions.push({ condition: n.type, from: p?.status ?? null, to: n.status, reason: n.reason, message: n.message });
    return { ...n, lastTransitionTime: now };
  });
  return { conditions, transitions };
}

/** Added and removed tool names between two probes. */
export function toolDiff(before: readonly string[] | null, after: readonly string[]): { added: string[]; removed: string[] } {
  if (before === null) return { added: [], removed: [] };
  const b = new Set(before);
  const a = new Set(after);
  return { added: after.filter((t) => !b.has(t)).sort(), removed: before.filter((t) => !a.has(t)).sort() };
}

/** Next probe delay: the interval, doubled per consecutive failure, capped; with +-10% jitter. */
export function nextProbeDelay(intervalMs: number, failures: number, random: () => number = Math.random): number {
  const base = Math.min(intervalMs * 2 ** Math.min(failures, 4), Math.max(intervalMs, MAX_PROBE_BACKOFF_MS));
  return Math.round(base * (0.9 + 0.2 * random()));
}
export const MAX_PROBE_BACKOFF_MS = 300_000;

/**
 * Restart budget for hung containers: at most `max` restarts per `windowMs`, and a growing pause
 * between two restarts, so a server that never answers cannot cause a restart storm.
 */
export function mayRestart(history: readonly number[], now: number, opts: { max: number; windowMs: number; minGapMs: number }): boolean {
  const recent = history.filter((t) => now - t < opts.windowMs);
  if (recent.length >= opts.max) return false;
  const last = recent[recent.length - 1];
  return last === undefined || now - last >= opts.minGapMs * 2 ** (recent.length - 1);
}
export const RESTART_BUDGET = { max: 3, windowMs: 3_600_000, minGapMs: 60_000 };

/**
 * Progressing from the reconciler's failure memory: False with the failure and the next try
 * (`exited 1: <last log line>; next try in 40 s`), True when no change of the container failed.
 */
export function progressingCondition(
  failure: { change: string; failures: number; reason: string; nextTryAt: number } | undefined,
  now: number,
): { type: ConditionType; status: ConditionStatus; reason: Reason; message: string } {
  if (!failure) return { type: ConditionType.Progressing, status: 'True', reason: Reason.Applied, message: 'the desired spec is applied' };
  const reason =
    failure.change === 'build-image' ? Reason.BuildFailed
    : failure.change === 'create-container' ? Reason.CreateFailed
    : failure.change === 'start-container' ? Reason.StartFailed
    : Reason.RecreateFailed;
  const wait = failure.nextTryAt - now;
  const next = wait > 0 ? `next try in ${Math.max(1, Math.ceil(wait / 1000))} s` : 'next try now';
  return {
    type: ConditionType.Progressing,
    status: 'False',
    reason,
    message: `${failure.reason}; ${next} (${failure.failures} failed ${failure.failures === 1 ? 'try' : 'tries'})`,
  };
}
