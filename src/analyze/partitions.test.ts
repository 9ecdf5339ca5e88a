import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { serializeAnalysis } from '../app/analysis-file.js';
import { ensureBuilt, runCli } from '../test-support/run-cli.js';
import { EXPRESS_PACKAGE, fixturePath, repoRoot, writeProject } from '../test-support/temp-project.js';
import { analyze } from './analyze.js';
import { PARTITION_MIN_FILES, mergeCallSites, partitionFiles } from './partitions.js';
import type { ProjectLayout } from './project.js';

function layoutOf(files: string[]): ProjectLayout {
  return { root: '/p', name: 'p', dependencies: {}, tsconfig: null, baseUrl: null, pathsBase: '/p', paths: [], packageImports: {}, files: files.map((f) => `/p/${f}`).sort() };
}

describe('partitionFiles', () => {
  it('reads a program below the threshold in one partition, and a larger one in two', () => {
    const small = layoutOf(Array.from({ length: PARTITION_MIN_FILES - 1 }, (_, i) => `src/m${i}.ts`));
    expect(partitionFiles(small)).toEqual([small.files.map((_, i) => i)]);
    const large = layoutOf(Array.from({ length: PARTITION_MIN_FILES }, (_, i) => `src/m${i}.ts`));
    const parts = partitionFiles(large);
    expect(parts).toHaveLength(2);
    expect(parts.flat()).toEqual(large.files.map((_, i) => i));
  });

  it('cuts between folders when a folder boundary is near the even split, else at the even split', () => {
    // 100 files: a/ holds 48, b/ 52. The even cut (50) moves to the folder boundary at 48.
    const files = [...Array.from({ length: 48 }, (_, i) => `a/f${String(i).padStart(2, '0')}.ts`), ...Array.from({ length: 52 }, (_, i) => `b/f${String(i).padStart(2, '0')}.ts`)];
    const parts = partitionFiles(layoutOf(files), 2);
    expect(parts[0]).toHaveLength(48);
    expect(parts[1]).toHaveLength(52);
    // One folder of 100: no boundary nearby, so the even split.
    expect(partitionFiles(layoutOf(Array.from({ length: 100 }, (_, i) => `a/f${String(i).padStart(3, '0')}.ts`)), 2).map((p) => p.length)).toEqual([50, 50]);
  });

  it('splits a file list of hundreds of thousands of files without overflowing the stack', () => {
    const files = Array.from({ length: 300_000 }, (_, i) => `src/d${Math.floor(i / 1000)}/m${i}.ts`);
    expect(partitionFiles(layoutOf(files)).map((p) => p.length)).toEqual([150_000, 150_000]);
  });

  it('gives the partition read on this thread a head start in a large program, not in a small one', () => {
    // The worker starts later (HEAD_START_FILES = 100): the first partition takes 50 more files than an even share,
    // 4,000 files in one folder, no boundary to snap to.
    const large = Array.from({ length: 4000 }, (_, i) => `a/f${String(i).padStart(4, '0')}.ts`);
    expect(partitionFiles(layoutOf(large)).map((p) => p.length)).toEqual([2050, 1950]);
    const small = Array.from({ length: 100 }, (_, i) => `a/f${String(i).padStart(3, '0')}.ts`);
    expect(partitionFiles(layoutOf(small), 2).map((p) => p.length)).toEqual([50, 50]);
  });

  it('never makes more partitions than files, nor an empty one', () => {
    expect(partitionFiles(layoutOf(['a.ts', 'b.ts']), 5).map((p) => p.length)).toEqual([1, 1]);
  });
});

describe('mergeCallSites', () => {
  it('lists the call sites of each target in file order, then call-site order, however many there are', () => {
    const part = (sites: Array<[string, number[]]>) => ({ modules: [], diagnostics: [], callSites: new Map(sites) });
    const many = Array.from({ length: 400_000 }, (_, i) => (i % 2 === 0 ? 7 + Math.floor(i / 2) : i % 3));
    const merged = mergeCallSites([part([['f', [5, 1, 0, 2]]]), part([['f', [3, 0, 5, 0]], ['g', [1, 1]]]), part([['f', many]])]);
    expect(merged.get('g')).toEqual([1, 1]);
    const f = merged.get('f')!;
    expect(f.slice(0, 8)).toEqual([0, 2, 3, 0, 5, 0, 5, 1]);
    expect(f).toHaveLength(8 + many.length);
  });
});

