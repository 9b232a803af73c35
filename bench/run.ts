// `npm run bench [-- --only id,id] [-- --list] [-- --no-docker]`: runs the cases of bench/cases.ts,
// prints each figure beside its baseline from the same run, and writes
// bench/results/<date>.json with the provenance (command, git commit, machine, Node, Docker).
// `npm run readme:figures` turns the newest results into the README's figures table.
// Bounded in count and time; only 127.0.0.1 and containers the case created are contacted.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { CASES } from './cases.js';
import type { BenchRow } from './case.js';
import { RESULTS_DIR, resultFileName, type ResultFile } from './results.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);

function usage(): never {
  console.error('usage: npm run bench [-- --only <id>[,<id>...]] [--no-docker] [--list]');
  process.exit(2);
}

if (args.includes('--list')) {
  for (const c of CASES) console.log(`${c.id.padEnd(20)} ${c.needs.padEnd(7)} ${c.title}`);
  process.exit(0);
}
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? usage()).split(',') : null;
for (const id of only ?? []) if (!CASES.some((c) => c.id === id)) {
  console.error(`unknown case ${id}; cases: ${CASES.map((c) => c.id).join(', ')}`);
  process.exit(2);
}
const selected = CASES.filter((c) => (only ? only.includes(c.id) : true) && !(args.includes('--no-docker') && c.needs === 'docker'));

const git = (...a: string[]): string => execFileSync('git', a, { cwd: root, encoding: 'utf8' }).trim();
const osName = (): string => {
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
  return `${pretty ?? type()} (kernel ${release()})`;
};
const docker = new Docker();
const dockerVersion = await docker.version().then((v) => `${v.Version} (API ${v.ApiVersion})`, () => null);
const started = new Date();
const result: ResultFile = {
  format: 1,
  at: started.toISOString(),
  command: process.env['npm_lifecycle_event'] === 'bench'
    ? `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`
    : `node ${process.argv.slice(1).join(' ')}`,
  git: { commit: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain', '--untracked-files=no').length > 0 },
  node: process.version,
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
    docker: dockerVersion,
  },
  cases: {},
  failed: {},
};

const printed: (BenchRow & { id: string })[] = [];
for (const c of selected) {
  process.stderr.write(`# ${c.id}: ${c.title}\n`);
  const t0 = performance.now();
  try {
    if (c.needs === 'docker' && !dockerVersion) throw new Error('needs dockerd (and the local images: bash scripts/setup.sh)');
    const out = await c.run();
    const seconds = Math.round((performance.now() - t0) / 100) / 10;
    result.cases[c.id] = {
      title: c.title,
      unit: c.unit,
      ...(c.target ? { target: c.target } : {}),
      seconds,
      rows: out.rows,
      data: out.data,
    };
    for (const r of out.rows) printed.push({ id: c.id, ...r });
    process.stderr.write(`# ${c.id}: done in ${seconds} s\n`);
  } catch (err) {
    result.failed[c.id] = err instanceof Error ? err.message : String(err);
    process.stderr.write(`# ${c.id}: FAILED: ${result.failed[c.id]}\n`);
  }
}

const cols = ['id', 'what', 'value', 'baseline', 'note'] as const;
const widths = cols.map((k) => Math.max(k.length, ...printed.map((r) => r[k].length)));
const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
console.log(line(cols.map((c) => c.toUpperCase())));
for (const r of printed) console.log(line(cols.map((k) => r[k])));
if (Object.keys(result.cases).length > 0) {
  const file = join(root, RESULTS_DIR, resultFileName(started));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${join(RESULTS_DIR, resultFileName(started))}; commit it, then npm run readme:figures`);
}
if (Object.keys(result.failed).length > 0) process.exit(1);
