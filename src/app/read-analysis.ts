import fs from 'node:fs';
import { ANALYSIS_VERSION, type Analysis, AnalysisSchema } from '../model/analysis.js';
import { UserError } from '../util/errors.js';
import { describeJsonError } from '../util/json-error.js';

// Apart from analysis-file.ts (which writes the file) so that `decompose analyze` does not load the schemas (zod).

/** Reads and validates an analysis file written by `decompose analyze`. */
export function readAnalysis(file: string): Analysis {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UserError('DEC-020', `${file}: cannot read the analysis file`, { hint: 'Run `decompose analyze` first.' });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const { message, line, column } = describeJsonError(text, error);
    throw new UserError('DEC-021', `not valid JSON: ${message}`, { position: { file, line, column }, hint: 'Re-run `decompose analyze` to write it again.' });
  }
  const version = (value as { version?: unknown })?.version;
  if (version !== ANALYSIS_VERSION) {
    throw new UserError('DEC-022', `${file}: analysis version ${String(version)} is not supported (expected ${ANALYSIS_VERSION})`, {
      hint: 'Re-run `decompose analyze` with this version of decompose.',
    });
  }
  const parsed = AnalysisSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new UserError('DEC-023', `${file}: not a valid analysis: ${issues[0]}`, { details: issues.slice(1, 10) });
  }
  return parsed.data;
}
