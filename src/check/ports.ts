/**
 * The narrow interfaces `mcp-reconciler check` works through (one real adapter each, fakes in the
 * tests): an MCP client through LiteLLM `/mcp/`, an HTTP client for LiteLLM's OpenAI-style routes,
 * and a reader of LiteLLM's audit table.
 */

/** A tool as LiteLLM lists it (prefixed: `mcp_<name>-<tool>`), with what decides whether it is safe to call. */
export interface GatewayTool {
  name: string;
  /** Names in the input schema's `required`. */
  required: string[];
  /** Whether the tool carries MCP annotations at all (LiteLLM 1.77.3 drops them). */
  annotated: boolean;
  /** MCP annotations as the server states them (true only when said explicitly). */
  readOnly: boolean;
  destructive: boolean;
  openWorld: boolean;
}

export interface ToolCallResult {
  isError: boolean;
  /** Number of content items; the content itself is never printed (it may hold data or secrets). */
  items: number;
  /** The text of an error result (shown on failure, redacted), else ''. */
  errorText: string;
}

/** MCP through LiteLLM `POST /mcp/` with the client's key (the MCP SDK's client). */
export interface McpThroughGateway {
  /** `tools/list` narrowed to one LiteLLM server (`x-mcp-servers`). */
  listTools(gatewayServer: string, signal: AbortSignal): Promise<GatewayTool[]>;
  /** `tools/call` of a prefixed tool name. */
  callTool(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolCallResult>;
}

/** One item of `/v1/responses` output that matters here. */
export type ResponsesItem =
  | { type: 'function_call'; name: string }
  | { type: 'tool_execution_results'; results: { result: string }[] }
  | { type: 'message'; text: string }
  | { type: 'other'; kind: string };

/** LiteLLM's OpenAI-style routes, with the client's key. */
export interface GatewayHttp {
  ready(signal: AbortSignal): Promise<boolean>;
  /** `GET /v1/models`: the model names the gateway serves. */
  models(signal: AbortSignal): Promise<string[]>;
  /** `POST /v1/chat/completions`; the number of choices. */
  chat(model: string, prompt: string, signal: AbortSignal): Promise<{ choices: number }>;
  /**
   * `POST /v1/responses` with one MCP tool `{type: "mcp", server_url: "litellm_proxy/mcp/<server>",
   * require_approval: "never"}`: LiteLLM 1.77.3 lists the server's tools, gives them to the model,
   * runs the tool calls the model makes and returns their results (responses/main.py
   * aresponses_api_with_mcp).
   */
  responsesWithMcp(model: string, gatewayServer: string, prompt: string, signal: AbortSignal): Promise<ResponsesItem[]>;
}

/** A `"LiteLLM_SpendLogs"` row of an MCP tool call (call_type 'call_mcp_tool'). */
export interface AuditRow {
  /** `mcp_namespaced_tool_name`: `<server>/<tool>` (a slash, ADR 0008). */
  namespacedTool: string | null;
  /**
   * The prefix of `mcp_namespaced_tool_name` (not `metadata...mcp_server_name`, ADR 0015);
   * `tool`: `metadata.mcp_tool_call_metadata.name`.
   */
  server: string | null;
  tool: string | null;
  /** sha256 of the key used. */
  apiKey: string | null;
  status: string | null;
  startTime: Date;
}

/** LiteLLM's database, read-only. */
export interface AuditReader {
  /** Where it reads, for messages (never the password). */
  readonly where: string;
  mcpToolCallsSince(since: Date, signal: AbortSignal): Promise<AuditRow[]>;
  close(): Promise<void>;
}

/** An HTTP-level failure from an adapter, so the check can name the fix. */
export class GatewayCallError extends Error {
  constructor(
    message: string,
    /** HTTP status, or null when nothing answered (refused, timed out). */
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'GatewayCallError';
  }
}
