#!/usr/bin/env node
// The parse floor: the least work any TypeScript-AST-based analyser of DIR must do. Lists the source files the
// way decompose does (same extensions; node_modules, build output, tests, dot-folders and nested packages
// skipped), reads each one and calls ts.createSourceFile on it, with the `ts` that ts-morph exports (the compiler
// decompose parses with) and the same arguments decompose passes (latest target, parent pointers set, script
// kind from the extension). Prints {"files", "lines", "bytes", "parseMs"} as JSON.
//
//   node scripts/bench/parse-floor.mjs DIR
import fs from 'node:fs';
import path from 'node:path';
import { ts } from 'ts-morph';

const EXTENSIONS = new Set(['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs']);
const SKIPPED_DIRS = new Set([
  'node_modules', 'dist', 'build', 'out', 'coverage', '.git', '.next', '.nuxt', '.cache', '.turbo',
  'test', 'tests', '__tests__', '__mocks__', 'e2e', 'cypress', 'spec', 'public', 'static', 'vendor',
  'decomposed', 'tmp', 'temp', 'fixtures',
]);
const TEST_FILE = /\.(test|spec|e2e)\.[cm]?[jt]sx?$/;
const TOOL_CONFIG_FILE = /^(\..*rc|.*\.config|gulpfile|gruntfile|jest\.setup|vitest\.setup|karma\.conf)\.[cm]?[jt]s$/i;

function listSources(root) {
  const found = [];
  const visit = (dir, depth) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (SKIPPED_DIRS.has(entry.name) || entry.name.startsWith('.')) continue;
        if (fs.existsSync(path.join(full, 'package.json'))) continue;
        visit(full, depth + 1);
      } else if (entry.isFile()) {
        const name = entry.name;
        if (!EXTENSIONS.has(path.extname(name)) || /\.d\.[cm]?ts$/.test(name) || TEST_FILE.test(name)) continue;
        if (depth === 0 && TOOL_CONFIG_FILE.test(name)) continue;
        found.push(full);
      }
    }
  };
  visit(root, 0);
  return found.sort();
}

function scriptKind(file) {
  switch (path.extname(file)) {
    case '.tsx':
      return ts.ScriptKind.TSX;
    case '.jsx':
      return ts.ScriptKind.JSX;
    case '.js':
    case '.mjs':
    case '.cjs':
      return ts.ScriptKind.JS;
    default:
      return ts.ScriptKind.TS;
  }
}

const root = path.resolve(process.argv[2] ?? '.');
const started = process.hrtime.bigint();
let lines = 0;
let bytes = 0;
let statements = 0;
const files = listSources(root);
for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  bytes += Buffer.byteLength(text);
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines += 1;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKind(file));
  statements += source.statements.length;
}
const parseMs = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(`${JSON.stringify({ root, files: files.length, lines, bytes, statements, parseMs: Math.round(parseMs) })}\n`);
