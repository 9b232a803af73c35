import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a StatefulMcpServer saw: `POST tools/list s1`, `DELETE - s1`, `POST initialize -`. */
export type Seen = string;

export interface StatefulMcpServer {
  url: string;
  port: number;
  /** Every request, as `<HTTP method> <JSON-RPC method or -> <mcp-session-id or ->`. */
  seen: Seen[];
  /** Session ids open now. */
  open: Set<string>;
  /** A restart: every session is gone (the next request on one is 404). */
  forget(): void;
  /** While true, a tools/list is never answered (a hung server). */
  hang: boolean;
  close(): void;
}

/**
 * A stateful streamable-HTTP MCP server as the SDK's servers behave: initialize gives a new session
 * id (`s1`, `s2`, ...), a request on an unknown session is 404, DELETE ends a session. It lists one
 * tool, `echo`, and answers in JSON.
 */
export async function statefulMcpServer(serverName = 'stateful'): Promise<StatefulMcpServer> {
  const seen: Seen[] = [];
  const open = new Set<string>();
  let next = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const sid = req.headers['mcp-session-id'] as string | undefined;
      const msg = body ? (JSON.parse(body) as { id?: number; method: string }) : null;
      seen.push(`${req.method} ${msg?.method ?? '-'} ${sid ?? '-'}`);
      if (msg?.method === 'initialize') {
        const id = `s${++next}`;
        open.add(id);
        const result = { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: serverName, version: '1' } };
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': id });
        return void res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
      }
      if (!sid || !open.has(sid)) return void res.writeHead(404).end('Session not found');
      if (req.method === 'DELETE') return void (open.delete(sid), res.writeHead(200).end());
      if (msg?.id === undefined) return void res.writeHead(202).end();
      if (api.hang && msg.method === 'tools/list') return;
      const result = { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const close = (): void => {
    server.closeAllConnections();
    server.close();
  };
  const api: StatefulMcpServer = { url: `http://127.0.0.1:${port}/mcp`, port, seen, open, forget: () => open.clear(), hang: false, close };
  return api;
}
