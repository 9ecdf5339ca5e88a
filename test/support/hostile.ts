import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { CliResult } from '../../src/test-support/run-cli.js';

/**
 * Shared pieces of the bad-input suite: a snapshot of a folder (every path with a hash of what it holds), the
 * assertion that a failure is one clean line, and the small projects the cases are built from.
 */

/** Every entry below `dir` (symbolic links not followed) with a hash of its content or its link target. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (folder: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      const rel = path.relative(dir, full).split(path.sep).join('/');
      if (entry.isSymbolicLink()) out[rel] = `link -> ${fs.readlinkSync(full)}`;
      else if (entry.isDirectory()) {
        out[`${rel}/`] = 'dir';
        visit(full);
      } else if (entry.isFile()) out[rel] = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
      else out[rel] = 'special';
    }
  };
  visit(dir);
  return out;
}

/** Runs `body` and asserts that nothing below each of `dirs` was created, changed or removed. */
export async function expectUntouched<T>(dirs: string[], body: () => Promise<T>): Promise<T> {
  const before = dirs.map(snapshot);
  const result = await body();
  dirs.forEach((dir, i) => expect(snapshot(dir), `files under ${dir}`).toEqual(before[i]));
  return result;
}

export interface CleanFailure {
  exit?: number;
  /** DEC-0xx */
  code: string;
  /** Text the first line must contain: the file, line:column, the ref … */
  mentions?: Array<string | RegExp>;
}

/**
 * The contract for bad input: the documented exit code, a first stderr line `error DEC-0xx …` naming what is wrong,
 * no stack trace, and nothing on stdout.
 */
export function expectCleanFailure(result: CliResult, expected: CleanFailure): string {
  const context = `exit ${result.exitCode}\nstderr:\n${result.stderr}\nstdout:\n${result.stdout.slice(0, 2000)}`;
  expect(result.exitCode, context).toBe(expected.exit ?? 2);
  const first = result.stderr.split('\n')[0] ?? '';
  expect(first, context).toMatch(new RegExp(`^error ${expected.code} \\S`));
  for (const mention of expected.mentions ?? []) {
    if (typeof mention === 'string') expect(first, context).toContain(mention);
    else expect(first, context).toMatch(mention);
  }
  expectNoStack(result);
  expect(result.stdout, context).toBe('');
  return first;
}

export function expectNoStack(result: CliResult): void {
  expect(result.stderr, result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr, result.stderr).not.toContain('internal error');
}

export function write(dir: string, files: Record<string, string | Buffer>): string {
  for (const [file, content] of Object.entries(files)) {
    const full = path.join(dir, file);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
  }
  return dir;
}

/** A 1-based line number of the first line of `text` containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const index = text.indexOf(needle);
  if (index < 0) throw new Error(`${JSON.stringify(needle)} not in the text`);
  return text.slice(0, index).split('\n').length;
}

/**
 * Route paths and names that could break a generated file if they were not escaped: template braces, quotes,
 * YAML and Markdown punctuation, line breaks, HTML that would close a script or a comment.
 */
export const HOSTILE_ROUTES: Record<string, { mount: string; routes: Array<[string, string]>; table: string }> = {
  'src/Weird Folder #1/routes.js': { mount: '/weird', routes: [['get', '/a{{b}}'], ['get', `/q'"`], ['post', '/c:d#e']], table: 'ord|ers</script>' },
  'src/ünï cödé/routes.js': { mount: '/ünï', routes: [['get', '/ünï/☃'], ['get', '/line\nbreak'], ['put', '/x|y']], table: 'multi\nline' },
  'src/aux/routes.js': { mount: '/aux', routes: [['get', '/</script><script>alert(1)</script>'], ['get', '/-->'], ['delete', '/`tick`']], table: '<!-- c -->' },
  'src/con/routes.js': { mount: '/con', routes: [['get', '/{{#each x}}'], ['get', '/]]>'], ['get', '/\u2028sep']], table: '{{x}}: "y" #z' },
  'src/a|b<c>/routes.js': { mount: '/ab', routes: [['get', '/%7B%7B'], ['get', '/*'], ['get', '/${x}']], table: '```' },
};

/** An Express app whose routes, folder names and table names are all hostile (see HOSTILE_ROUTES). */
export function hostileProject(dir: string): string {
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'hostile-names', dependencies: { express: '^4.21.2' } }),
    'src/db.js': 'const tables = new Map();\nexports.table = (name) => {\n  if (!tables.has(name)) tables.set(name, []);\n  return tables.get(name);\n};\n',
    'src/server.js': "const app = require('./app');\napp.listen(process.env.PORT || 3000);\n",
  };
  let app = "const express = require('express');\nconst app = express();\n";
  for (const [file, { mount, routes, table }] of Object.entries(HOSTILE_ROUTES)) {
    const folder = path.posix.dirname(file);
    let text = "const express = require('express');\nconst router = express.Router();\nconst store = require('./store');\n";
    for (const [method, route] of routes) text += `router.${method}(${JSON.stringify(route)}, (req, res) => res.json(store.list()));\n`;
    text += "router.post('/items', (req, res) => res.json(store.add(req.body)));\nmodule.exports = router;\n";
    files[file] = text;
    files[`${folder}/store.js`] = `const db = require('../db');\nconst rows = db.table(${JSON.stringify(table)});\nexports.list = () => rows.find();\nexports.add = (row) => rows.insert(row);\n`;
    app += `app.use(${JSON.stringify(mount)}, require(${JSON.stringify(`./${path.posix.relative('src', file)}`)}));\n`;
  }
  files['src/app.js'] = `${app}module.exports = app;\n`;
  return write(dir, files);
}
