import fs from 'node:fs';
import path from 'node:path';
import { ts } from 'ts-morph';
import {
  ANALYSIS_VERSION,
  type Analysis,
  type Diagnostic,
  type Entity,
  type EnvRead,
  type ExportedSymbol,
  type ImportEdge,
  type ModuleInfo,
  type UnresolvedImport,
} from '../model/analysis.js';
import { findCycles } from '../graph/cycles.js';
import { compareStrings, sortBy, uniqueSorted } from '../util/compare.js';
import { UserError } from '../util/errors.js';
import { toRepoPath } from '../util/paths.js';
import { Evaluator, type Value } from './evaluator.js';
import { type EntityAccess, type EntityDefinition, SQL_CLIENTS, extractFacts } from './facts.js';
import { readCoChange } from './git.js';
import { extractImports } from './imports.js';
import { MAX_SOURCE_BYTES, discoverProject } from './project.js';
import { type CallSite, ParsedModule, TreeCache, hasModifier, lineOf, lineOfRef, nodeAt, parseSource, refOf } from './parsed-module.js';
import { ModuleResolver } from './resolver.js';
import { RouteTableBuilder } from './routes.js';

// Bound once instead of read from `ts` at every use (see the note on `ts` in parsed-module.ts).
const { flattenDiagnosticMessageText, forEachChild, isIdentifier, isInterfaceDeclaration, isNewExpression,
  isStringLiteral, isTypeAliasDeclaration, SyntaxKind } = ts;

export interface AnalyzeOptions {
  /** The monolith's folder. */
  dir: string;
  /** Repo-relative or absolute path of the module that creates the app, when detection guesses wrong. */
  entry?: string;
  git?: { maxCommits: number; since: string | null } | null;
  onProgress?: (done: number, total: number) => void;
}

const OTHER_FRAMEWORKS: Record<string, string> = {
  koa: 'Koa',
  '@koa/router': 'Koa',
  'koa-router': 'Koa',
  fastify: 'Fastify',
  '@nestjs/core': 'NestJS',
  '@nestjs/common': 'NestJS',
  '@hapi/hapi': 'hapi',
  hapi: 'hapi',
  restify: 'Restify',
  hono: 'Hono',
  'next': 'Next.js',
};

/**
 * Reads the monolith statically (never imports or runs it) and returns the analysis: modules and imports,
 * the full route table, data ownership, configuration, scale-out hazards and optional change coupling.
 */
