// The shape of one bench case. To add a case: write a module exporting a BenchCase, add it to
// CASES in bench/cases.ts, run `npm run bench -- --only <id>`, commit the result file under
// bench/results/ and run `npm run readme:figures` (see bench/README.md).

/** One measured figure beside its baseline from the same run. */
export interface BenchRow {
  /** What was measured, as the README shows it. */
  what: string;
  /** The figure, with its unit. */
  value: string;
  /** What it is compared with, measured in the same run ('' when there is none). */
  baseline: string;
  /** Conditions, or whether the target was met. */
  note: string;
}

export interface CaseOutput {
  rows: BenchRow[];
  /** The raw numbers behind the rows (kept in the result file). */
  data: Record<string, unknown>;
}

export interface BenchCase {
  /** Kebab-case id: `--only <id>`, and the key in the result file. */
  id: string;
  /** One line: what the case measures. */
  title: string;
  /** The unit of the main figure. */
  unit: string;
  /** The target this figure is held to, if any (checked by the case, reported in a row's note). */
  target?: string;
  /** `docker`: needs dockerd and the local images (scripts/setup.sh); `node`: nothing else. */
  needs: 'node' | 'docker';
  run(): Promise<CaseOutput>;
}
