// The secrets file reader: what a server's env file means (parseEnvFile) and when it is refused
// (mode 600, owner, regular, capped). The digest key lives beside the secrets.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MAX_ENV_BYTES, assertPrivateFile, checkPrivate, loadOrCreateDigestKey, parseEnvFile, readEnvFile, readSecretsFile,
} from './env-file.js';

const entries = (text: string): [string, string][] => Object.entries(parseEnvFile(text));

describe('an env file means KEY=VALUE lines', () => {
  test('LF and CRLF line ends both separate variables, and the CR is not part of the value', () => {
    assert.deepEqual(entries('A=1\nB=2\n'), [['A', '1'], ['B', '2']]);
    assert.deepEqual(entries('A=1\r\nB=2\r\n'), [['A', '1'], ['B', '2']]);
  });

  test('blank lines and # comments define nothing, even a commented-out KEY=VALUE', () => {
    assert.deepEqual(entries('\n   \n# A=commented\n  # B=indented comment\nC=3\n'), [['C', '3']]);
  });

  test('whitespace around the line and around = is not part of the name or the value', () => {
    assert.deepEqual(entries('   TOKEN  =   abc   \n'), [['TOKEN', 'abc']]);
  });

  test('an export prefix is dropped, however many spaces follow it', () => {
    assert.deepEqual(entries('export A=1\nexport   B=2\n'), [['A', '1'], ['B', '2']]);
  });

  test('a line whose name is not a variable name (a digit first, a dash, no =) defines nothing', () => {
    assert.deepEqual(entries('1A=x\nA-B=y\nJUSTWORDS\nexportC=z\n'), [['exportC', 'z']]);
  });

  test('the value is the rest of the line: = signs, # and quotes inside it are kept', () => {
    assert.deepEqual(entries('URL=postgres://u:p@h/db?x=1#frag\nQ=a"b\n'), [['URL', 'postgres://u:p@h/db?x=1#frag'], ['Q', 'a"b']]);
  });

  test('one pair of surrounding double or single quotes is removed, and "" is an empty value', () => {
    assert.deepEqual(entries(`A="x y"\nB='z w'\nC=""\nD=''\nE="'q'"\n`), [['A', 'x y'], ['B', 'z w'], ['C', ''], ['D', ''], ['E', "'q'"]]);
  });

  test('a lone or unbalanced quote is kept as written', () => {
    assert.deepEqual(entries(`A="\nB='\nC="x\nD=x"\nE='x\nF=x'\nG="x'\n`), [
      ['A', '"'], ['B', "'"], ['C', '"x'], ['D', 'x"'], ['E', "'x"], ['F', "x'"], ['G', `"x'`],
    ]);
  });

  test('a line __proto__=x is a plain variable, never the prototype of the result', () => {
    const env = parseEnvFile('__proto__=x\n');
    assert.equal(env['__proto__'], 'x');
    assert.equal(Object.getPrototypeOf(env), null);
  });
});

