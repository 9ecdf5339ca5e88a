import { ExitCode } from '../util/errors.js';
import type { CommandRegistry } from './main.js';

interface PendingCommand {
  name: string;
  args: string;
  description: string;
  examples: string[];
}

/**
 * Commands that later work fills in. Until then they say so and fail with exit 2: a stub never pretends to succeed.
 */
const pending: PendingCommand[] = [];

export function registerPendingCommands({ program, action }: CommandRegistry): void {
  for (const spec of pending) {
    const command = program
      .command(`${spec.name}${spec.args ? ` ${spec.args}` : ''}`)
      .description(`${spec.description} (not yet available)`)
      .allowUnknownOption(true)
      .addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}\n`);
    action(command, async (_args, output) => {
      output.error(`decompose ${spec.name} is not yet available in this version.`);
      return ExitCode.badInput;
    });
  }
}
