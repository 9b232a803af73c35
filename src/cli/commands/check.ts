import type { Command } from 'commander';
import { checkCommand } from '../../check/command.js';
import { defineCommand, onRun, usageError, Exit } from '../command.js';
import { settingsFrom, type GlobalOptions } from '../shared.js';

interface CheckCliOptions extends GlobalOptions {
  keyEnv?: string;
  keyFile?: string;
  model?: string;
  auditWait?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = defineCommand(
    program,
    'check',
    'test the live stack as a client would: a tool call on every server through LiteLLM /mcp/, ' +
      'a chat completion and an LLM-driven tool call (if a model is served), the audit rows (with a database)',
    {
      examples: ['', '--key-env LITELLM_API_KEY', '--model mock-tools --audit-wait 120'],
      exits: [[Exit.Ok, 'every step passed or did not apply (SKIP)'], [Exit.Error, 'a step failed (its fix is printed under it)']],
    },
  )
    .option('--key-env <var>', "the client's key from this environment variable (default: the gateway's master key)")
    .option('--key-file <file>', "the client's key from this file (mode 600; the key alone or one NAME=key line)")
    .option('--model <name>', 'the model for the chat completion and the LLM-driven tool call (default: the first served)')
    .option('--audit-wait <seconds>', 'how long to wait for the audit rows (default 45; LiteLLM writes them in batches)')
    .option('--json', 'the steps as JSON');
  onRun(cmd, async (_o: unknown, c: Command) => {
    const values = c.optsWithGlobals<CheckCliOptions>();
    const wait = values.auditWait === undefined ? undefined : Number(values.auditWait);
    if (wait !== undefined && !(Number.isFinite(wait) && wait >= 0)) usageError(c, '--audit-wait: a number of seconds');
    if (values.keyEnv !== undefined && values.keyFile !== undefined) usageError(c, 'give --key-env or --key-file, not both');
    return checkCommand(
      settingsFrom(values),
      { keyEnv: values.keyEnv, keyFile: values.keyFile, model: values.model, auditWaitSeconds: wait, json: values.json },
      { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), env: process.env },
    );
  });
}
