import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { ExitCode, formatPosition, isUserError } from '../util/errors.js';
import { nearestName } from '../util/nearest.js';
import { createOutput, type GlobalOptions, type Output, type Streams } from './output.js';
import { registerAnalyze } from './analyze-command.js';
import { registerMetrics } from './metrics-command.js';
import { registerPlan } from './plan-command.js';
import { registerCheck } from './check-command.js';
import { registerScaffold } from './scaffold-command.js';
import { registerVerify } from './verify-command.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

export type CommandAction = (output: Output, globals: GlobalOptions) => Promise<number>;

/** Everything a command file needs to hook itself into the program. */
export interface CommandRegistry {
  program: Command;
  /** Wraps an action so errors become messages and exit codes in one place. */
  action(command: Command, body: (args: unknown[], output: Output, globals: GlobalOptions) => Promise<number>): void;
}

export async function run(argv: string[], streams: Streams = defaultStreams()): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let debug = argv.includes('--debug');
  const program = new Command('decompose')
    .description('Take an Express monolith to a distributed system: analyze, plan, scaffold, check, verify.')
    .version(version, '-v, --version')
    .option('--cwd <dir>', 'run as if started in this folder')
    .option('--json', 'machine-readable output on stdout; logs go to stderr')
    .option('-q, --quiet', 'print only errors')
    .option('--no-color', 'no colours (NO_COLOR is honoured too)')
    .option('-y, --yes', 'never ask: take the defaults (always the case without a TTY)')
    .option('--debug', 'show stack traces for errors')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
    })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 findings (drift, failed verification), 2 bad input or usage.

Examples:
  $ decompose                         guided run: analyse, plan, scaffold, verify
  $ decompose --yes                   the guided run with every default, no questions
  $ decompose analyze                 analyse the monolith in the current folder
  $ decompose analyze ./shop --git    include change coupling from git history
  $ decompose plan --yes              propose services without asking
`,
    );

  const registry: CommandRegistry = {
    program,
    action(command, body) {
      command.action(async (...args: unknown[]) => {
        const globals = command.optsWithGlobals<GlobalOptions>();
        debug = globals.debug === true;
        const output = createOutput(globals, streams);
        exitCode = await body(args.slice(0, -2), output, globals);
      });
    },
  };
  registerAnalyze(registry);
  registerPlan(registry);
  registerCheck(registry);
  registerScaffold(registry);
  registerVerify(registry);
  registerMetrics(registry);

  program.allowExcessArguments(true).action(async () => {
    const [typed] = program.args;
    if (typed !== undefined) {
      const known = program.commands.map((c) => c.name());
      const nearest = nearestName(typed, known, (name) => Math.max(2, Math.floor(name.length / 3)));
      streams.stderr.write(`error: unknown command '${typed}'${nearest ? `. Did you mean ${nearest}?` : ''}\n(run with --help for usage)\n`);
      exitCode = ExitCode.badInput;
      return;
    }
    // No command: the guided run (src/cli/guided-command.ts).
    const globals = program.opts<GlobalOptions>();
    debug = globals.debug === true;
    const { runGuided } = await import('./guided-command.js');
    exitCode = await runGuided({ program, streams, globals, runCommand: (args) => run([...argv.slice(0, 2), ...args], streams) });
  });

  try {
    await program.parseAsync(argv);
  } catch (error) {
    return reportError(error, streams, debug);
  }
  return exitCode;
}

function reportError(error: unknown, streams: Streams, debug: boolean): number {
  if (error instanceof CommanderError) {
    // --help and --version end through here with exit code 0; usage errors already printed their message.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
  }
  const noColor = 'NO_COLOR' in streams.env || !streams.stderr.isTTY;
  const red = (text: string) => (noColor ? text : `\u001b[31m${text}\u001b[39m`);
  if (isUserError(error)) {
    const where = error.position ? `${formatPosition(error.position)}: ` : '';
    const message = error.position && error.message.includes(error.position.file) ? error.message : `${where}${error.message}`;
    streams.stderr.write(`${red('error')} ${error.code} ${message}\n`);
    for (const detail of error.details) streams.stderr.write(`  - ${detail}\n`);
    if (error.hint) streams.stderr.write(`  hint: ${error.hint}\n`);
    if (debug && error.stack) streams.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  // Not a user error: a bug. Keep the stack so it can be reported.
  streams.stderr.write(`${red('internal error')} ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  streams.stderr.write('  This is a bug in decompose; please report it with the command you ran.\n');
  return 70;
}


function defaultStreams(): Streams {
  return { stdout: process.stdout, stderr: process.stderr, stdinIsTTY: process.stdin.isTTY === true, env: process.env };
}
