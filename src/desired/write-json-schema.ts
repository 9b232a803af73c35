import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { desiredStateJsonSchema } from './schema.js';

/** `npm run schema`: regenerate schema/desired-state.schema.json from the zod schema. */
export function renderJsonSchema(): string {
  return `${JSON.stringify(desiredStateJsonSchema(), null, 2)}\n`;
}

const here = dirname(fileURLToPath(import.meta.url));
export const JSON_SCHEMA_PATH = resolve(here, '../../../schema/desired-state.schema.json');

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  mkdirSync(dirname(JSON_SCHEMA_PATH), { recursive: true });
  writeFileSync(JSON_SCHEMA_PATH, renderJsonSchema());
  console.log(`wrote ${JSON_SCHEMA_PATH}`);
}
