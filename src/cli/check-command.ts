import { createRequire } from 'node:module';
import path from 'node:path';
import { Option } from 'commander';
import { checkExitCode } from '../check/baseline.js';
import { dependencyCruiserConfig } from '../check/export-rules.js';
import { CHECK_REPORTERS, type CheckFormat, isCheckReport } from '../report/check-reporters.js';
import { sinkTarget, writeOutput } from '../app/write-output.js';
import { ExitCode, UserError } from '../util/errors.js';
import type { CommandRegistry } from './main.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

interface CheckFlags {
  plan?: string;
  analysis?: string;
  format: CheckFormat;
  outputFile?: string;
  baseline?: string;
  updateBaseline?: boolean;
  maxSeams?: string;
  maxIcp?: string;
  changedSince?: string;
  exportRules?: string;
  out?: string;
  force?: boolean;
}

export function registerCheck({ program, action }: CommandRegistry): void {
  const command = program
    .command('check [dir]')
    .description('report code that crosses the boundaries agreed in the plan (for CI)')
    .option('--plan <file>', 'the plan to check against (default: <dir>/decompose.plan.yaml)')
    .option('--analysis <file>', 'read this analysis instead of analysing again')
    .addOption(new Option('-f, --format <format>', 'output format').choices(Object.keys(CHECK_REPORTERS)).default('pretty'))
    .option('-o, --output-file <file>', 'write the report to a file instead of stdout (e.g. SARIF for code scanning)')
    .option('--baseline <file>', "only findings not recorded in this baseline fail; recorded ones that are fixed must be removed")
    .option('--update-baseline', 'record today\'s findings in the --baseline file')
    .option('--max-seams <n>', 'fail when the code has more cross-service seams than this')
    .option('--max-icp <x>', 'fail when the inter-call percentage is above this (0..1)')
    .option('--changed-since <ref>', 'only report findings in files changed since this git ref')
    .option('--export-rules <tool>', 'write the plan\'s boundaries as rules for another tool (dependency-cruiser)')
    .option('--out <file>', 'with --export-rules: where to write them (default .dependency-cruiser.cjs)')
    .option('--force', 'overwrite an output file decompose did not write')
    .addHelpText(
      'after',
      `
Examples:
  $ decompose check                                   check the tree against decompose.plan.yaml
  $ decompose check --format github                   annotations inline on the pull request
  $ decompose check --format sarif -o drift.sarif     for code-scanning upload
  $ decompose check --baseline .decompose-baseline.json --update-baseline
  $ decompose check --changed-since origin/main --max-seams 40
  $ decompose check --export-rules dependency-cruiser

Exit codes: 0 nothing at error severity, 1 drift (or a stale baseline entry), 2 bad input (missing or invalid plan).`,
    );
  action(command, async (args, output, globals) => {
    const [dirArg] = args as [string | undefined];
    const flags = command.opts<CheckFlags>();
    const cwd = path.resolve(globals.cwd ?? process.cwd());
    const dir = path.resolve(cwd, dirArg ?? '.');
    if (flags.exportRules !== undefined) return exportRules(flags, cwd, dir, output.info);
    const runCheck = await loadRunCheck();
    const run = await runCheck({
      dir,
      planFile: flags.plan ? path.resolve(cwd, flags.plan) : undefined,
      analysisFile: flags.analysis ? path.resolve(cwd, flags.analysis) : undefined,
      baselineFile: flags.baseline ? path.resolve(cwd, flags.baseline) : undefined,
      updateBaseline: flags.updateBaseline === true,
      maxSeams: flags.maxSeams === undefined ? undefined : nonNegative(flags.maxSeams, '--max-seams', true),
      maxIcp: flags.maxIcp === undefined ? undefined : nonNegative(flags.maxIcp, '--max-icp', false),
      changedSince: flags.changedSince,
    });
    const format = output.json ? 'json' : flags.format;
    const report = CHECK_REPORTERS[format](run.result, { color: output.color, toolVersion: version, planFile: path.relative(dir, run.planFile) });
    if (flags.outputFile) {
      const file = path.resolve(cwd, flags.outputFile);
      // A report from an earlier run is replaced; any other file there is the user's (a typo such as
      // `-o src/app.ts` must not destroy code) unless --force.
      const target = sinkTarget(dir, file);
      writeOutput([{ path: target.path, content: report, isOurs: isCheckReport }], { root: target.root, force: flags.force === true, dryRun: false, onConflict: 'refuse' });
      output.info(`Wrote ${path.relative(cwd, file) || file}`);
    } else {
      output.data(report);
    }
    if (run.baselineWritten) output.info(`Wrote ${path.relative(cwd, run.baselineWritten)}`);
    return checkExitCode(run.result);
  });
}

async function loadRunCheck() {
  return (await import('../app/run-check.js')).runCheck;
}

async function exportRules(flags: CheckFlags, cwd: string, dir: string, info: (text: string) => void): Promise<number> {
  if (flags.exportRules !== 'dependency-cruiser') {
    throw new UserError('DEC-066', `--export-rules ${flags.exportRules}: unknown tool`, { hint: 'Supported: dependency-cruiser.' });
  }
  const runCheck = await loadRunCheck();
  const { plan } = await runCheck({ dir, planFile: flags.plan ? path.resolve(cwd, flags.plan) : undefined, analysisFile: flags.analysis ? path.resolve(cwd, flags.analysis) : undefined, updateBaseline: false });
  const file = path.resolve(cwd, flags.out ?? path.join(dir, '.dependency-cruiser.cjs'));
  const target = sinkTarget(dir, file);
  writeOutput([{ path: target.path, content: dependencyCruiserConfig(plan), isOurs: (existing) => existing.startsWith('// Generated by decompose') }], {
    root: target.root,
    force: flags.force === true,
    dryRun: false,
    onConflict: 'refuse',
  });
  info(`Wrote ${path.relative(cwd, file) || file}`);
  return ExitCode.ok;
}

function nonNegative(value: string, flag: string, whole: boolean): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (whole && !Number.isInteger(n))) {
    throw new UserError('DEC-013', `${flag} must be a ${whole ? 'whole ' : ''}number of at least 0, not ${value}`);
  }
  return n;
}
