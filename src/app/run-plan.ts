import fs from 'node:fs';
import path from 'node:path';
import { analyze } from '../analyze/analyze.js';
import { type Granularity, proposeSplit } from '../cluster/propose.js';
import type { Analysis } from '../model/analysis.js';
import type { FileChange } from '../model/file-change.js';
import { DEFAULT_SETTINGS, type Plan, type PlanSettings } from '../model/plan.js';
import { type BuiltPlan, type PlanChoices, buildPlan } from '../plan/build-plan.js';
import type { Partition } from '../plan/mojo.js';
import { PLAN_FILE_HEADER, serializePlan } from '../plan/plan-file.js';
import { renderPlanHtml } from '../report/plan-html.js';
import { renderPlanMarkdown } from '../report/plan-markdown.js';
import { UserError } from '../util/errors.js';
import { describeJsonError } from '../util/json-error.js';
import { readAnalysis } from './read-analysis.js';
import { DEFAULT_PLAN_FILE, parsePlanFor } from './plan-input.js';
import { sinkTarget, writeOutput } from './write-output.js';

export interface PlanRunOptions {
  dir: string;
  /** The plan file (default: <dir>/decompose.plan.yaml); PLAN.md and plan.html are written beside it. */
  planFile?: string;
  /** Read this analysis instead of analysing afresh. */
  analysisFile?: string;
  /** The analysis, when the caller already has it (the guided run). */
  analysis?: Analysis;
  refresh: boolean;
  compare: boolean;
  force: boolean;
  granularity: Granularity;
  seed?: number;
  resolution?: number;
  /** A file in the fixtures' EXPECTED.json shape (domains, shared) to score the plan with MoJoFM. */
  expectedFile?: string;
  git?: { maxCommits: number; since: string | null } | null;
  /** Lets the caller (interactive review) change the choices before the plan is written. */
  review?: (built: BuiltPlan, analysis: Analysis, rebuild: (choices: PlanChoices) => BuiltPlan) => Promise<PlanChoices | null>;
}

export interface PlanRunResult {
  built: BuiltPlan;
  planFile: string;
  written: string[];
  warnings: string[];
}

/** The files `plan` writes: the plan, PLAN.md and plan.html, all at the project root unless told otherwise. */
export async function runPlan(options: PlanRunOptions): Promise<PlanRunResult> {
  const dir = path.resolve(options.dir);
  const planFile = path.resolve(options.planFile ?? path.join(dir, DEFAULT_PLAN_FILE));
  const analysis = options.analysis ?? (options.analysisFile ? readAnalysis(options.analysisFile) : await analyze({ dir, git: options.git ?? null }));
  const expected = options.expectedFile ? readExpected(options.expectedFile) : null;
  const previousText = readIfExists(planFile);
  const warnings: string[] = [];

  let choices: PlanChoices;
  let teamSections: Pick<Plan, 'checks' | 'verify'> = {};
  if (options.refresh) {
    if (previousText === null) {
      throw new UserError('DEC-054', `${planFile}: no plan to refresh`, { hint: 'Run `decompose plan` first to propose one.', position: { file: planFile } });
    }
    const previous = parsePlanFor(previousText, planFile, analysis);
    choices = choicesFromPlan(previous, settingsWith(previous.settings, options));
    teamSections = { ...(previous.checks ? { checks: previous.checks } : {}), ...(previous.verify ? { verify: previous.verify } : {}) };
  } else {
    if (previousText !== null && !options.force) {
      throw new UserError('DEC-053', `${planFile} already exists; proposing again would discard the team's edits`, {
        hint: 'Run `decompose plan --refresh` to recompute it from the edited file, or pass --force to propose from scratch.',
        position: { file: planFile },
      });
    }
    const settings = settingsWith(DEFAULT_SETTINGS, options);
    const proposal = proposeSplit(analysis, settings, options.granularity);
    choices = { settings, ...proposal };
  }

  const buildOptions = { compare: options.compare, expected, keepModuleLists: options.refresh };
  const rebuild = (next: PlanChoices) => buildPlan(analysis, next, buildOptions);
  let built = rebuild(choices);
  // The team's check and verify settings are theirs: carry them over a refresh unchanged.
  const keepTeamSections = (b: BuiltPlan): BuiltPlan => ({ ...b, plan: { ...b.plan, ...teamSections } });
  built = keepTeamSections(built);
  if (options.review) {
    const reviewed = await options.review(built, analysis, rebuild);
    if (reviewed) built = keepTeamSections(rebuild(reviewed));
  }
  if (built.unassigned.length > 0) {
    warnings.push(`${built.unassigned.length} module(s) are in no service, shared library or entrypoints: ${built.unassigned.slice(0, 5).join(', ')}${built.unassigned.length > 5 ? ' …' : ''}`);
  }
  for (const seam of built.disallowed) {
    warnings.push(`${seam.caller}:${seam.line} calls ${seam.to} (${seam.symbol}) but ${seam.from} does not list ${seam.to} in dependsOn`);
  }

  if (options.git && analysis.coChange === null) warnings.push(`${dir} is not inside a git work tree: change coupling skipped`);

  const plan = built.plan;
  const folder = path.dirname(planFile);
  const target = sinkTarget(dir, planFile);
  const beside = (name: string) => path.posix.join(path.posix.dirname(target.path), name);
  const changes: FileChange[] = [
    {
      path: target.path,
      content: serializePlan(plan, options.refresh ? (previousText ?? undefined) : undefined),
      // An editor may have added a byte-order mark; the file is still ours.
      isOurs: (existing) => existing.replace(/^\uFEFF/, '').startsWith(PLAN_FILE_HEADER.split('\n')[0]!),
    },
    { path: beside('PLAN.md'), content: renderPlanMarkdown(plan, { planFile: path.relative(folder, planFile) }), isOurs: isGeneratedReport },
    { path: beside('plan.html'), content: await renderPlanHtml(plan), isOurs: isGeneratedReport },
  ];
  const results = writeOutput(changes, { root: target.root, force: options.force, dryRun: false, onConflict: 'refuse' });
  return {
    built,
    planFile,
    written: results.filter((r) => r.action !== 'unchanged').map((r) => path.join(target.root, r.path)),
    warnings,
  };
}

