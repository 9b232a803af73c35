/**
 * `keys create|list|revoke`, and the key half of `clients --create-key`: thin layers over src/keys/
 * (ADR 0015). The raw key goes to stdout once and nowhere else (not stderr, logs or files).
 */
import { Option, type Command } from 'commander';
import type { Settings } from '../../config/settings.js';
import { readEnvFile } from '../../desired/env-file.js';
import { displayPath } from '../../desired/load.js';
import { LiteLLMApi } from '../../litellm/api.js';
import { LiteLLMKeyApi } from '../../litellm/keys-api.js';
import { readGatewayConfig } from '../../litellm/config-file.js';
import { FileConfigStore } from '../../litellm/file-store.js';
import { GUARD_CALLBACK } from '../../litellm/guard.js';
import { masterKeyFrom } from '../../reconcile/controller.js';
import {
  KeyCommandError, createKey, databaseProblem, listKeys, parseBudget, parseExpires, parseRoutes, renderKeys, revokeKey, type CreatedKey,
} from '../../keys/keys.js';
import { defineCommand, onRun, Exit } from '../command.js';
import { settingsFrom, type GlobalOptions } from '../shared.js';

/** The options of a new key (`keys create`, `clients --create-key`). */
export interface NewKeyOptions {
  servers?: string | undefined;
  budget?: string | undefined;
  expires?: string | undefined;
  rotate?: boolean | undefined;
  routes?: string | undefined;
}

/** Adds the new-key options to `cmd` (--servers required by the caller where it must be). */
export function newKeyOptions(cmd: Command, serversRequired: boolean): Command {
  const servers = new Option(
    '--servers <names>',
    'comma-separated MCP servers the key may use: our names (alpha for mcp-alpha.yaml) or a server_id',
  );
  return cmd
    .addOption(serversRequired ? servers.makeOptionMandatory() : servers)
    .option('--budget <usd>', "LiteLLM's max_budget for the key, in USD (MCP calls cost 0 unless a server declares a cost)")
    .option('--expires <duration>', 'the key ends after this long: 90m, 12h, 30d, 8w (exact, from now)')
    .option('--rotate', 'replace the key this client already has (the old one stops working at once)')
    .option('--routes <sets>', "what the key may call: mcp (default: LiteLLM's /mcp/ only) or mcp,llm (also its LLM API)");
}

/** The gateway's key API, or why keys cannot work here (no database: what to run). */
async function keyApiFor(settings: Settings): Promise<{ keys: LiteLLMKeyApi; servers: LiteLLMApi }> {
  const master = (): string | null => masterKeyFrom(settings);
  const envFile = displayPath(settings.gateway.envFile);
  if (!master()) {
    throw new KeyCommandError(`no LITELLM_MASTER_KEY in ${envFile}: keys are made with the master key (mcp-reconciler install writes it)`);
  }
  let hasDatabaseUrl = false;
  try {
    hasDatabaseUrl = Boolean(readEnvFile(settings.gateway.envFile)['DATABASE_URL']);
  } catch {
    /* unreadable: no database configured by us; the gateway's answer decides */
  }
  const servers = new LiteLLMApi(settings.gateway.url, master);
  const problem = databaseProblem({ envFile, hasDatabaseUrl, gateway: await servers.database(), url: settings.gateway.url });
  if (problem) throw new KeyCommandError(problem);
  return { keys: new LiteLLMKeyApi(settings.gateway.url, master), servers };
}

/** Validates every option, then creates the key (nothing is asked of the gateway before the options are good). */
export async function createClientKey(settings: Settings, client: string, o: NewKeyOptions): Promise<CreatedKey> {
  if (o.servers === undefined) throw new KeyCommandError('--servers a,b is required: the MCP servers this key may use');
  const names = o.servers.split(',').map((x) => x.trim()).filter((x) => x !== '');
  const budget = o.budget !== undefined ? parseBudget(o.budget) : undefined;
  const expires = o.expires !== undefined ? parseExpires(o.expires) : undefined;
  const routes = o.routes !== undefined ? parseRoutes(o.routes) : undefined;
  const api = await keyApiFor(settings);
  const input = { instance: settings.instance, client, servers: names, budget, expires, rotate: o.rotate, routes };
  return createKey(api.keys, () => api.servers.list(), input);
}

/**
 * Whether the gateway loads the guard that refuses calls to other servers' tools (ADR 0019): the
 * reconciler lists it in a managed gateway's config.yaml; an unmanaged one has it when its config lists it.
 */
export function gatewayGuarded(settings: Settings): boolean {
  if (settings.gateway.managed) return true;
  try {
    return readGatewayConfig(new FileConfigStore().read(settings.gateway.configPath)).guard;
  } catch {
    return false; // unreadable: not known to be guarded
  }
}

