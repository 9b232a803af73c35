/** One doctor finding: where, what is wrong in LiteLLM 1.77.3, and the fix. */
export interface Finding {
  severity: 'error' | 'warning' | 'info';
  /** Stable rule id, e.g. `db.schema-missing`. */
  rule: string;
  /** `file:line:col`, a URL, or a resource. */
  where: string;
  message: string;
  fix: string;
}

export function renderFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'no findings';
  return findings
    .map((f) => `${f.where} ${f.severity} [${f.rule}] ${f.message}${f.fix ? `\n    fix: ${f.fix}` : ''}`)
    .join('\n');
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}
