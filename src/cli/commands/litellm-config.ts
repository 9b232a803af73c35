import type { Command } from 'commander';
import type { Settings } from '../../config/settings.js';
import { loadDesiredDir, displayPath } from '../../desired/load.js';
import { resolveServers } from '../../desired/resolve.js';
import { formatIssue } from '../../errors/index.js';
import { renderGatewayConfig, ownedEntry } from '../../litellm/config-file.js';
import { defineCommand, onRun, Exit } from '../command.js';
import { settingsFrom, type GlobalOptions } from '../shared.js';

export function register(program: Command): void {
  const cmd = defineCommand(program, 'litellm-config', 'print the mcp_servers section the reconciler would write (errors on stderr)', {
    examples: ['', '--desired ./desired-state > /tmp/mcp_servers.yaml'],
    exits: [[Exit.Ok, 'printed'], [Exit.Error, 'an invalid file, or a missing or unreadable desired dir']],
  });
  onRun(cmd, (_o: unknown, c: Command) => litellmConfig(settingsFrom(c.optsWithGlobals<GlobalOptions>())));
}

function litellmConfig(settings: Settings): number {
  const load = loadDesiredDir(settings.desiredDir);
  if (load.dirState !== 'ok') {
    // Never print an empty mcp_servers for a directory we could not read: written out, it would drop every server.
    const why = load.dirState === 'missing' ? 'does not exist' : 'is not a readable directory';
    process.stderr.write(`${displayPath(settings.desiredDir)}: desired directory ${why}\n`);
    return Exit.Error;
  }
  const { models, failures } = resolveServers(settings, load.servers);
  for (const bad of load.invalid) for (const i of bad.issues) process.stderr.write(`${formatIssue(i)}\n`);
  for (const f of failures) process.stderr.write(`${f.file}: ${f.message}\n`);
  const entries: Record<string, Record<string, unknown>> = {};
  for (const m of models) if (m.gatewayEntry) entries[m.gatewayName] = ownedEntry(m.gatewayEntry, m.source);
  // A null mcp_servers gives a block-style map, as in the file the reconciler writes.
  process.stdout.write(renderGatewayConfig('mcp_servers:\n', entries));
  return load.invalid.length + failures.length > 0 ? Exit.Error : Exit.Ok;
}
