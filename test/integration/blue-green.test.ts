import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStack, waitFor, REPO, type Stack } from './harness.js';
import { callsInLoop } from '../../src/testing/calls.js';
import { frontActivePath } from '../../src/desired/resolve.js';
import { parseActive } from '../../src/front/active.js';

/**
 * Config mode without downtime (ADR 0025), against the real LiteLLM 1.77.3 image: a client calls a
 * tool in a loop through the front while three config changes hand the gateway over from one
 * colour to the other. Needs the branch's reconciler image for the front
 * (MCP_TEST_RECONCILER_IMAGE=<tag> after `bash scripts/images/build-prod.sh <tag>`).
 */
describe('blue/green gateway: config changes under a steady stream of tool calls', { timeout: 900_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await createStack({ gateway: { handover: 'blue-green', mode: 'config' } });
  });
  after(async () => {
    await stack?.cleanup();
  });

  const tools = async (): Promise<string[] | null> => {
    const r = await stack.gateway.listTools();
    return r.ok ? r.tools : null;
  };
  const active = (): string | null => parseActive(readFileSync(frontActivePath(stack.settings), 'utf8'));
  const everything = readFileSync(join(REPO, 'desired-state', 'mcp-everything.yaml'), 'utf8');
  const second = (description: string): string =>
    everything.replace(/^name: everything$/m, 'name: two').replace(/^description: .*$/m, `description: ${description}`);

  test('0 failed calls across 3 config changes; the new server\'s tools appear and go; colours alternate', async () => {
    stack.copyExample('everything');
    assert.deepEqual((await stack.reconciler.reconcile()).result.failed, []);
    await waitFor('mcp_everything-echo through the front', async () => (await tools())?.includes('mcp_everything-echo'), 180_000);
    const first = active();
    assert.ok(first === 'blue' || first === 'green');

    const { calls, stop } = await callsInLoop(stack.gateway.mcpUrl, stack.masterKey, 'mcp_everything-echo', 'itest-blue-green');

    const seen: (string | null)[] = [first];
    const changes: [string, (t: string[]) => boolean][] = [
      [second('the second one'), (t) => t.includes('mcp_two-echo')],
      [second('the second one, described again'), (t) => t.includes('mcp_two-echo')],
      ['', (t) => !t.some((x) => x.startsWith('mcp_two-'))],
    ];
    for (const [yaml, want] of changes) {
      if (yaml) stack.writeDesired('two', yaml);
      else stack.removeDesired('two');
      const before = calls.ok;
      const out = await stack.reconciler.reconcile();
      assert.deepEqual(out.result.failed.map((f) => `${f.op.type} ${f.op.resourceId}: ${f.error}`), []);
      assert.ok(out.result.done.some((o) => o.type === 'switch-gateway'), 'the change was a handover');
      const t = await waitFor('the change through the front', async () => {
        const x = await tools();
        return x && want(x) ? x : null;
      }, 120_000);
      assert.ok(t.includes('mcp_everything-echo'));
      seen.push(active());
      // Calls went on through the change (the loop is not stuck behind it).
      await waitFor('calls after the change', async () => calls.ok > before, 60_000);
    }
    await stop();

    console.log(`# ${calls.ok} calls answered, ${calls.failed.length} failed, active colours ${seen.join(' -> ')}`);
    assert.deepEqual(calls.failed, []);
    assert.ok(calls.ok > 0);
    assert.deepEqual(seen.slice(1), seen[0] === 'blue' ? ['green', 'blue', 'green'] : ['blue', 'green', 'blue']);
    const names = (await stack.containers()).map((c) => c.Names[0]!.slice(1)).filter((n) => /-(litellm|front)/.test(n)).sort();
    assert.deepEqual(names, [`${stack.id}-front`, `${stack.id}-litellm-${seen[3]}`]);
  });
});
