import type { Analysis } from '../model/analysis.js';
import type { Plan } from '../model/plan.js';
import { parsePlan } from '../plan/parse-plan.js';
import { planContextFor } from './plan-source.js';

export { DEFAULT_PLAN_FILE, readPlanText } from './plan-source.js';

/** Parses and validates a plan against the analysed code (its modules and its project name). */
export function parsePlanFor(text: string, planFile: string, analysis: Analysis, options: { missingModulesAreDrift?: boolean } = {}): Plan {
  return parsePlan(text, planFile, planContextFor(analysis, options));
}
