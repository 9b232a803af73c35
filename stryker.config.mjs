// StrykerJS over the modules that decide safety (issue 15): `npm run test:mutation` runs the groups
// of scripts/mutation-groups.mjs one by one, each against its own test files.
// The tap runner runs each compiled node:test file (dist/src/**/*.test.js) as one "test", and
// per-test coverage means a mutant runs only the files that reach its code. Subsets while
// developing: `npm run test:mutation -- --mutate src/watch/scheduler.ts` (arguments after `--` go
// to `stryker run`; scripts/mutation-score.mjs runs it).
import { GROUPS } from './scripts/mutation-groups.mjs';

export default {
  testRunner: 'tap',
  tap: {
    // The folders whose tests can reach a mutated module (doctor, clients, lock, log cannot; cli's
    // validate test spawns the CLI for 28 s per run). Not watch/daemon.test.js: it emits SIGHUP and
    // SIGTERM at its own process, which the tap runner's hook turns into process.exit(NaN), so the
    // daemon keeps running and the file hangs; the scheduler it uses has its own tests.
    // STRYKER_TEST_FILES=a.test.js,b.test.js narrows a subset run to the files that test it.
    testFiles: process.env.STRYKER_TEST_FILES?.split(',') ?? [
      'dist/src/{bridge,config,desired,docker,edge,fs,health,litellm,reconcile}/**/*.test.js',
      'dist/src/watch/scheduler.test.js',
    ],
    nodeArgs: ['--test-reporter=tap', '--require', '{{hookFile}}', '{{testFile}}'],
  },
  buildCommand: 'npx tsc -p tsconfig.stryker.json',
  // The union of the groups in scripts/mutation-groups.mjs (a full run runs them one by one).
  mutate: GROUPS.flatMap((g) => g.mutate),
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants, zod schemas built at import) would run every test file
  // each (~40 s); they are reported as Ignored. STRYKER_STATIC=1 (with STRYKER_TEST_FILES) mutates
  // them too, for a subset such as src/watch/scheduler.ts whose debounce constant is static.
  ignoreStatic: process.env.STRYKER_STATIC !== '1',
  concurrency: 1,
  timeoutMS: 10000,
  // The initial run executes every test file once; on 2 shared cores it took more than Stryker's default 5 min.
  dryRunTimeoutMinutes: 30,
  // Other runs' sandboxes (STRYKER_TMP=.stryker-tmp-<x> for runs side by side) are not copied into this one's.
  ignorePatterns: ['dist', '.cache', '.demo', 'reports', 'bench/results', '.stryker-tmp*'],
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: process.env.STRYKER_REPORT ?? 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, skipFull: false },
  tempDirName: process.env.STRYKER_TMP ?? '.stryker-tmp',
  cleanTempDir: true,
};
