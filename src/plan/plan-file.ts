import {
  type CST,
  Document,
  type Node,
  Pair,
  Parser,
  Scalar,
  type ToStringOptions,
  YAMLMap,
  YAMLSeq,
  isMap,
  isNode,
  isScalar,
  isSeq,
  parseDocument,
  visit,
} from 'yaml';
import { z } from 'zod';
import { type Plan, PlanSchema } from '../model/plan.js';
import { compareStrings } from '../util/compare.js';
import { PARSE_OPTIONS, type Schema, isRecordValue, unwrap } from './parse-plan.js';

// Writing a plan file; reading and validating one is parse-plan.ts.

/**
 * The fixed comment block at the top of every generated plan. Its first line identifies the file as ours
 * (`isOurs` checks it); no timestamp or version number, so regenerating an unchanged plan changes nothing.
 */
export const PLAN_FILE_HEADER = [
  '# decompose plan: how this repository splits into services. Review it like code.',
  '# Edit by hand: service names, modules (paths or globs such as src/catalog/**), owns, dependsOn, replicas, cache,',
  '# sharedLibraries, entrypoints and settings.',
  '# Sections marked "derived" are recomputed by `decompose plan --refresh`; edits to them are overwritten.',
  '',
].join('\n');

/** Comment text (after `#`) placed above every derived section; recognised and re-placed on rewrite. */
export const DERIVED_COMMENT = ' derived: recomputed by decompose plan --refresh';
const SERVICE_DERIVED_COMMENT = ' derived (routes, hazards, loc): recomputed by decompose plan --refresh';
/** The header's fixed opening: a leading comment paragraph starting with it is the header, not the team's. */
const HEADER_MARK = ' decompose plan:';

/** Top-level sections the code recomputes; fields described as `derived…` in the schema count too. */
const DERIVED_TOP_LEVEL = new Set(['entryRoutes', 'conflicts', 'seams', 'metrics', 'baselines', 'mojofm', 'rationale']);
/** The first derived field of a service; the derived ones come last in the schema, so one comment covers them. */
const FIRST_DERIVED_SERVICE_FIELD = 'routes';

const STRINGIFY: ToStringOptions = {
  indent: 2,
  indentSeq: true,
  // Never fold long strings: a rationale line stays one line, and the bytes do not depend on a width.
  lineWidth: 0,
  minContentWidth: 0,
  // Multi-line strings as double-quoted escapes: exact round trip, no trailing-space or indentation subtleties.
  blockQuote: false,
  nullStr: 'null',
  trueStr: 'true',
  falseStr: 'false',
};

// ---------------------------------------------------------------------------------------------------------
// Serialise
// ---------------------------------------------------------------------------------------------------------

/**
 * The plan as YAML: the fixed header, then the fields in schema order, two-space indent, trailing newline.
 * With `previousText` (the file as the team left it) the existing document is updated node by node instead of
 * regenerated, so the team's comments stay beside what they describe: an item matched by name (or by value for
 * module lists) keeps its comments and quoting; a removed item takes its comments with it. Derived sections get a
 * `# derived: …` comment above them. A previous file that is not valid YAML is ignored (regenerated).
 */
export function serializePlan(plan: Plan, previousText?: string): string {
  const previous = previousText === undefined ? null : parseDocument(previousText, PARSE_OPTIONS);
  let oldRaw: unknown = null;
  try {
    if (previous && previous.errors.length === 0 && isMap(previous.contents)) oldRaw = previous.toJS({ maxAliasCount: 100 });
  } catch {
    oldRaw = null; // an alias bomb: regenerate rather than expand it
  }
  let doc: Document;
  if (previous && previousText !== undefined && isRecordValue(oldRaw)) {
    reattachComments(previous, previousText);
    doc = previous as unknown as Document;
    doc.contents = mergeNode(PlanSchema, previous.contents, oldRaw, plan);
  } else {
    doc = new Document(null, { version: '1.2' });
    doc.contents = buildNode(PlanSchema, plan);
  }
  decorate(doc);
  return `${PLAN_FILE_HEADER}\n${doc.toString(STRINGIFY)}`;
}

