import { Ajv2020 } from 'ajv/dist/2020.js';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze/analyze.js';
import { UserError } from '../util/errors.js';
import { fixturePath, repoRoot, writeProject } from '../test-support/temp-project.js';
import { isAnalysisFile, serializeAnalysis } from './analysis-file.js';
import { readAnalysis } from './read-analysis.js';

const schema = JSON.parse(fs.readFileSync(path.join(repoRoot, 'schema', 'analysis.schema.json'), 'utf8'));

describe('the analysis file', async () => {
  const analysis = await analyze({ dir: fixturePath('shop-ts') });
  const written = JSON.parse(serializeAnalysis(analysis));

  it('is rejected by the JSON schema when broken (so the validator is not silent)', () => {
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
    const broken = structuredClone(written);
    broken.routes[0].method = 42;
    delete broken.modules;
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath || e.params)).toEqual(expect.arrayContaining(['/routes/0/method']));
  });

  it('validates against the published JSON schema', () => {
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
    expect(validate(written), JSON.stringify(validate.errors)).toBe(true);
  });

  it('is read back only when valid and of this version', () => {
    const dir = writeProject({
      'good.json': serializeAnalysis(analysis),
      'old.json': JSON.stringify({ ...written, version: 0 }),
      'bad.json': JSON.stringify({ ...written, routes: 'nope' }),
      'junk.json': '{ not json',
    });
    expect(readAnalysis(path.join(dir, 'good.json')).routes).toHaveLength(48);
    const codes = ['old.json', 'bad.json', 'junk.json', 'missing.json'].map((f) => {
      try {
        readAnalysis(path.join(dir, f));
        return 'accepted';
      } catch (error) {
        return (error as UserError).code;
      }
    });
    expect(codes).toEqual(['DEC-022', 'DEC-023', 'DEC-021', 'DEC-020']);
  });

  it('is told from a file of the user\'s without parsing it: only our own top-level generator line counts', () => {
    expect(isAnalysisFile(serializeAnalysis(analysis))).toBe(true);
    expect(isAnalysisFile(serializeAnalysis(analysis).replace(/\n/g, '\r\n'))).toBe(true);
    expect(isAnalysisFile(JSON.stringify({ tool: { generator: 'decompose' } }, null, 2))).toBe(false);
    expect(isAnalysisFile(JSON.stringify({ generator: 'decompose-fork' }, null, 2))).toBe(false);
    expect(isAnalysisFile(JSON.stringify({ generator: 'decompose' }))).toBe(false);
    expect(isAnalysisFile('# notes\n  "generator": "decompose",\n')).toBe(false);
  });
});
