import path from 'node:path';
import { checkbox, confirm, input, select } from '@inquirer/prompts';
import type { Command } from 'commander';
import { ARTIFACTS, type Artifact, CI_CHOICES, type CiChoice, CONFIG_FILE, GATEWAY_KINDS, type GatewayKind, type GuidedAnswers, answersFrom, defaultAnswers, serializeConfig, writeGuidedConfig } from '../app/config-file.js';
import { detectProject } from '../app/guided-detect.js';
import { analyseProject, outProblem, planProject, scaffoldProject } from '../app/guided-run.js';
import type { ScaffoldRun } from '../app/run-scaffold.js';
import type { Analysis } from '../model/analysis.js';
import type { BuiltPlan, PlanChoices } from '../plan/build-plan.js';
import { ExitCode, UserError, isUserError } from '../util/errors.js';
import { ARTIFACT_LABELS, type PlanMode, type PreviewFile, REDIS_NOTE, analysisLine, countWords, equivalentCommands, formatCommandLine, formatDetection, formatFindings, formatHeading, formatQuestions, formatTree } from './guided-format.js';
import { createProgress } from './guided-progress.js';
import { createOutput, type GlobalOptions, type Output, type Streams } from './output.js';
import { formatProposal, reviewPlanInteractively } from './plan-review.js';
import { promptTheme } from './prompt-theme.js';

/*
 * The guided run: `decompose` with no command. It detects the project, analyses it with a progress bar, shows the
 * proposed services with their metrics, conflicts and hazards, runs the same review as `decompose plan`, asks what
 * to scaffold, previews the files, writes them, offers `decompose verify`, and ends with the command line that
 * repeats the run without questions.
 *
 * Every question is asked before anything is written: the plan is written when the last scaffold question is
 * answered, the scaffold after its preview is confirmed. Ctrl-C at a prompt ends with DEC-132 naming what was
 * written (nothing, before that point); Ctrl-C during a step waits for the step's file writes, which are
 * synchronous and atomic per file, to finish, so no set of files is left half-written either.
 */

export interface GuidedContext {
  program: Command;
  streams: Streams;
  globals: GlobalOptions;
  /** Runs another decompose command in this process (for `decompose verify`); resolves to its exit code. */
  runCommand(args: string[]): Promise<number>;
}

const STEPS = 4;