describe('a secrets file is read only when it is private, regular and small', () => {
  const dir = mkdtempSync(join(tmpdir(), 'env-file-'));
  const file = (name: string, text: string, mode = 0o600): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    chmodSync(p, mode);
    return p;
  };

  test('a private env file is read into its variables', () => {
    assert.deepEqual(Object.entries(readEnvFile(file('ok.env', 'A=1\n'))), [['A', '1']]);
  });

  test('a refused secrets file is a SecretsFileUnsafe error located at the file, naming the fix', () => {
    const p = file('open.env', 'A=leaked\n', 0o644);
    assert.throws(() => readSecretsFile(p), (e: unknown) => {
      assert.deepEqual(
        { code: (e as { code: string }).code, location: (e as { location: string }).location },
        { code: 'SecretsFileUnsafe', location: p },
      );
      assert.match((e as Error).message, /mode 644\); fix: chmod 600/);
      return true;
    });
  });

  test('a secrets file over the size cap is a SecretsFileUnsafe error located at the file', () => {
    const p = file('big.env', `A=${'x'.repeat(MAX_ENV_BYTES)}\n`);
    assert.throws(() => readSecretsFile(p), (e: unknown) => {
      assert.deepEqual(
        { code: (e as { code: string }).code, location: (e as { location: string }).location },
        { code: 'SecretsFileUnsafe', location: p },
      );
      assert.match((e as Error).message, /is larger than 65536 bytes/);
      return true;
    });
  });

  test('a secrets file owned by another user is a SecretsFileUnsafe error located at the file, naming the chown fix', () => {
    assert.throws(() => checkPrivate('/s/mcp-x.env', { mode: 0o100600, uid: 1000 }, 1001), (e: unknown) => {
      assert.deepEqual(
        { code: (e as { code: string }).code, location: (e as { location: string }).location },
        { code: 'SecretsFileUnsafe', location: '/s/mcp-x.env' },
      );
      assert.equal((e as Error).message, '/s/mcp-x.env belongs to uid 1000, not to this user (uid 1001); fix: chown');
      return true;
    });
  });

  test('a group-readable secrets file is a SecretsFileUnsafe error located at the file', () => {
    assert.throws(() => checkPrivate('/s/mcp-x.env', { mode: 0o100640, uid: 0 }, 0), (e: unknown) => {
      assert.deepEqual(
        { code: (e as { code: string }).code, location: (e as { location: string }).location },
        { code: 'SecretsFileUnsafe', location: '/s/mcp-x.env' },
      );
      return true;
    });
  });

  test("root may read anyone's private secrets file; another user only their own", () => {
    assert.doesNotThrow(() => checkPrivate('/s/mcp-x.env', { mode: 0o100600, uid: 1000 }, 0));
    assert.doesNotThrow(() => checkPrivate('/s/mcp-x.env', { mode: 0o100600, uid: 1000 }, 1000));
  });

  test('assertPrivateFile refuses a group-readable file and accepts a private one', () => {
    assert.throws(() => assertPrivateFile(file('group.env', 'A=1\n', 0o640)), /mode 640\); fix: chmod 600/);
    assert.doesNotThrow(() => assertPrivateFile(file('mine.env', 'A=1\n')));
  });

  test('a secrets file of exactly the cap is read', () => {
    assert.equal(readSecretsFile(file('cap.env', 'x'.repeat(MAX_ENV_BYTES))).length, MAX_ENV_BYTES);
  });
});

describe('the digest key', () => {
  test('is created once, 32 random bytes in a mode 600 file (its folder created 700), and read back the same', () => {
    const secrets = join(mkdtempSync(join(tmpdir(), 'digest-key-')), 'secrets');
    const key = loadOrCreateDigestKey(secrets);
    const path = join(secrets, '.mcp-reconciler-digest.key');
    assert.equal(key.length, 32);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(secrets).mode & 0o777, 0o700);
    assert.match(readFileSync(path, 'utf8'), /^[0-9a-f]{64}$/);
    assert.deepEqual(loadOrCreateDigestKey(secrets), key);
  });

  test('a secrets dir that does not exist yet is created with its parents', () => {
    const secrets = join(mkdtempSync(join(tmpdir(), 'digest-key-')), 'a', 'b', 'secrets');
    assert.equal(loadOrCreateDigestKey(secrets).length, 32);
  });

  test('an existing key is kept, and surrounding whitespace in its file is ignored', () => {
    const secrets = mkdtempSync(join(tmpdir(), 'digest-key-'));
    mkdirSync(secrets, { recursive: true });
    writeFileSync(join(secrets, '.mcp-reconciler-digest.key'), `\n${'ab'.repeat(32)}\n`, { mode: 0o600 });
    assert.deepEqual(loadOrCreateDigestKey(secrets), Buffer.from('ab'.repeat(32), 'hex'));
  });
});
