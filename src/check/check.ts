import { createHash } from 'node:crypto';
import { clipText, errorMessage } from '../errors/index.js';
import {
  GatewayCallError,
  type AuditReader,
  type AuditRow,
  type GatewayHttp,
  type GatewayTool,
  type McpThroughGateway,
  type ResponsesItem,
} from './ports.js';

/** One timeout per call through the gateway (an MCP server that hangs must not hang the check). */
export const CALL_TIMEOUT_MS = 30_000;
/** How long to wait for LiteLLM's batched spend-log writes (it flushes about every 10 s). */
export const DEFAULT_AUDIT_WAIT_MS = 45_000;
export const AUDIT_POLL_MS = 2_000;
/** Rows from a few seconds before the first call count (clock of the gateway vs ours). */
const AUDIT_SKEW_MS = 5_000;

export type StepStatus = 'pass' | 'fail' | 'skip';

export interface StepResult {
  /** What was checked: a server name, `gateway`, `chat`, `llm-tool-call`, `audit`. */
  step: string;
  status: StepStatus;
  message: string;
  /** What to do (failures always carry one). */
  fix?: string;
  /** Something the user should know though the step passed. */
  note?: string;
}

/** A server to check, from its desired file. */
export interface CheckServer {
  name: string;
  /** LiteLLM's name for it (`mcp_<name>`): tool prefix and `x-mcp-servers` value. */
  gatewayServer: string;
  /** Its container, for fixes. */
  container: string;
  /** Its desired file, for fixes. */
  file: string;
  /** `check:` from the desired file (the server's own tool name), or null: pick one. */
  checkTool: { tool: string; arguments: Record<string, unknown> } | null;
}

export interface CheckInput {
  servers: CheckServer[];
  /** Desired files that do not validate: reported as failures (the user meant them to run). */
  invalid: { file: string; message: string }[];
  gatewayUrl: string;
  gatewayContainer: string;
  /** The client's key; only its sha256 leaves this module (audit match), the key itself never. */
  key: string;
  /** Where the key came from, for fixes (`LITELLM_MASTER_KEY in ~/projects/secrets/mcp-litellm.env`). */
  keySource: string;
  /** A client's key (`--key-env`/`--key-file`), not the master key: it may be limited to /mcp/ (`keys create`, ADR 0019). */
  clientKey?: boolean;
  /** `--model`, or null: the first model the gateway serves. */
  model: string | null;
  /** Models whose config.yaml entry has a string `mock_response` (they cannot drive a tool call in 1.77.3). */
  stringMockModels: string[];
  /** Why there is no audit reader (no DATABASE_URL), when `audit` is null. */
  noAuditWhy: string;
  auditWaitMs: number;
}

export interface CheckDeps {
  mcp: McpThroughGateway;
  http: GatewayHttp;
  audit: AuditReader | null;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  callTimeoutMs?: number;
  auditPollMs?: number;
}

export interface CheckReport {
  steps: StepResult[];
  ok: boolean;
}

/** A call that reached the server through LiteLLM, for the audit step. */
interface MadeCall {
  server: CheckServer;
  tool: string;
}

/**
 * `mcp-reconciler check`: what a user would test by hand against the live stack, in order:
 * the gateway answers; a harmless tool call on every server through LiteLLM `/mcp/` with the
 * client's key; with a model, a chat completion and an LLM-driven tool call through LiteLLM's MCP
 * tools; with a database, the audit rows of the tool calls. Every step yields PASS, FAIL (with the
 * fix) or SKIP (not applicable here, with why). Never prints the key or a tool's output.
 */
