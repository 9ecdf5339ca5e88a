import { Ajv2020 } from 'ajv/dist/2020.js';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze/analyze.js';
import { UserError } from '../util/errors.js';
import { stableJson } from '../util/compare.js';
import { fixturePath, repoRoot, writeProject } from '../test-support/temp-project.js';
import { ANALYSIS_SCHEMA_URL, isAnalysisFile, serializeAnalysis } from './analysis-file.js';
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

describe('serializeAnalysis', () => {
  // It writes the analysis as built, without sorting (see serializeAnalysis): each project here must come out as
  // stableJson, which sorts every object's keys, would write it.
  const projects = [
    fixturePath('shop-ts'),
    fixturePath('blog-cjs'),
    ...fs
      .readdirSync(fixturePath('edge'), { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== 'non-express')
      .map((e) => path.join(fixturePath('edge'), e.name)),
  ];
  it.each(projects.map((p) => [path.relative(repoRoot, p), p]))('writes %s with every object\'s keys in sorted order', async (_, dir) => {
    const analysis = await analyze({ dir, git: { maxCommits: 50, since: null } });
    expect(serializeAnalysis(analysis)).toBe(stableJson({ ...analysis, $schema: ANALYSIS_SCHEMA_URL }));
  });

  it('writes a project with a record of every kind with every object\'s keys in sorted order', async () => {
    const dir = writeProject({
      'package.json': JSON.stringify({ name: 'every-kind', dependencies: { express: '^4', mongoose: '^8', 'express-session': '^1', multer: '^1' } }),
      'src/app.js': `const express = require('express');
const session = require('express-session');
const multer = require('multer');
const fs = require('fs');
const users = require('./users');
const missing = require('./missing');
const cased = require('./Users');
const dynamic = require(process.env.PLUGIN);
const app = express();
const hits = new Map();
let count = 0;
app.use(session({ secret: process.env.SESSION_SECRET }));
app.use('/users', users);
app.use(somewhere);
const upload = multer({ dest: 'uploads/' });
app.post('/upload', upload.single('f'), (req, res) => { count++; hits.set(req.ip, count); fs.writeFileSync('log.txt', 'x'); res.end(); });
app.get(process.env.ROUTE, (req, res) => res.end());
setInterval(() => {}, 1000);
app.listen(process.env.PORT);
`,
      'src/users.js': `const express = require('express');
const mongoose = require('mongoose');
const app = require('./app');
const User = mongoose.model('User', new mongoose.Schema({ name: String }));
const router = express.Router();
router.get('/', async (req, res) => res.json(await User.find()));
router.post('/', async (req, res) => res.json(await User.create(req.body)));
module.exports = router;
`,
      'src/orphan.js': `const express = require('express');
const lonely = express.Router();
lonely.get('/nowhere', (req, res) => res.end());
`,
      'src/binary.js': Buffer.from([0x61, 0x00, 0x62]).toString('latin1'),
    });
    const analysis = await analyze({ dir });
    for (const field of ['diagnostics', 'entities', 'env', 'hazards', 'unresolvedImports', 'unresolvedRoutes', 'cycles', 'routes'] as const) {
      expect(analysis[field], field).not.toHaveLength(0);
    }
    expect(new Set(analysis.unresolvedImports.map((u) => u.reason))).toEqual(new Set(['non-literal', 'missing-file', 'case-mismatch']));
    expect(serializeAnalysis(analysis)).toBe(stableJson({ ...analysis, $schema: ANALYSIS_SCHEMA_URL }));
  });

  it('would show a record built out of order', async () => {
    const analysis = await analyze({ dir: fixturePath('blog-cjs') });
    const { tsconfig, ...rest } = analysis.project;
    const shuffled = { ...analysis, project: { tsconfig, ...rest } };
    expect(serializeAnalysis(shuffled)).not.toBe(stableJson({ ...shuffled, $schema: ANALYSIS_SCHEMA_URL }));
  });
});
