import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../util/errors.js';
import { fixturePath } from '../test-support/temp-project.js';
import { analyze } from './analyze.js';

/** The hand-written expectations each fixture carries (see fixtures/README.md). */
interface Expected {
  framework?: string;
  routes: Array<{ method: string; path: string }>;
  entities?: Record<string, { readers: string[]; writers: string[] }>;
  hazards?: Array<{ file: string; line: number; kind: string }>;
  env?: string[];
  imports?: Array<{ from: string; to: string; typeOnly: boolean }>;
  unresolved?: Array<{ file: string; line: number; specifier: string }>;
}

function fixturesWithExpectations(): string[] {
  const names: string[] = [];
  const visit = (relative: string) => {
    const dir = fixturePath(relative);
    if (fs.existsSync(path.join(dir, 'EXPECTED.json'))) names.push(relative);
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'golden') visit(path.posix.join(relative, entry.name));
    }
  };
  for (const top of fs.readdirSync(fixturePath('.'))) if (fs.statSync(fixturePath(top)).isDirectory() && top !== 'golden') visit(top);
  return names.sort();
}

const fixtures = fixturesWithExpectations();

describe('analysis of every fixture matches its hand-written expectations', () => {
  it('has fixtures to check', () => {
    expect(fixtures).toContain('shop-ts');
    expect(fixtures.length).toBeGreaterThanOrEqual(2);
  });

  for (const name of fixtures) {
    it(name, async () => {
      const expected = JSON.parse(fs.readFileSync(path.join(fixturePath(name), 'EXPECTED.json'), 'utf8')) as Expected;
      if (expected.framework && expected.framework !== 'express') {
        const error = await analyze({ dir: fixturePath(name) }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(UserError);
        expect((error as UserError).code).toBe('DEC-010');
        expect((error as UserError).message.toLowerCase()).toContain(expected.framework.toLowerCase());
        return;
      }
      const analysis = await analyze({ dir: fixturePath(name) });
      const routes = (list: Array<{ method: string; path: string }>) => list.map((r) => `${r.method} ${r.path}`).sort();
      expect(routes(analysis.routes)).toEqual(routes(expected.routes));
      if (expected.entities) {
        const found = Object.fromEntries(analysis.entities.map((e) => [e.name, { readers: e.readers, writers: e.writers }]));
        expect(found).toEqual(expected.entities);
      }
      if (expected.hazards) {
        const hazards = (list: Array<{ file: string; line: number; kind: string }>) => list.map((h) => `${h.kind} ${h.file}:${h.line}`).sort();
        expect(hazards(analysis.hazards)).toEqual(hazards(expected.hazards));
      }
      if (expected.env) expect(analysis.env.map((e) => e.name)).toEqual([...expected.env].sort());
      if (expected.imports) {
        const edges = (list: Array<{ from: string; to: string; typeOnly: boolean }>) =>
          [...new Set(list.map((e) => `${e.from} -> ${e.to}${e.typeOnly ? ' (type)' : ''}`))].sort();
        expect(edges(analysis.imports)).toEqual(edges(expected.imports));
      }
      if (expected.unresolved) {
        const unresolved = (list: Array<{ file: string; line: number; specifier: string }>) => list.map((u) => `${u.file}:${u.line} ${u.specifier}`).sort();
        expect(unresolved(analysis.unresolvedImports)).toEqual(unresolved(expected.unresolved));
      }
    });
  }
});
