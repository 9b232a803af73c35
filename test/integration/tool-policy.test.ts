import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createStack, docker, waitFor, REPO, type Stack } from './harness.js';
import { writeOps } from '../../src/model/types.js';
import { toolPolicyPath } from '../../src/desired/resolve.js';

/**
 * Tool policy (desired `tools:`, ADR 0021) through the real LiteLLM 1.77.3 in config mode: the
 * edge hides denied tools from tools/list, refuses calls to them even by a guessed name, serves
 * renames, and a policy change applies with no container restarted (servers, edge, LiteLLM).
 * One http server (mcp/everything over streamable HTTP) and one stdio server (the same image over stdio).
 */
describe('tool policy through LiteLLM', { timeout: 300_000 }, () => {
  let stack: Stack;
  const http = (tools: string): string =>
    'image: mcp/everything:latest\ntransport: http\ncommand: ["node", "dist/index.js", "streamableHttp"]\n' +
      `port: 3001\nenv: {PORT: 3001}\n${tools}`;
  const stdio = (tools: string): string =>
    `image: mcp/everything:latest\ntransport: stdio\ncommand: ["node", "dist/index.js", "stdio"]\n${tools}`;
  const first = {
    web: 'tools:\n  deny: [get-env, "gzip-*", "toggle-*", "trigger-*"]\n  rename: {get-sum: add_numbers}\n' +
      '  description: {echo: Echo a message back (policy)}\n',
    pipe: 'tools:\n  allow: [echo, get-sum]\n',
  };
  const gatewayClient = async (): Promise<Client> => {
    const c = new Client({ name: 'itest', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(stack.gateway.mcpUrl), {
      requestInit: { headers: { 'x-litellm-api-key': `Bearer ${stack.masterKey}` } },
    }));
    return c;
  };
  const done = async (c: Client): Promise<void> => {
    await (c.transport as StreamableHTTPClientTransport | undefined)?.terminateSession();
    await c.close();
  };
  const listed = async (): Promise<{ name: string; description?: string | undefined }[]> => {
    const c = await gatewayClient();
    try {
      return (await c.listTools()).tools;
    } finally {
      await done(c);
    }
  };
  const names = async (prefix: string): Promise<string[]> => (await listed()).map((t) => t.name).filter((n) => n.startsWith(prefix)).sort();
  /** The content a client gets for a tools/call through LiteLLM (which drops isError: 1.77.3 answers false either way). */
  const call = async (name: string, args: Record<string, unknown> = {}): Promise<unknown> => {
    const c = await gatewayClient();
    try {
      return (await c.callTool({ name, arguments: args }, undefined, { timeout: 30_000 })).content;
    } finally {
      await done(c);
    }
  };
  const refused = (tool: string) => [{ type: 'text', text: `MCP error -32602: Unknown tool: ${tool}` }];
  /** Id and start time of every container of the stack, by name. */
  const starts = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const c of await stack.containers()) {
      const i = await docker.getContainer(c.Id).inspect();
      out[i.Name] = `${i.Id} ${i.State.StartedAt} restarts=${i.RestartCount}`;
    }
    return out;
  };
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(REPO, 'dist/src/main.js'), ...args, '--config', stack.settingsFile], {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });

  before(async () => {
    stack = await createStack();
    stack.writeDesired('web', http(first.web));
    stack.writeDesired('pipe', stdio(first.pipe));
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed, []);
    await waitFor('both servers through LiteLLM', async () => {
      const r = await stack.gateway.listTools();
      return r.ok && r.tools.includes('mcp_web-echo') && r.tools.includes('mcp_pipe-echo');
    }, 120_000, 500);
  });
  after(async () => {
    await stack?.cleanup();
  });

  test('the policy file is written for the edge (0644, sorted) and the edge reads it through its read-only folder mount', async () => {
    const path = toolPolicyPath(stack.settings);
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { servers: Record<string, unknown> };
    assert.deepEqual(Object.keys(doc.servers), ['pipe', 'web']);
    assert.equal(statSync(path).mode & 0o777, 0o644, 'the edge runs as another user');
    const edge = await docker.getContainer(`${stack.id}-edge`).inspect();
    assert.ok(
      edge.HostConfig.Binds?.includes(`${join(stack.settings.projectsRoot, 'edge')}:/etc/mcp-edge:ro`),
      String(edge.HostConfig.Binds),
    );
  });

  test('tools/list through LiteLLM: denied tools absent, allow-listed only, renamed and re-described as declared', async () => {
    const all = await listed();
    assert.deepEqual(all.filter((t) => t.name.startsWith('mcp_web-')).map((t) => t.name).sort(), [
      'mcp_web-add_numbers', 'mcp_web-echo', 'mcp_web-get-annotated-message', 'mcp_web-get-resource-links',
      'mcp_web-get-resource-reference', 'mcp_web-get-structured-content', 'mcp_web-get-tiny-image', 'mcp_web-simulate-research-query',
    ]);
    assert.equal(all.find((t) => t.name === 'mcp_web-echo')?.description, 'Echo a message back (policy)');
    assert.deepEqual(all.filter((t) => t.name.startsWith('mcp_pipe-')).map((t) => t.name).sort(), ['mcp_pipe-echo', 'mcp_pipe-get-sum']);
  });

  test('a tools/call for a hidden tool, listed before or guessed, is refused by the edge (never reaching the server); ' +
    'LiteLLM keeps serving', async () => {
    for (const name of ['mcp_web-get-env', 'mcp_web-get-sum', 'mcp_pipe-get-env', 'mcp_pipe-toggle-simulated-logging']) {
      assert.deepEqual(await call(name), refused(name.slice(name.indexOf('-') + 1)), name);
    }
    // A tool the server does not have gets the same words from the server itself: hidden looks like missing.
    assert.deepEqual(await call('mcp_web-no-such-tool'), [{ type: 'text', text: 'MCP error -32602: Tool no-such-tool not found' }]);
    const logs = (await docker.getContainer(`${stack.id}-edge`).logs({ stdout: true, stderr: true })).toString('utf8');
    assert.equal(logs.match(/tools\/call refused by the tool policy/g)?.length, 4, 'each refusal logged once by the edge');
  });

  test('a renamed tool is called by its new name (an underscore name, safe from the <server>-<tool> split)', async () => {
    assert.match(JSON.stringify(await call('mcp_web-add_numbers', { a: 2, b: 3 })), /5/);
    assert.match(JSON.stringify(await call('mcp_pipe-echo', { message: 'allowed' })), /allowed/);
  });

  test('status counts exposed and hidden tools (the stdio count through the edge, from the host)', () => {
    const r = cli('status', '--json');
    const doc = JSON.parse(r.stdout) as {
      servers: { name: string; tools: string[] | null; toolPolicy?: { exposed: number; hidden: string[] } }[];
    };
    const web = doc.servers.find((s) => s.name === 'web');
    const pipe = doc.servers.find((s) => s.name === 'pipe');
    assert.equal(web?.tools?.length, 13, r.stdout);
    assert.deepEqual(web?.toolPolicy, {
      exposed: 8,
      hidden: [
        'get-env', 'gzip-file-as-resource', 'toggle-simulated-logging', 'toggle-subscriber-updates', 'trigger-long-running-operation',
      ],
    });
    assert.equal(pipe?.tools?.length, 13, 'the whole list, asked of the edge from the host');
    assert.equal(pipe?.toolPolicy?.exposed, 2);
    assert.equal(pipe?.toolPolicy?.hidden.length, 11);
  });

  test('a policy change applies without restarting any container (servers, edge, LiteLLM) in config mode', async () => {
    const before = await starts();
    assert.equal(Object.keys(before).length, 5, Object.keys(before).join(', ')); // web, pipe, edge, its Docker proxy, LiteLLM
    stack.writeDesired('web', http('tools:\n  deny: [echo]\n'));
    stack.writeDesired('pipe', stdio('tools:\n  deny: [echo]\n  rename: {get-sum: sum}\n'));
    const out = await stack.reconciler.reconcile();
    assert.deepEqual(out.result.failed, []);
    assert.deepEqual(writeOps(out.plan).map((o) => o.type), ['write-tool-policy'], 'the plan writes the policy file and nothing else');
    const web = await waitFor('the new web policy through LiteLLM', async () => {
      const n = await names('mcp_web-');
      return n.includes('mcp_web-get-env') && !n.includes('mcp_web-echo') ? n : null;
    }, 30_000, 500);
    assert.equal(web.length, 12);
    const pipe = await names('mcp_pipe-');
    assert.ok(
      pipe.includes('mcp_pipe-sum') && !pipe.includes('mcp_pipe-get-sum') && !pipe.includes('mcp_pipe-echo') && pipe.length === 12,
      pipe.join(', '),
    );
    assert.deepEqual(await call('mcp_web-echo', { message: 'x' }), refused('echo'));
    assert.match(JSON.stringify(await call('mcp_pipe-sum', { a: 20, b: 22 })), /42/);
    assert.deepEqual(await starts(), before, 'same containers, same start times, no restarts');
  });
});
