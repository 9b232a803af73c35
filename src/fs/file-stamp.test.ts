import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileStamp } from './file-stamp.js';

test('fileStamp: the same for an unchanged file, new after a write or a rename, missing:<code> without one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'file-stamp-'));
  try {
    const f = join(dir, 'f');
    assert.equal(fileStamp(f), 'missing:ENOENT');
    assert.equal(fileStamp(join(f, 'below')), 'missing:ENOENT');
    writeFileSync(f, 'a');
    const first = fileStamp(f);
    assert.match(first, /^\d+:1:[\d.]+:[\d.]+$/);
    assert.equal(fileStamp(f), first);
    writeFileSync(f, 'ab');
    const second = fileStamp(f);
    assert.notEqual(second, first);
    writeFileSync(join(dir, 'g'), 'ab');
    renameSync(join(dir, 'g'), f); // how the reconciler writes: a new inode under the same name
    assert.notEqual(fileStamp(f), second);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
