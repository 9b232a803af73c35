import { Option, type Command } from 'commander';
import { CLIENTS, KEY_ENV, renderAll, renderClient, checkHost, shellQuote, type ClientName } from '../../clients/render.js';
import { defineCommand, onRun, usageError, Exit } from '../command.js';
import { settingsFrom, type GlobalOptions } from '../shared.js';
import { newKeyOptions, createClientKey, describeKey, gatewayGuarded, refusals, type NewKeyOptions } from './keys.js';

interface ClientsOptions extends GlobalOptions, NewKeyOptions {
  host: string;
  client?: ClientName;
  createKey?: boolean;
}

export function register(program: Command): void {
  const cmd = defineCommand(program, 'clients', 'ready-to-paste config for Claude Code, Gemini CLI, Codex CLI, VS Code, Open WebUI', {
    examples: [
      '--host linuxserver.lan',
      '--host 192.168.1.5 --client claude-code',
      '--host [fd00::5] --client vscode',
      '--client claude-code --create-key --servers memory,github',
    ],
    exits: [[Exit.Ok, 'printed'], [Exit.Error, 'a bad --host; with --create-key: refused as by keys create']],
  })
    .option('--host <host>', 'how clients reach the gateway: a hostname, an IPv4 address or a bracketed IPv6 address', 'linuxserver.lan')
    .addOption(new Option('--client <name>', 'one raw snippet for this client').choices(CLIENTS))
    .option('--create-key', "with --client: a fresh virtual key for it, printed once (keys create <client>; needs LiteLLM's database)");
  newKeyOptions(cmd, false);
  onRun(cmd, (_o: unknown, c: Command) => {
    const values = c.optsWithGlobals<ClientsOptions>();
    // The command line first: a refused one never reads settings or reaches the gateway.
    if (values.createKey) {
      if (!values.client) usageError(cmd, '--create-key needs --client <name> (one key per client)');
      if (values.servers === undefined) usageError(cmd, '--create-key needs --servers <names>');
    } else {
      for (const o of ['servers', 'budget', 'expires', 'rotate', 'routes'] as const) {
        if (values[o] !== undefined) usageError(cmd, `--${o} goes with --create-key`);
      }
    }
    const settings = settingsFrom(values);
    const hostProblem = checkHost(values.host);
    if (hostProblem) {
      process.stderr.write(`--host: ${hostProblem}\n`);
      return Exit.Error;
    }
    const client = values.client;
    if (client && values.createKey) {
      return refusals(async () => {
        const k = await createClientKey(settings, client, values);
        process.stderr.write(describeKey(client, k, gatewayGuarded(settings)));
        const snippet = renderClient(client, values.host, settings.gateway.hostPort);
        const once = 'the key is shown once; keep it in your secret store or environment, never in a file you commit';
        process.stdout.write(`# ${snippet.title}: ${once}\n`);
        process.stdout.write(`export ${KEY_ENV}=${shellQuote(k.key)}\n\n# ${snippet.where}\n${snippet.body}`);
        return Exit.Ok;
      });
    }
    if (client) {
      process.stdout.write(renderClient(client, values.host, settings.gateway.hostPort).body);
    } else {
      const keyNote = `Set ${KEY_ENV} to a LiteLLM virtual key (or the master key, for the admin only); never commit it.`;
      process.stdout.write(`${renderAll(values.host, settings.gateway.hostPort)}\n${keyNote}\n`);
    }
    return Exit.Ok;
  });
}
