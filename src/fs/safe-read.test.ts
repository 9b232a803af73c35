import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, symlinkSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRegularFile, readRegularFileBytes, realpathInside, isInside, fileKind, clip, UnsafeFileError } from './safe-read.js';

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
    assert.throws(
      () => readRegularFile('/proc/self/maps', { maxBytes: 64 }),
      (e: unknown) => e instanceof UnsafeFileError && e.reason === 'too-large',
    );
  });

  test('reads a small regular file; noFollow refuses a symlink, default follows it', () => {
    assert.equal(readRegularFile(join(dir, 'small'), { maxBytes: 1024 }), 'a: 1\n');
    assert.equal(readRegularFile(join(dir, 'link'), { maxBytes: 1024 }), 'a: 1\n');
    assert.throws(() => readRegularFile(join(dir, 'link'), { maxBytes: 1024, noFollow: true }), /symlink/);
  });

  test('realpathInside: a symlink leading out is refused, one staying inside resolves', () => {
    symlinkSync('/', join(dir, 'sub', 'root'));
    assert.throws(
      () => realpathInside(join(dir, 'sub'), join(dir, 'sub', 'root', 'etc')),
      (e: unknown) => e instanceof UnsafeFileError && e.reason === 'outside',
    );
    assert.equal(realpathInside(dir, join(dir, 'link')), join(dir, 'small'));
    assert.throws(() => realpathInside(dir, join(dir, 'missing')), (e: unknown) => e instanceof UnsafeFileError && e.reason === 'missing');
  });

  test('clip shortens and neutralizes control characters', () => {
    assert.equal(clip('a\nb\u001b[31m'), 'a?b?[31m');
    assert.equal(clip('x'.repeat(100), 10), `${'x'.repeat(10)}…`);
  });

  test('clip keeps text of exactly the limit whole, 40 characters by default, and replaces C1 controls and DEL too', () => {
    assert.equal(clip('x'.repeat(10), 10), 'x'.repeat(10));
    assert.equal(clip('y'.repeat(40)), 'y'.repeat(40));
    assert.equal(clip('y'.repeat(41)), `${'y'.repeat(40)}…`);
    assert.equal(clip('a\u0000b\u007fc\u009bd\u00a0e'), 'a?b?c?d\u00a0e');
  });

  test('a file of exactly the cap is read whole; one byte more is too large', () => {
    writeFileSync(join(dir, 'cap'), 'z'.repeat(1024));
    assert.equal(readRegularFile(join(dir, 'cap'), { maxBytes: 1024 }), 'z'.repeat(1024));
    writeFileSync(join(dir, 'cap+1'), 'z'.repeat(1025));
    assert.throws(() => readRegularFile(join(dir, 'cap+1'), { maxBytes: 1024 }), /is larger than 1024 bytes$/);
  });

  test('a file larger than one read (64 KiB) comes back byte for byte', () => {
    const bytes = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 251));
    writeFileSync(join(dir, 'large'), bytes);
    assert.ok(readRegularFileBytes(join(dir, 'large'), { maxBytes: 300_000 }).equals(bytes));
  });

  test('short reads (files in /proc return about 4 KiB per read) are put together without gaps', () => {
    assert.equal(readRegularFile('/proc/self/mountinfo', { maxBytes: 1 << 20 }), readFileSync('/proc/self/mountinfo', 'utf8'));
  });

  test('a file over the cap is refused by its size before the check (mode, owner) looks at it', () => {
    const checked: string[] = [];
    assert.throws(
      () => readRegularFile(join(dir, 'big'), { maxBytes: 1024, check: () => checked.push('checked') }),
      /is larger than 1024 bytes$/,
    );
    assert.deepEqual(checked, []);
  });

  test('every read closes its file, the refused ones too (no descriptor leak)', () => {
    const open = (): number => readdirSync('/proc/self/fd').length;
    const before = open();
    for (let i = 0; i < 20; i++) {
      readRegularFile(join(dir, 'small'), { maxBytes: 1024 });
      assert.throws(() => readRegularFile(join(dir, 'big'), { maxBytes: 1024 }));
    }
    assert.equal(open(), before);
  });

  test('an unsafe-file error says what it is when printed', () => {
    assert.match(String(new UnsafeFileError('missing', '/x', '/x does not exist')), /^UnsafeFileError: \/x does not exist$/);
  });

  test('the check sees the open file (mode, owner) and its refusal stops the read', () => {
    const seen: number[] = [];
    assert.equal(readRegularFile(join(dir, 'small'), { maxBytes: 1024, check: (st) => seen.push(st.size) }), 'a: 1\n');
    assert.deepEqual(seen, [5]);
    assert.throws(
      () => readRegularFile(join(dir, 'small'), { maxBytes: 1024, check: () => { throw new Error('not private'); } }),
      /not private/,
    );
  });

  test('a read error is "unreadable" with its code, not a crash or a short read', () => {
    // /proc/self/mem is a regular file of size 0 whose first page is unmapped: read() fails with EIO.
    assert.throws(() => readRegularFile('/proc/self/mem', { maxBytes: 1024 }), (e: unknown) => {
      assert.ok(e instanceof UnsafeFileError);
      assert.deepEqual([e.reason, e.path, e.message], ['unreadable', '/proc/self/mem', 'cannot read /proc/self/mem: EIO']);
      return true;
    });
  });

  test('an open that fails for another reason (a file below a file) is "unreadable" with its code', () => {
    assert.throws(() => readRegularFile(join(dir, 'small', 'x'), { maxBytes: 1024 }), (e: unknown) => {
      assert.ok(e instanceof UnsafeFileError);
      assert.deepEqual([e.reason, e.message], ['unreadable', `cannot read ${join(dir, 'small', 'x')}: ENOTDIR`]);
      return true;
    });
  });

  test('noFollow refuses a symlink as "symlink", naming the path', () => {
    assert.throws(() => readRegularFile(join(dir, 'link'), { maxBytes: 1024, noFollow: true }), (e: unknown) => {
      assert.ok(e instanceof UnsafeFileError);
      assert.deepEqual([e.reason, e.path, e.message], ['symlink', join(dir, 'link'), `${join(dir, 'link')} is a symlink; refused`]);
      return true;
    });
  });

  test('a refused special file is named by its kind: block device, socket, or plainly special', () => {
    const kind = (which: string): string => fileKind({
      isDirectory: () => which === 'dir', isFIFO: () => which === 'fifo', isCharacterDevice: () => which === 'chr',
      isBlockDevice: () => which === 'blk', isSocket: () => which === 'sock',
    });
    assert.deepEqual(['dir', 'fifo', 'chr', 'blk', 'sock', 'other'].map(kind), [
      'a directory', 'a FIFO', 'a character device', 'a block device', 'a socket', 'a special file',
    ]);
  });

  test('cleanup', () => rmSync(dir, { recursive: true, force: true }));
});

