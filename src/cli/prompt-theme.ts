import type { ChalkInstance } from 'chalk';

/** The inquirer theme every prompt of decompose uses, in the command's colours (none with NO_COLOR or --no-color). */
export function promptTheme(color: ChalkInstance) {
  return {
    prefix: { idle: color.blue('?'), done: color.green('✔') },
    style: {
      answer: (text: string) => color.cyan(text),
      message: (text: string) => color.bold(text),
      error: (text: string) => color.red(`> ${text}`),
      defaultAnswer: (text: string) => color.dim(`(${text})`),
      help: (text: string) => color.dim(text),
      highlight: (text: string) => color.cyan(text),
      key: (text: string) => color.cyan(color.bold(`<${text}>`)),
      description: (text: string) => color.cyan(text),
      disabled: (text: string) => color.dim(text),
      keysHelpTip: (keys: Array<[string, string]>) => keys.map(([k, action]) => `${color.bold(k)} ${color.dim(action)}`).join(color.dim(' • ')),
    },
  };
}
