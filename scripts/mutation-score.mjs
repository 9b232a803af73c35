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
  file: r.module.endsWith('/') ? `${r.module}${r.files[0]}` : r.module, ...(r.static ? { static: true } : {}),
  killed: r.killed, mutants: r.mutants,
  ignored: r.ignored, survivors: r.survivors, at: r.at, commit: r.commit, command: r.command, minutes: r.minutes ?? null,
}));
const entries = new Map((saved.files ?? migrated).map((e) => [key(e), e]));

/** Old line number -> new line number for the lines two sources share (longest common subsequence). */
function lineMap(oldText, newText) {
  const a = oldText.split('\n');
  const b = newText.split('\n');
  const n = a.length;
  const m = b.length;
  const len = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) len[i][j] = a[i] === b[j] ? len[i + 1][j + 1] + 1 : Math.max(len[i + 1][j], len[i][j + 1]);
  }
  const map = new Map();
  for (let i = 0, j = 0; i < n && j < m;) {
    if (a[i] === b[j]) map.set(++i, ++j);
    else if (len[i + 1][j] >= len[i][j + 1]) i++;
    else j++;
  }
  return map;
}

/**
 * `STRYKER_MERGE=<earlier report of the whole file>` with `--mutate file:lines`: the file's figures
 * become this run's mutants in those lines plus the earlier run's mutants outside them (moved to
 * their new line numbers). Every line changed since the earlier run must be among those lines.
 */
function merge(earlierFile, reportFile, mutateArg) {
  const earlier = JSON.parse(readFileSync(earlierFile, 'utf8'));
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  const ranges = mutateArg.split(',').map((m) => /^(.+):(\d+)-(\d+)$/.exec(m)).filter(Boolean)
    .map(([, file, from, to]) => ({ file, from: Number(from), to: Number(to) }));
  for (const [file, f] of Object.entries(report.files)) {
    const before = earlier.files[file];
    if (!before) throw new Error(`${earlierFile} has no ${file}`);
    const mine = ranges.filter((r) => r.file === file);
    const inside = (line) => mine.some((r) => line >= r.from && line <= r.to);
    const map = lineMap(before.source, f.source);
    const newLines = new Set(map.values());
    const changed = f.source.split('\n').map((_, i) => i + 1).filter((l) => !newLines.has(l) && !inside(l));
    if (changed.length) throw new Error(`${file}: lines ${changed.join(', ')} changed since ${earlierFile}; include them in --mutate`);
    // A mutant of this run replaces the earlier one at the same place; a mutant that starts in those
    // lines but ends after them is not in this run (Stryker takes only mutants inside the lines) and keeps its result.
    const here = new Set(f.mutants.map((mu) =>
      `${mu.location.start.line}:${mu.location.start.column}:${mu.mutatorName}:${mu.replacement}`));
    const kept = before.mutants.filter((mu) => {
      const line = map.get(mu.location.start.line) ?? 0;
      return !here.has(`${line}:${mu.location.start.column}:${mu.mutatorName}:${mu.replacement}`) &&
        (!inside(line) || mu.location.end.line !== mu.location.start.line);
    }).map((mu) => {
      const shift = map.get(mu.location.start.line) - mu.location.start.line;
      return {
        ...mu,
        id: `earlier-${mu.id}`,
        location: {
          start: { ...mu.location.start, line: mu.location.start.line + shift },
          end: { ...mu.location.end, line: mu.location.end.line + shift },
        },
      };
    });
    f.mutants = [...kept, ...f.mutants];
  }
  const out = reportFile.replace(/\.json$/, '.merged.json');
  writeFileSync(out, JSON.stringify(report));
  return out;
}

/** Fold one Stryker report into the per-file entries and rewrite docs/mutation-score.json. */
function record(
  reportFile,
  command,
  minutes,
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(),
  at = new Date().toISOString(),
  merged = false,
) {
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
      else survivors.push(`${file}:${mu.location.start.line}:${mu.location.start.column} ${mu.status} ${mu.mutatorName} ` +
        `${JSON.stringify(mu.replacement ?? '')}`);
    }
    if (mutants + ignored === 0) continue;
    // A run over some lines of the file (`--mutate file:10-20`) is marked as a part.
    const part = !merged && command.includes(`${file}:`);
    const e = {
      file, ...(STATIC ? { static: true } : {}), ...(part ? { part: true } : {}),
      killed, mutants, ignored, survivors, at, commit, command, minutes,
    };
    entries.set(key(e), e);
  }
  writeFileSync(OUT, `${JSON.stringify({
    stryker, modules: modules(), files: [...entries.values()].sort((a, b) => key(a).localeCompare(key(b))),
  }, null, 2)}\n`);
}

