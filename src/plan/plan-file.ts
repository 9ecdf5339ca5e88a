import {
  type CST,
  Document,
  LineCounter,
  type Node,
  Pair,
  Parser,
  Scalar,
  type ToStringOptions,
  YAMLMap,
  YAMLSeq,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  parseDocument,
  visit,
} from 'yaml';
import { CORE_SCHEMA, load as loadYaml } from 'js-yaml';
import { z } from 'zod';
import { DNS_LABEL, PLAN_VERSION, type Plan, PlanSchema } from '../model/plan.js';
import { compareStrings } from '../util/compare.js';
import { UserError } from '../util/errors.js';
import { nearestName } from '../util/nearest.js';

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

export const TO_JS_OPTIONS = { maxAliasCount: 100 } as const;
export const PARSE_OPTIONS = {
  prettyErrors: false,
  uniqueKeys: true,
  version: '1.2',
  merge: false,
  strict: true,
} as const;

/** Details listed at most; the rest are counted. */
const MAX_DETAILS = 50;

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

type Schema = z.ZodType;

function unwrap(schema: Schema): Schema {
  let current = schema;
  while (current instanceof z.ZodNullable || current instanceof z.ZodOptional || current instanceof z.ZodDefault) {
    current = current.unwrap() as Schema;
  }
  return current;
}