function objectEntries(schema: z.ZodObject, value: Record<string, unknown>): Array<[string, Schema, unknown]> {
  const out: Array<[string, Schema, unknown]> = [];
  for (const [key, fieldSchema] of Object.entries(schema.shape as Record<string, Schema>)) {
    if (Object.prototype.hasOwnProperty.call(value, key) && value[key] !== undefined) out.push([key, fieldSchema, value[key]]);
  }
  return out;
}

function recordEntries(schema: z.ZodRecord, value: Record<string, unknown>): Array<[string, Schema, unknown]> {
  return Object.keys(value)
    .sort(compareStrings)
    .filter((key) => value[key] !== undefined)
    .map((key) => [key, schema.valueType as Schema, value[key]]);
}

/** A fresh node for a value: objects in schema key order, records by sorted key, no anchors or aliases. */
function buildNode(schema: Schema, value: unknown): Node {
  const inner = unwrap(schema);
  if (value !== null && inner instanceof z.ZodObject && isRecordValue(value)) {
    const map = new YAMLMap();
    for (const [key, fieldSchema, fieldValue] of objectEntries(inner, value)) map.items.push(new Pair(new Scalar(key), buildNode(fieldSchema, fieldValue)));
    return map;
  }
  if (value !== null && inner instanceof z.ZodRecord && isRecordValue(value)) {
    const map = new YAMLMap();
    for (const [key, fieldSchema, fieldValue] of recordEntries(inner, value)) map.items.push(new Pair(new Scalar(key), buildNode(fieldSchema, fieldValue)));
    return map;
  }
  if (inner instanceof z.ZodArray && Array.isArray(value)) {
    const seq = new YAMLSeq();
    for (const item of value) seq.items.push(buildNode(inner.element as Schema, item));
    return seq;
  }
  return new Scalar(value);
}

/** Keeps the comments and blank line of a node that is replaced by a new one. */
function carry(old: unknown, fresh: Node): Node {
  if (isNode(old)) {
    if (old.commentBefore) fresh.commentBefore = old.commentBefore;
    if (old.comment) fresh.comment = old.comment;
    if (old.spaceBefore) fresh.spaceBefore = true;
  }
  return fresh;
}

/**
 * Updates `existing` (a node of the previous document, whose plain value is `oldRaw`) to hold `value`,
 * reusing every node whose value is unchanged so its comments and style survive.
 */
function mergeNode(schema: Schema, existing: unknown, oldRaw: unknown, value: unknown): Node {
  const inner = unwrap(schema);
  if (value !== null && (inner instanceof z.ZodObject || inner instanceof z.ZodRecord) && isRecordValue(value)) {
    if (!isMap(existing) || !isRecordValue(oldRaw)) return carry(existing, buildNode(schema, value));
    const pairs = new Map<string, Pair>();
    for (const pair of existing.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : null;
      if (key !== null && !pairs.has(key)) pairs.set(key, pair as Pair);
    }
    const entries = inner instanceof z.ZodObject ? objectEntries(inner, value) : recordEntries(inner as z.ZodRecord, value);
    existing.items = entries.map(([key, fieldSchema, fieldValue]) => {
      const pair = pairs.get(key);
      if (!pair) return new Pair(new Scalar(key), buildNode(fieldSchema, fieldValue));
      pair.value = mergeNode(fieldSchema, pair.value, oldRaw[key], fieldValue);
      return pair;
    });
    return existing;
  }
  if (inner instanceof z.ZodArray && Array.isArray(value)) {
    if (!isSeq(existing) || !Array.isArray(oldRaw)) return carry(existing, buildNode(schema, value));
    const elementSchema = inner.element as Schema;
    const unused = new Map<string, number[]>();
    existing.items.forEach((_, index) => {
      const id = identity(oldRaw[index]);
      unused.set(id, [...(unused.get(id) ?? []), index]);
    });
    existing.items = value.map((item) => {
      const index = unused.get(identity(item))?.shift();
      if (index === undefined) return buildNode(elementSchema, item);
      return mergeNode(elementSchema, existing.items[index], oldRaw[index], item);
    });
    return existing;
  }
  if (isScalar(existing) && Object.is(existing.value, value)) return existing;
  return carry(existing, new Scalar(value));
}

