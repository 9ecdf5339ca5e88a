import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { readPlan } from '../plan/parse-plan.js';
import { copyFixture, repoRoot, tempFolder } from '../test-support/temp-project.js';
import { READER_MODULES, keepReading, keptReading, planReadingCache, survivesJson } from './plan-reading-cache.js';

const tempDir = () => tempFolder('decompose-plan-cache-test-');
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

  it('keeps the 32 plans used last', () => {
    const cache = planReadingCache(path.join(tempDir(), 'cache'))!;
    const texts = Array.from({ length: 34 }, (_, i) => `${PLAN}# ${i}\n`);
    // Keeps a plan and dates its entry `seconds` after the epoch: distinct ages whatever the timestamp resolution.
    const keepAt = (text: string, seconds: number) => {
      const before = new Set(entries(cache.folder));
      keepReading(cache, text, readPlan(text));
      const [added] = entries(cache.folder).filter((name) => !before.has(name));
      fs.utimesSync(path.join(cache.folder, added!), seconds, seconds);
    };
    texts.slice(0, 32).forEach((text, i) => keepAt(text, i + 1));
    // The oldest plan is used again, which dates it now: keeping two more lets the next two oldest go instead.
    expect(keptReading(cache, texts[0]!)).not.toBeNull();
    keepAt(texts[32]!, 100);
    keepAt(texts[33]!, 101);
    expect(entries(cache.folder)).toHaveLength(32);
    expect(keptReading(cache, texts[0]!)).not.toBeNull();
    expect(keptReading(cache, texts[1]!)).toBeNull();
    expect(keptReading(cache, texts[2]!)).toBeNull();
    expect(keptReading(cache, texts[3]!)).not.toBeNull();
    expect(keptReading(cache, texts[33]!)).not.toBeNull();
  });

  it('keeps at most 64 MB of plans, and always the one just kept', () => {
    const cache = planReadingCache(path.join(tempDir(), 'cache'))!;
    // Three large entries (sparse files: their size without the disk), used 3, 2 and 1 seconds after the epoch.
    const large = ['plan-reading-large-a.json', 'plan-reading-large-b.json', 'plan-reading-large-c.json'];
    large.forEach((name, i) => {
      const file = path.join(cache.folder, name);
      fs.writeFileSync(file, '');
      fs.truncateSync(file, 25 * 1024 * 1024);
      fs.utimesSync(file, 3 - i, 3 - i);
    });
    keepReading(cache, PLAN, readPlan(PLAN));
    // Newest first: the plan just kept, then a (25 MB), b (50 MB); c would pass 64 MB.
    expect(entries(cache.folder)).toHaveLength(3);
    expect(entries(cache.folder)).not.toContain('plan-reading-large-c.json');
    expect(keptReading(cache, PLAN)).not.toBeNull();
  });

  it('is not used in a folder others can write to, nor when off', () => {
    const folder = path.join(tempDir(), 'shared');
    fs.mkdirSync(folder);
    fs.chmodSync(folder, 0o777);
    expect(planReadingCache(folder)).toBeNull();
    expect(planReadingCache(null)).toBeNull();
    // A folder that cannot be made (it used to hang: see makeFolders).
    if (fs.existsSync('/proc/self')) expect(planReadingCache('/proc/decompose-cache-test')).toBeNull();
  });
});

describe('check with the plan reading cache', () => {
  const check = (project: string, cache: string) =>
    execa(process.execPath, [path.join(repoRoot, 'bin/decompose.js'), 'check', project, '--format', 'json'], { env: { DECOMPOSE_CACHE: cache }, reject: false });

  it('reports the same on a kept plan, reads an edited plan afresh, and keeps no plan that is not valid', async () => {
    const project = copyFixture('shop-ts');
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
