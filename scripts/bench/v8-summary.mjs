#!/usr/bin/env node
// Runs a Node script with V8's collector and optimising-compiler traces on, and sums them over every isolate of the
// process (the main thread and worker threads): scavenges (pauses, bytes allocated, survived and promoted),
// mark-compacts, and optimised compiles (how many, their compile time, and the functions that took longest).
// The numbers of BENCHMARKS.md's session 11 ("the collector", "the compiler, per isolate") come from this.
//
//   node scripts/bench/v8-summary.mjs bin/decompose.js analyze TREE --out /tmp/a.json [--top 15]
//   node scripts/bench/v8-summary.mjs scripts/bench/parse-floor.mjs TREE
//
// Compile times are what V8 reports: wall time on its helper threads, which grows when the cores are busy.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args.splice(topIndex, 2)[1]) : 15;
if (args.length === 0) {
  process.stderr.write('usage: node scripts/bench/v8-summary.mjs SCRIPT [ARGS…] [--top N]\n');
  process.exit(2);
}

const started = process.hrtime.bigint();
// The traces go to stdout, mixed with the script's own output; both threads write there, so lines can interleave
// and the compile records are read by pattern from the whole text rather than line by line.
const run = spawnSync(process.execPath, ['--trace-gc-nvp', '--trace-opt', ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
if (run.status !== 0) {
  process.stderr.write(run.stderr);
  process.stderr.write(`v8-summary: the script exited with ${run.status ?? run.signal}\n`);
  process.exit(1);
}
const text = run.stdout;

const collections = { scavenge: [], markCompact: [] };
for (const line of text.split('\n')) {
  const kind = /\bgc=(\w+)/.exec(line)?.[1];
  if (kind !== 's' && kind !== 'mc') continue;
  const field = (name) => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);
  (kind === 's' ? collections.scavenge : collections.markCompact).push({
    pause: field('pause'),
    allocated: field('allocated'),
    survived: field('new_space_survived'),
    promoted: field('promoted'),
  });
}
const sum = (list, key) => list.reduce((total, item) => total + item[key], 0);
const mb = (bytes) => (bytes / 1e6).toFixed(0);

const compiles = new Map();
let compileCount = 0;
let compileMs = 0;
for (const match of text.matchAll(/completed compiling \S+ <JSFunction (\S*) \(sfi = \S+\)> \(target (\w+)\) - took ([\d.]+), ([\d.]+), ([\d.]+) ms/g)) {
  const ms = Number(match[3]) + Number(match[4]) + Number(match[5]);
  const name = match[1] || '(anonymous)';
  const entry = compiles.get(name) ?? { count: 0, ms: 0 };
  entry.count += 1;
  entry.ms += ms;
  compiles.set(name, entry);
  compileCount += 1;
  compileMs += ms;
}

const { scavenge, markCompact } = collections;
console.log(`wall ${(wallMs / 1000).toFixed(2)} s (with tracing on)`);
console.log(
  `scavenges ${scavenge.length}: pauses ${sum(scavenge, 'pause').toFixed(0)} ms, allocated ${mb(sum(scavenge, 'allocated'))} MB, ` +
    `survived ${mb(sum(scavenge, 'survived'))} MB, promoted ${mb(sum(scavenge, 'promoted'))} MB`,
);
console.log(`mark-compacts ${markCompact.length}: pauses ${sum(markCompact, 'pause').toFixed(0)} ms`);
console.log(`optimised compiles ${compileCount}: ${compileMs.toFixed(0)} ms`);
for (const [name, entry] of [...compiles].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
  console.log(`  ${entry.ms.toFixed(1).padStart(7)} ms ${String(entry.count).padStart(3)}×  ${name}`);
}
