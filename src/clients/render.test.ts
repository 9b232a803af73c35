import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parse as parseToml } from 'smol-toml';
import { CLIENTS, renderClient, renderAll } from './render.js';

const host = 'linuxserver.lan';
const url = 'http://linuxserver.lan:4000/mcp/';
const key = 'sk-THIS-MUST-NOT-APPEAR';

/** The real parsers: JSON.parse, smol-toml, and bash itself for the shell command. */
describe('client configurations', () => {
  test('claude-code: bash parses it into the documented argv; the key comes from the environment', () => {
    const cmd = renderClient('claude-code', host, 4000).body;
    const r = spawnSync('bash', ['-c', `claude() { printf '%s\\n' "$@"; }\n${cmd}`], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', LITELLM_API_KEY: key },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      r.stdout.trim().split('\n'),
      ['mcp', 'add', '--transport', 'http', 'litellm', url, '--header', `x-litellm-api-key: Bearer ${key}`],
    );
    assert.ok(!cmd.includes(key));
  });

  test('claude-code-json: .mcp.json', () => {
    const j = JSON.parse(renderClient('claude-code-json', host, 4000).body);
    assert.deepEqual(j.mcpServers.litellm, { type: 'http', url, headers: { 'x-litellm-api-key': 'Bearer ${LITELLM_API_KEY}' } });
  });

  test('gemini: httpUrl (streamable HTTP), not url (SSE)', () => {
    const j = JSON.parse(renderClient('gemini', host, 4000).body);
    assert.equal(j.mcpServers.litellm.httpUrl, url);
    assert.equal(j.mcpServers.litellm.url, undefined);
    assert.equal(j.mcpServers.litellm.headers['x-litellm-api-key'], 'Bearer $LITELLM_API_KEY');
  });

  test('codex: TOML with bearer_token_env_var', () => {
    const t = parseToml(renderClient('codex', host, 4000).body) as { mcp_servers: { litellm: Record<string, string> } };
    assert.deepEqual({ ...t.mcp_servers.litellm }, { url, bearer_token_env_var: 'LITELLM_API_KEY' });
  });

  test('vscode: a password input, never a key in the file', () => {
    const j = JSON.parse(renderClient('vscode', host, 4000).body);
    assert.deepEqual(j.servers.litellm, { type: 'http', url, headers: { 'x-litellm-api-key': 'Bearer ${input:litellm-key}' } });
    assert.deepEqual(j.inputs, [{ type: 'promptString', id: 'litellm-key', password: true, description: 'LiteLLM virtual key' }]);
  });

  test('open-webui: the settings to enter', () => {
    const t = renderClient('open-webui', host, 4000).body;
    assert.match(t, /^Type: MCP \(Streamable HTTP\)$/m);
    assert.match(t, new RegExp(`^URL: ${url.replaceAll('.', '\\.')}$`, 'm'));
  });

  test('every URL keeps the trailing slash, and the port follows the settings', () => {
    for (const c of CLIENTS) assert.ok(renderClient(c, 'gw.lan', 4100).body.includes('http://gw.lan:4100/mcp/'), c);
    const endpoints = [...renderAll(host, 4000).matchAll(/:4000\/mcp(.)/g)];
    assert.ok(endpoints.length >= 6 && endpoints.every((m) => m[1] === '/'));
  });
});
