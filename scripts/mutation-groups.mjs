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

// Ordered by what matters most: the safety checks first, the bridge last.
export const GROUPS = [
  {
    name: 'guards',
    // Ownership labels, the secrets digest in the spec hash, the prune guard, debounce and coalescing.
    mutate: [
      'src/docker/labels.ts',
      'src/reconcile/hash.ts',
      functionRange('src/reconcile/controller.ts', 'pruneDecision'),
      'src/watch/scheduler.ts',
    ],
    tests: t('docker/labels', 'reconcile/hash', 'reconcile/safety', 'watch/scheduler'),
  },
  {
    name: 'secrets',
    // Mode 600 and owner of secrets files, regular files only, path confinement (realpath).
    mutate: ['src/desired/env-file.ts', 'src/fs/safe-read.ts'],
    tests: t('desired/env-file', 'fs/safe-read'),
  },
  {
    name: 'resolve',
    // Which env file and mount sources a server gets (confinement), the model and its hash input.
    mutate: ['src/desired/resolve.ts'],
    // build/build and reconcile/build-plan: a build: or package: server's model (its build spec and tag);
    // desired/remote: url: servers; reconcile/blue-green: the front's and the colours' specs.
    tests: t('desired/confinement', 'desired/resolve', 'desired/gateway-inputs', 'reconcile/safety', 'build/build', 'reconcile/build-plan',
      'desired/remote', 'reconcile/blue-green'),
  },
  {
    name: 'parse',
    // Desired files: reading, YAML with positions, the schema, reserved names (safety.test names
    // each one), path rules (path-rules, confinement), tool policy and url servers (tools, remote).
    mutate: ['src/desired/load.ts', 'src/desired/yaml-located.ts', 'src/desired/schema.ts'],
    tests: t('desired/load', 'desired/schema', 'desired/schema-messages', 'desired/hostile-input', 'desired/path-rules', 'reconcile/safety',
      'desired/confinement', 'desired/tools', 'desired/remote'),
  },
  {
    name: 'planner',
    mutate: ['src/reconcile/planner.ts'],
    tests: t('reconcile/safety', 'reconcile/planner', 'reconcile/planner-golden', 'reconcile/planner-branches', 'reconcile/image-identity',
      'reconcile/credentials', 'reconcile/backoff', 'reconcile/tool-policy-plan', 'desired/remote', 'reconcile/blue-green-executor'),
  },
  {
    name: 'gateway-config',
    // Which LiteLLM config entries are ours.
    mutate: ['src/litellm/config-file.ts'],
    tests: t('litellm/config-file', 'litellm/config-file-ownership', 'reconcile/planner'),
  },
  {
    name: 'bridge',
    mutate: ['src/bridge/**/*.ts', '!src/bridge/**/*.test.ts'],
    tests: t('bridge/stdio-bridge'),
  },
];
