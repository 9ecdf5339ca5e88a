import { execa } from 'execa';
import path from 'node:path';
import { repoRoot } from './temp-project.js';

export const cliPath = path.join(repoRoot, 'bin', 'decompose.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would (a child process, no TTY, NO_COLOR). */
export async function runCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const result = await execa(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { NO_COLOR: '1', ...options.env },
    reject: false,
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}
