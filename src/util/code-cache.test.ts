import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempFolder } from '../test-support/temp-project.js';

const tempDir = () => tempFolder('decompose-code-cache-test-');

// The cache is written when a process exits, so each load is a process of its own (the built module, as the CLI
// runs it).
const LOAD = `
const [, modulePath, file, folder] = process.argv;
const { requireWithCodeCache } = await import(modulePath);
const { exports, state } = requireWithCodeCache(file, folder === 'off' ? null : folder);
console.log(JSON.stringify({ state, answer: exports.answer() }));
`;
async function load(file: string, folder: string): Promise<{ state: string; answer: number }> {
  const result = await execa(process.execPath, ['--input-type=module', '-e', LOAD, path.join(repoRoot, 'dist/util/code-cache.js'), file, folder]);
  return JSON.parse(result.stdout) as { state: string; answer: number };
}
const cacheFiles = (folder: string) => fs.readdirSync(folder).filter((f) => f.endsWith('.v8cache'));

describe('requireWithCodeCache', () => {
  it('keeps the compiled code between runs, keyed by content: an edit of the same length never runs the old code', async () => {
    const dir = tempDir();
    const folder = path.join(dir, 'cache');
    const file = path.join(dir, 'module.js');
    fs.writeFileSync(file, 'exports.answer = function () { return 41; };\n');
    expect(await load(file, folder)).toEqual({ state: 'missing', answer: 41 });
    expect(cacheFiles(folder)).toHaveLength(1);
    expect(await load(file, folder)).toEqual({ state: 'used', answer: 41 });

    // V8 accepts a cache for any source of the same length; the content hash in the name is what tells them apart.
    fs.writeFileSync(file, 'exports.answer = function () { return 42; };\n');
    expect(await load(file, folder)).toEqual({ state: 'missing', answer: 42 });
    expect(await load(file, folder)).toEqual({ state: 'used', answer: 42 });
    expect(cacheFiles(folder)).toHaveLength(2);
    expect(fs.readdirSync(folder).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a damaged cache, loads the file itself and replaces the cache', async () => {
    const dir = tempDir();
    const folder = path.join(dir, 'cache');
    const file = path.join(dir, 'module.js');
    fs.writeFileSync(file, 'exports.answer = () => 7;\n');
    await load(file, folder);
    const [cacheFile] = cacheFiles(folder);
    const damaged = fs.readFileSync(path.join(folder, cacheFile!));
    damaged.fill(0x5a, 0, 64);
    fs.writeFileSync(path.join(folder, cacheFile!), damaged);
    expect(await load(file, folder)).toEqual({ state: 'rejected', answer: 7 });
    expect(await load(file, folder)).toEqual({ state: 'used', answer: 7 });
  });

  it('takes no code from a folder others can write to, and none at all when off', async () => {
    const dir = tempDir();
    const folder = path.join(dir, 'shared');
    fs.mkdirSync(folder);
    fs.chmodSync(folder, 0o777);
    const file = path.join(dir, 'module.js');
    fs.writeFileSync(file, 'exports.answer = () => 1;\n');
    expect(await load(file, folder)).toEqual({ state: 'unsafe-folder', answer: 1 });
    expect(cacheFiles(folder)).toEqual([]);
    expect(await load(file, 'off')).toEqual({ state: 'off', answer: 1 });
  });

  it('gives the analysis the same bytes with the cache off, missing and used', async () => {
    const dir = tempDir();
    const outputs: string[] = [];
    for (const setting of ['off', path.join(dir, 'cache'), path.join(dir, 'cache')]) {
      const out = path.join(dir, `analysis-${outputs.length}.json`);
      await execa(process.execPath, [path.join(repoRoot, 'bin/decompose.js'), 'analyze', path.join(repoRoot, 'fixtures/shop-ts'), '--out', out], {
        env: { DECOMPOSE_CACHE: setting },
      });
      outputs.push(fs.readFileSync(out, 'utf8'));
    }
    expect(cacheFiles(path.join(dir, 'cache'))).toHaveLength(1);
    expect(outputs[1]).toBe(outputs[0]);
    expect(outputs[2]).toBe(outputs[0]);
  });
});
