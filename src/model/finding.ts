/**
 * A boundary-drift finding from `decompose check`. Plain data: reporters turn a list of these into pretty,
 * JSON, GitHub workflow commands, SARIF, JUnit or Markdown.
 */
export type RuleId =
  | 'forbidden-import'
  | 'unclaimed-module'
  | 'missing-module'
  | 'route-owner'
  | 'data-ownership'
  | 'shared-imports-service'
  | 'new-hazard'
  | 'seam-budget'
  | 'icp-budget';

export type Severity = 'error' | 'warn';

export interface FindingLocation {
  /** Repo-relative POSIX path. */
  file: string;
  line: number;
  column: number;
}

export interface Finding {
  rule: RuleId;
  severity: Severity;
  /** What is wrong and how to fix it, in one or two sentences. */
  message: string;
  location: FindingLocation;
  /** Further places involved (the other side of an import, the owner's module). */
  related: Array<FindingLocation & { message: string }>;
  /** The service the finding is about, when there is one. */
  service: string | null;
  /**
   * Stable identity: the same violation keeps its fingerprint when unrelated lines move (line numbers are
   * not part of it), so baselines survive everyday edits.
   */
  fingerprint: string;
}

export interface RuleDescription {
  id: RuleId;
  title: string;
  help: string;
  defaultSeverity: Severity;
}

export const RULES: readonly RuleDescription[] = [
  { id: 'forbidden-import', title: 'Import across a service boundary the plan does not allow', help: 'Call the other service through its API, or add it to dependsOn in the plan if the team agrees.', defaultSeverity: 'error' },
  { id: 'unclaimed-module', title: 'Module no service or shared library claims', help: 'Add the module (or a glob covering it) to a service or shared library in the plan.', defaultSeverity: 'error' },
  { id: 'missing-module', title: 'Module named in the plan no longer exists', help: 'Remove it from the plan, or run decompose plan --refresh.', defaultSeverity: 'warn' },
  { id: 'route-owner', title: 'Route served by a service other than the one owning its prefix', help: 'Move the route to the service that owns the prefix, or move the prefix in the plan.', defaultSeverity: 'error' },
  { id: 'data-ownership', title: 'New writer of an entity another service owns', help: 'Write through the owning service (an API call or an event) instead of the table.', defaultSeverity: 'error' },
  { id: 'shared-imports-service', title: 'Shared library imports a service', help: 'Shared code must not depend on services: move the code into the service or invert the dependency.', defaultSeverity: 'error' },
  { id: 'new-hazard', title: 'New scale-out hazard in a service', help: 'Move the state to a shared store (Redis, the database) or a single scheduled job.', defaultSeverity: 'warn' },
  { id: 'seam-budget', title: 'More seams than the budget allows', help: 'Remove cross-service calls or raise --max-seams deliberately.', defaultSeverity: 'error' },
  { id: 'icp-budget', title: 'Inter-call percentage above the budget', help: 'Reduce cross-service calls or raise --max-icp deliberately.', defaultSeverity: 'error' },
];

/** What a check run found, including how the baseline changed. */
export interface CheckResult {
  findings: Finding[];
  /** Baseline entries whose finding is gone: they fail the check until the baseline is updated. */
  stale: Array<{ fingerprint: string; rule: RuleId; message: string }>;
  /** Findings present in the baseline (not counted as new). */
  baselined: number;
  baselineBefore: number | null;
  baselineAfter: number | null;
}