/** What makes two list items "the same" across a rewrite: a name, a conflict's entity, else the whole value. */
function identity(value: unknown): string {
  if (isRecordValue(value)) {
    if (typeof value.name === 'string') return `name:${value.name}`;
    if (typeof value.entity === 'string') return `entity:${value.entity}`;
  }
  return `value:${JSON.stringify(value) ?? 'undefined'}`;
}

/** Blank lines between top-level sections and between services; `# derived` above derived sections. */
function decorate(doc: Document): void {
  const root = doc.contents;
  if (!isMap(root)) return;
  root.items.forEach((pair, index) => {
    if (!isScalar(pair.key)) return;
    const key = String(pair.key.value);
    const fieldSchema = (PlanSchema.shape as Record<string, Schema>)[key];
    const derived = DERIVED_TOP_LEVEL.has(key) || fieldSchema?.description?.startsWith('derived') === true;
    if (derived) addCommentLine(pair.key, DERIVED_COMMENT);
    // A blank line before each section; short scalar lines at the top (version, project) stay together.
    const previous = root.items[index - 1];
    pair.key.spaceBefore = index > 0 && (derived || !isScalar(pair.value) || !isScalar(previous?.value));
    if (key === 'services' && isSeq(pair.value)) {
      pair.value.items.forEach((service, serviceIndex) => {
        if (isNode(service)) service.spaceBefore = serviceIndex > 0;
        if (!isMap(service)) return;
        // A service written inline ({name: a, …}) becomes a block, so the derived comment has a line of its own.
        service.flow = false;
        const derived = service.items.find((p) => isScalar(p.key) && p.key.value === FIRST_DERIVED_SERVICE_FIELD);
        if (derived && isScalar(derived.key)) addCommentLine(derived.key, SERVICE_DERIVED_COMMENT);
      });
    }
  });
}

function addCommentLine(node: Node, line: string): void {
  node.commentBefore = node.commentBefore ? `${node.commentBefore}\n${line}` : line;
}

// ---------------------------------------------------------------------------------------------------------
// Comments: where a hand-written comment belongs
// ---------------------------------------------------------------------------------------------------------

type Collection = YAMLMap | YAMLSeq;

interface Anchor {
  start: number;
  /** Column of the line's structure: the key for a pair, the `-` for a sequence item. */
  column: number;
  /** Where a comment above it is stored: the key of a pair, or the item node itself. */
  target: Node;
  /** Collections enclosing the anchor, outermost first. */
  chain: Collection[];
}

/**
 * yaml attaches a comment that sits above a sequence item to the end of the previous item, so a comment above a
 * service would follow the wrong service when services are added or removed. Comments are therefore re-attached
 * from their source position: a comment on its own line belongs to the next key or item (or, when indented
 * deeper than that, to the end of the block it trails); a comment after a value on the same line belongs to that
 * value; one after everything belongs to the document. The generated header and `# derived` lines are dropped
 * (they are re-added).
 */
