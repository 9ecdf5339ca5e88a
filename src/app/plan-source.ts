import fs from 'node:fs';
import type { Analysis } from '../model/analysis.js';
import { expandModules } from '../plan/build-plan.js';
import type { PlanFileContext } from '../plan/plan-reading.js';
import { UserError } from '../util/errors.js';

// Where a plan comes from and what it is validated against, without the plan's reader (js-yaml, zod): check loads
// only this on its main thread (see plan-in-background.ts).

/**
 * Where `plan` writes the plan and the other commands look for it. Defined here, not in run-plan.ts, so that check,
 * scaffold and verify do not load clustering and plan.html's Graphviz just to know a file name.
 */
export const DEFAULT_PLAN_FILE = 'decompose.plan.yaml';

/** The plan file's text, or DEC-060 saying which command needed it and how to make one. */
export function readPlanText(planFile: string, purpose: string, hint: string): string {
  try {
    return fs.readFileSync(planFile, 'utf8');
  } catch {
    throw new UserError('DEC-060', `${planFile}: no plan to ${purpose}`, { hint, position: { file: planFile } });
  }
}

/** What a plan is validated against: the analysed code's modules and its project name. */
export function planContextFor(analysis: Analysis, options: { missingModulesAreDrift?: boolean } = {}): PlanFileContext {
  const all = analysis.modules.map((m) => m.path);
  const known = new Set(all);
  return {
    moduleExists: (m) => known.has(m),
    matchModules: (pattern) => expandModules([pattern], all),
    projectName: analysis.project.name,
    ...(options.missingModulesAreDrift ? { missingModulesAreDrift: true } : {}),
  };
}
