// What `npm run test:mutation` mutates, in groups that each run only the test files written for
// them (ADR 0010). The tap runner starts one node process per test file per mutant (1-4 s each on
// the shared 2 cores), and a mutant in desired/ is reached by a dozen files (every test that
// resolves a server), so one run over everything with every test file took hours; a group runs
// its mutants against its own tests only. stryker.config.mjs mutates the union (for --mutate runs).
import { readFileSync } from 'node:fs';

/** `file:start-end` lines of one exported function, found by name (line numbers move). */
export function functionRange(file, name) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith(`export function ${name}(`));
  if (start < 0) throw new Error(`${file}: no function ${name}`);
  const end = lines.findIndex((l, i) => i > start && l === '}');
  return `${file}:${start + 1}-${end + 1}`;
}

const t = (...files) => files.map((f) => `dist/src/${f}.test.js`);

export const GROUPS = [
  {
    name: 'desired',
    // Desired files, secrets files, path confinement, reserved names.
    mutate: ['src/desired/**/*.ts', '!src/desired/**/*.test.ts', '!src/desired/write-json-schema.ts', 'src/fs/safe-read.ts'],
    tests: t('desired/env-file', 'desired/confinement', 'desired/load', 'desired/hostile-input', 'desired/resolve', 'fs/safe-read', 'reconcile/safety'),
  },
  {
    name: 'planner',
    // The plan, the spec hash (secrets digest), the prune guard.
    mutate: ['src/reconcile/planner.ts', 'src/reconcile/hash.ts', functionRange('src/reconcile/controller.ts', 'pruneDecision')],
    tests: t('reconcile/safety', 'reconcile/planner', 'reconcile/planner-golden', 'reconcile/hash', 'reconcile/image-identity', 'reconcile/credentials'),
  },
  {
    name: 'ownership',
    // Docker labels, LiteLLM config ownership, the pass scheduler (debounce, coalescing).
    mutate: ['src/docker/labels.ts', 'src/litellm/config-file.ts', 'src/watch/scheduler.ts'],
    tests: t('docker/labels', 'litellm/config-file', 'watch/scheduler', 'reconcile/safety', 'reconcile/planner'),
  },
  {
    name: 'bridge',
    mutate: ['src/bridge/**/*.ts', '!src/bridge/**/*.test.ts'],
    tests: t('bridge/stdio-bridge'),
  },
];
