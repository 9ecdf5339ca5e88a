import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { readPlan } from '../plan/parse-plan.js';
import { copyFixture, repoRoot } from '../test-support/temp-project.js';
import { READER_MODULES, keepReading, keptReading, planReadingCache, survivesJson } from './plan-reading-cache.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-plan-cache-test-'));
  dirs.push(dir);
  return dir;
}
const entries = (folder: string) => fs.readdirSync(folder).filter((f) => f.startsWith('plan-reading-')).sort();

const PLAN = `version: 1
project: shop
services:
  - name: catalog
    modules: [src/catalog/**]
`;

describe('the plan reading cache', () => {
  it('names the modules parse-plan.ts runs: its local imports, followed', () => {
    const here = path.join(repoRoot, 'src', 'app');
    const seen = new Set<string>();
    const follow = (module: string) => {
      if (seen.has(module)) return;
      seen.add(module);
      const source = fs.readFileSync(path.join(here, `${module}.ts`), 'utf8');
      for (const match of source.matchAll(/^import (?!type )[^;]*? from '(\.[^']+)\.js';/gm)) {
        const next = path.relative(here, path.resolve(path.dirname(path.join(here, module)), match[1]!));
        // The shared helpers only report problems (validatePlan); they decide nothing about what a plan reads to.
        if (!next.includes('util/')) follow(next.startsWith('.') ? next : `./${next}`);
      }
    };
    follow('../plan/parse-plan');
    expect([...seen].sort()).toEqual([...READER_MODULES].sort());
  });

  it('gives back what was kept for the same text only, and nothing under another reader', () => {
    const cache = planReadingCache(path.join(tempDir(), 'cache'))!;
    expect(cache).not.toBeNull();
    const reading = readPlan(PLAN);
    expect(keptReading(cache, PLAN)).toBeNull();
    keepReading(cache, PLAN, reading);
    expect(keptReading(cache, PLAN)).toEqual({ reading });
    expect(keptReading(cache, `${PLAN} `)).toBeNull();
    expect(keptReading({ ...cache, readerKey: `${cache.readerKey}x` }, PLAN)).toBeNull();
  });

  it('keeps only readings JSON gives back unchanged', () => {
    expect(survivesJson({ a: [1, 'x', true, null, { b: 2.5 }] })).toBe(true);
    for (const value of [Infinity, Number.NaN, -0, undefined, new Date(0), new Map(), [1, undefined]]) expect(survivesJson({ a: value })).toBe(false);

    const cache = planReadingCache(path.join(tempDir(), 'cache'))!;
    const text = `${PLAN}settings:\n  x: .inf\n`;
    keepReading(cache, text, readPlan(text));
    expect(entries(cache.folder)).toEqual([]);
  });

  it('reads a damaged entry as none', () => {
    const cache = planReadingCache(path.join(tempDir(), 'cache'))!;
    keepReading(cache, PLAN, readPlan(PLAN));
    const [entry] = entries(cache.folder);
    fs.writeFileSync(path.join(cache.folder, entry!), '{"reading": ');
    expect(keptReading(cache, PLAN)).toBeNull();
    fs.writeFileSync(path.join(cache.folder, entry!), '{"reading": 3}');
    expect(keptReading(cache, PLAN)).toBeNull();
  });

  it('keeps the 32 newest plans', () => {
    const cache = planReadingCache(path.join(tempDir(), 'cache'))!;
    const texts = Array.from({ length: 34 }, (_, i) => `${PLAN}# ${i}\n`);
    texts.forEach((text, i) => {
      keepReading(cache, text, readPlan(text));
      // Distinct ages, oldest first, whatever the file system's timestamp resolution.
      const [newest] = entries(cache.folder).filter((name) => fs.statSync(path.join(cache.folder, name)).mtimeMs > 1e12);
      if (newest) fs.utimesSync(path.join(cache.folder, newest), i + 1, i + 1);
    });
    expect(entries(cache.folder)).toHaveLength(32);
    expect(keptReading(cache, texts[0]!)).toBeNull();
    expect(keptReading(cache, texts[1]!)).toBeNull();
    expect(keptReading(cache, texts[2]!)).not.toBeNull();
    expect(keptReading(cache, texts[33]!)).not.toBeNull();
  });

  it('is not used in a folder others can write to, nor when off', () => {
    const folder = path.join(tempDir(), 'shared');
    fs.mkdirSync(folder);
    fs.chmodSync(folder, 0o777);
    expect(planReadingCache(folder)).toBeNull();
    expect(planReadingCache(null)).toBeNull();
  });
});

describe('check with the plan reading cache', () => {
  const check = (project: string, cache: string) =>
    execa(process.execPath, [path.join(repoRoot, 'bin/decompose.js'), 'check', project, '--format', 'json'], { env: { DECOMPOSE_CACHE: cache }, reject: false });

  it('reports the same on a kept plan, reads an edited plan afresh, and keeps no plan that is not valid', async () => {
    const project = copyFixture('shop-ts');
    dirs.push(project);
    const cache = path.join(tempDir(), 'cache');
    await execa(process.execPath, [path.join(repoRoot, 'bin/decompose.js'), 'plan', project, '--yes'], { env: { DECOMPOSE_CACHE: cache } });
    const planFile = path.join(project, 'decompose.plan.yaml');

    const first = await check(project, cache);
    expect(first.exitCode).toBe(0);
    expect(entries(cache)).toHaveLength(1);
    const second = await check(project, cache);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toBe(first.stdout);

    // The entry is what the second run read: one it cannot use is replaced, with the same report.
    const [entry] = entries(cache);
    fs.writeFileSync(path.join(cache, entry!), 'not json');
    expect((await check(project, cache)).stdout).toBe(first.stdout);
    expect(JSON.parse(fs.readFileSync(path.join(cache, entry!), 'utf8'))).toHaveProperty('reading');

    // An edit, even one the cache has seen the rest of, is read afresh and reported; an invalid plan is not kept.
    const plan = fs.readFileSync(planFile, 'utf8');
    fs.writeFileSync(planFile, plan.replace(/^version: 1$/m, 'version: 1\nreplicaz: 2'));
    const edited = await check(project, cache);
    expect(edited.exitCode).toBe(2);
    expect(edited.stderr).toContain('replicaz');
    expect(entries(cache)).toEqual([entry]);
  });
});
