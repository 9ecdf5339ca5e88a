import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeFolders } from '../sink/disk-sink.js';

/**
 * The folder decompose keeps what it can do again but need not (the compiler's compiled code, plans already read), or
 * null when caching is off (`DECOMPOSE_CACHE=off`). Nothing in it changes what decompose writes, only how fast.
 */
export function cacheFolder(env: NodeJS.ProcessEnv = process.env): string | null {
  const setting = env.DECOMPOSE_CACHE?.trim();
  if (setting === 'off' || setting === '0' || setting === 'false') return null;
  if (setting) return path.resolve(setting);
  const user = typeof process.getuid === 'function' ? `-${process.getuid()}` : '';
  return path.join(os.tmpdir(), `decompose-cache${user}`);
}

/**
 * Whether `folder` is safe to take cached work from: ours alone. What is read from the cache is trusted (compiled code
 * runs as this process; a plan's reading is taken as read), so a folder someone else could write to (another user's,
 * a world-writable one, a link to elsewhere) is not used. Creates the folder when it is missing.
 */
export function isSafeCacheFolder(folder: string): boolean {
  try {
    makeFolders(folder, 0o700);
    const stat = fs.lstatSync(folder);
    if (!stat.isDirectory()) return false;
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) return false;
    return process.platform === 'win32' || (stat.mode & 0o022) === 0;
  } catch {
    return false;
  }
}
