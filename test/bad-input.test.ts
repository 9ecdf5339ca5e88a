import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type CliResult, cliPath, runCli } from '../src/test-support/run-cli.js';
import { copyFixture, fixturePath, repoRoot } from '../src/test-support/temp-project.js';
import { HOSTILE_ROUTES, expectCleanFailure, expectNoStack, expectUntouched, hostileProject, lineOf, snapshot, write } from './support/hostile.js';

/**
 * What users feed decompose when they point it at large, messy codebases, or when CI runs it on untrusted pull
 * requests. Every case asserts the documented exit code, a one-line `error DEC-0xx` naming the file (and
 * line:column where there is one), no stack trace, and that no file anywhere near the run was created or changed.
 * The CLI runs from dist/ (`npm run build` first, as `npm test` does).
 */

const EXPRESS = JSON.stringify({ name: 'app', dependencies: { express: '^4.21.2' } });
const APP = "const express = require('express');\nconst app = express();\napp.get('/ok', (req, res) => res.end());\nmodule.exports = app;\n";

function tempDir(prefix = 'decompose-bad-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function hasCommand(command: string): boolean {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const HAS_GIT = hasCommand('git');
const HAS_BASH = hasCommand('bash');

/** fixtures/blog-cjs with a plan from `plan --yes`, made once per file; tests work on copies (`plannedCopy`). */
let plannedBlog: Promise<string> | undefined;
async function plannedCopy(): Promise<string> {
  plannedBlog ??= (async () => {
    const dir = copyFixture('blog-cjs');
    const result = await runCli(['plan', dir, '--yes']);
    expect(result.exitCode, result.stderr).toBe(0);
    return dir;
  })();
  const source = await plannedBlog;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-out-'));
  fs.cpSync(source, dir, { recursive: true });
  return dir;
}

function gitInit(dir: string): void {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.email=test@example.com', '-c', 'user.name=test', '-c', 'commit.gpgsign=false', 'commit', '-qm', 'init');
}

describe('analyze refuses what it cannot read, in one line, writing nothing', () => {
  interface AnalyzeCase {
    name: string;
    files?: Record<string, string>;
    /** Relative to the temp folder; default: the folder itself. */
    target?: string;
    args?: string[];
    code: string;
    mentions: Array<string | RegExp>;
  }
  const cases: AnalyzeCase[] = [
    { name: 'a missing folder', target: 'does-not-exist', code: 'DEC-001', mentions: ['does-not-exist', 'no such folder'] },
    { name: 'a file instead of a folder', files: { 'app.js': APP }, target: 'app.js', code: 'DEC-002', mentions: ['app.js', 'is a file, not a folder'] },
    { name: 'an empty folder', code: 'DEC-003', mentions: ['no JavaScript or TypeScript sources'] },
    { name: 'a folder with no JS or TS', files: { 'README.md': '# hi', 'data.json': '{}', 'style.css': 'a {}', 'node_modules/x/index.js': '' }, code: 'DEC-003', mentions: ['no JavaScript or TypeScript sources'] },
    {
      name: 'a Koa project',
      files: { 'package.json': JSON.stringify({ name: 'k', dependencies: { koa: '^2.0.0' } }), 'src/index.js': "const Koa = require('koa');\nnew Koa().listen(3000);\n" },
      code: 'DEC-010',
      mentions: ['no Express app found', 'found Koa (imported in src/index.js)'],
    },
    {
      name: 'a Fastify project',
      files: { 'package.json': JSON.stringify({ name: 'f', dependencies: { fastify: '^4.0.0' } }), 'src/server.ts': "import Fastify from 'fastify';\nFastify().listen({ port: 3000 });\n" },
      code: 'DEC-010',
      mentions: ['found Fastify (imported in src/server.ts)'],
    },
    {
      name: 'a NestJS project',
      files: { 'package.json': JSON.stringify({ name: 'n', dependencies: { '@nestjs/core': '^10.0.0' } }), 'src/main.ts': "import { NestFactory } from '@nestjs/core';\nvoid NestFactory;\n" },
      code: 'DEC-010',
      mentions: ['found NestJS (imported in src/main.ts)'],
    },
    {
      name: 'a tsconfig with invalid JSON',
      files: { 'package.json': EXPRESS, 'app.js': APP, 'tsconfig.json': '{\n  "compilerOptions": {\n    "strict": true,,\n  }\n}\n' },
      code: 'DEC-005',
      mentions: [/tsconfig\.json:3:\d+: invalid configuration/],
    },
    {
      name: 'a tsconfig that extends a missing file',
      files: { 'package.json': EXPRESS, 'app.js': APP, 'tsconfig.json': '{\n  "extends": "./missing-base.json"\n}\n' },
      code: 'DEC-005',
      mentions: [/tsconfig\.json:2:\d+: /, 'missing-base.json'],
    },
    {
      name: 'a package.json that is not JSON (quoted text with line breaks stays out of the line)',
      files: { 'package.json': 'name: app\ndependencies:\n  express: 4\n', 'app.js': APP },
      code: 'DEC-004',
      mentions: ['package.json', 'not valid JSON'],
    },
  ];

  it.concurrent.each(cases)('$name', async ({ files, target, args = [], code, mentions }) => {
    const dir = write(tempDir(), files ?? {});
    const result = await expectUntouched([dir], () => runCli(['analyze', path.join(dir, target ?? '.'), ...args]));
    expectCleanFailure(result, { code, mentions });
    // The whole message is a handful of lines (message, hint), never a dump.
    expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(4);
  });

  it('prints the stack trace with --debug, and only then', async () => {
    const dir = tempDir();
    const debug = await runCli(['analyze', dir, '--debug']);
    expect(debug.exitCode).toBe(2);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});

describe('analyze reads past broken and hostile sources: reported in diagnostics, the rest analysed', () => {
  /** Sources that must not fail the run, each with the diagnostic code it gets (null: analysed normally). */
  function messyFiles(dir: string): Record<string, string | null> {
    const expected: Record<string, string | null> = {};
    const add = (file: string, content: string | Buffer, code: string | null) => {
      write(dir, { [file]: content });
      expected[file] = code;
    };
    add('src/broken-syntax.js', "const x = {\n  a: (\n\nmodule.exports = x;\n", 'syntax-error');
    add('src/binary.js', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)), 'binary');
    add('src/latin1.js', Buffer.concat([Buffer.from('const s = "caf'), Buffer.from([0xe9]), Buffer.from('";\nmodule.exports = s;\n')]), 'encoding');
    add('src/generated.js', `${'export const v = 1;\n'.repeat(5 * 1024 * 1024 / 20)}`, 'too-large');
    add('src/deep.js', `module.exports = ${'('.repeat(3000)}1${')'.repeat(3000)};\n`, 'too-deep');
    add('src/deep-blocks.js', `function f(a) {${'if (a) {'.repeat(1000)}${'}'.repeat(1000)}}\nmodule.exports = f;\n`, 'too-deep');
    // A chain of thousands of aliases: the evaluator gives up (unknown) instead of overflowing the stack.
    add('src/alias-chain.js', `const v0 = require('express').Router();\n${Array.from({ length: 3000 }, (_, i) => `const v${i + 1} = v${i};`).join('\n')}\nmodule.exports = v3000;\n`, null);
    // Nested loops over route tables multiply: 10^6 registrations from six lines must not be expanded.
    add(
      'src/loops.js',
      `const express = require('express');\nconst router = express.Router();\nconst xs = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];\n${Array.from({ length: 6 }, (_, i) => `xs.forEach((v${i}) => {`).join('\n')}\nrouter.get('/' + ${Array.from({ length: 6 }, (_, i) => `v${i}`).join(" + '/' + ")}, (req, res) => res.end());\n${'});\n'.repeat(6)}module.exports = router;\n`,
      null,
    );
    // A router mounted twice at each of 24 levels would give 2^24 routes.
    add(
      'src/mounts.js',
      `const express = require('express');\n${Array.from({ length: 25 }, (_, i) => `const r${i} = express.Router();`).join('\n')}\n${Array.from({ length: 24 }, (_, i) => `r${i}.use('/a', r${i + 1});\nr${i}.use('/b', r${i + 1});`).join('\n')}\nr24.get('/leaf', (req, res) => res.end());\nmodule.exports = r0;\n`,
      null,
    );
    add('src/with space.js', "const router = require('express').Router();\nrouter.get('/space', (req, res) => res.end());\nmodule.exports = router;\n", null);
    add('src/ünïcödé ☃.js', "const router = require('express').Router();\nrouter.get('/unicode', (req, res) => res.end());\nmodule.exports = router;\n", null);
    add('src/hash#1.js', "const router = require('express').Router();\nrouter.get('/hash', (req, res) => res.end());\nmodule.exports = router;\n", null);
    add('src/[id].js', "const router = require('express').Router();\nrouter.get('/bracket', (req, res) => res.end());\nmodule.exports = router;\n", null);
    add(
      'src/app.js',
      [
        "const express = require('express');",
        'const app = express();',
        "app.use('/s', require('./with space.js'));",
        "app.use('/u', require('./ünïcödé ☃.js'));",
        "app.use('/h', require('./hash#1.js'));",
        "app.use('/b', require('./[id].js'));",
        "app.use('/l', require('./loops.js'));",
        "app.use('/m', require('./mounts.js'));",
        "app.use('/c', require('./alias-chain.js'));",
        "app.get('/ok', (req, res) => res.end());",
        'module.exports = app;',
        '',
      ].join('\n'),
      null,
    );
    // A folder linked to its parent (a loop), a link to nowhere, a FIFO: none may hang or fail the walk.
    fs.symlinkSync('..', path.join(dir, 'src', 'loop'));
    fs.symlinkSync('nowhere.js', path.join(dir, 'src', 'dangling.js'));
    try {
      execFileSync('mkfifo', [path.join(dir, 'src', 'pipe.js')], { stdio: 'ignore' });
    } catch {
      // no mkfifo here: the rest still runs
    }
    return expected;
  }

  function expectMessyAnalysis(dir: string, expected: Record<string, string | null>, result: CliResult): void {
    expect(result.exitCode, result.stderr).toBe(0);
    expectNoStack(result);
    const analysis = JSON.parse(fs.readFileSync(path.join(dir, 'decompose-analysis.json'), 'utf8')) as {
      modules: Array<{ path: string }>;
      diagnostics: Array<{ file: string; code: string; line: number; column: number }>;
      routes: Array<{ method: string; path: string }>;
      unresolvedRoutes: Array<{ file: string; reason: string }>;
    };
    const modules = new Set(analysis.modules.map((m) => m.path));
    const diagnosed = new Map(analysis.diagnostics.map((d) => [d.file, d.code]));
    for (const [file, code] of Object.entries(expected)) {
      if (code === null) expect(modules.has(file), `${file} analysed`).toBe(true);
      else expect(diagnosed.get(file), `${file} in diagnostics`).toBe(code);
    }
    const paths = analysis.routes.map((r) => r.path);
    for (const route of ['/ok', '/s/space', '/u/unicode', '/h/hash', '/b/bracket']) expect(paths).toContain(route);
    expect(analysis.routes.length).toBeLessThan(50_000);
    expect(analysis.unresolvedRoutes.some((u) => u.file === 'src/mounts.js' && /stops there/.test(u.reason))).toBe(true);
    expect(analysis.unresolvedRoutes.some((u) => u.file === 'src/loops.js')).toBe(true);
    expect(result.stdout).toContain('Could not be read statically');
  }

  it('a plain JS project (sources found by walking the folder): exit 0, only the analysis written', async () => {
    const dir = write(tempDir(), { 'package.json': EXPRESS });
    const expected = messyFiles(dir);
    const before = snapshot(dir);
    const result = await runCli(['analyze', dir]);
    expectMessyAnalysis(dir, expected, result);
    const after = snapshot(dir);
    delete after['decompose-analysis.json'];
    expect(after).toEqual(before);
  });

  it('a TypeScript project with a tsconfig (sources listed by the compiler): the same', async () => {
    const dir = write(tempDir(), {
      'package.json': EXPRESS,
      'tsconfig.json': JSON.stringify({ compilerOptions: { allowJs: true, module: 'NodeNext', moduleResolution: 'NodeNext' }, include: ['src'] }),
    });
    const expected = messyFiles(dir);
    write(dir, { 'src/typed.ts': "import { Router } from 'express';\nconst r: Router = Router();\nexport default r;\n" });
    expected['src/typed.ts'] = null;
    const result = await runCli(['analyze', dir]);
    expectMessyAnalysis(dir, expected, result);
  });
});

describe('plan --refresh and check against a hand-written bad plan: exit 2 with decompose.plan.yaml:LINE:COL, nothing written', () => {
  let planned: string;
  let good: string;
  let analysisFile: string;
  beforeAll(async () => {
    planned = copyFixture('shop-ts');
    const result = await runCli(['plan', planned, '--yes']);
    expect(result.exitCode, result.stderr).toBe(0);
    good = fs.readFileSync(path.join(planned, 'decompose.plan.yaml'), 'utf8');
    analysisFile = path.join(tempDir(), 'shop-analysis.json');
    expect((await runCli(['analyze', planned, '--out', analysisFile])).exitCode).toBe(0);
  });

  /** Replaces `from` (which must occur) in the generated plan. */
  const edit = (text: string, from: string, to: string): string => {
    if (!text.includes(from)) throw new Error(`${JSON.stringify(from)} is not in the plan`);
    return text.replace(from, to);
  };

  interface PlanCase {
    name: string;
    bad: (good: string) => string;
    code: string;
    /** The first line names this line of the bad plan (the line holding this text). */
    at: string | null;
    mentions?: string[];
    /** check reads some problems as drift, not as an invalid plan. */
    check?: { exit: number; stdout: string };
    /** Only through `plan --refresh --analysis` (parse-level cases beyond the list). */
    refreshOnly?: boolean;
  }
  const cases: PlanCase[] = [
    { name: 'malformed YAML (unclosed flow sequence)', bad: (g) => edit(g, '  - name: cart\n', '  - name: [cart\n'), code: 'DEC-050', at: null, mentions: ['YAML syntax'] },
    // check reads this one in its plan-reading worker (yaml, since js-yaml leaves aliases to it), plan on its thread.
    { name: 'an alias bomb', bad: () => `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`, code: 'DEC-050', at: 'a: &a' },
    { refreshOnly: true, name: 'an empty file', bad: () => '', code: 'DEC-051', at: null, mentions: ['empty'] },
    { name: 'the wrong schema version', bad: (g) => edit(g, 'version: 1', 'version: 2'), code: 'DEC-051', at: 'version: 2', mentions: ['version 2', 'plan version 1'] },
    {
      name: 'a module in two services',
      bad: (g) => edit(g, '      - src/auth/**\n', '      - src/auth/**\n      - src/cart/cart.service.ts\n'),
      code: 'DEC-052',
      at: '      - src/cart/**',
      mentions: ['src/cart/cart.service.ts', 'already in service "auth"'],
    },
    {
      name: 'an unknown module',
      bad: (g) => edit(g, '      - src/auth/**\n', '      - src/auth/**\n      - src/nope.ts\n'),
      code: 'DEC-052',
      at: 'src/nope.ts',
      mentions: ['src/nope.ts', 'not a module of this project'],
      // The README's rule: a module the plan names that no longer exists is drift (missing-module, a warning).
      check: { exit: 0, stdout: 'src/nope.ts' },
    },
    { name: 'a duplicate service name', bad: (g) => edit(g, '- name: cart', '- name: auth'), code: 'DEC-052', at: '- name: auth\n    modules:\n      - src/cart', mentions: ['"auth" is defined twice'] },
    { name: 'an invalid service name', bad: (g) => edit(g, '- name: cart', '- name: Cart_Service'), code: 'DEC-051', at: 'Cart_Service', mentions: ['"Cart_Service" is not a DNS label'] },
    { name: 'a service named ../../etc', bad: (g) => edit(g, '- name: cart', '- name: ../../etc'), code: 'DEC-051', at: '../../etc', mentions: ['"../../etc"'] },
    { name: 'a service named CON', bad: (g) => edit(g, '- name: cart', '- name: CON'), code: 'DEC-051', at: '- name: CON', mentions: ['"CON"'] },
    { refreshOnly: true, name: 'a module path leaving the project', bad: (g) => edit(g, '      - src/auth/**\n', '      - src/auth/**\n      - ../../etc/passwd\n'), code: 'DEC-051', at: '../../etc/passwd', mentions: ['".." segment'] },
    { name: 'a plan for another repository', bad: (g) => edit(g, 'project: shop-ts', 'project: someone-else'), code: 'DEC-052', at: 'project: someone-else', mentions: ['"someone-else"', '"shop-ts"'] },
    // Reported twice on purpose (plan-file.test.ts): the missing field first, then the typo with a suggestion.
    { refreshOnly: true, name: 'a misspelt field', bad: (g) => edit(g, '    dependsOn:\n', '    dependson:\n'), code: 'DEC-051', at: '- name: auth', mentions: ['missing field "dependsOn"'] },
  ];

  it.concurrent.each(cases)('$name', async ({ bad, code, at, mentions = [], check, refreshOnly }) => {
    const text = bad(good);
    const expectedAt = at === null ? /decompose\.plan\.yaml:\d+:\d+: / : `decompose.plan.yaml:${lineOf(text, at)}:`;
    for (const command of refreshOnly ? (['plan --refresh'] as const) : (['plan --refresh', 'check'] as const)) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-badplan-'));
      fs.cpSync(planned, dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'decompose.plan.yaml'), text);
      // check reads the written analysis (the same modules), which keeps the suite fast; plan --refresh analyses
      // afresh for the cases.
      const args = command === 'check' ? ['check', dir, '--analysis', analysisFile] : ['plan', dir, '--refresh', ...(refreshOnly ? ['--analysis', analysisFile] : [])];
      const result = await expectUntouched([dir], () => runCli(args));
      if (command === 'check' && check) {
        expect(result.exitCode, result.stderr).toBe(check.exit);
        expect(result.stdout).toContain(check.stdout);
        expect(result.stdout).toMatch(/missing-module|matches no module/);
        expectNoStack(result);
        continue;
      }
      expectCleanFailure(result, { code, mentions: [expectedAt, ...mentions] });
    }
  });

  it('a plan saved with a byte-order mark is still ours: --refresh rewrites it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-bom-'));
    fs.cpSync(planned, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'decompose.plan.yaml'), `\uFEFF${good}`);
    const result = await runCli(['plan', dir, '--refresh']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'decompose.plan.yaml'), 'utf8')).toBe(good);
  });
});

