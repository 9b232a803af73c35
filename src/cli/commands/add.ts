import { Argument, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { CatalogError, CATALOG_DIR, listTemplates, planAdd, templateNames, writeAdd } from '../../catalog/catalog.js';
import { errorMessage, formatIssue } from '../../errors/index.js';
import { defineCommand, onRun, usageError, Exit } from '../command.js';
import { settingsFrom, type GlobalOptions } from '../shared.js';

interface AddOptions extends GlobalOptions {
  name?: string;
  list?: boolean;
}

/** The template names for the argument's choices; an install without its catalog folder offers none. */
function choices(): string[] {
  try {
    return templateNames(CATALOG_DIR);
  } catch {
    return [];
  }
}

export function register(program: Command): void {
  const cmd = defineCommand(program, 'add', 'write a vetted desired file (and its server folder) from the offline catalog', {
    examples: ['--list', 'time', 'postgresql --name pg-homelab', 'filesystem --name notes'],
    exits: [
      [Exit.Ok, 'written (or listed)'],
      [Exit.Error, 'refused: the desired file or server folder exists, or the desired dir or projects root is missing'],
      [Exit.Usage, 'a template that is not in the catalog, a --name the desired-file rules refuse, neither a template nor --list'],
    ],
  })
    .addArgument(new Argument('[template]', 'the template (add --list shows them)').choices(choices()))
    .option('--name <name>', "the server's name (default: the template's); the desired file is mcp-<name>.yaml")
    .option('-l, --list', 'list the templates, one line each');
  onRun(cmd, (template: string | undefined, _o: unknown, c: Command) => add(c, template, c.optsWithGlobals<AddOptions>()));
}

function add(cmd: Command, template: string | undefined, o: AddOptions): number {
  if (o.list) {
    if (template !== undefined || o.name !== undefined) usageError(cmd, '--list takes no template and no --name');
    const rows = listTemplates();
    const width = Math.max(...rows.map((r) => r.template.length));
    for (const r of rows) process.stdout.write(`${r.template.padEnd(width)}  ${r.description}\n`);
    return Exit.Ok;
  }
  if (template === undefined) usageError(cmd, 'give a template (add --list shows them)');
  let settings;
  try {
    settings = settingsFrom(o);
  } catch (err) {
    process.stderr.write(`${errorMessage(err)}\n`);
    return Exit.Error;
  }
  try {
    const plan = planAdd(settings, template, o.name ?? template);
    const written = writeAdd(plan);
    for (const p of written) process.stdout.write(`wrote ${p}\n`);
    for (const w of plan.server.warnings) process.stderr.write(`${formatIssue({ ...w, file: plan.desiredFile })}\n`);
    if (plan.secrets.length > 0) {
      const state = existsSync(plan.envFile) ? 'it exists' : 'it does not exist yet';
      process.stdout.write(`secrets (add writes none): put into ${plan.envFile} (mode 600; ${state}):\n`);
      for (const s of plan.secrets) process.stdout.write(`  ${s.key}=${s.example}\n    ${s.why}\n`);
    }
    for (const n of plan.next) process.stdout.write(`next: ${n}\n`);
    process.stdout.write('then: mcp-reconciler validate && mcp-reconciler plan (a running daemon applies it within a second)\n');
    return Exit.Ok;
  } catch (err) {
    if (err instanceof CatalogError && (err.kind === 'bad-name' || err.kind === 'unknown-template')) usageError(cmd, err.message);
    process.stderr.write(`${errorMessage(err)}\n`);
    return Exit.Error;
  }
}
