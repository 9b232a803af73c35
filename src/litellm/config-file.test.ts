import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { readGatewayConfig, renderGatewayConfig, ownedEntry, OWNER_KEY } from './config-file.js';

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
