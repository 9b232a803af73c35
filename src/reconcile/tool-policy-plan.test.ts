import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from './planner.js';
import { renderPlan } from './render-plan.js';
import { execute } from './executor.js';
import { writeOps } from '../model/types.js';
import { toolPolicyPath } from '../desired/resolve.js';
import { testSettings, model, HTTP, baseInput, converged } from '../testing/fixtures.js';
import { InMemoryRuntime, MemoryConfigStore } from '../testing/fake-runtime.js';
import { createLogger } from '../log/logger.js';
import { parsePolicyFile, renderPolicyFile } from '../policy/tool-policy.js';

const s = testSettings();
const path = toolPolicyPath(s);
const fsYaml = (tools: string): string => `image: mcp/filesystem:1\ntransport: stdio\n${tools}`;
const fs1 = model(s, 'fs', fsYaml('tools:\n  deny: ["write_*"]\n'));
const fs2 = model(s, 'fs', fsYaml('tools:\n  deny: ["write_*", move_file]\n  rename: {read_file: cat}\n'));
const plain = model(s, 'everything', HTTP);

/** Converged on fs1, with the policy file as the edge reads it. */
function steady(): ReturnType<typeof baseInput> {
  const input = baseInput(s, [fs1, plain], { toolPolicy: { path } });
  const config = plan(input).operations.find((o) => o.type === 'write-gateway-config');
  const text = config && config.type === 'write-gateway-config' ? config.text : '';
  return { ...input, observed: { ...converged(input, text), toolPolicyText: renderPolicyFile({ fs: fs1.toolPolicy! }) } };
}

describe('the tool policy file in the plan (ADR 0021)', () => {
  test('from nothing, the policy file is written first, before the edge and any registration', () => {
    const p = plan(baseInput(s, [fs1, plain], { toolPolicy: { path } }));
    const lines = renderPlan(p).split('\n');
    assert.equal(lines[0], '+ create-network network:mcp-net: not found');
    assert.equal(lines[1], `~ write-tool-policy file:${path}: not found`);
    const op = p.operations[1]!;
    assert.ok(op.type === 'write-tool-policy');
    const back = parsePolicyFile(op.text);
    assert.ok(back.ok);
    assert.deepEqual(Object.keys(back.servers), ['fs'], 'only servers with tools: are in it');
    assert.deepEqual(back.servers['fs']?.deny, ['write_*']);
  });

  test('steady state: nothing to do', () => {
    assert.deepEqual(writeOps(plan(steady())), []);
  });

  test('a policy change writes the file and nothing else: no container, no gateway config, no restart', () => {
    const input = { ...steady(), servers: [fs2, plain] };
    assert.equal(fs2.specHash, fs1.specHash, 'tools: is not part of the container spec');
    assert.deepEqual(fs2.gatewayEntry, fs1.gatewayEntry, 'nor of the gateway entry');
    assert.equal(renderPlan(plan(input)), `~ write-tool-policy file:${path}: tool policy changed`);
  });

  test('a server whose file went bad keeps its policy as the file has it', () => {
    const input = { ...steady(), servers: [plain], hold: ['fs'] };
    assert.deepEqual(writeOps(plan(input)), []);
  });

  test('a removed server loses its policy', () => {
    const input = { ...steady(), servers: [plain] };
    const op = plan(input).operations.find((o) => o.type === 'write-tool-policy');
    assert.ok(op && op.type === 'write-tool-policy');
    assert.deepEqual(parsePolicyFile(op.text), { ok: true, servers: {} });
  });

  test('the executor writes it as a shared file in the first lane; a second pass writes nothing', async () => {
    const runtime = new InMemoryRuntime();
    const config = new MemoryConfigStore();
    const input = baseInput(s, [fs1], { toolPolicy: { path } });
    const first = await execute(plan(input), { runtime, config, gateway: null, log: createLogger({ level: 'silent' }) });
    assert.deepEqual(first.failed, []);
    assert.equal(config.sharedWrites, 1);
    assert.equal(config.files.get(path), renderPolicyFile({ fs: fs1.toolPolicy! }));
    const again = plan({ ...input, observed: { ...input.observed, toolPolicyText: config.read(path) } });
    assert.ok(!again.operations.some((o) => o.type === 'write-tool-policy'));
  });

  test('without toolPolicy in the input (older callers) no policy file is planned', () => {
    assert.ok(!plan(baseInput(s, [fs1])).operations.some((o) => o.type === 'write-tool-policy'));
  });
});
