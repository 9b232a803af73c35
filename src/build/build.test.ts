import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildContextError, contextHash, dockerignore, readContext, readContextMembers, tarOf } from './context.js';
import { baseImagesOf, packageDockerfile } from './dockerfile.js';
import { packageSpecProblem, parsePackageSpec } from '../desired/schema.js';
import { parseDesiredFile } from '../desired/load.js';
import { buildSpecOf, checkServerInputs, resolveServer } from '../desired/resolve.js';
import { loadSettings } from '../config/settings.js';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ctx-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

/** The issues `validate` prints for a desired file's text (schema stage). */
function issues(yaml: string): string[] {
  const r = parseDesiredFile(yaml, '/d/mcp-x.yaml', 'mcp-x.yaml');
  return (r.invalid?.issues ?? []).map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
}

describe('package: specs', () => {
  test('exact versions parse; scoped npm names and PEP 440 versions included', () => {
    assert.deepEqual(parsePackageSpec('npm:@modelcontextprotocol/server-sequential-thinking@2026.8.31'), {
      ecosystem: 'npm', name: '@modelcontextprotocol/server-sequential-thinking', version: '2026.8.31',
    });
    assert.deepEqual(parsePackageSpec('npm:left-pad@1.3.0-beta.2'), { ecosystem: 'npm', name: 'left-pad', version: '1.3.0-beta.2' });
    assert.deepEqual(parsePackageSpec('pypi:mcp-server-time==2026.10.19'), {
      ecosystem: 'pypi', name: 'mcp-server-time', version: '2026.10.19',
    });
    assert.deepEqual(parsePackageSpec('pypi:Foo.Bar==1.0rc1.post2'), { ecosystem: 'pypi', name: 'Foo.Bar', version: '1.0rc1.post2' });
  });

  test('unpinned or malformed: refused with the fix', () => {
    const cases: [string, RegExp][] = [
      ['npm:left-pad', /^not pinned: write an exact version, npm:left-pad@1\.2\.3/],
      ['npm:left-pad@^1.3.0', /^not pinned: "\^1\.3\.0" is a range or tag, not an exact version; write npm:left-pad@1\.2\.3/],
      ['npm:left-pad@latest', /^not pinned: "latest" is a range or tag/],
      ['npm:@scope/x@1.x', /^not pinned: "1\.x" is a range or tag/],
      ['npm:Left_Pad@1.0.0', /is not an npm package name/],
      ['pypi:mcp-server-time', /^not pinned: write an exact version, pypi:mcp-server-time==1\.2\.3/],
      ['pypi:mcp-server-time>=1.0', /^not pinned: ">=1\.0" is not ==<exact version>/],
      ['pypi:mcp-server-time==1.*', /^not pinned: "==1\.\*" is not ==<exact version>/],
      ['pypi:-bad==1.0', /is not a PyPI project name/],
      ['cargo:x@1.0.0', /^npm:<name>@<exact version> or pypi:<name>==<exact version>$/],
      ['npm:x@1.0.0 ', /no spaces/],
    ];
    for (const [spec, re] of cases) assert.match(packageSpecProblem(spec) ?? 'accepted', re, spec);
  });

  test('the desired file: image:, build:, package: exclusive; package located at its value', () => {
    assert.deepEqual(issues('transport: stdio\n'), [
      '1:1 image: required (or build: for a Dockerfile folder, package: for an npm/PyPI package, url: for a server that runs elsewhere)',
    ]);
    assert.deepEqual(issues('image: a:1\npackage: npm:x@1.0.0\ntransport: stdio\n'), [
      '2:10 package: image: and package: both name what runs: keep one',
    ]);
    assert.deepEqual(issues('build: .\nimage: a:1\ntransport: stdio\n'), ['1:8 build: image: and build: both name what runs: keep one']);
    assert.deepEqual(issues('package: npm:x@~1.0.0\ntransport: stdio\n'), [
      '1:10 package: not pinned: "~1.0.0" is a range or tag, not an exact version; ' +
        'write npm:x@1.2.3 (`npm view x version` shows the newest)',
    ]);
    assert.deepEqual(issues('build: ../other\ntransport: stdio\n'), [
      '1:8 build: must stay inside the server folder <projectsRoot>/<name>/ (no ..)',
    ]);
    assert.deepEqual(issues('build: {context: /srv/x}\ntransport: stdio\n'), [
      '1:18 build.context: a path relative to the server folder <projectsRoot>/<name>/, not an absolute one',
    ]);
    assert.deepEqual(issues('build: {context: ., dockerfile: ../Dockerfile}\ntransport: stdio\n'), [
      '1:33 build.dockerfile: must stay inside the server folder <projectsRoot>/<name>/ (no ..)',
    ]);
    assert.deepEqual(issues('url: https://x.example/mcp\nbuild: .\ntransport: http\n'), [
      '2:8 build: a url: server runs elsewhere and has no container: build does not apply (drop it or drop url:)',
    ]);
    assert.deepEqual(issues('package: pypi:mcp-server-time==2026.10.19\ntransport: stdio\n'), []);
  });
});

