// Child process (or container command) for the probe-cost benchmark: N stateless MCP servers
// (official SDK), each with 10 tools, on HOST, ports BASE.. (0: any free port); prints their ports
// as one JSON line, then serves until killed.
// LiteLLM 1.77.3 sends `mcp-protocol-version` twice ("v, v"), which the SDK rejects; the edge
// keeps one copy in production, and these servers do the same so they can be called directly too.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const n = Number(process.argv[2] ?? 100);
const host = process.argv[3] ?? '127.0.0.1';
const base = Number(process.argv[4] ?? 0);
const servers: Server[] = [];
for (let i = 0; i < n; i++) {
  const s = createServer((req, res) => {
    const v = req.headers['mcp-protocol-version'];
    if (typeof v === 'string' && v.includes(',')) req.headers['mcp-protocol-version'] = v.split(',')[0]?.trim() ?? v;
    const mcp = new McpServer({ name: `bench-${i}`, version: '1.0.0' });
    for (let t = 0; t < 10; t++) mcp.registerTool(`tool_${t}`, { description: `tool ${t}` }, () => ({ content: [] }));
    const tr = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void tr.close());
    void mcp.connect(tr).then(() => tr.handleRequest(req, res));
  });
  servers.push(s);
}
await Promise.all(servers.map((s, i) => new Promise<void>((r) => s.listen(base === 0 ? 0 : base + i, host, r))));
console.log(JSON.stringify(servers.map((s) => (s.address() as AddressInfo).port)));
