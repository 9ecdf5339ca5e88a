import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlanReading } from '../plan/plan-reading.js';
import { writeFileAtomic } from '../sink/disk-sink.js';
import { cacheFolder, isSafeCacheFolder } from '../util/cache-folder.js';

// What check read of a plan, kept between runs. A plan is reviewed and changed rarely while check runs on every commit,
// and reading one means loading js-yaml, zod and the plan schema: ~60 ms of CPU, a fifth of check's whole run on a
// small project. Only readings of plans that validated are kept, named by a hash of the plan's bytes and of the
// reader itself, so an edited plan, or another decompose or library version, is read afresh.

/**
 * The modules whose code decides what a plan reads to (parse-plan.ts's own imports, followed; checked by
 * plan-reading-cache.test.ts), relative to this folder, without extension.
 */
export const READER_MODULES = ['../model/plan', '../model/plan-constants', '../plan/parse-plan', '../plan/plan-reading'];
/** The libraries the reader runs. */
export const READER_PACKAGES = ['js-yaml', 'yaml', 'zod'];
/**
 * Plans kept at most, and their bytes at most (a 10,000-module plan's reading is ~10 MB): writing one more removes
 * those used longest ago. Using a kept plan marks it used.
 */
const MAX_KEPT = 32;
const MAX_KEPT_BYTES = 64 * 1024 * 1024;
const PREFIX = 'plan-reading-';

/** Where check keeps plans it has read: a safe cache folder (see cache-folder.ts), or null when there is none. */
export interface PlanReadingCache {
  folder: string;
  /** A hash of the reader's code and its libraries' versions: part of every entry's name. */
  readerKey: string;
}

export function planReadingCache(folder: string | null = cacheFolder()): PlanReadingCache | null {
  if (folder === null || !isSafeCacheFolder(folder)) return null;
  const readerKey = readerKeyHere();
  return readerKey === null ? null : { folder, readerKey };
}

/** The reading kept for this plan text, or null when there is none (or it cannot be read). */
export function keptReading(cache: PlanReadingCache, text: string): { reading: PlanReading } | null {
  const file = entryFile(cache, text);
  let kept: string;
  try {
    kept = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  let reading: PlanReading;
  try {
    reading = (JSON.parse(kept) as { reading?: unknown }).reading as PlanReading;
  } catch {
    return null;
  }
  if (reading === null || typeof reading !== 'object' || !('value' in reading) || !('shape' in reading)) return null;
  try {
    const now = new Date();
    fs.utimesSync(file, now, now);
  } catch {
    // Only the order in which kept plans are let go depends on it.
  }
  return { reading };
}

/**
 * Keeps a plan's reading, when it survives JSON as it is (a YAML `.inf` or `-0` would not, and such a plan is read
 * afresh each time). A full disk or a read-only folder only means the next check reads the plan again.
 */
export function keepReading(cache: PlanReadingCache, text: string, reading: PlanReading): void {
  if (!survivesJson(reading)) return;
  try {
    writeFileAtomic(entryFile(cache, text), `${JSON.stringify({ reading })}\n`);
    removeOldest(cache.folder);
  } catch {
    // See above: a cache is only ever a speed-up.
  }
}

function entryFile(cache: PlanReadingCache, text: string): string {
  const hash = crypto.createHash('sha256').update(cache.readerKey).update('\0').update(text).digest('hex').slice(0, 40);
  return path.join(cache.folder, `${PREFIX}${hash}.json`);
}

/** Removes the plans used longest ago beyond MAX_KEPT plans or MAX_KEPT_BYTES; the one used last always stays. */
function removeOldest(folder: string): void {
  const newestFirst = fs
    .readdirSync(folder)
    .filter((name) => name.startsWith(PREFIX) && name.endsWith('.json'))
    .map((name) => ({ name, stat: fs.statSync(path.join(folder, name), { throwIfNoEntry: false }) }))
    .sort((a, b) => (b.stat?.mtimeMs ?? 0) - (a.stat?.mtimeMs ?? 0) || (a.name < b.name ? -1 : 1));
  let bytes = 0;
  newestFirst.forEach(({ name, stat }, index) => {
    bytes += stat?.size ?? 0;
    if (index > 0 && (index >= MAX_KEPT || bytes > MAX_KEPT_BYTES)) fs.rmSync(path.join(folder, name), { force: true });
  });
}

/** True when JSON gives the value back unchanged: plain objects and arrays, strings, booleans, null, finite numbers. */
export function survivesJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every(survivesJson);
  if (typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return false;
  return Object.values(value).every(survivesJson);
}

let readerKeyMemo: string | null | undefined;

/**
 * The reader's key in this installation: its modules' bytes (built .js, or the .ts sources under the test runner)
 * and its libraries' versions. null when a module cannot be found, and nothing is cached.
 */
function readerKeyHere(): string | null {
  if (readerKeyMemo !== undefined) return readerKeyMemo;
  const hash = crypto.createHash('sha256');
  const here = path.dirname(fileURLToPath(import.meta.url));
  const extension = path.extname(fileURLToPath(import.meta.url));
  try {
    for (const module of READER_MODULES) hash.update(module).update('\0').update(fs.readFileSync(path.join(here, `${module}${extension}`))).update('\0');
    const require = createRequire(import.meta.url);
    for (const pkg of READER_PACKAGES) hash.update(`${pkg}@${(require(`${pkg}/package.json`) as { version: string }).version}\0`);
    readerKeyMemo = hash.digest('hex');
  } catch {
    readerKeyMemo = null;
  }
  return readerKeyMemo;
}
