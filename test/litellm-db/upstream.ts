/**
 * A stand-in for the edge in API-mode tests: one loopback HTTP server that answers MCP (stateless
 * streamable HTTP) on every path, so the URLs the reconciler registers (`<edge.url>/<container>/<port>/mcp`)
 * reach it. Like the real edge it keeps one mcp-protocol-version header. Each path gets the tools `echo` and `whoami`;
 * `whoami` answers the container segment.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { normalizeProtocolHeader } from '../../src/edge/server.js';

export class FakeEdge {
  readonly server: Server;
  /** Tool calls seen, as `<container>:<tool>`. */
  readonly calls: string[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      normalizeProtocolHeader(req); // as the real edge does for LiteLLM's doubled header (ADR 0003)
      const container = (req.url ?? '/').split('/')[1] ?? '';
      const mcp = new McpServer({ name: `fake-${container}`, version: '1.0.0' });
      mcp.registerTool('echo', { description: 'echo', inputSchema: { message: z.string() } }, ({ message }) => {
        this.calls.push(`${container}:echo`);
        return { content: [{ type: 'text', text: message }] };
      });
      mcp.registerTool('whoami', { description: 'whoami' }, () => {
        this.calls.push(`${container}:whoami`);
        return { content: [{ type: 'text', text: container }] };
      });
      const t = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => void t.close());
      void mcp.connect(t).then(() => t.handleRequest(req, res));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }
}
