import { InvalidArgumentError, type Command } from 'commander';
import { FileConfigStore } from '../../litellm/file-store.js';
import { collectStatus, renderStatus, renderServer, allReady, serverReady } from '../status.js';
import { defineCommand, onRun, Exit } from '../command.js';
import { settingsFrom, buildReconciler, type GlobalOptions } from '../shared.js';
import { watch } from '../watch.js';

interface StatusOptions extends GlobalOptions {
  json?: boolean;
  watch?: boolean;
  interval: number;
}

function parseInterval(v: string): number {
  const s = Number(v);
  if (!Number.isFinite(s) || s < 0.2 || s > 3600) throw new InvalidArgumentError('seconds between 0.2 and 3600');
  return s;
}

export function register(program: Command): void {
  const summary = 'servers and their conditions (from the daemon, or one probe pass here); with a name: its conditions and recent events';
  const cmd = defineCommand(program, 'status [name]', summary, {
    examples: ['', 'github', '--json | jq .servers', '--watch --interval 5'],
    exits: [
      [Exit.Ok, 'everything (or the named server) ready and nothing held; with --watch: stopped with Ctrl-C'],
      [
        Exit.Error,
        'not ready, or held (a failed change waiting for its retry, a conflict, blocked, deletions held for --allow-empty), ' +
          'or no such server',
      ],
    ],
  })
    .option('--json', 'machine-readable status (with --watch: one JSON document per line)')
    .option('-w, --watch', 'show it again every --interval until Ctrl-C (redrawn on a terminal)')
    .option('--interval <seconds>', 'seconds between two looks with --watch', parseInterval, 2);
  onRun(cmd, async (name: string | undefined, _o: unknown, c: Command) => {
    const values = c.optsWithGlobals<StatusOptions>();
    const settings = settingsFrom(values);
    const { gateway, runtime, reconciler, deps } = buildReconciler(settings, 'silent');
    const once = async (): Promise<{ text: string; code: number }> => {
      const st = await collectStatus(settings, { reconciler, runtime, gateway, api: deps.api ?? null, config: new FileConfigStore() });
      const indent = values.watch ? undefined : 2;
      if (name) {
        const one = st.doc.servers.find((x) => x.name === name);
        if (!one) return { text: `no desired server "${name}"`, code: -1 };
        const text = values.json ? JSON.stringify(one, null, indent) : renderServer(one, st);
        return { text, code: serverReady(st, one) ? Exit.Ok : Exit.Error };
      }
      const ok = allReady(st);
      const doc = { ...st.doc, gatewayReady: st.gatewayReady, invalid: st.invalid, held: st.held };
      const text = values.json ? JSON.stringify(doc, null, indent) : renderStatus(st);
      return { text, code: ok ? Exit.Ok : Exit.Error };
    };
    if (values.watch) {
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const title = `every ${values.interval}s: mcp-reconciler status${name ? ` ${name}` : ''}`;
        const render = async (): Promise<string> => (await once()).text;
        // --json: one compact document per line, no redraw (for a pipe or a log).
        await watch(render, process.stdout, { intervalMs: values.interval * 1000, signal: ac.signal, title, bare: Boolean(values.json) });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      return Exit.Ok;
    }
    const r = await once();
    if (r.code === -1) {
      process.stderr.write(`${r.text}\n`);
      return Exit.Error;
    }
    process.stdout.write(`${r.text}\n`);
    return r.code;
  });
}