export async function runCheck(input: CheckInput, deps: CheckDeps): Promise<CheckReport> {
  const steps: StepResult[] = [];
  const redact = (s: string): string => redactKey(s, input.key);
  const timeout = deps.callTimeoutMs ?? CALL_TIMEOUT_MS;
  const now = deps.now ?? (() => new Date());
  const started = now();

  for (const bad of input.invalid) {
    const message = `desired file does not validate: ${bad.message}`;
    steps.push({ step: bad.file, status: 'fail', message, fix: `mcp-reconciler validate ${bad.file}` });
  }

  const ready = await withTimeout(timeout, (s) => deps.http.ready(s)).catch(() => false);
  if (!ready) {
    steps.push({
      step: 'gateway',
      status: 'fail',
      message: `${input.gatewayUrl}/health/readiness does not answer 200`,
      fix: `mcp-reconciler status; docker logs ${input.gatewayContainer}`,
    });
    for (const s of input.servers) steps.push({ step: s.name, status: 'skip', message: 'not called: the gateway is not ready' });
    return finish(steps);
  }
  steps.push({ step: 'gateway', status: 'pass', message: `${input.gatewayUrl} ready` });

  // The key first: a refused key makes every later call fail with LiteLLM's bare "MCP request failed".
  let models: string[] | null = null;
  try {
    models = await withTimeout(timeout, (s) => deps.http.models(s));
    steps.push({ step: 'key', status: 'pass', message: `GET /v1/models accepts the key (${input.keySource})` });
  } catch (err) {
    const msg = oneLine(redact(errorMessage(err)));
    const refused = keyRefusal(err, msg, input);
    if (refused) {
      steps.push(refused);
      for (const s of input.servers) steps.push({ step: s.name, status: 'skip', message: 'not called: the gateway refused the key' });
      return finish(steps);
    }
    const fail: StepResult = { step: 'models', status: 'fail', message: `GET /v1/models → ${msg}`, fix: fixFor(err, msg, input, null) };
    steps.push(routeLimited(err, msg, input) ?? fail);
  }

  const calls: MadeCall[] = [];
  for (const server of input.servers) {
    const r = await checkServer(server, input, deps, timeout, redact);
    steps.push(r.step);
    if (r.call) calls.push(r.call);
  }
  if (input.servers.length === 0) steps.push({ step: 'servers', status: 'skip', message: 'no desired servers: nothing to call' });

  if (models !== null) steps.push(...(await checkModels(input, deps, timeout, redact, calls, models)));
  steps.push(await checkAudit(input, deps, calls, started, redact));
  return finish(steps);
}

function finish(steps: StepResult[]): CheckReport {
  return { steps, ok: steps.every((s) => s.status !== 'fail') };
}

/** The tool `check` calls when the desired file names none: argument-free, marked read-only, closed-world, not destructive. */
export function pickHarmlessTool(tools: GatewayTool[]): GatewayTool | null {
  return tools.find((t) => t.required.length === 0 && t.readOnly && !t.destructive && !t.openWorld) ?? null;
}

async function checkServer(
  server: CheckServer,
  input: CheckInput,
  deps: CheckDeps,
  timeout: number,
  redact: (s: string) => string,
): Promise<{ step: StepResult; call: MadeCall | null }> {
  const prefix = `${server.gatewayServer}-`;
  let tool: string;
  let args: Record<string, unknown>;
  let chosen: string;
  if (server.checkTool) {
    tool = server.checkTool.tool;
    args = server.checkTool.arguments;
    chosen = 'check.tool';
  } else {
    let tools: GatewayTool[];
    try {
      tools = await withTimeout(timeout, (s) => deps.mcp.listTools(server.gatewayServer, s));
    } catch (err) {
      return { step: callFailure(server, 'tools/list', err, input, redact), call: null };
    }
    const own = tools.filter((t) => t.name.startsWith(prefix));
    if (own.length === 0) {
      return {
        step: {
          step: server.name,
          status: 'fail',
          message:
            `tools/list through LiteLLM shows no tools of ${server.gatewayServer}: ` +
            'LiteLLM cannot reach the server or does not know it',
          fix: `mcp-reconciler status ${server.name} (McpReady, Registered, GatewayReady); docker logs ${server.container}`,
        },
        call: null,
      };
    }
    const pick = pickHarmlessTool(own);
    if (!pick) {
      // LiteLLM 1.77.3 rebuilds each tool from name, description and inputSchema only (mcp_server_manager.py
      // _create_prefixed_tools): through it no tool carries readOnlyHint, so none is known to be harmless.
      const why = own.some((t) => t.annotated)
        ? 'none is argument-free and marked read-only'
        : 'LiteLLM 1.77.3 passes no tool annotations (readOnlyHint), so none is known to be harmless';
      return {
        step: {
          step: server.name,
          status: 'pass',
          message: `listed ${own.length} tools through LiteLLM; none called: ${why}`,
          note: `to check a call too, name a harmless tool in ${server.file}: check: {tool: <name>, arguments: {...}}`,
        },
        call: null,
      };
    }
    tool = pick.name.slice(prefix.length);
    args = {};
    chosen = `listed ${own.length} tools, picked the first argument-free read-only one`;
  }
  const name = `${prefix}${tool}`;
  let result;
  try {
    result = await withTimeout(timeout, (s) => deps.mcp.callTool(name, args, s));
  } catch (err) {
    return { step: callFailure(server, `tools/call ${tool}`, err, input, redact), call: null };
  }
  if (result.isError) {
    return {
      step: {
        step: server.name,
        status: 'fail',
        message: `tools/call ${tool} through LiteLLM → the tool answered an error: ${
          oneLine(redact(result.errorText)) || '(no text)'
        }`,
        fix: server.checkTool
          ? `check the tool and arguments under check: in ${server.file}; docker logs ${server.container}`
          : `docker logs ${server.container}; or name another harmless tool under check: in ${server.file}`,
      },
      call: null,
    };
  }
  return {
    step: {
      step: server.name,
      status: 'pass',
      message: `tools/call ${name} through LiteLLM → ${result.items} content item(s) (${chosen})`,
    },
    call: { server, tool },
  };
}

