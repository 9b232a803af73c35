import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { buildProgram, main } from './index.js';
import { bashCompletion, commandTree, zshCompletion } from './completion.js';
import { defineCommand, onRun, configureTree, runProgram, type Io } from './command.js';

/** Runs the CLI in this process; the parser's output (help, errors, version) is captured. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => (out += s), err: (s) => (err += s) };
  const code = await main(argv, io);
  return { code, out, err };
}

/** Every command path, e.g. ['db', 'init'], from the program itself (a new command is covered without a list here). */
function commandPaths(cmd: Command = buildProgram(), prefix: string[] = []): string[][] {
  return cmd.commands.filter((c) => c.name() !== 'help').flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

describe('help', () => {
  const paths = commandPaths();
  test('the program has the documented commands', () => {
    const top = paths.filter((p) => p.length === 1).map((p) => p[0]);
    const documented = ['validate', 'add', 'plan', 'apply', 'run', 'status', 'logs', 'litellm-config', 'clients', 'db', 'doctor', 'check'];
    for (const name of [...documented, 'install', 'edge', 'completion']) {
      assert.ok(top.includes(name), name);
    }
    assert.ok(paths.some((p) => p.join(' ') === 'db init'));
  });
  for (const path of paths) {
    test(`${path.join(' ')} --help: an example of this command and its exit codes, exit 0`, async () => {
      const r = await cli(...path, '--help');
      assert.equal(r.code, 0);
      assert.match(r.out, new RegExp(`^Usage: mcp-reconciler ${path.join(' ')} `, 'm'));
      assert.match(r.out, new RegExp(`^Examples?:\\n  \\$ mcp-reconciler ${path.join(' ')}\\b`, 'm'));
      assert.match(r.out, /^Exit codes:\n(  \d  .+\n)+/m);
      assert.match(r.out, /^ {2}2 {2}.*usage error/m);
      assert.equal(r.err, '');
    });
  }
  test('plan --help keeps the 0/2/1 convention and says 2 is also a usage error', async () => {
    const r = await cli('plan', '--help');
    assert.match(r.out, /Exit codes:\n {2}0 {2}no changes\n {2}2 {2}changes to apply; also a usage error.*\n {2}1 {2}error\n/);
  });
  test('status --help: exit 1 also while something is held (a failed change, a conflict, blocked, held deletions)', async () => {
    const r = await cli('status', '--help');
    assert.match(r.out, /^ {2}0 {2}everything \(or the named server\) ready and nothing held;/m);
    assert.match(
      r.out,
      /^ {2}1 {2}not ready, or held \(a failed change waiting for its retry, a conflict, blocked, deletions held for --allow-empty\)/m,
    );
  });
  test('the global options are shown on a command', async () => {
    const r = await cli('status', '--help');
    assert.match(r.out, /--config <file>/);
    assert.match(r.out, /--desired <dir>/);
  });
});

describe('version and usage errors', () => {
  test('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await cli('--version');
    assert.deepEqual([r.code, r.out], [0, `${pkg.version}\n`]);
  });
  const cases: Array<{ argv: string[]; says: RegExp }> = [
    { argv: ['instal'], says: /unknown command 'instal'\n\(Did you mean install\?\)/ },
    { argv: ['stauts'], says: /Did you mean status\?/ },
    { argv: ['plan', '--josn'], says: /unknown option '--josn'\n\(Did you mean --json\?\)/ },
    { argv: ['status', '--confg', 'x'], says: /Did you mean --config\?/ },
    { argv: ['apply', '--onse'], says: /Did you mean --once\?/ },
    { argv: ['db', 'int'], says: /Did you mean init\?/ },
    { argv: ['apply'], says: /apply needs --once/ },
    { argv: ['db', 'init'], says: /required option '--admin-url <url>' not specified/ },
    { argv: ['completion', 'fish'], says: /Allowed choices are bash, zsh/ },
    { argv: ['clients', '--client', 'emacs'], says: /Allowed choices are claude-code, /m },
    { argv: ['validate', 'a', 'b'], says: /too many arguments for 'validate'/ },
    { argv: ['check', '--audit-wait', 'soon'], says: /--audit-wait: a number of seconds/ },
    { argv: ['check', '--key-env', 'A', '--key-file', 'f'], says: /give --key-env or --key-file, not both/ },
    { argv: [], says: /^Usage: mcp-reconciler \[options\] \[command\]/m },
  ];
  for (const c of cases) {
    test(`${c.argv.join(' ') || '(nothing)'}: exit 2 with the reason on stderr, nothing on stdout`, async () => {
      const r = await cli(...c.argv);
      assert.equal(r.code, 2);
      assert.match(r.err, c.says);
      assert.equal(r.out, '');
    });
  }
  test('a reader that goes away (| head) ends the output quietly: exit 0, no stack trace', async () => {
    const main = new URL('../main.js', import.meta.url).pathname;
    const child = spawn(process.execPath, [main, 'completion', 'zsh'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // closed before the first write: that write gets EPIPE
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.deepEqual([code, err], [0, '']);
  });
  test('the real process exits 2 on an unknown option (bin entry, not only main())', () => {
    const r = spawnSync(process.execPath, [new URL('../main.js', import.meta.url).pathname, 'plan', '--josn'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Did you mean --json\?/);
  });
});

describe('completion', () => {
  /** What bash completes for `words` (the last one is the word under the cursor), with the generated script. */
  function complete(script: string, words: string[]): string[] {
    const arr = words.map((w) => `'${w}'`).join(' ');
    const call = `COMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; _mcp_reconciler; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['-c', `${script}\n${call}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  }
  const bash = bashCompletion(commandTree(buildProgram()), 'mcp-reconciler');
  const table: Array<{ words: string[]; want: string[] }> = [
    { words: ['mcp-reconciler', 'st'], want: ['status'] },
    { words: ['mcp-reconciler', '--config', 'x.yaml', 'pl'], want: ['plan'] },
    { words: ['mcp-reconciler', 'plan', '--j'], want: ['--json'] },
    { words: ['mcp-reconciler', 'status', '--d'], want: ['--desired'] },
    { words: ['mcp-reconciler', 'clients', '--client', 'claude'], want: ['claude-code', 'claude-code-json'] },
    { words: ['mcp-reconciler', 'db', ''], want: ['init'] },
    { words: ['mcp-reconciler', 'db', 'init', '--readon'], want: ['--readonly-role'] },
    { words: ['mcp-reconciler', 'completion', ''], want: ['bash', 'zsh'] },
  ];
  for (const c of table) {
    test(`bash: ${c.words.slice(1).join(' ')}<TAB> -> ${c.want.join(' ')}`, () => {
      assert.deepEqual(complete(bash, c.words), c.want);
    });
  }
  test('`completion bash` prints the same script the generator makes', async () => {
    let out = '';
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
    try {
      assert.equal(await cli('completion', 'bash').then((r) => r.code), 0);
    } finally {
      process.stdout.write = orig;
    }
    assert.equal(out, bash);
  });
  test('a command registered on the program completes with no change to the generator', () => {
    const program = new Command('mcp-reconciler');
    const keys = defineCommand(program, 'keys', 'virtual keys', { examples: ['list'], exits: [[0, 'ok']] });
    defineCommand(keys, 'create', 'new key', { examples: ['--alias x'], exits: [[0, 'ok']] }).option('--alias <name>', 'alias');
    const script = bashCompletion(commandTree(program), 'mcp-reconciler');
    assert.deepEqual(complete(script, ['mcp-reconciler', 'keys', 'cr']), ['create']);
    assert.deepEqual(complete(script, ['mcp-reconciler', 'keys', 'create', '--al']), ['--alias']);
  });
  test('zsh: the script parses, loads under compinit and registers its function for mcp-reconciler', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zsh-comp-'));
    try {
      const file = join(dir, '_mcp-reconciler');
      writeFileSync(file, zshCompletion(commandTree(buildProgram()), 'mcp-reconciler'));
      const syntax = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
      assert.equal(syntax.status, 0, syntax.stderr);
      const script = `autoload -U compinit && compinit -u -d ${join(dir, 'dump')}; source ${file}; print -r -- \${_comps[mcp-reconciler]}`;
      const load = spawnSync('zsh', ['-fc', script], { encoding: 'utf8' });
      assert.deepEqual([load.status, load.stdout, load.stderr], [0, '_mcp_reconciler\n', '']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('zsh: one function per command, each option with its description', () => {
    const zsh = zshCompletion(commandTree(buildProgram()), 'mcp-reconciler');
    assert.match(zsh, /^#compdef mcp-reconciler\n/);
    for (const path of commandPaths()) {
      const fn = `_mcp_reconciler__${path.map((p) => p.replace(/-/g, '_')).join('__')}`;
      assert.match(zsh, new RegExp(`^${fn}\\(\\) \\{`, 'm'));
    }
    assert.match(zsh, /'--json\[machine-readable plan\]'/);
    const client = /'--client\[one raw snippet for this client\]:client:\(claude-code claude-code-json gemini codex vscode open-webui\)'/;
    assert.match(zsh, client);
  });
});

describe('the action decides the exit code', () => {
  test('the code an action returns is the exit code; an action that throws is not a usage error', async () => {
    const io: Io = { out: () => undefined, err: () => undefined };
    const program = new Command('x');
    onRun(defineCommand(program, 'three', 'returns 3', { examples: [''], exits: [[3, 'three']] }), () => 3);
    onRun(defineCommand(program, 'boom', 'throws', { examples: [''], exits: [] }), () => {
      throw new Error('boom');
    });
    configureTree(program, io);
    assert.equal(await runProgram(program, ['three']), 3);
    await assert.rejects(runProgram(program, ['boom']), /boom/);
  });
});

describe('keys: refused command lines never reach the gateway (exit 2)', () => {
  const cases: [string[], RegExp][] = [
    [['keys', 'create', 'laptop'], /required option '--servers <names>' not specified/],
    [['keys', 'create', '--servers', 'a'], /missing required argument 'client'/],
    [['keys', 'revoke'], /missing required argument 'client'/],
    [['clients', '--servers', 'a'], /--servers goes with --create-key/],
    [['clients', '--create-key', '--servers', 'a'], /--create-key needs --client <name>/],
    [['clients', '--client', 'codex', '--create-key'], /--create-key needs --servers <names>/],
  ];
  for (const [argv, message] of cases) {
    test(argv.join(' '), async () => {
      const r = await cli(...argv, '--config', '/nonexistent/settings.yaml');
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, message);
      assert.equal(r.out, '');
    });
  }
});
