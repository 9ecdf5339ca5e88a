import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { analyze } from '../analyze/analyze.js';
import { type BaselineFile, applyBaseline, baselineOf } from '../check/baseline.js';
import { checkDrift } from '../check/check-drift.js';
import type { CheckResult, FindingLocation } from '../model/finding.js';
import type { Plan } from '../model/plan.js';
import { expandModules } from '../plan/build-plan.js';
import { parsePlan } from '../plan/plan-file.js';
import { writeChanges } from '../sink/disk-sink.js';
import { stableJson } from '../util/compare.js';
import { UserError } from '../util/errors.js';
import { toRepoPath } from '../util/paths.js';
import { readAnalysis } from './analysis-file.js';
import { DEFAULT_PLAN_FILE } from './run-plan.js';

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
  const { plan, text } = loadPlan(planFile, dir);
  const analysis = options.analysisFile ? readAnalysis(options.analysisFile) : await analyze({ dir });
  const allModules = analysis.modules.map((m) => m.path);
  const validated = parsePlan(text, planFile, {
    moduleExists: () => true,
    matchModules: (pattern) => expandModules([pattern], allModules),
    projectName: analysis.project.name,
  });
  void plan;
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
    writeChanges([{ path: path.basename(baselinePath), content: stableJson(next), isOurs: isBaselineFile }], {
      root: path.dirname(baselinePath),
      force: false,
      dryRun: false,
      onConflict: 'refuse',
    });
    baselineWritten = baselinePath;
    result = { ...applyBaseline(findings, next), baselineBefore: before };
  }
  return { result, plan: validated, planFile, baselineWritten };
}

function loadPlan(planFile: string, dir: string): { plan: null; text: string } {
  try {
    return { plan: null, text: fs.readFileSync(planFile, 'utf8') };
  } catch {
    throw new UserError('DEC-060', `${planFile}: no plan to check against`, {
      hint: `Run \`decompose plan\` in ${dir} first, or pass --plan FILE.`,
      position: { file: planFile },
    });
  }
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
  try {
    const value = JSON.parse(text) as BaselineFile;
    if (value.version !== 1 || !Array.isArray(value.findings)) throw new Error('not a decompose baseline (version 1)');
    return value;
  } catch (error) {
    throw new UserError('DEC-063', `${file}: invalid baseline: ${(error as Error).message}`, { position: { file } });
  }
}

/** Files changed since REF (committed or not, and new files), relative to the analysed folder. */
async function changedFiles(dir: string, ref: string): Promise<Set<string>> {
  const inside = await execa('git', ['rev-parse', '--is-inside-work-tree'], { cwd: dir, reject: false });
  if (inside.exitCode !== 0) throw new UserError('DEC-064', `--changed-since needs a git work tree; ${dir} is not one`);
  // Argument arrays only: REF comes from the user and never passes through a shell.
  const diff = await execa('git', ['diff', '--name-only', '--relative', ref, '--', '.'], { cwd: dir, reject: false });
  if (diff.exitCode !== 0) throw new UserError('DEC-065', `--changed-since ${ref}: git cannot compare with it (${diff.stderr.trim().split('\n')[0]})`);
  const untracked = await execa('git', ['ls-files', '--others', '--exclude-standard', '--', '.'], { cwd: dir, reject: false });
  return new Set([...diff.stdout.split('\n'), ...untracked.stdout.split('\n')].filter(Boolean));
}
