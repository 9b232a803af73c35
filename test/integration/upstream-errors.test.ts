import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createStack, waitFor, REPO, type Stack } from './harness.js';

/**
 * One failing server must not take LiteLLM's /mcp/ down for every client (ADR 0021, "An upstream
 * JSON-RPC error to tools/call breaks LiteLLM 1.77.3"): the edge answers a tools/call that failed
 * with a JSON-RPC error — from an http server or a stdio server — as a tool error, and LiteLLM keeps
 * serving the other servers afterwards. A stdio server in a crash loop costs each request a short,
 * bounded wait (BRIDGE_LIMITS.restartWaitMs), not LiteLLM's 30 s.
 */
describe('a failing tools/call through LiteLLM', { timeout: 300_000 }, () => {
  let stack: Stack;
  const gatewayClient = async (): Promise<Client> => {
    const c = new Client({ name: 'itest', version: '1' });
    const headers = { 'x-litellm-api-key': `Bearer ${stack.masterKey}` };
    await c.connect(new StreamableHTTPClientTransport(new URL(stack.gateway.mcpUrl), { requestInit: { headers } }));
    return c;
  };
  const everything = ['mcp_pipe-ok', 'mcp_pipe-rpc-error', 'mcp_tools-ok', 'mcp_tools-rpc-error'];
  /** One tools/call in its own session, as a client does it; 30 s is half of LiteLLM's 60 s hang. */
  const call = async (name: string): Promise<unknown> => {
    const c = await gatewayClient();
    try {
      return (await c.callTool({ name, arguments: {} }, undefined, { timeout: 30_000 })).content;
    } finally {
      await c.close();
    }
  };
  const listed = async (): Promise<string[]> => {
    const c = await gatewayClient();
    try {
      return (await c.listTools(undefined, { timeout: 30_000 })).tools.map((t) => t.name).sort();
    } finally {
      await c.close();
    }
  };

  before(async () => {
    stack = await createStack();
    for (const server of ['tools', 'pipe']) {
      const dir = join(stack.settings.projectsRoot, server);
      mkdirSync(dir, { recursive: true });
      copyFileSync(join(REPO, 'test/fixtures/tools-server.mjs'), join(dir, 'server.mjs'));
      writeFileSync(join(dir, 'tools.json'), JSON.stringify(['ok', 'rpc-error']));
    }
    stack.writeDesired(
      'tools',
      'image: mcp/everything:latest\ntransport: http\nport: 3001\ncommand: [node, /app/server.mjs]\n' +
        'mounts: ["server.mjs:/app/server.mjs", "tools.json:/config/tools.json"]\n',
    );
    stack.writeDesired(
      'pipe',
      'image: mcp/everything:latest\ntransport: stdio\ncommand: [node, /app/server.mjs]\nenv: {STDIO: "1"}\n' +
        'mounts: ["server.mjs:/app/server.mjs", "tools.json:/config/tools.json"]\n',
    );
    // A stdio server whose process exits at once, in Docker's restart loop: the bridge cannot initialize it.
    stack.writeDesired('dead', 'image: mcp/everything:latest\ntransport: stdio\ncommand: [node, -e, "process.exit(3)"]\n');
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed, []);
    const both = (names: string[]) => names.includes('mcp_tools-ok') && names.includes('mcp_pipe-ok');
    await waitFor('both servers through LiteLLM', async () => both(await listed().catch((): string[] => [])), 120_000, 500);
  });
  after(async () => {
    await stack?.cleanup();
  });

  test('an http server answering a JSON-RPC error: the client gets it as a tool error, LiteLLM keeps serving', async () => {
    assert.deepEqual(await call('mcp_tools-ok'), [{ type: 'text', text: 'ok' }]);
    assert.deepEqual(await call('mcp_tools-rpc-error'), [{ type: 'text', text: 'MCP error -32603: boom from upstream' }]);
    assert.deepEqual(await listed(), everything);
    assert.deepEqual(await call('mcp_tools-ok'), [{ type: 'text', text: 'ok' }]);
  });

  test('a stdio server answering a JSON-RPC error: the bridge answers a tool error, LiteLLM keeps serving', async () => {
    assert.deepEqual(await call('mcp_pipe-ok'), [{ type: 'text', text: 'ok' }]);
    assert.deepEqual(await call('mcp_pipe-rpc-error'), [{ type: 'text', text: 'MCP error -32603: boom from upstream' }]);
    assert.deepEqual(await call('mcp_pipe-ok'), [{ type: 'text', text: 'ok' }]);
    assert.deepEqual(await listed(), everything);
  });

  test('a stdio server in a crash loop: the call fails as LiteLLM words it, LiteLLM keeps serving the others', async () => {
    // The bridge fails initialize (restarting, or exited during initialize); 1.77.3 answers that itself.
    assert.deepEqual(await call('mcp_dead-echo'), [{ type: 'text', text: 'MCP client session is not initialized' }]);
    assert.deepEqual(await call('mcp_tools-ok'), [{ type: 'text', text: 'ok' }]);
    assert.deepEqual(await listed(), everything);
  });
});