export async function runGuided(context: GuidedContext): Promise<number> {
  const { streams, globals } = context;
  const output = createOutput(globals, streams);
  if (output.json) {
    throw new UserError('DEC-133', 'the guided run (no command) talks to a person and has no --json output', {
      hint: 'Use the commands for machine output: decompose plan --yes --json, decompose scaffold --json.',
    });
  }
  const { color } = output;
  const dir = path.resolve(globals.cwd ?? process.cwd());
  const found = detectProject(dir);
  output.info(formatDetection(found, color));

  const defaults = defaultAnswers({ git: found.gitRoot !== null });
  let answers = answersFrom(found.config.config, defaults);
  const verify = verifyCommand(context.program);
  const yes = globals.yes === true;

  if (!yes && !output.interactive) {
    const questions = formatQuestions({ answers, existingPlan: found.existingPlan, verifyAvailable: verify.available });
    const commands = equivalentCommands({ dirArg: dirArgument(dir), mode: found.existingPlan ? answers.existingPlan : 'propose', answers, verify: null });
    throw new UserError('DEC-130', `no terminal (${whyNoTerminal(streams)}): nothing was asked or written`, {
      details: [...questions, `without questions: ${commands.join(' && ')}`],
      hint: `Run \`decompose --yes\` to take the answers in brackets${found.config.source ? ` (from ${found.config.source})` : ''}.`,
    });
  }

  const ui = prompts(output);
  const progress = createProgress({ stream: streams.stderr, color, quiet: output.quiet, columns: (streams.stderr as { columns?: number }).columns });
  const state: RunState = { planFiles: [], scaffolded: null };

  /*
   * Ctrl-C at a prompt is a key (the prompt rejects); during a step it is a signal. A step that only computes
   * (the analysis, the dry run) keeps the default: the process ends at once, with nothing written. A step that
   * writes (the plan files, the scaffold) holds the signal until its writes are done, then ends with DEC-132 naming what was written. The writes are synchronous, so a
   * JavaScript handler runs only after them: no set of files is left half-written.
   */
  const onSignal = () => {
    streams.stderr.write(`\n${color.red('error')} DEC-132 ${cancelled(state, dir).message}\n`);
    process.exit(ExitCode.badInput);
  };
  const holdSignal = () => {
    process.off('SIGINT', onSignal);
    process.on('SIGINT', onSignal);
  };
  /** Gives a Ctrl-C that came during the writes its turn (the state now says what was written), then lets go. */
  const releaseSignal = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    process.off('SIGINT', onSignal);
  };
  try {
    return await converse();
  } catch (error) {
    if (isPromptExit(error) || (isUserError(error) && error.code === 'DEC-056')) {
      output.info('');
      throw cancelled(state, dir);
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
  }

  async function converse(): Promise<number> {
    const interactive = !yes;
    let mode: PlanMode = 'propose';
    if (found.existingPlan) {
      mode = answers.existingPlan;
      if (interactive) {
        mode = await ui.select<PlanMode>({
          message: `${found.existingPlan} exists. What should the plan step do?`,
          default: answers.existingPlan,
          choices: [
            { name: 'Refresh it: keep the team\'s edits, recompute the rest', value: 'refresh' },
            { name: 'Replace it: propose again from the code (like plan --force)', value: 'replace' },
          ],
        });
      }
    }

    // 1. Analyse
    output.info(formatHeading(1, STEPS, 'Analyse', 'read the code: imports, routes, data, hazards', color));
    const analysing = progress.start(`Analysing ${found.sourceFiles} files`);
    let analysis: Analysis;
    try {
      analysis = await analyseProject(dir, answers, (done, total) => analysing.update(done, total));
    } catch (error) {
      analysing.fail();
      throw error;
    }
    const hazardCount = analysis.hazards.length;
    analysing.succeed(analysisLine({ modules: analysis.modules.length, routes: analysis.routes.length, entities: analysis.entities.length, hazards: hazardCount }));
    if (answers.plan.git && analysis.coChange === null) output.warn(`${dir} is not inside a git work tree: change coupling skipped`);

    // 2. Plan, and every remaining question, before anything is written
    output.info(formatHeading(2, STEPS, 'Plan', `${mode === 'refresh' ? 'recompute the edited plan' : 'propose services'}${interactive ? ', review it' : ''}`, color));
    const planning = progress.start(mode === 'refresh' ? `Refreshing ${found.existingPlan}` : 'Proposing services');
    let changed = false;
    const review = async (built: BuiltPlan, reviewAnalysis: Analysis, rebuild: (choices: PlanChoices) => BuiltPlan): Promise<PlanChoices | null> => {
      await releaseSignal();
      planning.succeed(`${mode === 'refresh' ? 'Refreshed' : 'Proposed'} ${built.plan.services.length} services and ${built.plan.sharedLibraries.length} shared libraries`);
      output.info(formatFindings(built.plan, color));
      let choices: PlanChoices | null = null;
      if (interactive) {
        choices = await reviewPlanInteractively(built, reviewAnalysis, rebuild, output);
        changed = choices !== null;
      } else {
        output.info('');
        output.info(formatProposal(built, color));
      }
      output.info(formatHeading(3, STEPS, 'Scaffold', interactive ? 'choose what to write, preview it, write it' : 'write the services and their deployment', color));
      if (interactive) answers = await askScaffold(answers);
      else output.info(color.dim(describeAnswers(answers)));
      holdSignal(); // runPlan writes the plan files when this returns
      return choices;
    };
    let planRun: Awaited<ReturnType<typeof planProject>>;
    try {
      planRun = await planProject({ dir, answers, analysis, refresh: mode === 'refresh', replace: mode === 'replace', review });
      state.planFiles = planRun.written.map((f) => path.relative(dir, f) || f);
    } catch (error) {
      planning.fail();
      throw error;
    } finally {
      await releaseSignal();
    }
    for (const warning of planRun.warnings) output.warn(warning);
    output.info(state.planFiles.length > 0 ? `${color.green('✔')} Wrote ${state.planFiles.join(', ')}` : `${color.green('✔')} The plan files are up to date`);

    // 3. Preview (in a terminal), then write
    let write = true;
    if (interactive) {
      const previewing = progress.start('Rendering the scaffold (dry run)');
      let preview: ScaffoldRun;
      try {
        preview = await scaffoldProject(dir, answers, true, analysis);
      } catch (error) {
        previewing.fail();
        throw error;
      }
      const files = previewFiles(preview, dir);
      previewing.succeed(`Would write ${files.length} files: ${countWords(files)}`);
      output.info(formatTree(files, color));
      if (files.some((f) => f.action === 'conflict')) output.info(color.yellow(KEPT_NOTE));
      for (;;) {
        const choice = await ui.select<'write' | 'list' | 'stop'>({
          message: 'Write these files?',
          default: 'write',
          choices: [
            { name: `Write them (${countWords(files)})`, value: 'write' },
            { name: 'List every file first', value: 'list' },
            { name: 'Stop here: keep the plan, scaffold nothing', value: 'stop' },
          ],
        });
        if (choice === 'list') {
          for (const f of files) output.info(`  ${f.action.padEnd(9)} ${f.path}`);
          continue;
        }
        write = choice === 'write';
        break;
      }
    }
    if (write) {
      const writing = progress.start('Writing the scaffold');
      holdSignal();
      try {
        state.scaffolded = await scaffoldProject(dir, answers, false, analysis);
      } catch (error) {
        writing.fail();
        throw error;
      } finally {
        await releaseSignal();
      }
      const written = previewFiles(state.scaffolded, dir);
      writing.succeed(`Wrote ${path.relative(dir, state.scaffolded.outDir) || '.'}/: ${countWords(written)}`);
      // Without a preview (--yes), the tree of what was written stands in for it.
      if (!interactive) output.info(formatTree(written, color));
      if (written.some((f) => f.action === 'conflict')) output.info(color.yellow(KEPT_NOTE));
      const proxies = state.scaffolded.summary.notes.filter((n) => n.kind === 'data-proxy').length;
      const stubs = state.scaffolded.summary.notes.filter((n) => n.kind === 'stub').length;
      output.info(`  MIGRATION.md lists ${stubs} stubbed call${stubs === 1 ? '' : 's'} and ${proxies} data prox${proxies === 1 ? 'y' : 'ies'} that need a person.`);
    } else {
      output.info(color.dim('  Nothing scaffolded.'));
    }

    // 4. Verify
    output.info(formatHeading(4, STEPS, 'Verify', 'boot the services, replay the API tests', color));
    let verifyCode: number = ExitCode.ok;
    let ranVerify = false;
    if (!verify.available) {
      output.info(color.dim(`  decompose verify is not yet available in this version: skipped (gateway for it: ${answers.gateway}).`));
    } else if (!write) {
      output.info(color.dim('  Skipped: nothing was scaffolded.'));
    } else {
      const run = interactive ? await ui.confirm({ message: `Run decompose verify now (${answers.gateway} gateway)?`, default: answers.runVerify }) : answers.runVerify;
      answers = { ...answers, runVerify: run };
      if (run) {
        verifyCode = await context.runCommand(['--cwd', dir, ...(output.color.level === 0 ? ['--no-color'] : []), 'verify', ...(verify.gatewayOption ? ['--gateway', answers.gateway] : [])]);
        ranVerify = true;
      } else {
        output.info(color.dim('  Not run.'));
      }
    }

    // Save the answers where none are kept yet
    let saved: string | null = null;
    if (interactive && found.config.source === null) {
      const save = await ui.confirm({ message: `Save these answers in ${CONFIG_FILE} for the next run?`, default: true });
      if (save) saved = path.relative(dir, writeGuidedConfig(dir, serializeConfig(answers, defaults)));
    }

    // The final screen
    output.info('');
    const wrote = [
      ...(state.planFiles.length > 0 ? [state.planFiles.join(', ')] : []),
      ...(state.scaffolded ? [`${path.relative(dir, state.scaffolded.outDir)}/ (${countWords(previewFiles(state.scaffolded, dir))})`] : []),
      ...(saved ? [saved] : []),
    ];
    output.info(color.bold(wrote.length > 0 ? `Done. Wrote in ${dir}:` : `Done. Nothing changed in ${dir}.`));
    for (const line of wrote) output.info(`  ${line}`);
    const dirArg = dirArgument(dir);
    const commands = (as: PlanMode) => {
      const list = equivalentCommands({ dirArg, mode: as, answers, verify: ranVerify ? { gatewayOption: verify.gatewayOption } : null });
      return write ? list : list.slice(0, 1);
    };
    output.info('');
    // With review changes, the plan file holds them and only --refresh repeats the run; otherwise --yes does,
    // and --refresh is what repeats it once the plan exists.
    const equivalent: PlanMode = changed ? 'refresh' : mode;
    output.info(color.bold(changed ? 'Equivalent command line (your review changes are in the plan file):' : 'Equivalent command line:'));
    output.info(formatCommandLine(commands(equivalent)));
    if (equivalent !== 'refresh') {
      output.info(color.bold('Once the plan exists (--refresh keeps its edits):'));
      output.info(formatCommandLine(commands('refresh')));
    }
    if (!verify.gatewayOption) output.info(color.dim(`  Gateway for decompose verify: ${answers.gateway}${saved || found.config.source ? ` (in ${saved ?? found.config.source})` : ''}.`));
    output.info('');
    const next = ['read PLAN.md (or open plan.html)'];
    if (state.scaffolded) next.push(`read ${path.relative(dir, state.scaffolded.outDir)}/README.md`);
    if (state.scaffolded && verify.available && !ranVerify) next.push(`decompose verify${verify.gatewayOption && answers.gateway !== 'auto' ? ` --gateway ${answers.gateway}` : ''}`);
    output.info(color.bold('Next:'));
    for (const step of next) output.info(`  ${step}`);
    return ranVerify ? verifyCode : ExitCode.ok;
  }

  async function askScaffold(current: GuidedAnswers): Promise<GuidedAnswers> {
    const picked = await ui.checkbox<Artifact | 'redis'>({
      message: 'What to scaffold?',
      choices: [
        ...ARTIFACTS.map((value) => ({ name: ARTIFACT_LABELS[value], value, short: value, checked: current.targets.includes(value) })),
        { name: REDIS_NOTE, value: 'redis' as const, short: 'redis', checked: true, disabled: '(always on)' },
      ],
      required: true,
      pageSize: 8,
    });
    const targets = ARTIFACTS.filter((t) => picked.includes(t));
    const ci = await ui.select<CiChoice>({
      message: 'Which CI pipeline?',
      default: current.ci,
      choices: CI_CHOICES.map((value) => ({ name: CI_LABELS[value], value, short: value })),
    });
    const gateway = await ui.select<GatewayKind>({
      message: 'Gateway for decompose verify (both are written):',
      default: current.gateway,
      choices: GATEWAY_KINDS.map((value) => ({ name: GATEWAY_LABELS[value], value, short: value })),
    });
    const out = await ui.input({ message: 'Output folder:', default: current.out, validate: (value) => outProblem(dir, value) ?? true });
    return { ...current, targets, ci, gateway, out: out.trim() };
  }
}

