import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { testSettings } from '../testing/fixtures.js';
import { loadDesiredDir } from '../desired/load.js';
import { checkServerInputs, resolveServers } from '../desired/resolve.js';
import { CATALOG_DIR, CatalogError, listTemplates, planAdd, templateNames, writeAdd } from './catalog.js';

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../main.js');
const REPO = resolve(CATALOG_DIR, '..');
const tmpRoots: string[] = [];
after(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

/** A fresh projects root with its desired dir and an empty secrets dir, and settings pointing there. */
function stack(): { root: string; secrets: string; desired: string; settings: ReturnType<typeof testSettings> } {
  const root = mkdtempSync(join(tmpdir(), 'catalog-'));
  tmpRoots.push(root);
  const secrets = join(root, 'secrets');
  const desired = join(root, 'mcp', 'desired-state');
  mkdirSync(desired, { recursive: true });
  mkdirSync(secrets, { mode: 0o700 });
  const settings = testSettings({ MCP_RECONCILER_PROJECTS_ROOT: join(root, 'mcp'), MCP_RECONCILER_SECRETS_DIR: secrets });
  return { root, secrets, desired, settings };
}

/** Every file and folder below `dir` with its content, to prove a refusal wrote nothing. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((p) => {
      const abs = join(dir, p);
      return statSync(abs).isDirectory() ? `${p}/` : `${p}=${readFileSync(abs, 'utf8')}`;
    });
}

const REQUIRED = ['postgresql', 'memory', 'filesystem', 'time', 'fetch', 'sequential-thinking', 'everything'];

describe('the catalog as data', () => {
  test('it has at least the templates issue 17 names', () => {
    const names = templateNames();
    for (const t of REQUIRED) assert.ok(names.includes(t), t);
  });
  test('catalog/ holds only templates, their folders and _catalog.yaml, whose entries are templates; the package ships it', () => {
    const names = templateNames();
    for (const e of readdirSync(CATALOG_DIR)) {
      const ok = e === '_catalog.yaml' || names.includes(e.replace(/\.yaml$/, ''));
      assert.ok(ok, `${e} is neither a template, a template's folder nor _catalog.yaml`);
    }
    const meta = parseYaml(readFileSync(join(CATALOG_DIR, '_catalog.yaml'), 'utf8')) as Record<string, unknown>;
    for (const k of Object.keys(meta)) assert.ok(names.includes(k), `_catalog.yaml names ${k}, which is no template`);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { files: string[] };
    assert.ok(pkg.files.includes('catalog'), 'package.json "files" ships catalog/');
  });
});

describe('every template, written by add, loads through the daemon\'s own loader and resolver', () => {
  const s = stack();
  // Each template twice: under its own name and under another one, all in one desired dir.
  const written = templateNames().flatMap((t) => [
    { t, name: t },
    { t, name: `${t}-2` },
  ]);
  for (const w of written) writeAdd(planAdd(s.settings, w.t, w.name));
  const load = loadDesiredDir(s.desired);

  test('no file is invalid and every one is loaded, under the name it was given', () => {
    assert.equal(load.dirState, 'ok');
    assert.deepEqual(load.invalid, []);
    assert.deepEqual(load.servers.map((x) => x.name).sort(), written.map((w) => w.name).sort());
  });
  test('host inputs check out (mount sources exist inside the server folder), as validate checks them', () => {
    for (const d of load.servers) assert.deepEqual(checkServerInputs(s.settings, d), [], d.name);
  });
  test('each resolves to a container model, the way a pass does', () => {
    const r = resolveServers(s.settings, load.servers);
    assert.deepEqual(r.failures, []);
    assert.equal(r.models.length, written.length);
  });
  test('the only warnings are the floating :latest tags the templates own up to', () => {
    for (const d of load.servers) {
      for (const w of d.warnings) assert.equal(w.path, 'image', `${d.name}: ${w.message}`);
    }
  });
  test('names inside the files follow --name (DBHub\'s Host allow-list, the volume comment)', () => {
    const pg = readFileSync(join(s.desired, 'mcp-postgresql-2.yaml'), 'utf8');
    assert.match(pg, /^ {2}- mcp-postgresql-2,localhost,127\.0\.0\.1$/m);
    assert.match(readFileSync(join(s.settings.projectsRoot, 'postgresql-2', 'dbhub.toml'), 'utf8'), /mcp-postgresql-2\.env/);
  });
  test('no secret and no secrets file is written', () => {
    assert.deepEqual(readdirSync(s.secrets), []);
  });
  test('postgresql: read-only comes from the TOML, mounted; filesystem: its folder is mounted :ro', () => {
    const toml = readFileSync(join(s.settings.projectsRoot, 'postgresql', 'dbhub.toml'), 'utf8');
    assert.match(toml, /^readonly = true\b/m);
    const fs = load.servers.find((x) => x.name === 'filesystem')!;
    assert.deepEqual(fs.spec.mounts, ['files:/projects/files:ro']);
    assert.ok(statSync(join(s.settings.projectsRoot, 'filesystem', 'files')).isDirectory());
  });
});

describe('the reason comments are in the written files', () => {
  const s = stack();
  const identity = new Set(['name', 'description', 'transport']);
  for (const t of templateNames()) {
    test(`${t}: every setting and every env entry carries a comment on its line; image says how it is pinned`, () => {
      writeAdd(planAdd(s.settings, t));
      const text = readFileSync(join(s.desired, `mcp-${t}.yaml`), 'utf8');
      const lines = text.split('\n');
      const keys = Object.keys(parseYaml(text) as Record<string, unknown>);
      for (const k of keys.filter((x) => !identity.has(x))) {
        const at = lines.findIndex((l) => l.startsWith(`${k}:`));
        if (lines[at]!.includes('#')) continue;
        // A block (env:, mounts:) may give the reason on each of its entries instead.
        const block = lines.slice(at + 1).filter((_, i, rest) => rest.slice(0, i + 1).every((l) => l.startsWith(' ')));
        assert.ok(block.length > 0, `${t}: "${k}:" has no reason comment`);
        for (const l of block.filter((x) => /^ {2}(- |[A-Za-z_]\w*:)/.test(x))) {
          assert.ok(l.includes('#'), `${t}: ${k}: "${l}" has no reason comment`);
        }
      }
      const env = (parseYaml(text) as { env?: Record<string, unknown> }).env ?? {};
      for (const k of Object.keys(env)) {
        assert.ok(lines.find((l) => l.startsWith(`  ${k}:`))?.includes('#'), `${t}: env ${k} has no reason comment`);
      }
      const image = lines.find((l) => l.startsWith('image:'))!;
      // A floating tag must say so: nothing that cannot be checked offline passes as pinned.
      if (/:latest\s/.test(image)) assert.match(image, /version tags.*offline/);
      else assert.match(image, /pinned/);
      assert.doesNotMatch(text, /\{\{|\}\}/, 'no placeholder left');
    });
  }
});

describe('add refuses to replace anything and refuses names the desired-file rules refuse', () => {
  test('an existing desired file (.yaml or .yml), or server folder: exists, nothing written', () => {
    const s = stack();
    writeAdd(planAdd(s.settings, 'postgresql'));
    writeFileSync(join(s.desired, 'mcp-time.yml'), 'mine\n');
    mkdirSync(join(s.settings.projectsRoot, 'pg'));
    const before = snapshot(s.root);
    for (const [t, name, file] of [
      ['postgresql', 'postgresql', 'mcp-postgresql.yaml exists'],
      ['time', 'time', 'mcp-time.yml exists'],
      ['postgresql', 'pg', '/pg exists'],
    ] as const) {
      const refused = (e: unknown): boolean => e instanceof CatalogError && e.kind === 'exists' && e.message.includes(file);
      assert.throws(() => writeAdd(planAdd(s.settings, t, name)), refused);
    }
    assert.deepEqual(snapshot(s.root), before);
  });
  test('a desired file that appears between plan and write is not replaced, and the folder made for it is removed', () => {
    const s = stack();
    const plan = planAdd(s.settings, 'postgresql');
    writeFileSync(plan.desiredFile, 'theirs\n');
    assert.throws(() => writeAdd(plan), (e: unknown) => e instanceof CatalogError && e.kind === 'exists');
    assert.equal(readFileSync(plan.desiredFile, 'utf8'), 'theirs\n');
    assert.deepEqual(readdirSync(s.settings.projectsRoot), ['desired-state']);
    assert.deepEqual(readdirSync(s.desired), ['mcp-postgresql.yaml']);
  });
  test('a symlink named like the desired file or the server folder (dangling or not) is refused; nothing written through it', () => {
    const s = stack();
    const elsewhere = join(s.root, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(join(elsewhere, 'target.yaml'), join(s.desired, 'mcp-time.yaml'));
    symlinkSync(elsewhere, join(s.settings.projectsRoot, 'postgresql'));
    const exists = (e: unknown): boolean => e instanceof CatalogError && e.kind === 'exists';
    assert.throws(() => planAdd(s.settings, 'time'), exists);
    assert.throws(() => planAdd(s.settings, 'postgresql'), exists);
    assert.deepEqual(readdirSync(elsewhere), []);
  });
  test('symlinks planted between plan and write: refused, nothing written through them, nothing of this call left', () => {
    const s = stack();
    const elsewhere = join(s.root, 'elsewhere');
    mkdirSync(elsewhere);
    const folderPlan = planAdd(s.settings, 'postgresql');
    symlinkSync(elsewhere, folderPlan.folder!);
    assert.throws(() => writeAdd(folderPlan), (e: unknown) => e instanceof CatalogError && e.kind === 'exists');
    const filePlan = planAdd(s.settings, 'time');
    symlinkSync(join(elsewhere, 'target.yaml'), filePlan.desiredFile);
    assert.throws(() => writeAdd(filePlan), (e: unknown) => e instanceof CatalogError && e.kind === 'exists');
    assert.deepEqual(readdirSync(elsewhere), []);
    assert.deepEqual(readdirSync(s.desired).sort(), ['mcp-time.yaml']);
    assert.ok(lstatSync(filePlan.desiredFile).isSymbolicLink());
  });
  test('a failure midway (the desired dir gone, a file that cannot be written) leaves no half-written server folder', () => {
    const s = stack();
    const plan = planAdd(s.settings, 'postgresql');
    rmSync(s.desired, { recursive: true });
    assert.throws(() => writeAdd(plan), /ENOENT/);
    assert.deepEqual(readdirSync(s.settings.projectsRoot), []);
    mkdirSync(s.desired);
    const blocked = planAdd(s.settings, 'postgresql');
    // The second file would go below the first, which is a file: refused after the folder and one file exist.
    blocked.files = [{ path: 'a', text: 'x\n' }, { path: 'a/b', text: 'y\n' }];
    assert.throws(() => writeAdd(blocked), /EEXIST|ENOTDIR/);
    assert.deepEqual(readdirSync(s.settings.projectsRoot), ['desired-state']);
    assert.deepEqual(readdirSync(s.desired), []);
  });
  for (const umask of [0o000, 0o077]) {
    test(`files are written 0644 and folders 0755 whatever the umask (${umask.toString(8).padStart(3, '0')})`, () => {
      const s = stack();
      const was = process.umask(umask);
      let written: string[];
      try {
        written = writeAdd(planAdd(s.settings, 'filesystem', 'notes'));
      } finally {
        process.umask(was);
      }
      const modes = written.map((p) => `${p.slice(s.root.length)} ${(statSync(p).mode & 0o777).toString(8)}`);
      assert.deepEqual(modes, ['/mcp/desired-state/mcp-notes.yaml 644', '/mcp/notes/files/ 755']);
      assert.equal(statSync(join(s.settings.projectsRoot, 'notes')).mode & 0o777, 0o755);
    });
  }
  const bad: Array<[string, RegExp]> = [
    ['litellm', /reserved for the stack itself/],
    ['edge', /reserved/],
    ['desired-state', /reserved/],
    ['litellm-x', /reserved/],
    ['Upper', /lowercase letters/],
    ['../x', /lowercase letters/],
    ['a/b', /lowercase letters/],
    ['-x', /lowercase letters/],
    ['x\ny: 1', /file name must be mcp-<name>\.yaml/],
    ['a'.repeat(41), /at most 40 characters/],
    ['', /lowercase letters|file name must be/],
    ['.', /lowercase letters/],
  ];
  for (const [name, says] of bad) {
    test(`--name ${JSON.stringify(name)}: bad-name, nothing written`, () => {
      const s = stack();
      const before = snapshot(s.root);
      const refused = (e: unknown): boolean => e instanceof CatalogError && e.kind === 'bad-name' && says.test(e.message);
      assert.throws(() => planAdd(s.settings, 'postgresql', name), refused);
      assert.deepEqual(snapshot(s.root), before);
    });
  }
  test('a missing desired dir is an error naming install, not a folder made on the fly', () => {
    const s = stack();
    rmSync(s.desired, { recursive: true });
    assert.throws(() => planAdd(s.settings, 'time'), /desired dir .* does not exist \(`mcp-reconciler install` creates it\)/);
  });
});

describe('mcp-reconciler add (the CLI in a child process)', () => {
  const s = stack();
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: s.root,
    XDG_CONFIG_HOME: join(s.root, 'cfg'),
    MCP_RECONCILER_PROJECTS_ROOT: s.settings.projectsRoot,
    MCP_RECONCILER_SECRETS_DIR: s.secrets,
  };
  const run = (...args: string[]): { code: number | null; out: string; err: string } => {
    const r = spawnSync(process.execPath, [MAIN, 'add', ...args], { encoding: 'utf8', env, cwd: s.root, timeout: 20_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  test('add --list: one line per template, its name and description, exit 0', () => {
    const r = run('--list');
    assert.equal(r.code, 0, r.err);
    const expected = listTemplates().map((t) => `${t.template.padEnd(19)}  ${t.description}`);
    assert.deepEqual(r.out.trimEnd().split('\n'), expected);
    assert.match(r.out, /^postgresql +Read-only SQL on your Postgres \(DBHub\)$/m);
    assert.match(r.out, /^filesystem +Read-only access to one folder of files/m);
  });
  test('add postgresql: writes the desired file and the TOML, prints the env-file key to add, exit 0', () => {
    const r = run('postgresql');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^wrote .*\/desired-state\/mcp-postgresql\.yaml$/m);
    assert.match(r.out, /^wrote .*\/postgresql\/dbhub\.toml$/m);
    assert.ok(r.out.includes(`put into ${join(s.secrets, 'mcp-postgresql.env')} (mode 600; it does not exist yet)`), r.out);
    assert.match(r.out, /^ {2}DSN=postgres:\/\/<read-only role>:<password>@<host>:5432\/<database>$/m);
    assert.deepEqual(readdirSync(s.secrets), []);
  });
  test('again: refused with the path, exit 1, the file unchanged', () => {
    const file = join(s.desired, 'mcp-postgresql.yaml');
    const before = readFileSync(file, 'utf8');
    const r = run('postgresql');
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.ok(r.err.includes(`${file} exists; not replaced`), r.err);
    assert.equal(readFileSync(file, 'utf8'), before);
  });
  const usage: Array<[string[], RegExp]> = [
    [['time', '--name', 'litellm'], /--name litellm: "litellm" is reserved for the stack itself/],
    [['time', '--name', '../etc'], /--name \.\.\/etc: a server name is lowercase/],
    [['nope'], /Allowed choices are everything, fetch, /],
    [[], /give a template \(add --list shows them\)/],
    [['--list', 'time'], /--list takes no template and no --name/],
  ];
  for (const [args, says] of usage) {
    test(`add ${args.join(' ')}: usage error, exit 2, nothing on stdout`, () => {
      const r = run(...args);
      assert.equal(r.code, 2, r.err);
      assert.equal(r.out, '');
      assert.match(r.err, says);
    });
  }
});
