// A stdio MCP server with one tool, shaped like a user's own Node project
// (<projectsRoot>/<name>/ with package.json, src/index.js and a Dockerfile).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const GREETING = 'Hello';

const server = new McpServer({ name: 'hello', version: '1.0.0' });
server.tool('greet', 'Greets someone by name', { name: z.string() }, async ({ name }) => ({
  content: [{ type: 'text', text: `${GREETING}, ${name}!` }],
}));

await server.connect(new StdioServerTransport());
