import { Option, type Command } from 'commander';
import { CLIENTS, KEY_ENV, renderAll, renderClient, checkHost, type ClientName } from '../../clients/render.js';
import { defineCommand, onRun, Exit } from '../command.js';
import { settingsFrom, type GlobalOptions } from '../shared.js';

interface ClientsOptions extends GlobalOptions {
  host: string;
  client?: ClientName;
}

export function register(program: Command): void {
  const cmd = defineCommand(program, 'clients', 'ready-to-paste config for Claude Code, Gemini CLI, Codex CLI, VS Code, Open WebUI', {
    examples: ['--host linuxserver.lan', '--host 192.168.1.5 --client claude-code', '--host [fd00::5] --client vscode'],
    exits: [[Exit.Ok, 'printed'], [Exit.Error, 'a bad --host']],
  })
    .option('--host <host>', 'the name clients reach the gateway by: a hostname, an IPv4 address or a bracketed IPv6 address', 'linuxserver.lan')
    .addOption(new Option('--client <name>', 'one raw snippet for this client').choices(CLIENTS));
  onRun(cmd, (_o: unknown, c: Command) => {
    const values = c.optsWithGlobals<ClientsOptions>();
    const settings = settingsFrom(values);
    const hostProblem = checkHost(values.host);
    if (hostProblem) {
      process.stderr.write(`--host: ${hostProblem}\n`);
      return Exit.Error;
    }
    if (values.client) {
      process.stdout.write(renderClient(values.client, values.host, settings.gateway.hostPort).body);
    } else {
      process.stdout.write(`${renderAll(values.host, settings.gateway.hostPort)}\nSet ${KEY_ENV} to a LiteLLM virtual key (or the master key, for the admin only); never commit it.\n`);
    }
    return Exit.Ok;
  });
}
