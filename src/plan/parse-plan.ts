import { CORE_SCHEMA, load as loadYaml } from 'js-yaml';
import { z } from 'zod';
import { type Plan, PlanSchema } from '../model/plan.js';
import { PARSE_OPTIONS, type PlanFileContext, type PlanReading, type PlanShape, TO_JS_OPTIONS, isRecordValue, validatePlan, yaml } from './plan-reading.js';

// Reading a plan file's text: its value (js-yaml, or yaml when js-yaml declines) and its shape (the zod schema).
// Validating what was read is plan-reading.ts; writing a plan is plan-file.ts.

export { PARSE_OPTIONS, type PlanFileContext, TO_JS_OPTIONS, isRecordValue } from './plan-reading.js';

export type Schema = z.ZodType;

/** The schema inside optional, nullable and default wrappers. */
export function unwrap(schema: Schema): Schema {
  let current = schema;
  while (current instanceof z.ZodNullable || current instanceof z.ZodOptional || current instanceof z.ZodDefault) {
    current = current.unwrap() as Schema;
  }
  return current;
}

/** An anchor (`&a`) or alias (`*a`) may start here; the fast reader leaves such plans to yaml (see readPlanValue). */
const ANCHOR_OR_ALIAS = /(?:^|[\s[{,:-])[&*][^\s]/;

/**
 * A plan's value read with js-yaml, or null when it has anchors or aliases or js-yaml cannot read it: yaml then
 * reads it, and reports every error at its line and column. js-yaml reads a plan 4–17 times faster (the 5.4 MB
 * plan of a 10,000-module monolith: 125 ms against 2,164 ms; a fixture's 25 kB: ~11 ms against ~40 ms, cold) to
 * the same value: both read YAML 1.2's core schema and refuse duplicate keys, neither merges `<<` keys
 * (plan-file.test.ts compares the two on generated, hand-edited and hostile plans). Aliases are left to yaml,
 * which limits how far they expand.
 */
export function readPlanValue(text: string): { value: unknown } | null {
  if (ANCHOR_OR_ALIAS.test(text)) return null;
  try {
    return { value: loadYaml(text, { schema: CORE_SCHEMA }) };
  } catch {
    return null;
  }
}

/** Reads a plan's text to its value and shape (see PlanReading), or null when it is not readable YAML. */
export function readPlan(text: string): PlanReading {
  let value: unknown;
  const fast = readPlanValue(text);
  if (fast) {
    value = fast.value;
  } else {
    const doc = yaml().parseDocument(text, PARSE_OPTIONS);
    if (doc.errors.length > 0) return null;
    try {
      value = doc.toJS(TO_JS_OPTIONS);
    } catch {
      return null;
    }
  }
  return { value, shape: isRecordValue(value) ? planShape(value) : null };
}

function planShape(value: Record<string, unknown>): PlanShape {
  const parsed = PlanSchema.safeParse(value);
  const unknownFields: PlanShape['unknownFields'] = [];
  checkUnknownFields(PlanSchema, value, [], (path, key, known) => unknownFields.push({ path, key, known }));
  return {
    data: parsed.success ? parsed.data : null,
    issues: parsed.success ? [] : parsed.error.issues.map((issue) => ({ path: [...issue.path], code: issue.code, message: issue.message })),
    unknownFields,
  };
}

/** Reads and validates a plan file in one step (see readPlan and validatePlan). */
export function parsePlan(text: string, file: string, context: PlanFileContext): Plan {
  return validatePlan(text, file, context, readPlan(text));
}

/** Reports keys the schema does not know (a typo such as `dependson` would otherwise be dropped silently). */
function checkUnknownFields(
  schema: Schema,
  value: unknown,
  path: PropertyKey[],
  report: (path: PropertyKey[], key: string, known: string[]) => void,
): void {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject && isRecordValue(value)) {
    const shape = inner.shape as Record<string, Schema>;
    const known = Object.keys(shape);
    for (const key of Object.keys(value)) {
      const fieldSchema = shape[key];
      if (fieldSchema === undefined || !Object.prototype.hasOwnProperty.call(shape, key)) report(path, key, known);
      else checkUnknownFields(fieldSchema, value[key], [...path, key], report);
    }
  } else if (inner instanceof z.ZodRecord && isRecordValue(value)) {
    for (const key of Object.keys(value)) checkUnknownFields(inner.valueType as Schema, value[key], [...path, key], report);
  } else if (inner instanceof z.ZodArray && Array.isArray(value)) {
    value.forEach((item, index) => checkUnknownFields(inner.element as Schema, item, [...path, index], report));
  }
}

