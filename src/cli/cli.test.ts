import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../test-support/run-cli.js';
import { EXPRESS_PACKAGE, copyFixture, writeProject } from '../test-support/temp-project.js';

describe('decompose CLI', () => {
  it('prints help with examples and exit codes, and its version', async () => {
    const help = await runCli(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Usage: decompose');
    expect(help.stdout).toContain('Exit codes: 0 ok, 1 findings');
    for (const command of ['analyze', 'plan', 'scaffold', 'check', 'verify']) expect(help.stdout).toContain(command);
    const analyzeHelp = await runCli(['analyze', '--help']);
    expect(analyzeHelp.stdout).toContain('Examples:');
    const version = await runCli(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('suggests the nearest command for a typo and exits 2', async () => {
    const result = await runCli(['analyse']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('Did you mean analyze?');
  });

  it('analyzes a fixture into decompose-analysis.json at the project root', async () => {
    const dir = copyFixture('shop-ts');
    const result = await runCli(['analyze'], { cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('routes       48');
    const analysis = JSON.parse(fs.readFileSync(path.join(dir, 'decompose-analysis.json'), 'utf8'));
    expect(analysis.version).toBe(1);
    expect(analysis.routes).toHaveLength(48);
    // Running again over our own file is allowed and gives the same bytes.
    const before = fs.readFileSync(path.join(dir, 'decompose-analysis.json'), 'utf8');
    expect((await runCli(['analyze', dir])).exitCode).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'decompose-analysis.json'), 'utf8')).toBe(before);
  });

  it('prints machine output on stdout with --json and keeps stderr for logs', async () => {
    const dir = writeProject({ 'package.json': EXPRESS_PACKAGE, 'app.js': "const app = require('express')();\napp.get('/x', (q, s) => s.end());" });
    const result = await runCli(['analyze', dir, '--json']);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout).routes.map((r: { path: string }) => r.path)).toEqual(['/x']);
    expect(fs.existsSync(path.join(dir, 'decompose-analysis.json'))).toBe(false);
  });

  it('answers bad input with one line naming the file, exit 2, no stack trace unless --debug', async () => {
    const missing = await runCli(['analyze', '/nonexistent/folder']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.trim().split('\n')[0]).toBe('error DEC-001 /nonexistent/folder: no such folder');
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const debug = await runCli(['analyze', '/nonexistent/folder', '--debug']);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('never overwrites a file it did not write, unless --force', async () => {
    const dir = writeProject({ 'package.json': EXPRESS_PACKAGE, 'app.js': "require('express')();", 'decompose-analysis.json': '{"mine": true}\n' });
    const refused = await runCli(['analyze', dir]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('DEC-030');
    expect(fs.readFileSync(path.join(dir, 'decompose-analysis.json'), 'utf8')).toBe('{"mine": true}\n');
    expect((await runCli(['analyze', dir, '--force'])).exitCode).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'decompose-analysis.json'), 'utf8')).generator).toBe('decompose');
  });

  it('has every stage of the pipeline: analyze, plan, scaffold, check and verify answer --help with examples', async () => {
    for (const command of ['analyze', 'plan', 'scaffold', 'check', 'verify']) {
      const result = await runCli([command, '--help']);
      expect(result.exitCode, command).toBe(0);
      expect(result.stdout, command).toContain('Examples:');
      expect(result.stdout, command).not.toContain('not yet available');
    }
  });
});
