import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../util/errors.js';
import { EXPRESS_PACKAGE, writeProject } from '../test-support/temp-project.js';
import { analyze } from './analyze.js';

async function failure(dir: string): Promise<UserError> {
  try {
    await analyze({ dir });
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected analyze to fail');
}

describe('bad input', () => {
  it('names a missing folder, a file given as folder, and a folder without sources', async () => {
    expect((await failure('/nonexistent/decompose')).code).toBe('DEC-001');
    const file = path.join(writeProject({ 'a.txt': 'x' }), 'a.txt');
    expect((await failure(file)).code).toBe('DEC-002');
    expect((await failure(fs.mkdtempSync(path.join(os.tmpdir(), 'empty-')))).code).toBe('DEC-003');
    expect((await failure(writeProject({ 'README.md': '# hi', 'node_modules/x/index.js': '' }))).code).toBe('DEC-003');
  });

  it('says which framework it found when the app is not Express', async () => {
    const error = await failure(writeProject({
      'package.json': JSON.stringify({ dependencies: { koa: '2' } }),
      'src/app.js': "const Koa = require('koa');\nconst app = new Koa();\napp.listen(3000);",
    }));
    expect(error.code).toBe('DEC-010');
    expect(error.message).toContain('found Koa (imported in src/app.js)');
  });

  it('reports an invalid tsconfig with file:line:column, and a missing extends', async () => {
    const broken = await failure(writeProject({ 'package.json': EXPRESS_PACKAGE, 'tsconfig.json': '{\n  "compilerOptions": {\n    "strict": true,,\n  }\n}', 'a.ts': "import e from 'express';" }));
    expect(broken.code).toBe('DEC-005');
    expect(broken.position?.file.endsWith('tsconfig.json')).toBe(true);
    expect(broken.position?.line).toBe(3);
    const extendsMissing = await failure(writeProject({ 'package.json': EXPRESS_PACKAGE, 'tsconfig.json': '{ "extends": "./nope.json" }', 'a.ts': "import e from 'express';" }));
    expect(extendsMissing.code).toBe('DEC-005');
    expect(extendsMissing.message).toContain('nope.json');
  });

  it('reports files with syntax errors, binary and non-UTF-8 content, and goes on with the rest', async () => {
    const dir = writeProject({
      'package.json': EXPRESS_PACKAGE,
      'app.js': "const express = require('express');\nconst app = express();\napp.get('/ok', (q, s) => s.end());\nmodule.exports = app;",
      'broken.js': 'function (\n',
    });
    fs.writeFileSync(path.join(dir, 'binary.js'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01]));
    fs.writeFileSync(path.join(dir, 'latin1.js'), Buffer.from([0x2f, 0x2f, 0x20, 0xe9, 0xe8, 0x0a]));
    const analysis = await analyze({ dir });
    expect(analysis.routes.map((r) => r.path)).toEqual(['/ok']);
    expect(analysis.diagnostics.map((d) => [d.file, d.code, d.line])).toEqual([
      ['binary.js', 'binary', 1],
      ['broken.js', 'syntax-error', 1],
      ['latin1.js', 'encoding', 1],
    ]);
    expect(analysis.modules.map((m) => m.path)).toEqual(['app.js']);
  });

  it('survives symlink loops and unusual file names, and skips tests, build output and tool configs', async () => {
    const dir = writeProject({
      'package.json': EXPRESS_PACKAGE,
      'src/app.ts': "import express from 'express';\nimport { x } from './wëird name #1';\nconst app = express();\nexport default app;",
      'src/wëird name #1.ts': 'export const x = 1;',
      'src/app.test.ts': 'x',
      'test/api.ts': 'x',
      'dist/app.js': 'x',
      'vitest.config.ts': 'x',
    });
    fs.symlinkSync(path.join(dir, 'src'), path.join(dir, 'src', 'loop'));
    const analysis = await analyze({ dir });
    expect(analysis.modules.map((m) => m.path)).toEqual(['src/app.ts', 'src/wëird name #1.ts']);
    expect(analysis.imports.map((e) => e.to)).toEqual(['src/wëird name #1.ts']);
  });

  it('gives byte-identical output for the same input', async () => {
    const files = {
      'package.json': EXPRESS_PACKAGE,
      'src/app.ts': "import express from 'express';\nimport { r } from './r';\nconst app = express();\napp.use('/x', r);\nexport default app;",
      'src/r.ts': "import { Router } from 'express';\nexport const r = Router();\nr.get('/', (q, s) => s.end());\nr.post('/', (q, s) => s.end());",
    };
    const a = await analyze({ dir: writeProject(files) });
    const b = await analyze({ dir: writeProject(files) });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});
