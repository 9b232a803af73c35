import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI (this file runs from dist/src/cli/). */
const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
/** The prompt (tmux's capture-pane drops the trailing blank of an empty line). */
const PROMPT = 'READY>';
const POLL_MS = 50;
const WAIT_MS = 30_000;

/**
 * The generated completion pressed for real: an interactive zsh (and bash) in a tmux pane, a clean
 * ZDOTDIR / rc file in a temp dir, the script loaded as a user installs it (`mcp-reconciler
 * completion zsh` through a wrapper named mcp-reconciler on PATH), then keys are typed with
 * `tmux send-keys` and the pane is read until the line shows the completion.
 */
describe('completion under a real TAB key (tmux)', { timeout: 120_000 }, () => {
  let dir = '';
  const tmux = (...args: string[]): string => {
    const r = spawnSync('tmux', ['-S', join(dir, 'tmux.sock'), '-f', '/dev/null', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, `tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** The pane's text, polled until `want` matches its last prompt line; the last screen in the failure. */
  const waitForLine = async (pane: string, want: RegExp): Promise<string> => {
    const deadline = Date.now() + WAIT_MS;
    let screen = '';
    for (;;) {
      screen = tmux('capture-pane', '-p', '-t', pane);
      const line = screen.split('\n').filter((l) => l.startsWith(PROMPT)).at(-1) ?? '';
      if (want.test(line)) return line;
      if (Date.now() > deadline) assert.fail(`pane ${pane} never showed ${want}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'completion-keys-'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const wrapper = join(bin, 'mcp-reconciler');
    writeFileSync(wrapper, `#!/bin/sh\nexec '${process.execPath}' '${MAIN}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    const zdot = join(dir, 'zdot');
    mkdirSync(zdot);
    writeFileSync(
      join(zdot, '.zshrc'),
      [
        `PS1='${PROMPT} '`,
        `mcp-reconciler completion zsh > ${join(dir, '_mcp-reconciler')}`,
        `autoload -U compinit && compinit -u -d ${join(dir, 'zcompdump')}`,
        `source ${join(dir, '_mcp-reconciler')}`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'bashrc'), [`PS1='${PROMPT} '`, 'source <(mcp-reconciler completion bash)', ''].join('\n'));
    const env = `env -i HOME=${dir} PATH=${bin}:/usr/bin:/bin TERM=xterm INPUTRC=/dev/null`;
    tmux('new-session', '-d', '-s', 'zsh', '-x', '160', '-y', '40', `${env} ZDOTDIR=${zdot} zsh -i`);
    tmux('new-session', '-d', '-s', 'bash', '-x', '160', '-y', '40', `${env} bash --noprofile --rcfile ${join(dir, 'bashrc')} -i`);
  });
  after(() => {
    spawnSync('tmux', ['-S', join(dir, 'tmux.sock'), 'kill-server']);
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: Array<{ typed: string; want: RegExp }> = [
    { typed: 'mcp-reconciler sta', want: /^READY> mcp-reconciler status\s*$/ },
    { typed: 'mcp-reconciler status --w', want: /^READY> mcp-reconciler status --watch\s*$/ },
    { typed: 'mcp-reconciler clients --client open', want: /^READY> mcp-reconciler clients --client open-webui\s*$/ },
  ];
  for (const shell of ['zsh', 'bash']) {
    for (const c of cases) {
      test(`${shell}: ${c.typed}<TAB> completes`, async () => {
        await waitForLine(shell, /^READY>\s*$/);
        try {
          tmux('send-keys', '-t', shell, '-l', c.typed);
          await waitForLine(shell, new RegExp(`^READY> ${c.typed}$`));
          tmux('send-keys', '-t', shell, 'Tab');
          await waitForLine(shell, c.want);
        } finally {
          tmux('send-keys', '-t', shell, 'C-u'); // an empty line for the next case
        }
      });
    }
  }
});