export async function analyze(options: AnalyzeOptions): Promise<Analysis> {
  const layout = discoverProject(options.dir);
  const root = layout.root;
  const resolver = new ModuleResolver(layout);
  const diagnostics: Diagnostic[] = [];
  const modules: ParsedModule[] = [];
  const trees = new TreeCache(Number.POSITIVE_INFINITY);
  layout.files.forEach((file, index) => {
    const parsed = parseModule(root, file, diagnostics, trees);
    if (parsed) {
      modules.push(parsed.module);
      trees.add(parsed.module, parsed.source);
    }
    options.onProgress?.(index + 1, layout.files.length);
  });

  let entryFile: string | null = null;
  if (options.entry) {
    const absolute = path.resolve(root, options.entry);
    entryFile = toRepoPath(root, absolute);
    if (!modules.some((m) => m.path === entryFile)) {
      throw new UserError('DEC-011', `--entry ${options.entry}: not a source file of ${root}`, {
        hint: 'Give the path, relative to the project folder, of the file that calls express().',
      });
    }
  }

  const evaluator = new Evaluator(modules, resolver);
  const moduleInfos: ModuleInfo[] = [];
  const edges: ImportEdge[] = [];
  const unresolvedImports: UnresolvedImport[] = [];
  const definitions: EntityDefinition[] = [];
  const accesses: EntityAccess[] = [];
  const envAccesses: Array<{ name: string; module: string; line: number }> = [];
  const hazards: Analysis['hazards'] = [];
  const externalsSeen = new Map<string, string>();
  const readsSql = SQL_CLIENTS.some((pkg) => pkg in layout.dependencies);

  for (const module of modules) {
    const imports = extractImports(module, root, resolver);
    edges.push(...imports.edges);
    unresolvedImports.push(...imports.unresolved);
    for (const pkg of imports.externals) if (!externalsSeen.has(pkg)) externalsSeen.set(pkg, module.path);
    const facts = extractFacts(module, evaluator, { readsSql });
    definitions.push(...facts.definitions);
    accesses.push(...facts.accesses);
    envAccesses.push(...facts.env);
    hazards.push(...facts.hazards);
    moduleInfos.push({
      path: module.path,
      language: module.language,
      format: imports.format,
      bytes: Buffer.byteLength(module.text),
      loc: countLines(module.text),
      externals: uniqueSorted(imports.externals),
      builtins: uniqueSorted(imports.builtins),
      exports: describeExports(module, evaluator),
    });
  }

  if (!externalsSeen.has('express')) throw noExpressError(root, externalsSeen, layout.dependencies);

  seeThroughBarrels(edges, modules, evaluator);
  const routes = new RouteTableBuilder(evaluator);
  for (const module of modules) routes.inspect(module, callsOf(module.source));
  const table = routes.build(entryFile);
  trees.clear();
  const runtimeEdges = edges.filter((e) => !e.typeOnly);
  const cycles = findCycles(
    moduleInfos.map((m) => m.path),
    runtimeEdges,
  );

  const coChange = options.git
    ? await readCoChange(root, new Set(moduleInfos.map((m) => m.path)), { ...options.git, maxFilesPerCommit: 50 })
    : null;

  return {
    version: ANALYSIS_VERSION,
    generator: 'decompose',
    project: {
      name: layout.name,
      framework: 'express',
      tsconfig: layout.tsconfig,
      entries: table.entries,
      packageDependencies: Object.fromEntries(Object.entries(layout.dependencies).sort(([a], [b]) => compareStrings(a, b))),
    },
    modules: sortBy(moduleInfos, (m) => m.path),
    imports: sortBy(dedupeEdges(edges), (e) => e.from, (e) => e.to, (e) => e.line, (e) => e.kind),
    unresolvedImports: sortBy(unresolvedImports, (u) => u.file, (u) => u.line, (u) => u.column),
    cycles,
    routes: table.routes,
    unresolvedRoutes: table.unresolved,
    entities: buildEntities(definitions, accesses),
    env: buildEnv(envAccesses),
    hazards: sortBy(hazardsInServer(hazards, table.entries, runtimeEdges), (h) => h.file, (h) => h.line, (h) => h.column, (h) => h.kind),
    coChange,
    diagnostics: sortBy(diagnostics, (d) => d.file, (d) => d.line),
  };
}

/**
 * Replicas only run what the server loads: hazards in scripts and tools that no entry reaches (a `bin/`
 * scaffolder, a seed script) are not scale-out hazards. Without a known entry every hazard is kept.
 */
function hazardsInServer(hazards: Analysis['hazards'], entries: string[], edges: ImportEdge[]): Analysis['hazards'] {
  if (entries.length === 0) return hazards;
  const next = new Map<string, string[]>();
  for (const edge of edges) next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  const reached = new Set(entries);
  const queue = [...entries];
  while (queue.length > 0) {
    for (const to of next.get(queue.pop()!) ?? []) {
      if (!reached.has(to)) {
        reached.add(to);
        queue.push(to);
      }
    }
  }
  return hazards.filter((h) => reached.has(h.file));
}

