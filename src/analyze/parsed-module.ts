import type { ts } from 'ts-morph';
import { typescript } from './typescript.js';

// A note on `ts`: the compiler API object that ts-morph exports holds thousands of properties, each a getter, so
// V8 keeps it as a hash table and every `ts.isIdentifier(node)` is a dictionary look-up plus a getter call. The
// analyzer asks such questions of every node several times over, so each module of analyze/ binds the functions
// it uses once, at load (`const { isIdentifier } = typescript;`), which made the analysis about a fifth faster. Types
// are still written `ts.Node`.
const { canHaveModifiers, createSourceFile, forEachChild, getModifiers, isNoSubstitutionTemplateLiteral, isStringLiteral,
  SyntaxKind } = typescript;
// Where a node's first token starts and on which line (what node.getStart() and getLineAndCharacterOfPosition
// compute) can be read from the text alone with the compiler's own functions, which its public typings leave out.
const { computeLineAndCharacterOfPosition, computeLineStarts, skipTrivia } = typescript as unknown as {
  computeLineAndCharacterOfPosition: (lineStarts: readonly number[], position: number) => ts.LineAndCharacter;
  computeLineStarts: (text: string) => number[];
  skipTrivia: (text: string, pos: number) => number;
};

/**
 * Where a node is, without the node: its number in its tree (see walkTree), with its span and kind. Values and
 * caches that outlive a module's pass hold these instead of nodes, so a syntax tree can be dropped once its module
 * has been read and parsed again (to the same nodes, with the same numbers) when a later question needs it.
 */
export interface NodeRef<T extends ts.Node = ts.Node> {
  readonly id: number;
  readonly pos: number;
  readonly end: number;
  readonly kind: ts.SyntaxKind;
  /** Only carries the node type; never set. */
  readonly node?: T;
}

export function refOf<T extends ts.Node>(node: T | NodeRef<T>): NodeRef<T> {
  return { id: addressOf(node), pos: node.pos, end: node.end, kind: node.kind };
}

/**
 * A number that names a node within its module: its place in walk order (see walkTree), a small integer, which V8
 * keeps unboxed in the caches keyed by it (the span and kind packed into one number needed 52 bits, and every
 * cache key was a heap object).
 */
export function addressOf(node: ts.Node | NodeRef): number {
  const id = (node as { id?: number }).id;
  if (id === undefined || id === 0) throw new Error(`internal error: a ${SyntaxKind[node.kind]} at ${node.pos} of a tree that was not walked`);
  return id;
}

/**
 * A module's calls and `new` expressions with arguments, in walk order, as 32-bit integers: for each, whether it is
 * a `new` (1 or 0), how many arguments, then the callee's and each argument's node number, pos, end and kind. Only
 * the call index (see Evaluator.callSitesCalling) reads them; they are kept for the whole analysis, and as objects
 * (a NodeRef per callee and argument) or a growing array of numbers they were among the largest things each module
 * kept, which the collector copies.
 */
export function packCallSites(calls: ReadonlyArray<ts.CallExpression | ts.NewExpression>): Int32Array {
  let size = 0;
  for (const call of calls) {
    const count = call.arguments?.length ?? 0;
    if (count > 0) size += 2 + 4 * (1 + count);
  }
  const packed = new Int32Array(size);
  let at = 0;
  const pack = (node: ts.Node) => {
    packed[at] = addressOf(node);
    packed[at + 1] = node.pos;
    packed[at + 2] = node.end;
    packed[at + 3] = node.kind;
    at += 4;
  };
  for (const call of calls) {
    const args = call.arguments;
    if (args === undefined || args.length === 0) continue;
    packed[at] = call.kind === SyntaxKind.NewExpression ? 1 : 0;
    packed[at + 1] = args.length;
    at += 2;
    pack(call.expression);
    for (const arg of args) pack(arg);
  }
  return packed;
}

function refAt(packed: Int32Array, at: number): NodeRef<ts.Expression> {
  return { id: packed[at]!, pos: packed[at + 1]!, end: packed[at + 2]!, kind: packed[at + 3]! };
}

/**
 * A source file that parsed without errors. Lives only inside analyze/. Its syntax tree is not kept here but in a
 * TreeCache, which parses the text again when a dropped tree is asked for.
 */
export class ParsedModule {
  private lineStarts: readonly number[] | null = null;
  /** Where each call site starts in packedCalls (made when first needed). */
  private callOffsets: Int32Array | null = null;

