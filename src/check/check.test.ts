import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  runCheck,
  renderReport,
  pickHarmlessTool,
  redactKey,
  sha256Hex,
  type CheckInput,
  type CheckDeps,
  type CheckServer,
} from './check.js';
import {
  GatewayCallError,
  type AuditReader,
  type AuditRow,
  type GatewayHttp,
  type GatewayTool,
  type McpThroughGateway,
  type ResponsesItem,
  type ToolCallResult,
} from './ports.js';

const KEY = 'sk-test-0123456789abcdef';

const tool = (name: string, o: Partial<GatewayTool> = {}): GatewayTool => ({
  name,
  required: [],
  annotated: true,
  readOnly: true,
  destructive: false,
  openWorld: false,
  ...o,
});

const memory: CheckServer = {
  name: 'memory',
  gatewayServer: 'mcp_memory',
  container: 'mcp-memory',
  file: 'desired-state/mcp-memory.yaml',
  checkTool: { tool: 'read_graph', arguments: {} },
};
const everything: CheckServer = {
  name: 'everything',
  gatewayServer: 'mcp_everything',
  container: 'mcp-everything',
  file: 'desired-state/mcp-everything.yaml',
  checkTool: null,
};

/** A gateway whose answers the test sets; records what was called. */
class FakeMcp implements McpThroughGateway {
  calls: string[] = [];
  constructor(
    readonly tools: Record<string, GatewayTool[]>,
    readonly answer: (name: string) => ToolCallResult | Error = () => ({ isError: false, items: 1, errorText: '' }),
  ) {}
  async listTools(server: string): Promise<GatewayTool[]> {
    return this.tools[server] ?? [];
  }
  async callTool(name: string, args: Record<string, unknown>): Promise<ToolCallResult> {
    this.calls.push(`${name} ${JSON.stringify(args)}`);
    const a = this.answer(name);
    if (a instanceof Error) throw a;
    return a;
  }
}

class FakeHttp implements GatewayHttp {
  prompts: string[] = [];
  constructor(
    readonly o: { ready?: boolean; models?: string[] | Error; chat?: number | Error; responses?: ResponsesItem[] | Error } = {},
  ) {}
  async ready(): Promise<boolean> {
    return this.o.ready ?? true;
  }
  async models(): Promise<string[]> {
    const m = this.o.models ?? ['mock'];
    if (m instanceof Error) throw m;
    return m;
  }
  async chat(): Promise<{ choices: number }> {
    const c = this.o.chat ?? 1;
    if (c instanceof Error) throw c;
    return { choices: c };
  }
  async responsesWithMcp(model: string, server: string, prompt: string): Promise<ResponsesItem[]> {
    this.prompts.push(`${model} ${server} ${prompt}`);
    const r = this.o.responses ?? [
      { type: 'function_call', name: 'mcp_memory-read_graph' },
      { type: 'tool_execution_results', results: [{ result: '{"entities":[]}' }] },
    ];
    if (r instanceof Error) throw r;
    return r;
  }
}

