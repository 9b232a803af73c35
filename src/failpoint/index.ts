/**
 * Named crash points for the reliability suite. Compiled in, inert unless armed:
 * `MCP_RECONCILER_FAILPOINT=after:stop-old` makes the process SIGKILL itself right after the
 * executor stopped an old container (no cleanup, no finally blocks: a real crash). Read from the
 * environment here rather than in config/ on purpose: it is a test hook, not a setting.
 */
export const FAILPOINT_ENV = 'MCP_RECONCILER_FAILPOINT';

/** Every step of the executor that changes something. */
export const STEPS = [
  'create-next',
  'start-new',
  'settle',
  'stop-old',
  'remove-old',
  'rename',
  'write-guard',
  'write-config',
  'recreate-gateway',
  'api-delete',
  'api-create',
  // Blue/green handover of the gateway (ADR 0025).
  'create-standby',
  'await-gateway',
  'switch-gateway',
  'drain-gateway',
  'retire-gateway',
] as const;
export type Step = (typeof STEPS)[number];

/** The steps only a blue/green handover reaches (gateway.handover: blue-green; ADR 0025). */
export const HANDOVER_STEPS: readonly Step[] = ['create-standby', 'await-gateway', 'switch-gateway', 'drain-gateway', 'retire-gateway'];

/** All failpoint names: `before:<step>` and `after:<step>`. */
export const FAILPOINTS: string[] = STEPS.flatMap((s) => [`before:${s}`, `after:${s}`]);

/** Crash here when armed with this name. */
export function failpoint(when: 'before' | 'after', step: Step): void {
  const armed = process.env[FAILPOINT_ENV];
  if (armed && armed === `${when}:${step}`) process.kill(process.pid, 'SIGKILL');
}

/** Run `fn` between `before:<step>` and `after:<step>`. */
export async function step<T>(name: Step, fn: () => Promise<T> | T): Promise<T> {
  failpoint('before', name);
  const out = await fn();
  failpoint('after', name);
  return out;
}
