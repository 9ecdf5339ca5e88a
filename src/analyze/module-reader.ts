import fs from 'node:fs';
import path from 'node:path';
import type { ts } from 'ts-morph';
import { typescript } from './typescript.js';
import type { Diagnostic, ExportedSymbol, Hazard, ImportEdge, ModuleInfo, UnresolvedImport } from '../model/analysis.js';
import { compareStrings, sortBy, uniqueSorted } from '../util/compare.js';
import { toRepoPath } from '../util/paths.js';
import { Evaluator, type ModuleLookup, type SharedCallIndex, type Value, declarationKey } from './evaluator.js';
import { type EntityAccess, type EntityDefinition, type EnvAccess, extractFacts } from './facts.js';
import { extractImports } from './imports.js';
import { MAX_SOURCE_BYTES, type ProjectLayout } from './project.js';
import { INSIDE_FUNCTION, MAX_AST_DEPTH, ParsedModule, packCallSites, type ScopeDeclarations, TreeCache, type TreeWalk, hasModifier, isFunctionLike, lineOf, lineOfRef, nodeAt, parseSource, walkTree } from './parsed-module.js';
import { ModuleResolver } from './resolver.js';
import type { PartitionRoutes } from './route-table.js';
import { RouteReader } from './routes.js';

// Bound once instead of read from `ts` at every use (see the note on `ts` in parsed-module.ts).
const { flattenDiagnosticMessageText, isIdentifier, isInterfaceDeclaration,
  isStringLiteral, isTypeAliasDeclaration, SyntaxKind } = typescript;

/** What reading one module gives, as plain data. */
export interface ModuleReading {
  /** The module's index in the project's file list. */
  fileIndex: number;
  info: ModuleInfo;
  edges: ImportEdge[];
  unresolvedImports: UnresolvedImport[];
  /** Packages it imports, in the order it first imports them. */
  externals: string[];
  definitions: EntityDefinition[];
  accesses: EntityAccess[];
  env: EnvAccess[];
  hazards: Hazard[];
}

/** What a partition's modules give, as plain data (see PartitionReader.readModules). */
export interface PartitionModules {
  modules: ModuleReading[];
  diagnostics: Diagnostic[];
  /** The partition's share of the call index: by target key, pairs of file index and call-site index. */
  callSites: Map<string, number[]>;
}

export interface PartitionOptions {
  /** Whether the program reads SQL (a SQL client is a dependency). */
  readsSql: boolean;
  /** Called after each module the partition reads, with how many it has read. */
  onProgress?: (done: number) => void;
}

/**
 * Reads a partition of the program: some of its files (`owned`), each completely while its syntax tree is alive,
 * following values into any other module as they lead there. One reader lives in one thread; the analysis splits
 * a large program into partitions read side by side (see partitions.ts) and merges their plain results.
 * Reading is in two steps, because loops over a function's parameter need the call sites of the whole program:
 * readModules, then (with the merged call index, or null when this partition owns every file) readRoutes.
 */
export class PartitionReader {
  private readonly root: string;
  private readonly owned: string[];
  private readonly ownedSet: ReadonlySet<string>;
  private readonly fileIndex: Map<string, number>;
  private readonly resolver: ModuleResolver;
  private readonly trees = new TreeCache(LIVE_TREES);
  private readonly program: Program;
  private readonly evaluator: Evaluator;
  private readonly routes: RouteReader;
  private readonly diagnostics: Diagnostic[] = [];
  /** The owned modules readModules has come to (every one, once it is done). */
  private readonly readFiles = new Set<string>();

  constructor(
    private readonly layout: ProjectLayout,
    ownedIndexes: readonly number[],
    private readonly options: PartitionOptions,
  ) {
    this.root = layout.root;
    this.owned = ownedIndexes.map((index) => layout.files[index]!);
    this.ownedSet = new Set(this.owned);
    this.fileIndex = new Map(layout.files.map((file, index) => [file, index]));
    this.resolver = new ModuleResolver(layout);
    this.program = new Program(this.root, layout.files, this.fileIndex, this.ownedSet, this.diagnostics, this.trees);
    this.evaluator = new Evaluator(this.program, this.resolver);
    // Export lists are read from the tree that is parsed anyway, not from a second parse when first asked for.
    this.program.onParsed = (module) => {
      this.evaluator.exportsOf(module.file);
      // An owned module parsed before its turn (a value led into it) keeps its tree until it is read.
      if (this.ownedSet.has(module.file) && !this.readFiles.has(module.file)) this.trees.pin(module);
    };
    this.routes = new RouteReader(this.evaluator);
  }

