import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { userErrorOf } from '../test-support/user-error.js';
import { resolveTestCommand } from './run-verify.js';

function projectWith(scripts: Record<string, string> | null): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-verify-command-'));
  if (scripts) fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'x', scripts }));
  return dir;
}

describe('the contract command verify runs', () => {
  it('is --test-command first, then the plan\'s verify.testCommand, then npm run test:api', () => {
    const dir = projectWith({ 'test:api': 'vitest run test/api' });
    expect(resolveTestCommand(dir, 'make api-test', 'npm run e2e')).toBe('make api-test');
    expect(resolveTestCommand(dir, undefined, 'npm run e2e')).toBe('npm run e2e');
    expect(resolveTestCommand(dir, undefined, undefined)).toBe('npm run test:api');
  });

  it('is refused when there is none, naming every way to give one', () => {
    for (const dir of [projectWith({ test: 'vitest' }), projectWith(null)]) {
      const error = userErrorOf(() => resolveTestCommand(dir, undefined, undefined));
      expect(error.code).toBe('DEC-116');
      expect(error.hint).toMatch(/--test-command.*verify\.testCommand.*test:api.*--replay/);
    }
    expect(() => resolveTestCommand(projectWith(null), '  ', undefined)).toThrow(/--test-command is empty/);
  });
});
