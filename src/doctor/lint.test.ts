import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lintFile, lintBytes, guessKind } from './lint.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const lint = (f: string) => lintBytes(`examples/broken/${f}`, readFileSync(join(repo, 'examples/broken', f)));
const rows = (f: string) => lint(f).map((x) => `${x.where} ${x.severity} ${x.rule}`);

describe('doctor: every rule on the broken examples, with its location', () => {
  test('file kinds are guessed', () => {
    assert.equal(guessKind('config.yaml', 'mcp_servers: {}\n'), 'litellm-config');
    assert.equal(guessKind('compose.yaml', 'services:\n'), 'compose');
    assert.equal(guessKind('deploy', '#!/bin/bash\n'), 'script');
    assert.equal(guessKind('notes.md', 'x'), 'text');
    assert.equal(guessKind('litellm.conf', 'mcp_settings:\n'), 'litellm-config');
    assert.equal(guessKind('config.json', '{\n  "model_list": [],\n  "mcp_servers": {}\n}\n'), 'litellm-config');
    assert.equal(guessKind('config.txt', '\uFEFFgeneral_settings: {}\n'), 'litellm-config');
    // A client's config (Claude Desktop) is not a LiteLLM config: its stdio commands run on the host.
    assert.equal(guessKind('claude_desktop_config.json', '{"mcpServers": {"pg": {"command": "node"}}}'), 'text');
    assert.equal(guessKind('notes.md', 'see the `mcp_servers:` key\n'), 'text');
  });

  test('litellm.conf: the user\'s own failed config (mcp_settings.servers, node on a host path, api_keys)', () => {
    assert.deepEqual(rows('litellm.conf'), [
      'examples/broken/litellm.conf:3:1 error config.mcp-settings',
      'examples/broken/litellm.conf:5:5 warning config.transport-implicit',
      'examples/broken/litellm.conf:6:16 error config.stdio-command',
      'examples/broken/litellm.conf:7:14 error config.stdio-host-path',
      'examples/broken/litellm.conf:10:3 error config.api-keys',
    ]);
  });

  test('servers-list.yaml: mcp_servers as a list, its entries still checked', () => {
    assert.deepEqual(rows('servers-list.yaml'), [
      'examples/broken/servers-list.yaml:3:1 error config.mcp-servers-list',
      'examples/broken/servers-list.yaml:7:5 error config.server-not-mapping',
      'examples/broken/servers-list.yaml:9:14 error config.stdio-command',
      'examples/broken/servers-list.yaml:10:61 error config.stdio-host-path',
    ]);
  });

  test('entries.yaml: entries that are not mappings, servers under mcpServers, top-level api_keys', () => {
    assert.deepEqual(rows('entries.yaml'), [
      'examples/broken/entries.yaml:5:13 error config.server-not-mapping',
      'examples/broken/entries.yaml:6:3 error config.server-not-mapping',
      'examples/broken/entries.yaml:7:10 error config.server-not-mapping',
      'examples/broken/entries.yaml:8:1 error config.mcp-servers-misnamed',
      'examples/broken/entries.yaml:10:14 error config.stdio-command',
      'examples/broken/entries.yaml:10:14 error config.stdio-host-path',
      'examples/broken/entries.yaml:12:1 error config.api-keys',
    ]);
    const hostPath = lint('entries.yaml').find((f) => f.rule === 'config.stdio-host-path');
    assert.match(hostPath?.message ?? '', /`\/home\/u\/mcp\/filesystem\/dist\/index\.js` is a path on the host/);
  });

  test('bom.yaml: a byte-order mark is a warning and the rest is linted', () => {
    assert.deepEqual(rows('bom.yaml'), ['examples/broken/bom.yaml:1:1 warning file.bom']);
  });

  test('utf16.yaml: a UTF-16 file is one error, nothing else', () => {
    assert.deepEqual(rows('utf16.yaml'), ['examples/broken/utf16.yaml:1:1 error file.binary']);
  });

  test('config.yaml', () => {
    assert.deepEqual(rows('config.yaml'), [
      'examples/broken/config.yaml:5:15 error config.shell-var',
      'examples/broken/config.yaml:7:3 error config.database-url-placement',
      'examples/broken/config.yaml:8:1 error config.virtual-keys',
      'examples/broken/config.yaml:10:1 error config.mcp-settings',
      'examples/broken/config.yaml:11:3 warning config.transport-implicit',
      'examples/broken/config.yaml:14:3 error config.server-name-dash',
      'examples/broken/config.yaml:17:3 warning config.transport-implicit',
      'examples/broken/config.yaml:21:14 error config.stdio-command',
      'examples/broken/config.yaml:22:61 error config.environ-in-args',
      'examples/broken/config.yaml:25:16 error config.transport-invalid',
      'examples/broken/config.yaml:26:5 error config.key-not-in-1.77.3',
      'examples/broken/config.yaml:27:5 error config.key-not-in-1.77.3',
      'examples/broken/config.yaml:28:5 warning config.unknown-key',
    ]);
    const typo = lint('config.yaml').find((f) => f.rule === 'config.unknown-key');
    assert.equal(typo?.fix, 'did you mean `description`?');
    const dash = lint('config.yaml').find((f) => f.rule === 'config.server-name-dash');
    assert.equal(dash?.fix, 'rename it to "my_postgres"');
  });

  test('deploy.sh', () => {
    assert.deepEqual(rows('deploy.sh'), [
      'examples/broken/deploy.sh:3:43 error image.tag',
      'examples/broken/deploy.sh:4:41 warning script.num-workers',
      'examples/broken/deploy.sh:4:57 error script.master-key-expansion',
      'examples/broken/deploy.sh:5:16 warning client.url-no-slash',
      'examples/broken/deploy.sh:6:40 error sql.litellm-logs',
    ]);
  });

  test('compose.yaml', () => {
    assert.deepEqual(rows('compose.yaml'), [
      'examples/broken/compose.yaml:3:12 error image.tag',
      'examples/broken/compose.yaml:4:48 error script.master-key-expansion',
    ]);
  });

  test('our own files are clean', () => {
    for (const f of ['deploy/compose.yaml', 'scripts/demo.sh', 'scripts/setup.sh']) {
      const errors = lintFile(f, readFileSync(join(repo, f), 'utf8')).filter((x) => x.severity !== 'info');
      assert.deepEqual(errors, [], f);
    }
  });
});