  /**
   * Reads every owned module: imports, data access, configuration, hazards and exports, and what the route table
   * needs of it. What each gives is returned in file order, so the result does not depend on the order of reading.
   */
  readModules(): PartitionModules {
    const { root, program, evaluator, resolver } = this;
    const signatures: Signatures = new Map();
    const read = new Map<string, ModuleReading>();
    const order = dependenciesFirst(this.owned, this.ownedSet, program, resolver);
    order.forEach((file, index) => {
      this.readFiles.add(file);
      const module = program.moduleFor(file);
      this.options.onProgress?.(index + 1);
      if (!module) return;
      const walk = module.walk;
      const imports = extractImports(module, walk, root, resolver);
      const facts = extractFacts(module, walk, evaluator, { readsSql: this.options.readsSql });
      // Keys in sorted order, as the analysis file has them (see sortKeysDeep).
      const info: ModuleInfo = {
        builtins: uniqueSorted(imports.builtins),
        bytes: Buffer.byteLength(module.text),
        exports: describeExports(module, evaluator, signatures),
        externals: uniqueSorted(imports.externals),
        format: imports.format,
        language: module.language,
        loc: countLines(module.text),
        path: module.path,
      };
      evaluator.rememberReturns(module, returnsOf(walk));
      const fileIndex = this.fileIndex.get(file)!;
      this.routes.summarize(module, walk.calls, fileIndex);
      read.set(file, {
        fileIndex,
        info,
        edges: imports.edges,
        unresolvedImports: imports.unresolved,
        externals: [...imports.externals],
        definitions: facts.definitions,
        accesses: facts.accesses,
        env: facts.env,
        hazards: facts.hazards,
      });
      this.trees.unpin(module);
    });
    const modules = this.owned.flatMap((file) => read.get(file) ?? []);
    seeThroughBarrels(modules.flatMap((m) => m.edges), root, program, evaluator);
    // A partition that owns every file builds the call index itself, and only if it needs one.
    const callSites = this.owned.length < this.layout.files.length ? this.callSitesOf(modules) : new Map<string, number[]>();
    return { modules, diagnostics: this.diagnostics, callSites };
  }

  /** This partition's share of the call index (see Evaluator.useCallIndex): what each call site of its modules calls. */
  private callSitesOf(modules: ModuleReading[]): Map<string, number[]> {
    const callSites = new Map<string, number[]>();
    for (const reading of modules) {
      const module = this.program.moduleFor(this.layout.files[reading.fileIndex]!)!;
      this.evaluator.callTargetsOf(module).forEach((key, site) => {
        if (key === null) return;
        const list = callSites.get(key);
        if (list) list.push(reading.fileIndex, site);
        else callSites.set(key, [reading.fileIndex, site]);
      });
    }
    return callSites;
  }

  /**
   * Reads the route registrations of the owned modules to plain data. `callSites`: the call index of the whole
   * program merged from every partition's, or null when this partition owns every file (the index is then built
   * here when first needed).
   */
  readRoutes(callSites: ReadonlyMap<string, readonly number[]> | null): PartitionRoutes {
    if (callSites !== null) this.evaluator.useCallIndex({ files: this.layout.files, sites: callSites } satisfies SharedCallIndex);
    const routes = this.routes.resolve();
    this.trees.clear();
    return routes;
  }
}

/**
 * How many syntax trees stay alive. A module's own passes need only its tree; values that lead into other modules
 * (an imported router, a controller's handlers) need theirs, mostly soon after and close by, so recently used
 * trees are kept and an older one is parsed again when asked for.
 */
const LIVE_TREES = 8;

/**
 * The project's modules, parsed when first asked for: a partition's own modules in its reading order, any other
 * module when a value leads into it (see ModuleLookup). Files are read when first needed. Diagnostics are kept
 * for the partition's own files only: the partition that owns a file reports it, once.
 */
class Program implements ModuleLookup {
  private readonly parsed = new Map<string, ParsedModule | null>();
  private readonly texts = new Map<string, string | null>();
  /** Called with each module as soon as it is parsed, while its tree is certainly alive. */
  onParsed: ((module: ParsedModule) => void) | null = null;

