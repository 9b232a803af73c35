// Which config.yaml entries are ours (the owner marker) and what a file must look like before it is
// rewritten: the branches StrykerJS found unchecked in config-file.ts (issue 15). Apart from
// config-file.test.ts to avoid edit clashes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { readGatewayConfig, renderGatewayConfig, ownedEntry } from './config-file.js';
import { GUARD_CALLBACK } from './guard.js';

const mixed = `mcp_servers:
  ours:
    url: http://a/mcp
    x-mcp-reconciler: { managed-by: mcp-reconciler, source: desired-state/mcp-a.yaml }
  other_owner:
    url: http://b/mcp
    x-mcp-reconciler: { managed-by: someone-else }
  marker_text:
    url: http://c/mcp
    x-mcp-reconciler: mcp-reconciler
  marker_null:
    url: http://d/mcp
    x-mcp-reconciler:
  marker_list:
    url: http://e/mcp
    x-mcp-reconciler: [mcp-reconciler]
  no_marker:
    url: http://f/mcp
  empty:
  scalar: just text
`;
const USER_ENTRIES = ['other_owner', 'marker_text', 'marker_null', 'marker_list', 'no_marker', 'empty', 'scalar'];

describe('config.yaml: which entries are ours', () => {
  test('an entry is ours only with the marker mapping managed-by: mcp-reconciler; every other entry is the user’s', () => {
    const v = readGatewayConfig(mixed);
    assert.deepEqual(v.errors, []);
    assert.deepEqual(Object.keys(v.owned), ['ours']);
    assert.deepEqual(v.foreign, USER_ENTRIES);
  });

  test('rendering drops only our unwanted entry; every user entry stays as written, marked by someone else or not', () => {
    const text = renderGatewayConfig(mixed, {});
    const servers = (parse(text) as { mcp_servers: Record<string, unknown> }).mcp_servers;
    assert.deepEqual(Object.keys(servers), USER_ENTRIES);
    const { ours: _ours, ...userWritten } = (parse(mixed) as { mcp_servers: Record<string, unknown> }).mcp_servers;
    assert.deepEqual(servers, userWritten);
  });

  test('a wanted entry whose name the user already uses is left as the user wrote it', () => {
    const text = renderGatewayConfig(mixed, {
      no_marker: ownedEntry({ url: 'http://ours/mcp', transport: 'http' }, 'desired-state/mcp-x.yaml'),
    });
    assert.equal(
      (parse(text) as { mcp_servers: Record<string, Record<string, unknown>> }).mcp_servers['no_marker']?.['url'],
      'http://f/mcp',
    );
    assert.deepEqual(Object.keys(readGatewayConfig(text).owned), []);
  });
});

describe('config.yaml: files that are not rewritten', () => {
  test('a file that is not a mapping, or whose mcp_servers is not a mapping, is reported', () => {
    const refused = (errors: string[]) => ({ owned: {}, foreign: [], guard: false, callbacksProblem: null, errors });
    assert.deepEqual(readGatewayConfig('just text\n'), refused(['the config must be a mapping']));
    assert.deepEqual(readGatewayConfig('- a\n- b\n'), refused(['the config must be a mapping']));
    assert.deepEqual(readGatewayConfig('mcp_servers: text\n'), refused(['mcp_servers must be a mapping of name -> settings']));
    assert.deepEqual(readGatewayConfig('mcp_servers: [1]\n'), refused(['mcp_servers must be a mapping of name -> settings']));
    const unparsed = readGatewayConfig('mcp_servers: [\n');
    assert.deepEqual({ ...unparsed, errors: [] }, refused([]));
    assert.equal(unparsed.errors.length, 1);
    assert.match(unparsed.errors[0] ?? '', /^Flow sequence in block collection [^\n]+$/, 'the first line of the YAML error only');
    assert.deepEqual(readGatewayConfig('mcp_servers:\n  a: 1\n  a: 2\n').errors.length, 1, 'a duplicate key is a parse error');
  });

  test('a file whose aliases expand past the cap of 50 is a parse problem (not rewritten), not a thrown error', () => {
    const aliases = (n: number): string => `x: &a v\nlist:\n${'  - *a\n'.repeat(n)}mcp_servers: {}\n`;
    assert.deepEqual(readGatewayConfig(aliases(40)).errors, []);
    // 60: past our cap, below yaml's own default of 100.
    assert.deepEqual(readGatewayConfig(aliases(60)), {
      owned: {}, foreign: [], guard: false, callbacksProblem: null,
      errors: ['Excessive alias count indicates a resource exhaustion attack'],
    });
  });

  test('an empty file, comments only, no mcp_servers or an empty one are fine and own nothing', () => {
    for (const text of [null, '', '  \n', '# only a comment\n', 'model_list: []\n', 'mcp_servers:\n', 'mcp_servers: {}\n']) {
      assert.deepEqual(readGatewayConfig(text), { owned: {}, foreign: [], guard: false, callbacksProblem: null, errors: [] }, String(text));
    }
  });
});

