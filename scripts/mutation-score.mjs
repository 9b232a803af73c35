#!/usr/bin/env node
// `npm run test:mutation [-- <stryker run arguments>]` is `node scripts/mutation-score.mjs --run ...`:
// runs `stryker run` with those arguments, then prints the mutation score per module from
// reports/mutation/mutation.json and every surviving mutant, and updates the modules this run
// covered in docs/mutation-score.json (each with its own date, commit, command and run time, so
// subset runs add up); `npm run readme:figures` puts that file into the README.
// Without --run: only print the score of the last report.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { GROUPS } from './mutation-groups.mjs';

const MODULES = [
  { module: 'src/desired/', target: 85 },
  { module: 'src/reconcile/planner.ts', target: 85 },
  { module: 'src/reconcile/hash.ts' },
  { module: 'src/reconcile/controller.ts', what: 'pruneDecision only' },
  { module: 'src/docker/labels.ts' },
  { module: 'src/litellm/config-file.ts' },
  { module: 'src/bridge/' },
  { module: 'src/watch/scheduler.ts', what: 'debounce and coalescing' },
  { module: 'src/fs/safe-read.ts', what: 'path confinement, regular files only' },
];
const DETECTED = new Set(['Killed', 'Timeout']);
const COUNTED = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage']);
const OUT = 'docs/mutation-score.json';
// Static mutants (module-level constants such as DEBOUNCE_MS, RESERVED_NAMES, the label names) run
// every test file each, so a full run ignores them; `STRYKER_STATIC=1 STRYKER_TEST_FILES=...
// npm run test:mutation -- --mutate <their lines>` runs them, and its rows are kept apart
// (`static: true`), beside the full run's rows instead of replacing them.
const STATIC = process.env.STRYKER_STATIC === '1';
const key = (r) => `${r.module}${r.static ? ' static' : ''}`;

const runAt = process.argv.indexOf('--run');
let command = null;
let minutes = null;
let reports = [process.env.STRYKER_REPORT ?? 'reports/mutation/mutation.json'];
if (runAt >= 0) {
  const args = process.argv.slice(runAt + 1);
  // The command as typed, with the STRYKER_* variables that shape the run (stryker.config.mjs).
  const env = Object.entries(process.env).filter(([k]) => /^STRYKER_(TEST_FILES|STATIC)$/.test(k)).map(([k, v]) => `${k}=${v} `);
  command = `${env.join('')}npm run test:mutation${args.length ? ` -- ${args.join(' ')}` : ''}`;
  const started = Date.now();
  const stryker = (extra, environment) => {
    const r = spawnSync('node_modules/.bin/stryker', ['run', ...extra, ...args], { stdio: 'inherit', env: { ...process.env, ...environment } });
    if (r.status !== 0) process.exit(r.status ?? 1);
  };
  if (args.includes('--mutate') || args.some((a) => a.startsWith('--mutate=')) || process.env.STRYKER_TEST_FILES) {
    stryker([], {});
  } else {
    // A full run: each group against its own test files, incremental (a mutant whose code and
    // tests did not change since the group's last run keeps its result).
    reports = [];
    for (const g of GROUPS) {
      const report = `reports/mutation/${g.name}.json`;
      console.log(`\n== group ${g.name}: ${g.mutate.join(' ')}\n   tests: ${g.tests.join(' ')}`);
      const t0 = Date.now();
      stryker(['--mutate', g.mutate.join(','), '--incremental', '--incrementalFile', `reports/stryker-incremental-${g.name}.json`], {
        STRYKER_TEST_FILES: g.tests.join(','),
        STRYKER_REPORT: report,
      });
      console.log(`== group ${g.name}: ${Math.round((Date.now() - t0) / 6000) / 10} min`);
      reports.push(report);
    }
  }
  minutes = Math.round((Date.now() - started) / 6000) / 10;
}
// One report, or the groups' reports of a full run (their files do not overlap).
const report = { files: Object.assign({}, ...reports.map((f) => JSON.parse(readFileSync(f, 'utf8')).files)) };
const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
const at = new Date().toISOString();
const rows = [];
for (const m of MODULES) {
  let killed = 0;
  let mutants = 0;
  let ignored = 0;
  const survivors = [];
  const files = [];
  for (const [file, f] of Object.entries(report.files)) {
    if (!(m.module.endsWith('/') ? file.startsWith(m.module) : file === m.module)) continue;
    files.push(file.slice(m.module.endsWith('/') ? m.module.length : file.lastIndexOf('/') + 1));
    for (const mu of f.mutants) {
      if (STATIC && !mu.static) continue;
      if (!COUNTED.has(mu.status)) {
        ignored++;
        continue;
      }
      mutants++;
      if (DETECTED.has(mu.status)) killed++;
      else survivors.push(`${file}:${mu.location.start.line}:${mu.location.start.column} ${mu.status} ${mu.mutatorName} ${JSON.stringify(mu.replacement ?? '')}`);
    }
  }
  if (mutants === 0) continue;
  rows.push({ ...m, ...(STATIC ? { static: true, target: undefined } : {}), files, killed, mutants, ignored, score: Math.round((killed / mutants) * 1000) / 10, survivors, at, commit, command, minutes });
}
const w = Math.max(...MODULES.map((r) => r.module.length)) + 9;
console.log(`${'MODULE'.padEnd(w)}    SCORE  KILLED/MUTANTS  IGNORED  TARGET`);
for (const r of rows) {
  const target = r.target ? `>= ${r.target} % ${r.score >= r.target ? 'met' : 'MISSED'}` : '';
  console.log(`${`${r.module}${r.static ? ' (static)' : ''}`.padEnd(w)}  ${`${r.score.toFixed(1)} %`.padStart(7)}  ${`${r.killed}/${r.mutants}`.padStart(14)}  ${String(r.ignored).padStart(7)}  ${target}`);
}
for (const r of rows) for (const s of r.survivors) console.log(`  survived: ${s}`);
if (command) {
  const prev = existsSync(OUT) ? JSON.parse(readFileSync(OUT, 'utf8')) : { modules: [] };
  const byModule = new Map(prev.modules.map((r) => [key(r), r]));
  for (const r of rows) byModule.set(key(r), r);
  const modules = MODULES.flatMap((m) => [byModule.get(m.module), byModule.get(`${m.module} static`)]).filter(Boolean);
  const stryker = JSON.parse(readFileSync('node_modules/@stryker-mutator/core/package.json', 'utf8')).version;
  writeFileSync(OUT, `${JSON.stringify({ stryker, modules }, null, 2)}\n`);
  console.log(`\n${minutes} min; updated ${OUT} (${rows.map(key).join(', ')}); then npm run readme:figures`);
}
