import { styleText } from 'node:util';
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
  'write-gateway-guard': '~',
  'write-tool-policy': '~',
  'build-image': '+',
  'remove-image': '-',
  'api-create': '+',
  'api-delete': '-',
  'restart-gateway': '~',
  'await-gateway': '>',
  'switch-gateway': '~',
  'retire-gateway': '-',
  conflict: '!',
  blocked: '!',
  'prune-held': '!',
  'backoff-held': '!',
};

/** Colour per symbol on a terminal: additions green, removals red, changes yellow, starts cyan, held or refused magenta. */
const COLOUR = { '+': 'green', '-': 'red', '~': 'yellow', '>': 'cyan', '!': 'magenta' } as const;

/**
 * The plan as text, one line per operation: `+ create-container container:mcp-x: not found`. With
 * `colour` (the caller decides: a terminal, no NO_COLOR), the symbol and type are coloured and the cause dimmed.
 */
export function renderPlan(plan: Plan, opts: { colour?: boolean } = {}): string {
  if (plan.operations.length === 0) return 'No changes. The running state matches the desired state.';
  const paint = (format: Parameters<typeof styleText>[0], text: string): string =>
    opts.colour ? styleText(format, text, { validateStream: false }) : text;
  return plan.operations
    .map((o) => {
      const symbol = SYMBOL[o.type];
      const colour = COLOUR[symbol as keyof typeof COLOUR];
      return `${paint(['bold', colour], `${symbol} ${o.type}`)} ${o.resourceId}: ${paint('dim', o.cause)}`;
    })
    .join('\n');
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
