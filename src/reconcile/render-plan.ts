import type { Operation, Plan } from '../model/types.js';

const SYMBOL: Record<Operation['type'], string> = {
  'create-network': '+',
  'connect-network': '+',
  'disconnect-network': '-',
  'remove-network': '-',
  'create-volume': '+',
  'create-container': '+',
  'recreate-container': '~',
  'start-container': '>',
  'remove-container': '-',
  'write-gateway-config': '~',
  'api-create': '+',
  'api-delete': '-',
  'restart-gateway': '~',
  conflict: '!',
  blocked: '!',
  'prune-held': '!',
  'backoff-held': '!',
};

/** The plan as text, one line per operation: `+ create-container container:mcp-x  (not found)`. */
export function renderPlan(plan: Plan): string {
  if (plan.operations.length === 0) return 'No changes. The running state matches the desired state.';
  return plan.operations.map((o) => `${SYMBOL[o.type]} ${o.type} ${o.resourceId}: ${o.cause}`).join('\n');
}

/** JSON form for `plan --json`: no specs (they may be long), never secret values (there are none). */
export function planToJson(plan: Plan): Record<string, unknown>[] {
  return plan.operations.map((o) => ({
    type: o.type,
    resourceId: o.resourceId,
    cause: o.cause,
    ...(o.server ? { server: o.server } : {}),
  }));
}