  constructor(
    private readonly root: string,
    private readonly fileList: readonly string[],
    /** Every project file, with its index in fileList. */
    private readonly projectFiles: ReadonlyMap<string, number>,
    private readonly owned: ReadonlySet<string>,
    private readonly diagnostics: Diagnostic[],
    private readonly trees: TreeCache,
  ) {}

  /** A project file's text, or null when it cannot be analysed (see readSource). */
  textOf(file: string): string | null {
    let text = this.texts.get(file);
    if (text === undefined) {
      text = this.projectFiles.has(file) ? readSource(this.root, file, this.diagnosticsFor(file)) : null;
      this.texts.set(file, text);
    }
    return text;
  }

  moduleFor(file: string): ParsedModule | undefined {
    let module = this.parsed.get(file);
    if (module === undefined) {
      const text = this.textOf(file);
      if (text === null) return undefined;
      const result = parseModule(this.root, file, text, this.diagnosticsFor(file), this.trees);
      module = result?.module ?? null;
      if (result) this.trees.add(result.module, result.source, result.walk);
      this.parsed.set(file, module);
      if (module) this.onParsed?.(module);
    }
    return module ?? undefined;
  }

  scopesOf(tree: ts.SourceFile): ScopeDeclarations | null {
    return this.trees.scopesOf(tree);
  }

  *all(): Iterable<ParsedModule> {
    for (const file of this.fileList) {
      const module = this.moduleFor(file);
      if (module) yield module;
    }
  }

  private diagnosticsFor(file: string): Diagnostic[] {
    return this.owned.has(file) ? this.diagnostics : [];
  }
}

