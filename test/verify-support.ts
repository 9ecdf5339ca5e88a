import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { runCli } from '../src/test-support/run-cli.js';
import { copyFixture, fixturePath } from '../src/test-support/temp-project.js';
import type { VerifyReport } from '../src/verify/report.js';

/**
 * A fixture copied to a temp folder with its own node_modules linked (the monolith runs and its suite runs from
 * there), analysed, planned and scaffolded by the real CLI: the starting point of a verify end-to-end test.
 */
export async function scaffoldedFixture(fixture: string): Promise<string> {
  const dir = copyFixture(fixture);
  fs.symlinkSync(path.join(fixturePath(fixture), 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  for (const args of [['analyze', dir], ['plan', dir, '--yes'], ['scaffold', dir, '--only', 'services,gateway']]) {
    const result = await runCli(args);
    expect(result.exitCode, `${args[0]}: ${result.stderr}`).toBe(0);
  }
  return dir;
}

/** `decompose verify … --json` in `dir`: the exit code, the parsed report (null when none) and stderr. */
export async function verify(dir: string, args: string[], env: Record<string, string> = {}): Promise<{ exitCode: number; report: VerifyReport | null; stdout: string; stderr: string }> {
  const result = await runCli(['verify', ...args], { cwd: dir, env });
  let report: VerifyReport | null = null;
  try {
    report = JSON.parse(result.stdout) as VerifyReport;
  } catch {
    report = null;
  }
  return { exitCode: result.exitCode, report, stdout: result.stdout, stderr: result.stderr };
}

/** Processes whose working folder lies inside `dir` (a verify run must leave none). */
export function processesInside(dir: string): string[] {
  const real = fs.realpathSync(dir);
  const out: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      const state = fs.readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state !== 'Z' && (cwd === real || cwd.startsWith(`${real}/`))) out.push(`${entry} ${fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

export function routesBy(report: VerifyReport, verdict: string): string[] {
  return report.routes.filter((r) => r.verdict === verdict).map((r) => r.route);
}
