/**
 * Ready-to-paste client configuration for the one LiteLLM endpoint (../shared/facts/clients.md).
 * Never writes a real key: every output reads it from the environment (LITELLM_API_KEY) or asks
 * for it (VS Code's password input, Open WebUI's form).
 */
export const CLIENTS = ['claude-code', 'claude-code-json', 'gemini', 'codex', 'vscode', 'open-webui'] as const;
export type ClientName = (typeof CLIENTS)[number];

export interface ClientConfig {
  client: ClientName;
  title: string;
  /** Where it goes. */
  where: string;
  format: 'shell' | 'json' | 'toml' | 'text';
  body: string;
}

import { isIPv4, isIPv6 } from 'node:net';

/**
 * Why `host` cannot go into a client URL, or null: a DNS hostname, an IPv4 address or a bracketed
 * IPv6 address, nothing else (no spaces, quotes, `$`, newlines, ports, user info).
 */
export function checkHost(host: string): string | null {
  if (host.startsWith('[') && host.endsWith(']')) {
    // No zone id (%eth0): a URL would need it escaped, and it means nothing to another machine.
    return isIPv6(host.slice(1, -1)) && !host.includes('%') ? null : 'not an IPv6 address inside [ ]';
  }
  if (isIPv6(host)) return 'an IPv6 address goes in brackets: [' + host + ']';
  if (isIPv4(host)) return null;
  const label = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  const labels = host.split('.');
  if (host.length === 0) return 'empty; give a hostname, an IPv4 address or a bracketed IPv6 address';
  if (host.length > 253 || !labels.every((l) => label.test(l))) {
    return 'a hostname (letters, digits, - and .), an IPv4 address or a bracketed IPv6 address; nothing else';
  }
  if (labels.every((l) => /^\d+$/.test(l))) return 'not a valid IPv4 address';
  return null;
}

/** Quote one word for a POSIX shell: single quotes, with ' written as '\''. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The env var every snippet reads the key from. */
export const KEY_ENV = 'LITELLM_API_KEY';

export function mcpUrl(host: string, port: number): string {
  return `http://${host}:${port}/mcp/`; // trailing slash: /mcp answers 307, which several clients do not follow
}

export function renderClient(client: ClientName, host: string, port: number): ClientConfig {
  const problem = checkHost(host);
  if (problem) throw new Error(`host: ${problem}`);
  const url = mcpUrl(host, port);
  const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
  switch (client) {
    case 'claude-code':
      return {
        client,
        title: 'Claude Code (CLI)',
        where: `run in a shell where ${KEY_ENV} holds your LiteLLM virtual key`,
        format: 'shell',
        // Every argument quoted; the header in double quotes so the shell expands only the key variable.
        body: `claude mcp add --transport http litellm ${shellQuote(url)} --header "x-litellm-api-key: Bearer \${${KEY_ENV}}"\n`,
      };
    case 'claude-code-json':
      return {
        client,
        title: 'Claude Code (project .mcp.json)',
        where: '.mcp.json in the project (Claude Code expands ${VAR} from the environment)',
        format: 'json',
        body: json({ mcpServers: { litellm: { type: 'http', url, headers: { 'x-litellm-api-key': `Bearer \${${KEY_ENV}}` } } } }),
      };
    case 'gemini':
      return {
        client,
        title: 'Gemini CLI',
        where: '~/.gemini/settings.json (httpUrl = streamable HTTP; url would mean SSE)',
        format: 'json',
        body: json({ mcpServers: { litellm: { httpUrl: url, headers: { 'x-litellm-api-key': `Bearer $${KEY_ENV}` } } } }),
      };
    case 'codex':
      return {
        client,
        title: 'Codex CLI',
        where: `~/.codex/config.toml (sends Authorization: Bearer from ${KEY_ENV})`,
        format: 'toml',
        // JSON string escapes are valid TOML basic strings.
        body: `[mcp_servers.litellm]\nurl = ${JSON.stringify(url)}\nbearer_token_env_var = "${KEY_ENV}"\n`,
      };
    case 'vscode':
      return {
        client,
        title: 'VS Code (Copilot agent mode)',
        where: '.vscode/mcp.json (asks for the key once, stores it in VS Code secret storage)',
        format: 'json',
        body: json({
          servers: { litellm: { type: 'http', url, headers: { 'x-litellm-api-key': 'Bearer ${input:litellm-key}' } } },
          inputs: [{ type: 'promptString', id: 'litellm-key', password: true, description: 'LiteLLM virtual key' }],
        }),
      };
    case 'open-webui':
      return {
        client,
        title: 'Open WebUI (0.6.31 or later)',
        where: 'Admin Settings -> External Tools -> + (add server)',
        format: 'text',
        body: ['Type: MCP (Streamable HTTP)', `URL: ${url}`, 'Auth: Bearer', 'Key: <your LiteLLM virtual key>', ''].join('\n'),
      };
  }
}

/** All clients, with headings, for a terminal. */
export function renderAll(host: string, port: number): string {
  return CLIENTS.map((c) => {
    const r = renderClient(c, host, port);
    return `## ${r.title}\n# ${r.where}\n${r.body}`;
  }).join('\n');
}
