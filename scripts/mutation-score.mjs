#!/usr/bin/env node
// `npm run test:mutation [-- <stryker run arguments>]` is `node scripts/mutation-score.mjs --run ...`.
// Without --mutate (and without STRYKER_TEST_FILES) it runs the groups of scripts/mutation-groups.mjs
// one by one (`--groups a,b` for some of them), else one `stryker run` with those arguments. After
// each run it updates docs/mutation-score.json: per mutated file its counts, survivors, date, commit,
// command and minutes, and per module the sum over its files (so group and subset runs add up), and
// prints the module scores and every survivor; `npm run readme:figures` puts the file into the README.
// Without --run: print the scores in docs/mutation-score.json.
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
// (`static: true`), beside the full run's rows instead of replacing them. (Stryker does not mutate
// number literals, so DEBOUNCE_MS has no mutant; scheduler.test.ts asserts its floor instead.)
const STATIC = process.env.STRYKER_STATIC === '1';
const key = (r) => `${r.file ?? r.module}${r.static ? ' static' : ''}`;

const stryker = JSON.parse(readFileSync('node_modules/@stryker-mutator/core/package.json', 'utf8')).version;
const saved = existsSync(OUT) ? JSON.parse(readFileSync(OUT, 'utf8')) : {};
// A file from before per-file entries: its one-file module rows become entries.
const migrated = (saved.modules ?? []).filter((r) => r.files.length === 1).map((r) => ({
  file: r.module.endsWith('/') ? `${r.module}${r.files[0]}` : r.module, ...(r.static ? { static: true } : {}), killed: r.killed, mutants: r.mutants,
  ignored: r.ignored, survivors: r.survivors, at: r.at, commit: r.commit, command: r.command, minutes: r.minutes ?? null,
}));
const entries = new Map((saved.files ?? migrated).map((e) => [key(e), e]));

/** Fold one Stryker report into the per-file entries and rewrite docs/mutation-score.json. */
function record(reportFile, command, minutes, commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(), at = new Date().toISOString()) {
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  for (const [file, f] of Object.entries(report.files)) {
    let killed = 0;
    let mutants = 0;
    let ignored = 0;
    const survivors = [];
    for (const mu of f.mutants) {
      if (!COUNTED.has(mu.status)) {
        ignored++;
        continue;
      }
      mutants++;
      if (DETECTED.has(mu.status)) killed++;
      else survivors.push(`${file}:${mu.location.start.line}:${mu.location.start.column} ${mu.status} ${mu.mutatorName} ${JSON.stringify(mu.replacement ?? '')}`);
    }
    if (mutants + ignored === 0) continue;
    // A run over some lines of the file (`--mutate file:10-20`) is marked as a part.
    const part = command.includes(`${file}:`);
    const e = { file, ...(STATIC ? { static: true } : {}), ...(part ? { part: true } : {}), killed, mutants, ignored, survivors, at, commit, command, minutes };
    entries.set(key(e), e);
  }
  writeFileSync(OUT, `${JSON.stringify({ stryker, modules: modules(), files: [...entries.values()].sort((a, b) => key(a).localeCompare(key(b))) }, null, 2)}\n`);
}

/** Module rows: the sums over each module's files (static rows apart); the oldest run's date and commit. */
function modules() {
  const rows = [];
  for (const m of MODULES) {
    for (const isStatic of [false, true]) {
      const es = [...entries.values()].filter((e) => !!e.static === isStatic && (m.module.endsWith('/') ? e.file.startsWith(m.module) : e.file === m.module));
      const mutants = es.reduce((n, e) => n + e.mutants, 0);
      if (mutants === 0) continue;
      const killed = es.reduce((n, e) => n + e.killed, 0);
      const oldest = [...es].sort((a, b) => a.at.localeCompare(b.at))[0];
      const runs = [...new Map(es.map((e) => [`${e.at.slice(0, 16)} ${e.command}`, e])).values()];
      rows.push({
        ...m, ...(isStatic ? { static: true, target: undefined } : {}),
        files: es.map((e) => `${e.file.slice(m.module.endsWith('/') ? m.module.length : e.file.lastIndexOf('/') + 1)}${e.part ? ' (some lines)' : ''}`),
        killed, mutants, ignored: es.reduce((n, e) => n + e.ignored, 0), score: Math.round((killed / mutants) * 1000) / 10,
        survivors: es.flatMap((e) => e.survivors), at: oldest.at, commit: oldest.commit,
        command: [...new Set(es.map((e) => e.command))].join(' + '),
        minutes: runs.every((e) => typeof e.minutes === 'number') ? Math.round(runs.reduce((n, e) => n + e.minutes, 0) * 10) / 10 : null,
      });
    }
  }
  return rows;
}

