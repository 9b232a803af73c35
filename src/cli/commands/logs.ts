import { InvalidArgumentError, type Command } from 'commander';
import { DockerRuntime } from '../../docker/runtime.js';
import { wantsColour } from '../colour.js';
import { defineCommand, onRun, Exit } from '../command.js';
import { formatLine, serverLog } from '../logs.js';
import { settingsFrom, type GlobalOptions } from '../shared.js';

interface LogsOptions extends GlobalOptions {
  follow?: boolean;
  tail: number | 'all';
}

function parseTail(v: string): number | 'all' {
  if (v === 'all') return 'all';
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('a number of lines, or all');
  return Number(v);
}

export function register(program: Command): void {
  const cmd = defineCommand(program, 'logs <name>', "a server's container log; for a stdio server its stderr and what the bridge saw", {
    examples: ['github', 'github -f', 'postgresql --tail all', 'litellm -n 20'],
    exits: [
      [Exit.Ok, 'printed (following: stopped with Ctrl-C)'],
      [Exit.Error, 'no container of that name in this instance, or Docker unreachable'],
    ],
  })
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('-n, --tail <lines>', 'start with the last this many lines (or all)', parseTail, 100);
  onRun(cmd, async (name: string, _o: unknown, c: Command) => {
    const values = c.optsWithGlobals<LogsOptions>();
    const settings = settingsFrom(values);
    const runtime = new DockerRuntime();
    const snap = await runtime.observe({ namePrefix: settings.namePrefix, instance: settings.instance, network: settings.network });
    const owned = snap.containers.filter((x) => x.owned);
    // Server names, and the stack's own containers by their short name (litellm, edge).
    const target = owned.find((x) => x.name === `${settings.namePrefix}${name}`);
    if (!target) {
      const names = owned.map((x) => x.name.slice(settings.namePrefix.length)).sort();
      const there = names.length ? `; there are: ${names.join(', ')}` : '';
      process.stderr.write(`no container ${settings.namePrefix}${name} of instance ${settings.instance}${there}\n`);
      return Exit.Error;
    }
    const stdio = target.role === 'server' && target.specSummary?.['stdin'] === true;
    const edge = stdio ? (owned.find((x) => x.role === 'edge')?.name ?? null) : null;
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const colour = wantsColour(process.stdout);
    try {
      if (stdio) {
        const from = edge ?? 'the edge (not running)';
        const note = 'its stdout is the MCP protocol (not shown)';
        process.stderr.write(`${target.name} is a stdio server: ${note}; bridge lines come from ${from}\n`);
      }
      const opts = { follow: Boolean(values.follow), tail: values.tail, signal: ac.signal };
      for await (const l of serverLog(runtime, { container: target.name, stdio, edge }, opts)) {
        process.stdout.write(`${formatLine(l, colour)}\n`);
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return Exit.Ok;
  });
}
