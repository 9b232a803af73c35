#!/usr/bin/env node
// `npm run lint:lines`: no line of a .ts, .mjs or .js file under src/, test/, bench/ or scripts/ is longer than
// MAX characters (the style rule: "Keep lines readable (<= 140 chars)"). Lists file:line (and the length) of every
// longer line and exits 1; exits 0 when there is none. node_modules and dist are never read.
// scripts/run-tests.mjs runs it first, so `npm test` and `npm run test:unit` fail on a long line.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX = 140;
const ROOTS = ['src', 'test', 'bench', 'scripts'];
const EXTENSIONS = ['.ts', '.mjs', '.js'];
const SKIP_DIRS = new Set(['node_modules', 'dist']);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Repository-relative paths (with /) of the files to check below `dir`; symlinks are not followed. */
function files(dir) {
  let entries;
  try {
    entries = readdirSync(join(repo, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  const out = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...files(path));
    } else if (e.isFile() && EXTENSIONS.some((x) => e.name.endsWith(x))) out.push(path);
  }
  return out;
}

const long = [];
let checked = 0;
for (const file of ROOTS.flatMap((r) => files(r))) {
  checked++;
  readFileSync(join(repo, file), 'utf8').split('\n').forEach((line, i) => {
    // Characters as an editor counts them (code points), not UTF-16 units; a CR of a CRLF ending is no character.
    const length = [...line.replace(/\r$/, '')].length;
    if (length > MAX) long.push(`${file}:${i + 1}: ${length} characters`);
  });
}
if (long.length > 0) {
  console.error(long.join('\n'));
  console.error(`${long.length} line(s) longer than ${MAX} characters`);
  process.exit(1);
}
console.log(`lines: ${checked} files, none longer than ${MAX} characters`);
