import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliEnv } from '../testing/fixtures.js';

/** The real CLI in a child process, stdout and stderr apart: errors belong on stderr, never an empty config on stdout. */
const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../main.js');
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'litellm-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const secrets = join(dir, 'secrets');
mkdirSync(secrets, { mode: 0o700 });
const bad = join(dir, 'bad');
mkdirSync(bad);
writeFileSync(join(bad, 'mcp-pg.yaml'), 'image: pg-mcp:1\ntransport: http\nport: nope\n');
const env = cliEnv(dir, secrets);

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env, cwd: dir, timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('litellm-config prints its errors on stderr and never an empty mcp_servers for a dir it cannot read', () => {
  test('a missing desired dir is exit 1 with the dir named on stderr and nothing on stdout', () => {
    const r = run(['litellm-config', '--desired', join(dir, 'nonexistent')]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /nonexistent: desired directory does not exist/);
  });

  test('a file instead of a dir is exit 1', () => {
    writeFileSync(join(dir, 'plain'), 'x\n');
    const r = run(['litellm-config', '--desired', join(dir, 'plain')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /plain: desired directory is not a readable directory/);
  });

  test('an invalid desired file is exit 1 with its located error on stderr', () => {
    const r = run(['litellm-config', '--desired', bad]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /mcp-pg\.yaml:3:7 port: /);
  });

  test('an empty dir is a valid empty section, exit 0', () => {
    mkdirSync(join(dir, 'empty'));
    const r = run(['litellm-config', '--desired', join(dir, 'empty')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^mcp_servers:/);
  });
});

describe('doctor lints by content and by bytes through the CLI', () => {
  test('the user\'s .conf config and a UTF-16 file are error findings (exit 1)', () => {
    const r = run(['doctor', join(REPO, 'examples/broken/litellm.conf'), join(REPO, 'examples/broken/utf16.yaml')]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /litellm\.conf:7:14 error \[config\.stdio-host-path\]/);
    assert.match(r.stdout, /utf16\.yaml:1:1 error \[file\.binary\]/);
  });
});
