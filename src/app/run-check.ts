import fs from 'node:fs';
import path from 'node:path';
import { git } from '../analyze/git.js';
import { type BaselineFile, applyBaseline, baselineOf } from '../check/baseline.js';
import { checkDrift } from '../check/check-drift.js';
import type { Analysis } from '../model/analysis.js';
import type { CheckResult, FindingLocation } from '../model/finding.js';
import type { Plan } from '../model/plan.js';
import { stableJson } from '../util/compare.js';
import { UserError } from '../util/errors.js';
import { describeJsonError } from '../util/json-error.js';
import { toRepoPath } from '../util/paths.js';
import { sinkTarget, writeOutput } from './write-output.js';
import { validatePlan } from '../plan/plan-reading.js';
import { readPlanInBackground } from './plan-in-background.js';
import { keepReading, keptReading, planReadingCache } from './plan-reading-cache.js';
import { DEFAULT_PLAN_FILE, planContextFor, readPlanText } from './plan-source.js';

export interface CheckRunOptions {
  dir: string;
  planFile?: string;
  analysisFile?: string;
  baselineFile?: string;
  updateBaseline: boolean;
  maxSeams?: number;
  maxIcp?: number;
  changedSince?: string;
}

export interface CheckRun {
  result: CheckResult;
  plan: Plan;
  planFile: string;
  /** Set when --update-baseline wrote the baseline. */
  baselineWritten: string | null;
}

/** Loads the plan, re-analyses the code (no cache is needed for correctness) and compares the two. */
export async function runCheck(options: CheckRunOptions): Promise<CheckRun> {
  const dir = path.resolve(options.dir);
  const planFile = path.resolve(options.planFile ?? path.join(dir, DEFAULT_PLAN_FILE));
  const text = readPlanText(planFile, 'check against', `Run \`decompose plan\` in ${dir} first, or pass --plan FILE.`);
  // A plan check has read before is taken from the cache (plan-reading-cache.ts). Otherwise it is read (js-yaml, zod)
  // in a worker thread while this one loads the analyzer (started first, it overlaps the compiler's loading) and
  // analyses. The analysis schemas are loaded only to read a saved analysis (--analysis): check usually analyses itself.
  const cache = planReadingCache();
  const kept = cache && keptReading(cache, text);
  const background = kept ? null : readPlanInBackground(text);
  let validated: Plan;
  let analysis: Analysis;
  try {
    analysis = options.analysisFile
      ? (await import('./read-analysis.js')).readAnalysis(options.analysisFile)
      : await (await import('../analyze/analyze.js')).analyze({ dir });
    // Modules the plan names that no longer exist are drift (a finding), not an invalid plan; a module listed in
    // two places still is.
    const context = planContextFor(analysis, { missingModulesAreDrift: true });
    // Without a worker, or when it failed, the plan is read here.
    const read = kept ?? (background && (await background.result)) ?? { reading: (await import('../plan/parse-plan.js')).readPlan(text) };
    validated = validatePlan(text, planFile, context, read.reading);
    if (cache && !kept) keepReading(cache, text, read.reading);
  } finally {
    background?.stop();
  }
  const planRelative = toRepoPath(dir, planFile);
  const lines = text.split('\n');
  const planLocation = (needle: string): FindingLocation => {
    const index = needle ? lines.findIndex((l) => l.includes(needle)) : -1;
    return { file: planRelative, line: index >= 0 ? index + 1 : 1, column: index >= 0 ? lines[index]!.indexOf(needle) + 1 : 1 };
  };
  let findings = checkDrift(analysis, validated, { maxSeams: options.maxSeams, maxIcp: options.maxIcp, planLocation, severities: validated.checks?.rules });
  if (options.changedSince) {
    const changed = await changedFiles(dir, options.changedSince);
    findings = findings.filter((f) => changed.has(f.location.file));
  }
  const baselinePath = options.baselineFile ? path.resolve(dir, options.baselineFile) : null;
  const baseline = baselinePath && !options.updateBaseline ? readBaseline(baselinePath) : null;
  let baselineWritten: string | null = null;
  let result = applyBaseline(findings, baseline);
  if (options.updateBaseline) {
    if (!baselinePath) throw new UserError('DEC-061', '--update-baseline needs --baseline FILE', { hint: 'Name the baseline file, e.g. --baseline .decompose-baseline.json.' });
    const before = fs.existsSync(baselinePath) ? readBaseline(baselinePath).findings.length : 0;
    const next = baselineOf(findings);
    const target = sinkTarget(dir, baselinePath);
    writeOutput([{ path: target.path, content: stableJson(next), isOurs: isBaselineFile }], {
      root: target.root,
      force: false,
      dryRun: false,
      onConflict: 'refuse',
    });
    baselineWritten = baselinePath;
    result = { ...applyBaseline(findings, next), baselineBefore: before };
  }
  return { result, plan: validated, planFile, baselineWritten };
}


function isBaselineFile(content: string): boolean {
  try {
    return (JSON.parse(content) as { generator?: unknown }).generator === 'decompose';
  } catch {
    return false;
  }
}

function readBaseline(file: string): BaselineFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UserError('DEC-062', `${file}: no such baseline`, { hint: 'Create it with --update-baseline.', position: { file } });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const { message, line, column } = describeJsonError(text, error);
    throw new UserError('DEC-063', `invalid baseline: not valid JSON: ${message}`, { position: { file, line, column } });
  }
  const baseline = value as Partial<BaselineFile> | null;
  const isEntry = (entry: unknown) => entry !== null && typeof entry === 'object' && typeof (entry as { fingerprint?: unknown }).fingerprint === 'string';
  if (baseline?.version !== 1 || !Array.isArray(baseline.findings) || !baseline.findings.every(isEntry)) {
    throw new UserError('DEC-063', `${file}: invalid baseline: not a decompose baseline (version 1, findings with fingerprints)`, {
      position: { file },
      hint: 'Write it again with --update-baseline.',
    });
  }
  return baseline as BaselineFile;
}

/** Files changed since REF (committed or not, and new files), relative to the analysed folder. */
async function changedFiles(dir: string, ref: string): Promise<Set<string>> {
  const inside = await git(['rev-parse', '--is-inside-work-tree'], dir);
  if (inside.exitCode !== 0) throw new UserError('DEC-064', `--changed-since needs a git work tree; ${dir} is not one`);
  // Argument arrays only: REF comes from the user and never passes through a shell. A REF starting with "-"
  // would be read as an option (`--output=FILE` makes git diff write a file), so it is refused, and what is
  // passed on is the commit it names.
  const refused = (why: string) =>
    new UserError('DEC-065', `--changed-since ${JSON.stringify(ref)}: ${why}`, {
      hint: 'Give a branch, tag or commit git knows here, e.g. origin/main (fetch it first in CI: fetch-depth: 0).',
    });
  if (ref.trim() === '' || ref.startsWith('-')) throw refused('not a git ref');
  const commit = await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], dir);
  if (commit.exitCode !== 0) throw refused('git knows no commit by that name here');
  const diff = await git(['diff', '--name-only', '--relative', '--no-ext-diff', '--no-textconv', commit.stdout.trim(), '--', '.'], dir);
  if (diff.exitCode !== 0) throw refused(`git cannot compare with it (${diff.stderr.trim().split('\n')[0]})`);
  const untracked = await git(['ls-files', '--others', '--exclude-standard', '--', '.'], dir);
  return new Set([...diff.stdout.split('\n'), ...untracked.stdout.split('\n')].filter(Boolean));
}
