import fs from 'node:fs';
import path from 'node:path';
import { analyze } from '../analyze/analyze.js';
import type { Analysis } from '../model/analysis.js';
import type { BuiltPlan, PlanChoices } from '../plan/build-plan.js';
import type { ScaffoldTarget } from '../scaffold/scaffold.js';
import { UserError } from '../util/errors.js';
import { isInside } from '../util/paths.js';
import type { GuidedAnswers } from './config-file.js';
import { type PlanRunResult, runPlan } from './run-plan.js';
import { type ScaffoldRun, runScaffold } from './run-scaffold.js';

/*
 * The stages of the guided run, wired from the answers. The conversation (prompts, progress, text) is in
 * src/cli/guided-command.ts; this file only calls the same stage functions the commands call, so a guided run
 * and the command line it prints write the same files.
 */

/** Analyses the project once, reporting each parsed file, so the guided run can show a progress bar. */
export async function analyseProject(dir: string, answers: GuidedAnswers, onProgress: (done: number, total: number) => void): Promise<Analysis> {
  return analyze({ dir, git: answers.plan.git ? { maxCommits: 1000, since: null } : null, onProgress });
}

export interface GuidedPlanOptions {
  dir: string;
  answers: GuidedAnswers;
  analysis: Analysis;
  /** An existing plan is refreshed (its edits kept) rather than proposed again. */
  refresh: boolean;
  /** Propose over an existing plan (what `decompose plan --force` does). */
  replace: boolean;
  /** Runs before anything is written: the review and the remaining questions. Ctrl-C there writes nothing. */
  review: (built: BuiltPlan, analysis: Analysis, rebuild: (choices: PlanChoices) => BuiltPlan) => Promise<PlanChoices | null>;
}

/**
 * `decompose plan` on the analysis the guided run already made: the project gets only the plan, PLAN.md and
 * plan.html, exactly as from the printed command line.
 */
export async function planProject(options: GuidedPlanOptions): Promise<PlanRunResult> {
  const { plan } = options.answers;
  return runPlan({
    dir: options.dir,
    analysis: options.analysis,
    refresh: options.refresh,
    compare: plan.compare,
    force: options.replace,
    granularity: { services: plan.services, minServices: plan.minServices, maxServices: plan.maxServices },
    seed: plan.seed,
    resolution: plan.resolution,
    review: options.review,
  });
}

/** The scaffold targets the answers select (`ci` unless the CI provider is "none"). */
export function scaffoldTargets(answers: GuidedAnswers): ScaffoldTarget[] {
  return [...answers.targets, ...(answers.ci === 'none' ? [] : (['ci'] as const))];
}

/** `decompose scaffold` with the answers; `dryRun` lists what would change without writing. */
export async function scaffoldProject(dir: string, answers: GuidedAnswers, dryRun: boolean, analysis?: Analysis): Promise<ScaffoldRun> {
  return runScaffold({
    dir,
    analysis,
    out: resolveOut(dir, answers.out),
    dryRun,
    force: false,
    targets: scaffoldTargets(answers),
    host: answers.host,
    registry: answers.registry,
    ci: answers.ci === 'none' ? undefined : answers.ci,
  });
}

/** The output folder, relative to the project; refused when it is the project or holds it (DEC-093, as scaffold). */
export function resolveOut(dir: string, out: string): string {
  const resolved = path.resolve(dir, out);
  if (resolved === path.resolve(dir) || isInside(resolved, dir)) {
    throw new UserError('DEC-093', `output folder ${out} would put the monolith inside its own scaffold`, { hint: 'Choose a folder inside the project (default decomposed/) or beside it.' });
  }
  return resolved;
}

/** Why an output folder answer cannot be used, or null (for the prompt's validation). */
export function outProblem(dir: string, out: string): string | null {
  if (out.trim().length === 0) return 'type a folder (default decomposed)';
  try {
    const resolved = resolveOut(dir, out.trim());
    if (fs.existsSync(resolved) && !fs.statSync(resolved).isDirectory()) return `${out.trim()} is a file, not a folder`;
  } catch (error) {
    return (error as Error).message;
  }
  return null;
}
