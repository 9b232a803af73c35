import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDesiredFile, loadDesiredDir, checkServerName } from './load.js';
import { formatIssue } from '../errors/index.js';

const F = 'desired-state/mcp-x.yaml';
const ok = `image: mcp/everything:1.0\ntransport: http\nport: 3001\n`;

function errors(text: string, fileName = 'mcp-x.yaml'): string[] {
  const r = parseDesiredFile(text, F, fileName);
  return r.invalid ? r.invalid.issues.map(formatIssue) : [];
}

describe('desired file validation', () => {
  test('a minimal http server is valid', () => {
    const r = parseDesiredFile(ok, F, 'mcp-x.yaml');
    assert.equal(r.invalid, null);
    assert.equal(r.server?.name, 'x');
    assert.equal(r.server?.spec.transport, 'http');
  });

  const cases: [string, string, string][] = [
    ['bad transport, located at the value', 'image: a:1\nport: 1\ntransport: websocket\n', `${F}:3:12 transport: expected one of http, sse, stdio`],
    ['unknown key with a suggestion', 'imgae: a:1\ntransport: http\nport: 1\n', `${F}:1:1 imgae: unknown key (did you mean "image"?)`],
    ['missing image', 'transport: http\nport: 1\n', `${F}:1:1 image: required`],
    ['port required for http', 'image: a:1\ntransport: http\n', `${F}:1:1 port: required for transport http`],
    ['port has the wrong type', 'image: a:1\ntransport: http\nport: "x"\n', `${F}:3:7 port: expected number`],
    ['stdio has no port', 'image: a:1\ntransport: stdio\nport: 3\n', `${F}:3:7 port: a stdio server has no port or path`],
    ['name must match the file', 'name: y\nimage: a:1\ntransport: http\nport: 1\n', `${F}:1:7 name: "y" does not match the file name (expected "x")`],
    ['mount outside the server folder', 'image: a:1\ntransport: http\nport: 1\nmounts: ["../../etc/passwd:/x"]\n', `${F}:4:10 mounts.0: the source must be relative to the server folder <projectsRoot>/<name>/ and stay inside it`],
    ['absolute mount source', 'image: a:1\ntransport: http\nport: 1\nmounts: ["/etc:/x:ro"]\n', `${F}:4:10 mounts.0: the source must be relative to the server folder <projectsRoot>/<name>/ and stay inside it`],
    ['env value must be scalar', 'image: a:1\ntransport: http\nport: 1\nenv:\n  A: [1]\n', `${F}:5:6 env.A: expected string, number or boolean`],
    ['YAML syntax error', 'image: [a\n', `${F}:2:1 Flow sequence in block collection must be sufficiently indented and end with a ]`],
    ['not a mapping', '- a\n- b\n', `${F}:1:1 expected a mapping of settings (see schema/desired-state.schema.json)`],
    ['duplicate key', 'image: a:1\nimage: b:1\ntransport: http\nport: 1\n', `${F}:2:1 image: Map keys must be unique`],
  ];
  for (const [name, text, expected] of cases) {
    test(name, () => {
      assert.ok(errors(text).includes(expected), `expected ${JSON.stringify(expected)} in ${JSON.stringify(errors(text))}`);
    });
  }

  test('an alias bomb is refused with a located error, not expanded', () => {
    const bomb = ['a: &a [x,x,x,x,x,x,x,x,x,x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');
    const e = errors(bomb);
    assert.equal(e.length, 1);
    assert.match(e[0] as string, /^desired-state\/mcp-x\.yaml:1:1 .*alias/i);
  });

  test(':latest is a warning, not an error', () => {
    const r = parseDesiredFile('image: mcp/everything:latest\ntransport: http\nport: 1\n', F, 'mcp-x.yaml');
    assert.equal(r.invalid, null);
    assert.equal(r.server?.warnings.length, 1);
    assert.match(formatIssue(r.server!.warnings[0]!), /^desired-state\/mcp-x\.yaml:1:8 warning: image: "mcp\/everything:latest" floats/);
  });

  test('file names and reserved names', () => {
    assert.ok(errors(ok, 'server.yaml').includes(`${F}:1:1 file name must be mcp-<name>.yaml`));
    assert.ok(errors(ok, 'mcp-litellm.yaml').includes(`${F}:1:1 "litellm" is reserved for the stack itself`));
    assert.ok(errors(ok, 'mcp-Upper.yaml')[0]?.includes('lowercase letters'));
    assert.equal(checkServerName('a'.repeat(41)), 'a server name has at most 40 characters');
    assert.equal(checkServerName('a'.repeat(40)), null);
    assert.equal(checkServerName('postgresql'), null);
  });
});

describe('desired dir loading', () => {
  test('one bad file never hides the others; editor files are ignored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'desired-'));
    try {
      writeFileSync(join(dir, 'mcp-good.yaml'), ok);
      writeFileSync(join(dir, 'mcp-bad.yaml'), 'image: a:1\ntransport: ftp\nport: 1\n');
      writeFileSync(join(dir, '.mcp-good.yaml.swp'), 'garbage');
      writeFileSync(join(dir, 'mcp-good.yaml~'), 'garbage');
      writeFileSync(join(dir, 'README.txt'), 'not yaml');
      const l = loadDesiredDir(dir);
      assert.equal(l.dirState, 'ok');
      assert.deepEqual(l.servers.map((s) => s.name), ['good']);
      assert.deepEqual(l.invalid.map((i) => i.name), ['bad']);
      assert.match(l.servers[0]!.source, /^desired-.*\/mcp-good\.yaml$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('missing dir is reported as missing, never as empty', () => {
    assert.equal(loadDesiredDir('/nonexistent/desired-state').dirState, 'missing');
  });

  test('two files for one server: both rejected', () => {
    const dir = mkdtempSync(join(tmpdir(), 'desired-'));
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'mcp-a.yaml'), ok);
      writeFileSync(join(dir, 'mcp-a.yml'), ok);
      const l = loadDesiredDir(dir);
      assert.equal(l.servers.length, 0);
      assert.equal(l.invalid.length, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
