import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyApi } from '../ports/index.js';
import type { ApiServerRow, NewVirtualKey, VirtualKeyRow } from '../model/types.js';
import {
  KeyCommandError, checkClientName, createKey, databaseProblem, keyAlias, listKeys, parseBudget, parseExpires, parseRoutes, renderKeys,
  resolveServers, revokeKey,
} from './keys.js';

/** An in-memory /key/* with LiteLLM 1.77.3's unique-alias rule; records what was sent. */
class FakeKeyApi implements KeyApi {
  rows: VirtualKeyRow[] = [];
  sent: NewVirtualKey[] = [];
  calls: string[] = [];
  failDuration = false;
  /** Store the key without its allowed_routes (as a LiteLLM that ignored the field would). */
  dropRoutes = false;
  #n = 0;

  async generate(body: NewVirtualKey): Promise<{ key: string; row: VirtualKeyRow }> {
    this.calls.push(`generate ${body.key_alias}`);
    if (this.rows.some((r) => r.key_alias === body.key_alias)) throw new Error(`Key with alias '${body.key_alias}' already exists`);
    this.sent.push(body);
    const n = ++this.#n;
    const row: VirtualKeyRow = {
      token: n.toString(16).padStart(64, '0'), key_alias: body.key_alias, key_name: `sk-...000${n}`,
      expires: body.duration ? '2027-01-01T00:00:00Z' : null,
      max_budget: body.max_budget ?? null, spend: 0, created_at: '2026-12-01T00:00:00Z', blocked: null,
      mcpServers: body.object_permission.mcp_servers,
      allowedRoutes: this.dropRoutes ? [] : body.allowed_routes,
    };
    this.rows.push(row);
    return { key: `sk-secret-${n}`, row: { ...row } };
  }
  async setDuration(token: string, duration: string): Promise<string | null> {
    this.calls.push(`update ${duration}`);
    if (this.failDuration) throw new Error('POST /key/update answered 500: boom');
    const r = this.rows.find((x) => x.token === token)!;
    r.expires = '2026-12-31T06:40:53Z';
    return r.expires;
  }
  async list(): Promise<VirtualKeyRow[]> {
    return this.rows.map((r) => ({ ...r }));
  }
  async deleteByAlias(alias: string): Promise<boolean> {
    this.calls.push(`delete ${alias}`);
    const before = this.rows.length;
    this.rows = this.rows.filter((r) => r.key_alias !== alias);
    return this.rows.length < before;
  }
}

const ROWS: ApiServerRow[] = [
  { server_id: 'mcp-reconciler~default~alpha' }, { server_id: 'mcp-reconciler~default~beta' }, { server_id: 'user-made' },
  { server_id: 'mcp-reconciler~demo~alpha' },
];
const registered = async (): Promise<ApiServerRow[]> => ROWS;
const base = { instance: 'default', client: 'laptop', servers: ['alpha'] };

