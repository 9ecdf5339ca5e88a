#!/usr/bin/env node
// The parse floor: the least work any TypeScript-AST-based analyser of DIR must do. Lists the source files with
// decompose's own project discovery, reads each one and calls ts.createSourceFile on it, with the compiler decompose
// parses with (the one ts-morph bundles, without ts-morph itself) and the same arguments decompose passes: latest
// target, script kind from the extension, and no parent pointers (`setParentNodes` false, the compiler's default;
// decompose sets them in its own walk). Until decompose stopped asking the compiler for them, this floor asked too
// and was ~21% slower.
// The compiler is loaded with a plain require, as a plain script would: decompose keeps V8's compiled code for it
// between runs (src/util/code-cache.ts), which saves it ~0.1 s per run; this floor does not.
// Prints {"files", "lines", "bytes", "parseMs"} as JSON.
//
//   node scripts/bench/parse-floor.mjs DIR
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// The file list and script kinds come from decompose itself (the built dist/), so the floor parses exactly the
// files decompose analyses. Its modules load the compiler too: without the code cache, for this floor.
process.env.DECOMPOSE_CACHE = 'off';
const { discoverProject } = await import('../../dist/analyze/project.js');
const { scriptKindFor } = await import('../../dist/analyze/parsed-module.js');
const { compilerLoad } = await import('../../dist/analyze/typescript.js');
if (compilerLoad.state !== 'off') throw new Error(`the floor must load the compiler without a code cache (${compilerLoad.state})`);
const fromTsMorph = createRequire(createRequire(import.meta.url).resolve('ts-morph'));
const ts = fromTsMorph('@ts-morph/common/dist/typescript.js');

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