  constructor(
    /** Absolute path. */
    readonly file: string,
    /** Repo-relative POSIX path. */
    readonly path: string,
    readonly text: string,
    readonly language: 'ts' | 'js',
    /** Its calls and `new` expressions with arguments, packed (see packCallSites). */
    private readonly packedCalls: Int32Array,
    /** How many nodes its tree has: node numbers (see walkTree) run from 1 to this. */
    readonly nodeCount: number,
    private readonly trees: TreeCache,
  ) {}

  /** How many calls and `new` expressions with arguments it has; call sites are numbered in walk order from 0. */
  get callCount(): number {
    return this.offsets().length;
  }

  /** Whether call site `site` is a `new` expression. */
  callIsNew(site: number): boolean {
    return this.packedCalls[this.offsets()[site]!] === 1;
  }

  /** What call site `site` calls. */
  callCallee(site: number): NodeRef<ts.Expression> {
    return refAt(this.packedCalls, this.offsets()[site]! + 2);
  }

  /** The arguments of call site `site`. */
  callArguments(site: number): Array<NodeRef<ts.Expression>> {
    const at = this.offsets()[site]!;
    const count = this.packedCalls[at + 1]!;
    const args: Array<NodeRef<ts.Expression>> = [];
    for (let i = 0; i < count; i += 1) args.push(refAt(this.packedCalls, at + 6 + 4 * i));
    return args;
  }

  private offsets(): Int32Array {
    if (this.callOffsets === null) {
      const packed = this.packedCalls;
      let sites = 0;
      for (let at = 0; at < packed.length; at += 6 + 4 * packed[at + 1]!) sites += 1;
      const offsets = new Int32Array(sites);
      for (let at = 0, site = 0; at < packed.length; at += 6 + 4 * packed[at + 1]!) offsets[site++] = at;
      this.callOffsets = offsets;
    }
    return this.callOffsets;
  }

  get source(): ts.SourceFile {
    return this.trees.treeOf(this);
  }

  /** The walk of the module's tree (see walkTree). */
  get walk(): TreeWalk {
    return this.trees.walkOf(this);
  }

  /** 1-based line and column of a text position, read from the text (no tree needed). */
  positionAt(position: number): { line: number; column: number } {
    this.lineStarts ??= computeLineStarts(this.text);
    const { line, character } = computeLineAndCharacterOfPosition(this.lineStarts, position);
    return { line: line + 1, column: character + 1 };
  }
}

/**
 * Parses a module's text exactly as the analysis does everywhere. The tree has no parent pointers until walkTree
 * sets them: asked to (`setParentNodes`), the compiler makes a second pass over the whole tree for them, which cost
 * a fifth of the parse (2,000 modules: 1.18 s with it, 0.92 s without), while the walk that every tree gets anyway
 * sets them for the price of one store per node.
 */
export function parseSource(file: string, text: string): ts.SourceFile {
  return createSourceFile(file, text, typescript.ScriptTarget.Latest, false, scriptKindFor(file));
}

/** What the evaluator remembers of a tree's scopes: the declarations of each scope node, by name. */
export type ScopeDeclarations = Map<ts.Node, Map<string, ts.Node>>;

interface TreeEntry {
  module: ParsedModule;
  tree: ts.SourceFile;
  walk: TreeWalk;
  scopes: ScopeDeclarations | null;
}

/** How many trees TreeCache.pin keeps alive at most. */
const MAX_PINNED = 64;

/**
 * The syntax trees that are alive: the most recently used ones, up to a count. Asked for a dropped tree, it parses
 * the module's text again; the new tree has the same nodes at the same places, so NodeRefs still name them.
 *
 * The trees and what is cached per tree (its scopes) are held in a short array, not a Map or a WeakMap. V8's
 * young-generation collector keeps alive whatever old objects point to, live or not (until the next full
 * collection), and a long-lived Map or WeakMap that once held a tree pointed into it: so every tree dropped from the
 * cache was still copied and promoted. Measured with --trace-gc-nvp over 2,000 modules: 297 MB promoted with a
 * Map-based cache and 31 MB with this one (parsing only); with every pass, 398 MB with the Map and the evaluator's
 * WeakMap of scopes, 107 MB with neither.
 */
export class TreeCache {
  /** Most recently used last. */
  private entries: TreeEntry[] = [];
  /** Trees kept alive whatever their use (see pin), outside the count; pinned longest first. */
  private pinned: TreeEntry[] = [];
  private lastModule: ParsedModule | null = null;
  private lastTree: ts.SourceFile | null = null;