/** Rows appear after `afterPolls` reads. */
class FakeAudit implements AuditReader {
  readonly where = 'postgresql://litellm@db:5432/litellm';
  polls = 0;
  closed = false;
  constructor(
    readonly rows: AuditRow[],
    readonly afterPolls = 0,
  ) {}
  async mcpToolCallsSince(since: Date): Promise<AuditRow[]> {
    this.polls++;
    return this.polls > this.afterPolls ? this.rows.filter((r) => r.startTime >= since) : [];
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const T0 = new Date('2026-12-01T07:00:00Z');
function clock(): Pick<CheckDeps, 'now' | 'sleep'> {
  let t = T0.getTime();
  return { now: () => new Date(t), sleep: async (ms) => void (t += ms) };
}

function input(o: Partial<CheckInput> = {}): CheckInput {
  return {
    servers: [memory, everything],
    invalid: [],
    gatewayUrl: 'http://127.0.0.1:4000',
    gatewayContainer: 'mcp-litellm',
    key: KEY,
    keySource: 'LITELLM_MASTER_KEY in secrets/mcp-litellm.env',
    model: null,
    stringMockModels: [],
    noAuditWhy: 'no DATABASE_URL in secrets/mcp-litellm.env: the gateway has no database (config mode), so LiteLLM keeps no audit rows',
    auditWaitMs: 30_000,
    ...o,
  };
}

const TOOLS = {
  mcp_memory: [tool('mcp_memory-read_graph'), tool('mcp_memory-create_entities', { required: ['entities'], readOnly: false })],
  mcp_everything: [
    tool('mcp_everything-echo', { required: ['message'] }),
    tool('mcp_everything-toggle', { readOnly: false }),
    tool('mcp_everything-get-env'),
  ],
};

/** The everything server answers `a`, every other server a plain result. */
const everythingAnswers = (a: ToolCallResult | Error) => (n: string): ToolCallResult | Error =>
  n.startsWith('mcp_everything') ? a : { isError: false, items: 1, errorText: '' };
const AUTH_BODY =
  'Streamable HTTP error: Error POSTing to endpoint: ' +
  '{"error":{"message":"Authentication Error, Invalid proxy server token passed. Received API Key = ';
const KEY_FIX =
  '     fix: the gateway refused the key (LITELLM_MASTER_KEY in secrets/mcp-litellm.env): use a key LiteLLM knows ' +
  '(--key-env VAR or --key-file FILE), or check LITELLM_MASTER_KEY in the gateway env file';

const row = (namespaced: string, o: Partial<AuditRow> = {}): AuditRow => ({
  namespacedTool: namespaced,
  server: namespaced.split('/')[0] ?? null,
  tool: namespaced.split('/')[1] ?? null,
  apiKey: sha256Hex(KEY),
  status: 'success',
  startTime: new Date(T0.getTime() + 1_000),
  ...o,
});

describe('check: PASS, FAIL with the fix, SKIP with why', () => {
  test('everything answers: every line PASS, exit ok; the check tool and the picked tool are the ones called', async () => {
    const mcp = new FakeMcp(TOOLS);
    const http = new FakeHttp();
    const audit = new FakeAudit([row('mcp_memory/read_graph'), row('mcp_everything/get-env')], 2);
    const r = await runCheck(input(), { mcp, http, audit, ...clock(), auditPollMs: 2_000 });
    assert.equal(
      renderReport(r),
      [
        'PASS gateway: http://127.0.0.1:4000 ready',
        'PASS key: GET /v1/models accepts the key (LITELLM_MASTER_KEY in secrets/mcp-litellm.env)',
        'PASS memory: tools/call mcp_memory-read_graph through LiteLLM → 1 content item(s) (check.tool)',
        'PASS everything: tools/call mcp_everything-get-env through LiteLLM → 1 content item(s) (listed 3 tools, picked the first ' +
          'argument-free read-only one)',
        'PASS chat: POST /v1/chat/completions with model mock → 1 choice(s)',
        'PASS llm-tool-call: POST /v1/responses with model mock and MCP tools of mcp_memory → the model called ' +
          'mcp_memory-read_graph; LiteLLM ran it (1 result(s))',
        'PASS audit: "LiteLLM_SpendLogs" has a call_mcp_tool row for each call (mcp_memory/read_graph, mcp_everything/get-env) ' +
          "with this key's hash",
        '7 passed, 0 failed, 0 skipped',
      ].join('\n'),
    );
    assert.equal(r.ok, true);
    assert.deepEqual(mcp.calls, ['mcp_memory-read_graph {}', 'mcp_everything-get-env {}']);
    assert.deepEqual(http.prompts, [
      'mock mcp_memory Call the tool mcp_memory-read_graph once with the arguments {}. Call no other tool. Then reply: done.',
    ]);
    assert.equal(audit.polls, 3, 'polled until the batched rows appeared');
    assert.equal(audit.closed, true);
  });

  test('the gateway is down: FAIL gateway with its fix, servers not called, exit not ok', async () => {
    const mcp = new FakeMcp(TOOLS);
    const r = await runCheck(input(), { mcp, http: new FakeHttp({ ready: false }), audit: null });
    assert.deepEqual(renderReport(r).split('\n'), [
      'FAIL gateway: http://127.0.0.1:4000/health/readiness does not answer 200',
      '     fix: mcp-reconciler status; docker logs mcp-litellm',
      'SKIP memory: not called: the gateway is not ready',
      'SKIP everything: not called: the gateway is not ready',
      '0 passed, 1 failed, 2 skipped',
    ]);
    assert.equal(r.ok, false);
    assert.deepEqual(mcp.calls, []);
  });

  const serverCases: { name: string; mcp: FakeMcp; line: string; fix: string }[] = [
    {
      name: 'a stopped server: LiteLLM lists none of its tools',
      mcp: new FakeMcp({ mcp_memory: TOOLS.mcp_memory }),
      line:
        'FAIL everything: tools/list through LiteLLM shows no tools of mcp_everything: ' +
        'LiteLLM cannot reach the server or does not know it',
      fix: '     fix: mcp-reconciler status everything (McpReady, Registered, GatewayReady); docker logs mcp-everything',
    },
    {
      name: 'a refused key (LiteLLM answers 500 with its auth message, the key echoed)',
      mcp: new FakeMcp(TOOLS, everythingAnswers(new GatewayCallError(`${AUTH_BODY}${KEY}"}}`, 500))),
      line: `FAIL everything: tools/call get-env through LiteLLM → ${AUTH_BODY}<key>"}}`,
      fix: KEY_FIX,
    },
    {
      name: 'a 401 without a message',
      mcp: new FakeMcp(TOOLS, everythingAnswers(new GatewayCallError('HTTP 401', 401))),
      line: 'FAIL everything: tools/call get-env through LiteLLM → HTTP 401',
      fix: KEY_FIX,
    },
    {
      name: 'the tool answers an error',
      mcp: new FakeMcp(TOOLS, everythingAnswers({ isError: true, items: 1, errorText: 'boom' })),
      line: 'FAIL everything: tools/call get-env through LiteLLM → the tool answered an error: boom',
      fix: '     fix: docker logs mcp-everything; or name another harmless tool under check: in desired-state/mcp-everything.yaml',
    },
    {
      name: 'nothing answers in time',
      mcp: new FakeMcp(TOOLS, everythingAnswers(new GatewayCallError('timed out after 30000 ms', null))),
      line: 'FAIL everything: tools/call get-env through LiteLLM → timed out after 30000 ms',
      fix: '     fix: the gateway did not answer in time: mcp-reconciler status; docker logs mcp-litellm',
    },
  ];
  for (const c of serverCases) {
    test(`${c.name}: FAIL line and fix; the other server still PASSes`, async () => {
      const r = await runCheck(input(), { mcp: c.mcp, http: new FakeHttp(), audit: null });
      const lines = renderReport(r).split('\n');
      const at = lines.indexOf(c.line);
      assert.ok(at > 0, lines.join('\n'));
      assert.equal(lines[at + 1], c.fix);
      assert.ok(lines.includes('PASS memory: tools/call mcp_memory-read_graph through LiteLLM → 1 content item(s) (check.tool)'));
      assert.equal(r.ok, false);
      assert.ok(!renderReport(r).includes(KEY), 'the key is never printed');
    });
  }

  const uncallable: [string, GatewayTool[], string][] = [
    [
      'no argument-free read-only tool',
      [tool('mcp_everything-echo', { required: ['message'] }), tool('mcp_everything-toggle', { readOnly: false })],
      'PASS everything: listed 2 tools through LiteLLM; none called: none is argument-free and marked read-only',
    ],
    [
      'no annotations at all (what LiteLLM 1.77.3 passes on)',
      [
        tool('mcp_everything-get-env', { annotated: false, readOnly: false }),
        tool('mcp_everything-echo', { annotated: false, readOnly: false, required: ['message'] }),
      ],
      'PASS everything: listed 2 tools through LiteLLM; none called: LiteLLM 1.77.3 passes no tool annotations (readOnlyHint), so ' +
        'none is known to be harmless',
    ],
  ];
  for (const [name, tools, line] of uncallable) {
    test(`${name}: PASS with a note, nothing called on that server`, async () => {
      const mcp = new FakeMcp({ ...TOOLS, mcp_everything: tools });
      const r = await runCheck(input(), { mcp, http: new FakeHttp(), audit: null });
      const lines = renderReport(r).split('\n');
      const at = lines.indexOf(line);
      assert.ok(at > 0, lines.join('\n'));
      assert.equal(
        lines[at + 1],
        '     note: to check a call too, name a harmless tool in desired-state/mcp-everything.yaml: ' +
          'check: {tool: <name>, arguments: {...}}',
      );
      assert.deepEqual(mcp.calls, ['mcp_memory-read_graph {}']);
      assert.equal(r.ok, true);
    });
  }

  const refusals: [string, GatewayCallError, string[]][] = [
    [
      'no database: LiteLLM knows only its master key (400 No connected db.)',
      new GatewayCallError('HTTP 400: No connected db.', 400),
      [
        'FAIL key: GET /v1/models → HTTP 400: No connected db.: without a database LiteLLM knows only its master key, and the key ' +
          '($CLIENT_KEY) is not it',
        '     fix: use the master key (the default: LITELLM_MASTER_KEY in the gateway env file), or give the gateway a database ' +
          '(mcp-reconciler db init) for virtual keys',
      ],
    ],
    [
      'with a database: an unknown key is 401',
      new GatewayCallError(`HTTP 401: Authentication Error, Invalid proxy server token passed. Received API Key = ${KEY}`, 401),
      [
        'FAIL key: GET /v1/models → HTTP 401: Authentication Error, Invalid proxy server token passed. Received API Key = <key>',
        '     fix: the gateway refused the key ($CLIENT_KEY): use a key LiteLLM knows (--key-env VAR or --key-file FILE), or check ' +
          'LITELLM_MASTER_KEY in the gateway env file',
      ],
    ],
  ];
  for (const [name, err, want] of refusals) {
    test(`the key is refused, ${name}: FAIL key with the fix, no server called`, async () => {
      const mcp = new FakeMcp(TOOLS);
      const r = await runCheck(input({ keySource: '$CLIENT_KEY' }), { mcp, http: new FakeHttp({ models: err }), audit: null });
      assert.deepEqual(renderReport(r).split('\n'), [
        'PASS gateway: http://127.0.0.1:4000 ready',
        ...want,
        'SKIP memory: not called: the gateway refused the key',
        'SKIP everything: not called: the gateway refused the key',
        '1 passed, 1 failed, 2 skipped',
      ]);
      assert.deepEqual(mcp.calls, []);
    });
  }

  test('/v1/models fails otherwise: FAIL models, the servers are still called, no chat', async () => {
    const mcp = new FakeMcp(TOOLS);
    const http = new FakeHttp({ models: new GatewayCallError('HTTP 500: boom\n  Traceback', 500) });
    const r = await runCheck(input(), { mcp, http, audit: null });
    const lines = renderReport(r).split('\n');
    assert.deepEqual(lines.slice(1, 3), ['FAIL models: GET /v1/models → HTTP 500: boom Traceback', '     fix: docker logs mcp-litellm']);
    assert.equal(mcp.calls.length, 2);
    assert.ok(!lines.some((l) => / (chat|llm-tool-call): /.test(l)), lines.join('\n'));
  });

  test('a client key limited to /mcp/: /v1/models is a bare 500 → SKIP models (not FAIL), the servers are called; ' +
    'the master key\'s 500 is a FAIL', async () => {
    const refused = (): FakeHttp => new FakeHttp({ models: new GatewayCallError('HTTP 500: Internal Server Error', 500) });
    const mcp = new FakeMcp(TOOLS);
    const r = await runCheck(input({ keySource: '$CLIENT_KEY', clientKey: true }), { mcp, http: refused(), audit: null });
    const lines = renderReport(r).split('\n');
    assert.deepEqual(lines.slice(1, 2), [
      'SKIP models: GET /v1/models → HTTP 500: Internal Server Error: LiteLLM answers so to a key limited to /mcp/ (keys create without ' +
        '--routes mcp,llm; its log says "Virtual key is not allowed to call this route"); no chat or LLM tool call with this key',
    ]);
    assert.equal(mcp.calls.length, 2);
    assert.equal(r.ok, true);
    const master = await runCheck(input(), { mcp: new FakeMcp(TOOLS), http: refused(), audit: null });
    assert.equal(master.ok, false);
    assert.equal(renderReport(master).split('\n')[1], 'FAIL models: GET /v1/models → HTTP 500: Internal Server Error');
  });

  test('pickHarmlessTool: argument-free, read-only, neither destructive nor open-world, first listed', () => {
    const cases: [GatewayTool[], string | null][] = [
      [[tool('a', { required: ['x'] }), tool('b')], 'b'],
      [[tool('a', { readOnly: false }), tool('b', { openWorld: true }), tool('c', { destructive: true })], null],
      [[tool('a'), tool('b')], 'a'],
      [[], null],
    ];
    for (const [tools, want] of cases) assert.equal(pickHarmlessTool(tools)?.name ?? null, want);
  });

  test('invalid desired files are failures with the validate command', async () => {
    const invalid = [{ file: 'desired-state/mcp-x.yaml', message: 'desired-state/mcp-x.yaml:2:1 port: required' }];
    const r = await runCheck(input({ servers: [memory], invalid }), {
      mcp: new FakeMcp(TOOLS),
      http: new FakeHttp(),
      audit: null,
    });
    assert.deepEqual(renderReport(r).split('\n').slice(0, 2), [
      'FAIL desired-state/mcp-x.yaml: desired file does not validate: desired-state/mcp-x.yaml:2:1 port: required',
      '     fix: mcp-reconciler validate desired-state/mcp-x.yaml',
    ]);
    assert.equal(r.ok, false);
  });
});

describe('check: models, the LLM-driven tool call', () => {
  const llm = async (http: FakeHttp, o: Partial<CheckInput> = {}): Promise<string[]> => {
    const r = await runCheck(input({ servers: [memory], ...o }), { mcp: new FakeMcp(TOOLS), http, audit: null });
    return renderReport(r).split('\n').filter((l) => /^(PASS|FAIL|SKIP) (chat|llm-tool-call|models)|^ {5}(fix|note)/.test(l));
  };

  test('no model served: chat and the LLM call are SKIPped with why', async () => {
    assert.deepEqual(await llm(new FakeHttp({ models: [] })), [
      'SKIP chat: the gateway serves no model (GET /v1/models is empty): no chat completion to check',
      'SKIP llm-tool-call: the gateway serves no model (GET /v1/models is empty): no LLM-driven tool call to check',
    ]);
  });

  test('a string mock_response model: chat PASS, the LLM call SKIPped with the exact reason', async () => {
    const http = new FakeHttp({ models: ['mock-chat'], responses: [{ type: 'message', text: 'pong' }] });
    assert.deepEqual(await llm(http, { stringMockModels: ['mock-chat'] }), [
      'PASS chat: POST /v1/chat/completions with model mock-chat → 1 choice(s)',
      "SKIP llm-tool-call: model mock-chat has a string mock_response: LiteLLM 1.77.3's responses() returns it before any MCP " +
        'handling (litellm/responses/main.py), so no model can call a tool',
      '     note: a mock model that calls a tool: litellm_params with mock_tool_calls and no mock_response (README "Check the whole ' +
        'stack")',
    ]);
  });

  const failing: { name: string; http: FakeHttp; o?: Partial<CheckInput>; want: string[] }[] = [
    {
      name: 'a real model that answers without calling a tool',
      http: new FakeHttp({ models: ['gpt'], responses: [{ type: 'message', text: 'I cannot' }] }),
      want: [
        'PASS chat: POST /v1/chat/completions with model gpt → 1 choice(s)',
        'FAIL llm-tool-call: POST /v1/responses with model gpt and MCP tools of mcp_memory → the model answered without calling a tool',
        '     fix: use a model that supports tool calling (--model NAME)',
      ],
    },
    {
      name: 'the tool LiteLLM ran failed',
      http: new FakeHttp({
        responses: [
          { type: 'function_call', name: 'mcp_memory-read_graph' },
          { type: 'tool_execution_results', results: [{ result: 'Error executing tool: refused' }] },
        ],
      }),
      want: [
        'PASS chat: POST /v1/chat/completions with model mock → 1 choice(s)',
        'FAIL llm-tool-call: POST /v1/responses with model mock and MCP tools of mcp_memory → the model called ' +
          'mcp_memory-read_graph, but Error executing tool: refused',
        '     fix: mcp-reconciler status; docker logs mcp-litellm',
      ],
    },
    {
      name: 'the chat completion fails at the provider',
      http: new FakeHttp({ chat: new GatewayCallError('HTTP 500: litellm.APIConnectionError: no route', 500) }),
      want: [
        'FAIL chat: POST /v1/chat/completions with model mock → HTTP 500: litellm.APIConnectionError: no route',
        "     fix: docker logs mcp-litellm; the model's provider settings (api_key, api_base) in the gateway config",
        'PASS llm-tool-call: POST /v1/responses with model mock and MCP tools of mcp_memory → the model called ' +
          'mcp_memory-read_graph; LiteLLM ran it (1 result(s))',
      ],
    },
    {
      name: '--model names a model the gateway does not serve',
      http: new FakeHttp({ models: ['a', 'b'] }),
      o: { model: 'c' },
      want: ['FAIL models: --model c is not served by the gateway (it serves a, b)', '     fix: pick one of those with --model'],
    },
  ];
  for (const c of failing) {
    test(c.name, async () => {
      assert.deepEqual(await llm(c.http, c.o), c.want);
    });
  }

  test('no server answered a direct call: the LLM step is SKIPped, not guessed', async () => {
    const mcp = new FakeMcp({}, () => new GatewayCallError('HTTP 500', 500));
    const r = await runCheck(input({ servers: [memory] }), { mcp, http: new FakeHttp(), audit: null });
    const want = 'SKIP llm-tool-call: no server answered a direct tool call, so there is no known-good tool for the model to call';
    assert.ok(renderReport(r).includes(want));
  });
});

describe('check: audit rows', () => {
  const audit = async (reader: AuditReader | null, o: Partial<CheckInput> = {}): Promise<{ lines: string[]; ok: boolean }> => {
    const deps = { mcp: new FakeMcp(TOOLS), http: new FakeHttp({ models: [] }), audit: reader, ...clock() };
    const r = await runCheck(input({ servers: [memory], ...o }), deps);
    const lines = renderReport(r).split('\n');
    const at = lines.findIndex((l) => / audit: /.test(l));
    return { lines: lines.slice(at, at + 2).filter((l) => !/passed,/.test(l)), ok: r.ok };
  };

  test('no database: SKIP with why', async () => {
    assert.deepEqual((await audit(null)).lines, [
      'SKIP audit: no DATABASE_URL in secrets/mcp-litellm.env: the gateway has no database (config mode), so LiteLLM keeps no audit rows',
    ]);
  });

  test('no row within the wait: FAIL with the fix; rows from before the check do not count', async () => {
    const old = row('mcp_memory/read_graph', { startTime: new Date(T0.getTime() - 60_000) });
    const reader = new FakeAudit([old, row('mcp_everything/get-env')]);
    const r = await audit(reader, { auditWaitMs: 10_000 });
    assert.deepEqual(r.lines, [
      'FAIL audit: no "LiteLLM_SpendLogs" row (call_type call_mcp_tool) for mcp_memory/read_graph within 10 s at ' +
        'postgresql://litellm@db:5432/litellm',
      '     fix: is the gateway on this database (DATABASE_URL in its env file, mcp-reconciler status shows API mode)? docker logs ' +
        'mcp-litellm; a longer --audit-wait',
    ]);
    assert.equal(r.ok, false);
    assert.equal(reader.polls, 6, 'polled every 2 s for 10 s');
    assert.equal(reader.closed, true);
  });

  test('a row matched by the metadata fields alone counts', async () => {
    const r = await audit(new FakeAudit([row('x', { namespacedTool: null, server: 'mcp_memory', tool: 'read_graph' })]));
    assert.match(r.lines[0] ?? '', /^PASS audit: /);
  });

  test("rows of another key: FAIL (the check's own calls are not the ones logged)", async () => {
    const r = await audit(new FakeAudit([row('mcp_memory/read_graph', { apiKey: sha256Hex('sk-other') })]));
    assert.deepEqual(r.lines, [
      "FAIL audit: rows for mcp_memory/read_graph exist, but none carries this key's hash in api_key",
      '     fix: another client made these calls; run the check again, or look at the rows with the query doctor --db-env-file prints',
    ]);
  });

  test('the database cannot be read: FAIL naming where (no password) and doctor as the fix', async () => {
    const reader: AuditReader = {
      where: 'postgresql://litellm@db:5432/litellm',
      mcpToolCallsSince: async () => {
        throw new Error('password authentication failed for user "litellm"');
      },
      close: async () => undefined,
    };
    assert.deepEqual((await audit(reader)).lines, [
      'FAIL audit: cannot read "LiteLLM_SpendLogs" at postgresql://litellm@db:5432/litellm: password authentication failed for user ' +
        '"litellm"',
      '     fix: mcp-reconciler doctor --db-env-file <the gateway env file> (DATABASE_URL, schema, rows)',
    ]);
  });
});

test('redactKey removes every occurrence of the key; short keys are left (they would blank ordinary words)', () => {
  assert.equal(redactKey(`a ${KEY} b Bearer ${KEY}`, KEY), 'a <key> b Bearer <key>');
  assert.equal(redactKey('abc', 'ab'), 'abc');
});