describe('reading in partitions gives the same analysis as reading in one', () => {
  const fixtures = ['shop-ts', 'blog-cjs', ...fs.readdirSync(fixturePath('edge')).filter((n) => n !== 'non-express' && fs.statSync(fixturePath(`edge/${n}`)).isDirectory()).map((n) => `edge/${n}`)];
  for (const name of fixtures) {
    it(name, async () => {
      const dir = fixturePath(name);
      const whole = serializeAnalysis(await analyze({ dir }));
      for (const partitions of [2, 3]) expect(serializeAnalysis(await analyze({ dir, partitions })), `${partitions} partitions`).toBe(whole);
    });
  }

  it('reports a broken file once, from the partition that owns it, and follows values across partitions', async () => {
    const dir = writeProject({
      'package.json': EXPRESS_PACKAGE,
      // Two partitions of three and four files: a/app.js reads the routes z/mount.js registers, in the other partition, and
      // each partition imports the other's broken file.
      'a/app.js': "const express = require('express');\nconst app = express();\nconst { mount } = require('../z/mount');\nrequire('../z/broken');\nmount(app);\nconst { mountAll } = require('../z/mount-all');\nmountAll(app, [{ path: '/items', handler: (req, res) => res.json([]) }]);\nmodule.exports = app;\n",
      'a/broken.js': 'const x = {\n',
      'z/mount.js': "require('../a/broken');\nconst routes = [{ path: '/users', handler: require('./users') }, { path: '/orders', handler: require('./orders') }];\nexports.mount = (app) => routes.forEach((r) => app.get(r.path, r.handler));\n",
      'z/users.js': 'module.exports = function listUsers(req, res) { res.json([]); };\n',
      // Its loop iterates a parameter: the call that passes the array is in the other partition (the call index).
      'z/mount-all.js': 'exports.mountAll = (app, defs) => defs.forEach((d) => app.get(d.path, d.handler));\n',
      'z/orders.js': 'module.exports = function listOrders(req, res) { res.json([]); };\n',
      'z/broken.ts': 'export const = 1;\n',
    });
    const whole = await analyze({ dir });
    expect(whole.routes.map((r) => `${r.method} ${r.path} ${r.handler.name}`)).toEqual(['GET /items handler', 'GET /orders listOrders', 'GET /users listUsers']);
    expect(whole.diagnostics.map((d) => `${d.file} ${d.code}`)).toEqual(['a/broken.js syntax-error', 'z/broken.ts syntax-error']);
    expect(serializeAnalysis(await analyze({ dir, partitions: 2 }))).toBe(serializeAnalysis(whole));
  });
});

describe('a program above the threshold is read in a worker thread too, with the same result', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt('analyze/partition-worker.js');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-partitions-'));
    execFileSync(process.execPath, [path.join(repoRoot, 'scripts/bench/generate.mjs'), '--modules', String(PARTITION_MIN_FILES + 50), '--out', dir], { stdio: 'ignore' });
  }, 60_000);

  it('the CLI (two partitions, one in a worker) writes what one partition on this thread reads', async () => {
    // The built CLI has the compiled worker script beside partitions.js; the machine has a core for it.
    expect(fs.existsSync(path.join(repoRoot, 'dist/analyze/partition-worker.js'))).toBe(true);
    expect(os.availableParallelism()).toBeGreaterThanOrEqual(2);
    const out = path.join(dir, 'analysis.json');
    const result = await runCli(['analyze', dir, '--out', out]);
    expect(result.exitCode, result.stderr).toBe(0);
    const inOne = serializeAnalysis(await analyze({ dir, partitions: 1 }));
    expect(fs.readFileSync(out, 'utf8')).toBe(inOne);
  }, 120_000);
});
