/**
 * A tiny stdio MCP server for tests (run as `node dist/src/testing/stdio-server.js`): tools `echo`
 * (returns its `text`) and `pid` (this process's pid, so a test sees a restart). Logs one stderr line.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { fileURLToPath } from 'node:url';

/** This file, compiled: what a test spawns. */
export const STDIO_SERVER_SCRIPT = fileURLToPath(import.meta.url);

function main(): void {
  const server = new Server({ name: 'stdio-fixture', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [
      { name: 'echo', description: 'echo text', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
      { name: 'pid', description: 'the process id', inputSchema: { type: 'object', properties: {} } },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, (req) => {
    const text = req.params.name === 'pid' ? String(process.pid) : String(req.params.arguments?.['text'] ?? '');
    return { content: [{ type: 'text', text }] };
  });
  void server.connect(new StdioServerTransport()).then(() => process.stderr.write('stdio-fixture ready\n'));
}

if (process.argv[1] === STDIO_SERVER_SCRIPT) main();
