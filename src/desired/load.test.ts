import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDesiredFile, loadDesiredDir, checkServerName, isIgnoredFileName, displayPath, readDesiredFile } from './load.js';
import { MAX_YAML_BYTES } from './yaml-located.js';
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
    [
      'bad transport, located at the value',
      'image: a:1\nport: 1\ntransport: websocket\n',
      `${F}:3:12 transport: expected one of http, sse, stdio`,
    ],
    ['unknown key with a suggestion', 'imgae: a:1\ntransport: http\nport: 1\n', `${F}:1:1 imgae: unknown key (did you mean "image"?)`],
    [
      'missing image',
      'transport: http\nport: 1\n',
      `${F}:1:1 image: required (or build: for a Dockerfile folder, package: for an npm/PyPI package, ` +
        'url: for a server that runs elsewhere)',
    ],
    ['port required for http', 'image: a:1\ntransport: http\n', `${F}:1:1 port: required for transport http`],
    ['port has the wrong type', 'image: a:1\ntransport: http\nport: "x"\n', `${F}:3:7 port: expected number`],
    ['stdio has no port', 'image: a:1\ntransport: stdio\nport: 3\n', `${F}:3:7 port: a stdio server has no port or path`],
    [
      'name must match the file',
      'name: y\nimage: a:1\ntransport: http\nport: 1\n',
      `${F}:1:7 name: "y" does not match the file name (expected "x")`,
    ],
    [
      'mount outside the server folder',
      'image: a:1\ntransport: http\nport: 1\nmounts: ["../../etc/passwd:/x"]\n',
      `${F}:4:10 mounts.0: the source must be relative to the server folder <projectsRoot>/<name>/ and stay inside it`,
    ],
    [
      'absolute mount source',
      'image: a:1\ntransport: http\nport: 1\nmounts: ["/etc:/x:ro"]\n',
      `${F}:4:10 mounts.0: the source must be relative to the server folder <projectsRoot>/<name>/ and stay inside it`,
    ],
    [
      'env value must be scalar',
      'image: a:1\ntransport: http\nport: 1\nenv:\n  A: [1]\n',
      `${F}:5:6 env.A: expected string, number or boolean`,
    ],
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
    const bomb = [
      'a: &a [x,x,x,x,x,x,x,x,x,x]',
      ...Array.from({ length: 8 }, (_, i) =>
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [` +
          `*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},` +
          `*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},` +
          `*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},` +
          `*${String.fromCharCode(97 + i)}]`),
    ].join('\n');
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

describe('what a desired file means, problem by problem', () => {
  const all = (text: string, fileName = 'mcp-x.yaml'): string[] => {
    const r = parseDesiredFile(text, F, fileName);
    return [...(r.invalid?.issues ?? []), ...(r.server?.warnings ?? [])].map(formatIssue);
  };

  test('a YAML syntax error is reported alone (no schema errors for a file that did not parse)', () => {
    assert.deepEqual(all('image: [a\n'), [`${F}:2:1 Flow sequence in block collection must be sufficiently indented and end with a ]`]);
  });

  test('an empty file and a lone scalar are not a mapping of settings', () => {
    const msg = `${F}:1:1 expected a mapping of settings (see schema/desired-state.schema.json)`;
    assert.deepEqual(all(''), [msg]);
    assert.deepEqual(all('just words\n'), [msg]);
  });

  test('a bad file name is reported once, with no name: mismatch made up from it', () => {
    assert.deepEqual(all(`name: y\n${ok}`, 'server.yaml'), [`${F}:1:1 file name must be mcp-<name>.yaml`]);
  });

  test('an env value written through an alias reaches the container as YAML reads it', () => {
    const r = parseDesiredFile(`${ok}env:\n  A: &n 1.10\n  B: *n\n`, F, 'mcp-x.yaml');
    assert.deepEqual(r.server?.spec.env, { A: '1.10', B: 1.1 });
  });

  test('an image without a tag, or with only a registry port, floats like :latest; a tag or a digest pins it', () => {
    const floats = (image: string): boolean =>
      all(`image: ${image}\ntransport: http\nport: 1\n`).some((i) => i.includes('floats (:latest)'));
    assert.deepEqual(['mcp/x', 'registry:5000/mcp/x', 'mcp/x:latest'].map(floats), [true, true, true]);
    assert.deepEqual(['mcp/x:1.2', 'registry:5000/mcp/x:2', `mcp/x@sha256:${'a'.repeat(64)}`].map(floats), [false, false, false]);
  });

  test('running as root (by name or uid 0, any group) is a warning; another user is not', () => {
    const root = (user: string): boolean => all(`${ok}security:\n  user: "${user}"\n`).some((i) => i.includes('runs as root'));
    assert.deepEqual(['root', 'root:1000', '0', '00:0'].map(root), [true, true, true, true]);
    assert.deepEqual(['rooted', '1000', '10', '1000:0'].map(root), [false, false, false, false]);
  });
});

describe('which files in the desired dir are desired state', () => {
  test('editor leftovers and partial writes are never desired state', () => {
    const ignored = ['.mcp-x.yaml', 'mcp-x.yaml~', 'mcp-x.yaml.swp', 'mcp-x.yaml.swx', 'mcp-x.yaml.tmp', 'mcp-x.yaml.bak',
      'mcp-x.yaml.orig', 'mcp-x.yaml.part', 'mcp-x.tmp.yaml'];
    assert.deepEqual(ignored.filter((f) => !isIgnoredFileName(f)), []);
    assert.deepEqual(['mcp-x.yaml', 'mcp-x.yml', 'mcp-swp.yaml', 'mcp-tmp.yaml', 'mcp-x.yaml.d'].filter(isIgnoredFileName), []);
  });

  test('a file below the working directory is shown relative to it, any other path as given', () => {
    assert.equal(displayPath('/srv/app/desired/mcp-x.yaml', '/srv/app'), 'desired/mcp-x.yaml');
    assert.equal(displayPath('/srv/other/mcp-x.yaml', '/srv/app'), '/srv/other/mcp-x.yaml');
    assert.equal(displayPath('/srv/app', '/srv/app'), '/srv/app');
    assert.equal(displayPath('/srv/..app/mcp-x.yaml', '/srv'), '/srv/..app/mcp-x.yaml');
  });

  test('servers come in file-name order, whatever order the directory lists them in', () => {
    const dir = mkdtempSync(join(tmpdir(), 'desired-'));
    for (const n of ['c', 'a', 'b']) writeFileSync(join(dir, `mcp-${n}.yaml`), ok);
    assert.deepEqual(loadDesiredDir(dir).servers.map((s) => s.name), ['a', 'b', 'c']);
    rmSync(dir, { recursive: true, force: true });
  });

  test('two files for one server: both are errors naming the server, the other servers stay', () => {
    const dir = mkdtempSync(join(tmpdir(), 'desired-'));
    writeFileSync(join(dir, 'mcp-a.yaml'), ok);
    writeFileSync(join(dir, 'mcp-a.yml'), ok);
    writeFileSync(join(dir, 'mcp-b.yaml'), ok);
    const l = loadDesiredDir(dir, dir);
    assert.deepEqual(l.servers.map((s) => s.name), ['b']);
    assert.deepEqual(l.invalid.flatMap((i) => i.issues.map(formatIssue)), [
      'mcp-a.yaml:1:1 server "a" is defined by more than one file',
      'mcp-a.yml:1:1 server "a" is defined by more than one file',
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a desired dir that is a file, or below a file, is unreadable (never read as empty)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'desired-'));
    writeFileSync(join(dir, 'file'), '');
    assert.deepEqual(loadDesiredDir(join(dir, 'file')), { dir: join(dir, 'file'), dirState: 'unreadable', servers: [], invalid: [] });
    assert.equal(loadDesiredDir(join(dir, 'file', 'sub')).dirState, 'unreadable');
    rmSync(dir, { recursive: true, force: true });
  });

  test('an unreadable file keeps its server name only when the name is usable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'desired-'));
    for (const f of ['mcp-ok.yaml', 'mcp-litellm.yaml', 'other.yaml']) execFileSync('mkfifo', [join(dir, f)]);
    assert.deepEqual(
      loadDesiredDir(dir, dir).invalid.map((i) => [i.file, i.name]),
      [['mcp-litellm.yaml', null], ['mcp-ok.yaml', 'ok'], ['other.yaml', null]],
    );
    rmSync(dir, { recursive: true, force: true });
  });

  test('readDesiredFile refuses a symlink out of the desired dir as "outside", naming the link', () => {
    const dir = mkdtempSync(join(tmpdir(), 'desired-'));
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'elsewhere.yaml'), ok);
    symlinkSync(join(dir, 'elsewhere.yaml'), join(dir, 'd', 'mcp-out.yaml'));
    assert.throws(() => readDesiredFile(join(dir, 'd', 'mcp-out.yaml')), (e: unknown) => {
      assert.deepEqual([(e as { reason: string }).reason, (e as { path: string }).path], ['outside', join(dir, 'd', 'mcp-out.yaml')]);
      return true;
    });
    rmSync(dir, { recursive: true, force: true });
  });

  test('a dangling symlink is "cannot read: ... does not exist"; a file over 64 KiB is refused while reading', () => {
    const dir = mkdtempSync(join(tmpdir(), 'desired-'));
    symlinkSync(join(dir, 'gone.yaml.in'), join(dir, 'mcp-gone.yaml'));
    writeFileSync(join(dir, 'mcp-big.yaml'), `# ${'x'.repeat(MAX_YAML_BYTES)}\n`);
    assert.deepEqual(loadDesiredDir(dir, dir).invalid.flatMap((i) => i.issues.map(formatIssue)), [
      `mcp-big.yaml:1:1 cannot read: is larger than ${MAX_YAML_BYTES} bytes`,
      'mcp-gone.yaml:1:1 cannot read: does not exist',
    ]);
    assert.throws(() => readDesiredFile(join(dir, 'mcp-big.yaml')), /is larger than 65536 bytes/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('schema problems are short, located messages', () => {
  const H = 'image: a:1\ntransport: http\nport: 1\n';
  const all = (text: string): string[] => (parseDesiredFile(text, 'f.yaml', 'mcp-x.yaml').invalid?.issues ?? []).map(formatIssue);

  const cases: [string, string, string][] = [
    ['a string over its maximum', `${H}description: ${'d'.repeat(501)}\n`, 'f.yaml:4:14 description: at most 500 characters'],
    ['a list item over its maximum', `${H}networks: ["${'n'.repeat(129)}"]\n`, 'f.yaml:4:12 networks.0: at most 128 characters'],
    ['a number over its maximum', 'image: a:1\ntransport: http\nport: 70000\n', 'f.yaml:3:7 port: at most 65535'],
    ['a number under its minimum', 'image: a:1\ntransport: http\nport: 0\n', 'f.yaml:3:7 port: at least 1'],
    ['a string under its minimum length', `${H}security:\n  reason: short\n`, 'f.yaml:5:11 security.reason: at least 10 characters'],
    ['an empty list that needs items', `${H}command: []\n`, 'f.yaml:4:10 command: at least 1 items'],
    ['a nested number under its minimum', `${H}health:\n  intervalSeconds: 1\n`, 'f.yaml:5:20 health.intervalSeconds: at least 5'],
    ['a field of the right kind of union that fails inside', `${H}envFile: {path: 5}\n`, 'f.yaml:4:10 envFile: path: expected string'],
    ['a value matching no alternative of a union', `${H}envFile: 5\n`, 'f.yaml:4:10 envFile: expected string or object'],
    ['a list where a list is not expected', `${H}env: [a]\n`, 'f.yaml:4:6 env: expected record'],
    ['a missing nested field, at its parent', `${H}auth:\n  type: basic\n`, 'f.yaml:5:3 auth.secret: required'],
    ['a key that is not a plain string', `${H}? [a]\n: 1\n`, 'f.yaml:4:3 ?: a key must be a plain string'],
  ];
  for (const [what, text, expected] of cases) {
    test(`${what}: "${expected.slice(expected.indexOf(' ') + 1)}"`, () => {
      assert.deepEqual(all(text), [expected]);
    });
  }

  test('an empty string that must have text: "image: must not be empty" comes first', () => {
    assert.equal(all('image: ""\ntransport: http\nport: 1\n')[0], 'f.yaml:1:8 image: must not be empty');
  });

  test('an unknown key suggests the closest known key at its level, case-insensitively, only when it is close', () => {
    assert.deepEqual(all(`${H}IMAGE: x\n`), ['f.yaml:4:1 IMAGE: unknown key (did you mean "image"?)']);
    assert.deepEqual(all(`${H}security:\n  memroy: 1g\n`), ['f.yaml:5:3 security.memroy: unknown key (did you mean "memory"?)']);
    assert.deepEqual(all(`${H}health: {intervalSecs: 5}\n`), [
      'f.yaml:4:10 health.intervalSecs: unknown key (did you mean "intervalSeconds"?)',
    ]);
    assert.deepEqual(all(`${H}auth: {type: basic, secret: A, sekret: 1}\n`), [
      'f.yaml:4:32 auth.sekret: unknown key (did you mean "secret"?)',
    ]);
    // Up to a third of the word's length may differ (at least 2): 3 edits in 14 letters, not in 10 or 8.
    assert.deepEqual(all(`${H}descriptionxyz: 1\n`), ['f.yaml:4:1 descriptionxyz: unknown key (did you mean "description"?)']);
    assert.deepEqual(all(`${H}descripxyz: 1\nimagexyz: 1\nzzzzzz: 1\n`), [
      'f.yaml:4:1 descripxyz: unknown key',
      'f.yaml:5:1 imagexyz: unknown key',
      'f.yaml:6:1 zzzzzz: unknown key',
    ]);
    assert.deepEqual(all(`${H}envFile: {path: a, shared: true, x: 1}\n`), ['f.yaml:4:34 envFile.x: unknown key']);
  });

  const keys = (n: number): string => Array.from({ length: n }, (_, i) => `k${i}: 1\n`).join('');
  test('50 problems are all shown; from 51 on, the first 50 and a line saying more were left out', () => {
    assert.equal(all(`${H}${keys(50)}`).length, 50);
    const got = all(`${H}${keys(51)}`);
    assert.equal(got.length, 51);
    assert.equal(got[49], 'f.yaml:53:1 k49: unknown key');
    assert.equal(got[50], 'f.yaml:1:1 and more problems (1+ not shown)');
  });

  test('schema problems stop being collected after 51, syntax problems are counted all', () => {
    const badValues = `${H}env:\n${Array.from({ length: 60 }, (_, i) => `  A${i}: [1]\n`).join('')}`;
    assert.equal(all(badValues).at(-1), 'f.yaml:1:1 and more problems (1+ not shown)');
    const duplicates = `${H}env:\n${'  A: 1\n'.repeat(60)}`;
    assert.equal(all(duplicates).at(-1), 'f.yaml:1:1 and more problems (9+ not shown)');
  });
});

describe('what a StrykerJS run of load.ts found unchecked', () => {
  test('a file name is exactly mcp-<name>.yaml or .yml: text before or after it makes no server', () => {
    for (const fileName of ['xmcp-x.yaml', 'mcp-x.yaml.txt']) {
      assert.deepEqual(errors(ok, fileName), [`${F}:1:1 file name must be mcp-<name>.yaml`], fileName);
    }
  });

  test('an editor suffix only counts at the end of the name: mcp-a.bak.yaml is desired state', () => {
    assert.equal(isIgnoredFileName('mcp-a.bak.yaml'), false);
    assert.equal(isIgnoredFileName('mcp-a.orig.yml'), false);
  });

  test('a name: equal to the file name is valid', () => {
    assert.equal(parseDesiredFile(`name: x\n${ok}`, F, 'mcp-x.yaml').invalid, null);
  });

  test('a url: server has no image, so no :latest warning', () => {
    assert.deepEqual(parseDesiredFile('transport: http\nurl: https://h/mcp\n', F, 'mcp-x.yaml').server?.warnings, []);
  });

  test('file problems are errors; a floating image is a warning', () => {
    const severities = (text: string, fileName = 'mcp-x.yaml'): string[] => {
      const r = parseDesiredFile(text, F, fileName);
      return [...(r.invalid?.issues ?? []), ...(r.server?.warnings ?? [])].map((i) => `${i.severity} ${i.message}`);
    };
    assert.deepEqual(severities(ok, 'server.yaml'), ['error file name must be mcp-<name>.yaml']);
    assert.deepEqual(severities('- a\n'), ['error expected a mapping of settings (see schema/desired-state.schema.json)']);
    assert.deepEqual(severities(`name: y\n${ok}`), ['error "y" does not match the file name (expected "x")']);
    assert.deepEqual(severities('image: a\ntransport: http\nport: 1\n'), [
      'warning "a" floats (:latest); pin a version tag or digest so a pull cannot change what runs',
    ]);
  });

  test('where each field is, for errors found later ' +
    '(env file, auth, transport, url, build, package, networks, user, data, mounts, tools)', () => {
    const text = [
      'image: a:1', 'transport: http', 'port: 1', 'envFile:', '  path: mcp-y.env', '  shared: true', 'auth:', '  type: bearer_token',
      '  secret: TOKEN', 'networks: [lan]', 'security:', '  user: "1000"', 'data: /data', 'mounts: ["a:/a", "b:/b"]', 'tools:',
      '  allow: [x, y]', '  deny: [z]', '  rename: {x: xx}', '  description: {y: why}', '',
    ].join('\n');
    assert.deepEqual(parseDesiredFile(text, F, 'mcp-x.yaml').server?.positions, {
      envFile: { line: 5, col: 3 }, 'envFile.path': { line: 5, col: 9 }, 'auth.secret': { line: 9, col: 11 },
      transport: { line: 2, col: 12 },
      url: { line: 1, col: 1 }, build: { line: 1, col: 1 }, package: { line: 1, col: 1 },
      'build.context': { line: 1, col: 1 }, 'build.dockerfile': { line: 1, col: 1 }, networks: { line: 10, col: 11 },
      'security.user': { line: 12, col: 9 }, data: { line: 13, col: 7 },
      'mounts.0': { line: 14, col: 10 }, 'mounts.1': { line: 14, col: 18 }, tools: { line: 16, col: 3 },
      'tools.allow.0': { line: 16, col: 11 },
      'tools.allow.1': { line: 16, col: 14 }, 'tools.deny.0': { line: 17, col: 10 }, 'tools.rename.x': { line: 18, col: 15 },
      'tools.description.y': { line: 19, col: 20 },
    });
    assert.deepEqual(
      parseDesiredFile('transport: http\nurl: https://h/mcp\n', F, 'mcp-x.yaml').server?.positions['url'],
      { line: 2, col: 6 },
    );
    const built = parseDesiredFile('transport: stdio\nbuild:\n  context: app\n  dockerfile: Dockerfile.mcp\n', F, 'mcp-x.yaml')
      .server?.positions;
    assert.deepEqual(
      [built?.['build'], built?.['build.context'], built?.['build.dockerfile']],
      [{ line: 3, col: 3 }, { line: 3, col: 12 }, { line: 4, col: 15 }],
    );
    assert.deepEqual(
      parseDesiredFile('transport: stdio\npackage: npm:a@1.0.0\n', F, 'mcp-x.yaml').server?.positions['package'],
      { line: 2, col: 10 },
    );
  });

  test('a missing desired dir has no servers and no invalid files', () => {
    const dir = '/nonexistent/desired-state';
    assert.deepEqual(loadDesiredDir(dir), { dir, dirState: 'missing', servers: [], invalid: [] });
  });

  test('an unreadable file and a name defined twice are errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-sev-'));
    try {
      writeFileSync(join(dir, 'mcp-a.yaml'), ok);
      writeFileSync(join(dir, 'mcp-a.yml'), ok);
      symlinkSync(join(dir, 'gone'), join(dir, 'mcp-b.yaml'));
      const load = loadDesiredDir(dir, dir);
      assert.deepEqual(
        load.invalid.flatMap((f) => f.issues.map((i) => `${f.file} ${i.severity}`)),
        ['mcp-b.yaml error', 'mcp-a.yaml error', 'mcp-a.yml error'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
