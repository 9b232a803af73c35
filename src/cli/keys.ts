/**
 * `keys create|list|revoke` and `clients --create-key`: thin layers over src/keys/ (ADR 0012). The raw
 * key goes to stdout once and nowhere else (not stderr, logs or files).
 */
import type { Settings } from '../config/settings.js';
import { readEnvFile } from '../desired/env-file.js';
import { displayPath } from '../desired/load.js';
import { LiteLLMApi } from '../litellm/api.js';
import { LiteLLMKeyApi } from '../litellm/keys-api.js';
import { masterKeyFrom } from '../reconcile/controller.js';
import {
  KeyCommandError, createKey, databaseProblem, listKeys, parseBudget, parseExpires, renderKeys, revokeKey, type CreatedKey,
} from '../keys/keys.js';
import { KEY_ENV, renderClient, shellQuote, type ClientName } from '../clients/render.js';

export interface KeyOptions {
  servers?: string | undefined;
  budget?: string | undefined;
  expires?: string | undefined;
  rotate?: boolean | undefined;
  json?: boolean | undefined;
}

export const KEYS_USAGE = `usage:
  mcp-reconciler keys create <client> --servers a,b [--budget USD] [--expires 30d] [--rotate]
  mcp-reconciler keys list [--json]
  mcp-reconciler keys revoke <client>
`;

type Out = { out: (s: string) => void; err: (s: string) => void };
const std: Out = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** The gateway's key API, or why keys cannot work here (no database: what to run). */
async function keyApiFor(settings: Settings): Promise<{ keys: LiteLLMKeyApi; servers: LiteLLMApi } | KeyCommandError> {
  const master = (): string | null => masterKeyFrom(settings);
  const servers = new LiteLLMApi(settings.gateway.url, master);
  let hasDatabaseUrl = false;
  try {
    hasDatabaseUrl = Boolean(readEnvFile(settings.gateway.envFile)['DATABASE_URL']);
  } catch {
    /* unreadable or missing: no database configured by us; the gateway's answer decides */
  }
  if (!master()) {
    return new KeyCommandError(`no LITELLM_MASTER_KEY in ${displayPath(settings.gateway.envFile)}: keys are created with the master key (mcp-reconciler install writes it)`);
  }
  const problem = databaseProblem({ envFile: displayPath(settings.gateway.envFile), hasDatabaseUrl, gateway: await servers.database(), url: settings.gateway.url });
  if (problem) return new KeyCommandError(problem);
  return { keys: new LiteLLMKeyApi(settings.gateway.url, master), servers };
}

function splitServers(s: string | undefined): string[] {
  if (s === undefined) throw new KeyCommandError('--servers a,b is required: the MCP servers this key may use');
  return s.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

/** Validate every option before asking the gateway anything. */
async function create(settings: Settings, client: string | undefined, o: KeyOptions): Promise<CreatedKey> {
  if (!client) throw new KeyCommandError(`keys create needs a client name\n${KEYS_USAGE}`);
  const names = splitServers(o.servers);
  const budget = o.budget !== undefined ? parseBudget(o.budget) : undefined;
  const expires = o.expires !== undefined ? parseExpires(o.expires) : undefined;
  const api = await keyApiFor(settings);
  if (api instanceof KeyCommandError) throw api;
  return createKey(api.keys, () => api.servers.list(), { instance: settings.instance, client, servers: names, budget, expires, rotate: o.rotate });
}

function describe(client: string, k: CreatedKey): string {
  const servers = k.servers.map((s) => s.name).join(', ');
  return `${k.rotated ? 'replaced the key' : 'new key'} of client "${client}" (LiteLLM alias ${k.alias}): servers ${servers}; ` +
    `expires ${k.expires ?? 'never'}; budget ${k.budget === null ? 'none' : `$${k.budget}`}. Shown once, stored nowhere by mcp-reconciler; ` +
    `revoke: mcp-reconciler keys revoke ${client}\n`;
}

/** `keys <sub> ...`. Exit 0, or 1 with a message naming what to do. */
export async function keysCommand(settings: Settings, positionals: string[], o: KeyOptions, io: Out = std): Promise<number> {
  const [sub, client, ...extra] = positionals;
  try {
    if (extra.length > 0) throw new KeyCommandError(`unexpected argument "${extra[0]}"\n${KEYS_USAGE}`);
    switch (sub) {
      case 'create': {
        const k = await create(settings, client, o);
        io.err(describe(client!, k));
        io.out(`${k.key}\n`); // the only place the key goes: stdout, e.g. export LITELLM_API_KEY=$(mcp-reconciler keys create ...)
        return 0;
      }
      case 'list': {
        if (client) throw new KeyCommandError(`keys list takes no client\n${KEYS_USAGE}`);
        const api = await keyApiFor(settings);
        if (api instanceof KeyCommandError) throw api;
        const keys = await listKeys(api.keys, settings.instance);
        io.out(o.json ? `${JSON.stringify(keys, null, 2)}\n` : `${renderKeys(keys)}\n`);
        return 0;
      }
      case 'revoke': {
        if (!client) throw new KeyCommandError(`keys revoke needs a client name\n${KEYS_USAGE}`);
        const api = await keyApiFor(settings);
        if (api instanceof KeyCommandError) throw api;
        if (!(await revokeKey(api.keys, settings.instance, client))) {
          const known = (await listKeys(api.keys, settings.instance)).map((k) => k.client);
          throw new KeyCommandError(`client "${client}" has no key (clients with keys: ${known.join(', ') || 'none'})`);
        }
        io.out(`revoked the key of client "${client}": LiteLLM refuses it from now on\n`);
        return 0;
      }
      default:
        throw new KeyCommandError(sub ? `unknown keys command "${sub}"\n${KEYS_USAGE}` : KEYS_USAGE);
    }
  } catch (err) {
    if (err instanceof KeyCommandError) {
      io.err(`${err.message.endsWith('\n') ? err.message : `${err.message}\n`}`);
      return 1;
    }
    throw err;
  }
}

/**
 * `clients --client X --create-key --servers a,b`: a fresh key for client X (alias
 * mcp-reconciler/<instance>/X) and X's snippet, which reads the key from $LITELLM_API_KEY (or asks for it).
 */
export async function clientWithKey(settings: Settings, client: ClientName, host: string, o: KeyOptions, io: Out = std): Promise<number> {
  let k: CreatedKey;
  try {
    k = await create(settings, client, o);
  } catch (err) {
    if (err instanceof KeyCommandError) {
      io.err(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  io.err(describe(client, k));
  const snippet = renderClient(client, host, settings.gateway.hostPort);
  io.out(`# ${snippet.title}: the key is shown once; keep it in your secret store or environment, never in a file you commit\n`);
  io.out(`export ${KEY_ENV}=${shellQuote(k.key)}\n\n# ${snippet.where}\n${snippet.body}`);
  return 0;
}