/** A failed gateway call, with the fix its kind implies. */
function callFailure(server: CheckServer, what: string, err: unknown, input: CheckInput, redact: (s: string) => string): StepResult {
  const msg = oneLine(redact(errorMessage(err)));
  return { step: server.name, status: 'fail', message: `${what} through LiteLLM → ${msg}`, fix: fixFor(err, msg, input, server) };
}

/** LiteLLM 1.77.3 answers a bad key with 401 or with 500 and its auth message (facts: client side). */
const AUTH_RE =
  /Authentication Error|Invalid proxy server token|invalid user key|No api key passed|Malformed API Key|not allowed to access/i;

function fixFor(err: unknown, msg: string, input: CheckInput, server: CheckServer | null): string {
  const status = err instanceof GatewayCallError ? err.status : statusOf(err);
  if (status === 401 || status === 403 || AUTH_RE.test(msg)) {
    return (
      `the gateway refused the key (${input.keySource}): use a key LiteLLM knows (--key-env VAR or --key-file FILE), ` +
      'or check LITELLM_MASTER_KEY in the gateway env file'
    );
  }
  if (status === null || /ECONNREFUSED|fetch failed|timed out|aborted/i.test(msg)) {
    return `the gateway did not answer in time: mcp-reconciler status; docker logs ${input.gatewayContainer}`;
  }
  return server
    ? `mcp-reconciler status ${server.name}; docker logs ${server.container}; docker logs ${input.gatewayContainer}`
    : `docker logs ${input.gatewayContainer}`;
}

/**
 * The key step's failure, or null when `/v1/models` failed for another reason. Without a database
 * LiteLLM 1.77.3 knows only its master key and answers any other key 400 "No connected db."; with one,
 * an unknown key is 401 (user_api_key_auth.py).
 */
function keyRefusal(err: unknown, msg: string, input: CheckInput): StepResult | null {
  const status = err instanceof GatewayCallError ? err.status : statusOf(err);
  if (status === 400 && /No connected db/i.test(msg)) {
    return {
      step: 'key',
      status: 'fail',
      message: `GET /v1/models → ${msg}: without a database LiteLLM knows only its master key, and the key (${input.keySource}) is not it`,
      fix:
        'use the master key (the default: LITELLM_MASTER_KEY in the gateway env file), ' +
        'or give the gateway a database (mcp-reconciler db init) for virtual keys',
    };
  }
  if (status === 401 || status === 403 || AUTH_RE.test(msg)) {
    return { step: 'key', status: 'fail', message: `GET /v1/models → ${msg}`, fix: fixFor(err, msg, input, null) };
  }
  return null;
}

/**
 * A client key limited to /mcp/ (`keys create` without `--routes mcp,llm`: allowed_routes mcp_routes) is refused
 * /v1/models by LiteLLM 1.77.3's route check with a bare `500 Internal Server Error` (route_checks.py raises a plain
 * Exception). Then the model steps do not apply to that key: a SKIP saying so, not a failure; the servers show the key works.
 */
function routeLimited(err: unknown, msg: string, input: CheckInput): StepResult | null {
  const status = err instanceof GatewayCallError ? err.status : statusOf(err);
  if (!input.clientKey || status !== 500 || msg !== 'HTTP 500: Internal Server Error') return null;
  return {
    step: 'models',
    status: 'skip',
    message:
      `GET /v1/models → ${msg}: LiteLLM answers so to a key limited to /mcp/ (keys create without --routes mcp,llm; ` +
      `its log says "Virtual key is not allowed to call this route"); no chat or LLM tool call with this key`,
  };
}

function statusOf(err: unknown): number | null | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 100 ? code : undefined;
}