/** Import, export … from, require() and import() specifiers, found in the text without parsing it. */
const SPECIFIER = /(?:\bfrom|\bimport|\brequire\s*\()\s*\(?\s*['"]([^'"\n]+)['"]/g;

/** Whether a file can be read and parsed without errors (for --entry: checked before the analysis starts). */
export function isAnalysable(root: string, file: string): boolean {
  const text = readSource(root, file, []);
  return text !== null && parseModule(root, file, text, [], new TreeCache(1)) !== null;
}

/**
 * A partition's files in the order their modules are read: each after the modules it imports (within the
 * partition), as far as cycles allow, so that a value that leads into another module mostly finds that module
 * read (its values cached, its tree no longer needed). Found from the text (see SPECIFIER): only the speed depends
 * on it, not what is found.
 */
function dependenciesFirst(files: readonly string[], owned: ReadonlySet<string>, program: Program, resolver: ModuleResolver): string[] {
  const dependencies = (file: string): string[] => {
    const text = program.textOf(file);
    if (!text) return [];
    const out: string[] = [];
    for (const match of text.matchAll(SPECIFIER)) {
      const resolved = resolver.resolve(file, match[1]!);
      if (resolved.kind === 'internal' && owned.has(resolved.file)) out.push(resolved.file);
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


/** A source file's text, or null (and a diagnostic) when it is too large, unreadable, binary or not UTF-8. */
export function readSource(root: string, file: string, diagnostics: Diagnostic[]): string | null {
  const skip = (code: string, message: string) => {
    diagnostics.push({ code, column: 1, file: toRepoPath(root, file), line: 1, message });
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

function parseModule(root: string, file: string, text: string, diagnostics: Diagnostic[], trees: TreeCache): { module: ParsedModule; source: ts.SourceFile; walk: TreeWalk } | null {
  const repoPath = toRepoPath(root, file);
  const skip = (code: string, message: string, line = 1, column = 1) => {
    diagnostics.push({ code, column, file: repoPath, line, message });
    return null;
  };
  // Line 1, column 1 whichever way a tree turns out too deep: a position read off the tree would exist only when the
  // parser had the stack to finish, and the output must not depend on that.
  const tooDeep = () => skip('too-deep', `skipped: syntax nested more than ${MAX_AST_DEPTH} levels deep (generated code?)`);
  let source: ts.SourceFile;
  try {
    source = parseSource(file, text);
  } catch (error) {
    // The compiler's parser is recursive: thousands of nested brackets overflow the stack. Only a tree deeper than
    // MAX_AST_DEPTH can (see there), so this is the verdict a finished parse would get.
    if (error instanceof RangeError) return tooDeep();
    throw error;
  }
  // Depth before syntax errors: a deep file with a syntax error gets the same diagnostic whether or not it parsed.
  const walk = walkTree(source);
  if (walk === null) return tooDeep();
  const parseErrors = (source as unknown as { parseDiagnostics?: ts.DiagnosticWithLocation[] }).parseDiagnostics ?? [];
  if (parseErrors.length > 0) {
    const first = parseErrors[0]!;
    const { line, character } = source.getLineAndCharacterOfPosition(first.start);
    return skip('syntax-error', `skipped: syntax error: ${flattenDiagnosticMessageText(first.messageText, ' ')}`, line + 1, character + 1);
  }
  const module = new ParsedModule(file, repoPath, text, /\.[cm]?tsx?$/.test(file) ? 'ts' : 'js', packCallSites(walk.calls), walk.nodes.length, trees);
  return { module, source, walk };
}

/** What each function of a walked tree returns, in walk order (see Evaluator.rememberReturns). */
function returnsOf(walk: TreeWalk): Map<ts.FunctionLikeDeclaration, ts.Expression[]> {
  const returns = new Map<ts.FunctionLikeDeclaration, ts.Expression[]>();
  const { nodes, flags } = walk;
  for (let index = 0; index < nodes.length; index += 1) {
    const node = nodes[index]!;
    if (isFunctionLike(node)) {
      returns.set(node, node.body && node.body.kind !== SyntaxKind.Block ? [node.body as ts.Expression] : []);
    } else if (node.kind === SyntaxKind.ReturnStatement && (flags[index]! & INSIDE_FUNCTION) !== 0) {
      const expression = (node as ts.ReturnStatement).expression;
      if (!expression) continue;
      let enclosing = node.parent;
      while (!isFunctionLike(enclosing)) enclosing = enclosing.parent;
      returns.get(enclosing)!.push(expression);
    }
  }
  return returns;
}

/**
 * For an import of names that the target only passes on (a barrel, a models index), record the modules that
 * really define them, so later stages can see which domain a module depends on.
 */
function seeThroughBarrels(edges: ImportEdge[], root: string, program: Program, evaluator: Evaluator): void {
  for (const edge of edges) {
    const target = program.moduleFor(path.join(root, edge.to));
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

/**
 * The lines that are not blank: what `text.split('\n').filter((l) => l.trim() !== '').length` counts, without
 * making a string of every line. Each line is read only up to its first character that is not blank (indexOf finds
 * the line ends): a third of the time split and trim took, and nothing to collect.
 */
export function countLines(text: string): number {
  let count = 0;
  let start = 0;
  for (;;) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    for (let i = start; i < end; i += 1) {
      if (!isTrimmedByTrim(text.charCodeAt(i))) {
        count += 1;
        break;
      }
    }
    if (newline === -1) return count;
    start = newline + 1;
  }
}

/** The code units String.prototype.trim removes: ECMAScript WhiteSpace and LineTerminator. */
function isTrimmedByTrim(code: number): boolean {
  if (code <= 32) return code === 32 || (code >= 9 && code <= 13);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff
  );
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
      out.push({ async: false, kind: 'type', line: lineOf(module, statement), name: statement.name.text, params: [], serializable: true });
    }
  }
  return sortBy(out, (e) => e.name);
}

function describeValue(module: ParsedModule, name: string, value: Value, fallbackLine: number, signatures: Signatures): ExportedSymbol {
  // Keys in sorted order, as the analysis file has them (see sortKeysDeep).
  const symbol = (kind: ExportedSymbol['kind'], line: number, serializable: boolean): ExportedSymbol => ({ async: false, kind, line, name, params: [], serializable });
  switch (value.k) {
    case 'function': {
      const key = declarationKey(value.module, value.node);
      let signature = signatures.get(key);
      if (!signature) {
        signature = functionSignature(value);
        signatures.set(key, signature);
      }
      return { async: signature.async, kind: 'function', line: signature.line, name, params: signature.params.map((p) => ({ name: p.name, type: p.type })), serializable: signature.serializable };
    }
    case 'class':
      return symbol('class', lineOfRef(value.module, value.node), false);
    case 'router':
      return symbol('router', lineOfRef(value.module, value.node), false);
    case 'entity':
      return symbol('entity', fallbackLine, false);
    case 'instance':
      return symbol('variable', fallbackLine, false);
    case 'unknown':
      return symbol('unknown', fallbackLine, true);
    default:
      void module;
      return symbol('variable', fallbackLine, true);
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
