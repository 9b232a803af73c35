import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderJsonSchema, JSON_SCHEMA_PATH } from './write-json-schema.js';

test('schema/desired-state.schema.json is current (regenerate with `npm run schema`)', () => {
  const committed = readFileSync(JSON_SCHEMA_PATH, 'utf8');
  assert.equal(committed, renderJsonSchema(), 'stale: run `npm run schema` and commit the result');
  const js = JSON.parse(committed) as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
  assert.deepEqual(js.required.sort(), ['transport']);
  assert.equal(js.additionalProperties, false);
});
