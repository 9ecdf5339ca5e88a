// What code outside the analyzer needs of the analysis format at run time, without its zod schemas (analysis.ts):
// loading zod cost `decompose analyze` as much as reading a few hundred modules, and writing an analysis needs none.

/** Bump on any incompatible change to the analysis file; readers refuse other versions. */
export const ANALYSIS_VERSION = 1;

/**
 * Hazards that are state kept in one process's memory (a module-level variable, an in-process cache): each copy of the
 * code, in another replica or another service, keeps its own.
 */
export function isProcessState(kind: string): boolean {
  return kind === 'module-state' || kind === 'in-process-cache';
}