describe('generated Dockerfiles', () => {
  test('npm: the exact version on the base, the single bin picked at build time, not root', () => {
    const df = packageDockerfile({ ecosystem: 'npm', name: '@s/x', version: '1.2.3' }, 'local/node-pkg:22', true);
    assert.match(df, /^FROM local\/node-pkg:22$/m);
    assert.match(df, /npm install --omit=dev .* '@s\/x@1\.2\.3' && node -e /);
    assert.match(df, /several bins/);
    assert.match(df, /^USER 1000:1000$/m);
    assert.match(df, /^CMD \["\/app\/mcp-entry"\]$/m);
    const told = packageDockerfile({ ecosystem: 'npm', name: '@s/x', version: '1.2.3' }, 'node:22-slim', false);
    assert.doesNotMatch(told, /CMD|node -e/, 'command: given: no entry point is looked for');
    assert.match(told, /^ENV PATH=\/app\/node_modules\/\.bin:\$PATH$/m);
  });

  test('pypi: a venv, the exact version, the console script named like the package or a message naming command:', () => {
    const df = packageDockerfile({ ecosystem: 'pypi', name: 'mcp-server-time', version: '2026.10.19' }, 'python:3.12-slim', true);
    assert.match(df, /^FROM python:3\.12-slim$/m);
    assert.match(df, /python3 -m venv \/opt\/mcp && \/opt\/mcp\/bin\/pip install .*'mcp-server-time==2026\.10\.19'/);
    assert.match(df, /no console script named mcp-server-time; set command:/);
    assert.match(df, /^CMD \["\/opt\/mcp\/bin\/mcp-server-time"\]$/m);
  });

  test('base images of a Dockerfile: ARG defaults and build arguments substituted, stages and scratch left out', () => {
    const df =
      'ARG NODE_BASE=node:22-slim\nARG X\nFROM ${NODE_BASE} AS build\nRUN x\nFROM build\nFROM --platform=linux/amd64 $X\nFROM scratch\n';
    assert.deepEqual(baseImagesOf(df, {}), ['node:22-slim']);
    assert.deepEqual(baseImagesOf(df, { NODE_BASE: 'local/node-pkg:22', X: 'alpine:3' }), ['local/node-pkg:22', 'alpine:3']);
  });
});

