import path from 'node:path';
import { formatPlanSummary } from '../report/plan-summary.js';
import { stableJson } from '../util/compare.js';
import { ExitCode, UserError } from '../util/errors.js';
import type { CommandRegistry } from './main.js';

interface PlanFlags {
  plan?: string;
  analysis?: string;
  refresh?: boolean;
  compare?: boolean;
  force?: boolean;
  services?: string;
  minServices?: string;
  maxServices?: string;
  seed?: string;
  resolution?: string;
  expected?: string;
  git?: boolean;
}

export function registerPlan({ program, action }: CommandRegistry): void {
  const command = program
    .command('plan [dir]')
    .description('propose services and shared libraries, explain and measure them; write decompose.plan.yaml, PLAN.md and plan.html')
    .option('--plan <file>', 'the plan file (default: <dir>/decompose.plan.yaml); PLAN.md and plan.html go beside it')
    .option('--analysis <file>', 'read this analysis (from `decompose analyze`) instead of analysing again')
    .option('--refresh', 'recompute routes, seams, conflicts and metrics from the edited plan, keeping the team\'s choices')
    .option('--compare', 'also measure simple baselines (folders, route prefixes, Louvain on imports)')
    .option('--services <n>', 'aim for exactly this many services')
    .option('--min-services <n>', 'at least this many services')
    .option('--max-services <n>', 'at most this many services')
    .option('--seed <n>', 'seed of the community detection (default 42)')
    .option('--resolution <x>', 'Louvain resolution: higher gives more, smaller services (default 1)')
    .option('--expected <file>', 'score the plan with MoJoFM against an intended split (JSON: {"domains": {name: [modules]}, "shared": [...]})')
    .option('--git', 'use change coupling from git history as a signal')
    .option('--force', 'propose from scratch over an existing plan, or overwrite files decompose did not write')
    .addHelpText(
      'after',
      `
Examples:
  $ decompose plan --yes                 propose a plan without asking
  $ decompose plan --compare             include baseline metrics in the report
  $ decompose plan --max-services 6      no more than six services
  $ decompose plan --refresh             after editing decompose.plan.yaml by hand

In a terminal without --yes, you review the proposal: rename, merge, move modules, with the effect
of each change on the metrics shown before you confirm it.

Exit codes: 0 written, 2 bad input (no plan to refresh, invalid plan with file:line:column, refused overwrite).`,
    );
  action(command, async (args, output, globals) => {
    const [dirArg] = args as [string | undefined];
    const flags = command.opts<PlanFlags>();
    const cwd = path.resolve(globals.cwd ?? process.cwd());
    const { runPlan } = await import('../app/run-plan.js');
    const { reviewPlanInteractively } = await import('./plan-review.js');
    const result = await runPlan({
      dir: path.resolve(cwd, dirArg ?? '.'),
      planFile: flags.plan ? path.resolve(cwd, flags.plan) : undefined,
      analysisFile: flags.analysis ? path.resolve(cwd, flags.analysis) : undefined,
      refresh: flags.refresh === true,
      compare: flags.compare === true,
      force: flags.force === true,
      granularity: {
        services: positiveInt(flags.services, '--services'),
        minServices: positiveInt(flags.minServices, '--min-services'),
        maxServices: positiveInt(flags.maxServices, '--max-services'),
      },
      seed: flags.seed === undefined ? undefined : integer(flags.seed, '--seed'),
      resolution: flags.resolution === undefined ? undefined : positiveNumber(flags.resolution, '--resolution'),
      expectedFile: flags.expected ? path.resolve(cwd, flags.expected) : undefined,
      git: flags.git ? { maxCommits: 1000, since: null } : null,
      review: output.interactive ? (built, analysis, rebuild) => reviewPlanInteractively(built, analysis, rebuild, output) : undefined,
    });
    for (const warning of result.warnings) output.warn(warning);
    if (output.json) output.data(stableJson(result.built.plan));
    output.info(formatPlanSummary(result.built.plan, output.color));
    output.info('');
    for (const file of result.written) output.info(`Wrote ${path.relative(cwd, file) || file}`);
    if (result.written.length === 0) output.info('Nothing changed.');
    return ExitCode.ok;
  });
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError('DEC-013', `${flag} must be a whole number of at least 1, not ${value}`);
  return n;
}

function integer(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UserError('DEC-013', `${flag} must be a whole number, not ${value}`);
  return n;
}

function positiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UserError('DEC-013', `${flag} must be a positive number, not ${value}`);
  return n;
}
