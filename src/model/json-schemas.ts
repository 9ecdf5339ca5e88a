import { z } from 'zod';
import { AnalysisSchema } from './analysis.js';

/** JSON Schemas of the files decompose writes, generated from the zod schemas that validate them. */
export function analysisJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(AnalysisSchema, { target: 'draft-2020-12', io: 'input' }),
    $id: 'https://decompose.dev/schema/analysis-v1.json',
    title: 'decompose analysis (decompose-analysis.json), version 1',
  };
}
