import { request } from 'undici';
import type { GatewayReadiness } from '../ports/index.js';
import { ReconcilerError, ErrorCode, errorMessage } from '../errors/index.js';
import { probeMcp, type ProbeResult } from '../health/probe.js';

/** How often readiness is polled while LiteLLM starts (it takes ~4 s here). */
export const READINESS_POLL_MS = 250;

/** LiteLLM 1.77.3 over HTTP: readiness and the client-facing MCP endpoint `POST /mcp/`. */
export class LiteLLMGateway implements GatewayReadiness {
  readonly baseUrl: string;
  readonly #masterKey: () => string | null;

  constructor(baseUrl: string, masterKey: () => string | null) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#masterKey = masterKey;
  }

  /** Client URL; the trailing slash matters (`/mcp` answers 307, which many clients do not follow). */
  get mcpUrl(): string {
    return `${this.baseUrl}/mcp/`;
  }

  async ready(signal?: AbortSignal): Promise<boolean> {
    try {
      const res = await request(`${this.baseUrl}/health/readiness`, {
        method: 'GET',
        ...(signal ? { signal } : {}),
        headersTimeout: 2_000,
        bodyTimeout: 2_000,
      });
      await res.body.dump();
      return res.statusCode === 200;
    } catch {
      return false;
    }
  }

  /**
   * Whether LiteLLM's process answers at all: `GET /health/liveliness` (1.77.3: no key, no database,
   * no upstream; `_health_endpoints.py`). The health monitor asks it between its listings through
   * LiteLLM, which cost ~40 ms of LiteLLM's CPU per server (ADR 0017).
   */
  async alive(timeoutMs = 2_000): Promise<{ ok: true } | { ok: false; error: string }> {
    try {
      const res = await request(`${this.baseUrl}/health/liveliness`, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      await res.body.dump();
      return res.statusCode === 200 ? { ok: true } : { ok: false, error: `GET /health/liveliness answered HTTP ${res.statusCode}` };
    } catch (err) {
      return { ok: false, error: `GET /health/liveliness failed: ${errorMessage(err)}` };
    }
  }

  async waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (signal?.aborted) break;
      if (await this.ready()) return;
      await new Promise((r) => setTimeout(r, READINESS_POLL_MS));
    }
    throw new ReconcilerError(ErrorCode.GatewayUnavailable, `LiteLLM at ${this.baseUrl} not ready within ${timeoutMs} ms`, {
      retryable: true,
    });
  }

  /** `tools/list` through the gateway, optionally narrowed to some servers (`x-mcp-servers`). */
  async listTools(opts: { servers?: string[]; timeoutMs?: number } = {}): Promise<ProbeResult> {
    const key = this.#masterKey();
    if (!key) return { ok: false, error: 'no LITELLM_MASTER_KEY in the gateway env file', latencyMs: 0 };
    const headers: Record<string, string> = { 'x-litellm-api-key': `Bearer ${key}` };
    if (opts.servers?.length) headers['x-mcp-servers'] = opts.servers.join(',');
    try {
      return await probeMcp({ url: this.mcpUrl, transport: 'http', headers, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
    } catch (err) {
      return { ok: false, error: errorMessage(err), latencyMs: 0 };
    }
  }
}
