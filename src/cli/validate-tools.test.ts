import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseDesiredFile } from '../desired/load.js';
import { formatIssue } from '../errors/index.js';
import { toolPolicyWarnings } from './commands/validate.js';

const F = 'desired-state/mcp-fs.yaml';
const server = (tools: string) => {
  const r = parseDesiredFile(`image: mcp/filesystem:1\ntransport: stdio\n${tools}`, F, 'mcp-fs.yaml');
  assert.equal(r.invalid, null);
  return r.server!;
};
const probed = ['read_file', 'write_file', 'list_directory', 'files.search'];

describe("validate's tools: warnings against the last probe", () => {
  test('a pattern or key that matched none of the probed tools is a located warning', () => {
    const d = server('tools:\n  deny: [write_file, "delete_*"]\n  rename: {gone: x}\n  description: {nothing: d}\n');
    assert.deepEqual(toolPolicyWarnings(d, probed).map(formatIssue), [
      `${F}:4:22 warning: tools.deny.1: delete_* matched none of the 4 tools at the last probe`,
      `${F}:5:18 warning: tools.rename.gone: gone matched none of the 4 tools at the last probe`,
      `${F}:6:26 warning: tools.description.nothing: nothing matched none of the 4 tools at the last probe`,
      `${F}:4:3 warning: tools: LiteLLM shows files.search as mcp_fs-files.search, ` +
        'which LLM APIs refuse as a tool name ([A-Za-z0-9_-], 64 at most): add tools.rename.files.search',
    ]);
    const a = server('tools:\n  allow: ["read_*", "stat_*"]\n');
    assert.deepEqual(toolPolicyWarnings(a, probed).map(formatIssue), [
      `${F}:4:21 warning: tools.allow.1: stat_* matched none of the 4 tools at the last probe`,
    ]);
  });

  test('an exposed name LLM APIs refuse once LiteLLM prefixed it suggests a rename; a rename fixes it', () => {
    assert.deepEqual(toolPolicyWarnings(server('tools:\n  deny: [write_file]\n'), probed).map(formatIssue), [
      `${F}:4:3 warning: tools: LiteLLM shows files.search as mcp_fs-files.search, ` +
        'which LLM APIs refuse as a tool name ([A-Za-z0-9_-], 64 at most): add tools.rename.files.search',
    ]);
    assert.deepEqual(toolPolicyWarnings(server('tools:\n  rename: {files.search: search}\n'), probed), []);
  });

  test('no probe yet (or no tools:) means nothing to say', () => {
    assert.deepEqual(toolPolicyWarnings(server('tools:\n  deny: ["nothing_*"]\n'), null), []);
    assert.deepEqual(toolPolicyWarnings(server(''), probed), []);
  });
});
