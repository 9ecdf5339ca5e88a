import fs from 'node:fs';
import path from 'node:path';
import { analyze } from '../analyze/analyze.js';
import { readWrittenCompilerOptions } from '../analyze/project.js';
import type { Analysis } from '../model/analysis.js';
import type { WriteResult } from '../model/file-change.js';
import type { Plan } from '../model/plan.js';
import { CI_PROVIDERS, type CiProvider } from '../scaffold/deploy-ci.js';
import { type MonolithManifest, SCAFFOLD_TARGETS, type ScaffoldSummary, type ScaffoldTarget, renderScaffold, renderScaffoldCi } from '../scaffold/scaffold.js';
import type { SourceSet } from '../scaffold/service-code.js';
import { UserError } from '../util/errors.js';
import { isInside, toRepoPath } from '../util/paths.js';
import { DEFAULT_PLAN_FILE, parsePlanFor, readPlanText } from './plan-input.js';
import { writeOutput } from './write-output.js';

export const DEFAULT_SCAFFOLD_DIR = 'decomposed';

export interface ScaffoldRunOptions {
  dir: string;
  planFile?: string;
  /** The scaffold folder (default `<dir>/decomposed`). */
  out?: string;
  dryRun: boolean;
  force: boolean;
  targets?: readonly ScaffoldTarget[];
  host?: string;
  registry?: string;
  ci?: string;
  /** The analysis of `dir` when the caller already has it (the guided run): the code is not read again. */
  analysis?: Analysis;
}

export interface ScaffoldRun {
  plan: Plan;
  outDir: string;
  results: WriteResult[];
  /** CI files, written at the repository root (null when the ci target is off). */
  ciResults: WriteResult[];
  summary: ScaffoldSummary;
}

/**
 * Reads the plan, re-analyses the code (the plan names modules; the scaffold needs their code as it is now), reads the
 * monolith's sources and manifest, renders the workspace and writes it through the sink: nothing the user edited is
 * overwritten (their version stays, ours goes beside it as `.decompose-new`) unless --force.
 */
export async function runScaffold(options: ScaffoldRunOptions): Promise<ScaffoldRun> {
  const dir = path.resolve(options.dir);
  const planFile = path.resolve(options.planFile ?? path.join(dir, DEFAULT_PLAN_FILE));
  const text = readPlanText(planFile, 'scaffold from', `Run \`decompose plan\` in ${dir} first, or pass --plan FILE.`);
  const analysis = options.analysis ?? (await analyze({ dir }));
  const all = analysis.modules.map((m) => m.path);
  const plan = parsePlanFor(text, planFile, analysis);
  const targets = options.targets ?? SCAFFOLD_TARGETS;
  const ci = (options.ci ?? 'github') as CiProvider;
  if (targets.includes('ci') && !CI_PROVIDERS.includes(ci)) {
    throw new UserError('DEC-092', `--ci ${options.ci}: unknown CI provider`, { hint: `choose one of ${CI_PROVIDERS.join(', ')}` });
  }
  const outDir = path.resolve(options.out ?? path.join(dir, DEFAULT_SCAFFOLD_DIR));
  if (outDir === dir || isInside(outDir, dir)) {
    throw new UserError('DEC-093', `--out ${outDir} would put the monolith inside its own scaffold`, { hint: 'Choose a folder inside the project (default decomposed/) or beside it.' });
  }
  const sources: SourceSet = {};
  for (const module of all) sources[module] = fs.readFileSync(path.join(dir, module), 'utf8');
  const manifest = readManifest(dir, analysis.project.tsconfig);
  const scaffoldDir = isInside(dir, outDir) ? toRepoPath(dir, outDir) : DEFAULT_SCAFFOLD_DIR;
  const scaffoldOptions = {
    targets,
    host: options.host ?? `${plan.project.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'app'}.example.com`,
    registry: options.registry,
    ci,
    planFile: toRepoPath(dir, planFile),
    scaffoldDir,
  };
  const { changes, summary } = renderScaffold(plan, analysis, sources, manifest, scaffoldOptions);
  const sink = { force: options.force, dryRun: options.dryRun, onConflict: 'write-beside' as const };
  const results = writeOutput(changes, { ...sink, root: outDir });
  const ciResults = targets.includes('ci') ? writeOutput(renderScaffoldCi(plan, scaffoldOptions), { ...sink, root: dir }) : [];
  return { plan, outDir, results, ciResults, summary };
}

function readManifest(dir: string, tsconfig: string | null): MonolithManifest {
  let packageJson: MonolithManifest['packageJson'] = {};
  const packageFile = path.join(dir, 'package.json');
  if (fs.existsSync(packageFile)) {
    try {
      packageJson = JSON.parse(fs.readFileSync(packageFile, 'utf8')) as MonolithManifest['packageJson'];
    } catch (error) {
      throw new UserError('DEC-094', `${packageFile}: not valid JSON (${(error as Error).message})`, { hint: 'Fix package.json; the services take their dependency versions from it.', position: { file: packageFile } });
    }
  }
  return { packageJson, compilerOptions: tsconfig ? readWrittenCompilerOptions(path.join(dir, tsconfig)) : null };
}
