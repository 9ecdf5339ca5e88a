#!/usr/bin/env node
// The parse floor: the least work any TypeScript-AST-based analyser of DIR must do. Lists the source files with
// decompose's own project discovery, reads each one and calls ts.createSourceFile on it, with the compiler ts-morph bundles, loaded as decompose loads it (the compiler
// decompose parses with) and the same arguments decompose passes: latest target, script kind from the extension,
// and no parent pointers (`setParentNodes` false, the compiler's default; decompose sets them in its own walk).
// Until decompose stopped asking the compiler for them, this floor asked too and was ~21% slower.
// Prints {"files", "lines", "bytes", "parseMs"} as JSON.
//
//   node scripts/bench/parse-floor.mjs DIR
import fs from 'node:fs';
import path from 'node:path';
// The compiler exactly as decompose loads it (ts-morph's bundled TypeScript, without ts-morph itself).
import { typescript as ts } from '../../dist/analyze/typescript.js';
// The file list and script kinds come from decompose itself (the built dist/), so the floor parses exactly the
// files decompose analyses.
import { discoverProject } from '../../dist/analyze/project.js';
import { scriptKindFor } from '../../dist/analyze/parsed-module.js';

const root = path.resolve(process.argv[2] ?? '.');
const started = process.hrtime.bigint();
let lines = 0;
let bytes = 0;
let statements = 0;
const files = discoverProject(root).files;
for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  bytes += Buffer.byteLength(text);
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines += 1;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, scriptKindFor(file));
  statements += source.statements.length;
}
const parseMs = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(`${JSON.stringify({ root, files: files.length, lines, bytes, statements, parseMs: Math.round(parseMs) })}\n`);