const CI_LABELS: Record<CiChoice, string> = { github: 'GitHub Actions (.github/workflows/ci.yml)', gitlab: 'GitLab CI (.gitlab-ci.yml)', none: 'None' };
const GATEWAY_LABELS: Record<GatewayKind, string> = {
  auto: 'auto: nginx when it is installed, else the Node gateway',
  node: 'node: the Node gateway (needs only Node.js)',
  nginx: 'nginx: nginx with gateway/nginx.local.conf (needs nginx)',
};
const KEPT_NOTE = '  Files marked "edited" were changed by someone: kept, ours goes beside each as\n  <name>.decompose-new.';

interface RunState {
  planFiles: string[];
  scaffolded: ScaffoldRun | null;
}

function cancelled(state: RunState, dir: string): UserError {
  const plan = state.planFiles.length === 1 ? state.planFiles[0] : 'the plan files';
  const what = state.scaffolded
    ? `the plan and ${path.relative(dir, state.scaffolded.outDir)}/ were written`
    : state.planFiles.length > 0
      ? `${plan} written, nothing scaffolded`
      : 'nothing written';
  return new UserError('DEC-132', `guided run cancelled: ${what}`, { hint: 'Run `decompose` again to start over, or use the commands (`decompose --help`).' });
}

/** The commands' own view of verify: whether it runs yet, and whether it takes --gateway. */
function verifyCommand(program: Command): { available: boolean; gatewayOption: boolean } {
  const command = program.commands.find((c) => c.name() === 'verify');
  return {
    available: command !== undefined && !/not yet available/.test(command.description()),
    gatewayOption: command?.options.some((o) => o.long === '--gateway') ?? false,
  };
}