  constructor(private readonly capacity: number) {}

  treeOf(module: ParsedModule): ts.SourceFile {
    if (module === this.lastModule) return this.lastTree!;
    const index = this.entries.findIndex((entry) => entry.module === module);
    const pinned = index >= 0 ? undefined : this.pinned.find((entry) => entry.module === module);
    let tree: ts.SourceFile;
    if (index >= 0) {
      const [entry] = this.entries.splice(index, 1);
      this.entries.push(entry!);
      tree = entry!.tree;
    } else if (pinned !== undefined) {
      tree = pinned.tree;
    } else {
      tree = parseSource(module.file, module.text);
      // Walked at once: the walk numbers the nodes (see walkTree), and a node is named by its number.
      this.add(module, tree, walkTree(tree));
    }
    this.lastModule = module;
    this.lastTree = tree;
    return tree;
  }

  /** `walk`: the tree's walk (see walkTree), which numbered its nodes. A tree is always walked before it is used. */
  add(module: ParsedModule, tree: ts.SourceFile, walk: TreeWalk | null): void {
    // A module's tree was walked without trouble when it was first parsed, so it is not too deep.
    if (walk === null) throw new Error(`internal error: ${module.path} was parsed but not walked`);
    const index = this.entries.findIndex((entry) => entry.module === module);
    if (index >= 0) this.entries.splice(index, 1);
    this.entries.push({ module, tree, walk, scopes: null });
    this.trim();
  }

  /**
   * Keeps a module's live tree alive, outside the count, until unpin: a module parsed before its turn to be read
   * (a value led into it) would otherwise often be dropped and parsed again when its turn comes. At most MAX_PINNED
   * trees; pinning one more unpins the one pinned longest.
   */
  pin(module: ParsedModule): void {
    const index = this.entries.findIndex((entry) => entry.module === module);
    if (index < 0) return;
    this.pinned.push(this.entries.splice(index, 1)[0]!);
    if (this.pinned.length > MAX_PINNED) this.unpinEntry(0);
  }

  /** Lets a pinned tree go back to being dropped when least recently used (see pin). */
  unpin(module: ParsedModule): void {
    const index = this.pinned.findIndex((entry) => entry.module === module);
    if (index >= 0) this.unpinEntry(index);
  }

  private unpinEntry(index: number): void {
    this.entries.push(this.pinned.splice(index, 1)[0]!);
    this.trim();
  }

  private trim(): void {
    while (this.entries.length > this.capacity) {
      const oldest = this.entries.shift()!;
      if (oldest.module === this.lastModule) {
        this.lastModule = null;
        this.lastTree = null;
      }
    }
  }

  /** The walk of the module's tree (see walkTree), made when the tree was parsed and dropped with it. */
  walkOf(module: ParsedModule): TreeWalk {
    const tree = this.treeOf(module);
    return this.entryOf(tree)!.walk;
  }

  /** The scope cache of a live tree (it goes when the tree does), or null when the tree is not in the cache. */
  scopesOf(tree: ts.SourceFile): ScopeDeclarations | null {
    const entry = this.entryOf(tree);
    if (!entry) return null;
    entry.scopes ??= new Map();
    return entry.scopes;
  }

  private entryOf(tree: ts.SourceFile): TreeEntry | undefined {
    return this.entries.find((e) => e.tree === tree) ?? this.pinned.find((e) => e.tree === tree);
  }

  /** Drops every tree (the analysis is done). */
  clear(): void {
    this.entries = [];
    this.pinned = [];
    this.lastModule = null;
    this.lastTree = null;
  }
}

/**
 * How deeply syntax may nest; a deeper module is skipped as too deep. Later readings of a module walk its tree
 * recursively, and parsing it is recursive too: the parser needs up to ~1.9 KB of stack per level (type arguments
 * `A<A<…>>` with the parser not yet optimised; calls `f(f(…))` ~1.6 KB), and a module may be parsed, or parsed again,
 * from deep inside an evaluation. 300 levels need at most ~570 KB of the main thread's ~984 KB, leaving the rest to
 * whatever is on the stack when the tree is needed. So a tree this deep always parses, and only a deeper one can
 * overflow the parser: the verdict is the text's, never the stack's (with a limit of 1,000, whether a module was
 * analysed depended on where it was first needed and on how warm the parser was).
 *
 * Real code is far below it: of 9,747 modules (this repository's dependencies, bundles included) the deepest nest
 * 219 levels, and 99% at most 36.
 */
