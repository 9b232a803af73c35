import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRegularFile, realpathInside, clip, UnsafeFileError } from './safe-read.js';

describe('safe reading: regular files only, capped while reading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'safe-read-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  writeFileSync(join(dir, 'small'), 'a: 1\n');
  writeFileSync(join(dir, 'big'), 'x'.repeat(1025));
  mkdirSync(join(dir, 'sub'));
  symlinkSync(join(dir, 'small'), join(dir, 'link'));

  const refused: [string, string, UnsafeFileError['reason'], RegExp][] = [
    ['a FIFO (would block forever)', fifo, 'not-regular', /is a FIFO, not a regular file$/],
    ['/dev/zero (endless)', '/dev/zero', 'not-regular', /is a character device, not a regular file$/],
    ['a directory', join(dir, 'sub'), 'not-regular', /directory/],
    ['a file over the cap', join(dir, 'big'), 'too-large', /is larger than 1024 bytes$/],
    ['a missing file', join(dir, 'nope'), 'missing', /does not exist$/],
  ];
  for (const [what, path, reason, message] of refused) {
    test(`refuses ${what}`, () => {
      assert.throws(() => readRegularFile(path, { maxBytes: 1024 }), (e: unknown) => {
        assert.ok(e instanceof UnsafeFileError);
        assert.equal(e.reason, reason);
        assert.match(e.message, message);
        return true;
      });
    });
  }

  test('the cap holds while reading: /proc/self/maps says size 0 but yields more', () => {
    assert.throws(() => readRegularFile('/proc/self/maps', { maxBytes: 64 }), (e: unknown) => e instanceof UnsafeFileError && e.reason === 'too-large');
  });

  test('reads a small regular file; noFollow refuses a symlink, default follows it', () => {
    assert.equal(readRegularFile(join(dir, 'small'), { maxBytes: 1024 }), 'a: 1\n');
    assert.equal(readRegularFile(join(dir, 'link'), { maxBytes: 1024 }), 'a: 1\n');
    assert.throws(() => readRegularFile(join(dir, 'link'), { maxBytes: 1024, noFollow: true }), /symlink/);
  });

  test('realpathInside: a symlink leading out is refused, one staying inside resolves', () => {
    symlinkSync('/', join(dir, 'sub', 'root'));
    assert.throws(() => realpathInside(join(dir, 'sub'), join(dir, 'sub', 'root', 'etc')), (e: unknown) => e instanceof UnsafeFileError && e.reason === 'outside');
    assert.equal(realpathInside(dir, join(dir, 'link')), join(dir, 'small'));
    assert.throws(() => realpathInside(dir, join(dir, 'missing')), (e: unknown) => e instanceof UnsafeFileError && e.reason === 'missing');
  });

  test('clip shortens and neutralizes control characters', () => {
    assert.equal(clip('a\nb\u001b[31m'), 'a?b?[31m');
    assert.equal(clip('x'.repeat(100), 10), `${'x'.repeat(10)}…`);
  });

  test('cleanup', () => rmSync(dir, { recursive: true, force: true }));
});