function isRecordValue(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
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

// ---------------------------------------------------------------------------------------------------------
// Parse and validate
// ---------------------------------------------------------------------------------------------------------

export interface PlanFileContext {
  /** True when the repo-relative path is a module of the analysed project. */
  moduleExists: (path: string) => boolean;
  /** The modules a glob (`src/catalog/**`) matches. */
  matchModules: (pattern: string) => string[];
  /** The analysed project's name (package.json name), which the plan's `project` must equal. */
  projectName: string;
  /**
   * A listed path or glob that matches no module is not a problem of the file but drift in the code (`check`
   * reports it as `missing-module`). Overlaps between lists are still checked.
   */
  missingModulesAreDrift?: boolean;
}

type ProblemCode = 'DEC-050' | 'DEC-051' | 'DEC-052';

interface Problem {
  code: ProblemCode;
  offset: number;
  message: string;
  hint?: string;
}

const HINTS: Record<ProblemCode, string> = {
  'DEC-050':
    'Fix the YAML at the position shown (indentation, quotes; quote values containing ": " or " #"), or move the file aside and run `decompose plan` to propose a new one.',
  'DEC-051': 'Fix the field at the position shown; a plan freshly proposed by `decompose plan` shows the expected shape.',
  'DEC-052': 'Edit the plan so that every module, entity and name belongs to exactly one place, then run `decompose plan --refresh`.',
};

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

/**
 * Reads a plan file. Every problem is collected; one `UserError` reports them all: `DEC-050` when the YAML does not
 * parse, `DEC-051` when the shape or a field's format is wrong (version, types, names, paths), `DEC-052` when the
 * values do not fit together or do not fit the repository (overlapping modules, unknown modules, two owners, unknown
 * dependencies, replicas, another project). The error's position is the first problem's node; the rest are details.
 */
export function parsePlan(text: string, file: string, context: PlanFileContext): Plan {
  // The document (with its source positions) is only needed to place problems; a plan the fast reader reads
  // without errors (see readPlanValue) is not parsed a second time unless one is found.
  let parsedDocument: { doc: Document; lineCounter: LineCounter } | null = null;
  const document = () => {
    if (!parsedDocument) {
      const lineCounter = new LineCounter();
      parsedDocument = { doc: parseDocument(text, { ...PARSE_OPTIONS, lineCounter }), lineCounter };
    }
    return parsedDocument;
  };
  const fail = (problems: Problem[]): never => {
    throw toUserError(problems, file, document().lineCounter);
  };

  let raw: unknown;
  const fast = readPlanValue(text);
  if (fast) {
    raw = fast.value;
  } else {
    const { doc } = document();
    if (doc.errors.length > 0) {
      fail(
        doc.errors.map((error) => ({
          code: 'DEC-050',
          offset: error.pos[0],
          message:
            error.code === 'DUPLICATE_KEY'
              ? `key ${show(keyAt(doc, error.pos[0]) ?? text.slice(error.pos[0], error.pos[1]))} appears twice in the same mapping; keep one`
              : `YAML syntax: ${error.message}`,
        })),
      );
    }
    try {
      raw = doc.toJS(TO_JS_OPTIONS);
    } catch (error) {
      fail([{ code: 'DEC-050', offset: 0, message: `YAML cannot be read: ${error instanceof Error ? error.message : String(error)}` }]);
    }
  }
  if (raw === null || raw === undefined) {
    fail([{ code: 'DEC-051', offset: 0, message: 'the plan file is empty', hint: 'Run `decompose plan` to propose a plan.' }]);
  }
  if (!isRecordValue(raw)) {
    fail([{ code: 'DEC-051', offset: nodeOffset(document().doc, []), message: 'the plan must be a mapping (version, project, settings, services, …)' }]);
  }
  const plan = raw as Record<string, unknown>;
  const at = (path: readonly PropertyKey[], onKey = false) => nodeOffset(document().doc, path, onKey);

  if (plan.version !== undefined && plan.version !== PLAN_VERSION) {
    // Another version's layout would make every other message misleading: report this alone.
    const quoted = String(plan.version) === String(PLAN_VERSION);
    fail([
      {
        code: 'DEC-051',
        offset: at(['version']),
        message: quoted
          ? `version must be the number ${PLAN_VERSION}, not ${show(plan.version)}`
          : `the plan has version ${show(plan.version)}, but this decompose reads plan version ${PLAN_VERSION}`,
        hint: quoted
          ? `Write \`version: ${PLAN_VERSION}\` without quotes.`
          : `Use the decompose release that wrote this plan, or move it aside and run \`decompose plan\` to propose a version-${PLAN_VERSION} plan.`,
      },
    ]);
  }

  const problems: Problem[] = [];
  const add = (code: ProblemCode, offset: number, message: string, hint?: string) => problems.push({ code, offset, message, ...(hint ? { hint } : {}) });

  if (plan.version === undefined) {
    add('DEC-051', at([]), `missing field "version": this decompose reads plan version ${PLAN_VERSION}`, `Add \`version: ${PLAN_VERSION}\` at the top.`);
  }

  // Shape: the schema's own checks, each at its node; missing fields are grouped by the mapping that lacks them.
  const parsed = PlanSchema.safeParse(raw);
  if (!parsed.success) {
    const missing = new Map<string, { parent: PropertyKey[]; fields: string[] }>();
    for (const issue of parsed.error.issues) {
      const path = issue.path;
      if (path.length === 1 && path[0] === 'version') continue;
      if (issue.code === 'invalid_type' && valueAt(raw, path) === undefined) {
        const parent = path.slice(0, -1);
        const key = JSON.stringify(parent.map(String));
        const entry = missing.get(key) ?? { parent, fields: [] };
        entry.fields.push(String(path.at(-1)));
        missing.set(key, entry);
        continue;
      }
      add('DEC-051', at(path), `${describePath(raw, path)}: ${issue.message.replace(/^Invalid input: /, '')}`);
    }
    for (const { parent, fields } of missing.values()) {
      const where = describePath(raw, parent);
      add('DEC-051', at(parent), `missing field${fields.length > 1 ? 's' : ''} ${fields.map(show).join(', ')}${where ? ` in ${where}` : ''}`);
    }
  }
  checkUnknownFields(PlanSchema, raw, [], raw, (path, key, known) => {
    const suggestion = closest(key, known);
    const where = describePath(raw, path);
    add(
      'DEC-051',
      at([...path, key], true),
      `unknown field ${show(key)}${where ? ` in ${where}` : ' at the top level'}${suggestion ? `; did you mean ${show(suggestion)}?` : ''}`,
      `Known fields here: ${known.join(', ')}.`,
    );
  });

  // Field formats: names and module paths.
  const services = listOf(plan.services);
  const libraries = listOf(plan.sharedLibraries);
  const entrypoints = listOf(plan.entrypoints);
  const groups: Array<{ kind: string; label: (name: string) => string; field: string; items: unknown[] }> = [
    { kind: 'service', label: (name) => `service ${show(name)}`, field: 'services', items: services },
    { kind: 'shared library', label: (name) => `shared library ${show(name)}`, field: 'sharedLibraries', items: libraries },
  ];
  for (const group of groups) {
    group.items.forEach((item, index) => {
      if (!isRecordValue(item) || typeof item.name !== 'string') return;
      const problem = nameProblem(item.name);
      if (problem) add('DEC-051', at([group.field, index, 'name']), `${group.kind} name ${problem}`, NAME_HINT);
    });
  }

  // Who lists which module: services, then shared libraries, then entrypoints, in file order.
  interface Listing {
    owner: string;
    entry: string;
    path: PropertyKey[];
  }
  const listings: Listing[] = [];
  for (const group of groups) {
    group.items.forEach((item, index) => {
      if (!isRecordValue(item)) return;
      const owner = group.label(typeof item.name === 'string' ? item.name : `#${index + 1}`);
      listOf(item.modules).forEach((entry, entryIndex) => {
        if (typeof entry === 'string') listings.push({ owner, entry, path: [group.field, index, 'modules', entryIndex] });
      });
    });
  }
  entrypoints.forEach((entry, index) => {
    if (typeof entry === 'string') listings.push({ owner: 'entrypoints', entry, path: ['entrypoints', index] });
  });

  // Relations: DEC-052.
  if (typeof plan.project === 'string' && plan.project !== context.projectName) {
    add(
      'DEC-052',
      at(['project']),
      `this plan is for project ${show(plan.project)}, but this repository is ${show(context.projectName)}`,
      `Run \`decompose plan\` in the repository the plan was made for, or pass --plan to use this repository's plan.`,
    );
  }

  const seenNames = new Map<string, { label: string; path: PropertyKey[] }>();
  for (const group of groups) {
    group.items.forEach((item, index) => {
      if (!isRecordValue(item) || typeof item.name !== 'string') return;
      const label = group.label(item.name);
      const first = seenNames.get(item.name);
      if (!first) {
        seenNames.set(item.name, { label, path: [group.field, index, 'name'] });
        return;
      }
      const firstLine = lineOf(document().lineCounter, at(first.path));
      add(
        'DEC-052',
        at([group.field, index, 'name']),
        first.label === label ? `${label} is defined twice (first at line ${firstLine})` : `${label} has the same name as ${first.label} (line ${firstLine})`,
        'Names become folder, image and host names, so each must be unique across services and shared libraries: rename or merge one.',
      );
    });
  }

  const ownerOf = new Map<string, string>();
  for (const listing of listings) {
    const offset = () => at(listing.path);
    const pathProblem = modulePathProblem(listing.entry);
    if (pathProblem) {
      add('DEC-051', offset(), `${listing.owner} lists ${showPath(listing.entry)}, which ${pathProblem}`, 'Module paths are relative to the project root and use forward slashes, e.g. src/orders/routes.ts or src/orders/**.');
      continue;
    }
    const glob = !context.moduleExists(listing.entry);
    const files = glob ? [...new Set(context.matchModules(listing.entry))].sort(compareStrings) : [listing.entry];
    if (files.length === 0) {
      if (context.missingModulesAreDrift) continue;
      add(
        'DEC-052',
        offset(),
        looksLikeGlob(listing.entry)
          ? `${listing.owner} lists the glob ${showPath(listing.entry)}, which matches no module`
          : `${listing.owner} lists ${showPath(listing.entry)}, which is not a module of this project`,
        'Fix the path (relative to the project root, e.g. src/orders/routes.ts) or remove it; `decompose analyze` lists the modules.',
      );
      continue;
    }
    const clashes = new Map<string, string[]>();
    for (const module of files) {
      const owner = ownerOf.get(module);
      if (owner === undefined) ownerOf.set(module, listing.owner);
      else if (owner !== listing.owner) clashes.set(owner, [...(clashes.get(owner) ?? []), module]);
    }
    for (const [owner, modules] of clashes) {
      const where = owner === 'entrypoints' ? 'entrypoints' : owner;
      const what = !glob
        ? `${showPath(listing.entry)}, which is already in ${where}`
        : `${showPath(listing.entry)}, which matches ${describeList(modules)} already in ${where}`;
      add(
        'DEC-052',
        offset(),
        `${listing.owner} lists ${what}`,
        'A module belongs to exactly one service, shared library or entrypoints: remove it from one list (or narrow the glob).',
      );
    }
  }

  const serviceNames = new Set(services.flatMap((s) => (isRecordValue(s) && typeof s.name === 'string' ? [s.name] : [])));
  const libraryNames = new Set(libraries.flatMap((l) => (isRecordValue(l) && typeof l.name === 'string' ? [l.name] : [])));
  const entityOwner = new Map<string, string>();
  services.forEach((service, index) => {
    if (!isRecordValue(service)) return;
    const label = `service ${show(typeof service.name === 'string' ? service.name : `#${index + 1}`)}`;
    listOf(service.owns).forEach((entity, entityIndex) => {
      if (typeof entity !== 'string') return;
      const owner = entityOwner.get(entity);
      if (owner === undefined) entityOwner.set(entity, label);
      else if (owner !== label) {
        add(
          'DEC-052',
          at(['services', index, 'owns', entityIndex]),
          `${label} owns entity ${show(entity)}, which ${owner} already owns`,
          'An entity has one owner (its only writer): keep it in one service\'s owns; the other calls that service (see conflicts).',
        );
      }
    });
    listOf(service.dependsOn).forEach((dependency, dependencyIndex) => {
      if (typeof dependency !== 'string') return;
      const offset = () => at(['services', index, 'dependsOn', dependencyIndex]);
      if (dependency === service.name) {
        add('DEC-052', offset(), `${label} lists itself in dependsOn`, 'Remove it: dependsOn lists the other services this one may call.');
      } else if (!serviceNames.has(dependency)) {
        const why = libraryNames.has(dependency) ? ', but a shared library (code linked into services, not a service to call)' : '';
        const suggestion = why ? null : closest(dependency, [...serviceNames]);
        add(
          'DEC-052',
          offset(),
          `${label} depends on ${show(dependency)}, which is not a service in this plan${why}${suggestion ? `; did you mean ${show(suggestion)}?` : ''}`,
          'List only names of services in this plan in dependsOn.',
        );
      }
    });
    const replicas = service.replicas;
    if (isRecordValue(replicas) && typeof replicas.min === 'number' && typeof replicas.max === 'number' && replicas.min > replicas.max) {
      add(
        'DEC-052',
        at(['services', index, 'replicas', 'min']),
        `${label} has replicas.min ${replicas.min} above replicas.max ${replicas.max}`,
        'Set replicas.min to at most replicas.max.',
      );
    }
  });

  if (problems.length > 0) fail(problems);
  if (!parsed.success) throw new Error('plan failed the schema without a reported problem'); // unreachable: every issue is a problem
  return parsed.data;
}

function toUserError(problems: Problem[], file: string, lineCounter: LineCounter): UserError {
  const order: ProblemCode[] = ['DEC-050', 'DEC-051', 'DEC-052'];
  const located = problems
    .map((problem, index) => ({ ...problem, index, ...position(lineCounter, problem.offset) }))
    .sort((a, b) => order.indexOf(a.code) - order.indexOf(b.code) || a.line - b.line || a.column - b.column || a.index - b.index);
  const [first, ...rest] = located;
  if (!first) return new UserError('DEC-051', `${file}: invalid plan`);
  const details = rest.slice(0, MAX_DETAILS).map((p) => `${file}:${p.line}:${p.column}: ${p.message}`);
  if (rest.length > MAX_DETAILS) details.push(`… and ${rest.length - MAX_DETAILS} more problems`);
  return new UserError(first.code, first.message, {
    hint: first.hint ?? HINTS[first.code],
    position: { file, line: first.line, column: first.column },
    details,
  });
}

function position(lineCounter: LineCounter, offset: number): { line: number; column: number } {
  const { line, col } = lineCounter.linePos(offset);
  return line === 0 ? { line: 1, column: 1 } : { line, column: col };
}

function lineOf(lineCounter: LineCounter, offset: number): number {
  return position(lineCounter, offset).line;
}

/**
 * The source offset of the node at `path` (the value, or the key with `onKey`); when the path runs out (a
 * missing field), the deepest node that exists. A key with no value points at the key.
 */
function nodeOffset(doc: Document, path: readonly PropertyKey[], onKey = false): number {
  let current: unknown = doc.contents;
  let fallback = isNode(current) && current.range ? current.range[0] : 0;
  for (const [index, segment] of path.entries()) {
    if (isAlias(current)) current = current.resolve(doc);
    const last = index === path.length - 1;
    if (isMap(current)) {
      const pair = current.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return fallback;
      const key = pair.key as Scalar;
      const keyOffset = key.range ? key.range[0] : fallback;
      const value = pair.value;
      const empty = !isNode(value) || (isScalar(value) && value.value === null && !value.source);
      if (last && (onKey || empty)) return keyOffset;
      if (empty) return keyOffset;
      current = value;
    } else if (isSeq(current) && typeof segment === 'number') {
      const item = current.items[segment];
      if (!isNode(item)) return fallback;
      current = item;
    } else {
      return fallback;
    }
    if (isNode(current) && current.range) fallback = current.range[0];
  }
  return fallback;
}

/** The key that starts at `offset` (where yaml reports a duplicate key). */
function keyAt(doc: Document, offset: number): string | null {
  let found: string | null = null;
  visit(doc, {
    Pair: (_key, pair) => {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        found = String(pair.key.value);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number') current = current[segment];
    else if (isRecordValue(current) && Object.prototype.hasOwnProperty.call(current, segment)) current = current[segment as string];
    else return undefined;
  }
  return current;
}

/** `services[1].replicas.min (service "orders")`: the path a person would search for, with the item's name. */
function describePath(raw: unknown, path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) text += typeof segment === 'number' ? `[${segment}]` : `${text ? '.' : ''}${String(segment)}`;
  if (path.length >= 2 && (path[0] === 'services' || path[0] === 'sharedLibraries') && typeof path[1] === 'number') {
    const name = valueAt(raw, path.slice(0, 2).concat('name'));
    if (typeof name === 'string') text += ` (${path[0] === 'services' ? 'service' : 'shared library'} ${show(name)})`;
  }
  return text;
}

/** Reports keys the schema does not know (a typo such as `dependson` would otherwise be dropped silently). */
function checkUnknownFields(
  schema: Schema,
  value: unknown,
  path: PropertyKey[],
  raw: unknown,
  report: (path: PropertyKey[], key: string, known: string[]) => void,
): void {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject && isRecordValue(value)) {
    const shape = inner.shape as Record<string, Schema>;
    const known = Object.keys(shape);
    for (const key of Object.keys(value)) {
      const fieldSchema = shape[key];
      if (fieldSchema === undefined || !Object.prototype.hasOwnProperty.call(shape, key)) report(path, key, known);
      else checkUnknownFields(fieldSchema, value[key], [...path, key], raw, report);
    }
  } else if (inner instanceof z.ZodRecord && isRecordValue(value)) {
    for (const key of Object.keys(value)) checkUnknownFields(inner.valueType as Schema, value[key], [...path, key], raw, report);
  } else if (inner instanceof z.ZodArray && Array.isArray(value)) {
    value.forEach((item, index) => checkUnknownFields(inner.element as Schema, item, [...path, index], raw, report));
  }
}

const NAME_HINT =
  'Service and shared-library names become folder, image and host names: use a DNS label (lowercase letters, digits and hyphens, starting with a letter, at most 63 characters), e.g. "order-api".';

/** Device names Windows refuses as file or folder names, whatever the case or extension. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/;

function nameProblem(name: string): string | null {
  if (name === '') return 'is empty';
  if (name.length > 63) return `${show(name.slice(0, 20) + '…')} is ${name.length} characters long; a DNS label has at most 63`;
  if (!DNS_LABEL.test(name)) {
    const fixed = slug(name);
    return `${show(name)} is not a DNS label (lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen)${fixed && fixed !== name ? `; try ${show(fixed)}` : ''}`;
  }
  if (WINDOWS_RESERVED.test(name)) return `${show(name)} is a reserved device name on Windows and cannot name a folder; try ${show(`${name}-service`)}`;
  return null;
}

function slug(name: string): string {
  const text = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return DNS_LABEL.test(text) && !WINDOWS_RESERVED.test(text) ? text : '';
}

function modulePathProblem(entry: string): string | null {
  if (entry.trim() === '') return 'is empty';
  if (entry.startsWith('/') || /^[A-Za-z]:/.test(entry) || entry.startsWith('\\')) return 'is absolute; module paths are relative to the project root';
  if (entry.includes('\\')) return 'contains a backslash; use forward slashes';
  if (entry.split('/').includes('..')) return 'contains a ".." segment; module paths must stay inside the project';
  return null;
}

function looksLikeGlob(entry: string): boolean {
  return /[*?[\]{}]/.test(entry);
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function describeList(items: string[]): string {
  const shown = items.slice(0, 3).map(showPath).join(', ');
  return items.length > 3 ? `${shown} and ${items.length - 3} more` : shown;
}

/** A module path as it appears in a message: bare when plain (src/x.ts), else quoted as JSON. */
function showPath(value: string): string {
  return /^[\w./@*+-]+$/.test(value) ? value : JSON.stringify(value);
}

/** A name, key or other value in a message, quoted as JSON. */
function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function closest(typed: string, names: string[]): string | null {
  return nearestName(typed, names, (name) => Math.max(1, Math.min(2, Math.floor(name.length / 3))));
}
