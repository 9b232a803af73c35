import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES } from './cases.js';
import { BEGIN, END, generatedReadme, renderFigures, renderMutation, replaceBlock, type ResultFile } from './results.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

test('the README figures and mutation-score blocks are what npm run readme:figures makes', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.equal(readme, generatedReadme(root, readme, CASES.map((c) => c.id)), 'stale: run `npm run readme:figures` and commit README.md');
});

test('the mutation block shows the score of each module with the date, commit, run time and command of its run; static rows apart', () => {
  const block = renderMutation(JSON.stringify({
    stryker: '9.6.1',
    modules: [{
      module: 'src/reconcile/planner.ts', files: ['planner.ts'], target: 85, killed: 45, mutants: 50, ignored: 3, score: 90, survivors: [],
      at: '2026-12-01T04:00:00.000Z', commit: 'cccccccccccc', command: 'npx stryker run --mutate src/reconcile/planner.ts',
    }, {
      module: 'src/watch/scheduler.ts', static: true, files: ['scheduler.ts'], killed: 3, mutants: 3, ignored: 0, score: 100, survivors: [],
      at: '2026-12-01T05:00:00.000Z', commit: 'dddddddddddd', command: 'STRYKER_STATIC=1 npm run test:mutation', minutes: 4.5,
    }],
  }));
  assert.match(
    block,
    /\| `src\/reconcile\/planner.ts` \| 45 \/ 50 \| 90 % \| >= 85 % \| 3 \| 2026-12-01 04:00 UTC at cccccccccc: `npx stryker run/,
  );
  const schedulerRow = new RegExp(
    /\| `src\/watch\/scheduler.ts` \(static constants\) \| 3 \/ 3 \| 100 % \|  \| 0 \| /.source +
      /2026-12-01 05:00 UTC at dddddddddd, 4.5 min: `STRYKER_STATIC=1/.source,
  );
  assert.match(block, schedulerRow);
  assert.match(renderMutation(null), /Not run yet/);
});

const run = (at: string, commit: string, cases: Record<string, string>): { file: string; result: ResultFile } => ({
  file: `${at}.json`,
  result: {
    format: 1, at, command: 'npm run bench', git: { commit, dirty: false }, node: 'v22.0.0',
    machine: { cpus: 2, cpuModel: 'cpu', memGiB: 4, os: 'Debian', loadavg: [0.5, 0.4, 0.3], docker: '20.10' },
    cases: Object.fromEntries(Object.entries(cases).map(([id, v]) => [
      id,
      { title: id, unit: 'ms', seconds: 1, rows: [{ what: id, value: v, baseline: 'b', note: '' }], data: {} },
    ])),
    failed: {},
  },
});

test('each case shows its figures from the newest result file that has it, with that run as the source', () => {
  const block = renderFigures([
    run('2026-01-01T00-00-00Z', 'aaaaaaaaaaaa', { x: 'old x', y: 'old y' }),
    run('2026-01-02T00-00-00Z', 'bbbbbbbbbbbb', { y: 'new y' }),
  ], ['x', 'y', 'z']);
  assert.match(block, /\| x \| old x \| b \| `x` \[1\] \|/);
  assert.match(block, /\| y \| new y \| b \| `y` \[2\] \|/);
  assert.doesNotMatch(block, /old y/);
  assert.match(block, /\[1\] .*2026-01-01T00-00-00Z\.json.* at aaaaaaaaaa,/);
  assert.match(block, /\[2\] .*2026-01-02T00-00-00Z\.json.* at bbbbbbbbbb,/);
});

test('a README without the figures markers is an error, not a silent append', () => {
  assert.throws(() => replaceBlock('# readme\n', 'x'), /no figures block/);
  assert.equal(replaceBlock(`a\n${BEGIN}\nold\n${END}\nb`, 'NEW'), 'a\nNEW\nb');
});