function reattachComments(doc: Document, text: string): void {
  const anchors: Anchor[] = [];
  const ends: Array<{ end: number; node: Node }> = [];
  const itemColumn = new Map<Collection, number>();
  const column = (offset: number) => offset - (text.lastIndexOf('\n', offset - 1) + 1);
  const dashColumn = (offset: number) => {
    let i = offset - 1;
    while (i >= 0 && (text[i] === ' ' || text[i] === '\t')) i--;
    return text[i] === '-' ? column(i) : column(offset);
  };

  const walk = (node: unknown, chain: Collection[]): void => {
    if (!isNode(node)) return;
    if (node.range) ends.push({ end: node.range[1], node });
    if (isMap(node)) {
      const inner = [...chain, node];
      for (const pair of node.items) {
        if (isNode(pair.key) && pair.key.range) {
          const anchor = { start: pair.key.range[0], column: column(pair.key.range[0]), target: pair.key, chain: inner };
          anchors.push(anchor);
          if (!itemColumn.has(node)) itemColumn.set(node, anchor.column);
        }
        walk(pair.key, inner);
        walk(pair.value, inner);
      }
    } else if (isSeq(node)) {
      const inner = [...chain, node];
      for (const item of node.items) {
        if (isNode(item) && item.range) {
          const anchor = { start: item.range[0], column: dashColumn(item.range[0]), target: item, chain: inner };
          anchors.push(anchor);
          if (!itemColumn.has(node)) itemColumn.set(node, anchor.column);
        }
        walk(item, inner);
      }
    }
  };
  walk(doc.contents, []);
  // Outermost first among anchors starting at the same offset (an item before its first key).
  anchors.sort((a, b) => a.start - b.start || a.chain.length - b.chain.length);

  visit(doc, (_key, node) => {
    if (isNode(node)) {
      delete node.commentBefore;
      delete node.comment;
      delete node.anchor;
    }
  });
  doc.commentBefore = null;
  doc.comment = null;

  const before = new Map<Node, string[]>();
  const after = new Map<Node, string[]>();
  const inline = new Map<Node, string[]>();
  const docAfter: string[] = [];
  const push = (map: Map<Node, string[]>, node: Node, line: string, blankBefore: boolean) => {
    const lines = map.get(node) ?? [];
    if (blankBefore && lines.length > 0) lines.push('');
    lines.push(line);
    map.set(node, lines);
  };

  for (const comment of commentTokens(text)) {
    const lineStart = text.lastIndexOf('\n', comment.offset - 1) + 1;
    const col = comment.offset - lineStart;
    const body = comment.source.slice(1);
    const ownLine = /^[\s\uFEFF]*$/.test(text.slice(lineStart, comment.offset));
    const previousLineStart = lineStart >= 2 ? text.lastIndexOf('\n', lineStart - 2) + 1 : -1;
    const blankBefore = previousLineStart >= 0 && /^[ \t\r]*$/.test(text.slice(previousLineStart, lineStart - 1));
    if (!ownLine) {
      let best: { end: number; node: Node } | null = null;
      for (const candidate of ends) {
        if (candidate.end <= comment.offset && !text.slice(candidate.end, comment.offset).includes('\n') && (!best || candidate.end >= best.end)) best = candidate;
      }
      if (best) {
        push(inline, best.node, body, false);
        continue;
      }
    }
    const next = anchors.find((a) => a.start > comment.offset);
    if (next && col <= next.column) {
      push(before, next.target, body, blankBefore);
      continue;
    }
    const previous = [...anchors].reverse().find((a) => a.start < comment.offset);
    const trailed = previous ? [...previous.chain].reverse().find((c) => (itemColumn.get(c) ?? 0) <= col) : undefined;
    if (trailed) push(after, trailed, body, blankBefore);
    else if (next) push(before, next.target, body, blankBefore);
    else {
      if (blankBefore && docAfter.length > 0) docAfter.push('');
      docAfter.push(body);
    }
  }

  const generated = new Set([DERIVED_COMMENT.trim(), SERVICE_DERIVED_COMMENT.trim()]);
  const clean = (lines: string[]): string | undefined => {
    const kept = lines.filter((line) => !generated.has(line.trim()));
    while (kept[0] === '') kept.shift();
    while (kept.at(-1) === '') kept.pop();
    return kept.length > 0 ? kept.join('\n') : undefined;
  };
  const first = anchors[0];
  if (first) {
    const lines = before.get(first.target);
    if (lines && lines[0]?.startsWith(HEADER_MARK)) {
      const blank = lines.indexOf('');
      before.set(first.target, blank < 0 ? [] : lines.slice(blank + 1));
    }
  }
  for (const [node, lines] of before) {
    const text = clean(lines);
    if (text !== undefined) node.commentBefore = text;
  }
  for (const [node, lines] of [...inline, ...after]) {
    const text = clean(lines);
    if (text !== undefined) node.comment = node.comment ? `${node.comment}\n${text}` : text;
  }
  const trailing = clean(docAfter);
  if (trailing !== undefined) doc.comment = trailing;
}

/** Every comment in the source with its offset (comments inside quoted or block scalars are not tokens). */
function commentTokens(text: string): CST.SourceToken[] {
  const out: CST.SourceToken[] = [];
  const collect = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) collect(item);
    } else if (value !== null && typeof value === 'object') {
      const token = value as { type?: unknown };
      if (token.type === 'comment') out.push(value as CST.SourceToken);
      else for (const child of Object.values(value)) collect(child);
    }
  };
  for (const token of new Parser().parse(text)) collect(token);
  return out.sort((a, b) => a.offset - b.offset);
}
