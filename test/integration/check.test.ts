import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createStack, waitFor, docker, REPO, type Stack } from './harness.js';
import { DbProxy } from '../litellm-db/proxy.js';
import { FakeEdge } from '../litellm-db/upstream.js';
import { runCheck, renderReport } from '../../src/check/check.js';
import { SdkMcpThroughGateway, UndiciGatewayHttp } from '../../src/check/gateway.js';
import type { AuditReader, AuditRow } from '../../src/check/ports.js';

/**
 * A mock model that drives a tool call in LiteLLM 1.77.3: `mock_tool_calls` and no `mock_response`
 * (a string mock_response is returned by responses() before its MCP handling), on a provider
 * without a native responses API (anthropic/: LiteLLM bridges /v1/responses to completion(), where
 * the mock lives), so no request leaves the proxy.
 */
function mockModelConfig(toolName: string): string {
  return [
    'model_list:',
    '  - model_name: mock-tools',
    '    litellm_params:',
    '      model: anthropic/mock-tools',
    '      api_key: unused-mock',
    '      mock_tool_calls:',
    '        - id: call_check',
    '          type: function',
    '          function:',
    `            name: ${toolName}`,
    `            arguments: '{"message": "from the mock model"}'`,
    '',
  ].join('\n');
}

/**
 * `mcp-reconciler check` against the real LiteLLM 1.77.3 (config mode, managed containers): PASS for
 * a tool call on every server and for an LLM-driven tool call by a mock model, FAIL with the fix for
 * a refused key and for a stopped server.
 */
describe('check: the user\'s test plan against the real LiteLLM 1.77.3', { timeout: 600_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await createStack();
    const cfg = stack.settings.gateway.configPath;
    mkdirSync(dirname(cfg), { recursive: true });
    const general = 'general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n';
    writeFileSync(cfg, `${general}${mockModelConfig('mcp_everything-echo')}`, { mode: 0o600 });
    stack.copyExample('everything'); // check: {tool: echo, arguments: {message: ...}}
    // The same image without check: -> the first argument-free read-only tool is picked.
    const auto = 'image: mcp/everything:latest\ntransport: http\nport: 3001\n' +
      'command: [node, dist/index.js, streamableHttp]\nenv: {PORT: 3001}\n';
    stack.writeDesired('auto', auto);
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed, []);
    await waitFor('both servers through LiteLLM', async () => {
      const r = await stack.gateway.listTools();
      return r.ok && r.tools.includes('mcp_everything-echo') && r.tools.includes('mcp_auto-get-env');
    }, 180_000, 1_000);
  });
  after(async () => {
    await stack?.cleanup();
  });

  const envFile = (): string => join(stack.dir, 'secrets', `${stack.id}-litellm.env`);
  // LiteLLM 1.77.3 drops tool annotations, so a server without check: is listed, not called.
  const AUTO =
    'PASS auto: listed 13 tools through LiteLLM; none called: ' +
    'LiteLLM 1.77.3 passes no tool annotations (readOnlyHint), so none is known to be harmless';
  const check = (env: Record<string, string> = {}, ...args: string[]) =>
    spawnSync(process.execPath, [join(REPO, 'dist/src/main.js'), 'check', '--config', stack.settingsFile, ...args], {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
      timeout: 300_000,
    });

  test('all steps PASS (the audit SKIPs: no database), exit 0, the key never printed', () => {
    const r = check();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines, [
      `PASS gateway: ${stack.settings.gateway.url} ready`,
      `PASS key: GET /v1/models accepts the key (LITELLM_MASTER_KEY in ${envFile()})`,
      AUTO,
      `     note: to check a call too, name a harmless tool in ${join(stack.settings.desiredDir, 'mcp-auto.yaml')}: ` +
        'check: {tool: <name>, arguments: {...}}',
      'PASS everything: tools/call mcp_everything-echo through LiteLLM → 1 content item(s) (check.tool)',
      'PASS chat: POST /v1/chat/completions with model mock-tools → 1 choice(s)',
      'PASS llm-tool-call: POST /v1/responses with model mock-tools and MCP tools of mcp_everything → the model called ' +
        'mcp_everything-echo; LiteLLM ran it (1 result(s))',
      `SKIP audit: no DATABASE_URL in ${envFile()}: the gateway has no database (config mode), so LiteLLM keeps no audit rows`,
      '6 passed, 0 failed, 1 skipped',
    ]);
    assert.ok(!r.stdout.includes(stack.masterKey) && !r.stderr.includes(stack.masterKey));
  });

  test('a key LiteLLM does not know (--key-env): FAIL key with the fix, no server called, exit 1, the key never printed', () => {
    const bad = 'sk-not-a-litellm-key-0123456789';
    const r = check({ CLIENT_KEY: bad }, '--key-env', 'CLIENT_KEY');
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      `PASS gateway: ${stack.settings.gateway.url} ready`,
      'FAIL key: GET /v1/models → HTTP 400: No connected db.: without a database LiteLLM knows only its master key, and the key ' +
        '($CLIENT_KEY) is not it',
      '     fix: use the master key (the default: LITELLM_MASTER_KEY in the gateway env file), or give the gateway a database ' +
        '(mcp-reconciler db init) for virtual keys',
      'SKIP auto: not called: the gateway refused the key',
      'SKIP everything: not called: the gateway refused the key',
      '1 passed, 1 failed, 2 skipped',
    ]);
    assert.ok(!r.stdout.includes(bad), r.stdout);
  });

  test('a stopped server: FAIL with the fix for it, the other still PASSes, exit 1', async () => {
    await docker.getContainer(`${stack.id}-everything`).stop();
    const r = check();
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('FAIL everything: tools/call echo through LiteLLM → '));
    assert.ok(at >= 0, r.stdout);
    assert.match(lines[at + 1] ?? '', new RegExp(`^ {5}fix: .*docker logs ${stack.id}-everything`), r.stdout);
    assert.ok(lines.includes(AUTO), r.stdout);
  });
});