describe('config.yaml: rendering', () => {
  const entry = (url: string): Record<string, unknown> => ownedEntry({ url, transport: 'http' }, 'desired-state/mcp-a.yaml');

  test('a blank file becomes a new file with the header and the master key from the environment', () => {
    for (const blank of [null, '', '  \n']) {
      const text = renderGatewayConfig(blank, { mcp_a: entry('http://a/mcp') });
      assert.ok(text.startsWith('# LiteLLM 1.77.3 config. mcp-reconciler owns the mcp_servers entries marked x-mcp-reconciler\n'), text);
      assert.ok(text.includes('# The gateway reads this file once at start-up; the reconciler restarts it when the file changes.\n'), text);
      assert.equal(
        (parse(text) as { general_settings: { master_key: string } }).general_settings.master_key,
        'os.environ/LITELLM_MASTER_KEY',
      );
    }
  });

  test('our entries are added in name order, in block style, under an mcp_servers key that was empty', () => {
    const text = renderGatewayConfig('model_list: []\nmcp_servers:\n', { mcp_b: entry('http://b/mcp'), mcp_a: entry('http://a/mcp') });
    assert.equal(text, [
      'model_list: []',
      'mcp_servers:',
      '  mcp_a:',
      '    url: http://a/mcp',
      '    transport: http',
      '    x-mcp-reconciler:',
      '      managed-by: mcp-reconciler',
      '      source: desired-state/mcp-a.yaml',
      '  mcp_b:',
      '    url: http://b/mcp',
      '    transport: http',
      '    x-mcp-reconciler:',
      '      managed-by: mcp-reconciler',
      '      source: desired-state/mcp-a.yaml',
      '',
    ].join('\n'));
  });

  test('a long value stays on one line (no folding), as LiteLLM and a reader expect it', () => {
    const url = `http://mcp-edge:8080/mcp-${'a'.repeat(100)}/3001/mcp`;
    assert.ok(renderGatewayConfig(null, { mcp_a: entry(url) }).includes(`    url: ${url}\n`));
  });

  test('an owned entry with the same content in another key order is unchanged; other content replaces it', () => {
    const once = renderGatewayConfig(null, { mcp_a: entry('http://a/mcp') });
    const reordered = {
      transport: 'http', 'x-mcp-reconciler': { 'managed-by': 'mcp-reconciler', source: 'desired-state/mcp-a.yaml' }, url: 'http://a/mcp',
    };
    assert.equal(renderGatewayConfig(once, { mcp_a: reordered }), once);
    const changed = renderGatewayConfig(once, { mcp_a: entry('http://b/mcp') });
    assert.equal(readGatewayConfig(changed).owned['mcp_a']?.['url'], 'http://b/mcp');
  });

  test('the same text with other entries renders other entries (remembered by text and entries together)', () => {
    const base = 'model_list: []\n';
    assert.match(renderGatewayConfig(base, { mcp_a: entry('http://a/mcp') }), /http:\/\/a\/mcp/);
    assert.match(renderGatewayConfig(base, { mcp_a: entry('http://b/mcp') }), /http:\/\/b\/mcp/);
    assert.match(renderGatewayConfig(base, { mcp_c: entry('http://a/mcp') }), /mcp_c:/);
    assert.equal(renderGatewayConfig(base, {}), 'model_list: []\nmcp_servers: {}\n');
  });

  test('a view read back is frozen: one reader cannot change what the next reader sees', () => {
    const v = readGatewayConfig(mixed);
    assert.ok(Object.isFrozen(v) && Object.isFrozen(v.owned) && Object.isFrozen(v.foreign));
  });
});

