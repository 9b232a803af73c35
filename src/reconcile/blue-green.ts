import { otherColour, parseActive, renderActive } from '../front/active.js';
import type { ContainerRole, ContainerSpec, GatewayColour, HeldChange, ObservedContainer, Operation } from '../model/types.js';

/** What the planner knows of the blue/green gateway (ADR 0025). */
export interface BlueGreenInput {
  front: ContainerSpec;
  frontHash: string;
  colours: Readonly<Record<GatewayColour, ContainerSpec>>;
  /** The colours' spec hash (the same for both: the gateway's spec, config.yaml and guard; ADR 0019). */
  hash: string;
  /** What the colours' spec label records besides the spec (config/guard digests). */
  summary: Record<string, unknown>;
  activePath: string;
  activeText: string | null | undefined;
  /** The single gateway container of `handover: restart` (same instance), to retire once. */
  legacy: ObservedContainer | undefined;
  /** Gateway server names the new colour must list tools of before it gets traffic. */
  expect: string[];
  /** A colour that did not get ready towards this hash, waiting for its next try (failure memory, ADR 0005). */
  heldReady(colour: GatewayColour): HeldChange | undefined;
  byName(name: string): ObservedContainer | undefined;
  /** The planner's container rule (create/recreate/start, held changes, name conflicts). */
  ensure(spec: ContainerSpec, hash: string, role: ContainerRole, extra: Record<string, unknown>): Operation[];
  /** Networks the colour joins (sse servers'); `fresh`: created in this plan. */
  attach(name: string, current: ObservedContainer | undefined, fresh: boolean): Operation[];
}

/**
 * The gateway as two LiteLLM colours behind the front, as a pure function (ADR 0025):
 *   steady:   the active file names a colour that runs with the wanted hash: the other colour (left
 *             by a handover or a crash) is retired after its calls drain; nothing else.
 *   handover: the front runs and the active colour is stale or gone: the standby colour is (re)created,
 *             awaited until it lists the expected tools, the file switched, the old colour drained and
 *             removed. Each step halts the rest when it fails, so the old colour keeps serving.
 *   cold:     no front runs (first start, migration from `handover: restart`): one colour, the file,
 *             the old single gateway retired, then the front on the LAN port.
 * A crash between any two steps leaves a state one of the three cases finishes. Returns the
 * operations and the container names it keeps (the caller's prune must not remove them).
 */
export function planBlueGreen(b: BlueGreenInput): { ops: Operation[]; kept: string[] } {
  const ops: Operation[] = [];
  const container = (c: GatewayColour): ObservedContainer | undefined => {
    const x = b.byName(b.colours[c].name);
    return x?.owned ? x : undefined;
  };
  const good = (c: GatewayColour): boolean => {
    const x = container(c);
    return x !== undefined && x.running && x.specHash === b.hash;
  };
  const retire = (c: GatewayColour, drainTo: GatewayColour | null, cause: string): void => {
    const x = container(c);
    if (!x) return;
    ops.push({ type: 'retire-gateway', resourceId: `container:${x.name}`, cause, containerId: x.id, role: 'gateway', colour: c, drainTo });
  };
  let legacyStays = b.legacy?.owned === true;
  const retireLegacy = (): void => {
    const l = b.legacy;
    if (!l?.owned) return;
    legacyStays = false;
    const cause = 'the blue/green gateway replaces it (gateway.handover: blue-green)';
    ops.push({ type: 'retire-gateway', resourceId: `container:${l.name}`, cause, containerId: l.id, role: 'gateway', drainTo: null });
  };
  const switchTo = (c: GatewayColour, cause: string): void => {
    const text = renderActive(c);
    if (b.activeText === text) return;
    ops.push({ type: 'switch-gateway', resourceId: `file:${b.activePath}`, cause, colour: c, path: b.activePath, text, halt: true });
  };
  /** The colour runs with the wanted hash: false when that cannot happen in this plan (held, conflict). */
  const bringUp = (c: GatewayColour): boolean => {
    const spec = b.colours[c];
    const current = b.byName(spec.name);
    const planned = b.ensure(spec, b.hash, 'gateway', b.summary);
    let fresh = current === undefined;
    for (const op of planned) {
      if (op.type === 'recreate-container') {
        // Nothing uses a stale standby: remove it and create, no swap needed.
        retire(c, null, `${op.cause} (standby)`);
        const { resourceId, cause, spec: next } = op;
        ops.push({ type: 'create-container', resourceId, cause, spec: next, role: 'gateway', colour: c, halt: true });
        fresh = true;
      } else if (op.type === 'create-container' || op.type === 'start-container') {
        ops.push({ ...op, colour: c, halt: true });
      } else {
        ops.push(op);
      }
    }
    if (planned.some((o) => o.type === 'backoff-held' || o.type === 'conflict')) return false;
    ops.push(...b.attach(spec.name, current, fresh).map((o) => ({ ...o, colour: c, halt: true })));
    return true;
  };

  const active = parseActive(b.activeText);
  const front = b.byName(b.front.name);
  const frontRunning = front?.owned === true && front.running;

  if (active !== null && good(active)) {
    switchTo(active, 'active file rewritten (format)');
    ops.push(...b.attach(b.colours[active].name, b.byName(b.colours[active].name), false).map((o) => ({ ...o, colour: active })));
    retire(otherColour(active), active, `gateway ${active} is active`);
    retireLegacy();
  } else if (frontRunning) {
    const standby: GatewayColour = active !== null ? otherColour(active) : good('green') && !good('blue') ? 'green' : 'blue';
    const why = active === null
      ? 'no active gateway'
      : container(active) ? `gateway ${active} runs another spec` : `gateway ${active} is gone`;
    // Held only while the active colour serves: with nothing serving, every pass tries again.
    const serving = active !== null && container(active)?.running === true;
    const held = serving ? b.heldReady(standby) : undefined;
    if (bringUp(standby)) {
      if (held) {
        // It did not get ready last time: not awaited again (each wait is up to the ready timeout) until its wait runs out.
        const tries = `${held.failures} failed ${held.failures === 1 ? 'try' : 'tries'}`;
        const cause = `${why}; gateway ${standby} did not get ready: ${held.reason}; next try in ${held.nextTryIn} (${tries})`;
        ops.push({ type: 'backoff-held', resourceId: `gateway:${standby}`, cause, failures: held.failures, until: held.until });
      } else {
        const cause = `${why}; ${standby} takes over once it lists the tools`;
        const wait = { resourceId: `gateway:${standby}`, cause, colour: standby, expect: b.expect, specHash: b.hash, halt: true };
        ops.push({ type: 'await-gateway', ...wait });
        switchTo(standby, `gateway ${standby} is ready`);
        retire(otherColour(standby), standby, `gateway ${standby} took over`);
        retireLegacy();
      }
    }
  } else {
    const c: GatewayColour = active ?? (good('green') && !good('blue') ? 'green' : 'blue');
    if (bringUp(c)) {
      switchTo(c, `no front serves yet; gateway ${c} starts as the active one`);
      retire(otherColour(c), null, `gateway ${c} is active`);
      retireLegacy();
    }
  }
  // The front takes the LAN port the old single gateway holds: only once that one is retired.
  if (!legacyStays || frontRunning) ops.push(...b.ensure(b.front, b.frontHash, 'front', {}));
  return { ops, kept: [b.colours.blue.name, b.colours.green.name, b.front.name, ...(b.legacy ? [b.legacy.name] : [])] };
}