/** Module rows: the sums over each module's files (static rows apart); the oldest run's date and commit. */
function modules() {
  const rows = [];
  for (const m of MODULES) {
    for (const isStatic of [false, true]) {
      const es = [...entries.values()]
        .filter((e) => !!e.static === isStatic && (m.module.endsWith('/') ? e.file.startsWith(m.module) : e.file === m.module));
      const mutants = es.reduce((n, e) => n + e.mutants, 0);
      if (mutants === 0) continue;
      const killed = es.reduce((n, e) => n + e.killed, 0);
      const oldest = [...es].sort((a, b) => a.at.localeCompare(b.at))[0];
      const runs = [...new Map(es.map((e) => [`${e.at.slice(0, 16)} ${e.command}`, e])).values()];
      rows.push({
        ...m, ...(isStatic ? { static: true, target: undefined } : {}),
        files: es.map((e) =>
          `${e.file.slice(m.module.endsWith('/') ? m.module.length : e.file.lastIndexOf('/') + 1)}${e.part ? ' (some lines)' : ''}`),
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
// `--rewrite`: docs/mutation-score.json again from its per-file entries (module rows recomputed).
if (process.argv.includes('--rewrite')) {
  writeFileSync(OUT, `${JSON.stringify({
    stryker, modules: modules(), files: [...entries.values()].sort((a, b) => key(a).localeCompare(key(b))),
  }, null, 2)}\n`);
}
// `--remerge <earlier report> <report> <file:lines,...> <command> <minutes> <commit> <ISO date>`: merge and fold again.
const remergeAt = process.argv.indexOf('--remerge');
if (remergeAt >= 0) {
  const [earlier, report, mutateArg, command, minutes, commit, at] = process.argv.slice(remergeAt + 1);
  record(merge(earlier, report, mutateArg), command, Number(minutes), commit, at, true);
}
const runAt = process.argv.indexOf('--run');
if (runAt >= 0) {
  let args = process.argv.slice(runAt + 1);
  const groupsAt = args.indexOf('--groups');
  const only = groupsAt >= 0 ? args[groupsAt + 1].split(',') : null;
  if (groupsAt >= 0) args = [...args.slice(0, groupsAt), ...args.slice(groupsAt + 2)];
  // The command as typed, with the STRYKER_* variables that shape the run (stryker.config.mjs).
  const env = Object.entries(process.env).filter(([k]) => /^STRYKER_(TEST_FILES|STATIC|MERGE)$/.test(k)).map(([k, v]) => `${k}=${v} `);
  // The commit the sandbox is copied from: taken when the run starts (commits made during a run do not count).
  const head = () => execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const stryker = (extra, environment) => {
    const r = spawnSync('node_modules/.bin/stryker', ['run', ...extra, ...args], {
      stdio: 'inherit',
      env: { ...process.env, ...environment },
    });
    if (r.status !== 0) process.exit(r.status ?? 1);
  };
  if (args.includes('--mutate') || args.some((a) => a.startsWith('--mutate=')) || process.env.STRYKER_TEST_FILES) {
    const t0 = Date.now();
    const commit = head();
    stryker([], {});
    const report = process.env.STRYKER_REPORT ?? 'reports/mutation/mutation.json';
    const minutes = Math.round((Date.now() - t0) / 6000) / 10;
    const command = `${env.join('')}npm run test:mutation -- ${args.join(' ')}`;
    const earlier = process.env.STRYKER_MERGE;
    if (earlier) {
      // The minutes and command of the earlier run are added to this one's (its saved entry).
      const e = JSON.parse(readFileSync(earlier, 'utf8'));
      const prev = Object.keys(e.files).map((f) => entries.get(f)).find((x) => x && !x.part);
      const mutateArg = args.find((a) => a.startsWith('--mutate='))?.slice(9) ?? args[args.indexOf('--mutate') + 1];
      record(
        merge(earlier, report, mutateArg),
        prev ? `${prev.command} + ${command}` : command,
        Math.round(((prev?.minutes ?? 0) + minutes) * 10) / 10,
        commit,
        undefined,
        true,
      );
    } else record(report, command, minutes, commit);
  } else {
    // Each group against its own test files, incremental (a mutant whose code and covering tests
    // did not change since the group's last run keeps its result).
    for (const g of GROUPS.filter((x) => !only || only.includes(x.name))) {
      const report = `reports/mutation/${g.name}.json`;
      console.log(`\n== group ${g.name}: ${g.mutate.join(' ')}\n   tests: ${g.tests.join(' ')}`);
      const t0 = Date.now();
      const commit = head();
      stryker(['--mutate', g.mutate.join(','), '--incremental', '--incrementalFile', `reports/stryker-incremental-${g.name}.json`], {
        STRYKER_TEST_FILES: g.tests.join(','),
        STRYKER_REPORT: report,
      });
      const minutes = Math.round((Date.now() - t0) / 6000) / 10;
      console.log(`== group ${g.name}: ${minutes} min`);
      record(report, `npm run test:mutation${args.length ? ` -- ${args.join(' ')}` : ''} (group ${g.name})`, minutes, commit);
    }
  }
}

const rows = modules();
const w = Math.max(...MODULES.map((r) => r.module.length)) + 9;
console.log(`${'MODULE'.padEnd(w)}    SCORE  KILLED/MUTANTS  IGNORED  TARGET  RUN`);
for (const r of rows) {
  const target = r.target ? `>= ${r.target} % ${r.score >= r.target ? 'met' : 'MISSED'}` : '';
  console.log(`${`${r.module}${r.static ? ' (static)' : ''}`.padEnd(w)}  ${`${r.score.toFixed(1)} %`.padStart(7)}  ` +
    `${`${r.killed}/${r.mutants}`.padStart(14)}  ${String(r.ignored).padStart(7)}  ` +
    `${target}  ${r.at.slice(0, 16)} ${r.commit.slice(0, 10)}`);
}
for (const r of rows) for (const s of r.survivors) console.log(`  survived: ${s}`);
