import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
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

/**
 * Builds dist/ when a source under src/ is newer than `distFile` (relative to dist/): bin/decompose.js runs dist/,
 * and a test run on its own (not through `npm test`, which builds first) must not drive a stale build.
 */
export function ensureBuilt(distFile: string): void {
  const built = path.join(repoRoot, 'dist', distFile);
  const newest = Math.max(
    ...fs
      .readdirSync(path.join(repoRoot, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => fs.statSync(path.join(repoRoot, 'src', f)).mtimeMs),
  );
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < newest) execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
}
