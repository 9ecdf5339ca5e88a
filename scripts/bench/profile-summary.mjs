#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time, the most total
// (inclusive) time, and self time per file or package. Also reads a .heapprofile (from `node --heap-prof`): the
// allocation sites that still held the most memory when the profile was written, by function and by file.
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof bin/decompose.js analyze TREE --out /tmp/a.json
//   node scripts/bench/profile-summary.mjs /tmp/prof/CPU.*.cpuprofile [--top 25]
//   node --heap-prof --heap-prof-dir=/tmp/prof bin/decompose.js analyze TREE --out /tmp/a.json
//   node scripts/bench/profile-summary.mjs /tmp/prof/Heap.*.heapprofile
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args.splice(topIndex, 2)[1]) : 25;
if (args.length !== 1) {
  process.stderr.write('usage: node scripts/bench/profile-summary.mjs FILE.cpuprofile|FILE.heapprofile [--top N]\n');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(args[0], 'utf8'));

const nodes = profile.nodes ?? [];
const byId = new Map(nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const node of nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const shortUrl = (url) => {
  if (!url) return '';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) return file.slice(nm + '/node_modules/'.length);
  const dist = file.lastIndexOf('/dist/');
  if (dist >= 0) return file.slice(dist + 1);
  return path.basename(file);
};
const keyOf = (node) => {
  const f = node.callFrame;
  return `${f.functionName || '(anonymous)'}  ${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
};
const areaOf = (node) => {
  const url = node.callFrame.url;
  if (!url) return node.callFrame.functionName || '(native)';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = file.slice(nm + '/node_modules/'.length).split('/');
    return `node_modules/${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  return shortUrl(url);
};

if (profile.head) {
  summariseHeap(profile);
  process.exit(0);
}

// Time of sample i = the delta to the next sample (the last sample gets the mean interval).
const samples = profile.samples ?? [];
const deltas = profile.timeDeltas ?? [];
const totalUs = profile.endTime - profile.startTime;
const mean = samples.length > 0 ? totalUs / samples.length : 0;
const self = new Map();
const inclusive = new Map();
const areas = new Map();
for (let i = 0; i < samples.length; i += 1) {
  const us = i + 1 < deltas.length ? deltas[i + 1] : mean;
  const node = byId.get(samples[i]);
  const key = keyOf(node);
  self.set(key, (self.get(key) ?? 0) + us);
  const area = areaOf(node);
  areas.set(area, (areas.get(area) ?? 0) + us);
  const seen = new Set();
  for (let id = node.id; id !== undefined; id = parent.get(id)) {
    const k = keyOf(byId.get(id));
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + us);
  }
}

const fmt = (us) => `${(us / 1e6).toFixed(2).padStart(7)} s ${((100 * us) / totalUs).toFixed(1).padStart(5)}%`;
const print = (title, map, n) => {
  process.stdout.write(`\n${title}\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) process.stdout.write(`  ${fmt(us)}  ${key}\n`);
};
process.stdout.write(`${args[0]}: ${(totalUs / 1e6).toFixed(2)} s profiled, ${samples.length} samples\n`);
print(`Top ${top} functions by self time`, self, top);
// Total time is most telling for the project's own functions (dist/), not for the CLI and loader frames around them.
print(`Top ${top} project functions (dist/) by total time (self + callees)`, new Map([...inclusive].filter(([k]) => /\sdist\//.test(k))), top);
print('Self time by file or package', areas, 15);

/** Sampling heap profile: a tree of call frames, each with the bytes allocated there and still alive at the end. */
function summariseHeap(heap) {
  const self = new Map();
  const inclusive = new Map();
  const areas = new Map();
  let total = 0;
  const walk = (node, stack) => {
    const key = keyOf(node);
    const size = node.selfSize ?? 0;
    total += size;
    self.set(key, (self.get(key) ?? 0) + size);
    const area = areaOf(node);
    areas.set(area, (areas.get(area) ?? 0) + size);
    const here = new Set([...stack, key]);
    for (const k of here) inclusive.set(k, (inclusive.get(k) ?? 0) + size);
    for (const child of node.children ?? []) walk(child, here);
  };
  walk(heap.head, new Set());
  const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1).padStart(8)} MB ${((100 * bytes) / total).toFixed(1).padStart(5)}%`;
  const print = (title, map, n) => {
    process.stdout.write(`\n${title}\n`);
    for (const [key, bytes] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) process.stdout.write(`  ${mb(bytes)}  ${key}\n`);
  };
  process.stdout.write(`${args[0]}: ${(total / 2 ** 20).toFixed(1)} MB sampled as live at the end of the profile\n`);
  print(`Top ${top} allocation sites by live bytes`, self, top);
  print(`Top ${top} project functions (dist/) by live bytes allocated below them`, new Map([...inclusive].filter(([k]) => /\sdist\//.test(k))), top);
  print('Live bytes by file or package that allocated them', areas, 15);
}