describe('path confinement: a path is inside a root only at or below it', () => {
  test('the root itself and anything below it are inside', () => {
    assert.equal(isInside('/srv/root', '/srv/root'), true);
    assert.equal(isInside('/srv/root', '/srv/root/a/b'), true);
  });

  test('a name that merely begins with .. is inside (only a .. segment leads out)', () => {
    assert.equal(isInside('/srv/root', '/srv/root/..hidden'), true);
    assert.equal(isInside('/srv/root', '/srv/root/a..'), true);
  });

  test('the parent, a sibling sharing the root name as a prefix, and an unrelated path are outside', () => {
    assert.equal(isInside('/srv/root', '/srv'), false);
    assert.equal(isInside('/srv/root', '/srv/rootless'), false);
    assert.equal(isInside('/srv/root', '/srv/other/x'), false);
    assert.equal(isInside('/srv/root', '/'), false);
  });

  const dir = mkdtempSync(join(tmpdir(), 'confine-'));
  mkdirSync(join(dir, 'root'));
  mkdirSync(join(dir, 'rootless'));
  writeFileSync(join(dir, 'root', 'in'), 'x');
  writeFileSync(join(dir, 'rootless', 'secret'), 'x');
  symlinkSync(join(dir, 'rootless', 'secret'), join(dir, 'root', 'to-sibling'));
  symlinkSync(join(dir, 'root', 'loop-b'), join(dir, 'root', 'loop-a'));
  symlinkSync(join(dir, 'root', 'loop-a'), join(dir, 'root', 'loop-b'));
  const root = join(dir, 'root');
  const refusal = (path: string, from = root): [string, string, string] => {
    try {
      realpathInside(from, path);
    } catch (e) {
      assert.ok(e instanceof UnsafeFileError, String(e));
      return [e.reason, e.path, e.message];
    }
    return ['accepted', path, ''];
  };

  test('a symlink into a sibling folder whose name extends the root name is outside', () => {
    assert.deepEqual(
      refusal(join(root, 'to-sibling')),
      ['outside', join(root, 'to-sibling'), `${join(root, 'to-sibling')} resolves outside ${root}`],
    );
  });

  test('the resolved path of a file inside is returned, through a symlinked root too', () => {
    symlinkSync(root, join(dir, 'root-link'));
    assert.equal(realpathInside(join(dir, 'root-link'), join(dir, 'root-link', 'in')), join(root, 'in'));
  });

  test('a missing root is "missing", naming the root', () => {
    assert.deepEqual(
      refusal(join(root, 'in'), join(dir, 'no-root')),
      ['missing', join(dir, 'no-root'), `${join(dir, 'no-root')} does not exist`],
    );
  });

  test('a missing path, or one below a file, is "missing"', () => {
    assert.deepEqual(refusal(join(root, 'nope')), ['missing', join(root, 'nope'), `${join(root, 'nope')} does not exist`]);
    assert.deepEqual(refusal(join(root, 'in', 'x')), ['missing', join(root, 'in', 'x'), `${join(root, 'in', 'x')} does not exist`]);
  });

  test('a symlink loop is refused as "symlink"', () => {
    assert.deepEqual(refusal(join(root, 'loop-a')), ['symlink', join(root, 'loop-a'), `${join(root, 'loop-a')} is a symlink loop`]);
  });

  test('a path that cannot be resolved for another reason is "unreadable" with its code', () => {
    const long = join(root, 'n'.repeat(300));
    assert.deepEqual(refusal(long), ['unreadable', long, `cannot resolve ${long}: ENAMETOOLONG`]);
  });

  test('cleanup', () => rmSync(dir, { recursive: true, force: true }));
});
