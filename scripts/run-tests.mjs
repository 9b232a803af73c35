#!/usr/bin/env node
// Checks line lengths first (scripts/check-line-length.mjs: a line over 140 characters fails the run),
// compiles into a clean dist/ (so compiled copies of deleted or renamed tests never run), then runs the
// compiled tests with node's own test runner: unit tests (dist/src/**/*.test.js, dist/bench/**/*.test.js) and, unless --unit,
// the integration tests (dist/test/integration/**/*.test.js) that need the real dockerd, the local
// images and the postgresql-15 binaries (scripts/setup.sh installs and builds them).
// Tests run one file at a time: integration tests share one Docker engine.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(repo);
const unitOnly = process.argv.includes('--unit');
const integrationOnly = process.argv.includes('--integration');
const reliability = process.argv.includes('--reliability');

// Lines over 140 characters fail the run before anything is built (npm run lint:lines).
const lines = spawnSync(process.execPath, ['scripts/check-line-length.mjs'], { stdio: 'inherit' });
if (lines.status !== 0) process.exit(lines.status ?? 1);

rmSync('dist', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

function find(dir) {
  let out = [];
  let entries = [];
  try { entries = readdirSync(dir); } catch { return out; }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (e.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}
// The reliability suite (faults, 1,000 hostile files) runs on its own: npm run test:reliability.
const files = reliability
  ? find('dist/test/reliability')
  : [...(integrationOnly ? [] : [...find('dist/src'), ...find('dist/bench')]), ...(unitOnly ? [] : find('dist/test/integration'))];
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