function whyNoTerminal(streams: Streams): string {
  if (!streams.stdinIsTTY) return 'stdin is not a TTY';
  if (!streams.stdout.isTTY) return 'stdout is not a TTY';
  return 'CI is set';
}

/** The project folder as the printed commands name it: nothing when it is the current folder. */
function dirArgument(dir: string): string | null {
  const relative = path.relative(process.cwd(), dir);
  if (relative === '') return null;
  return relative.startsWith('..') || path.isAbsolute(relative) ? dir : relative;
}

function describeAnswers(answers: GuidedAnswers): string {
  return [`  scaffold: ${answers.targets.join(', ')}`, `  CI: ${answers.ci}; gateway for verify: ${answers.gateway}; into ${answers.out}/`].join('\n');
}

function previewFiles(run: ScaffoldRun, dir: string): PreviewFile[] {
  const rel = (root: string, file: string) => path.relative(dir, path.join(root, file)).split(path.sep).join('/');
  return [...run.results.map((r) => ({ path: rel(run.outDir, r.path), action: r.action })), ...run.ciResults.map((r) => ({ path: rel(dir, r.path), action: r.action }))];
}

/** Inquirer rejects with ExitPromptError on Ctrl-C during a prompt. */
function isPromptExit(error: unknown): boolean {
  return error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError');
}

interface Prompts {
  select<T>(config: { message: string; default?: T; choices: Array<{ name: string; value: T; short?: string }> }): Promise<T>;
  checkbox<T>(config: { message: string; choices: Array<{ name: string; value: T; short?: string; checked?: boolean; disabled?: string }>; required?: boolean; pageSize?: number }): Promise<T[]>;
  input(config: { message: string; default?: string; validate?: (value: string) => true | string }): Promise<string>;
  confirm(config: { message: string; default?: boolean }): Promise<boolean>;
}

/** The prompts, in the colours of the command's output (none with NO_COLOR or --no-color), like the plan review's. */
function prompts(output: Output): Prompts {
  const { color } = output;
  const context = { output: process.stdout };
  const theme = promptTheme(color);
  return {
    select: (config) => select({ ...config, loop: false, theme }, context),
    checkbox: (config) =>
      checkbox({ ...config, loop: false, theme: { ...theme, icon: { checked: color.green('◉'), unchecked: '◯', cursor: '❯', disabledChecked: color.green('◎'), disabledUnchecked: '-' } } }, context),
    input: (config) => input({ ...config, theme }, context),
    confirm: (config) => confirm({ ...config, theme }, context),
  };
}
