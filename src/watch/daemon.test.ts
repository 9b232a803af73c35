import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, type Settings } from '../config/settings.js';
import { createLogger } from '../log/logger.js';
import type { Reconciler } from '../reconcile/controller.js';
import { runDaemon } from './daemon.js';

test('SIGHUP during a pass: that pass ends on the old settings, the next one starts on the new (never a mix)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'daemon-hup-'));
  try {
    mkdirSync(join(dir, 'desired-state'));
    const file = join(dir, 'settings.yaml');
    const write = (port: number): void => writeFileSync(file, JSON.stringify({ projectsRoot: dir, secretsDir: join(dir, 'secrets'), statusPort: 0, gateway: { hostPort: port } }));
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
        return { plan: { operations: [] }, result: { done: [], failed: [] }, input: { servers: [] }, problems: [], gatewayMode: { mode: 'config', why: 'test' } };
      },
      summarize: async () => '0 servers: 0 running',
      failures: () => [],
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