describe('doctor: servers under a misnamed key are checked as if they were mcp_servers', () => {
  const entry = ['    pg:', '      command: npx', '      args: ["-y", "pg-mcp"]', '      transport: stdio'];
  const cases: [string, string[], string[]][] = [
    ['mcpServers', ['mcpServers:', ...entry.map((l) => l.slice(2))], ['c:1:1 config.mcp-servers-misnamed', 'c:3:14 config.stdio-command']],
    ['mcp', ['mcp:', ...entry.map((l) => l.slice(2))], ['c:1:1 config.mcp-servers-misnamed', 'c:3:14 config.stdio-command']],
    ['servers', ['servers:', ...entry.map((l) => l.slice(2))], ['c:1:1 config.mcp-servers-misnamed', 'c:3:14 config.stdio-command']],
    [
      'MCP-Servers',
      ['MCP-Servers:', ...entry.map((l) => l.slice(2))],
      ['c:1:1 config.mcp-servers-misnamed', 'c:3:14 config.stdio-command'],
    ],
    ['mcp_settings.servers', ['mcp_settings:', '  servers:', ...entry], ['c:1:1 config.mcp-settings', 'c:4:16 config.stdio-command']],
    ['mcp_settings.mcpServers', ['mcp_settings:', '  mcpServers:', ...entry], ['c:1:1 config.mcp-settings', 'c:4:16 config.stdio-command']],
    [
      'mcp_settings itself',
      ['mcp_settings:', ...entry.map((l) => l.slice(2))],
      ['c:1:1 config.mcp-settings', 'c:3:14 config.stdio-command'],
    ],
    ['mcp_servers (the right key)', ['mcp_servers:', ...entry.map((l) => l.slice(2))], ['c:3:14 config.stdio-command']],
  ];
  for (const [key, lines, expected] of cases) {
    test(`under ${key}`, () => {
      // model_list makes every case a LiteLLM config, whatever the key.
      const got = lintFile('c', ['model_list: []', ...lines, ''].join('\n'))
        .map((f) => `${f.where.replace(/:(\d+):/, (_, n: string) => `:${Number(n) - 1}:`)} ${f.rule}`);
      assert.deepEqual(got, expected);
    });
  }
});

