import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { readGatewayConfig, renderGatewayConfig, ownedEntry, OWNER_KEY } from './config-file.js';
import { GUARD_CALLBACK } from './guard.js';

const entry = (url: string): Record<string, unknown> => ownedEntry({ url, transport: 'http' }, 'desired-state/mcp-a.yaml');
const userFile = `# my gateway
model_list: []  # none
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  database_url: os.environ/DATABASE_URL
mcp_servers:
  github_user:   # hand-made
    url: http://github:8000/mcp
    transport: http
`;

describe('LiteLLM config.yaml ownership', () => {
  test('a new file: master key from the environment, explicit transport, owner marker', () => {
    const text = renderGatewayConfig(null, { mcp_a: entry('http://x/mcp') });
    const js = parse(text);
    assert.equal(js.general_settings.master_key, 'os.environ/LITELLM_MASTER_KEY');
    assert.equal(js.mcp_servers.mcp_a.transport, 'http');
    assert.equal(js.mcp_servers.mcp_a[OWNER_KEY]['managed-by'], 'mcp-reconciler');
    assert.ok(!('mcp_settings' in js) && !('virtual_keys' in js));
  });

  test("the user's keys, entries and comments are kept", () => {
    const text = renderGatewayConfig(userFile, { mcp_a: entry('http://x/mcp') });
    assert.match(text, /# my gateway/);
    assert.match(text, /# hand-made/);
    assert.match(text, /# none/);
    const v = readGatewayConfig(text);
    assert.deepEqual(v.foreign, ['github_user']);
    assert.deepEqual(Object.keys(v.owned), ['mcp_a']);
    assert.equal(parse(text).general_settings.database_url, 'os.environ/DATABASE_URL');
  });

  test('idempotent: rendering the same entries again returns the identical text', () => {
    const once = renderGatewayConfig(userFile, { mcp_a: entry('http://x/mcp') });
    assert.equal(renderGatewayConfig(once, { mcp_a: entry('http://x/mcp') }), once);
  });

  test('changing and removing owned entries never touches user entries', () => {
    const once = renderGatewayConfig(userFile, { mcp_a: entry('http://x/mcp'), mcp_b: entry('http://b/mcp') });
    const changed = renderGatewayConfig(once, { mcp_a: entry('http://y/mcp') });
    const v = readGatewayConfig(changed);
    assert.deepEqual(Object.keys(v.owned), ['mcp_a']);
    assert.equal(v.owned['mcp_a']?.['url'], 'http://y/mcp');
    assert.deepEqual(v.foreign, ['github_user']);
    const back = renderGatewayConfig(changed, {});
    assert.deepEqual(parse(back), parse(userFile));
    for (const c of ['# my gateway', '# none', '# hand-made']) assert.ok(back.includes(c), c);
  });

  test('a file that does not parse is reported, not rewritten', () => {
    assert.ok(readGatewayConfig('mcp_servers: [\n').errors.length > 0);
    assert.ok(readGatewayConfig('mcp_servers: [1, 2]\n').errors.length > 0);
  });
});

describe('the guard callback in litellm_settings.callbacks (ADR 0019)', () => {
  const G = GUARD_CALLBACK;
  const callbacksOf = (text: string): unknown =>
    (parse(text) as { litellm_settings?: { callbacks?: unknown } }).litellm_settings?.callbacks;

  test('added to a new file and to a file without litellm_settings; read back as ours; idempotent', () => {
    const fresh = renderGatewayConfig(null, {}, true);
    assert.deepEqual(callbacksOf(fresh), [G]);
    assert.equal(readGatewayConfig(fresh).guard, true);
    const user = renderGatewayConfig(userFile, { mcp_a: entry('http://x/mcp') }, true);
    assert.deepEqual(callbacksOf(user), [G]);
    assert.ok(user.startsWith('# my gateway\nmodel_list: [] # none\n'), user);
    assert.equal(renderGatewayConfig(user, { mcp_a: entry('http://x/mcp') }, true), user);
  });

  test("the user's callbacks and other litellm_settings stay as written; ours is appended once", () => {
    const cases: [string, unknown][] = [
      ['litellm_settings:\n  drop_params: true\n  callbacks: ["my_hooks.handler"]  # mine\n', ['my_hooks.handler', G]],
      ['litellm_settings:\n  callbacks:\n    - my_hooks.handler\n    - langfuse\n', ['my_hooks.handler', 'langfuse', G]],
      // LiteLLM reads a single string as a list of one; it becomes that list plus ours.
      ['litellm_settings:\n  callbacks: my_hooks.handler\n', ['my_hooks.handler', G]],
      ['litellm_settings:\n  callbacks:\n', [G]],
      ['litellm_settings:\n', [G]],
      [`litellm_settings:\n  callbacks: [${G}, my_hooks.handler]\n`, [G, 'my_hooks.handler']],
    ];
    for (const [text, want] of cases) {
      const out = renderGatewayConfig(text, {}, true);
      assert.deepEqual(callbacksOf(out), want, text);
      if (text.includes('# mine')) assert.ok(out.includes('# mine') && out.includes('drop_params: true'), out);
      assert.equal(renderGatewayConfig(out, {}, true), out, `idempotent: ${text}`);
    }
  });

  test('without the guard wanted the callbacks stay exactly as they are (ours is never removed)', () => {
    const listed = `litellm_settings:\n  callbacks:\n    - my_hooks.handler\n    - ${G}\nmcp_servers: {}\n`;
    assert.equal(renderGatewayConfig(listed, {}, false), listed);
    assert.equal(readGatewayConfig(listed).guard, true);
    assert.equal(renderGatewayConfig('mcp_servers: {}\n', {}, false), 'mcp_servers: {}\n');
  });

  test('a shape that cannot take the guard is reported and left alone', () => {
    for (const text of ['litellm_settings: 5\n', 'litellm_settings:\n  callbacks: {a: 1}\n', 'litellm_settings: [a]\n']) {
      const v = readGatewayConfig(text);
      assert.match(String(v.callbacksProblem), /litellm_settings/, text);
      assert.deepEqual(v.errors, []);
      assert.equal(readGatewayConfig(renderGatewayConfig(text, {}, true)).guard, false, text);
      assert.deepEqual(parse(renderGatewayConfig(text, {}, true)).litellm_settings, parse(text).litellm_settings, text);
    }
  });
});