/** What was made, for stderr: never the key. `guarded`: see gatewayGuarded. */
export function describeKey(client: string, k: CreatedKey, guarded: boolean): string {
  const servers = k.servers.map((s) => s.name).join(', ');
  const llm = k.routes.includes('llm');
  return `${k.rotated ? 'replaced the key' : 'new key'} of client "${client}" (LiteLLM alias ${k.alias}): servers ${servers}; ` +
    `routes ${k.routes.join(',')}; expires ${k.expires ?? 'never'}; budget ${k.budget === null ? 'none' : `$${k.budget}`}. ` +
    `Shown once, stored nowhere by mcp-reconciler; revoke: mcp-reconciler keys revoke ${client}\n` +
    (llm
      ? "note: LiteLLM accepts this key on /mcp/ and its LLM API (allowed_routes mcp_routes, llm_api_routes); it refuses /mcp-rest/ " +
        "and the management API. The LLM API's MCP tools (/v1/responses with server_url litellm_proxy) are not limited to these " +
        'servers: LiteLLM 1.77.3 runs them without the key (ADR 0019)\n'
      : 'note: LiteLLM accepts this key only on /mcp/ (allowed_routes mcp_routes); /mcp-rest/, the LLM API and the management API ' +
        'refuse it (add --routes mcp,llm for a client that also uses models)\n') +
    (guarded
      ? "note: through /mcp/ it lists and calls only these servers' tools: " +
        "the gateway guard refuses a call to another server's tool (ADR 0019)\n"
      : "note: LiteLLM 1.77.3 alone hides the other servers' tools from this key but does not refuse a call to them by name; " +
        `list ${GUARD_CALLBACK} under litellm_settings.callbacks in your gateway's config.yaml to refuse it (ADR 0019)\n`);
}

/** Runs a key action; a KeyCommandError is the user's to fix: its message on stderr, exit 1. */
export async function refusals(action: () => Promise<number>): Promise<number> {
  try {
    return await action();
  } catch (err) {
    if (!(err instanceof KeyCommandError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return Exit.Error;
  }
}

export function register(program: Command): void {
  const keys = defineCommand(program, 'keys', "per-client LiteLLM virtual keys limited to some MCP servers (needs LiteLLM's database)", {
    examples: ['create laptop --servers memory,postgresql --expires 30d', 'list', 'revoke laptop'],
    exits: [[Exit.Ok, 'done'], [Exit.Error, 'refused: no database, unknown server, the client has a key already or none']],
  });
  const create = newKeyOptions(
    defineCommand(
      keys,
      'create <client>',
      'a key for one client, printed once on stdout (alias mcp-reconciler/<instance>/<client>, one per client)',
      {
        examples: [
          'laptop --servers memory,postgresql',
          'ci --servers github --expires 8w --budget 5',
          'laptop --servers memory --rotate',
          'webui --servers memory --routes mcp,llm',
        ],
        exits: [[Exit.Ok, 'created: the key alone on stdout'], [Exit.Error, 'refused (the reason on stderr); nothing created']],
      },
    ),
    true,
  );
  onRun(create, (client: string, _o: unknown, c: Command) =>
    refusals(async () => {
      const settings = settingsFrom(c.optsWithGlobals<GlobalOptions>());
      const k = await createClientKey(settings, client, c.opts<NewKeyOptions>());
      process.stderr.write(describeKey(client, k, gatewayGuarded(settings)));
      process.stdout.write(`${k.key}\n`); // e.g. export LITELLM_API_KEY=$(mcp-reconciler keys create ...)
      return Exit.Ok;
    }),
  );
  const list = defineCommand(
    keys,
    'list',
    "this instance's client keys: client, sk-... and its last 4, servers, expiry, spend (never the key)",
    {
      examples: ['', '--json'],
      exits: [[Exit.Ok, 'listed'], [Exit.Error, 'no database, or the gateway does not answer']],
    },
  ).option('--json', 'as JSON');
  onRun(list, (_o: unknown, c: Command) =>
    refusals(async () => {
      const settings = settingsFrom(c.optsWithGlobals<GlobalOptions>());
      const all = await listKeys((await keyApiFor(settings)).keys, settings.instance);
      process.stdout.write(c.opts<{ json?: boolean }>().json ? `${JSON.stringify(all, null, 2)}\n` : `${renderKeys(all)}\n`);
      return Exit.Ok;
    }),
  );
  const revoke = defineCommand(keys, 'revoke <client>', "delete the client's key; LiteLLM refuses it from then on", {
    examples: ['laptop'],
    exits: [[Exit.Ok, 'revoked'], [Exit.Error, 'the client has no key, or no database']],
  });
  onRun(revoke, (client: string, _o: unknown, c: Command) =>
    refusals(async () => {
      const settings = settingsFrom(c.optsWithGlobals<GlobalOptions>());
      const api = (await keyApiFor(settings)).keys;
      if (!(await revokeKey(api, settings.instance, client))) {
        const known = (await listKeys(api, settings.instance)).map((k) => k.client);
        throw new KeyCommandError(`client "${client}" has no key (clients with keys: ${known.join(', ') || 'none'})`);
      }
      process.stdout.write(`revoked the key of client "${client}": LiteLLM refuses it from now on\n`);
      return Exit.Ok;
    }),
  );
}
