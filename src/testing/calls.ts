import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/**
 * An MCP client of `mcpUrl` (LiteLLM's `/mcp/` or the front's) calling `tool` in a loop until stopped,
 * as the handover tests and bench keep a steady stream of calls: an answer counts only when it echoes
 * its own message; every other answer or error is kept in `failed`.
 */
export async function callsInLoop(
  mcpUrl: string,
  key: string,
  tool: string,
  name: string,
): Promise<{ calls: { ok: number; failed: string[] }; stop(): Promise<void> }> {
  const client = new Client({ name, version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: { headers: { 'x-litellm-api-key': `Bearer ${key}` } },
  }));
  const calls = { ok: 0, failed: [] as string[] };
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      try {
        const r = await client.callTool({ name: tool, arguments: { message: `${name} ${i}` } });
        if (JSON.stringify(r.content).includes(`${name} ${i}`) && r.isError !== true) calls.ok++;
        else calls.failed.push(JSON.stringify(r).slice(0, 200));
      } catch (err) {
        calls.failed.push((err as Error).message.slice(0, 200));
      }
    }
  })();
  return {
    calls,
    stop: async () => {
      stopped = true;
      await loop;
      await client.close();
    },
  };
}
