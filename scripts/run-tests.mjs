#!/usr/bin/env node
// Runs the compiled tests with node's own test runner: unit tests (dist/src/**/*.test.js) and,
// unless --unit, the integration tests (dist/test/integration/**/*.test.js) that need the real
// dockerd, the local images and Postgres (scripts/setup.sh installs and starts them).
// Tests run one file at a time: integration tests share one Docker engine.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const unitOnly = process.argv.includes('--unit');
const integrationOnly = process.argv.includes('--integration');
const reliability = process.argv.includes('--reliability');
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
  : [...(integrationOnly ? [] : find('dist/src')), ...(unitOnly ? [] : find('dist/test/integration'))];
if (files.length === 0) {
  console.error('no test files found (did the build run?)');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
