import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliEnv } from '../testing/fixtures.js';

/** The real CLI in a child process: a FIFO must not hang it, and nothing it refuses is echoed. */
const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../main.js');
const dir = mkdtempSync(join(tmpdir(), 'validate-in-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const desired = join(dir, 'desired-state');
const secrets = join(dir, 'secrets');
mkdirSync(desired);
mkdirSync(secrets, { mode: 0o700 });
mkdirSync(join(dir, 'x'));
execFileSync('mkfifo', [join(dir, 'fifo.yaml')]);
execFileSync('mkfifo', [join(desired, 'mcp-pipe.yaml')]);
writeFileSync(join(dir, 'shadow'), 'root:$6$SECRET-HASH:19000:0:99999:7:::\n');
symlinkSync(join(dir, 'shadow'), join(desired, 'mcp-shadow.yaml'));
writeFileSync(join(secrets, 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
writeFileSync(join(desired, 'mcp-x.yaml'), 'image: a:1\ntransport: http\nport: 1\nenvFile: mcp-litellm.env\nmounts: ["nope:/nope"]\n');
const env = cliEnv(dir, secrets);

function run(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env, cwd: dir, timeout: 20_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('validate: bad input is a located error with exit 1, never a hang or an echo', () => {
  const cases: [string, string[], RegExp][] = [
    ['a FIFO as the desired file', ['validate', join(dir, 'fifo.yaml')], /fifo\.yaml:1:1 cannot read: is a FIFO, not a regular file/],
    ['/dev/zero as the desired file', ['validate', '/dev/zero'], /\/dev\/zero:1:1 cannot read: is a character device/],
    ['a FIFO as --config', ['validate', '--config', join(dir, 'fifo.yaml')], /SettingsInvalid|settings file: .*is a FIFO/],
    [
      'a FIFO and a symlink to a secret-looking file in the desired dir',
      ['validate', desired],
      /mcp-pipe\.yaml:1:1 cannot read: is a FIFO/,
    ],
    [
      'the gateway env file and a missing mount',
      ['validate', desired],
      /mcp-x\.yaml:4:10 envFile: .*is the gateway's env file[^]*mcp-x\.yaml:5:10 mounts\.0: source .*nope does not exist/,
    ],
  ];
  for (const [what, args, expected] of cases) {
    test(what, () => {
      const r = run(args);
      assert.equal(r.status, 1, r.out);
      assert.match(r.out, expected);
      assert.ok(!r.out.includes('SECRET-HASH'), 'the content of a refused file is never printed');
    });
  }
});
