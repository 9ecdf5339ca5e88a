import crypto from 'node:crypto';
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { isMainThread } from 'node:worker_threads';
import { writeFileAtomic } from '../sink/disk-sink.js';
import { cacheFolder, isSafeCacheFolder } from './cache-folder.js';

/** What became of the code cache when a file was loaded (read by the tests and the parse floor). */
export type CodeCacheState = 'used' | 'missing' | 'rejected' | 'off' | 'already-loaded' | 'unsafe-folder';

/**
 * Loads a CommonJS file as `require` would, but keeps V8's compiled code for it between runs. The compiler (the 9 MB
 * typescript.js) takes ~120 ms to compile on every start, before the first file is parsed, in each worker thread
 * too; from the cache it loads in ~35 ms, and the functions the last run compiled lazily come precompiled. Node 22
 * has this built in (module.enableCompileCache); Node 20 does not.
 *
 * The cache is written at the main thread's exit, when there was none or V8 refused it (another Node or other V8
 * flags), so it holds what a whole run compiled. Its name carries a hash of the file's content: V8 itself checks only
 * the source's length. Written by the sink (a temporary name, then renamed), so a run never reads a half-written cache.
 */
export function requireWithCodeCache(file: string, folder: string | null = cacheFolder()): { exports: unknown; state: CodeCacheState } {
  const loaded = (Module as unknown as { _cache: Record<string, Module | undefined> })._cache[file];
  if (loaded) return { exports: loaded.exports, state: 'already-loaded' };
  const requireHere = createRequire(file);
  if (folder === null) return { exports: requireHere(file), state: 'off' };
  if (!isSafeCacheFolder(folder)) return { exports: requireHere(file), state: 'unsafe-folder' };
  const bytes = fs.readFileSync(file);

  const hash = crypto.createHash('sha1').update(bytes).digest('hex').slice(0, 20);
  const cacheFile = path.join(folder, `${path.basename(file)}-${hash}-${process.version}-${process.arch}.v8cache`);
  let cached: Buffer | undefined;
  try {
    cached = fs.readFileSync(cacheFile);
  } catch {
    cached = undefined;
  }
  const script = new vm.Script(Module.wrap(bytes.toString('utf8')), { filename: file, cachedData: cached });
  const module = new Module(file);
  module.filename = file;
  module.paths = (Module as unknown as { _nodeModulePaths: (dir: string) => string[] })._nodeModulePaths(path.dirname(file));
  // In require's cache before it runs, as require does: ts-morph, loaded later in the same process, gets this one.
  (Module as unknown as { _cache: Record<string, Module> })._cache[file] = module;
  try {
    const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
    wrapper.call(module.exports, module.exports, requireHere, module, file, path.dirname(file));
  } catch (error) {
    delete (Module as unknown as { _cache: Record<string, Module> })._cache[file];
    throw error;
  }
  module.loaded = true;
  const state = cached === undefined ? 'missing' : script.cachedDataRejected === true ? 'rejected' : 'used';
  if (state !== 'used' && isMainThread) process.once('exit', () => writeCache(cacheFile, script));
  return { exports: module.exports, state };
}

function writeCache(cacheFile: string, script: vm.Script): void {
  try {
    writeFileAtomic(cacheFile, script.createCachedData());
  } catch {
    // A cache is only ever a speed-up: a full disk or a read-only folder must not fail the run.
  }
}
