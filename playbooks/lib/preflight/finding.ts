// What every preflight check returns: findings (an error stops a deploy, a warning does not), each
// saying what was checked, the numbers, and the fix; and a summary of what was checked with its
// numbers, shown also when nothing is wrong (the database budget is worth reading when it fits).

export type FindingLevel = 'error' | 'warning';

export interface Finding {
  level: FindingLevel;
  /** The check family: certificates, architecture, scaling, database connections, capacity, quotas, … */
  check: string;
  /** What the finding is about: an inventory setting (dotted path) or an AWS resource. */
  subject: string;
  /** What was found, with the numbers. */
  detail: string;
  /** What to change. */
  fix: string;
}

export interface CheckReport {
  check: string;
  /** What was checked, with its numbers, one line each. */
  summary: string[];
  findings: Finding[];
}

/** A report builder for one check family. */
export function reporter(check: string) {
  const report: CheckReport = { check, summary: [], findings: [] };
  return {
    report,
    error: (subject: string, detail: string, fix: string): void => void report.findings.push({ level: 'error', check, subject, detail, fix }),
    warning: (subject: string, detail: string, fix: string): void => void report.findings.push({ level: 'warning', check, subject, detail, fix }),
    summary: (line: string): void => void report.summary.push(line),
  };
}

/** One finding as the play prints it: level, check, subject and numbers, then the fix. */
export function findingLines(f: Finding): string[] {
  return [`${f.level} ${f.check}: ${f.subject}: ${f.detail}`, `  fix: ${f.fix}`];
}

export const errorsIn = (reports: readonly CheckReport[]): Finding[] => reports.flatMap((r) => r.findings.filter((f) => f.level === 'error'));
