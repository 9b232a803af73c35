import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { ReconcilerError, errorMessage } from '../errors/index.js';
import { APP_ROOT } from '../install/install.js';
import { configureTree, runProgram, Exit, PROGRAM, type Io } from './command.js';
import * as validate from './commands/validate.js';
import * as add from './commands/add.js';
import * as plan from './commands/plan.js';
import * as apply from './commands/apply.js';
import * as run from './commands/run.js';
import * as status from './commands/status.js';
import * as logs from './commands/logs.js';
import * as litellmConfig from './commands/litellm-config.js';
import * as clients from './commands/clients.js';
import * as db from './commands/db.js';
import * as keys from './commands/keys.js';
import * as doctor from './commands/doctor.js';
import * as check from './commands/check.js';
import * as install from './commands/install.js';
import * as edge from './commands/edge.js';
import * as exportCmd from './commands/export.js';
import * as completion from './commands/completion.js';

export { Exit } from './command.js';

/**
 * Every command, in the order `--help` lists them. A command is a module under commands/ whose
 * `register(program)` defines it with `defineCommand` (help with examples and exit codes) and `onRun`.
 */
const COMMANDS: ReadonlyArray<{ register(program: Command): void }> = [
  validate, add, plan, apply, run, status, logs, litellmConfig, exportCmd, clients, keys, db, doctor, check, install, edge,
  { register: edge.registerFront }, completion,
];

const processIo: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(APP_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The whole command line interface as one commander program (ADR 0012). */
export function buildProgram(io: Io = processIo): Command {
  const program = new Command(PROGRAM)
    .description('Runs MCP servers in Docker from one YAML file each and registers them with one LiteLLM gateway.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--config <file>', 'settings file (default $MCP_RECONCILER_CONFIG or ~/.config/mcp-reconciler/settings.yaml)')
    .option('--desired <dir>', 'desired-state directory (overrides settings)')
    .addHelpText('after', `
Examples:
  $ ${PROGRAM} validate && ${PROGRAM} plan
  $ ${PROGRAM} apply --once
  $ ${PROGRAM} status github
  $ ${PROGRAM} <command> --help

Exit codes: 0 ok, 1 error or not ready, 2 usage error (and \`plan\`: changes to apply); each command's --help lists its own.
`);
  for (const c of COMMANDS) c.register(program);
  configureTree(program, io);
  return program;
}

/** Runs one command line (without node and the script); resolves to the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  return runProgram(buildProgram(io), argv);
}

export function reportFatal(err: unknown): number {
  if (err instanceof ReconcilerError) process.stderr.write(`${err.code}: ${err.message}\n`);
  else process.stderr.write(`error: ${errorMessage(err)}\n`);
  return Exit.Error;
}
