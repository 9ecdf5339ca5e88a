import { describe, expect, it } from 'vitest';
import { EXPRESS_PACKAGE, writeProject } from '../test-support/temp-project.js';
import { analyze } from './analyze.js';

const APP = `import express from 'express';\nexport const app = express();\n`;

async function importsOf(files: Record<string, string>) {
  const dir = writeProject({ 'package.json': EXPRESS_PACKAGE, 'src/app.ts': APP, ...files });
  const analysis = await analyze({ dir });
  return analysis;
}

describe('import forms', () => {
  it('resolves every ESM and CommonJS form to files, with its kind and names', async () => {
    const analysis = await importsOf({
      'src/a.ts': [
        "import def, { named } from './b';",
        "import * as ns from './c.js';",
        "export { x } from './d';",
        "export * from './e';",
        "import f = require('./f');",
        "const g = require('./g');",
        "const { h1, h2: renamed } = require('./h');",
        "const lazy = () => import('./lazy');",
        "const where = require.resolve('./i');",
        'console.log(def, named, ns, f, g, h1, renamed, lazy, where);',
      ].join('\n'),
      'src/b.ts': 'export default 1; export const named = 2;',
      'src/c.ts': 'export const c = 1;',
      'src/d.ts': 'export const x = 1;',
      'src/e.ts': 'export const e = 1;',
      'src/f.ts': 'export = 1;',
      'src/g.js': 'module.exports = 1;',
      'src/h/index.js': 'exports.h1 = 1; exports.h2 = 2;',
      'src/lazy.ts': 'export default 1;',
      'src/i.cjs': 'module.exports = {};',
    });
    const edges = analysis.imports.filter((e) => e.from === 'src/a.ts').map((e) => [e.to, e.kind, e.names.join(','), e.typeOnly]);
    expect(edges).toEqual([
      ['src/b.ts', 'import', 'default,named', false],
      ['src/c.ts', 'import', '*', false],
      ['src/d.ts', 'export-from', 'x', false],
      ['src/e.ts', 'export-from', '*', false],
      ['src/f.ts', 'import-equals', '*', false],
      ['src/g.js', 'require', '*', false],
      ['src/h/index.js', 'require', 'h1,h2', false],
      ['src/i.cjs', 'require-resolve', '*', false],
      ['src/lazy.ts', 'dynamic-import', '*', false],
    ]);
  });

  it('marks `import type` and imports used only as types as type-only', async () => {
    const analysis = await importsOf({
      'src/types.ts': 'export interface User { id: string }\nexport class Repo {}\nexport const value = 1;',
      'src/a.ts': "import type { User } from './types';\nexport const u: User = { id: '1' };",
      'src/b.ts': "import { User } from './types';\nexport function f(u: User): User { return u; }",
      'src/c.ts': "import { Repo } from './types';\nexport const r = new Repo();",
      'src/d.ts': "import { type User, value } from './types';\nexport const v: User | number = value;",
      'src/e.ts': "import { Repo } from './types';\nexport class X implements Repo {}",
      // In `extends Base<T>` the base is a value and its type arguments are types.
      'src/base.ts': 'export class Base<T> { item?: T }',
      'src/f.ts': "import { User } from './types';\nimport { Base } from './base';\nexport class Y extends Base<User> {}",
      'src/g.ts': "import { User } from './types';\nexport { User };",
      'src/h.ts': "import { User } from './types';\nexport type { User };",
    });
    const typeOnly = Object.fromEntries(analysis.imports.filter((e) => e.to === 'src/types.ts').map((e) => [e.from, e.typeOnly]));
    expect(typeOnly).toEqual({ 'src/a.ts': true, 'src/b.ts': true, 'src/c.ts': false, 'src/d.ts': false, 'src/e.ts': true, 'src/f.ts': true, 'src/g.ts': false, 'src/h.ts': true });
    expect(analysis.imports.find((e) => e.from === 'src/f.ts' && e.to === 'src/base.ts')?.typeOnly).toBe(false);
  });

  it('maps .js specifiers to .ts files, honours tsconfig paths and package.json imports', async () => {
    const dir = writeProject({
      'package.json': JSON.stringify({ name: 'app', dependencies: { express: '4' }, imports: { '#lib/*': './src/lib/*.ts' } }),
      'tsconfig.json': JSON.stringify({ compilerOptions: { baseUrl: '.', paths: { '@shared/*': ['src/shared/*'] }, allowJs: true } }),
      'src/app.ts': `${APP}import { a } from './util/a.js';\nimport { s } from '@shared/s';\nimport { l } from '#lib/l';\nconsole.log(a, s, l);`,
      'src/util/a.ts': 'export const a = 1;',
      'src/shared/s.ts': 'export const s = 1;',
      'src/lib/l.ts': 'export const l = 1;',
    });
    const analysis = await analyze({ dir });
    expect(analysis.imports.map((e) => e.to)).toEqual(['src/lib/l.ts', 'src/shared/s.ts', 'src/util/a.ts']);
    expect(analysis.project.tsconfig).toBe('tsconfig.json');
  });

  it('keeps packages and built-ins external under a catch-all paths mapping, as TypeScript-Node-Starter has', async () => {
    const dir = writeProject({
      'package.json': JSON.stringify({ name: 'app', dependencies: { express: '4', lodash: '4' }, devDependencies: { '@scope/tool': '1' } }),
      'tsconfig.json': JSON.stringify({ compilerOptions: { baseUrl: '.', paths: { '*': ['node_modules/*', 'src/types/*'], '@app/*': ['src/*'] } } }),
      'src/app.ts': [
        APP,
        "import path from 'path';",
        "import map from 'lodash/map';",
        "import tool from '@scope/tool';",
        "import { Local } from 'local';",
        // Installed as a dependency of a dependency: only the catch-all matches it, so it is looked up as a package.
        "import { MongoClient } from 'mongodb';",
        // The alias matches and no file answers: a project file gone missing.
        "import gone from '@app/gone';",
        'console.log(path, map, tool, gone, Local, MongoClient);',
      ].join('\n'),
      'src/types/local.ts': 'export class Local {}',
      // Installed: the mapping finds the package's own files, which are still the package, not project files.
      'node_modules/lodash/map.js': 'module.exports = () => [];',
    });
    const analysis = await analyze({ dir });
    const app = analysis.modules.find((m) => m.path === 'src/app.ts')!;
    expect(app.externals).toEqual(['@scope/tool', 'express', 'lodash', 'mongodb']);
    expect(app.builtins).toEqual(['path']);
    expect(analysis.imports.map((e) => `${e.from} -> ${e.to}`)).toEqual(['src/app.ts -> src/types/local.ts']);
    expect(analysis.unresolvedImports.map((u) => `${u.specifier} ${u.reason}`)).toEqual(['@app/gone missing-file']);
    expect(analysis.routes).toEqual([]);
  });

  it('tells an import that differs from its file only in letter case from a missing one', async () => {
    const dir = writeProject({
      'package.json': EXPRESS_PACKAGE,
      'tsconfig.json': JSON.stringify({ compilerOptions: { baseUrl: 'src', paths: { '@exceptions/*': ['exceptions/*'] } } }),
      'src/app.ts': `${APP}import { HttpException } from '@exceptions/httpException';\nimport { helper } from './Utils';\nimport { gone } from './gone';\nconsole.log(HttpException, helper, gone);`,
      'src/exceptions/HttpException.ts': 'export class HttpException extends Error {}',
      'src/utils/index.ts': 'export const helper = 1;',
    });
    const analysis = await analyze({ dir });
    // Found on macOS and Windows, not on Linux (where the services run): not an edge, and said so.
    expect(analysis.imports).toEqual([]);
    expect(analysis.unresolvedImports).toEqual([
      { file: 'src/app.ts', line: 3, column: 1, specifier: '@exceptions/httpException', reason: 'case-mismatch', existing: 'src/exceptions/HttpException.ts' },
      { file: 'src/app.ts', line: 4, column: 1, specifier: './Utils', reason: 'case-mismatch', existing: 'src/utils/index.ts' },
      { file: 'src/app.ts', line: 5, column: 1, specifier: './gone', reason: 'missing-file' },
    ]);
  });

  it('keeps non-literal and missing specifiers as warnings with file:line, and lists packages and built-ins', async () => {
    const analysis = await importsOf({
      'src/a.js': [
        "const fs = require('node:fs');",
        "const path = require('path');",
        "const lodash = require('lodash/fp');",
        "const scoped = require('@scope/pkg/sub');",
        'const name = process.argv[2];',
        'const plugin = require(name);',
        "const other = require('./plugins/' + name);",
        "const gone = require('./missing');",
      ].join('\n'),
    });
    expect(analysis.unresolvedImports).toEqual([
      { file: 'src/a.js', line: 6, column: 24, specifier: 'name', reason: 'non-literal' },
      { file: 'src/a.js', line: 7, column: 23, specifier: "'./plugins/' + name", reason: 'non-literal' },
      { file: 'src/a.js', line: 8, column: 14, specifier: './missing', reason: 'missing-file' },
    ]);
    const module = analysis.modules.find((m) => m.path === 'src/a.js')!;
    expect(module.externals).toEqual(['@scope/pkg', 'lodash']);
    expect(module.builtins).toEqual(['fs', 'path']);
    expect(module.format).toBe('cjs');
  });

  it('lists circular dependency groups from runtime imports only', async () => {
    const analysis = await importsOf({
      'src/a.ts': "import { b } from './b';\nexport const a = () => b;",
      'src/b.ts': "import { c } from './c';\nexport const b = () => c;",
      'src/c.ts': "import { a } from './a';\nexport const c = () => a;",
      'src/d.ts': "import type { E } from './e';\nexport type D = E;",
      'src/e.ts': "import type { D } from './d';\nexport type E = D;",
    });
    expect(analysis.cycles).toEqual([['src/a.ts', 'src/b.ts', 'src/c.ts']]);
  });
});
