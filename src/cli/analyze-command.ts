import path from 'node:path';
import { Option } from 'commander';
import { DEFAULT_ANALYSIS_FILE, serializeAnalysis, writeAnalysis } from '../app/analysis-file.js';
import { formatAnalysisSummary } from '../report/analysis-summary.js';
import { ExitCode, UserError } from '../util/errors.js';
import type { CommandRegistry } from './main.js';

interface AnalyzeFlags {
  out?: string;
  entry?: string;
  git?: boolean;
  gitMaxCommits: string;
  since?: string;
  force?: boolean;
}

export function registerAnalyze({ program, action }: CommandRegistry): void {
  const command = program
    .command('analyze [dir]')
    .description("read the monolith statically: modules, imports, full route table, data ownership, config, scale-out hazards")
    .option('-o, --out <file>', `where to write the analysis (default: <dir>/${DEFAULT_ANALYSIS_FILE})`)
    .option('--entry <file>', 'the module that creates the Express app, when detection guesses wrong')
    .option('--git', 'read git history for change coupling')
    .addOption(new Option('--git-max-commits <n>', 'how many recent commits to read with --git').default('1000'))
    .option('--since <date>', 'with --git, only commits after this date (e.g. "1 year ago")')
    .option('--force', 'overwrite an output file that decompose did not write')
    .addHelpText(
      'after',
      `
Examples:
  $ decompose analyze                         analyse the current folder
  $ decompose analyze ../shop --git           also read change coupling from git
  $ decompose analyze --entry src/app.ts      name the file that creates the app
  $ decompose analyze --json | jq .routes     print the analysis instead of writing it

Exit codes: 0 written, 2 bad input (no such folder, no sources, not an Express app, invalid tsconfig).`,
    );
  action(command, async (args, output, globals) => {
    const [dirArg] = args as [string | undefined];
    const flags = command.opts<AnalyzeFlags>();
    const cwd = path.resolve(globals.cwd ?? process.cwd());
    const dir = path.resolve(cwd, dirArg ?? '.');
    const maxCommits = Number(flags.gitMaxCommits);
    if (!Number.isInteger(maxCommits) || maxCommits < 1) {
      throw new UserError('DEC-012', `--git-max-commits must be a positive whole number, not ${flags.gitMaxCommits}`);
    }
    let lastShown = 0;
    // Stages load when their command runs, so --help and other commands start fast.
    const { analyze } = await import('../analyze/analyze.js');
    const analysis = await analyze({
      dir,
      entry: flags.entry,
      git: flags.git ? { maxCommits, since: flags.since ?? null } : null,
      onProgress: (done, total) => {
        if (done === total || done - lastShown >= 200) {
          lastShown = done;
          output.progress(`  parsed ${done}/${total} files`);
        }
      },
    });
    if (flags.git && analysis.coChange === null) output.warn(`${dir} is not inside a git work tree: change coupling skipped`);
    if (output.json && !flags.out) {
      output.data(serializeAnalysis(analysis));
    } else {
      const file = path.resolve(cwd, flags.out ?? path.join(dir, DEFAULT_ANALYSIS_FILE));
      writeAnalysis(analysis, file, flags.force === true, dir);
      if (output.json) output.data(serializeAnalysis(analysis));
      output.info(formatAnalysisSummary(analysis, output.color));
      output.info(`\nWrote ${path.relative(cwd, file) || file}`);
    }
    return ExitCode.ok;
  });
}
