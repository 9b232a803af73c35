/**
 * Worst-case parse times for inputs at their caps (issue 14: the daemon parses desired files on its
 * event loop, so the slowest file we accept bounds how long one save can hold it).
 * `npm run build && node dist/bench/hostile-parse.js` prints the median of 7 runs after 2 warm-ups.
 */
import { parseDesiredFile } from '../src/desired/load.js';
import { MAX_YAML_BYTES } from '../src/desired/yaml-located.js';
import { lintFile, MAX_DOCTOR_BYTES } from '../src/doctor/lint.js';

const HEAD = 'image: a:1\ntransport: http\nport: 1\n';

function fill(prefix: string, line: (i: number) => string, max: number): string {
  let out = prefix;
  for (let i = 0; ; i++) {
    const next = line(i);
    if (Buffer.byteLength(out) + Buffer.byteLength(next) > max) return out;
    out += next;
  }
}

function median(f: () => unknown): number {
  f();
  f();
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    f();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[3] ?? NaN;
}

const cases: [string, () => unknown][] = [
  ['desired: unknown top-level keys', () => parseDesiredFile(fill(HEAD, (i) => `k${i}: 1\n`, MAX_YAML_BYTES), 'f', 'mcp-x.yaml')],
  [
    'desired: env map of tiny keys',
    () => parseDesiredFile(fill(`${HEAD}env:\n`, (i) => `  K${i}: v\n`, MAX_YAML_BYTES), 'f', 'mcp-x.yaml'),
  ],
  [
    'desired: numeric env values kept as written',
    () => parseDesiredFile(fill(`${HEAD}env:\n`, (i) => `  K${i}: 1.10\n`, MAX_YAML_BYTES), 'f', 'mcp-x.yaml'),
  ],
  ['desired: duplicate keys', () => parseDesiredFile(fill(HEAD, () => 'image: b:1\n', MAX_YAML_BYTES), 'f', 'mcp-x.yaml')],
  ['desired: deep flow nesting', () => parseDesiredFile(`a: ${'['.repeat(MAX_YAML_BYTES / 2 - 8)}`, 'f', 'mcp-x.yaml')],
  [
    'doctor: config with many servers',
    () => lintFile(
      'config.yaml',
      fill('mcp_servers:\n', (i) => `  s${i}:\n    url: http://x/mcp/\n    transport: http\n`, MAX_DOCTOR_BYTES),
    ),
  ],
  ['doctor: one map of tiny keys', () => lintFile('config.yaml', fill('mcp_servers:\n  s:\n', (i) => `    k${i}: v\n`, MAX_DOCTOR_BYTES))],
];
console.log(`caps: desired/settings ${MAX_YAML_BYTES} B, doctor ${MAX_DOCTOR_BYTES} B`);
for (const [name, f] of cases) console.log(`${name.padEnd(46)} ${median(f).toFixed(0).padStart(5)} ms`);
