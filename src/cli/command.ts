import { Command, CommanderError } from 'commander';

/** Exit codes are part of the interface (README "CLI"); `Usage` is a command line the parser refused. */
export const Exit = { Ok: 0, Error: 1, Changes: 2, Usage: 2 } as const;

/** Where the parser writes help and usage errors (process streams in production, buffers in tests). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** What every command's help ends with: one or more examples and the exit codes. */
export interface CommandHelp {
  examples: string[];
  exits: Array<[number, string]>;
}

export const PROGRAM = 'mcp-reconciler';
const exitCodes = new WeakMap<Command, number>();

function root(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

/**
 * A command on `parent` whose help shows its examples and exit codes. The action returns the exit code;
 * the usage-error line (2) is added to every command's list.
 */
export function defineCommand(parent: Command, spec: string, summary: string, help: CommandHelp): Command {
  const cmd = parent.command(spec).description(summary);
  const path = commandPath(cmd);
  const examples = help.examples.map((e) => `  $ ${path} ${e}`.trimEnd()).join('\n');
  const usage = 'usage error: unknown command or option, missing argument';
  // `plan` already uses 2 (changes): one line says both.
  const rows = help.exits.some(([code]) => code === Exit.Usage)
    ? help.exits.map(([code, meaning]): [number, string] => [
        code,
        code === Exit.Usage ? `${meaning}; also a ${usage} (nothing on stdout)` : meaning,
      ])
    : [...help.exits, [Exit.Usage, usage] as [number, string]];
  const exits = rows.map(([code, meaning]) => `  ${code}  ${meaning}`).join('\n');
  cmd.addHelpText('after', `\nExample${help.examples.length > 1 ? 's' : ''}:\n${examples}\n\nExit codes:\n${exits}\n`);
  return cmd;
}

/** `mcp-reconciler db init`: the words that run `cmd`. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Sets the action of `cmd`; what it returns is the process's exit code. */
export function onRun<A extends unknown[]>(cmd: Command, action: (...args: A) => Promise<number> | number): Command {
  return cmd.action(async (...args: unknown[]) => {
    exitCodes.set(root(cmd), await action(...(args as A)));
  });
}

/** A usage error from inside an action (exit 2, with the help hint), e.g. `apply` without `--once`. */
export function usageError(cmd: Command, message: string): never {
  cmd.error(`error: ${message}`, { exitCode: Exit.Usage, code: 'mcp-reconciler.usage' });
  throw new Error('unreachable'); // cmd.error throws (exitOverride)
}

/** The same parser behaviour on every command: no process.exit, output to `io`, did-you-mean, help hint. */
export function configureTree(cmd: Command, io: Io): void {
  cmd
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showSuggestionAfterError(true)
    .showHelpAfterError(`(${commandPath(cmd)} --help for usage)`)
    .configureHelp({ showGlobalOptions: true });
  for (const sub of cmd.commands) configureTree(sub, io);
}

/** Parses and runs `argv`; returns the exit code (help and version 0, a refused command line 2). */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return Exit.Ok;
    return Exit.Usage;
  }
  return exitCodes.get(program) ?? Exit.Ok;
}