function parseModule(root: string, file: string, diagnostics: Diagnostic[], trees: TreeCache): { module: ParsedModule; source: ts.SourceFile } | null {
  const repoPath = toRepoPath(root, file);
  const skip = (code: string, message: string, line = 1, column = 1) => {
    diagnostics.push({ file: repoPath, line, column, code, message });
    return null;
  };
  let bytes: Buffer;
  try {
    // Checked before reading too: a multi-gigabyte file must not be read into memory only to be skipped.
    const size = fs.statSync(file).size;
    if (size > MAX_SOURCE_BYTES) return skip('too-large', `skipped: ${size} bytes is larger than ${MAX_SOURCE_BYTES} (generated or bundled code?)`);
    bytes = fs.readFileSync(file);
  } catch (error) {
    return skip('unreadable', `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (bytes.length > MAX_SOURCE_BYTES) return skip('too-large', `skipped: ${bytes.length} bytes is larger than ${MAX_SOURCE_BYTES} (generated or bundled code?)`);
  if (bytes.includes(0)) return skip('binary', 'skipped: binary content (NUL bytes)');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return skip('encoding', 'skipped: not valid UTF-8');
  }
  let source: ts.SourceFile;
  try {
    source = parseSource(file, text);
  } catch (error) {
    // The compiler's parser is recursive: thousands of nested brackets overflow the stack.
    if (error instanceof RangeError) return skip('too-deep', 'skipped: nested too deeply to parse (generated code?)');
    throw error;
  }
  const parseErrors = (source as unknown as { parseDiagnostics?: ts.DiagnosticWithLocation[] }).parseDiagnostics ?? [];
  if (parseErrors.length > 0) {
    const first = parseErrors[0]!;
    const { line, character } = source.getLineAndCharacterOfPosition(first.start);
    return skip('syntax-error', `skipped: syntax error: ${flattenDiagnosticMessageText(first.messageText, ' ')}`, line + 1, character + 1);
  }
  const calls = collectCalls(source);
  if (calls === null) {
    const deepest = deepestNode(source)!;
    const { line, character } = source.getLineAndCharacterOfPosition(deepest.getStart(source));
    return skip('too-deep', `skipped: syntax nested more than ${MAX_AST_DEPTH} levels deep (generated code?)`, line + 1, character + 1);
  }
  const sites: CallSite[] = [];
  for (const call of calls) {
    if ((call.arguments?.length ?? 0) === 0) continue;
    sites.push({ isNew: isNewExpression(call), callee: refOf(call.expression), args: call.arguments!.map(refOf) });
  }
  const module = new ParsedModule(file, repoPath, text, /\.[cm]?tsx?$/.test(file) ? 'ts' : 'js', sites, trees);
  return { module, source };
}

/** The calls and `new` expressions of a tree in walk order (its depth was checked when it was first parsed). */
function callsOf(source: ts.SourceFile): Array<ts.CallExpression | ts.NewExpression> {
  const calls: Array<ts.CallExpression | ts.NewExpression> = [];
  const visit = (node: ts.Node): void => {
    if (node.kind === SyntaxKind.CallExpression || node.kind === SyntaxKind.NewExpression) calls.push(node as ts.CallExpression | ts.NewExpression);
    forEachChild(node, visit);
  };
  forEachChild(source, visit);
  return calls;
}

/**
 * The calls and `new` expressions of a module in walk order, or null when its syntax nests deeper than
 * MAX_AST_DEPTH. The walk never goes below that depth, so it cannot overflow the stack.
 */
function collectCalls(source: ts.SourceFile): Array<ts.CallExpression | ts.NewExpression> | null {
  const calls: Array<ts.CallExpression | ts.NewExpression> = [];
  let depth = 0;
  let tooDeep = false;
  const visit = (node: ts.Node): boolean | undefined => {
    depth += 1;
    if (depth > MAX_AST_DEPTH) {
      tooDeep = true;
    } else {
      if (node.kind === SyntaxKind.CallExpression || node.kind === SyntaxKind.NewExpression) calls.push(node as ts.CallExpression | ts.NewExpression);
      forEachChild(node, visit);
    }
    depth -= 1;
    // A truthy result stops ts.forEachChild: once too deep, the rest of the tree does not matter.
    return tooDeep || undefined;
  };
  forEachChild(source, visit);
  return tooDeep ? null : calls;
}

/**
 * How deeply syntax may nest. Every later reading of a module walks its tree recursively, so a much deeper tree
 * (thousands of nested brackets or `else if`s, generated code) would overflow the stack; hand-written code stays
 * well below a hundred, and trees twice this deep were still read safely when the limit was set.
 */
export const MAX_AST_DEPTH = 1000;

/**
 * The first node nested deeper than MAX_AST_DEPTH, found without recursion; null when the tree is shallower.
 * Only run on a tree already known to be too deep, to name the node the diagnostic points at.
 */
function deepestNode(source: ts.SourceFile): ts.Node | null {
  const stack: Array<[ts.Node, number]> = [[source, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > MAX_AST_DEPTH) return node;
    forEachChild(node, (child) => {
      stack.push([child, depth + 1]);
    });
  }
  return null;
}

/**
 * For an import of names that the target only passes on (a barrel, a models index), record the modules that
 * really define them, so later stages can see which domain a module depends on.
 */
function seeThroughBarrels(edges: ImportEdge[], modules: ParsedModule[], evaluator: Evaluator): void {
  const byPath = new Map(modules.map((m) => [m.path, m]));
  for (const edge of edges) {
    const target = byPath.get(edge.to);
    if (!target) continue;
    const names = [...edge.names.filter((n) => n !== '*'), ...edge.members];
    const definers = new Set<string>();
    for (const name of names) {
      const definer = evaluator.definingModule(evaluator.exportOf(target.file, name));
      if (definer && definer !== edge.to && definer !== edge.from) definers.add(definer);
    }
    edge.through = [...definers].sort(compareStrings);
  }
}

function countLines(text: string): number {
  let count = 0;
  for (const line of text.split('\n')) if (line.trim().length > 0) count += 1;
  return count;
}

function noExpressError(root: string, externals: Map<string, string>, dependencies: Record<string, string>): UserError {
  const found = Object.keys(OTHER_FRAMEWORKS)
    .filter((pkg) => externals.has(pkg) || pkg in dependencies)
    .map((pkg) => `${OTHER_FRAMEWORKS[pkg]} (${externals.has(pkg) ? `imported in ${externals.get(pkg)}` : 'in package.json'})`);
  const what = found.length > 0 ? `found ${[...new Set(found)].join(', ')} instead` : 'no web framework import found';
  return new UserError('DEC-010', `${root}: no Express app found: ${what}`, {
    hint: 'decompose reads Express apps (express() and express.Router()). Use --entry FILE if the app is created in an unusual place.',
  });
}

function dedupeEdges(edges: ImportEdge[]): ImportEdge[] {
  const seen = new Set<string>();
  return edges.filter((e) => {
    const key = `${e.from}\0${e.to}\0${e.line}\0${e.kind}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function buildEntities(definitions: EntityDefinition[], accesses: EntityAccess[]): Entity[] {
  const byName = new Map<string, Entity>();
  const get = (name: string, kind: Entity['kind']): Entity => {
    let entity = byName.get(name);
    if (!entity) {
      entity = { name, kind, definedIn: [], readers: [], writers: [], accesses: [] };
      byName.set(name, entity);
    }
    return entity;
  };
  for (const d of definitions) get(d.name, d.kind).definedIn.push({ module: d.module, line: d.line });
  for (const a of accesses) {
    const entity = get(a.entity, a.kind);
    entity.accesses.push({ module: a.module, line: a.line, operation: a.operation, mode: a.mode });
  }
  return sortBy(byName.values(), (e) => e.name).map((entity) => {
    const accessesSorted = sortBy(entity.accesses, (a) => a.module, (a) => a.line, (a) => a.operation);
    return {
      ...entity,
      definedIn: sortBy(entity.definedIn, (d) => d.module, (d) => d.line),
      accesses: accessesSorted,
      readers: uniqueSorted(accessesSorted.filter((a) => a.mode === 'read').map((a) => a.module)),
      writers: uniqueSorted(accessesSorted.filter((a) => a.mode === 'write').map((a) => a.module)),
    };
  });
}

const SECRET_PART = /^(SECRET|SECRETS|TOKEN|TOKENS|PASSWORD|PASSWD|PASS|PWD|KEY|KEYS|APIKEY|PRIVATE|CREDENTIAL|CREDENTIALS|SALT|PASSPHRASE|AUTH|SIGNATURE|CERT)$/;
const CONNECTION_STRING = /^(DATABASE|DB|MONGO|MONGODB|POSTGRES|PG|MYSQL|REDIS|AMQP|RABBITMQ)_?(URL|URI|DSN|CONNECTION(_STRING)?)$/;

/** A variable name that probably holds a credential: SECRET, TOKEN, PASSWORD, *_KEY … or a connection string. */
export function isSecretLike(name: string): boolean {
  const upper = name.toUpperCase();
  if (CONNECTION_STRING.test(upper) || upper === 'DSN') return true;
  return upper.split(/[_\-.]/).some((part) => SECRET_PART.test(part));
}

function buildEnv(reads: Array<{ name: string; module: string; line: number }>): EnvRead[] {
  const byName = new Map<string, Array<{ module: string; line: number }>>();
  for (const read of reads) {
    const list = byName.get(read.name) ?? [];
    if (!list.some((r) => r.module === read.module && r.line === read.line)) list.push({ module: read.module, line: read.line });
    byName.set(read.name, list);
  }
  return [...byName]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([name, modules]) => ({ name, secretLike: isSecretLike(name), modules: sortBy(modules, (m) => m.module, (m) => m.line) }));
}

const UNSERIALISABLE_TYPE = /=>|\bFunction\b|\bMap<|\bSet<|\bWeakMap\b|\bRequest\b|\bResponse\b|\bNextFunction\b|\bStream\b|\bBuffer\b|\bPromise<|\bSymbol\b|\bsymbol\b|\bReadable\b|\bSocket\b/;
const CALLBACK_NAME = /^(cb|callback|next|done|fn|handler|listener|onSuccess|onError|req|res)$/;

function describeExports(module: ParsedModule, evaluator: Evaluator): ExportedSymbol[] {
  const out: ExportedSymbol[] = [];
  const exports = evaluator.exportsOf(module.file);
  const add = (name: string, value: Value, fallbackLine: number) => out.push(describeValue(module, name, value, fallbackLine));
  for (const [name, get] of exports.named) add(name, get(), 1);
  if (exports.whole) {
    const whole = exports.whole();
    if (whole.k === 'object') {
      for (const property of nodeAt(whole.module, whole.node).properties) {
        const name = property.name && (isIdentifier(property.name) || isStringLiteral(property.name)) ? property.name.text : null;
        if (name && !exports.named.has(name)) add(name, evaluator.member(whole, name), lineOf(whole.module, property));
      }
    } else {
      add('default', whole, 1);
    }
  }
  for (const statement of module.source.statements) {
    if ((isInterfaceDeclaration(statement) || isTypeAliasDeclaration(statement)) && hasModifier(statement, SyntaxKind.ExportKeyword)) {
      out.push({ name: statement.name.text, kind: 'type', line: lineOf(module, statement), async: false, params: [], serializable: true });
    }
  }
  return sortBy(out, (e) => e.name);
}

function describeValue(module: ParsedModule, name: string, value: Value, fallbackLine: number): ExportedSymbol {
  const base = { name, line: fallbackLine, async: false, params: [] as ExportedSymbol['params'], serializable: true };
  switch (value.k) {
    case 'function': {
      const node = nodeAt(value.module, value.node);
      const params = node.parameters.map((p) => ({
        name: p.name.getText(value.module.source),
        type: p.type ? p.type.getText(value.module.source) : null,
      }));
      const isAsync = hasModifier(node, SyntaxKind.AsyncKeyword) || (node.type !== undefined && /^Promise</.test(node.type.getText(value.module.source)));
      const serializable = params.every((p) => !CALLBACK_NAME.test(p.name) && !(p.type && UNSERIALISABLE_TYPE.test(p.type)));
      return { ...base, kind: 'function', line: lineOf(value.module, node), async: isAsync, params, serializable };
    }
    case 'class':
      return { ...base, kind: 'class', line: lineOfRef(value.module, value.node), serializable: false };
    case 'router':
      return { ...base, kind: 'router', line: lineOfRef(value.module, value.node), serializable: false };
    case 'entity':
      return { ...base, kind: 'entity', serializable: false };
    case 'instance':
      return { ...base, kind: 'variable', serializable: false };
    case 'unknown':
      return { ...base, kind: 'unknown' };
    default:
      void module;
      return { ...base, kind: 'variable' };
  }
}