// `--record <report> <command> <minutes> <commit> <ISO date>`: fold a report of a run made earlier.
const recordAt = process.argv.indexOf('--record');
if (recordAt >= 0) {
  const [file, command, minutes, commit, at] = process.argv.slice(recordAt + 1);
  record(file, command, Number(minutes), commit, at);
}
const runAt = process.argv.indexOf('--run');
if (runAt >= 0) {
  let args = process.argv.slice(runAt + 1);
  const groupsAt = args.indexOf('--groups');
  const only = groupsAt >= 0 ? args[groupsAt + 1].split(',') : null;
  if (groupsAt >= 0) args = [...args.slice(0, groupsAt), ...args.slice(groupsAt + 2)];
  // The command as typed, with the STRYKER_* variables that shape the run (stryker.config.mjs).
  const env = Object.entries(process.env).filter(([k]) => /^STRYKER_(TEST_FILES|STATIC)$/.test(k)).map(([k, v]) => `${k}=${v} `);
  const stryker = (extra, environment) => {
    const r = spawnSync('node_modules/.bin/stryker', ['run', ...extra, ...args], { stdio: 'inherit', env: { ...process.env, ...environment } });
    if (r.status !== 0) process.exit(r.status ?? 1);
  };
  if (args.includes('--mutate') || args.some((a) => a.startsWith('--mutate=')) || process.env.STRYKER_TEST_FILES) {
    const t0 = Date.now();
    stryker([], {});
    record(process.env.STRYKER_REPORT ?? 'reports/mutation/mutation.json', `${env.join('')}npm run test:mutation -- ${args.join(' ')}`, Math.round((Date.now() - t0) / 6000) / 10);
  } else {
    // Each group against its own test files, incremental (a mutant whose code and covering tests
    // did not change since the group's last run keeps its result).
    for (const g of GROUPS.filter((x) => !only || only.includes(x.name))) {
      const report = `reports/mutation/${g.name}.json`;
      console.log(`\n== group ${g.name}: ${g.mutate.join(' ')}\n   tests: ${g.tests.join(' ')}`);
      const t0 = Date.now();
      stryker(['--mutate', g.mutate.join(','), '--incremental', '--incrementalFile', `reports/stryker-incremental-${g.name}.json`], {
        STRYKER_TEST_FILES: g.tests.join(','),
        STRYKER_REPORT: report,
      });
      const minutes = Math.round((Date.now() - t0) / 6000) / 10;
      console.log(`== group ${g.name}: ${minutes} min`);
      record(report, `npm run test:mutation${args.length ? ` -- ${args.join(' ')}` : ''} (group ${g.name})`, minutes);
    }
  }
}

const rows = modules();
const w = Math.max(...MODULES.map((r) => r.module.length)) + 9;
console.log(`${'MODULE'.padEnd(w)}    SCORE  KILLED/MUTANTS  IGNORED  TARGET  RUN`);
for (const r of rows) {
  const target = r.target ? `>= ${r.target} % ${r.score >= r.target ? 'met' : 'MISSED'}` : '';
  console.log(`${`${r.module}${r.static ? ' (static)' : ''}`.padEnd(w)}  ${`${r.score.toFixed(1)} %`.padStart(7)}  ${`${r.killed}/${r.mutants}`.padStart(14)}  ${String(r.ignored).padStart(7)}  ${target}  ${r.at.slice(0, 16)} ${r.commit.slice(0, 10)}`);
}
for (const r of rows) for (const s of r.survivors) console.log(`  survived: ${s}`);
