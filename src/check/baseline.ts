import type { CheckResult, Finding, RuleId } from '../model/finding.js';
import { sortBy } from '../util/compare.js';

export interface BaselineEntry {
  fingerprint: string;
  rule: RuleId;
  file: string;
  message: string;
}

export interface BaselineFile {
  version: 1;
  generator: 'decompose';
  findings: BaselineEntry[];
}

/**
 * Splits findings into new ones and those the baseline already records. A baseline only shrinks: an entry
 * whose finding is gone is stale and fails the check until the baseline is updated, so fixing one violation
 * cannot silently make room for another.
 */
export function applyBaseline(findings: Finding[], baseline: BaselineFile | null): CheckResult {
  if (!baseline) return { findings, stale: [], baselined: 0, baselineBefore: null, baselineAfter: null };
  const recorded = new Set(baseline.findings.map((f) => f.fingerprint));
  const current = new Set(findings.map((f) => f.fingerprint));
  const fresh = findings.filter((f) => !recorded.has(f.fingerprint));
  const stale = baseline.findings.filter((f) => !current.has(f.fingerprint)).map((f) => ({ fingerprint: f.fingerprint, rule: f.rule, message: f.message }));
  return {
    findings: fresh,
    stale,
    baselined: findings.length - fresh.length,
    baselineBefore: baseline.findings.length,
    baselineAfter: baseline.findings.length - stale.length,
  };
}

/** The baseline that records exactly today's findings. */
export function baselineOf(findings: Finding[]): BaselineFile {
  return {
    version: 1,
    generator: 'decompose',
    findings: sortBy(
      findings.map((f) => ({ fingerprint: f.fingerprint, rule: f.rule, file: f.location.file, message: f.message })),
      (f) => f.file,
      (f) => f.rule,
      (f) => f.fingerprint,
    ),
  };
}

/** Exit code of a check: 1 when an error-severity finding or a stale baseline entry remains, else 0. */
export function checkExitCode(result: CheckResult): 0 | 1 {
  return result.findings.some((f) => f.severity === 'error') || result.stale.length > 0 ? 1 : 0;
}
