import { createRequire } from 'node:module';
import type { Document, LineCounter, Scalar } from 'yaml';
import { DNS_LABEL, PLAN_VERSION } from '../model/plan-constants.js';
import type { Plan } from '../model/plan.js';
import { compareStrings } from '../util/compare.js';
import { UserError } from '../util/errors.js';
import { nearestName } from '../util/nearest.js';

// Validating a plan file from what its reader found (see PlanReading), without zod or js-yaml: check runs the reader
// in a worker thread while it analyses (app/plan-in-background.ts) and this on the main thread. parse-plan.ts reads
// and validates in one step; writing a plan is plan-file.ts.

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

export function isRecordValue(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

let loadedYaml: typeof import('yaml') | null = null;

/**
 * The yaml package, loaded the first time a plan needs it: one the fast reader leaves to it (see readPlanValue),
 * or one with a problem to place. Most plans are read without it, and loading it would cost `check` on a small
 * repository ~15 ms. require() because parsing is synchronous; yaml is a CommonJS package, so this is the
 * same instance plan-file.ts imports.
 */
export function yaml(): typeof import('yaml') {
  loadedYaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return loadedYaml;
}

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

/** One issue the plan schema found: where, zod's code and its message. */
export interface ShapeIssue {
  path: PropertyKey[];
  code: string;
  message: string;
}

/** A key the plan schema does not know, at `path`, with the keys it knows there. */
export interface UnknownField {
  path: PropertyKey[];
  key: string;
  known: string[];
}

/** What the plan schema says of a plan's value: the plan when it fits, the issues when it does not. */
export interface PlanShape {
  data: Plan | null;
  issues: ShapeIssue[];
  unknownFields: UnknownField[];
}

/**
 * What reading a plan's text gave (parse-plan.ts, readPlan): its value, and its shape when the value is a mapping.
 * Plain data, so that it can be made in a worker thread. null when the text is not readable YAML: validatePlan then
 * parses it with yaml to say where.
 */
export type PlanReading = { value: unknown; shape: PlanShape | null } | null;

/**
 * Validates a plan file from what readPlan (parse-plan.ts) read of it. Every problem is collected; one `UserError` reports them all: `DEC-050` when the YAML does not
 * parse, `DEC-051` when the shape or a field's format is wrong (version, types, names, paths), `DEC-052` when the
 * values do not fit together or do not fit the repository (overlapping modules, unknown modules, two owners, unknown
 * dependencies, replicas, another project). The error's position is the first problem's node; the rest are details.
 */
export function validatePlan(text: string, file: string, context: PlanFileContext, reading: PlanReading): Plan {
  // The document (with its source positions) is only needed to place problems; a plan the fast reader reads
  // (see readPlanValue) is not parsed by yaml unless one is found.
  let parsedDocument: { doc: Document; lineCounter: LineCounter } | null = null;
  const document = () => {
    if (!parsedDocument) {
      const { LineCounter, parseDocument } = yaml();
      const lineCounter = new LineCounter();
      parsedDocument = { doc: parseDocument(text, { ...PARSE_OPTIONS, lineCounter }), lineCounter };
    }
    return parsedDocument;
  };
  const fail = (problems: Problem[]): never => {
    throw toUserError(problems, file, document().lineCounter);
  };

  let raw: unknown;
  if (reading) {
    raw = reading.value;
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
      doc.toJS(TO_JS_OPTIONS);
    } catch (error) {
      fail([{ code: 'DEC-050', offset: 0, message: `YAML cannot be read: ${error instanceof Error ? error.message : String(error)}` }]);
    }
    throw new Error('internal error: the plan reader found no value in a plan yaml reads');
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
  const shape = reading?.shape;
  if (!shape) throw new Error('internal error: a plan mapping was read without its shape');
  if (shape.issues.length > 0) {
    const missing = new Map<string, { parent: PropertyKey[]; fields: string[] }>();
    for (const issue of shape.issues) {
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
  for (const { path, key, known } of shape.unknownFields) {
    const suggestion = closest(key, known);
    const where = describePath(raw, path);
    add(
      'DEC-051',
      at([...path, key], true),
      `unknown field ${show(key)}${where ? ` in ${where}` : ' at the top level'}${suggestion ? `; did you mean ${show(suggestion)}?` : ''}`,
      `Known fields here: ${known.join(', ')}.`,
    );
  }

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
  if (!shape.data) throw new Error('plan failed the schema without a reported problem'); // unreachable: every issue is a problem
  return shape.data;
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
  const { isAlias, isMap, isNode, isScalar, isSeq } = yaml();
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
  const { isScalar, visit } = yaml();
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
