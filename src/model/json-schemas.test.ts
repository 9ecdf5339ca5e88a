import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stableJson } from '../util/compare.js';
import { repoRoot } from '../test-support/temp-project.js';
import { analysisJsonSchema } from './json-schemas.js';

describe('published JSON schemas', () => {
  it('schema/analysis.schema.json is the one generated from the zod schema (run `npm run schemas` after a change)', () => {
    const committed = fs.readFileSync(path.join(repoRoot, 'schema', 'analysis.schema.json'), 'utf8');
    expect(committed).toBe(stableJson(analysisJsonSchema()));
  });
});
