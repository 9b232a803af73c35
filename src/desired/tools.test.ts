import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseDesiredFile } from './load.js';
import { formatIssue } from '../errors/index.js';
import { desiredStateJsonSchema } from './schema.js';

const F = 'desired-state/mcp-fs.yaml';
const head = 'image: mcp/filesystem:1\ntransport: stdio\n';

function issues(text: string): string[] {
  const r = parseDesiredFile(text, F, 'mcp-fs.yaml');
  return [...(r.invalid?.issues ?? []), ...(r.server?.warnings ?? [])].map(formatIssue);
}

describe('tools: in a desired file', () => {
  test('allow, deny, rename and description together are valid and kept as written', () => {
    const text = `${head}tools:\n  allow: ["read_*", list_directory]\n  deny: [read_multiple_files]\n` +
      '  rename: {list_directory: ls}\n  description: {read_file: "Read one file"}\n';
    const r = parseDesiredFile(text, F, 'mcp-fs.yaml');
    assert.equal(r.invalid, null);
    assert.deepEqual(r.server?.spec.tools, {
      allow: ['read_*', 'list_directory'],
      deny: ['read_multiple_files'],
      rename: { list_directory: 'ls' },
      description: { read_file: 'Read one file' },
    });
    assert.deepEqual(r.server?.warnings, []);
    assert.deepEqual(r.server?.positions['tools.deny.0'], { line: 5, col: 10 });
  });

  // Each problem located at the offending value or key.
  const cases: [string, string, string][] = [
    [
      'a glob with a character no tool name has',
      'tools:\n  deny: ["write file"]\n',
      `${F}:4:10 tools.deny.0: " " cannot occur in a tool name (letters, digits, _ . : / -; wildcards * and ?)`,
    ],
    [
      'a bracket class',
      'tools:\n  allow:\n    - "read_[ab]"\n',
      `${F}:5:7 tools.allow.0: "[" is not a wildcard here: only * (any characters) and ? (one character)`,
    ],
    ['an empty pattern', 'tools:\n  deny: [""]\n', `${F}:4:10 tools.deny.0: an empty pattern matches no tool name`],
    [
      'an empty allow',
      'tools:\n  allow: []\n',
      `${F}:4:10 tools.allow: an empty allow would hide every tool; leave allow out to allow all`,
    ],
    ['an unknown key, with a suggestion', 'tools:\n  denny: [x]\n', `${F}:4:3 tools.denny: unknown key (did you mean "deny"?)`],
    [
      'a rename to a glob',
      'tools:\n  rename: {a: "b*"}\n',
      `${F}:4:15 tools.rename.a: a tool name: 1-128 letters, digits, _ . : / - (no wildcards)`,
    ],
    [
      'a rename of a denied tool',
      'tools:\n  deny: ["write_*"]\n  rename: {write_file: put}\n',
      `${F}:5:24 tools.rename.write_file: write_file is hidden by deny; a rename for it would never show`,
    ],
    [
      'a description of a tool allow leaves out',
      'tools:\n  allow: ["read_*"]\n  description: {move_file: "x"}\n',
      `${F}:5:28 tools.description.move_file: move_file is hidden by allow; a description for it would never show`,
    ],
    [
      'two tools renamed to one name',
      'tools:\n  rename: {a: c, b: c}\n',
      `${F}:4:21 tools.rename.b: a is renamed to c too (each new name once)`,
    ],
    ['a rename to its own name', 'tools:\n  rename: {a: a}\n', `${F}:4:15 tools.rename.a: renames a tool to its own name`],
    [
      'check: names a hidden tool',
      'tools:\n  deny: [echo]\ncheck: {tool: echo}\n',
      `${F}:5:15 check.tool: echo is not exposed under tools: (check calls the name LiteLLM shows)`,
    ],
  ];
  for (const [what, body, want] of cases) {
    test(what, () => assert.ok(issues(`${head}${body}`).includes(want), issues(`${head}${body}`).join('\n')));
  }

  test('an sse server cannot have tools: (LiteLLM reaches it directly, not through the edge)', () => {
    const got = issues('image: a:1\ntransport: sse\nport: 3000\ntools:\n  deny: [x]\n');
    assert.deepEqual(got, [
      `${F}:5:3 tools: an sse server is reached by LiteLLM directly, not through the edge that enforces tool policy (ADR 0003, 0018)`,
    ]);
  });

  test('a rename LiteLLM would show as a name LLM APIs refuse is a warning, located', () => {
    const got = issues(`${head}tools:\n  rename: {get: "files.get"}\n`);
    assert.deepEqual(got, [
      `${F}:4:17 warning: tools.rename.get: LiteLLM shows it as mcp_fs-files.get: ` +
        'LLM APIs (OpenAI, Anthropic) take only letters, digits, _ and - up to 64 characters as a tool name',
    ]);
  });

  test('the JSON Schema has tools with its four fields and no others', () => {
    const js = desiredStateJsonSchema() as {
      properties: Record<string, { properties?: Record<string, unknown>; additionalProperties?: boolean }>;
    };
    assert.deepEqual(Object.keys(js.properties['tools']?.properties ?? {}).sort(), ['allow', 'deny', 'description', 'rename']);
    assert.equal(js.properties['tools']?.additionalProperties, false);
  });
});