describe('hostile route paths, folder and table names survive into every generated file', () => {
  let dir: string;
  let analysis: { routes: Array<{ method: string; path: string }>; entities: Array<{ name: string }> };
  beforeAll(async () => {
    dir = hostileProject(tempDir('decompose-hostile-'));
    const analyzed = await runCli(['analyze', dir]);
    expect(analyzed.exitCode, analyzed.stderr).toBe(0);
    const planned = await runCli(['plan', dir, '--yes']);
    expect(planned.exitCode, planned.stderr).toBe(0);
    analysis = JSON.parse(fs.readFileSync(path.join(dir, 'decompose-analysis.json'), 'utf8'));
  });

  it('reads every route path exactly as written', () => {
    const expected = Object.values(HOSTILE_ROUTES).flatMap(({ mount, routes }) => routes.map(([method, route]) => `${method.toUpperCase()} ${mount}${route}`));
    expect(analysis.routes.map((r) => `${r.method} ${r.path}`).filter((r) => !r.endsWith('/items')).sort()).toEqual(expected.sort());
    expect(analysis.entities.map((e) => e.name).sort()).toEqual(Object.values(HOSTILE_ROUTES).map((r) => r.table).sort());
  });

  it('decompose.plan.yaml re-parses to the same route strings, and the plan it proposed is one it accepts', async () => {
    const plan = parseYaml(fs.readFileSync(path.join(dir, 'decompose.plan.yaml'), 'utf8')) as { services: Array<{ name: string; routes: string[]; owns: string[] }> };
    const routes = plan.services.flatMap((s) => s.routes).sort();
    expect(routes).toEqual(analysis.routes.map((r) => `${r.method} ${r.path}`).sort());
    expect(plan.services.flatMap((s) => s.owns).sort()).toEqual(analysis.entities.map((e) => e.name).sort());
    // Folder names such as `aux` and `con` must not become names the plan validator rejects.
    for (const service of plan.services) expect(service.name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    expect(plan.services.map((s) => s.name)).not.toContain('aux');
    const refreshed = await expectUntouched([dir], () => runCli(['plan', dir, '--refresh']));
    expect(refreshed.exitCode, refreshed.stderr).toBe(0);
    const check = await runCli(['check', dir]);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
  });

  it('PLAN.md: the Mermaid block holds only generated ids and encoded labels, and every table row keeps its columns', () => {
    const markdown = fs.readFileSync(path.join(dir, 'PLAN.md'), 'utf8');
    const fences = markdown.split('\n').filter((l) => l.startsWith('```'));
    expect(fences).toEqual(['```mermaid', '```']);
    const mermaid = markdown.slice(markdown.indexOf('```mermaid\n') + 11, markdown.indexOf('\n```', markdown.indexOf('```mermaid')));
    for (const line of mermaid.split('\n')) {
      expect(line).toMatch(/^(flowchart LR|  \w+\["[A-Za-z0-9 ._\-/@+,=#;]*"\]|  \w+\[\["[A-Za-z0-9 ._\-/@+,=#;]*"\]\]|  \w+ -(->|\.->) \w+|  classDef [\w :;#,.-]+|  class [\w,]+ \w+)$/);
    }
    const lines = markdown.split('\n');
    let columns: number | null = null;
    lines.forEach((line, i) => {
      if (!line.startsWith('|')) {
        columns = null;
        // A table ends at a blank line, never at a broken row.
        if (i > 0 && lines[i - 1]!.startsWith('|')) expect(line, `line ${i + 1} after a table row`).toBe('');
        return;
      }
      const cells = line.split(/(?<!\\)\|/).length;
      columns ??= cells;
      expect(cells, `line ${i + 1}: ${line}`).toBe(columns);
      expect(line).not.toMatch(/<(?!br>)[a-z/!]/i);
    });
    expect(markdown).not.toContain('</script>');
    expect(markdown).not.toMatch(/<!--(?! Generated by decompose)/);
  });

  it('plan.html: no script from the data, exactly one <svg>, and the SVG is well-formed', () => {
    const html = fs.readFileSync(path.join(dir, 'plan.html'), 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<\/script/i);
    expect(html.match(/<svg/g)).toHaveLength(1);
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>') + 6);
    expect(XMLValidator.validate(svg)).toBe(true);
    // Route and table names appear only escaped.
    expect(html).not.toContain('ord|ers</script>');
    expect(html).toContain('ord|ers&lt;/script&gt;');
    expect(html.match(/<!--/g) ?? []).toHaveLength(0);
  });

  it('scaffold: every YAML and JSON file re-parses, nginx accepts the gateway, every JS file parses, and each hostile route reaches its service', async () => {
    const result = await runCli(['scaffold', dir]);
    expect(result.exitCode, result.stderr).toBe(0);
    const out = path.join(dir, 'decomposed');
    const files: string[] = [];
    const walk = (folder: string) => {
      for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) walk(full);
        else files.push(full);
      }
    };
    walk(out);
    walk(path.join(dir, '.github'));
    expect(files.length).toBeGreaterThan(30);
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      if (/\.ya?ml$/.test(file)) {
        const { parseAllDocuments } = await import('yaml');
        for (const document of parseAllDocuments(text)) expect(document.errors, file).toEqual([]);
      } else if (file.endsWith('.json')) {
        expect(() => JSON.parse(text), file).not.toThrow();
      } else if (/\.(c|m)?js$/.test(file)) {
        const parsed = execFileSync(process.execPath, ['--check', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        expect(parsed, file).toBe('');
      }
    }
    // The gateway: nginx reads it (the local file: the container one names upstream hosts that do not resolve here).
    const nginxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-hostile-nginx-'));
    fs.copyFileSync(path.join(out, 'gateway', 'nginx.local.conf'), path.join(nginxDir, 'nginx.conf'));
    const nginx = spawnNginxTest(nginxDir);
    expect(nginx, nginx.stderr).toEqual({ status: 0, stderr: '' });
    // Every hostile route is in both gateways' table and goes to the service the plan gives it (how a path matches
    // is Express's business: src/scaffold/gateway.test.ts holds the gateways to Express's own matcher).
    const table = JSON.parse(fs.readFileSync(path.join(out, 'gateway', 'node', 'routes.json'), 'utf8')) as { rules: Array<{ route: string; service: string }> };
    const plan = parseYaml(fs.readFileSync(path.join(dir, 'decompose.plan.yaml'), 'utf8')) as { services: Array<{ name: string; routes: string[] }> };
    const nginxConf = fs.readFileSync(path.join(out, 'gateway', 'nginx.conf'), 'utf8');
    for (const service of plan.services) {
      for (const route of service.routes) {
        expect(table.rules.find((r) => r.route === route)?.service, route).toBe(service.name);
      }
    }
    // One map entry per rule, each a single line: no route text could add a directive.
    const entries = nginxConf.split('\n').filter((l) => /^\s+"~\*\^/.test(l));
    expect(entries.length).toBe(table.rules.length);
    for (const line of entries) expect(line).toMatch(/^\s+"~\*\^[^\n]*" "[a-z][-a-z0-9]*";$/);
  }, 120_000);
});

function spawnNginxTest(dir: string): { status: number | null; stderr: string } {
  if (!hasCommand('nginx')) return { status: 0, stderr: '' };
  try {
    execFileSync('nginx', ['-t', '-q', '-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    return { status: 0, stderr: '' };
  } catch (error) {
    const failed = error as { status: number | null; stderr?: string };
    return { status: failed.status, stderr: String(failed.stderr ?? '') };
  }
}

describe('output locations: refused in one line, no partial output, the user’s files untouched', () => {

  it.concurrent('a file where a folder is expected (--plan, --out, -o): DEC-034 naming the path', async () => {
    const dir = await plannedCopy();
    const outside = write(tempDir(), { 'notes.txt': 'mine\n' });
    const notes = path.join(outside, 'notes.txt');
    for (const args of [
      ['plan', dir, '--yes', '--force', '--plan', path.join(notes, 'decompose.plan.yaml')],
      ['analyze', dir, '--out', path.join(notes, 'analysis.json')],
      ['check', dir, '--format', 'sarif', '-o', path.join(notes, 'drift.sarif')],
    ]) {
      const result = await expectUntouched([dir, outside], () => runCli(args));
      expectCleanFailure(result, { code: 'DEC-034', mentions: [notes, 'not a folder'] });
    }
  });

  it.concurrent('a file system that refuses new files (/proc; root ignores chmod, so no read-only folder can be made here)', async () => {
    if (!fs.existsSync('/proc/self')) return;
    const dir = await plannedCopy();
    const result = await expectUntouched([dir], () => runCli(['analyze', dir, '--out', '/proc/decompose-analysis.json']));
    expectCleanFailure(result, { code: 'DEC-034', mentions: ['/proc/decompose-analysis.json'] });
    // A folder to make there: fs.mkdirSync's `recursive` looped forever on it (the run hung).
    const below = await expectUntouched([dir], () => runCli(['analyze', dir, '--out', '/proc/decompose-out/analysis.json']));
    expectCleanFailure(below, { code: 'DEC-034', mentions: ['/proc/decompose-out'] });
  });

  it.concurrent('a plan file that decompose did not write: refused without --force, untouched', async () => {
    const dir = await plannedCopy();
    const ours = fs.readFileSync(path.join(dir, 'decompose.plan.yaml'), 'utf8');
    const mine = 'version: 1\n# my own notes, not a decompose plan\n';
    fs.writeFileSync(path.join(dir, 'decompose.plan.yaml'), mine);
    const again = await expectUntouched([dir], () => runCli(['plan', dir, '--yes']));
    expectCleanFailure(again, { code: 'DEC-053', mentions: ['decompose.plan.yaml', 'already exists'] });
    // A valid plan without our header (hand-written from scratch): --refresh may read it but not overwrite it.
    const planText = ours.replace(/^(#.*\n)+\n?/, '');
    fs.writeFileSync(path.join(dir, 'decompose.plan.yaml'), planText);
    const refresh = await expectUntouched([dir], () => runCli(['plan', dir, '--refresh']));
    expectCleanFailure(refresh, { code: 'DEC-030', mentions: ['decompose.plan.yaml', 'not written by decompose'] });
  });

  it.concurrent('a PLAN.md the team wrote: the whole plan run is refused, so no file of the three is written', async () => {
    const dir = await plannedCopy();
    fs.rmSync(path.join(dir, 'decompose.plan.yaml'));
    fs.rmSync(path.join(dir, 'plan.html'));
    fs.writeFileSync(path.join(dir, 'PLAN.md'), '# Our own plan\n');
    const result = await expectUntouched([dir], () => runCli(['plan', dir, '--yes']));
    expectCleanFailure(result, { code: 'DEC-030', mentions: ['PLAN.md'] });
  });

  it.concurrent('check -o over a file decompose did not write is refused; over its own report it is replaced', async () => {
    const dir = await plannedCopy();
    const source = path.join(dir, 'app.js');
    const refused = await expectUntouched([dir], () => runCli(['check', dir, '-o', source]));
    expectCleanFailure(refused, { code: 'DEC-030', mentions: ['app.js'] });
    for (const format of ['sarif']) {
      const report = path.join(dir, 'reports', `drift.${format}`);
      for (let run = 0; run < 2; run++) {
        const result = await runCli(['check', dir, '--format', format, '-o', report]);
        expect(result.exitCode, `${format} run ${run}: ${result.stderr}`).toBe(0);
      }
    }
  });

  it.concurrent('a full disk (a file-size limit, the one way to fill a disk without mount privileges): DEC-034, no temp file, old files intact', async () => {
    if (!HAS_BASH) return;
    const dir = await plannedCopy();
    // An edit that changes the plan, so every file would be rewritten.
    const planFile = path.join(dir, 'decompose.plan.yaml');
    fs.writeFileSync(planFile, fs.readFileSync(planFile, 'utf8').replace(/loc: \d+/, 'loc: 1'));
    const limited = async (args: string[]): Promise<CliResult> => {
      const command = `ulimit -f 4; exec "$0" "$@"`;
      const { execa } = await import('execa');
      const result = await execa('bash', ['-c', command, process.execPath, cliPath, ...args], { reject: false, env: { NO_COLOR: '1' }, stdin: 'ignore', cwd: repoRoot });
      return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
    };
    const refresh = await expectUntouched([dir], () => limited(['plan', dir, '--refresh']));
    expectCleanFailure(refresh, { code: 'DEC-034', mentions: ['decompose.plan.yaml', 'EFBIG'] });
  });

  it.concurrent('scaffold on a full disk: DEC-034 naming the file, and no partial output (what it had written is taken back)', async () => {
    if (!HAS_BASH) return;
    const dir = await plannedCopy();
    const { execa } = await import('execa');
    // 8 KB per file: the first larger generated file fails, after dozens of small ones were written.
    const result = await execa('bash', ['-c', 'ulimit -f 8; exec "$0" "$@"', process.execPath, cliPath, 'scaffold', dir, '--only', 'services,gateway'], { reject: false, env: { NO_COLOR: '1' }, stdin: 'ignore', cwd: repoRoot });
    expectCleanFailure({ exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) }, { code: 'DEC-034', mentions: ['EFBIG'] });
    expect(fs.existsSync(path.join(dir, 'decomposed')), 'no partial scaffold').toBe(false);
    // Over an existing scaffold: the files it had updated are put back.
    expect((await runCli(['scaffold', dir, '--only', 'services,gateway'])).exitCode).toBe(0);
    const before = snapshot(path.join(dir, 'decomposed'));
    // Each service's copy of app.js is updated first (small), then its server.js fails (too large): app.js comes back.
    fs.appendFileSync(path.join(dir, 'app.js'), '\n// a change every service copies\n');
    fs.appendFileSync(path.join(dir, 'server.js'), `\n/* ${'x'.repeat(9000)} */\n`);
    const again = await execa('bash', ['-c', 'ulimit -f 8; exec "$0" "$@"', process.execPath, cliPath, 'scaffold', dir, '--only', 'services,gateway'], { reject: false, env: { NO_COLOR: '1' }, stdin: 'ignore', cwd: repoRoot });
    expect(again.exitCode, String(again.stderr)).toBe(2);
    expect(snapshot(path.join(dir, 'decomposed'))).toEqual(before);
  });

  it.concurrent('symbolic links out of the project are never written through', async () => {
    const dir = await plannedCopy();
    const outside = write(tempDir('decompose-outside-'), { 'victim.txt': 'precious\n' });
    const victim = path.join(outside, 'victim.txt');
    const ours = fs.readFileSync(path.join(dir, 'decompose.plan.yaml'), 'utf8');
    // The plan file, the analysis file and a report folder, each a link a pull request could add.
    fs.rmSync(path.join(dir, 'decompose.plan.yaml'));
    fs.symlinkSync(victim, path.join(dir, 'decompose.plan.yaml'));
    const plan = await expectUntouched([dir, outside], () => runCli(['plan', dir, '--yes', '--force']));
    expectCleanFailure(plan, { code: 'DEC-032', mentions: ['decompose.plan.yaml', 'symbolic link'] });
    fs.symlinkSync(victim, path.join(dir, 'decompose-analysis.json'));
    const analyze = await expectUntouched([dir, outside], () => runCli(['analyze', dir, '--force']));
    expectCleanFailure(analyze, { code: 'DEC-032', mentions: ['decompose-analysis.json'] });
    fs.symlinkSync(outside, path.join(dir, 'reports'));
    fs.rmSync(path.join(dir, 'decompose.plan.yaml'));
    fs.writeFileSync(path.join(dir, 'decompose.plan.yaml'), ours);
    const report = await expectUntouched([dir, outside], () => runCli(['check', dir, '-f', 'sarif', '-o', path.join(dir, 'reports', 'drift.sarif')]));
    expectCleanFailure(report, { code: 'DEC-032', mentions: ['reports', 'symbolic link'] });
    const baseline = await expectUntouched([dir, outside], () => runCli(['check', dir, '--baseline', path.join(dir, 'reports', 'baseline.json'), '--update-baseline']));
    expectCleanFailure(baseline, { code: 'DEC-032', mentions: ['reports'] });
  });

  it.concurrent('a path the user names outside the project is legitimate: written there and nowhere else', async () => {
    const dir = await plannedCopy();
    const elsewhere = tempDir('decompose-elsewhere-');
    const before = snapshot(dir);
    const result = await runCli(['plan', dir, '--yes', '--plan', path.relative(repoRoot, path.join(elsewhere, 'decompose.plan.yaml'))]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(fs.readdirSync(elsewhere).sort()).toEqual(['PLAN.md', 'decompose.plan.yaml', 'plan.html']);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('git options, metrics inputs and other files read', () => {
  it.concurrent('--git outside a git work tree: a note, exit 0', async () => {
    const dir = write(tempDir(), { 'package.json': EXPRESS, 'app.js': APP });
    const analyzed = await runCli(['analyze', dir, '--git']);
    expect(analyzed.exitCode, analyzed.stderr).toBe(0);
    expect(analyzed.stderr).toContain('not inside a git work tree');
    const planned = await runCli(['plan', dir, '--yes', '--git']);
    expect(planned.exitCode, planned.stderr).toBe(0);
    expect(planned.stderr).toContain('not inside a git work tree');
  });

  it.concurrent('--changed-since: outside git, a bogus ref, an option smuggled in as a ref; git configuration in the analysed folder cannot make git run a program (core.fsmonitor)', async () => {
    if (!HAS_GIT) return;
    const dir = await plannedCopy();
    const outsideGit = await expectUntouched([dir], () => runCli(['check', dir, '--changed-since', 'main']));
    expectCleanFailure(outsideGit, { code: 'DEC-064', mentions: ['git work tree'] });
    gitInit(dir);
    const bogus = await expectUntouched([dir], () => runCli(['check', dir, '--changed-since', 'no-such-ref-xyz']));
    expectCleanFailure(bogus, { code: 'DEC-065', mentions: ['no-such-ref-xyz'] });
    const written = path.join(tempDir(), 'written-by-git-diff');
    const smuggled = await expectUntouched([dir], () => runCli(['check', dir, `--changed-since=--output=${written}`]));
    expectCleanFailure(smuggled, { code: 'DEC-065', mentions: ['--output='] });
    expect(fs.existsSync(written)).toBe(false);
    // A .git/config that arrived with the folder names a program for git to run while it reads the work tree.
    const ran = path.join(tempDir(), 'fsmonitor-ran');
    execFileSync('git', ['config', 'core.fsmonitor', `touch '${ran}'; false`], { cwd: dir });
    fs.appendFileSync(path.join(dir, 'app.js'), '\n// changed\n');
    const fine = await runCli(['check', dir, '--changed-since', 'HEAD']);
    expect(fine.exitCode, fine.stderr).toBe(0);
    expect((await runCli(['analyze', dir, '--git'])).exitCode).toBe(0);
    expect(fs.existsSync(ran)).toBe(false);
  });

  it.concurrent('plan --analysis, --expected and check --baseline with missing or invalid files', async () => {
    const dir = await plannedCopy();
    const analysis = path.join(tempDir(), 'analysis.json');
    expect((await runCli(['analyze', dir, '--out', analysis])).exitCode).toBe(0);
    const files = write(tempDir(), {
      'broken.json': '{\n  "version": 1,\n  "modules": [\n',
      'quoted.json': 'not json\nat all\n',
      'null.json': 'null',
      'domains.json': '{"domains": {"a": 5}}',
    });
    const f = (name: string) => path.join(files, name);
    const cases: Array<[string[], string, Array<string | RegExp>]> = [
      [['plan', dir, '--refresh', '--analysis', f('missing.json')], 'DEC-020', ['missing.json']],
      [['plan', dir, '--refresh', '--analysis', f('broken.json')], 'DEC-021', [/broken\.json:4:1: not valid JSON/]],
      [['plan', dir, '--refresh', '--analysis', f('quoted.json')], 'DEC-021', ['quoted.json', 'not valid JSON']],
      [['check', dir, '--analysis', f('null.json')], 'DEC-022', ['null.json']],
      [['plan', dir, '--refresh', '--analysis', analysis, '--expected', f('null.json')], 'DEC-055', ['null.json', '"domains"']],
      [['plan', dir, '--refresh', '--analysis', analysis, '--expected', f('domains.json')], 'DEC-055', ['domains.json', 'domains.a']],
      [['check', dir, '--analysis', analysis, '--baseline', f('missing.json')], 'DEC-062', ['missing.json']],
      [['check', dir, '--analysis', analysis, '--baseline', f('broken.json')], 'DEC-063', [/broken\.json:4:1: /]],
      [['check', dir, '--analysis', analysis, '--baseline', f('null.json')], 'DEC-063', ['null.json']],
    ];
    for (const [args, code, mentions] of cases) {
      const result = await expectUntouched([dir, files], () => runCli(args));
      expectCleanFailure(result, { code, mentions });
      expect(result.stderr.split('\n')[0]).not.toContain('\u0000');
    }
  });

  it.concurrent('metrics with missing or invalid files', async () => {
    const golden = fixturePath('golden/mono2micro-acmeair');
    const files = write(tempDir(), {
      'trailing.json': '{"A--B": 1,\n',
      'array.json': '[1, 2]',
      'empty.json': '{}',
    });
    const calls = path.join(golden, 'runtime_call_volume.json');
    const partition = path.join(golden, 'vertical_cluster_assignment_5.json');
    const f = (name: string) => path.join(files, name);
    const cases: Array<[string[], string, Array<string | RegExp>]> = [
      [['--calls', f('missing.json'), '--partition', partition], 'DEC-040', ['missing.json', 'no such file']],
      [['--calls', f('trailing.json'), '--partition', partition], 'DEC-041', [/trailing\.json:2:1: not valid JSON/]],
      [['--calls', f('array.json'), '--partition', partition], 'DEC-042', ['array.json', 'array']],
      [['--calls', calls, '--partition', f('empty.json')], 'DEC-046', ['empty.json']],
    ];
    for (const [args, code, mentions] of cases) {
      const result = await expectUntouched([files], () => runCli(['metrics', ...args]));
      expectCleanFailure(result, { code, mentions });
    }
  });

  // V8 quotes the text of a JSON file that fails to parse in its message, line breaks included.
  it('metrics: a JSON file whose quoted text holds line breaks still gives a one-line error', async () => {
    const files = write(tempDir(), { 'text.json': 'A--B: 1\nC--D: 2\n' });
    const result = await runCli(['metrics', '--calls', path.join(files, 'text.json'), '--partition', path.join(files, 'text.json')]);
    expectCleanFailure(result, { code: 'DEC-041' });
    expect(result.stderr.trim().split('\n').length).toBe(1);
  });
});

describe('safety of the tool', () => {
  it.concurrent('analyze, plan and check never import or run the analysed code', async () => {
    const marker = path.join(tempDir(), 'code-ran');
    const touch = `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');`;
    const dir = write(tempDir(), {
      'package.json': JSON.stringify({
        name: 'trap',
        dependencies: { express: '^4.21.2' },
        scripts: { preinstall: `node -e "${touch.replace(/"/g, '\\"')}"`, prepare: 'exit 99', postinstall: 'exit 99' },
      }),
      'src/app.js': "const express = require('express');\nconst app = express();\napp.use('/orders', require('./orders/routes'));\napp.use('/users', require('./users/routes'));\nmodule.exports = app;\n",
      'src/orders/routes.js': `${touch}\nprocess.exit(99);\nconst router = require('express').Router();\nrouter.get('/', (req, res) => res.end());\nmodule.exports = router;\n`,
      'src/users/routes.js': `throw new Error('ran');\nconst router = require('express').Router();\nrouter.get('/', (req, res) => res.end());\nmodule.exports = router;\n`,
      'src/orders/model.ts': `${touch}\nexport const orders = [];\n`,
      'jest.config.js': `${touch}\nmodule.exports = {};\n`,
      '.eslintrc.js': `${touch}\nmodule.exports = {};\n`,
      'tsconfig.json': JSON.stringify({ compilerOptions: { allowJs: true, plugins: [{ name: './src/orders/routes.js' }] }, include: ['src'] }),
    });
    const analyzed = await runCli(['analyze', dir]);
    expect(analyzed.exitCode, analyzed.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'decompose-analysis.json'), 'utf8')).routes).toHaveLength(2);
    expect((await runCli(['plan', dir, '--yes'])).exitCode).toBe(0);
    const check = await runCli(['check', dir]);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('no source file hands a shell a command: execa with argument arrays only, no child_process exec', () => {
    const offenders: string[] = [];
    const visit = (folder: string): void => {
      for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) visit(full);
        else if (/\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name)) {
          const text = fs.readFileSync(full, 'utf8');
          const rel = path.relative(repoRoot, full);
          if (/shell\s*:\s*(true|['"`])/.test(text)) offenders.push(`${rel}: shell option`);
          // A template literal as the command (`execa(\`git ${x}\`)`), or execa's string interfaces ($`…`, execaCommand).
          if (/\bexeca(Sync|Node)?\s*\(\s*`/.test(text) || /\bexeca(Sync)?\s*`/.test(text)) offenders.push(`${rel}: command string`);
          if (/import\s*\{[^}]*(\$|execaCommand)[^}]*\}\s*from\s*['"]execa['"]/.test(text)) offenders.push(`${rel}: execa string interface`);
          // exec/execSync called by name (not a RegExp's .exec), or child_process imported whole (cp.exec …).
          if (/from ['"](node:)?child_process['"]/.test(text) && (/(?<![.\w])exec(Sync)?\s*\(/.test(text) || /import\s+\*\s+as\s+\w+\s+from\s*['"](node:)?child_process['"]|import\s+\w+\s+from\s*['"](node:)?child_process['"]/.test(text))) {
            offenders.push(`${rel}: child_process exec`);
          }
        }
      }
    };
    visit(path.join(repoRoot, 'src'));
    // The one command decompose hands a shell is the user's own `decompose verify --test-command "…"`: a command
    // line they typed (like an npm script), run in their project; nothing read from the analysed code or a plan.
    const allowed = ['src/app/run-verify.ts: shell option', 'src/verify/processes.ts: shell option'];
    expect(offenders.filter((o) => !allowed.includes(o))).toEqual([]);
    const verify = fs.readFileSync(path.join(repoRoot, 'src/app/run-verify.ts'), 'utf8');
    expect(verify.match(/shell: true/g), 'only the test command runs through a shell').toHaveLength(1);
    expect(verify).toMatch(/async function runTestCommand[^]*shell: true/);
  });
});
