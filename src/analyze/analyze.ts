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
import { Evaluator, type ModuleLookup, type Value, declarationKey } from './evaluator.js';
import { type EntityAccess, type EntityDefinition, type ModuleFacts, SQL_CLIENTS, extractFacts } from './facts.js';
import { readCoChange } from './git.js';
import { type ModuleImports, extractImports } from './imports.js';
import { MAX_SOURCE_BYTES, discoverProject } from './project.js';
import { type CallSite, ParsedModule, TreeCache, hasModifier, isFunctionLike, lineOf, lineOfRef, nodeAt, parseSource, refOf } from './parsed-module.js';
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
  const trees = new TreeCache(LIVE_TREES);
  const texts = new Map<string, string | null>();
  for (const file of layout.files) texts.set(file, readSource(root, file, diagnostics));
  const program = new Program(root, layout.files, texts, diagnostics, trees);
  const fileIndex = new Map(layout.files.map((file, index) => [file, index]));

  let entryFile: string | null = null;
  if (options.entry) {
    const absolute = path.resolve(root, options.entry);
    entryFile = toRepoPath(root, absolute);
    const entry = layout.files.find((file) => toRepoPath(root, file) === entryFile);
    if (entry === undefined || !program.moduleFor(entry)) {
      throw new UserError('DEC-011', `--entry ${options.entry}: not a source file of ${root}`, {
        hint: 'Give the path, relative to the project folder, of the file that calls express().',
      });
    }
  }

  const evaluator = new Evaluator(program, resolver);
  // Export lists are read from the tree that is parsed anyway, not from a second parse when first asked for.
  program.onParsed = (module) => evaluator.exportsOf(module.file);
  const routes = new RouteTableBuilder(evaluator);
  const readsSql = SQL_CLIENTS.some((pkg) => pkg in layout.dependencies);
  const signatures: Signatures = new Map();

  // Each module is read completely while its tree is alive: afterwards only plain data and NodeRefs remain, and
  // the tree is dropped when newer ones push it out of the cache. What each gives is kept by file and gathered
  // in file order below, so the result does not depend on the order of reading.
  const read = new Map<string, { module: ParsedModule; imports: ModuleImports; facts: ModuleFacts; info: ModuleInfo }>();
  const order = dependenciesFirst(layout.files, texts, resolver);
  order.forEach((file, index) => {
    const module = program.moduleFor(file);
    options.onProgress?.(index + 1, layout.files.length);
    if (!module) return;
    const source = module.source;
    const imports = extractImports(module, root, resolver);
    const facts = extractFacts(module, evaluator, { readsSql });
    const info: ModuleInfo = {
      path: module.path,
      language: module.language,
      format: imports.format,
      bytes: Buffer.byteLength(module.text),
      loc: countLines(module.text),
      externals: uniqueSorted(imports.externals),
      builtins: uniqueSorted(imports.builtins),
      exports: describeExports(module, evaluator, signatures),
    };
    const { calls, returns } = walkModule(source);
    evaluator.rememberReturns(module, returns);
    routes.summarize(module, calls, fileIndex.get(file)!);
    read.set(file, { module, imports, facts, info });
  });

  const modules: ParsedModule[] = [];
  const moduleInfos: ModuleInfo[] = [];
  const edges: ImportEdge[] = [];
  const unresolvedImports: UnresolvedImport[] = [];
  const definitions: EntityDefinition[] = [];
  const accesses: EntityAccess[] = [];
  const envAccesses: Array<{ name: string; module: string; line: number }> = [];
  const hazards: Analysis['hazards'] = [];
  const externalsSeen = new Map<string, string>();
  for (const file of layout.files) {
    const entry = read.get(file);
    if (!entry) continue;
    const { module, imports, facts, info } = entry;
    modules.push(module);
    edges.push(...imports.edges);
    unresolvedImports.push(...imports.unresolved);
    for (const pkg of imports.externals) if (!externalsSeen.has(pkg)) externalsSeen.set(pkg, module.path);
    definitions.push(...facts.definitions);
    accesses.push(...facts.accesses);
    envAccesses.push(...facts.env);
    hazards.push(...facts.hazards);
    moduleInfos.push(info);
  }
  read.clear();

  if (!externalsSeen.has('express')) throw noExpressError(root, externalsSeen, layout.dependencies);

  seeThroughBarrels(edges, modules, evaluator);
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
 * How many syntax trees stay alive. A module's own passes need only its tree; values that lead into other modules
 * (an imported router, a controller's handlers) need theirs, mostly soon after and close by, so recently used
 * trees are kept and an older one is parsed again when asked for.
 */
const LIVE_TREES = 8;

/** The project's modules, parsed in file order or earlier when a value leads into one (see ModuleLookup). */
class Program implements ModuleLookup {
  private readonly parsed = new Map<string, ParsedModule | null>();
  /** Called with each module as soon as it is parsed, while its tree is certainly alive. */
  onParsed: ((module: ParsedModule) => void) | null = null;

  constructor(
    private readonly root: string,
    private readonly fileList: string[],
    /** The text of every file that could be read (see readSource). */
    private readonly texts: Map<string, string | null>,
    private readonly diagnostics: Diagnostic[],
    private readonly trees: TreeCache,
  ) {}

  moduleFor(file: string): ParsedModule | undefined {
    let module = this.parsed.get(file);
    if (module === undefined) {
      const text = this.texts.get(file);
      if (text === undefined || text === null) return undefined;
      const result = parseModule(this.root, file, text, this.diagnostics, this.trees);
      module = result?.module ?? null;
      if (result) this.trees.add(result.module, result.source);
      this.parsed.set(file, module);
      if (module) this.onParsed?.(module);
    }
    return module ?? undefined;
  }

  *all(): Iterable<ParsedModule> {
    for (const file of this.fileList) {
      const module = this.moduleFor(file);
      if (module) yield module;
    }
  }
}

/** Import, export … from, require() and import() specifiers, found in the text without parsing it. */
const SPECIFIER = /(?:\bfrom|\bimport|\brequire\s*\()\s*\(?\s*['"]([^'"\n]+)['"]/g;

/**
 * The files in the order their modules are read: each after the modules it imports, as far as cycles allow, so
 * that a value that leads into another module mostly finds that module read (its values cached, its tree no
 * longer needed). Found from the text (see SPECIFIER): only the speed depends on it, not what is found.
 */
function dependenciesFirst(files: string[], texts: Map<string, string | null>, resolver: ModuleResolver): string[] {
  const dependencies = (file: string): string[] => {
    const text = texts.get(file);
    if (!text) return [];
    const out: string[] = [];
    for (const match of text.matchAll(SPECIFIER)) {
      const resolved = resolver.resolve(file, match[1]!);
      if (resolved.kind === 'internal' && texts.has(resolved.file)) out.push(resolved.file);
    }
    return out;
  };
  const order: string[] = [];
  const visited = new Set<string>();
  // Depth first, without recursion: import chains can be thousands of modules long.
  for (const start of files) {
    if (visited.has(start)) continue;
    visited.add(start);
    const stack: Array<{ file: string; next: string[]; index: number }> = [{ file: start, next: dependencies(start), index: 0 }];
    while (stack.length > 0) {
      const top = stack.at(-1)!;
      if (top.index < top.next.length) {
        const file = top.next[top.index++]!;
        if (!visited.has(file)) {
          visited.add(file);
          stack.push({ file, next: dependencies(file), index: 0 });
        }
      } else {
        order.push(top.file);
        stack.pop();
      }
    }
  }
  return order;
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

/** A source file's text, or null (and a diagnostic) when it is too large, unreadable, binary or not UTF-8. */
function readSource(root: string, file: string, diagnostics: Diagnostic[]): string | null {
  const skip = (code: string, message: string) => {
    diagnostics.push({ file: toRepoPath(root, file), line: 1, column: 1, code, message });
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
  return text;
}

function parseModule(root: string, file: string, text: string, diagnostics: Diagnostic[], trees: TreeCache): { module: ParsedModule; source: ts.SourceFile } | null {
  const repoPath = toRepoPath(root, file);
  const skip = (code: string, message: string, line = 1, column = 1) => {
    diagnostics.push({ file: repoPath, line, column, code, message });
    return null;
  };
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
/**
 * The calls and `new` expressions of a tree in walk order, and what each function returns (see
 * Evaluator.rememberReturns). Its depth was checked when it was first parsed.
 */
function walkModule(source: ts.SourceFile): { calls: Array<ts.CallExpression | ts.NewExpression>; returns: Map<ts.FunctionLikeDeclaration, ts.Expression[]> } {
  const calls: Array<ts.CallExpression | ts.NewExpression> = [];
  const returns = new Map<ts.FunctionLikeDeclaration, ts.Expression[]>();
  let enclosing: ts.FunctionLikeDeclaration | null = null;
  const visit = (node: ts.Node): void => {
    const kind = node.kind;
    if (kind === SyntaxKind.CallExpression || kind === SyntaxKind.NewExpression) calls.push(node as ts.CallExpression | ts.NewExpression);
    if (kind === SyntaxKind.ReturnStatement && enclosing !== null) {
      const expression = (node as ts.ReturnStatement).expression;
      if (expression) returns.get(enclosing)!.push(expression);
    }
    if (isFunctionLike(node)) {
      const outer = enclosing;
      enclosing = node;
      returns.set(node, node.body && node.body.kind !== SyntaxKind.Block ? [node.body as ts.Expression] : []);
      forEachChild(node, visit);
      enclosing = outer;
    } else {
      forEachChild(node, visit);
    }
  };
  forEachChild(source, visit);
  return { calls, returns };
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

/**
 * What describeValue reads of an exported function, by declarationKey: read in the module that defines it and
 * reused where it is re-exported, without that module's tree.
 */
type Signatures = Map<string, Pick<ExportedSymbol, 'line' | 'async' | 'params' | 'serializable'>>;

function describeExports(module: ParsedModule, evaluator: Evaluator, signatures: Signatures): ExportedSymbol[] {
  const out: ExportedSymbol[] = [];
  const exports = evaluator.exportsOf(module.file);
  const add = (name: string, value: Value, fallbackLine: number) => out.push(describeValue(module, name, value, fallbackLine, signatures));
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

function describeValue(module: ParsedModule, name: string, value: Value, fallbackLine: number, signatures: Signatures): ExportedSymbol {
  const base = { name, line: fallbackLine, async: false, params: [] as ExportedSymbol['params'], serializable: true };
  switch (value.k) {
    case 'function': {
      const key = declarationKey(value.module, value.node);
      let signature = signatures.get(key);
      if (!signature) {
        signature = functionSignature(value);
        signatures.set(key, signature);
      }
      return { ...base, kind: 'function', ...signature, params: signature.params.map((p) => ({ ...p })) };
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

function functionSignature(value: Value & { k: 'function' }): Pick<ExportedSymbol, 'line' | 'async' | 'params' | 'serializable'> {
  const node = nodeAt(value.module, value.node);
  const source = value.module.source;
  const params = node.parameters.map((p) => ({
    name: p.name.getText(source),
    type: p.type ? p.type.getText(source) : null,
  }));
  const isAsync = hasModifier(node, SyntaxKind.AsyncKeyword) || (node.type !== undefined && /^Promise</.test(node.type.getText(source)));
  const serializable = params.every((p) => !CALLBACK_NAME.test(p.name) && !(p.type && UNSERIALISABLE_TYPE.test(p.type)));
  return { line: lineOf(value.module, node), async: isAsync, params, serializable };
}
