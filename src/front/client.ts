import { request } from 'undici';
import type { GatewayHandover, StandbyReady } from '../ports/index.js';
import { ReconcilerError, ErrorCode } from '../errors/index.js';
import { probeMcp } from '../health/probe.js';
import { FRONT_STATUS_PATH, UPSTREAM_HEADER, type FrontStatus } from './server.js';
import type { Colour } from './active.js';

/** How often the handover polls the standby's tools and the front. */
export const HANDOVER_POLL_MS = 250;
/** How often it polls the standby's `/health/readiness` (a cheap route: the standby's start is the handover's floor). */
export const READY_POLL_MS = 100;
/**
 * After the standby is ready, how long it may take to list every expected server's tools. Past it,
 * the switch still happens when the standby lists every server the active colour lists now (never
 * fewer tools than before); otherwise the handover fails and the old colour keeps serving.
 */
export const EXPECTED_TOOLS_WAIT_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The gateway servers (`mcp_x`) a tool list has tools of (`mcp_x-tool`). */
export function serversOf(tools: readonly string[], expect: readonly string[]): Set<string> {
  return new Set(expect.filter((s) => tools.some((t) => t.startsWith(`${s}-`))));
}

/** The blue/green handover through the front (ADR 0025): the front's URL is the gateway's stable address. */
export class FrontHandover implements GatewayHandover {
  readonly baseUrl: string;
  readonly #masterKey: () => string | null;
  readonly #toolsWaitMs: number;

  constructor(baseUrl: string, masterKey: () => string | null, opts: { toolsWaitMs?: number } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#masterKey = masterKey;
    this.#toolsWaitMs = opts.toolsWaitMs ?? EXPECTED_TOOLS_WAIT_MS;
  }

  async status(): Promise<FrontStatus | null> {
    try {
      const res = await request(`${this.baseUrl}${FRONT_STATUS_PATH}`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
      if (res.statusCode !== 200) {
        await res.body.dump();
        return null;
      }
      return (await res.body.json()) as FrontStatus;
    } catch {
      return null;
    }
  }

  async #ready(colour: Colour): Promise<boolean> {
    try {
      const headers = { [UPSTREAM_HEADER]: colour };
      const res = await request(`${this.baseUrl}/health/readiness`, { headers, headersTimeout: 2_000, bodyTimeout: 2_000 });
      await res.body.dump();
      return res.statusCode === 200;
    } catch {
      return false;
    }
  }

  async #tools(colour: Colour | null, expect: readonly string[]): Promise<Set<string> | null> {
    const key = this.#masterKey();
    if (!key) throw new ReconcilerError(ErrorCode.GatewayUnavailable, 'no LITELLM_MASTER_KEY in the gateway env file');
    const headers: Record<string, string> = { 'x-litellm-api-key': `Bearer ${key}` };
    if (colour) headers[UPSTREAM_HEADER] = colour;
    const r = await probeMcp({ url: `${this.baseUrl}/mcp/`, transport: 'http', headers }).catch(() => null);
    return r?.ok ? serversOf(r.tools, expect) : null;
  }

  async waitReady(colour: Colour, expect: readonly string[], timeoutMs: number): Promise<StandbyReady> {
    const t0 = Date.now();
    const deadline = t0 + timeoutMs;
    while (!(await this.#ready(colour))) {
      if (Date.now() >= deadline) {
        const msg = `gateway ${colour} not ready within ${timeoutMs} ms; the active one keeps serving`;
        throw new ReconcilerError(ErrorCode.GatewayUnavailable, msg, { retryable: true });
      }
      await sleep(READY_POLL_MS);
    }
    const readyAfterMs = Date.now() - t0;
    const toolsDeadline = Math.min(deadline, Date.now() + this.#toolsWaitMs);
    let seen: Set<string> | null = null;
    let listings = 0;
    const done = (missing: string[]): StandbyReady => ({ missing, readyAfterMs, listedAfterMs: Date.now() - t0, listings });
    for (;;) {
      seen = await this.#tools(colour, expect);
      listings++;
      if (seen && expect.every((s) => seen!.has(s))) return done([]);
      if (Date.now() >= toolsDeadline) break;
      await sleep(HANDOVER_POLL_MS);
    }
    // Some server lists nothing yet: switch only if the standby serves everything the active one does.
    const now = await this.#tools(null, expect);
    const missing = expect.filter((s) => !seen?.has(s));
    const regress = missing.filter((s) => now?.has(s));
    if (seen === null || regress.length > 0) {
      const why = seen === null ? 'answers no tools/list' : `lists no tools of ${regress.join(', ')}, which the active one serves`;
      const msg = `gateway ${colour} ${why}; the active one keeps serving`;
      throw new ReconcilerError(ErrorCode.GatewayUnavailable, msg, { retryable: true });
    }
    return done(missing);
  }

  async drain(from: Colour, to: Colour, timeoutMs: number): Promise<{ inflight: number }> {
    const deadline = Date.now() + timeoutMs;
    let last: FrontStatus | null = null;
    for (;;) {
      last = await this.status();
      if (last && last.active === to && last.upstreams[from].inflight === 0) return { inflight: 0 };
      if (Date.now() >= deadline) break;
      await sleep(HANDOVER_POLL_MS);
    }
    if (last?.active !== to) {
      const why = last === null ? 'the front does not answer' : `the front still sends to ${last.active ?? 'nothing'}`;
      throw new ReconcilerError(ErrorCode.GatewayUnavailable, `${why}; gateway ${from} is kept`, { retryable: true });
    }
    return { inflight: last.upstreams[from].inflight };
  }
}
