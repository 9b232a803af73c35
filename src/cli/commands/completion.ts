import { Argument, type Command } from 'commander';
import { bashCompletion, commandTree, zshCompletion } from '../completion.js';
import { defineCommand, onRun, Exit, PROGRAM } from '../command.js';

export function register(program: Command): void {
  const cmd = defineCommand(program, 'completion', 'print the bash or zsh completion script (generated from these definitions)', {
    examples: [
      'bash > ~/.local/share/bash-completion/completions/mcp-reconciler',
      'zsh > "${fpath[1]}/_mcp-reconciler"',
    ],
    exits: [[Exit.Ok, 'printed']],
  }).addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']));
  onRun(cmd, (shell: 'bash' | 'zsh') => {
    const tree = commandTree(program);
    process.stdout.write(shell === 'bash' ? bashCompletion(tree, PROGRAM) : zshCompletion(tree, PROGRAM));
    return Exit.Ok;
  });
}