function isGeneratedReport(existing: string): boolean {
  const head = existing.slice(0, 600);
  return head.includes('Generated by decompose') || head.includes('<meta name="generator" content="decompose">');
}

function settingsWith(base: PlanSettings, options: PlanRunOptions): PlanSettings {
  return {
    ...base,
    seed: options.seed ?? base.seed,
    resolution: options.resolution ?? base.resolution,
    weights: { ...DEFAULT_SETTINGS.weights, ...base.weights },
  };
}

/** The team-owned part of an existing plan: what `--refresh` keeps. */
export function choicesFromPlan(plan: Plan, settings: PlanSettings): PlanChoices {
  const rationale: Record<string, string> = {};
  for (const [module, text] of Object.entries(plan.rationale)) rationale[module] = text;
  return {
    settings,
    services: plan.services.map((s) => ({ name: s.name, modules: s.modules, owns: s.owns, dependsOn: s.dependsOn, replicas: s.replicas, cache: s.cache })),
    sharedLibraries: plan.sharedLibraries.map((l) => ({ name: l.name, modules: l.modules })),
    entrypoints: plan.entrypoints,
    rationale,
  };
}

function readIfExists(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** An intended split in the fixtures' EXPECTED.json shape: `domains: {name: [modules]}`, `shared: [modules]`. */
function readExpected(file: string): Partition {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError('DEC-055', `${file}: cannot read the expected split (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { position: { file } });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const { message, line, column } = describeJsonError(text, error);
    throw new UserError('DEC-055', `the expected split is not valid JSON: ${message}`, { position: { file, line, column } });
  }
  const shape = (what: string) =>
    new UserError('DEC-055', `${file}: ${what}`, { position: { file }, hint: 'The expected split looks like {"domains": {"orders": ["src/orders/a.ts"]}, "shared": ["src/util.ts"]}.' });
  const isStrings = (list: unknown): list is string[] => Array.isArray(list) && list.every((m) => typeof m === 'string');
  const { domains, shared } = (value ?? {}) as { domains?: unknown; shared?: unknown };
  if (!domains || typeof domains !== 'object' || Array.isArray(domains)) throw shape('expected a "domains" object (domain -> modules)');
  const partition: Partition = {};
  for (const [domain, modules] of Object.entries(domains)) {
    if (!isStrings(modules)) throw shape(`domains.${domain} must be a list of module paths`);
    for (const module of modules) partition[module] = domain;
  }
  if (shared !== undefined && !isStrings(shared)) throw shape('"shared" must be a list of module paths');
  for (const module of shared ?? []) partition[module] = 'SHARED';
  return partition;
}
