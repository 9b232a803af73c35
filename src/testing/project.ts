import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reconciler } from '../reconcile/controller.js';
import { InMemoryRuntime, MemoryConfigStore } from './fake-runtime.js';
import { loadSettings, type Settings } from '../config/settings.js';
import { createLogger } from '../log/logger.js';

/** A project dir with desired files and a gateway env file, a fake Docker, and a clock the test moves. */
export interface ProjectFixture {
  dir: string;
  secretsDir: string;
  settings: Settings;
  runtime: InMemoryRuntime;
  clock: { now: number };
  r: Reconciler;
  /** Write (or rewrite) `mcp-<name>.yaml` in the desired dir. */
  write(name: string, yaml: string): void;
  /** Id of the fake container `mcp-<name>`. */
  idOf(name: string): string | undefined;
  cleanup(): void;
}

export function projectFixture(files: Record<string, string>): ProjectFixture {
  const dir = mkdtempSync(join(tmpdir(), 'project-'));
  const desired = join(dir, 'desired-state');
  const secretsDir = join(dir, 'secrets');
  mkdirSync(desired);
  mkdirSync(secretsDir, { mode: 0o700 });
  writeFileSync(join(secretsDir, 'mcp-litellm.env'), 'LITELLM_MASTER_KEY=sk-x\n', { mode: 0o600 });
  const write = (name: string, yaml: string): void => writeFileSync(join(desired, `mcp-${name}.yaml`), yaml);
  for (const [n, y] of Object.entries(files)) write(n, y);
  const settings = loadSettings({ env: { MCP_RECONCILER_PROJECTS_ROOT: dir, MCP_RECONCILER_SECRETS_DIR: secretsDir } });
  const runtime = new InMemoryRuntime();
  const clock = { now: 1_000_000 };
  const r = new Reconciler(settings, {
    runtime, config: new MemoryConfigStore(), gateway: null, log: createLogger({ level: 'silent' }), now: () => clock.now,
  });
  const idOf = (name: string): string | undefined => [...runtime.containers].find(([, c]) => c.name === `mcp-${name}`)?.[0];
  return { dir, secretsDir, settings, runtime, clock, r, write, idOf, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
