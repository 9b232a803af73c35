import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { install, lookupAccount, APP_ROOT } from '../../install/install.js';
import { defineCommand, onRun, Exit } from '../command.js';

interface InstallOptions {
  user?: string;
  root?: string;
  enable: boolean;
}

export function register(program: Command): void {
  const cmd = defineCommand(program, 'install', 'put the systemd unit, settings and folders in place and enable the service', {
    examples: ['--user alice', '--root /tmp/stage --no-enable'],
    exits: [[Exit.Ok, 'installed (what existed is kept)'], [Exit.Error, 'no such user, or a path cannot be written']],
  })
    .option('--user <name>', 'the account the service runs as (default $SUDO_USER, else you)')
    .option('--root <dir>', 'stage everything under this directory (nothing is enabled)')
    .option('--no-enable', 'do not enable and start the service');
  onRun(cmd, (o: InstallOptions) => {
    const name = o.user ?? process.env['SUDO_USER'] ?? userInfo().username;
    const root = resolve(o.root ?? '/');
    const report = install({
      account: lookupAccount(name),
      root,
      app: APP_ROOT,
      node: process.execPath,
      enable: o.enable && root === '/',
    });
    process.stdout.write(`installed for user ${name}${root === '/' ? '' : ` under ${root}`}\n`);
    for (const [k, v] of Object.entries(report.paths)) process.stdout.write(`  ${k.padEnd(17)} ${v}\n`);
    process.stdout.write(`created: ${report.created.length ? report.created.join(', ') : 'nothing'}\n`);
    if (report.kept.length) process.stdout.write(`kept as they were: ${report.kept.join(', ')}\n`);
    process.stdout.write('watch it: systemctl status mcp-reconciler; journalctl -u mcp-reconciler (one server: MCP_SERVER=<name>)\n');
    return Exit.Ok;
  });
}
