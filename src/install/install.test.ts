import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { install, APP_ROOT, type Account } from './install.js';

describe('install and existing folders', () => {
  test('never loosens an existing folder; a private folder that is too open is tightened', () => {
    const root = mkdtempSync(join(tmpdir(), 'install-modes-'));
    const me = userInfo();
    const home = '/home/someone';
    const account: Account = { name: me.username, uid: me.uid, gid: me.gid, group: me.username, home };
    const at = (p: string): string => join(root, p);
    mkdirSync(at(`${home}/projects/mcp/desired-state`), { recursive: true });
    chmodSync(at(`${home}/projects`), 0o750);
    chmodSync(at(`${home}/projects/mcp`), 0o700);
    chmodSync(at(`${home}/projects/mcp/desired-state`), 0o2770);
    mkdirSync(at(`${home}/projects/secrets`));
    chmodSync(at(`${home}/projects/secrets`), 0o755);
    install({ account, root, app: APP_ROOT, node: process.execPath, enable: false });
    const mode = (p: string): number => statSync(at(p)).mode & 0o7777;
    assert.equal(mode(`${home}/projects`), 0o750, 'kept, not opened to 0755');
    assert.equal(mode(`${home}/projects/mcp`), 0o700, 'kept');
    assert.equal(mode(`${home}/projects/mcp/desired-state`), 0o2770, 'kept, setgid included');
    assert.equal(mode(`${home}/projects/secrets`), 0o700, 'secrets tightened to 0700');
    assert.equal(mode(`${home}/projects/mcp/litellm`), 0o755, 'a new folder gets its default');
    assert.equal(mode(`${home}/projects/secrets/mcp-litellm.env`), 0o600);
  });
});