describe('build contexts', () => {
  test('.dockerignore: patterns, folders, ** and ! exceptions (last match wins)', () => {
    const ignored = dockerignore('# c\nnode_modules\n*.log\n**/secret.txt\n!keep.log\n/dist/\n');
    assert.equal(ignored('node_modules'), true);
    assert.equal(ignored('node_modules/a/b.js'), true);
    assert.equal(ignored('a.log'), true);
    assert.equal(ignored('keep.log'), false);
    assert.equal(ignored('sub/a.log'), false, '* does not cross folders');
    assert.equal(ignored('a/b/secret.txt'), true);
    assert.equal(ignored('dist/x'), true);
    assert.equal(ignored('src/index.js'), false);
  });

  test('the hash follows content, the executable bit and names; ignored files and mtimes do not count', () => {
    const dir = folder({ Dockerfile: 'FROM x\n', 'src/index.js': 'a', '.dockerignore': 'node_modules\n', 'node_modules/m.js': 'm' });
    try {
      const opts = { maxBytes: 1 << 20, dockerfile: 'Dockerfile' };
      const h = (): string => contextHash(readContext(dir, dir, opts), {});
      const first = h();
      assert.deepEqual(readContext(dir, dir, opts).map((e) => e.path), ['.dockerignore', 'Dockerfile', 'src', 'src/index.js']);
      writeFileSync(join(dir, 'node_modules/m.js'), 'changed');
      assert.equal(h(), first, 'ignored');
      writeFileSync(join(dir, 'src/index.js'), 'a');
      assert.equal(h(), first, 'same content rewritten');
      writeFileSync(join(dir, 'src/index.js'), 'b');
      const second = h();
      assert.notEqual(second, first);
      execFileSync('chmod', ['+x', join(dir, 'src/index.js')]);
      assert.notEqual(h(), second);
      assert.notEqual(contextHash(readContext(dir, dir, opts), { args: { A: '1' } }), h(), 'build arguments count');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refused: a symlink out, a FIFO, no Dockerfile, too large, a context outside the server folder', () => {
    const root = folder({ 'app/Dockerfile': 'FROM x\n', 'app/a': 'x'.repeat(100), 'other/secret': 's' });
    const opts = { maxBytes: 1 << 20, dockerfile: 'Dockerfile' };
    try {
      const app = join(root, 'app');
      symlinkSync('../other/secret', join(app, 'link'));
      assert.throws(() => readContext(root, app, opts), /app\/link is a symlink that leads outside the build context/);
      rmSync(join(app, 'link'));
      symlinkSync('a', join(app, 'inside'));
      assert.deepEqual(readContext(root, app, opts).map((e) => `${e.path}:${e.kind}`), ['Dockerfile:file', 'a:file', 'inside:symlink']);
      execFileSync('mkfifo', [join(app, 'fifo')]);
      assert.throws(() => readContext(root, app, opts), /app\/fifo is not a regular file, folder or symlink/);
      rmSync(join(app, 'fifo'));
      assert.throws(() => readContext(root, app, { ...opts, maxBytes: 50 }), /is larger than 50 bytes \(settings build\.maxContextBytes\)/);
      assert.throws(() => readContext(root, app, { ...opts, dockerfile: 'Other' }), /no Other in/);
      symlinkSync('/etc', join(root, 'etc'));
      const outside = (e: unknown): boolean => e instanceof BuildContextError && /resolves outside the server folder/.test(e.message);
      assert.throws(() => readContext(root, join(root, 'etc'), opts), outside);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('the tar Docker receives lists every member with its mode (tar -tv reads it)', () => {
    const dir = folder({ Dockerfile: 'FROM x\n', [`src/${'d'.repeat(90)}/${'f'.repeat(60)}.js`]: 'long path' });
    try {
      symlinkSync('Dockerfile', join(dir, 'link'));
      const { members } = readContextMembers(dir, dir, { maxBytes: 1 << 20, dockerfile: 'Dockerfile' });
      const file = join(dir, 'ctx.tar');
      writeFileSync(file, tarOf(members));
      const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' }).trim().split('\n');
      assert.equal(listing.length, 5);
      assert.match(listing[0]!, /^-rw-r--r-- .* 7 .* Dockerfile$/);
      assert.match(listing[1]!, /^lrwxrwxrwx .* link -> Dockerfile$/);
      assert.match(listing[4]!, /src\/d{90}\/f{60}\.js$/);
      assert.equal(execFileSync('tar', ['-xOf', file, `src/${'d'.repeat(90)}/${'f'.repeat(60)}.js`], { encoding: 'utf8' }), 'long path');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('resolving build: and package: servers', () => {
  const project = (): { root: string; settings: ReturnType<typeof loadSettings> } => {
    const root = mkdtempSync(join(tmpdir(), 'proj-'));
    mkdirSync(join(root, 'secrets'), { mode: 0o700 });
    const settings = loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: root, MCP_RECONCILER_SECRETS_DIR: join(root, 'secrets') } });
    return { root, settings };
  };
  const desired = (yaml: string) => parseDesiredFile(yaml, '/d/mcp-hello.yaml', 'mcp-hello.yaml').server!;

  test('the tag is the context hash under the instance; the container runs it; a change of a file changes both', () => {
    const { root, settings } = project();
    try {
      mkdirSync(join(root, 'hello', 'src'), { recursive: true });
      writeFileSync(join(root, 'hello', 'Dockerfile'), 'ARG NODE_BASE=node:22-slim\nFROM ${NODE_BASE}\n');
      writeFileSync(join(root, 'hello', 'src', 'index.js'), 'one');
      const d = desired('build: .\ntransport: stdio\n');
      const m = resolveServer(settings, d);
      assert.match(m.container!.image, /^mcp-reconciler-build\/default\/hello:[0-9a-f]{20}$/);
      assert.equal(m.build?.kind, 'dir');
      assert.deepEqual(m.build?.baseImages, ['node:22-slim']);
      assert.equal(m.build?.labels['io.mcp-reconciler.server'], 'hello');
      writeFileSync(join(root, 'hello', 'src', 'index.js'), 'two');
      const m2 = resolveServer(settings, d);
      assert.notEqual(m2.container!.image, m.container!.image);
      assert.notEqual(m2.specHash, m.specHash, 'a new tag recreates the container');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a package: server: generated Dockerfile on packages.nodeBase (imageOverrides apply), stdin open for stdio', () => {
    const { root, settings } = project();
    try {
      const s = {
        ...settings,
        packages: { nodeBase: 'node:22-slim', pythonBase: 'python:3.12-slim' },
        imageOverrides: { 'node:22-slim': 'local/node-pkg:22' },
      };
      const m = resolveServer(s, desired('package: npm:@modelcontextprotocol/server-sequential-thinking@2026.8.31\ntransport: stdio\n'));
      assert.equal(m.build?.kind, 'npm');
      assert.deepEqual(m.build?.baseImages, ['local/node-pkg:22']);
      assert.match(m.build?.dockerfileText ?? '', /^FROM local\/node-pkg:22$/m);
      assert.equal(m.container?.stdin, true);
      assert.equal(m.container?.cmd, undefined, "the image's CMD runs the entry point");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('validate locates missing folders and Dockerfiles at build / build.dockerfile', () => {
    const { root, settings } = project();
    try {
      const at = (yaml: string): string[] =>
        checkServerInputs(settings, desired(yaml)).map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
      assert.match(at('build: app\ntransport: stdio\n').join(), /^1:8 build: .*\/hello\/app does not exist$/);
      mkdirSync(join(root, 'hello', 'app'), { recursive: true });
      assert.match(at('build: app\ntransport: stdio\n').join(), /^1:8 build: no Dockerfile in .*\/hello\/app$/);
      const custom = at('build: {context: app, dockerfile: Dockerfile.mcp}\ntransport: stdio\n').join();
      assert.match(custom, /^1:35 build.dockerfile: no Dockerfile.mcp in /);
      symlinkSync(tmpdir(), join(root, 'hello', 'out'));
      assert.match(at('build: out\ntransport: stdio\n').join(), /^1:8 build: .*\/hello\/out resolves outside the server folder /);
      assert.equal(buildSpecOf(settings, desired('image: a:1\ntransport: stdio\n')), null);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

test('export refuses build: and package: servers at their field (the image exists only on this machine)', async () => {
  const { commonRefusals } = await import('../export/pod.js');
  const cases = [['package: npm:x@1.0.0\ntransport: stdio\n', '1:10 package'], ['transport: stdio\nbuild: .\n', '2:8 build']] as const;
  for (const [yaml, at] of cases) {
    const desired = parseDesiredFile(yaml, '/d/mcp-x.yaml', 'mcp-x.yaml').server!;
    const r = commonRefusals({ desired, host: {} as never });
    assert.deepEqual(r.map((x) => `${x.line}:${x.col} ${x.path}`), [at]);
    assert.match(r[0]!.message, /push it to a registry the cluster pulls from and name it under image:/);
  }
});
