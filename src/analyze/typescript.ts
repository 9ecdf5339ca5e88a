import { createRequire } from 'node:module';
import type { ts } from 'ts-morph';
import { requireWithCodeCache } from '../util/code-cache.js';

/**
 * The TypeScript compiler that ts-morph bundles, loaded without ts-morph itself: the analyzer parses with the plain
 * compiler API (ts-morph projects are for scaffold's import rewriting), and ts-morph's own module and its common
 * library take about as long to load again as the compiler (~0.15 s of ~0.3 s), on this thread and in each
 * worker. Resolved from ts-morph's folder, so it is exactly the compiler ts-morph uses, wherever npm put it.
 * Loaded with V8's code cache (see requireWithCodeCache).
 */
const fromTsMorph = createRequire(createRequire(import.meta.url).resolve('ts-morph'));
export const compilerLoad = requireWithCodeCache(fromTsMorph.resolve('@ts-morph/common/dist/typescript.js'));
export const typescript = compilerLoad.exports as typeof ts;