export const MAX_AST_DEPTH = 300;

/** TreeWalk.flags: some ancestor of the node is a function (see isFunctionLike). */
export const INSIDE_FUNCTION = 1;
/**
 * TreeWalk.flags: the node is in a value position, where a name may refer to something that survives type erasure:
 * not in a type, an interface, a type alias, an import declaration or an `implements` clause, nor one of the
 * names inside an export specifier (the specifier stands for them).
 */
export const VALUE_POSITION = 2;

/**
 * Every node of a tree, the root first and then the others in the order of a depth-first walk with ts.forEachChild, with what the
 * passes over a module need to know of each node's place (flags, same index). The passes (imports, data access
 * and hazards, calls and returns) go through these arrays instead of each walking the tree again.
 *
 * The walk numbers the nodes: node.id is its index here plus one. That field is the compiler's own, used only by
 * its type checker, which the analysis never runs; the number is the same for the same node of a tree parsed again
 * from the same text, so it names a node across re-parses (see NodeRef and addressOf).
 */
export interface TreeWalk {
  readonly source: ts.SourceFile;
  readonly nodes: readonly ts.Node[];
  /** One byte per node (INSIDE_FUNCTION, VALUE_POSITION); may run past the last node. */
  readonly flags: Uint8Array;
  /** The calls and `new` expressions, in walk order. */
  readonly calls: ReadonlyArray<ts.CallExpression | ts.NewExpression>;
}

/**
 * Walks a tree (see TreeWalk) and sets every node's parent (see parseSource), or returns null when its syntax nests
 * deeper than MAX_AST_DEPTH. The walk never goes below that depth, so it cannot overflow the stack. A tree is walked
 * right after it is parsed, before anything asks a node for its parent.
 */
export function walkTree(source: ts.SourceFile): TreeWalk | null {
  // Sized up front from the parser's count of the nodes it made (a few more than the walk meets: JSDoc): grown
  // push by push, the two arrays allocated twice their final size, ~40 kB per module for the collector.
  const capacity = ((source as unknown as { nodeCount?: number }).nodeCount ?? 0) + 1;
  const nodes: ts.Node[] = new Array<ts.Node>(capacity);
  let flags = new Uint8Array(capacity);
  let count = 0;
  const calls: Array<ts.CallExpression | ts.NewExpression> = [];
  let depth = 0;
  let tooDeep = false;
  // The flags of the children being visited; each visit sets them for its own children and restores them.
  let current = VALUE_POSITION;
  let parent: ts.Node = source;
  const visit = (node: ts.Node): true | undefined => {
    depth += 1;
    if (depth > MAX_AST_DEPTH) {
      tooDeep = true;
    } else {
      const own = current;
      (node as { parent: ts.Node }).parent = parent;
      if (count === flags.length) {
        const grown = new Uint8Array(count * 2);
        grown.set(flags);
        flags = grown;
      }
      nodes[count] = node;
      flags[count] = own;
      count += 1;
      (node as unknown as { id: number }).id = count;
      const kind = node.kind;
      if (kind === SyntaxKind.CallExpression || kind === SyntaxKind.NewExpression) calls.push(node as ts.CallExpression | ts.NewExpression);
      const inside = (own & INSIDE_FUNCTION) | (isFunctionLike(node) ? INSIDE_FUNCTION : 0);
      current = (own & VALUE_POSITION) !== 0 && VALUE_STOPS[kind] !== 1 && !isImplementsClause(node) ? inside | VALUE_POSITION : inside;
      parent = node;
      forEachChild(node, visit);
      parent = (node as { parent: ts.Node }).parent;
      current = own;
    }
    depth -= 1;
    // A truthy result stops ts.forEachChild: once too deep, the rest of the tree does not matter.
    return tooDeep || undefined;
  };
  // The root is numbered too (values and scopes can belong to it); no pass has anything to find in it.
  nodes[0] = source;
  flags[0] = 0;
  count = 1;
  (source as unknown as { id: number }).id = 1;
  forEachChild(source, visit);
  nodes.length = count;
  return tooDeep ? null : { source, nodes, flags, calls };
}

function isImplementsClause(node: ts.Node): boolean {
  return node.kind === SyntaxKind.HeritageClause && (node as ts.HeritageClause).token === SyntaxKind.ImplementsKeyword;
}

