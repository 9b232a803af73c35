// `npm run readme:figures`: rewrites the README's figures block from bench/results/ (the newest
// result per case) and its mutation-score block from docs/mutation-score.json. bench/figures.test.ts
// fails when the committed README differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES } from './cases.js';
import { generatedReadme } from './results.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const readmePath = join(root, 'README.md');
const before = readFileSync(readmePath, 'utf8');
const after = generatedReadme(root, before, CASES.map((c) => c.id));
writeFileSync(readmePath, after);
console.log(before === after ? 'README.md figures: up to date' : 'README.md figures: rewritten');
