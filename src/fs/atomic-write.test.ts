import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { FileConfigStore } from '../litellm/file-store.js';

describe('atomic file replace', () => {
  test('a new file gets 0600 whatever the umask; nothing else is left in the folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const old = process.umask(0o000);
    try {
      writeFileAtomic(join(dir, 'config.yaml'), 'a: 1\n');
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(join(dir, 'config.yaml')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['config.yaml']);
  });

  test('an existing file keeps its mode (0640 stays 0640, 0644 stays 0644) and gets the new content', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    for (const mode of [0o640, 0o644, 0o600]) {
      const f = join(dir, `c-${mode.toString(8)}.yaml`);
      writeFileSync(f, 'old\n');
      chmodSync(f, mode);
      writeFileAtomic(f, 'new\n');
      assert.equal(statSync(f).mode & 0o777, mode);
      assert.equal(readFileSync(f, 'utf8'), 'new\n');
    }
  });

  test("the gateway's config.yaml: new 0600, an existing one keeps its mode and owner", () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const store = new FileConfigStore();
    const f = join(dir, 'litellm', 'config.yaml');
    store.writeAtomic(f, 'mcp_servers: {}\n');
    assert.equal(statSync(f).mode & 0o777, 0o600);
    chmodSync(f, 0o640);
    const before = statSync(f);
    store.writeAtomic(f, 'mcp_servers: {x: 1}\n');
    const after = statSync(f);
    assert.equal(after.mode & 0o777, 0o640);
    assert.equal(after.uid, before.uid);
    assert.equal(after.gid, before.gid);
    assert.notEqual(after.ino, before.ino, 'replaced by rename, not rewritten in place');
  });
});
