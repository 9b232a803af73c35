#!/usr/bin/env node
// After `stryker run` (npm run test:mutation): the mutation score per module from
// reports/mutation/mutation.json, the surviving mutants, and, when the run covered every module,
// docs/mutation-score.json (the README block is generated from it by `npm run readme:figures`).
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const MODULES = [
  { id: 'src/desired/', target: 85 },
  { id: 'src/reconcile/planner.ts', target: 85 },
  { id: 'src/reconcile/hash.ts' },
  { id: 'src/reconcile/controller.ts', what: 'pruneDecision only' },
  { id: 'src/docker/labels.ts' },
  { id: 'src/litellm/config-file.ts' },
  { id: 'src/bridge/' },
  { id: 'src/watch/scheduler.ts' },
];
const DETECTED = new Set(['Killed', 'Timeout']);
const COUNTED = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage']);

const report = JSON.parse(readFileSync('reports/mutation/mutation.json', 'utf8'));
const rows = [];
const survivors = [];
for (const m of MODULES) {
  let detected = 0;
  let total = 0;
  let other = 0;
  for (const [file, f] of Object.entries(report.files)) {
    if (!(m.id.endsWith('/') ? file.startsWith(m.id) : file === m.id)) continue;
    for (const mu of f.mutants) {
      if (!COUNTED.has(mu.status)) {
        other++;
        continue;
      }
      total++;
      if (DETECTED.has(mu.status)) detected++;
      else survivors.push(`${file}:${mu.location.start.line}:${mu.location.start.column} ${mu.status} ${mu.mutatorName}: ${JSON.stringify(mu.replacement ?? '')}`);
    }
  }
  rows.push({ module: m.id, ...(m.what ? { what: m.what } : {}), killed: detected, mutants: total, excluded: other, score: total ? Math.round((detected / total) * 1000) / 10 : null, ...(m.target ? { target: m.target } : {}) });
}
const w = Math.max(...rows.map((r) => r.module.length));
console.log(`${'MODULE'.padEnd(w)}  SCORE   KILLED/MUTANTS  TARGET`);
for (const r of rows) {
  const score = r.score === null ? '-' : `${r.score.toFixed(1)} %`;
  const target = r.target ? `>= ${r.target} % ${r.score !== null && r.score >= r.target ? 'met' : 'MISSED'}` : '';
  console.log(`${r.module.padEnd(w)}  ${score.padStart(7)} ${`${r.killed}/${r.mutants}`.padStart(15)}  ${target}`);
}
console.log(`\n${survivors.length} surviving mutants${survivors.length ? ':' : ''}`);
for (const s of survivors) console.log(`  ${s}`);

if (rows.every((r) => r.mutants > 0)) {
  const all = rows.reduce((a, r) => ({ killed: a.killed + r.killed, mutants: a.mutants + r.mutants }), { killed: 0, mutants: 0 });
  const out = {
    at: new Date().toISOString(),
    command: 'npm run test:mutation',
    commit: execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(),
    stryker: JSON.parse(readFileSync('node_modules/@stryker-mutator/core/package.json', 'utf8')).version,
    total: { ...all, score: Math.round((all.killed / all.mutants) * 1000) / 10 },
    modules: rows,
    survivors,
  };
  writeFileSync('docs/mutation-score.json', `${JSON.stringify(out, null, 2)}\n`);
  console.log('\nwrote docs/mutation-score.json; then npm run readme:figures');
} else {
  console.log('\n(a subset run: docs/mutation-score.json left as it was)');
}
