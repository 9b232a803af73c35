import type { Command } from 'commander';
import { renderPlan } from '../../reconcile/render-plan.js';
import { LockHeldError } from '../../lock/instance-lock.js';
import type { ApplyAnswer } from '../../server/http.js';
import { applyThroughDaemon } from '../apply-remote.js';
import { defineCommand, onRun, usageError, Exit } from '../command.js';
import { settingsFrom, buildReconciler, takeLock, type GlobalOptions } from '../shared.js';

interface ApplyOptions extends GlobalOptions {
  once?: boolean;
  allowEmpty?: boolean;
  pull?: boolean;
}

export function register(program: Command): void {
  const cmd = defineCommand(program, 'apply', 'reconcile once and exit (while the daemon runs, the daemon does the pass)', {
    examples: ['--once', '--once --pull', '--once --allow-empty'],
    exits: [[Exit.Ok, 'converged'], [Exit.Error, 'something failed, is blocked or held, or a pull failed']],
  })
    .option('--once', 'required: one pass (the daemon is `run`)')
    .option('--allow-empty', 'confirm pruning every server when the desired dir is empty')
    .option('--pull', 'first pull every wanted image; a reference whose image changed rolls out');
  onRun(cmd, async (_o: unknown, c: Command) => {
    const values = c.optsWithGlobals<ApplyOptions>();
    if (!values.once) usageError(c, 'apply needs --once (the daemon is `run`)');
    const settings = settingsFrom(values);
    // --pull: fetch every wanted reference now; the pass then rolls out each one whose local id changed.
    // Pulling changes images only, never containers, so it needs no lock.
    let pullFailed = 0;
    if (values.pull) {
      const { reconciler } = buildReconciler(settings, 'silent');
      for (const p of await reconciler.pullWanted()) {
        if (p.error) {
          pullFailed++;
          process.stderr.write(`pull failed: ${p.error}\n`);
        } else process.stdout.write(`pulled ${p.image}: ${p.id}\n`);
      }
    }
    const lock = takeLock(settings, 'apply --once');
    if (lock instanceof LockHeldError) {
      // The daemon runs: it does the pass (its own lock, its own serialisation) and we print it.
      const answer = await applyThroughDaemon(lock.holder, Boolean(values.allowEmpty));
      if (!answer) {
        const why = 'It has no HTTP face to ask for a pass (statusPort 0): stop it, or wait for its next pass.';
        process.stderr.write(`${lock.message}\n${why}\n`);
        return Exit.Error;
      }
      process.stderr.write(`the daemon (pid ${lock.holder.pid}) ran this pass\n`);
      return Math.max(printApply(answer), pullFailed > 0 ? Exit.Error : Exit.Ok);
    }
    try {
      const { reconciler } = buildReconciler(settings);
      const out = await reconciler.reconcile({ allowEmpty: Boolean(values.allowEmpty) });
      const code = printApply({
        plan: renderPlan(out.plan),
        failed: out.result.failed.map((f) => ({ resourceId: f.op.resourceId, error: f.error })),
        problems: out.problems.map((p) => ({ file: p.file, message: p.message })),
        unconverged: out.plan.operations.filter((o) => o.type === 'conflict' || o.type === 'blocked' || o.type === 'prune-held').length,
        error: null,
      });
      return Math.max(code, pullFailed > 0 ? Exit.Error : Exit.Ok);
    } finally {
      lock.release();
    }
  });
}

function printApply(a: ApplyAnswer): number {
  if (a.error) {
    process.stderr.write(`pass failed: ${a.error}\n`);
    return Exit.Error;
  }
  process.stdout.write(`${a.plan}\n`);
  for (const f of a.failed) process.stderr.write(`failed: ${f.resourceId}: ${f.error}\n`);
  for (const p of a.problems) process.stderr.write(`not applied: ${p.file}: ${p.message}\n`);
  return a.failed.length + a.unconverged + a.problems.length > 0 ? Exit.Error : Exit.Ok;
}
