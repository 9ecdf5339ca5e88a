import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The compiled worker script at `relative` to the module `base` (its import.meta.url), or null when there is none:
 * under the TypeScript sources (the test runner) only .ts files exist, and the work is done on the calling thread.
 */
export function compiledWorkerScript(relative: string, base: string): URL | null {
  const url = new URL(relative, base);
  return fs.existsSync(fileURLToPath(url)) ? url : null;
}
