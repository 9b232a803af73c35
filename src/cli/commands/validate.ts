import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Settings } from '../../config/settings.js';
import { loadDesiredDir, parseDesiredFile, displayPath, readDesiredFile, type DesiredServer } from '../../desired/load.js';
import { checkServerInputs } from '../../desired/resolve.js';
import { formatIssue, errorMessage, type LocatedIssue } from '../../errors/index.js';
import { defineCommand, onRun, Exit } from '../command.js';
import { settingsFrom, type GlobalOptions } from '../shared.js';

export function register(program: Command): void {
  const cmd = defineCommand(program, 'validate [path]', 'check desired files (a file or a directory; default: the desired dir)', {
    examples: ['', '~/projects/mcp/desired-state/mcp-github.yaml'],
    exits: [[Exit.Ok, 'every file valid'], [Exit.Error, 'an invalid file, or settings that do not load']],
  });
  onRun(cmd, (path: string | undefined, _o: unknown, c: Command) => validate(path, c.optsWithGlobals<GlobalOptions>()));
}

function validate(path: string | undefined, values: GlobalOptions): number {
  const issues: LocatedIssue[] = [];
  let count = 0;
  let target = path;
  if (!target) {
    try {
      target = settingsFrom(values).desiredDir;
    } catch (err) {
      process.stderr.write(`${errorMessage(err)}\n`);
      return Exit.Error;
    }
  }
  const abs = resolve(target);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    process.stderr.write(`${target}: no such file or directory\n`);
    return Exit.Error;
  }
  // Host inputs (env files, mount sources) need the settings; a given path without settings skips them.
  let settings: Settings | null = null;
  try {
    settings = settingsFrom(values);
  } catch (err) {
    if (!path || values.config) {
      process.stderr.write(`${errorMessage(err)}\n`);
      return Exit.Error;
    }
    process.stderr.write(`warning: settings do not load (${errorMessage(err)}); env files and mounts not checked\n`);
  }
  const valid: DesiredServer[] = [];
  if (isDir) {
    const load = loadDesiredDir(abs);
    count = load.servers.length + load.invalid.length;
    for (const s of load.servers) issues.push(...s.warnings);
    for (const i of load.invalid) issues.push(...i.issues);
    valid.push(...load.servers);
  } else {
    count = 1;
    const file = displayPath(abs);
    let text: string | null = null;
    try {
      text = readDesiredFile(abs);
    } catch (err) {
      const message = `cannot read: ${errorMessage(err).replace(`${abs} `, '')}`;
      issues.push({ file, line: 1, col: 1, path: '', message, severity: 'error' });
    }
    if (text !== null) {
      const r = parseDesiredFile(text, file, abs.split('/').pop() ?? '');
      if (r.server) issues.push(...r.server.warnings);
      if (r.invalid) issues.push(...r.invalid.issues);
      if (r.server) valid.push(r.server);
    }
  }
  if (settings) for (const d of valid) issues.push(...checkServerInputs(settings, d));
  for (const i of issues) process.stderr.write(`${formatIssue(i)}\n`);
  const errors = issues.filter((i) => i.severity === 'error').length;
  process.stdout.write(`${count} file(s) checked, ${errors} error(s), ${issues.length - errors} warning(s)\n`);
  return errors > 0 ? Exit.Error : Exit.Ok;
}