/**
 * 1 for the kinds whose children are not in a value position: imports, type nodes, interfaces and type aliases;
 * and identifiers and export specifiers, which stand for the names below them. Not `X<T>` in `extends`: its
 * expression is a value, and its type arguments are type nodes. A table by kind, since it is asked of nearly
 * every node.
 */
const VALUE_STOPS: Uint8Array = (() => {
  const { isExpressionWithTypeArguments, isImportDeclaration, isImportEqualsDeclaration, isInterfaceDeclaration, isTypeAliasDeclaration, isTypeNode } = typescript;
  const table = new Uint8Array(SyntaxKind.Count);
  for (let kind = 0; kind < SyntaxKind.Count; kind += 1) {
    // ts.isTypeNode and the other tests read only the kind.
    const probe = { kind } as ts.Node;
    const stops =
      isImportDeclaration(probe) ||
      isImportEqualsDeclaration(probe) ||
      (isTypeNode(probe) && !isExpressionWithTypeArguments(probe)) ||
      isInterfaceDeclaration(probe) ||
      isTypeAliasDeclaration(probe) ||
      kind === SyntaxKind.Identifier ||
      kind === SyntaxKind.ExportSpecifier;
    table[kind] = stops ? 1 : 0;
  }
  return table;
})();

/** The node a NodeRef names in the module's (possibly re-parsed) tree. */
export function nodeAt<T extends ts.Node>(module: ParsedModule, ref: NodeRef<T>): T {
  const node = module.walk.nodes[ref.id - 1];
  if (!node || node.pos !== ref.pos || node.end !== ref.end || node.kind !== ref.kind) {
    throw new Error(`internal error: no ${SyntaxKind[ref.kind]} at ${ref.pos}-${ref.end} in ${module.path}`);
  }
  return node as T;
}

/** Where a node's first token starts, as node.getStart() gives it, without its tree. */
export function startOf(module: ParsedModule, ref: Pick<NodeRef, 'pos' | 'end'>): number {
  // An empty node (an array hole) starts where it is, trivia and all, as the compiler has it.
  return ref.pos === ref.end ? ref.pos : skipTrivia(module.text, ref.pos);
}

/** The source text of a node, as node.getText() gives it. */
export function textOf(module: ParsedModule, ref: Pick<NodeRef, 'pos' | 'end'>): string {
  return module.text.slice(startOf(module, ref), ref.end);
}

/** The line a node starts on, as lineOf gives it, without its tree. */
export function lineOfRef(module: ParsedModule, ref: NodeRef): number {
  return positionOf(module, ref).line;
}

/** The line a node starts on (see positionOf). */
export function lineOf(module: ParsedModule, node: ts.Node): number {
  return positionOf(module, node).line;
}

/**
 * 1-based line and column where a node starts. Read from the module's text: the tree's own line map would be
 * computed again for every tree parsed, and asking the module for its tree could parse it again.
 */
export function positionOf(module: ParsedModule, node: Pick<NodeRef, 'pos' | 'end'>): { line: number; column: number } {
  return module.positionAt(startOf(module, node));
}

export function scriptKindFor(file: string): ts.ScriptKind {
  if (file.endsWith('.tsx')) return typescript.ScriptKind.TSX;
  if (file.endsWith('.jsx')) return typescript.ScriptKind.JSX;
  if (/\.[cm]?ts$/.test(file)) return typescript.ScriptKind.TS;
  return typescript.ScriptKind.JS;
}

/** Text of a string-like literal, or null when the node is not one. */
export function literalText(node: ts.Node | undefined): string | null {
  if (!node) return null;
  if (isStringLiteral(node) || isNoSubstitutionTemplateLiteral(node)) return node.text;
  return null;
}

export function isFunctionLike(node: ts.Node): node is ts.FunctionLikeDeclaration {
  // A switch on the kind: this runs for nearly every node of every module (scope look-ups, facts).
  switch (node.kind) {
    case SyntaxKind.FunctionDeclaration:
    case SyntaxKind.FunctionExpression:
    case SyntaxKind.ArrowFunction:
    case SyntaxKind.MethodDeclaration:
    case SyntaxKind.Constructor:
    case SyntaxKind.GetAccessor:
    case SyntaxKind.SetAccessor:
      return true;
    default:
      return false;
  }
}

export function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return canHaveModifiers(node) && (getModifiers(node)?.some((m) => m.kind === kind) ?? false);
}