describe('config.yaml: what a second StrykerJS run found unchecked', () => {
  const G = GUARD_CALLBACK;
  const entry = (over: Record<string, unknown> = {}): Record<string, unknown> =>
    ownedEntry({ url: 'http://a/mcp', transport: 'http', ...over }, 'desired-state/mcp-a.yaml');

  test("a new file's header says, line by line, which entries and which callback are ours and that the rest is the user's", () => {
    assert.ok(renderGatewayConfig(null, {}).startsWith([
      '# LiteLLM 1.77.3 config. mcp-reconciler owns the mcp_servers entries marked x-mcp-reconciler',
      '# and rewrites them; for the gateway it runs it adds mcp_reconciler_guard.guard to litellm_settings.callbacks',
      '# (the file mcp_reconciler_guard.py beside this one). Everything else in this file is yours and is kept as written.',
      '# The gateway reads this file once at start-up; the reconciler restarts it when the file changes.',
      '',
    ].join('\n')));
  });

  test('litellm_settings without callbacks takes the guard; a lone string that is the guard is ours and is not added twice', () => {
    const noCallbacks = 'litellm_settings:\n  drop_params: true\n';
    assert.deepEqual(readGatewayConfig(noCallbacks), { owned: {}, foreign: [], guard: false, callbacksProblem: null, errors: [] });
    const lone = `litellm_settings:\n  callbacks: ${G}\nmcp_servers: {}\n`;
    assert.equal(readGatewayConfig(lone).guard, true);
    assert.equal(renderGatewayConfig(lone, {}, true), lone);
  });

  test('a file that is only null, ~ or --- becomes a mapping with our entries, not an exception', () => {
    for (const text of ['null\n', '~\n', '---\n']) {
      const out = renderGatewayConfig(text, { mcp_a: entry() }, true);
      assert.deepEqual(Object.keys(readGatewayConfig(out).owned), ['mcp_a'], text);
      assert.equal(readGatewayConfig(out).guard, true, text);
    }
  });

  test('a file of comments only keeps them and gets our entries', () => {
    const out = renderGatewayConfig('# only a comment\n', { mcp_a: entry() });
    assert.ok(out.startsWith('# only a comment\n'), out);
    assert.deepEqual(Object.keys(readGatewayConfig(out).owned), ['mcp_a']);
  });

  test('a file that is one other scalar is never replaced by a mapping (readGatewayConfig reports it; rendering refuses)', () => {
    assert.deepEqual(readGatewayConfig('just text\n').errors, ['the config must be a mapping']);
    assert.throws(() => renderGatewayConfig('just text\n', { mcp_a: entry() }), /Expected a YAML collection/);
  });

  test('rendering without the guard argument adds no guard; with it, the same text and entries get the guard', () => {
    assert.equal(renderGatewayConfig('a: 1\n', {}), 'a: 1\nmcp_servers: {}\n');
    assert.match(renderGatewayConfig('a: 1\n', {}, true), new RegExp(`- ${G.replace('.', '\\.')}\n`));
  });

  test('remembered renders never mix up the guard flag, a null file and texts that differ only by a first character', () => {
    assert.equal(renderGatewayConfig('ga: 1\n', {}, false), 'ga: 1\nmcp_servers: {}\n');
    assert.match(renderGatewayConfig('a: 1\n', {}, true), /^a: 1\n/);
    assert.equal(renderGatewayConfig('b: 1\n', {}, false), 'b: 1\nmcp_servers: {}\n');
    assert.match(renderGatewayConfig('-b: 1\n', {}, true), /^-b: 1\n/);
    assert.match(renderGatewayConfig(null, {}), /^# LiteLLM/);
    assert.equal(renderGatewayConfig('null', {}), 'mcp_servers: {}\n');
  });

  test('a long description with spaces stays on one line (no folding at 80 characters)', () => {
    const description = 'word '.repeat(30).trim();
    assert.ok(renderGatewayConfig(null, { mcp_a: entry({ description }) }).includes(`    description: ${description}\n`));
  });
});