async function checkModels(
  input: CheckInput,
  deps: CheckDeps,
  timeout: number,
  redact: (s: string) => string,
  calls: MadeCall[],
  models: string[],
): Promise<StepResult[]> {
  if (models.length === 0) {
    const why = 'the gateway serves no model (GET /v1/models is empty)';
    return [
      { step: 'chat', status: 'skip', message: `${why}: no chat completion to check` },
      { step: 'llm-tool-call', status: 'skip', message: `${why}: no LLM-driven tool call to check` },
    ];
  }
  if (input.model !== null && !models.includes(input.model)) {
    const message = `--model ${input.model} is not served by the gateway (it serves ${models.join(', ')})`;
    return [{ step: 'models', status: 'fail', message, fix: 'pick one of those with --model' }];
  }
  const model = input.model ?? (models[0] as string);
  const out: StepResult[] = [];
  try {
    const r = await withTimeout(timeout, (s) => deps.http.chat(model, 'Reply with the single word: pong', s));
    out.push(
      r.choices > 0
        ? { step: 'chat', status: 'pass', message: `POST /v1/chat/completions with model ${model} → ${r.choices} choice(s)` }
        : {
            step: 'chat',
            status: 'fail',
            message: `POST /v1/chat/completions with model ${model} → no choices`,
            fix: `docker logs ${input.gatewayContainer}`,
          },
    );
  } catch (err) {
    const msg = oneLine(redact(errorMessage(err)));
    out.push({
      step: 'chat',
      status: 'fail',
      message: `POST /v1/chat/completions with model ${model} → ${msg}`,
      fix: `${fixFor(err, msg, input, null)}; the model's provider settings (api_key, api_base) in the gateway config`,
    });
  }
  out.push(await checkLlmToolCall(input, deps, timeout, redact, calls, model));
  return out;
}

async function checkLlmToolCall(
  input: CheckInput,
  deps: CheckDeps,
  timeout: number,
  redact: (s: string) => string,
  calls: MadeCall[],
  model: string,
): Promise<StepResult> {
  // A tool the user named as harmless first (with its arguments), else the picked argument-free one.
  const target = calls.find((c) => c.server.checkTool !== null) ?? calls[0];
  if (!target) {
    const message = 'no server answered a direct tool call, so there is no known-good tool for the model to call';
    return { step: 'llm-tool-call', status: 'skip', message };
  }
  const tool = `${target.server.gatewayServer}-${target.tool}`;
  const args = target.server.checkTool?.arguments ?? {};
  const prompt = `Call the tool ${tool} once with the arguments ${JSON.stringify(args)}. Call no other tool. Then reply: done.`;
  const what = `POST /v1/responses with model ${model} and MCP tools of ${target.server.gatewayServer}`;
  let items: ResponsesItem[];
  try {
    items = await withTimeout(timeout * 2, (s) => deps.http.responsesWithMcp(model, target.server.gatewayServer, prompt, s));
  } catch (err) {
    const msg = oneLine(redact(errorMessage(err)));
    return { step: 'llm-tool-call', status: 'fail', message: `${what} → ${msg}`, fix: fixFor(err, msg, input, target.server) };
  }
  const called = items.filter((i): i is Extract<ResponsesItem, { type: 'function_call' }> => i.type === 'function_call').map((i) => i.name);
  const results = items.flatMap((i) => (i.type === 'tool_execution_results' ? i.results : []));
  if (called.length === 0) {
    if (input.stringMockModels.includes(model)) {
      return {
        step: 'llm-tool-call',
        status: 'skip',
        message:
          `model ${model} has a string mock_response: LiteLLM 1.77.3's responses() returns it before any MCP handling ` +
          '(litellm/responses/main.py), so no model can call a tool',
        note: 'a mock model that calls a tool: litellm_params with mock_tool_calls and no mock_response (README "Check the whole stack")',
      };
    }
    return {
      step: 'llm-tool-call',
      status: 'fail',
      message: `${what} → the model answered without calling a tool`,
      fix: 'use a model that supports tool calling (--model NAME)',
    };
  }
  const failed = results.filter((r) => /^(Error executing tool|Tool call failed|Tool call blocked)/.test(r.result));
  if (results.length === 0 || failed.length > 0) {
    return {
      step: 'llm-tool-call',
      status: 'fail',
      message: `${what} → the model called ${called.join(', ')}, but ${
        results.length === 0 ? 'LiteLLM returned no tool result' : oneLine(redact(failed[0]?.result ?? ''))
      }`,
      fix: `mcp-reconciler status; docker logs ${input.gatewayContainer}`,
    };
  }
  const message = `${what} → the model called ${called.join(', ')}; LiteLLM ran it (${results.length} result(s))`;
  return { step: 'llm-tool-call', status: 'pass', message };
}

