import { request } from 'undici';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { clipText } from '../errors/index.js';
import { litellmMessage } from '../litellm/api.js';
import {
  GatewayCallError,
  type GatewayHttp,
  type GatewayTool,
  type McpThroughGateway,
  type ResponsesItem,
  type ToolCallResult,
} from './ports.js';

/** The client's headers: LiteLLM 1.77.3 wants `Bearer ` in `x-litellm-api-key` (facts: client side). */
function keyHeaders(key: string): Record<string, string> {
  return { 'x-litellm-api-key': `Bearer ${key}` };
}

/** MCP through LiteLLM `POST /mcp/` with the official SDK client, one short session per operation (LiteLLM is stateless). */
export class SdkMcpThroughGateway implements McpThroughGateway {
  readonly #url: URL;
  readonly #key: string;

  constructor(gatewayUrl: string, key: string) {
    this.#url = new URL(`${gatewayUrl.replace(/\/+$/, '')}/mcp/`);
    this.#key = key;
  }

  async #session<T>(headers: Record<string, string>, signal: AbortSignal, fn: (c: Client) => Promise<T>): Promise<T> {
    const requestInit = { headers: { ...keyHeaders(this.#key), ...headers }, signal };
    const transport = new StreamableHTTPClientTransport(this.#url, { requestInit });
    const client = new Client({ name: 'mcp-reconciler-check', version: '0.1.0' }, { capabilities: {} });
    try {
      await client.connect(transport, { signal });
      return await fn(client);
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  listTools(gatewayServer: string, signal: AbortSignal): Promise<GatewayTool[]> {
    return this.#session({ 'x-mcp-servers': gatewayServer }, signal, async (c) => {
      const out: GatewayTool[] = [];
      let cursor: string | undefined;
      do {
        const page = await c.listTools(cursor ? { cursor } : undefined, { signal });
        for (const t of page.tools) {
          out.push({
            name: t.name,
            required: t.inputSchema.required ?? [],
            annotated: t.annotations !== undefined && t.annotations !== null,
            readOnly: t.annotations?.readOnlyHint === true,
            // Only what the server says explicitly; without readOnlyHint a tool is never picked anyway.
            destructive: t.annotations?.destructiveHint === true,
            openWorld: t.annotations?.openWorldHint === true,
          });
        }
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    });
  }

  callTool(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolCallResult> {
    return this.#session({}, signal, async (c) => {
      const r = await c.callTool({ name, arguments: args }, undefined, { signal });
      const content = Array.isArray(r.content) ? (r.content as { type?: unknown; text?: unknown }[]) : [];
      const isError = r.isError === true;
      const texts = content.filter((x) => x.type === 'text' && typeof x.text === 'string').map((x) => x.text as string);
      const errorText = isError ? texts.join(' ') : '';
      return { isError, items: content.length, errorText };
    });
  }
}

const ModelsBody = z.object({ data: z.array(z.object({ id: z.string() }).passthrough()) }).passthrough();
const ChatBody = z.object({ choices: z.array(z.unknown()) }).passthrough();
const OutputText = z.object({ text: z.string() }).passthrough();
/** `/v1/responses` output items (OpenAI's shape plus LiteLLM's own `tool_execution_results`, litellm_proxy_mcp_handler.py). */
const ResponsesBody = z
  .object({
    output: z.array(
      z
        .object({
          type: z.string(),
          name: z.string().optional(),
          content: z.union([z.array(z.unknown()), z.string(), z.null()]).optional(),
        })
        .passthrough(),
    ),
  })
  .passthrough();
const ToolResults = z.array(z.object({ result: z.string() }).passthrough());

/** LiteLLM's OpenAI-style routes over undici, with the client's key. */
export class UndiciGatewayHttp implements GatewayHttp {
  readonly #base: string;
  readonly #key: string;

  constructor(gatewayUrl: string, key: string) {
    this.#base = gatewayUrl.replace(/\/+$/, '');
    this.#key = key;
  }

  async #call(method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal): Promise<unknown> {
    let status: number;
    let text: string;
    try {
      const r = await request(`${this.#base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.#key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal,
      });
      status = r.statusCode;
      text = await r.body.text();
    } catch (err) {
      throw new GatewayCallError(err instanceof Error ? err.message : String(err), null);
    }
    if (status !== 200) throw new GatewayCallError(`HTTP ${status}: ${litellmMessage(text)}`, status);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new GatewayCallError(`HTTP 200 but not JSON: ${clipText(text, 200)}`, status);
    }
  }

  async ready(signal: AbortSignal): Promise<boolean> {
    try {
      const r = await request(`${this.#base}/health/readiness`, { signal });
      await r.body.dump();
      return r.statusCode === 200;
    } catch {
      return false;
    }
  }

  async models(signal: AbortSignal): Promise<string[]> {
    return ModelsBody.parse(await this.#call('GET', '/v1/models', undefined, signal)).data.map((m) => m.id);
  }

  async chat(model: string, prompt: string, signal: AbortSignal): Promise<{ choices: number }> {
    const body = { model, messages: [{ role: 'user', content: prompt }], max_tokens: 16 };
    return { choices: ChatBody.parse(await this.#call('POST', '/v1/chat/completions', body, signal)).choices.length };
  }

  async responsesWithMcp(model: string, gatewayServer: string, prompt: string, signal: AbortSignal): Promise<ResponsesItem[]> {
    const body = {
      model,
      input: prompt,
      // server_url "litellm_proxy/mcp/<name>" narrows LiteLLM's MCP tools to that server (litellm_proxy_mcp_handler.py).
      tools: [{ type: 'mcp', server_label: 'litellm', server_url: `litellm_proxy/mcp/${gatewayServer}`, require_approval: 'never' }],
    };
    const parsed = ResponsesBody.parse(await this.#call('POST', '/v1/responses', body, signal));
    return parsed.output.map((item): ResponsesItem => {
      const parts = Array.isArray(item.content) ? item.content : [];
      const texts = parts.flatMap((c) => {
        const t = OutputText.safeParse(c);
        return t.success ? [t.data.text] : [];
      });
      if (item.type === 'function_call') return { type: 'function_call', name: item.name ?? '?' };
      if (item.type === 'message') return { type: 'message', text: texts.join(' ') };
      if (item.type === 'tool_execution_results') {
        const results = texts.flatMap((t) => {
          try {
            const r = ToolResults.safeParse(JSON.parse(t));
            return r.success ? r.data : [];
          } catch {
            return [];
          }
        });
        return { type: 'tool_execution_results', results };
      }
      return { type: 'other', kind: item.type };
    });
  }
}