describe('doctor: api_keys are not a 1.77.3 key wherever they are written', () => {
  const cases: [string, string, string[]][] = [
    ['top level', 'mcp_servers: {}\napi_keys: [sk-1]\n', ['c:2:1 config.api-keys']],
    ['inside mcp_settings', 'mcp_settings:\n  api_keys: [sk-1]\n', ['c:1:1 config.mcp-settings', 'c:2:3 config.api-keys']],
    ['apiKeys', 'model_list: []\napiKeys: [sk-1]\n', ['c:2:1 config.api-keys']],
    [
      'on a server',
      'mcp_servers:\n  gh:\n    url: http://gh:8000/mcp\n    transport: http\n    api_key: sk-1\n',
      ['c:5:5 config.api-keys'],
    ],
  ];
  for (const [what, text, expected] of cases) {
    test(what, () => assert.deepEqual(lintFile('c', text).map((f) => `${f.where} ${f.rule}`), expected));
  }
});

describe('doctor: list-form and non-mapping mcp_servers', () => {
  const cases: [string, string, string[]][] = [
    ['a list of names', 'mcp_servers:\n  - github\n', ['c:1:1 config.mcp-servers-list', 'c:2:5 config.server-not-mapping']],
    [
      'a flow list of mappings with a dash name',
      'mcp_servers: [{name: my-pg, url: "http://pg:1/mcp", transport: http}]\n',
      ['c:1:1 config.mcp-servers-list'],
    ],
    ['a string', 'mcp_servers: github\n', ['c:1:1 config.mcp-servers-not-mapping']],
    ['empty (nothing is loaded, LiteLLM starts)', 'mcp_servers:\nmodel_list: []\n', []],
    ['a number as an entry', 'mcp_servers:\n  gh: 8000\n', ['c:2:7 config.server-not-mapping']],
  ];
  for (const [what, text, expected] of cases) {
    test(what, () => assert.deepEqual(lintFile('c', text).map((f) => `${f.where} ${f.rule}`), expected));
  }
});

describe('doctor: input that is not UTF-8 text is one located error', () => {
  const cases: [string, Buffer, string][] = [
    ['a NUL byte on line 2', Buffer.from('mcp_servers:\n  a\u0000b: {}\n'), 'c:2:4 error file.binary'],
    ['an ELF binary', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), 'c:1:8 error file.binary'],
    ['invalid UTF-8 (Latin-1 text)', Buffer.from('model_list: []\n# caf\xe9\n', 'latin1'), 'c:2:6 error file.binary'],
    ['UTF-16 big-endian', Buffer.from([0xfe, 0xff, 0x00, 0x6d]), 'c:1:1 error file.binary'],
  ];
  for (const [what, bytes, expected] of cases) {
    test(what, () => assert.deepEqual(lintBytes('c', bytes).map((f) => `${f.where} ${f.severity} ${f.rule}`), [expected]));
  }
  test('UTF-8 text with a BOM and non-ASCII is linted, with a BOM warning', () => {
    const rows = lintBytes('c', Buffer.from('\uFEFFmcp_servers:\n  café-x:\n    url: http://x:1/mcp\n    transport: http\n'))
      .map((f) => `${f.where} ${f.rule}`);
    assert.deepEqual(rows, ['c:1:1 file.bom', 'c:2:3 config.server-name-dash']);
  });
});
