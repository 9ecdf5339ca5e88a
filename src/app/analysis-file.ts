import path from 'node:path';
import type { Analysis } from '../model/analysis.js';
import { sinkTarget, writeOutput } from './write-output.js';

export const DEFAULT_ANALYSIS_FILE = 'decompose-analysis.json';
export const ANALYSIS_SCHEMA_URL = 'https://decompose.dev/schema/analysis-v1.json';

/**
 * The analysis as JSON with every object's keys in sorted order, two-space indent and a trailing newline, as stableJson
 * writes it, but without sorting: the analyzer builds every record with its keys in order (analysis-file.test.ts
 * checks each fixture and edge project), and walking the million records of a large analysis to check them again
 * took 25–100 ms of each run.
 */
export function serializeAnalysis(analysis: Analysis): string {
  return `${JSON.stringify({ $schema: ANALYSIS_SCHEMA_URL, ...analysis }, null, 2)}\n`;
}

/**
 * A file we wrote ourselves: ours to replace. Anything else at that path is the user's. Told from the top-level
 * `"generator": "decompose"` line as serializeAnalysis writes it (two-space indent: a nested key has more), not by
 * parsing: a large project's previous analysis is tens of megabytes, which took JSON.parse ~0.3 s to read.
 */
export function isAnalysisFile(content: string): boolean {
  return content.trimStart().startsWith('{') && GENERATOR_LINE.test(content);
}
const GENERATOR_LINE = /^ {2}"generator": "decompose",?\r?$/m;

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
