import type { Command } from 'commander';
import { FileConfigStore } from '../../litellm/file-store.js';
import { collectStatus, renderStatus, renderServer, isReady } from '../status.js';
import { defineCommand, onRun, Exit } from '../command.js';
import { settingsFrom, buildReconciler, type GlobalOptions } from '../shared.js';

interface StatusOptions extends GlobalOptions {
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = defineCommand(program, 'status [name]', 'servers and their conditions (from the daemon, or one probe pass here); with a name: its conditions and recent events', {
    examples: ['', 'github', '--json | jq .servers'],
    exits: [[Exit.Ok, 'everything (or the named server) ready'], [Exit.Error, 'something not ready, or no such server']],
  }).option('--json', 'machine-readable status');
  onRun(cmd, async (name: string | undefined, _o: unknown, c: Command) => {
    const values = c.optsWithGlobals<StatusOptions>();
    const settings = settingsFrom(values);
    const { gateway, runtime, reconciler, deps } = buildReconciler(settings, 'silent');
    const st = await collectStatus(settings, { reconciler, runtime, gateway, api: deps.api ?? null, config: new FileConfigStore() });
    if (name) {
      const one = st.doc.servers.find((x) => x.name === name);
      if (!one) {
        process.stderr.write(`no desired server "${name}"\n`);
        return Exit.Error;
      }
      process.stdout.write(values.json ? `${JSON.stringify(one, null, 2)}\n` : `${renderServer(one)}\n`);
      return isReady(one) ? Exit.Ok : Exit.Error;
    }
    process.stdout.write(values.json ? `${JSON.stringify({ ...st.doc, gatewayReady: st.gatewayReady, invalid: st.invalid }, null, 2)}\n` : `${renderStatus(st)}\n`);
    const ok = st.gatewayReady && st.doc.servers.every(isReady) && st.invalid.length === 0;
    return ok ? Exit.Ok : Exit.Error;
  });
}