describe('createKey', () => {
  test('sends the alias, the server ids as object_permission.mcp_servers, allowed_routes mcp_routes, the budget; ' +
    'corrects the expiry through /key/update', async () => {
    const api = new FakeKeyApi();
    const k = await createKey(api, registered, { ...base, servers: ['alpha', 'user-made'], budget: 5, expires: '30d' });
    assert.deepEqual(api.sent, [{
      key_alias: 'mcp-reconciler/default/laptop', object_permission: { mcp_servers: ['mcp-reconciler~default~alpha', 'user-made'] },
      allowed_routes: ['mcp_routes'], max_budget: 5, duration: '30d',
      metadata: { 'mcp-reconciler': { instance: 'default', client: 'laptop' } },
    }]);
    assert.deepEqual(api.calls, ['generate mcp-reconciler/default/laptop', 'update 30d']);
    assert.deepEqual(
      { key: k.key, alias: k.alias, servers: k.servers, routes: k.routes, expires: k.expires, budget: k.budget, rotated: k.rotated },
      {
        key: 'sk-secret-1', alias: 'mcp-reconciler/default/laptop',
        servers: [{ name: 'alpha', id: 'mcp-reconciler~default~alpha' }, { name: 'user-made', id: 'user-made' }],
        routes: ['mcp'], expires: '2026-12-31T06:40:53Z', budget: 5, rotated: false,
      },
    );
  });

  test('--routes mcp,llm: allowed_routes mcp_routes and llm_api_routes', async () => {
    const api = new FakeKeyApi();
    const k = await createKey(api, registered, { ...base, routes: parseRoutes('mcp,llm') });
    assert.deepEqual(api.sent.map((b) => b.allowed_routes), [['mcp_routes', 'llm_api_routes']]);
    assert.deepEqual(k.routes, ['mcp', 'llm']);
  });

  test('a key stored without its allowed_routes (every route to LiteLLM) is deleted again and refused', async () => {
    const api = new FakeKeyApi();
    api.dropRoutes = true;
    await assert.rejects(
      createKey(api, registered, base),
      /not listed with allowed_routes mcp_routes afterwards; the new key was deleted again/,
    );
    assert.deepEqual(api.rows, []);
  });

  test('without --expires: no duration, no /key/update; the key never expires', async () => {
    const api = new FakeKeyApi();
    const k = await createKey(api, registered, base);
    assert.equal('duration' in api.sent[0]!, false);
    assert.deepEqual(api.calls, ['generate mcp-reconciler/default/laptop']);
    assert.equal(k.expires, null);
  });

  test('one key per client: a second create is refused and sends nothing; --rotate revokes the old key first', async () => {
    const api = new FakeKeyApi();
    await createKey(api, registered, base);
    await assert.rejects(
      createKey(api, registered, base),
      (e: Error) => e instanceof KeyCommandError && /already has a key \(sk-\.\.\.0001.*--rotate/.test(e.message),
    );
    assert.equal(api.sent.length, 1);
    const k = await createKey(api, registered, { ...base, rotate: true });
    assert.deepEqual(api.calls.slice(1), ['delete mcp-reconciler/default/laptop', 'generate mcp-reconciler/default/laptop']);
    assert.equal(k.rotated, true);
    assert.deepEqual(api.rows.map((r) => r.key_name), ['sk-...0002']);
  });

  test('a failing /key/update deletes the new key again; the error says so and never holds the key', async () => {
    const api = new FakeKeyApi();
    api.failDuration = true;
    await assert.rejects(createKey(api, registered, { ...base, expires: '30d' }), (e: Error) => {
      assert.match(e.message, /answered 500: boom; the new key was deleted again/);
      assert.doesNotMatch(e.message, /sk-secret/);
      return true;
    });
    assert.deepEqual(api.rows, []);
  });

  test('a bad client name is refused before anything is sent', async () => {
    const api = new FakeKeyApi();
    await assert.rejects(createKey(api, registered, { ...base, client: '../x' }), /client name/);
    assert.deepEqual(api.calls, []);
  });
});

describe('resolveServers', () => {
  const cases: [string, string[], RegExp | string[]][] = [
    ['our names map to our ids', ['beta', 'alpha'], ['mcp-reconciler~default~beta', 'mcp-reconciler~default~alpha']],
    ['a row we do not own by its exact server_id', ['user-made'], ['user-made']],
    ['no servers: an empty list would mean every server to LiteLLM', [], /at least one server.*every server/],
    [
      'unknown: names ours and the other rows',
      ['gamma'],
      /"gamma" is not registered.*ours: alpha, beta; other rows by server_id: mcp-reconciler~demo~alpha, user-made/,
    ],
    ['a name twice', ['alpha', 'alpha'], /named twice/],
  ];
  for (const [what, names, want] of cases) {
    test(what, () => {
      if (Array.isArray(want)) assert.deepEqual(resolveServers('default', names, ROWS).map((s) => s.id), want);
      else assert.throws(() => resolveServers('default', names, ROWS), want);
    });
  }
});

describe('listKeys and revokeKey', () => {
  test('only this instance\'s keys, by client, servers by our names, expired marked; other keys untouched', async () => {
    const api = new FakeKeyApi();
    const row = (alias: string | null, over: Partial<VirtualKeyRow> = {}): VirtualKeyRow => ({
      token: 'f'.repeat(64), key_alias: alias, key_name: 'sk-...abcd', expires: null, max_budget: null, spend: 0, created_at: null,
      blocked: null, mcpServers: [], allowedRoutes: ['mcp_routes'], ...over,
    });
    api.rows = [
      row('mcp-reconciler/default/zed', {
        mcpServers: ['mcp-reconciler~default~beta', 'user-made'], expires: '2026-01-01T00:00:00Z', max_budget: 2, spend: 0.5,
      }),
      row('mcp-reconciler/default/ann', { mcpServers: ['mcp-reconciler~default~alpha'], allowedRoutes: ['mcp_routes', 'llm_api_routes'] }),
      row('mcp-reconciler/default/old', { mcpServers: ['mcp-reconciler~default~alpha'], allowedRoutes: [] }),
      row('mcp-reconciler/demo/ann'),
      row('my-own-key'),
      row(null),
    ];
    const keys = await listKeys(api, 'default', new Date('2026-12-01T00:00:00Z'));
    assert.deepEqual(keys.map((k) => [k.client, k.servers.join(','), k.routes.join(','), k.expired]), [
      ['ann', 'alpha', 'mcp,llm', false], ['old', 'alpha', '', false], ['zed', 'beta,user-made', 'mcp', true],
    ]);
    assert.equal(
      renderKeys(keys),
      [
        'CLIENT  KEY         SERVERS         ROUTES   EXPIRES                         SPEND',
        'ann     sk-...abcd  alpha           mcp,llm  never                           $0.00 spent',
        'old     sk-...abcd  alpha           all      never                           $0.00 spent',
        'zed     sk-...abcd  beta,user-made  mcp      2026-01-01T00:00:00Z (expired)  $0.50 of $2.00',
        'ROUTES all: old may call every route, /mcp-rest/ included (ADR 0019); ' +
          'replace: mcp-reconciler keys create <client> --servers ... --rotate',
      ].join('\n'),
    );
    assert.equal(await revokeKey(api, 'default', 'ann'), true);
    assert.equal(await revokeKey(api, 'default', 'ann'), false);
    assert.deepEqual(
      api.rows.map((r) => r.key_alias),
      ['mcp-reconciler/default/zed', 'mcp-reconciler/default/old', 'mcp-reconciler/demo/ann', 'my-own-key', null],
    );
  });
});

describe('inputs', () => {
  test('expires, budget, client names', () => {
    for (const ok of ['90m', '12h', '30d', '8w', '3650d']) assert.equal(parseExpires(ok), ok);
    for (const bad of ['30', '0d', '30s', '3651d', '1mo', '-1d', '30 d', '1e3d']) {
      assert.throws(() => parseExpires(bad), KeyCommandError, bad);
    }
    assert.equal(parseBudget('2.50'), 2.5);
    for (const bad of ['0', '-1', 'abc', '1e3', 'Infinity', '']) assert.throws(() => parseBudget(bad), KeyCommandError, bad);
    for (const ok of ['laptop', 'claude-code', 'ci.runner_2']) assert.equal(checkClientName(ok), null);
    for (const bad of ['', '-x', 'a/b', 'a b', 'x'.repeat(65), 'ü']) assert.notEqual(checkClientName(bad), null, bad);
    assert.equal(keyAlias('demo', 'laptop'), 'mcp-reconciler/demo/laptop');
    for (const [text, want] of [
      ['mcp', ['mcp']], ['mcp,llm', ['mcp', 'llm']], ['llm', ['mcp', 'llm']], ['llm, mcp', ['mcp', 'llm']],
    ] as const) {
      assert.deepEqual(parseRoutes(text), want, text);
    }
    for (const bad of ['', 'all', 'mcp,', 'mcp_routes', 'toString']) {
      assert.throws(() => parseRoutes(bad), /--routes .*mcp \(the default/, bad);
    }
  });

  test('databaseProblem: what to run when there is no database', () => {
    const o = { envFile: '~/projects/secrets/mcp-litellm.env', url: 'http://127.0.0.1:4000' };
    assert.equal(databaseProblem({ ...o, hasDatabaseUrl: false, gateway: 'database' }), null, 'a gateway with a database is enough');
    assert.match(
      databaseProblem({ ...o, hasDatabaseUrl: false, gateway: 'no-database' })!,
      /LiteLLM_VerificationToken[\s\S]*has no DATABASE_URL[\s\S]*mcp-reconciler db init --admin-url/,
    );
    assert.match(databaseProblem({ ...o, hasDatabaseUrl: false, gateway: 'unreachable' })!, /db init/);
    assert.match(
      databaseProblem({ ...o, hasDatabaseUrl: true, gateway: 'no-database' })!,
      /has DATABASE_URL, but .* not been recreated yet.*apply --once/,
    );
    assert.match(databaseProblem({ ...o, hasDatabaseUrl: true, gateway: 'unreachable' })!, /does not answer/);
  });
});