/** The Prisma double's LiteLLM_SpendLogs, as LiteLLM 1.77.3 wrote them (ADR 0008), behind the check's AuditReader. */
class DoubleAuditReader implements AuditReader {
  readonly where = 'the Prisma double';
  constructor(readonly p: DbProxy) {}
  async mcpToolCallsSince(since: Date): Promise<AuditRow[]> {
    const rows = (await this.p.rows())['litellm_spendlogs'] ?? [];
    return rows
      .filter((r) => r['call_type'] === 'call_mcp_tool')
      .map((r) => {
        const raw: unknown = typeof r['metadata'] === 'string' ? JSON.parse(r['metadata']) : r['metadata'];
        const meta = raw as { mcp_tool_call_metadata?: { mcp_server_name?: string; name?: string } } | null;
        return {
          namespacedTool: (r['mcp_namespaced_tool_name'] as string | null) ?? null,
          server: meta?.mcp_tool_call_metadata?.mcp_server_name ?? null,
          tool: meta?.mcp_tool_call_metadata?.name ?? null,
          apiKey: (r['api_key'] as string | null) ?? null,
          status: (r['status'] as string | null) ?? null,
          startTime: new Date(String(r['startTime'])),
        };
      })
      .filter((r) => r.startTime >= since);
  }
  async close(): Promise<void> {}
}

describe('check: audit rows on the real LiteLLM 1.77.3 in database mode (Prisma double, ADR 0008)', { timeout: 300_000 }, () => {
  const masterKey = `sk-check-${Date.now()}`;
  const edge = new FakeEdge();
  let p: DbProxy;
  before(async () => {
    const edgeUrl = await edge.listen();
    // No model: responses()' follow-up call (previous_response_id) runs raw session SQL on the spend
    // logs that the double does not model, so the LLM-driven call is checked in config mode above.
    p = new DbProxy({ masterKey, config: `mcp_servers:\n  srv:\n    url: ${edgeUrl}/c/1/mcp\n    transport: http\n` });
    await p.start();
  });
  after(async () => {
    await p?.close();
    edge.close();
  });

  test('the check\'s own tool call has its call_mcp_tool row with the key\'s hash: audit PASS', async () => {
    const r = await runCheck(
      {
        servers: [
          {
            name: 'srv',
            gatewayServer: 'srv',
            container: 'c',
            file: 'mcp-srv.yaml',
            checkTool: { tool: 'echo', arguments: { message: 'audited' } },
          },
        ],
        invalid: [],
        gatewayUrl: p.url,
        gatewayContainer: 'litellm',
        key: masterKey,
        keySource: 'test',
        model: null,
        stringMockModels: [],
        noAuditWhy: '',
        auditWaitMs: 60_000,
      },
      { mcp: new SdkMcpThroughGateway(p.url, masterKey), http: new UndiciGatewayHttp(p.url, masterKey), audit: new DoubleAuditReader(p) },
    );
    assert.deepEqual(renderReport(r).split('\n'), [
      `PASS gateway: ${p.url} ready`,
      'PASS key: GET /v1/models accepts the key (test)',
      'PASS srv: tools/call srv-echo through LiteLLM → 1 content item(s) (check.tool)',
      'SKIP chat: the gateway serves no model (GET /v1/models is empty): no chat completion to check',
      'SKIP llm-tool-call: the gateway serves no model (GET /v1/models is empty): no LLM-driven tool call to check',
      'PASS audit: "LiteLLM_SpendLogs" has a call_mcp_tool row for each call (srv/echo) with this key\'s hash',
      '4 passed, 0 failed, 2 skipped',
    ]);
    assert.deepEqual(edge.calls, ['c:echo']);
  });
});