async function checkAudit(
  input: CheckInput,
  deps: CheckDeps,
  calls: MadeCall[],
  started: Date,
  redact: (s: string) => string,
): Promise<StepResult> {
  const audit = deps.audit;
  if (!audit) return { step: 'audit', status: 'skip', message: input.noAuditWhy };
  if (calls.length === 0) return { step: 'audit', status: 'skip', message: 'no tool call was made, so there is no audit row to look for' };
  const keyHash = sha256Hex(input.key);
  const since = new Date(started.getTime() - AUDIT_SKEW_MS);
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now().getTime() + input.auditWaitMs;
  let missing = calls;
  let wrongKey: string[] = [];
  try {
    for (;;) {
      const rows = await withTimeout(CALL_TIMEOUT_MS, (s) => audit.mcpToolCallsSince(since, s));
      const found = (c: MadeCall): AuditRow[] => rows.filter((r) => rowIs(r, c));
      missing = calls.filter((c) => found(c).length === 0);
      wrongKey = calls.filter((c) => found(c).length > 0 && !found(c).some((r) => r.apiKey === keyHash)).map(label);
      if (missing.length === 0 || now().getTime() >= deadline) break;
      await sleep(deps.auditPollMs ?? AUDIT_POLL_MS);
    }
  } catch (err) {
    return {
      step: 'audit',
      status: 'fail',
      message: `cannot read "LiteLLM_SpendLogs" at ${audit.where}: ${oneLine(redact(errorMessage(err)))}`,
      fix: 'mcp-reconciler doctor --db-env-file <the gateway env file> (DATABASE_URL, schema, rows)',
    };
  } finally {
    await audit.close().catch(() => undefined);
  }
  if (missing.length > 0) {
    return {
      step: 'audit',
      status: 'fail',
      message:
        `no "LiteLLM_SpendLogs" row (call_type call_mcp_tool) for ${missing.map(label).join(', ')} ` +
        `within ${Math.round(input.auditWaitMs / 1000)} s at ${audit.where}`,
      fix:
        'is the gateway on this database (DATABASE_URL in its env file, mcp-reconciler status shows API mode)? ' +
        `docker logs ${input.gatewayContainer}; a longer --audit-wait`,
    };
  }
  if (wrongKey.length > 0) {
    return {
      step: 'audit',
      status: 'fail',
      message: `rows for ${wrongKey.join(', ')} exist, but none carries this key's hash in api_key`,
      fix: 'another client made these calls; run the check again, or look at the rows with the query doctor --db-env-file prints',
    };
  }
  const message = `"LiteLLM_SpendLogs" has a call_mcp_tool row for each call (${calls.map(label).join(', ')}) with this key's hash`;
  return { step: 'audit', status: 'pass', message };
}

function label(c: MadeCall): string {
  return `${c.server.gatewayServer}/${c.tool}`;
}

function rowIs(r: AuditRow, c: MadeCall): boolean {
  return r.namespacedTool === label(c) || (r.server === c.server.gatewayServer && r.tool === c.tool);
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** A message on one line, at most 300 characters (LiteLLM's errors may carry a Python traceback). */
function oneLine(s: string): string {
  return clipText(s.replace(/\s+/g, ' ').trim(), 300);
}

/** Remove the key (and its Bearer form) from any text before it is printed. */
export function redactKey(text: string, key: string): string {
  return key.length >= 4 ? text.split(key).join('<key>') : text;
}

async function withTimeout<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new GatewayCallError(`timed out after ${ms} ms`, null);
      ac.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([fn(ac.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The report as lines: `PASS memory: ...`, a `fix:` line under each failure, and a count. */
export function renderReport(r: CheckReport): string {
  const lines: string[] = [];
  for (const s of r.steps) {
    lines.push(`${s.status.toUpperCase()} ${s.step}: ${s.message}`);
    if (s.fix) lines.push(`     fix: ${s.fix}`);
    if (s.note) lines.push(`     note: ${s.note}`);
  }
  const n = (st: StepStatus): number => r.steps.filter((s) => s.status === st).length;
  lines.push(`${n('pass')} passed, ${n('fail')} failed, ${n('skip')} skipped`);
  return lines.join('\n');
}
