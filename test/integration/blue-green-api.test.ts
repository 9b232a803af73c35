import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { managedGatewayOnDouble, UNUSED_DATABASE_URL } from '../litellm-db/proxy.js';
import { createStack, waitFor, type Stack } from './harness.js';
import { callsInLoop } from '../../src/testing/calls.js';
import { LiteLLMApi, apiIdPrefix, apiServerId } from '../../src/litellm/api.js';
import { frontActivePath } from '../../src/desired/resolve.js';
import { parseActive } from '../../src/front/active.js';
import { writeOps } from '../../src/model/types.js';

/**
 * The blue/green gateway in API mode (ADR 0025, ADR 0008), the user's own set-up: LiteLLM with a
 * database, servers registered through its management API. A change of the gateway itself (here its
 * env file) hands over to the other colour, which loads the registered servers from the database at
 * its start; a client calling a tool through the front sees no failed call, and a server dropped after
 * the handover is registered with the new colour.
 *
 * Both colours run the real proxy on the Prisma double (test/litellm-db/). A real database is shared by
 * both processes; the double keeps its rows in memory per process and shares them only through its
 * state file, which each process reads at start and rewrites after each of its own writes. That is
 * what a handover needs (the standby starts after the rows were written), but the double cannot show
 * two live processes writing to one database (ADR 0008 lists what it cannot show).
 */
describe('blue/green gateway in API mode (real LiteLLM on the Prisma double, shared state file)', { timeout: 1_200_000 }, () => {
  let stack: Stack;
  let stateDir = '';
  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'prisma-double-shared-'));
    chmodSync(stateDir, 0o777); // LiteLLM's user in the image writes the state file here
    const double = managedGatewayOnDouble() as { entrypoint: string[]; mounts: string[] };
    stack = await createStack({
      gateway: { ...double, mounts: [...double.mounts, `${stateDir}:/var/lib/prisma-double`], handover: 'blue-green' },
    });
    appendFileSync(stack.settings.gateway.envFile, `${UNUSED_DATABASE_URL}\nPRISMA_DOUBLE_STATE=/var/lib/prisma-double/db.json\n`);
  });
  after(async () => {
    await stack?.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const active = (): string | null => parseActive(readFileSync(frontActivePath(stack.settings), 'utf8'));
  const served = (server: string): Promise<string[]> =>
    waitFor(`${server} tools through the front`, async () => {
      const t = await stack.gateway.listTools({ timeoutMs: 10_000 });
      return t.ok && t.tools.includes(`${server}-echo`) ? t.tools : null;
    }, 300_000);
  /** Passes until API mode, nothing failed, nothing left to write. */
  const converge = (what: string, done: () => Promise<boolean>) =>
    waitFor(what, async () => {
      const out = await stack.reconciler.reconcile();
      if (out.gatewayMode.mode !== 'api' || out.result.failed.length > 0 || writeOps(out.plan).length > 0) return null;
      return (await done()) ? out : null;
    }, 400_000, 1_000);

  test('a gateway change hands over without a failed call; the new colour serves the registered servers, ' +
    'and a server dropped after it is registered there', async () => {
    const api = new LiteLLMApi(stack.settings.gateway.url, () => stack.masterKey);
    const ours = async (): Promise<string[]> =>
      (await api.list()).map((r) => r.server_id).filter((id) => id.startsWith(apiIdPrefix(stack.id))).sort();
    stack.copyExample('everything');
    await converge('API mode with mcp_everything registered', async () => (await ours()).length === 1);
    await served('mcp_everything');
    const first = active();
    assert.ok(first === 'blue' || first === 'green');

    const { calls, stop } = await callsInLoop(stack.gateway.mcpUrl, stack.masterKey, 'mcp_everything-echo', 'itest-blue-green-api');
    try {
      await waitFor('calls before the change', async () => calls.ok > 0, 60_000);
      // A change of the gateway's own spec (its env file): in API mode the only thing that replaces LiteLLM.
      appendFileSync(stack.settings.gateway.envFile, 'MCP_TEST_ROUND=1\n');
      const handover = await stack.reconciler.reconcile();
      assert.deepEqual(handover.result.failed.map((f) => `${f.op.type} ${f.op.resourceId}: ${f.error}`), []);
      const steps = handover.result.done.map((o) => o.type).filter((t) => /gateway|container/.test(t));
      assert.deepEqual(steps, ['create-container', 'await-gateway', 'switch-gateway', 'retire-gateway'], 'a handover, not a restart');
      assert.equal(handover.gatewayMode.mode, 'api');
      const second = active();
      assert.equal(second, first === 'blue' ? 'green' : 'blue');
      // The new colour loaded the row at its start: the server is served with no registration in this pass.
      assert.ok(!handover.result.done.some((o) => o.type === 'api-create' || o.type === 'api-delete'));
      await served('mcp_everything');
      const before = calls.ok;
      await waitFor('calls after the handover', async () => calls.ok > before, 60_000);

      // A server dropped now is POSTed through the front to the new colour, and served there.
      const two = readFileSync(join(stack.settings.desiredDir, 'mcp-everything.yaml'), 'utf8').replace(/^name: everything$/m, 'name: two');
      stack.writeDesired('two', two);
      await converge('mcp_two registered', async () => (await ours()).length === 2);
      const tools = await served('mcp_two');
      assert.ok(tools.includes('mcp_everything-echo'));
      assert.deepEqual(await ours(), [apiServerId(stack.id, 'everything'), apiServerId(stack.id, 'two')].sort(), 'each row once');
      assert.equal(active(), second, 'a registration is no handover');
    } finally {
      await stop();
    }
    console.log(`# ${calls.ok} calls answered, ${calls.failed.length} failed, active ${first} -> ${active()}`);
    assert.deepEqual(calls.failed, []);
    const names = (await stack.containers()).map((c) => c.Names[0]!.slice(1)).filter((n) => /-(litellm|front)/.test(n)).sort();
    assert.deepEqual(names, [`${stack.id}-front`, `${stack.id}-litellm-${active()}`]);
  });
});
