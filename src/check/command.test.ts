import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSettings, type Settings } from '../config/settings.js';
import { resolveKey, stringMockModels, checkInput, checkCommand, gatewayLogsContainer } from './command.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function fixture(envText: string | null): { dir: string; settings: Settings } {
  const dir = mkdtempSync(join(tmpdir(), 'check-cmd-'));
  mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
  mkdirSync(join(dir, 'projects', 'desired-state'), { recursive: true });
  if (envText !== null) writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), envText, { mode: 0o600 });
  const file = join(dir, 'settings.json');
  writeFileSync(file, JSON.stringify({ projectsRoot: join(dir, 'projects'), secretsDir: join(dir, 'secrets') }));
  return { dir, settings: loadSettings({ file, env: {} }) };
}

test('the key: the master key by default, --key-env, --key-file (bare or NAME=key); never both; errors name no key', () => {
  const { dir, settings } = fixture('LITELLM_MASTER_KEY=sk-master-1234\n');
  try {
    const master = { key: 'sk-master-1234', source: `LITELLM_MASTER_KEY in ${join(dir, 'secrets', 'mcp-litellm.env')}` };
    assert.deepEqual(resolveKey(settings, {}, {}), master);
    const fromEnv = resolveKey(settings, { keyEnv: 'MY_KEY' }, { MY_KEY: 'sk-client-5678' });
    assert.deepEqual(fromEnv, { key: 'sk-client-5678', source: '$MY_KEY' });
    const bare = join(dir, 'secrets', 'client.key');
    writeFileSync(bare, 'sk-client-bare\n', { mode: 0o600 });
    assert.equal(resolveKey(settings, { keyFile: bare }, {}).key, 'sk-client-bare');
    const named = join(dir, 'secrets', 'client.env');
    writeFileSync(named, '# mine\nLITELLM_API_KEY=sk-client-named\n', { mode: 0o600 });
    assert.equal(resolveKey(settings, { keyFile: named }, {}).key, 'sk-client-named');
    const open = join(dir, 'secrets', 'open.key');
    writeFileSync(open, 'sk-open\n', { mode: 0o644 });
    assert.throws(() => resolveKey(settings, { keyFile: open }, {}), (e: Error) => !e.message.includes('sk-open'));
    assert.throws(() => resolveKey(settings, { keyEnv: 'NOPE' }, {}), /--key-env NOPE: that environment variable is empty or not set/);
    assert.throws(() => resolveKey(settings, { keyEnv: 'A', keyFile: bare }, { A: 'x' }), /not both/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no master key and no --key-*: FAIL key with the fix, exit 1, nothing called', async () => {
  const { dir, settings } = fixture('OTHER=1\n');
  let out = '';
  try {
    const code = await checkCommand(settings, {}, { stdout: (s) => (out += s), stderr: () => undefined, env: {} });
    assert.equal(code, 1);
    assert.match(out, /^FAIL key: no LITELLM_MASTER_KEY in .*mcp-litellm\.env; /);
    assert.match(out, /; or give a client key with --key-env VAR \/ --key-file FILE\n/);
    assert.match(out, /\n {5}fix: mcp-reconciler install writes the gateway env file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('string mock_response models are found in model_list; other models and bad shapes are not', () => {
  const cfg = [
    'model_list:',
    '  - model_name: mock-chat',
    '    litellm_params: {model: openai/x, mock_response: pong}',
    '  - model_name: mock-tools',
    '    litellm_params: {model: anthropic/x, mock_tool_calls: [{id: c, type: function, function: {name: t, arguments: "{}"}}]}',
    '  - model_name: dict-mock',
    '    litellm_params: {model: openai/x, mock_response: {choices: []}}',
    '  - just a string',
  ].join('\n');
  assert.deepEqual(stringMockModels(cfg), ['mock-chat']);
  assert.deepEqual(stringMockModels('model_list: 3\n'), []);
  assert.deepEqual(stringMockModels(null), []);
});

test('checkInput: servers from the desired files with their check tools, the database URL from the gateway env file', () => {
  const { dir, settings } = fixture('LITELLM_MASTER_KEY=sk-m\nDATABASE_URL=postgresql://litellm:pw@db:5432/litellm\n');
  try {
    for (const n of ['memory', 'everything']) {
      copyFileSync(join(REPO, 'desired-state', `mcp-${n}.yaml`), join(settings.desiredDir, `mcp-${n}.yaml`));
    }
    writeFileSync(join(settings.desiredDir, 'mcp-bad.yaml'), 'image: x\ntransport: http\n');
    const { input, databaseUrl } = checkInput(settings, { auditWaitSeconds: 5 }, { key: 'sk-m', source: 's' });
    assert.equal(databaseUrl, 'postgresql://litellm:pw@db:5432/litellm');
    assert.deepEqual(
      input.servers.map((s) => [s.name, s.gatewayServer, s.container, s.checkTool]),
      [
        ['everything', 'mcp_everything', 'mcp-everything', { tool: 'echo', arguments: { message: 'mcp-reconciler check' } }],
        ['memory', 'mcp_memory', 'mcp-memory', { tool: 'read_graph', arguments: {} }],
      ],
    );
    const invalid = input.invalid.map((i) => i.message.replace(/^.*mcp-bad\.yaml/, 'mcp-bad.yaml'));
    assert.deepEqual(invalid, ['mcp-bad.yaml:1:1 port: required for transport http']);
    assert.equal(input.auditWaitMs, 5_000);
    assert.equal(input.gatewayContainer, 'mcp-litellm');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('blue/green (ADR 0025): the fix names the active colour, or the front before there is one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'check-bg-'));
  try {
    const env = { MCP_RECONCILER_PROJECTS_ROOT: dir, MCP_RECONCILER_SECRETS_DIR: join(dir, 'secrets') };
    assert.equal(gatewayLogsContainer(loadSettings({ env })), 'mcp-litellm');
    const settings = loadSettings({ env: { ...env, MCP_RECONCILER_GATEWAY_HANDOVER: 'blue-green' } });
    assert.equal(gatewayLogsContainer(settings), 'mcp-front');
    mkdirSync(join(dir, 'front'));
    writeFileSync(join(dir, 'front', 'active.json'), '{"active":"green"}\n');
    assert.equal(gatewayLogsContainer(settings), 'mcp-litellm-green');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
