#!/usr/bin/env node
// After `stryker run` (npm run test:mutation): the mutation score per module from
// reports/mutation/mutation.json and every surviving mutant. With --save "<command>", the modules
// this run covered are updated in docs/mutation-score.json (each with its own date, commit and
// command, so subset runs add up); `npm run readme:figures` puts that file into the README.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const MODULES = [
  { module: 'src/desired/', target: 85 },
  { module: 'src/reconcile/planner.ts', target: 85 },
  { module: 'src/reconcile/hash.ts' },
  { module: 'src/reconcile/controller.ts', what: 'pruneDecision only' },
  { module: 'src/docker/labels.ts' },
  { module: 'src/litellm/config-file.ts' },
  { module: 'src/bridge/' },
  { module: 'src/watch/scheduler.ts', what: 'debounce and coalescing' },
];
const DETECTED = new Set(['Killed', 'Timeout']);
const COUNTED = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage']);
const OUT = 'docs/mutation-score.json';

const saveAt = process.argv.indexOf('--save');
const command = saveAt >= 0 ? process.argv[saveAt + 1] : null;
const report = JSON.parse(readFileSync(process.env.STRYKER_REPORT ?? 'reports/mutation/mutation.json', 'utf8'));
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
  rows.push({ ...m, files, killed, mutants, ignored, score: Math.round((killed / mutants) * 1000) / 10, survivors, at, commit, command });
}
const w = Math.max(...MODULES.map((r) => r.module.length));
console.log(`${'MODULE'.padEnd(w)}    SCORE  KILLED/MUTANTS  IGNORED  TARGET`);
for (const r of rows) {
  const target = r.target ? `>= ${r.target} % ${r.score >= r.target ? 'met' : 'MISSED'}` : '';
  console.log(`${r.module.padEnd(w)}  ${`${r.score.toFixed(1)} %`.padStart(7)}  ${`${r.killed}/${r.mutants}`.padStart(14)}  ${String(r.ignored).padStart(7)}  ${target}`);
}
for (const r of rows) for (const s of r.survivors) console.log(`  survived: ${s}`);
if (command) {
  const prev = existsSync(OUT) ? JSON.parse(readFileSync(OUT, 'utf8')) : { modules: [] };
  const byModule = new Map(prev.modules.map((r) => [r.module, r]));
  for (const r of rows) byModule.set(r.module, r);
  const modules = MODULES.map((m) => byModule.get(m.module)).filter(Boolean);
  const stryker = JSON.parse(readFileSync('node_modules/@stryker-mutator/core/package.json', 'utf8')).version;
  writeFileSync(OUT, `${JSON.stringify({ stryker, modules }, null, 2)}\n`);
  console.log(`\nupdated ${OUT} (${rows.map((r) => r.module).join(', ')}); then npm run readme:figures`);
}
