import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AUDIT_QUERY } from './db.js';

test('the README shows the audit query doctor --db prints, word for word', () => {
  const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
  const words = (s: string): string => s.replace(/\s+/g, ' ').trim();
  assert.ok(
    words(readme).includes(words(AUDIT_QUERY)),
    'README.md: paste AUDIT_QUERY of src/doctor/db.ts into "The database path, end to end"',
  );
  assert.match(
    AUDIT_QUERY,
    /split_part\("mcp_namespaced_tool_name", '\/', 1\) AS server/,
    'the server from the namespaced name, not from metadata.mcp_server_name',
  );
});
