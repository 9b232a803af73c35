import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { DbProxy, UNUSED_DATABASE_URL } from '../litellm-db/proxy.js';
import { FakeEdge } from '../litellm-db/upstream.js';
import { waitFor, REPO, freePort } from './harness.js';
import { LiteLLMApi, apiServerId } from '../../src/litellm/api.js';
import { Reconciler } from '../../src/reconcile/controller.js';
import { loadSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log/logger.js';
import { InMemoryRuntime, MemoryConfigStore } from '../../src/testing/fake-runtime.js';
import { renderGatewayConfig } from '../../src/litellm/config-file.js';
import { GUARD_FILE, GUARD_PY } from '../../src/litellm/guard.js';

/**
 * Per-client keys (`keys create|list|revoke`, `clients --create-key`) through the real CLI against the
 * real LiteLLM 1.77.3 in database mode: its /key/* handlers, its key auth (user_api_key_auth ->
 * combined_view query) and its /mcp/ permission filter, on the Prisma double (test/litellm-db/, ADR 0008).
 * LiteLLM runs with the config.yaml the reconciler writes for a managed gateway in API mode (no entries,
 * the guard callback) and the guard file beside it (ADR 0019).
 */
const KEY = 'sk-keys-master';
const HTTP = (d: string) => `image: mcp/everything:1\ntransport: http\nport: 3001\ndescription: ${d}\n`;
/**
 * A mock model that asks for beta's whoami, on a provider without a native responses API (anthropic/: LiteLLM bridges
 * /v1/responses to completion(), where the mock lives; as in check.test), so no request leaves the proxy.
 */
const MOCK_MODEL = [
  'model_list:',
  '  - model_name: mock-tools',
  '    litellm_params:',
  '      model: anthropic/mock-tools',
  '      api_key: unused-mock',
  '      mock_tool_calls:',
  '        - id: call_beta',
  '          type: function',
  '          function:',
  '            name: mcp_beta-whoami',
  "            arguments: '{}'",
  '',
].join('\n');
/** LiteLLM 1.77.3's refusal of a route outside the key's allowed_routes (route_checks.py); the client sees only a bare 500. */
const routeRefused = (routes: string, route: string): string =>
  `Virtual key is not allowed to call this route. Only allowed to call routes: ${routes}. Tried to call route: ${route}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('scoped client keys on the real LiteLLM 1.77.3 (Prisma double)', { timeout: 600_000 }, () => {
  let p: DbProxy;
  let edge: FakeEdge;
  let dir = '';
  let settingsFile = '';
  let clientKey = '';

  /** The real CLI (dist/src/main.js) with a settings file; spawned asynchronously (the harness's servers live in this process). */
  const cliEnv = (env: Record<string, string>, file: string, ...args: string[]): Promise<Run> =>
    new Promise((resolve, reject) => {
      const c = spawn(process.execPath, [join(REPO, 'dist/src/main.js'), ...args, '--config', file], {
        env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'silent', ...env },
      });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('error', reject);
      c.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const cliWith = (file: string, ...args: string[]): Promise<Run> => cliEnv({}, file, ...args);
  const cli = (...args: string[]): Promise<Run> => cliWith(settingsFile, ...args);

  /** An MCP client on the gateway's /mcp/ with a key (x-litellm-api-key: Bearer ...). */
  const mcp = async (key: string): Promise<Client> => {
    const client = new Client({ name: 'keys-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${p.url}/mcp/`), {
      requestInit: { headers: { 'x-litellm-api-key': `Bearer ${key}` } },
    }));
    return client;
  };
  const toolsWith = async (key: string): Promise<string[]> => {
    const c = await mcp(key);
    try {
      return (await c.listTools()).tools.map((t) => t.name).sort();
    } finally {
      await c.close();
    }
  };

  before(async () => {
    edge = new FakeEdge();
    const edgeUrl = await edge.listen();
    p = new DbProxy({
      masterKey: KEY,
      env: { STORE_MODEL_IN_DB: 'True' },
      config: renderGatewayConfig(null, {}, true) + MOCK_MODEL,
      files: { [GUARD_FILE]: GUARD_PY },
    });
    await p.start();
    dir = mkdtempSync(join(tmpdir(), 'keys-'));
    mkdirSync(join(dir, 'desired-state'));
    mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
    // DATABASE_URL as `db init` writes it (the double does not use it; LiteLLM in the harness has its database).
    writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), `LITELLM_MASTER_KEY=${KEY}\n${UNUSED_DATABASE_URL}\n`, { mode: 0o600 });
    settingsFile = join(dir, 'settings.yaml');
    writeFileSync(
      settingsFile,
      `projectsRoot: ${dir}\nsecretsDir: ${dir}/secrets\ngateway:\n  managed: false\n  url: ${p.url}\nedge:\n  url: ${edgeUrl}\n`,
    );
    // The gateway's config as the proxy runs it: `keys create` reads from it that the guard is loaded.
    mkdirSync(join(dir, 'litellm'));
    writeFileSync(join(dir, 'litellm', 'config.yaml'), renderGatewayConfig(null, {}, true));
    writeFileSync(join(dir, 'desired-state', 'mcp-alpha.yaml'), HTTP('first'));
    writeFileSync(join(dir, 'desired-state', 'mcp-beta.yaml'), HTTP('second'));
    const settings = loadSettings({ file: settingsFile, env: {} });
    const r = new Reconciler(settings, {
      runtime: new InMemoryRuntime(),
      config: new MemoryConfigStore(),
      gateway: null,
      api: new LiteLLMApi(p.url, () => KEY),
      log: createLogger({ level: 'silent' }),
    });
    const out = await r.reconcile();
    assert.equal(out.gatewayMode.mode, 'api');
    assert.deepEqual(out.result.failed, []);
  });
  after(async () => {
    await p?.close();
    edge?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('keys create: the key alone on stdout, stored as alias + object_permission.mcp_servers = our server id; ' +
    'expiry exact (now + 30 d)', async () => {
    const t0 = Date.now();
    const r = await cli('keys', 'create', 'laptop', '--servers', 'alpha', '--expires', '30d', '--budget', '5');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sk-[A-Za-z0-9_-]{16,}\n$/);
    clientKey = r.stdout.trim();
    assert.match(r.stderr, new RegExp(
      'new key of client "laptop" \\(LiteLLM alias mcp-reconciler\\/default\\/laptop\\): ' +
        'servers alpha; routes mcp; expires \\S+; budget \\$5\\. Shown once',
    ));
    assert.match(r.stderr, new RegExp(
      'note: LiteLLM accepts this key only on \\/mcp\\/ \\(allowed_routes mcp_routes\\); ' +
        '\\/mcp-rest\\/, the LLM API and the management API refuse it',
    ));
    assert.match(r.stderr, new RegExp(
      "note: through \\/mcp\\/ it lists and calls only these servers' tools: " +
        "the gateway guard refuses a call to another server's tool \\(ADR 0019\\)",
    ));
    assert.doesNotMatch(r.stderr, new RegExp(clientKey));
    const rows = await p.rows();
    const token = rows['litellm_verificationtoken']!.find((x) => x['key_alias'] === 'mcp-reconciler/default/laptop')!;
    assert.equal(token['token'], createHash('sha256').update(clientKey).digest('hex'), 'LiteLLM stores the hash only');
    assert.doesNotMatch(JSON.stringify(rows), new RegExp(clientKey), 'the raw key is in no table');
    const perm = rows['litellm_objectpermissiontable']!.find((x) => x['object_permission_id'] === token['object_permission_id'])!;
    assert.deepEqual(perm['mcp_servers'], [apiServerId('default', 'alpha')]);
    assert.equal(token['max_budget'], 5);
    assert.deepEqual(token['allowed_routes'], ['mcp_routes']);
    // /key/generate alone would give the 1st of next month (calendar-aligned); /key/update sets now + 30 d.
    const expires = Date.parse(String(token['expires']).replace(' ', 'T'));
    const days = (expires - t0) / 86_400_000;
    assert.ok(days > 29.99 && days < 30.01, `expires in ${days} days`);
  });

  test('the key lists only its server through /mcp/, even when it asks for the other one by header', async () => {
    assert.deepEqual(
      await toolsWith(KEY),
      ['mcp_alpha-echo', 'mcp_alpha-whoami', 'mcp_beta-echo', 'mcp_beta-whoami'],
      'the master key sees both',
    );
    assert.deepEqual(await toolsWith(clientKey), ['mcp_alpha-echo', 'mcp_alpha-whoami']);
    const c = new Client({ name: 'keys-test', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${p.url}/mcp/`), {
      requestInit: { headers: { 'x-litellm-api-key': `Bearer ${clientKey}`, 'x-mcp-servers': 'mcp_beta' } },
    }));
    try {
      assert.deepEqual((await c.listTools()).tools.map((t) => t.name).sort(), ['mcp_alpha-echo', 'mcp_alpha-whoami']);
    } finally {
      await c.close();
    }
  });

  test('tools/call: its own server answers; a call to the other server\'s tool by name is refused by the guard ' +
    'before the upstream sees it; the master key still calls it', async () => {
    const c = await mcp(clientKey);
    try {
      const own = await c.callTool({ name: 'mcp_alpha-whoami', arguments: {} });
      assert.deepEqual(own.content, [{ type: 'text', text: 'mcp-alpha' }]);
      edge.calls.length = 0;
      // LiteLLM's call_tool never checks object_permission; the guard's pre-call hook does (ADR 0019).
      // LiteLLM turns the hook's HTTPException(403) into a text result, not a JSON-RPC error.
      const other = await c.callTool({ name: 'mcp_beta-whoami', arguments: {} });
      assert.deepEqual(
        { content: other.content, upstream: edge.calls },
        { content: [{ type: 'text', text: 'Error: tool mcp_beta-whoami: its server is not allowed for this key' }], upstream: [] },
      );
      assert.match(p.log, /Guardrail blocked MCP tool call pre call: .*tool mcp_beta-whoami: its server is not allowed for this key/);
    } finally {
      await c.close();
    }
    const master = await mcp(KEY);
    try {
      const beta = await master.callTool({ name: 'mcp_beta-whoami', arguments: {} });
      assert.deepEqual(
        { content: beta.content, upstream: edge.calls },
        { content: [{ type: 'text', text: 'mcp-beta' }], upstream: ['mcp-beta:whoami'] },
      );
    } finally {
      await master.close();
    }
  });

  test('audit: the client key\'s call is a LiteLLM_SpendLogs row with the key hash and its alias ' +
    '(the server is in mcp_namespaced_tool_name); the refused call leaves none', async () => {
    const hash = createHash('sha256').update(clientKey).digest('hex');
    const all = (): Promise<Record<string, unknown>[]> => p.rows().then((r) => r['litellm_spendlogs'] ?? []);
    // The master key's call to beta came after the refused one: once its row is written, so is any row of the refused call.
    await waitFor('the spend log row of the master key\'s call to beta', async () => {
      const rows = await all();
      return rows.some((x) => x['mcp_namespaced_tool_name'] === 'mcp_beta/whoami' && x['api_key'] !== hash) ? rows : null;
    }, 60_000, 500);
    const seen = (await all()).map((x) => {
      const meta = x['metadata'] as { user_api_key_alias: string | null };
      return [
        x['call_type'], x['mcp_namespaced_tool_name'], meta.user_api_key_alias ?? 'no-alias',
        x['api_key'] === hash ? 'client-key' : 'other-key', x['status'],
      ].join(' ');
    }).sort();
    // The server is the prefix of mcp_namespaced_tool_name. metadata.mcp_tool_call_metadata.mcp_server_name is not
    // reliable: LiteLLM resolves it from the bare tool name ("whoami") through a global map the last tools/list filled.
    assert.deepEqual(seen, [
      'call_mcp_tool mcp_alpha/whoami mcp-reconciler/default/laptop client-key success',
      'call_mcp_tool mcp_beta/whoami no-alias other-key success',
    ]);
  });

  test('/mcp-rest/ refuses the key (allowed_routes mcp_routes, checked by LiteLLM\'s own auth): ' +
    'the upstream never sees the call; /mcp/ still works', async () => {
    // 1.77.3 runs the hooks of /mcp-rest/tools/call without the key, so the guard cannot refuse there (ADR 0019); the
    // route check in user_api_key_auth does, before the handler. It raises a plain Exception: a bare 500 to the client.
    edge.calls.length = 0;
    const call = await p.call('POST', '/mcp-rest/tools/call', { name: 'mcp_beta-whoami', arguments: {} }, clientKey);
    const list = await p.call('GET', '/mcp-rest/tools/list', undefined, clientKey);
    assert.deepEqual(
      { call: [call.status, call.text], list: [list.status, list.text], upstream: edge.calls },
      { call: [500, 'Internal Server Error'], list: [500, 'Internal Server Error'], upstream: [] },
    );
    assert.ok(p.log.includes(routeRefused("['mcp_routes']", '/mcp-rest/tools/call')), p.log.slice(-3000));
    assert.ok(p.log.includes(routeRefused("['mcp_routes']", '/mcp-rest/tools/list')));
    const master = await p.call('POST', '/mcp-rest/tools/call', { name: 'mcp_beta-whoami', arguments: {} });
    assert.equal(master.status, 200, 'the master key has no allowed_routes');
    const c = await mcp(clientKey);
    try {
      assert.deepEqual((await c.callTool({ name: 'mcp_alpha-whoami', arguments: {} })).content, [{ type: 'text', text: 'mcp-alpha' }]);
    } finally {
      await c.close();
    }
    assert.deepEqual(edge.calls, ['mcp-beta:whoami', 'mcp-alpha:whoami']);
  });

  test('the LLM API: refused to the default key; a --routes mcp,llm key gets it, ' +
    'and KNOWN GAP: its LLM-driven MCP call reaches the other server', async () => {
    const body = {
      model: 'mock-tools',
      input: 'who are you?',
      tools: [{ type: 'mcp', server_label: 'litellm', server_url: 'litellm_proxy', require_approval: 'never' }],
    };
    edge.calls.length = 0;
    const refused = await p.call('POST', '/v1/responses', body, clientKey);
    assert.deepEqual([refused.status, refused.text, edge.calls], [500, 'Internal Server Error', []]);
    assert.ok(p.log.includes(routeRefused("['mcp_routes']", '/v1/responses')));
    const made = await cli('keys', 'create', 'chat', '--servers', 'alpha', '--routes', 'mcp,llm');
    assert.equal(made.code, 0, made.stderr);
    assert.match(
      made.stderr,
      /routes mcp,llm; .*\nnote: LiteLLM accepts this key on \/mcp\/ and its LLM API .*not limited to these servers/,
    );
    const llmKey = made.stdout.trim();
    try {
      assert.deepEqual(
        (await p.rows())['litellm_verificationtoken']!.find((x) => x['key_alias'] === 'mcp-reconciler/default/chat')!['allowed_routes'],
        ['mcp_routes', 'llm_api_routes'],
      );
      assert.deepEqual(await toolsWith(llmKey), ['mcp_alpha-echo', 'mcp_alpha-whoami'], '/mcp/ still limits the listing');
      assert.equal(
        (await p.call('POST', '/mcp-rest/tools/call', { name: 'mcp_beta-whoami', arguments: {} }, llmKey)).status,
        500,
        '/mcp-rest/ is not in llm_api_routes',
      );
      // responses() lists LiteLLM's MCP tools with kwargs["user_api_key_auth"] and calls them with
      // litellm_metadata["user_api_key_auth"]; the proxy sets neither, so every server's tools are offered and
      // call_tool runs without a key (the guard is skipped). When this is refused, this assertion fails and the docs change with it.
      // The answer itself is the double's limit, not LiteLLM's: its follow-up model call looks up the previous response
      // with raw SQL the double does not model (500 here; beta was called three times on the way, observed).
      const r = await p.call('POST', '/v1/responses', body, llmKey);
      assert.deepEqual([...new Set(edge.calls)], ['mcp-beta:whoami'], r.text.slice(0, 2000));
    } finally {
      assert.equal((await cli('keys', 'revoke', 'chat')).code, 0);
    }
  });

  test('check --key-env with the key: /v1/models is a SKIP (the key is limited to /mcp/), its server PASSes', async () => {
    const r = await cliEnv({ CLIENT_KEY: clientKey }, settingsFile, 'check', '--key-env', 'CLIENT_KEY', '--audit-wait', '1');
    assert.match(
      r.stdout,
      /^SKIP models: GET \/v1\/models → HTTP 500: Internal Server Error: LiteLLM answers so to a key limited to \/mcp\//m,
    );
    assert.match(r.stdout, /^PASS alpha: /m);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(clientKey));
  });

  test('keys list: the client, its server and expiry, LiteLLM\'s abbreviation; never the key', async () => {
    const r = await cli('keys', 'list');
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, new RegExp(clientKey));
    assert.match(r.stdout, new RegExp(
      `^laptop\\s+sk-\\.\\.\\.${clientKey.slice(-4)}\\s+alpha\\s+mcp\\s+20\\S+\\s+\\$0\\.00 of \\$5\\.00$`,
      'm',
    ));
    const again = await cli('keys', 'create', 'laptop', '--servers', 'beta');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /client "laptop" already has a key .*--rotate/);
  });

  test('keys revoke: the key is refused at once; a second revoke says there is none', async () => {
    const r = await cli('keys', 'revoke', 'laptop');
    assert.equal(r.code, 0, r.stderr);
    // 1.77.3 answers an unknown key on /mcp/ with HTTP 500 {"error":"MCP request failed"} (not 401).
    await assert.rejects(toolsWith(clientKey), /Error POSTing to endpoint: \{"error":"MCP request failed"/);
    assert.equal(
      (await p.rows())['litellm_verificationtoken']!.filter((x) => x['key_alias'] === 'mcp-reconciler/default/laptop').length,
      0,
    );
    const again = await cli('keys', 'revoke', 'laptop');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /client "laptop" has no key \(clients with keys: none\)/);
  });

  test('clients --client claude-code --create-key: the snippet and a fresh key for it', async () => {
    const r = await cli('clients', '--client', 'claude-code', '--create-key', '--servers', 'beta', '--host', 'linuxserver.lan');
    assert.equal(r.code, 0, r.stderr);
    const key = /^export LITELLM_API_KEY='(sk-[^']+)'$/m.exec(r.stdout)?.[1];
    assert.ok(key, r.stdout);
    assert.match(r.stdout, new RegExp(
      "claude mcp add --transport http litellm 'http:\\/\\/linuxserver\\.lan:4000\\/mcp\\/' " +
        '--header "x-litellm-api-key: Bearer \\$\\{LITELLM_API_KEY\\}"',
    ));
    assert.deepEqual(await toolsWith(key), ['mcp_beta-echo', 'mcp_beta-whoami']);
  });

  test('keys without a database: says why and what to run', async () => {
    const noDb = join(dir, 'nodb');
    mkdirSync(join(noDb, 'secrets'), { recursive: true, mode: 0o700 });
    writeFileSync(join(noDb, 'secrets', 'mcp-litellm.env'), `LITELLM_MASTER_KEY=${KEY}\n`, { mode: 0o600 });
    const file = join(noDb, 'settings.yaml');
    writeFileSync(
      file,
      `projectsRoot: ${noDb}\nsecretsDir: ${noDb}/secrets\ngateway:\n  managed: false\n  url: http://127.0.0.1:${await freePort()}\n`,
    );
    const r = await cliWith(file, 'keys', 'list');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(
      'keys need LiteLLM\'s database: a virtual key is a row in its "LiteLLM_VerificationToken" table[\\s\\S]*' +
        'mcp-litellm\\.env has no DATABASE_URL[\\s\\S]*mcp-reconciler db init --admin-url',
    ));
  });
});
