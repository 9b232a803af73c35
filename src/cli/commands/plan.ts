import type { Command } from 'commander';
import { renderPlan, planToJson } from '../../reconcile/render-plan.js';
import { writeOps } from '../../model/types.js';
import { wantsColour } from '../colour.js';
import { defineCommand, onRun, Exit } from '../command.js';
import { settingsFrom, buildReconciler, type GlobalOptions } from '../shared.js';

interface PlanOptions extends GlobalOptions {
  json?: boolean;
  allowEmpty?: boolean;
}

export function register(program: Command): void {
  const cmd = defineCommand(program, 'plan', 'show what apply would change, with the reason for each action (writes nothing)', {
    examples: ['', '--json | jq .operations'],
    exits: [[Exit.Ok, 'no changes'], [Exit.Changes, 'changes to apply'], [Exit.Error, 'error']],
  })
    .option('--json', 'machine-readable plan')
    .option('--allow-empty', 'plan as if pruning every server were confirmed (see apply --allow-empty)');
  onRun(cmd, async (_o: unknown, c: Command) => {
    const values = c.optsWithGlobals<PlanOptions>();
    const { reconciler } = buildReconciler(settingsFrom(values), 'silent');
    const out = await reconciler.plan({ allowEmpty: Boolean(values.allowEmpty) });
    if (values.json) {
      const doc = { gatewayMode: out.gatewayMode, operations: planToJson(out.plan), problems: out.problems };
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    } else {
      for (const p of out.problems) process.stderr.write(`${p.file}: ${p.message} (last good state kept)\n`);
      const text = renderPlan(out.plan, { colour: wantsColour(process.stdout) });
      process.stdout.write(`gateway registration: ${out.gatewayMode.mode} mode (${out.gatewayMode.why})\n${text}\n`);
    }
    return writeOps(out.plan).length > 0 ? Exit.Changes : Exit.Ok;
  });
}
