import path from 'node:path';
import type { Analysis } from '../model/analysis.js';
import { stableJson } from '../util/compare.js';
import { sinkTarget, writeOutput } from './write-output.js';

export const DEFAULT_ANALYSIS_FILE = 'decompose-analysis.json';
export const ANALYSIS_SCHEMA_URL = 'https://decompose.dev/schema/analysis-v1.json';

export function serializeAnalysis(analysis: Analysis): string {
  return stableJson({ ...analysis, $schema: ANALYSIS_SCHEMA_URL });
}

/** A file we wrote ourselves: ours to replace. Anything else at that path is the user's. */
export function isAnalysisFile(content: string): boolean {
  try {
    const value = JSON.parse(content) as { generator?: unknown };
    return value.generator === 'decompose';
  } catch {
    return false;
  }
}

/** Writes the analysis to `file`; `projectDir` is the analysed folder (see `sinkTarget`). */
export function writeAnalysis(analysis: Analysis, file: string, force: boolean, projectDir: string = path.dirname(path.resolve(file))): void {
  const target = sinkTarget(projectDir, file);
  writeOutput([{ path: target.path, content: serializeAnalysis(analysis), isOurs: isAnalysisFile }], {
    root: target.root,
    force,
    dryRun: false,
    onConflict: 'refuse',
  });
}
