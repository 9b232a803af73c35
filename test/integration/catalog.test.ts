import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createStack, docker, waitFor, type Stack } from './harness.js';
import { planAdd, writeAdd } from '../../src/catalog/catalog.js';

/**
 * What `add` writes runs: the everything template (http, through the edge) under its own name and the
 * memory template (stdio, bridged, with its data volume) under another, reconciled by the real
 * reconciler and listed through the real LiteLLM 1.77.3. The images are the local stand-ins for
 * mcp/everything and mcp/memory (harness TEST_IMAGES); the files are the catalog's, unedited.
 */
describe('catalog templates run as written', { timeout: 240_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await createStack();
    writeAdd(planAdd(stack.settings, 'everything'));
    writeAdd(planAdd(stack.settings, 'memory', 'notes'));
  });
  after(async () => {
    await stack?.cleanup();
    await docker.getVolume(`${stack.id}-notes-data`).remove().catch(() => undefined);
  });

  test('one pass creates both; their tools are listed through LiteLLM under the given names', async () => {
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed, []);
    const tools = await waitFor('both servers listed through LiteLLM', async () => {
      const r = await stack.gateway.listTools({ servers: ['mcp_everything', 'mcp_notes'] });
      return r.ok && r.tools.includes('mcp_everything-echo') && r.tools.includes('mcp_notes-read_graph') ? r.tools : null;
    }, 120_000, 500);
    assert.ok(tools.some((t) => t.startsWith('mcp_notes-')));
    const notes = await docker.getContainer(`${stack.id}-notes`).inspect();
    assert.ok(notes.Config.OpenStdin, 'memory runs as a stdio server (stdin open)');
    assert.ok(notes.Mounts.some((m) => m.Type === 'volume' && m.Name === `${stack.id}-notes-data` && m.Destination === '/data'));
  });
});
