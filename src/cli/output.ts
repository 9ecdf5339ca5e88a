import { Chalk, type ChalkInstance } from 'chalk';

export interface GlobalOptions {
  cwd?: string;
  json?: boolean;
  quiet?: boolean;
  color?: boolean;
  yes?: boolean;
  debug?: boolean;
}

/**
 * Where a command speaks. Machine output (--json) goes to stdout only; everything meant for a person
 * goes to stderr when --json is on, so stdout stays parseable.
 */
export interface Output {
  readonly color: ChalkInstance;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly interactive: boolean;
  /** The human result of a command (stdout, or stderr under --json). Silent with --quiet. */
  info(text: string): void;
  /** Progress and notes: stderr, only on a TTY and without --quiet. */
  progress(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  /** Machine-readable result: stdout. */
  data(value: string): void;
}

export interface Streams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdinIsTTY: boolean;
  env: NodeJS.ProcessEnv;
}

export function createOutput(options: GlobalOptions, streams: Streams): Output {
  const noColor = options.color === false || 'NO_COLOR' in streams.env || !streams.stderr.isTTY;
  const color = new Chalk({ level: noColor ? 0 : 1 });
  const json = options.json === true;
  const quiet = options.quiet === true;
  const human = json ? streams.stderr : streams.stdout;
  const progressEnabled = !quiet && streams.stderr.isTTY === true;
  return {
    color,
    json,
    quiet,
    interactive: streams.stdinIsTTY && streams.stdout.isTTY === true && options.yes !== true && !('CI' in streams.env && streams.env.CI !== 'false'),
    info: (text) => {
      if (!quiet) human.write(`${text}\n`);
    },
    progress: (text) => {
      if (progressEnabled) streams.stderr.write(`${text}\n`);
    },
    warn: (text) => {
      if (!quiet) streams.stderr.write(`${color.yellow('warning')} ${text}\n`);
    },
    error: (text) => streams.stderr.write(`${color.red('error')} ${text}\n`),
    data: (value) => streams.stdout.write(value.endsWith('\n') ? value : `${value}\n`),
  };
}
