import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPlan } from '../src/app/run-plan.js';
import { copyFixture, fixturePath } from '../src/test-support/temp-project.js';

/**
 * The plans decompose proposes for the fixtures, kept as golden files: a change to the clustering, the
 * rules or the file format shows up here as a reviewable diff and is accepted on purpose with `vitest -u`.
 */
describe.each(['shop-ts', 'blog-cjs'])('golden plan of fixtures/%s', (fixture) => {
  it('matches the committed plan and report', async () => {
    const dir = copyFixture(fixture);
    await runPlan({ dir, refresh: false, compare: true, force: false, granularity: {}, expectedFile: path.join(fixturePath(fixture), 'EXPECTED.json') });
    await expect(fs.readFileSync(path.join(dir, 'decompose.plan.yaml'), 'utf8')).toMatchFileSnapshot(path.join(fixturePath(fixture), 'golden', 'decompose.plan.yaml'));
    await expect(fs.readFileSync(path.join(dir, 'PLAN.md'), 'utf8')).toMatchFileSnapshot(path.join(fixturePath(fixture), 'golden', 'PLAN.md'));
  });
});
