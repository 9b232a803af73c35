import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, type Settings } from '../config/settings.js';
import { createLogger } from '../log/logger.js';
import type { Reconciler } from '../reconcile/controller.js';
import { runDaemon } from './daemon.js';
import { request } from 'undici';
import { freePort } from '../testing/net.js';
import { NOTES_MARKER } from '../notes/deployment-notes.js';

test('SIGHUP during a pass: that pass ends on the old settings, the next one starts on the new (never a mix)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'daemon-hup-'));
  try {
    mkdirSync(join(dir, 'desired-state'));
    const file = join(dir, 'settings.yaml');
    const write = (port: number): void => writeFileSync(file, JSON.stringify({
      projectsRoot: dir, secretsDir: join(dir, 'secrets'), statusPort: 0, gateway: { hostPort: port },
    }));
    write(4001);
    const seen: string[] = [];
    let release: () => void = () => undefined;
    let started: () => void = () => undefined;
    let startedP = new Promise<void>((r) => (started = r));
    const fake = {
      settings: loadSettings({ file, env: {} }),
      reconfigured: [] as number[],
      reconfigure(st: Settings): void {
        this.settings = st;
        this.reconfigured.push(st.gateway.hostPort);
      },
      async reconcile() {
        seen.push(`start ${this.settings.gateway.url}`);
        started();
        await new Promise<void>((r) => (release = r));
        seen.push(`end ${this.settings.gateway.url}`);
        return {
          plan: { operations: [] }, result: { done: [], failed: [] }, input: { servers: [] }, problems: [],
          gatewayMode: { mode: 'config', why: 'test' }, summary: '0 servers: 0 running', dockerApiCalls: 0,
        };
      },
      failures: () => [],
      builds: () => [],
      nextRetryAt: () => null,
    };
    const done = runDaemon(fake as unknown as Reconciler, createLogger({ level: 'silent' }), {
      settingsFile: file,
      rebuild: () => ({ deps: {} as never, gateway: null }),
    });
    await startedP;
    write(4002);
    startedP = new Promise<void>((r) => (started = r));
    process.emit('SIGHUP');
    assert.deepEqual(fake.reconfigured, [], 'nothing swapped while the pass runs');
    release();
    await startedP;
    assert.deepEqual(seen, ['start http://127.0.0.1:4001', 'end http://127.0.0.1:4001', 'start http://127.0.0.1:4002']);
    assert.deepEqual(fake.reconfigured, [4002]);
    release();
    process.emit('SIGTERM');
    assert.equal(await done, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the page shows the daemon events, masks the gateway env value; the notes file is kept, a foreign one left alone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'daemon-page-'));
  try {
    mkdirSync(join(dir, 'desired-state'));
    mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
    const masterKey = 'sk-master-quoted-by-accident-0123';
    writeFileSync(join(dir, 'secrets', 'mcp-litellm.env'), `LITELLM_MASTER_KEY=${masterKey}\n`, { mode: 0o600 });
    const port = await freePort();
    const file = join(dir, 'settings.yaml');
    const settings = { projectsRoot: dir, secretsDir: join(dir, 'secrets'), statusPort: port, gateway: { hostPort: 4123 } };
    writeFileSync(file, JSON.stringify(settings));
    let summary = '0 servers: 0 running';
    const fake = {
      settings: loadSettings({ file, env: {} }),
      reconcile: async () => ({
        plan: { operations: [] },
        result: { done: [], failed: [] },
        input: { servers: [] },
        problems: [],
        gatewayMode: { mode: 'config', why: 'test' },
        summary,
        dockerApiCalls: 4,
      }),
      failures: () => [],
      builds: () => [],
      nextRetryAt: () => null,
    };
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const done = runDaemon(fake as unknown as Reconciler, log, { settingsFile: file });
    const base = `http://127.0.0.1:${port}`;
    const passes = async (): Promise<number> => {
      const r = await request(`${base}/status`).catch(() => null);
      return r ? Number(((await r.body.json()) as { passes: number }).passes) : 0;
    };
    const until = async (what: string, ok: () => Promise<boolean>): Promise<void> => {
      const deadline = Date.now() + 60_000;
      while (!(await ok())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until('the first pass', async () => (await passes()) >= 1);

    const notes = join(dir, 'litellm', 'CLAUDE.md');
    assert.ok(readFileSync(notes, 'utf8').startsWith(NOTES_MARKER));
    assert.match(readFileSync(notes, 'utf8'), /## Servers \(0\)/);

    // A summary that quotes the gateway's key (as an error text might): masked on the page and in /status.
    summary = `docker unavailable: ${masterKey}`;
    writeFileSync(notes, '# my own notes\n');
    process.emit('SIGHUP'); // a settings reload requests one more pass
    await until('the pass after SIGHUP', async () => (await passes()) >= 2);
    const page = await (await request(`${base}/`)).body.text();
    assert.ok(!page.includes(masterKey));
    assert.match(page, /<td>daemon<\/td><td class="msg">docker unavailable: \[redacted\]<\/td>/);
    assert.match(page, /<td>daemon<\/td><td class="msg">gateway registration: config mode \(test\)<\/td>/);
    assert.match(page, /id="client-url"><code>http:\/\/127\.0\.0\.1:4123\/mcp\/<\/code>/);
    assert.ok(!(await (await request(`${base}/status`)).body.text()).includes(masterKey));
    assert.equal(readFileSync(notes, 'utf8'), '# my own notes\n');
    assert.equal(lines.filter((l) => l.includes('was not written by mcp-reconciler; left alone')).length, 1);
    process.emit('SIGTERM');
    assert.equal(await done, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
