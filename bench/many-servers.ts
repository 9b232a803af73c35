// Child process for the probe-cost benchmark: N stateless MCP servers (official SDK) on
// 127.0.0.1, each with 10 tools; prints their ports as one JSON line, then serves until killed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const n = Number(process.argv[2] ?? 100);
const servers: Server[] = [];
for (let i = 0; i < n; i++) {
  const s = createServer((req, res) => {
    const mcp = new McpServer({ name: `bench-${i}`, version: '1.0.0' });
    for (let t = 0; t < 10; t++) mcp.registerTool(`tool_${t}`, { description: `tool ${t}` }, () => ({ content: [] }));
    const tr = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void tr.close());
    void mcp.connect(tr).then(() => tr.handleRequest(req, res));
  });
  servers.push(s);
}
await Promise.all(servers.map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
console.log(JSON.stringify(servers.map((s) => (s.address() as AddressInfo).port)));
