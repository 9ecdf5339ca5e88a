import type { ts } from 'ts-morph';
import { typescript } from './typescript.js';
import type { EntityKind } from '../model/analysis.js';
import { type NodeRef, type ParsedModule, type ScopeDeclarations, addressOf, hasModifier, isFunctionLike, lineOf, literalText, nodeAt, positionOf, refOf } from './parsed-module.js';
import type { ModuleResolver } from './resolver.js';

// Bound once instead of read from `ts` at every use (see the note on `ts` in parsed-module.ts).
const { forEachChild, getDecorators, isArrayBindingPattern, isArrayLiteralExpression, isArrowFunction, isAsExpression,
  isAwaitExpression, isBinaryExpression, isBindingElement, isBlock, isCallExpression, isCaseClause, isCatchClause,
  isClassDeclaration, isClassExpression, isClassLike, isConstructorDeclaration, isDefaultClause,
  isElementAccessExpression, isEnumDeclaration, isExportAssignment, isExportDeclaration, isExpressionStatement,
  isExternalModuleReference, isForInStatement, isForOfStatement, isForStatement, isFunctionDeclaration,
  isFunctionExpression, isIdentifier, isImportClause, isImportDeclaration, isImportEqualsDeclaration,
  isImportSpecifier, isMethodDeclaration, isModuleBlock, isNamedImports, isNamespaceExport, isNamespaceImport,
  isNewExpression, isNonNullExpression, isNumericLiteral, isObjectBindingPattern, isObjectLiteralExpression,
  isOmittedExpression, isParameter, isParenthesizedExpression, isPrivateIdentifier, isPropertyAccessExpression,
  isPropertyAssignment, isPropertyDeclaration, isReturnStatement, isSatisfiesExpression,
  isShorthandPropertyAssignment, isSourceFile, isSpreadAssignment, isStringLiteral,
  isTemplateExpression, isTypeAssertionExpression, isVariableDeclaration, isVariableDeclarationList,
  isVariableStatement, SyntaxKind } = typescript;

/**
 * What an expression is, as far as a static reading can tell. Only the shapes that matter for
 * routes and data access are tracked; everything else is `unknown`.
 */
export type Value =
  | { k: 'unknown' }
  | { k: 'string'; value: string }
  /** A value from an npm package or a global: `path` is the property chain below the package's export. */
  | { k: 'external'; pkg: string; path: string[] }
  | { k: 'module'; file: string }
  | { k: 'router'; id: string; isApp: boolean; module: ParsedModule; node: NodeRef }
  | { k: 'route-chain'; router: Value & { k: 'router' }; paths: NodeRef<ts.Expression> | undefined; node: NodeRef }
  | { k: 'function'; id: string; module: ParsedModule; node: NodeRef<ts.FunctionLikeDeclaration>; name: string | null }
  | { k: 'class'; module: ParsedModule; node: NodeRef<ts.ClassLikeDeclaration>; name: string | null }
  | { k: 'instance'; of: Value & { k: 'class' } }
  /**
   * A function's parameter, or (`path`) a property of it: `opts.app`, or `app` in `({ app }) => …`. What it is
   * comes from the function's call sites.
   */
  | { k: 'param'; fn: string; index: number; module: ParsedModule; fnNode: NodeRef<ts.FunctionLikeDeclaration>; path: readonly string[] }
  | { k: 'object'; module: ParsedModule; node: NodeRef<ts.ObjectLiteralExpression> }
  | { k: 'array'; module: ParsedModule; items: Array<NodeRef<ts.Expression>> }
  | { k: 'entity'; name: string; kind: EntityKind; module?: string }
  | { k: 'member'; object: Value; name: string };

export const UNKNOWN: Value = { k: 'unknown' };

/**
 * A loop around a node: `xs.forEach((x) => …)`, `xs.map(…)`, `xs.flatMap(…)` or `for (const x of xs)`, innermost
 * first. `variable`: the declarationKey of `x`, null when it is not a plain name.
 */
export interface Loop {
  iterated: NodeRef<ts.Expression>;
  variable: string | null;
}

export function loopsAround(module: ParsedModule, node: ts.Node): Loop[] {
  const loops: Loop[] = [];
  for (let current = node.parent; current; current = current.parent) {
    let declaration: ts.Node | undefined;
    let iterated: ts.Expression | undefined;
    if ((isArrowFunction(current) || isFunctionExpression(current)) && isCallExpression(current.parent) && current.parent.arguments[0] === current) {
      const call = current.parent;
      if (isPropertyAccessExpression(call.expression) && ['forEach', 'map', 'flatMap'].includes(call.expression.name.text)) {
        declaration = current.parameters[0];
        iterated = call.expression.expression;
      }
    } else if (isForOfStatement(current) && isVariableDeclarationList(current.initializer)) {
      declaration = current.initializer.declarations[0];
      iterated = current.expression;
    }
    if (!declaration || !iterated) continue;
    const target = isParameter(declaration) || isVariableDeclaration(declaration) ? declaration : undefined;
    loops.push({ iterated: refOf(iterated), variable: target && isIdentifier(target.name) ? declarationKey(module, target) : null });
  }
  return loops;
}

/** Values bound to declarations (loop variables), by declarationKey. */
export type Bindings = Map<string, Value>;

/** Names a node across modules (a NodeRef's address is only unique within its module). */
export function declarationKey(module: ParsedModule, node: ts.Node | NodeRef): string {
  return `${module.path}\0${addressOf(node)}`;
}

/** See Evaluator.useCallIndex. */
export interface SharedCallIndex {
  files: readonly string[];
  sites: ReadonlyMap<string, readonly number[]>;
}

interface CallSiteArguments {
  module: ParsedModule;
  args: ReadonlyArray<NodeRef<ts.Expression>>;
}
type ParameterValue = Value & { k: 'param' };
const NO_PATH: readonly string[] = Object.freeze([]);
/** In the evaluation cache: the node is being evaluated. Never returned. */
const EVALUATING: Value = { k: 'unknown' };

const CHAINABLE_ROUTER_METHODS = new Set(['use', 'get', 'post', 'put', 'patch', 'delete', 'del', 'options', 'head', 'all', 'param', 'set', 'enable', 'disable', 'engine']);
const GLOBALS = new Set(['process', 'global', 'globalThis', 'setInterval', 'setTimeout', 'console', 'Buffer']);
const ENTITY_FACTORY_CALLS: Record<string, EntityKind> = { table: 'store', collection: 'mongodb' };
const REPOSITORY_GETTERS = new Set(['getRepository', 'getMongoRepository', 'getTreeRepository', 'getCustomRepository']);
/**
 * How many evaluations may be nested (an identifier defined by another, an import of a re-export of a
 * re-export …). Real code stays far below; a generated or hostile chain of thousands would otherwise overflow
 * the stack, so beyond this the value is `unknown`.
 */
export const MAX_EVALUATION_DEPTH = 200;
/** How many properties deep a parameter's value is followed (see the `param` value). */
const MAX_PARAMETER_PATH = 2;
/**
 * At most this many combinations of loop bindings (`xs.forEach((x) => ys.forEach((y) => app.get(…))))`): nested
 * loops multiply, and a few lines could otherwise ask for millions of routes. Outer loops past the limit stay
 * unbound, so what they register is reported as unresolved instead.
 */
export const MAX_LOOP_BINDINGS = 512;

/**
 * The modules of the program, parsed when first asked for (a module's value may be needed before the analysis
 * reaches it). Only files that parsed without errors are modules.
 */
export interface ModuleLookup {
  moduleFor(file: string): ParsedModule | undefined;
  /** Every module, in the order of the project's file list. */
  all(): Iterable<ParsedModule>;
  /** The scope cache of a tree that is alive (see TreeCache.scopesOf). */
  scopesOf(tree: ts.SourceFile): ScopeDeclarations | null;
}

interface ModuleExports {
  named: Map<string, () => Value>;
  /** `module.exports = …` / `export = …` */
  whole: (() => Value) | null;
  stars: string[];
}

/**
 * Evaluates expressions lazily across modules: identifiers are looked up in their lexical scope, imports
 * are followed into the exporting module, calls of known functions return what the function returns.
 * Every result is memoised; cycles evaluate to unknown.
 */
export class Evaluator {
  /**
   * Evaluated nodes by module and address (see NodeRef), not by node: trees are dropped and parsed again, and a
   * value once computed must stay the same (a cycle evaluates to unknown the first time, and stays so).
   */
  private readonly cache = new Map<ParsedModule, Array<Value | undefined>>();
  private lastCacheModule: ParsedModule | null = null;
  private lastCache: Array<Value | undefined> | null = null;
  /** Nodes being evaluated with bindings (see `evaluate`), by declarationKey. */
  private readonly boundInProgress = new Set<string>();
  private readonly exportsCache = new Map<string, ModuleExports>();
  /** The exports being looked up (see exportOf), by file and then name: no key string per look-up. */
  private readonly exportGuard = new Map<string, Set<string>>();
  private bindings: Bindings | null = null;
  private readonly callSites = new Map<string, CallSiteArguments[]>();
  private callsByTarget: Map<string, CallSiteArguments[]> | null = null;
  private sharedCallIndex: SharedCallIndex | null = null;
  /** Syntax read once per function or object literal, so that later look-ups need no tree (by declarationKey). */
  private readonly returnedExpressions = new Map<string, Array<NodeRef<ts.Expression>>>();
  private readonly propertyPlans = new Map<string, PropertyPlan[]>();
  /** By module and parameter address (see parameterValue). */
  private readonly parameterValues = new Map<ParsedModule, Map<number, ParameterValue>>();
  /** Evaluations (and export look-ups) currently nested; see MAX_EVALUATION_DEPTH. */
  private depth = 0;

  constructor(
    private readonly modules: ModuleLookup,
    private readonly resolver: ModuleResolver,
  ) {}

  moduleFor(file: string): ParsedModule | undefined {
    return this.modules.moduleFor(file);
  }

  /** The module's evaluated nodes by address (a node's number, so an array indexed by it rather than a Map). */
  private cacheOf(module: ParsedModule): Array<Value | undefined> {
    if (module === this.lastCacheModule) return this.lastCache!;
    let cache = this.cache.get(module);
    if (!cache) {
      cache = new Array<Value | undefined>(module.nodeCount + 1);
      this.cache.set(module, cache);
    }
    this.lastCacheModule = module;
    this.lastCache = cache;
    return cache;
  }

  /** Evaluates an expression of `module`. */
  evaluate(module: ParsedModule, node: ts.Node): Value {
    const cache = this.cacheOf(module);
    const address = addressOf(node);
    // A node whose evaluation is under way evaluates to unknown (a cycle). Without bindings that state is kept in
    // the cache itself (EVALUATING), which saves two look-ups in a large set for every evaluation; with bindings
    // nothing is cached, so those nodes are kept in a set of their own.
    if (this.bindings === null) {
      const cached = cache[address];
      if (cached !== undefined) return cached === EVALUATING ? UNKNOWN : cached;
      if ((this.boundInProgress.size > 0 && this.boundInProgress.has(declarationKey(module, node))) || this.depth >= MAX_EVALUATION_DEPTH) return UNKNOWN;
      cache[address] = EVALUATING;
      this.depth += 1;
      let value: Value;
      try {
        value = this.evaluateUncached(module, node);
      } catch (error) {
        cache[address] = undefined;
        throw error;
      } finally {
        this.depth -= 1;
      }
      cache[address] = value;
      return value;
    }
    const key = declarationKey(module, node);
    if (cache[address] === EVALUATING || this.boundInProgress.has(key) || this.depth >= MAX_EVALUATION_DEPTH) return UNKNOWN;
    this.boundInProgress.add(key);
    this.depth += 1;
    try {
      return this.evaluateUncached(module, node);
    } finally {
      this.boundInProgress.delete(key);
      this.depth -= 1;
    }
  }

  /** Evaluates the node a NodeRef names; its tree is only needed when the value is not known yet. */
  evaluateRef(module: ParsedModule, ref: NodeRef): Value {
    if (this.bindings === null) {
      const cached = this.cacheOf(module)[addressOf(ref)];
      if (cached !== undefined) return cached === EVALUATING ? UNKNOWN : cached;
    }
    return this.evaluate(module, nodeAt(module, ref));
  }

  /**
   * Evaluates with some declarations bound to given values, e.g. the parameter of a forEach callback bound
   * to one element of the array it iterates. Nothing evaluated this way is cached.
   */
  evaluateWith(module: ParsedModule, node: ts.Node, bindings: Bindings): Value {
    if (bindings.size === 0) return this.evaluate(module, node);
    const previous = this.bindings;
    this.bindings = new Map([...(previous ?? []), ...bindings]);
    try {
      return this.evaluate(module, node);
    } finally {
      this.bindings = previous;
    }
  }

  evaluateRefWith(module: ParsedModule, ref: NodeRef, bindings: Bindings): Value {
    return bindings.size === 0 ? this.evaluateRef(module, ref) : this.evaluateWith(module, nodeAt(module, ref), bindings);
  }

  /**
   * For a node inside loops (see loopsAround) over known arrays: one set of bindings per combination of elements.
   * A single empty set when the node is in no such loop.
   */
  bindingsOf(module: ParsedModule, loops: readonly Loop[]): Bindings[] {
    let sets: Bindings[] = [new Map()];
    for (const loop of loops) {
      const elements = this.elementsOf(this.evaluateRef(module, loop.iterated), 0);
      if (elements === null) continue;
      if (loop.variable === null) continue;
      if (sets.length * elements.length > MAX_LOOP_BINDINGS) break;
      const next: Bindings[] = [];
      for (const set of sets) for (const element of elements) next.push(new Map([...set, [loop.variable, element]]));
      sets = next;
    }
    return sets;
  }

  private arrayElements(module: ParsedModule, node: ts.Expression, depth = 0): Value[] | null {
    const value = this.evaluate(module, node);
    return this.elementsOf(value, depth);
  }

  private elementsOf(value: Value, depth: number): Value[] | null {
    if (value.k === 'param' && depth < 4) {
      // `controllers.forEach(…)` where `controllers` is a parameter (or `opts.controllers`): the arrays its callers pass.
      const out: Value[] = [];
      for (const argument of this.callSiteArguments(value.fnNode, value.module, value.index)) {
        let passed = this.evaluateRef(argument.module, argument.node);
        for (const key of value.path) passed = this.member(passed, key);
        const elements = this.elementsOf(passed, depth + 1);
        if (elements) out.push(...elements);
      }
      return out.length > 0 ? out : null;
    }
    if (value.k !== 'array') return null;
    const out: Value[] = [];
    for (const item of value.items) {
      if (item.kind === SyntaxKind.SpreadElement) {
        const inner = this.arrayElements(value.module, nodeAt(value.module, item as NodeRef<ts.SpreadElement>).expression, depth);
        if (inner === null) return null;
        out.push(...inner);
      } else {
        out.push(this.evaluateRef(value.module, item));
      }
    }
    return out;
  }

  /**
   * The argument expressions passed at `index` to a function wherever it is called: a method through
   * `this.method(…)` in its class, a constructor through `new Class(…)` anywhere, a function through any call
   * whose callee evaluates to it. Found once per function and remembered.
   */
  callSiteArguments(fnRef: NodeRef<ts.FunctionLikeDeclaration>, module: ParsedModule, index: number): Array<{ module: ParsedModule; node: NodeRef<ts.Expression> }> {
    const key = declarationKey(module, fnRef);
    let sites = this.callSites.get(key);
    if (!sites) {
      sites = this.findCallSites(fnRef, module);
      this.callSites.set(key, sites);
    }
    return sites.flatMap((site) => {
      const arg = site.args[index];
      return arg && arg.kind !== SyntaxKind.SpreadElement ? [{ module: site.module, node: arg }] : [];
    });
  }

  private findCallSites(fnRef: NodeRef<ts.FunctionLikeDeclaration>, module: ParsedModule): CallSiteArguments[] {
    if (fnRef.kind !== SyntaxKind.MethodDeclaration && fnRef.kind !== SyntaxKind.Constructor) {
      return this.callSitesCalling(declarationKey(module, fnRef));
    }
    const fn = nodeAt(module, fnRef);
    const out: CallSiteArguments[] = [];
    if (isMethodDeclaration(fn) && fn.name && isClassLike(fn.parent)) {
      const name = propertyNameText(fn.name);
      const visit = (node: ts.Node): void => {
        if (isCallExpression(node) && isPropertyAccessExpression(node.expression) && node.expression.expression.kind === SyntaxKind.ThisKeyword && node.expression.name.text === name) {
          out.push({ module, args: node.arguments.map(refOf) });
        }
        forEachChild(node, visit);
      };
      forEachChild(fn.parent, visit);
      return out;
    }
    // Constructors are called through `new Class(…)`, functions through calls whose callee evaluates to them.
    const key = isConstructorDeclaration(fn) ? fn.parent : fn;
    return this.callSitesCalling(declarationKey(module, key));
  }

  /** The call sites (calls and `new` with arguments) that call a function or class, by its declarationKey. */
  private callSitesCalling(key: string): CallSiteArguments[] {
    const shared = this.sharedCallIndex;
    if (shared === null) return this.callIndex().get(key) ?? [];
    const sites = shared.sites.get(key) ?? [];
    const out: CallSiteArguments[] = [];
    for (let i = 0; i < sites.length; i += 2) {
      const module = this.modules.moduleFor(shared.files[sites[i]!]!);
      if (module) out.push({ module, args: module.callArguments(sites[i + 1]!) });
    }
    return out;
  }

  /**
   * Every call and `new` with arguments in the program, grouped by the function or class it calls. Built once,
   * on first need, with loop bindings switched off so every callee evaluation is cached.
   */
  private callIndex(): Map<string, CallSiteArguments[]> {
    if (this.callsByTarget) return this.callsByTarget;
    const index = new Map<string, CallSiteArguments[]>();
    for (const module of this.modules.all()) {
      this.callTargetsOf(module).forEach((key, site) => {
        if (key === null) return;
        const entry = { module, args: module.callArguments(site) };
        const list = index.get(key);
        if (list) list.push(entry);
        else index.set(key, [entry]);
      });
    }
    this.callsByTarget = index;
    return index;
  }

  /**
   * What each call site of a module (numbered from 0, see ParsedModule.callCount) calls: the declarationKey of the
   * function or class, or null. Evaluated with loop bindings switched off, so every callee evaluation is cached.
   */
  callTargetsOf(module: ParsedModule): Array<string | null> {
    const saved = this.bindings;
    this.bindings = null;
    try {
      const targets: Array<string | null> = [];
      for (let site = 0; site < module.callCount; site += 1) {
        const callee = this.evaluateRef(module, module.callCallee(site));
        const target = module.callIsNew(site) ? (callee.k === 'class' ? callee : null) : callee.k === 'function' ? callee : null;
        targets.push(target ? declarationKey(target.module, target.node) : null);
      }
      return targets;
    } finally {
      this.bindings = saved;
    }
  }

  /**
   * Uses a call index built elsewhere: when the program is read in partitions, each reads the call sites of its own
   * modules (callTargetsOf) and they are merged. `sites`: by target key, pairs of file index (into `files`) and
   * call-site index, in file order and then walk order, as callIndex would list them.
   */
  useCallIndex(index: SharedCallIndex): void {
    this.sharedCallIndex = index;
  }

  private evaluateUncached(module: ParsedModule, node: ts.Node): Value {
    if (
      isParenthesizedExpression(node) ||
      isAsExpression(node) ||
      isSatisfiesExpression(node) ||
      isNonNullExpression(node) ||
      isTypeAssertionExpression(node) ||
      isAwaitExpression(node)
    ) {
      return this.evaluate(module, node.expression);
    }
    const text = literalText(node);
    if (text !== null) return { k: 'string', value: text };
    if (isTemplateExpression(node)) return this.evaluateTemplate(module, node);
    if (isBinaryExpression(node)) {
      if (node.operatorToken.kind === SyntaxKind.PlusToken) {
        const left = this.evaluate(module, node.left);
        const right = this.evaluate(module, node.right);
        if (left.k === 'string' && right.k === 'string') return { k: 'string', value: left.value + right.value };
      }
      if (node.operatorToken.kind === SyntaxKind.BarBarToken || node.operatorToken.kind === SyntaxKind.QuestionQuestionToken) {
        const left = this.evaluate(module, node.left);
        // `options.guards ?? []`: a parameter's property is an option its callers may leave out, so the default is
        // what is known of it.
        return left.k === 'unknown' || (left.k === 'param' && left.path.length > 0) ? this.evaluate(module, node.right) : left;
      }
      return UNKNOWN;
    }
    if (isIdentifier(node)) return this.evaluateIdentifier(module, node);
    if (isPropertyAccessExpression(node)) {
      if (node.expression.kind === SyntaxKind.ThisKeyword) return this.evaluateThisMember(module, node, node.name.text);
      return this.member(this.evaluate(module, node.expression), node.name.text);
    }
    if (isElementAccessExpression(node)) {
      const key = this.evaluate(module, node.argumentExpression);
      return key.k === 'string' ? this.member(this.evaluate(module, node.expression), key.value) : UNKNOWN;
    }
    if (isCallExpression(node)) return this.evaluateCall(module, node);
    if (isNewExpression(node)) return this.evaluateNew(module, node);
    if (isObjectLiteralExpression(node)) return { k: 'object', module, node: refOf(node) };
    if (isArrayLiteralExpression(node)) return { k: 'array', module, items: node.elements.map(refOf) };
    if (isArrowFunction(node) || isFunctionExpression(node)) return this.functionValue(module, node, functionNameOf(node));
    if (isClassExpression(node)) return this.classValue(module, node);
    return UNKNOWN;
  }

  private evaluateTemplate(module: ParsedModule, node: ts.TemplateExpression): Value {
    let out = node.head.text;
    for (const span of node.templateSpans) {
      const part = this.evaluate(module, span.expression);
      if (part.k !== 'string') return UNKNOWN;
      out += part.value + span.literal.text;
    }
    return { k: 'string', value: out };
  }

  functionValue(module: ParsedModule, node: ts.FunctionLikeDeclaration | NodeRef<ts.FunctionLikeDeclaration>, name: string | null): Value {
    return { k: 'function', id: `${module.path}:${node.pos}`, module, node: refOf(node), name };
  }

  private classValue(module: ParsedModule, node: ts.ClassLikeDeclaration): Value {
    const entity = typeOrmEntity(node);
    if (entity) return { ...entity, module: module.path };
    if (isSequelizeModelClass(node) && node.name) return { k: 'entity', name: node.name.text, kind: 'sequelize', module: module.path };
    return { k: 'class', module, node: refOf(node), name: node.name?.text ?? null };
  }

  private evaluateIdentifier(module: ParsedModule, node: ts.Identifier): Value {
    const declaration = this.lookup(node, node.text);
    const bound = declaration && this.bindings?.get(declarationKey(module, declaration));
    if (bound) return bound;
    if (!declaration) {
      if (node.text === 'undefined') return UNKNOWN;
      if (GLOBALS.has(node.text)) return { k: 'external', pkg: '<global>', path: [node.text] };
      return UNKNOWN;
    }
    return this.evaluateDeclaration(module, declaration, node.text);
  }

  /** What a declaration found by `lookup` binds `name` to. */
  evaluateDeclaration(module: ParsedModule, declaration: ts.Node, name: string): Value {
    if (isVariableDeclaration(declaration)) {
      if (!declaration.initializer) return UNKNOWN;
      if (isIdentifier(declaration.name)) {
        const init = declaration.initializer;
        if (isArrowFunction(init) || isFunctionExpression(init)) return this.functionValue(module, init, name);
        const wrapped = this.wrappedFunction(module, init, name);
        return wrapped ?? this.evaluate(module, init);
      }
      return this.evaluateBinding(module, declaration.name, this.evaluate(module, declaration.initializer), name);
    }
    if (isBindingElement(declaration)) {
      // Walk up to the declaration that owns the pattern, then down the property chain to this element.
      const chain: string[] = [];
      let current: ts.Node = declaration;
      while (isBindingElement(current)) {
        const key = current.propertyName ? propertyNameText(current.propertyName) : isIdentifier(current.name) ? current.name.text : null;
        if (key === null || isArrayBindingPattern(current.parent)) return UNKNOWN;
        chain.unshift(key);
        current = current.parent.parent;
      }
      if (isVariableDeclaration(current) && current.initializer) {
        let value = this.evaluate(module, current.initializer);
        for (const key of chain) value = this.member(value, key);
        return value;
      }
      if (isParameter(current) && isFunctionLike(current.parent)) {
        // `({ app }) => …`: the property of whatever the parameter is bound to, or of the parameter itself.
        let value = this.bindings?.get(declarationKey(module, current)) ?? this.parameterValue(module, current.parent, current);
        for (const key of chain) value = this.member(value, key);
        return value;
      }
      return UNKNOWN;
    }
    if (isParameter(declaration)) {
      const fn = declaration.parent;
      if (!isFunctionLike(fn) || !isIdentifier(declaration.name)) return UNKNOWN;
      return this.parameterValue(module, fn, declaration);
    }
    if (isFunctionDeclaration(declaration)) return this.functionValue(module, declaration, declaration.name?.text ?? name);
    if (isClassDeclaration(declaration)) return this.classValue(module, declaration);
    if (isImportClause(declaration)) return this.importValue(module, declaration.parent.moduleSpecifier, 'default');
    if (isNamespaceImport(declaration)) return this.importValue(module, declaration.parent.parent.moduleSpecifier, '*');
    if (isImportSpecifier(declaration)) {
      const imported = declaration.propertyName ? propertyNameText(declaration.propertyName) : declaration.name.text;
      return this.importValue(module, declaration.parent.parent.parent.moduleSpecifier, imported ?? name);
    }
    if (isImportEqualsDeclaration(declaration)) {
      const ref = declaration.moduleReference;
      if (isExternalModuleReference(ref)) return this.importValue(module, ref.expression, '*');
      return UNKNOWN;
    }
    return UNKNOWN;
  }

  private evaluateBinding(module: ParsedModule, pattern: ts.BindingName, value: Value, name: string): Value {
    if (isIdentifier(pattern)) return pattern.text === name ? value : UNKNOWN;
    if (isObjectBindingPattern(pattern)) {
      for (const element of pattern.elements) {
        const key = element.propertyName ? propertyNameText(element.propertyName) : isIdentifier(element.name) ? element.name.text : null;
        if (key === null) continue;
        const found = this.evaluateBinding(module, element.name, this.member(value, key), name);
        if (found.k !== 'unknown') return found;
      }
    }
    return UNKNOWN;
  }

  /**
   * `const getProduct = asyncHandler(async (req, res) => …)`: a wrapper that returns a function around the
   * function it is given. What the code means by `getProduct` is the wrapped function.
   */
  private wrappedFunction(module: ParsedModule, init: ts.Expression, name: string): Value | null {
    const wrapper = wrapperCall(init);
    if (!wrapper) return null;
    const { call, fnArg } = wrapper;
    const result = this.evaluate(module, call);
    const isWrapper = result.k === 'function' || (result.k === 'external' && result.pkg !== '<global>');
    return isWrapper ? this.functionValue(module, fnArg as ts.FunctionLikeDeclaration, name) : null;
  }

  /** `this.x` inside a class: a field initialiser, a constructor assignment, or an injected repository. */
  private evaluateThisMember(module: ParsedModule, node: ts.Node, name: string): Value {
    let cls: ts.Node | undefined = node.parent;
    while (cls && !isClassLike(cls)) cls = cls.parent;
    if (!cls) return UNKNOWN;
    for (const member of cls.members) {
      if (isPropertyDeclaration(member) && member.name && propertyNameText(member.name) === name && member.initializer) {
        const init = member.initializer;
        return isArrowFunction(init) || isFunctionExpression(init) ? this.functionValue(module, init, name) : this.evaluate(module, init);
      }
      if (isMethodDeclaration(member) && member.name && propertyNameText(member.name) === name) return this.functionValue(module, member, name);
      if (isConstructorDeclaration(member)) {
        for (const param of member.parameters) {
          if (isIdentifier(param.name) && param.name.text === name) return this.injectedRepository(module, param);
        }
        for (const statement of member.body?.statements ?? []) {
          const assigned = thisAssignment(statement, name);
          if (assigned) return this.evaluate(module, assigned);
        }
      }
    }
    return UNKNOWN;
  }

  private injectedRepository(module: ParsedModule, param: ts.ParameterDeclaration): Value {
    for (const decorator of getDecorators(param) ?? []) {
      const call = decorator.expression;
      if (isCallExpression(call) && isIdentifier(call.expression) && call.expression.text === 'InjectRepository' && call.arguments[0]) {
        return this.entityOfArgument(module, call.arguments[0]);
      }
    }
    return UNKNOWN;
  }

  private entityOfArgument(module: ParsedModule, arg: ts.Expression): Value {
    const value = this.evaluate(module, arg);
    if (value.k === 'entity') return value;
    if (isIdentifier(arg)) return { k: 'entity', name: arg.text, kind: 'typeorm' };
    const text = literalText(arg);
    return text ? { k: 'entity', name: text, kind: 'typeorm' } : UNKNOWN;
  }

  private evaluateCall(module: ParsedModule, node: ts.CallExpression): Value {
    const callee = node.expression;
    const first = node.arguments[0];
    if (isIdentifier(callee) && callee.text === 'require' && !this.lookup(callee, 'require')) {
      return first ? this.importValue(module, first, '*') : UNKNOWN;
    }
    if (callee.kind === SyntaxKind.ImportKeyword) return UNKNOWN;
    const calleeName = isPropertyAccessExpression(callee) ? callee.name.text : isIdentifier(callee) ? callee.text : null;
    const firstValue = first && !isObjectLiteralExpression(first) && !isArrowFunction(first) ? this.evaluate(module, first) : UNKNOWN;
    const firstText = literalText(first) ?? (firstValue.k === 'string' ? firstValue.value : null);
    // Entity declarations are recognised by their shape, whatever the receiver is called.
    if (calleeName && firstText !== null && isPropertyAccessExpression(callee)) {
      // Own properties only: `x.toString('hex')` must not find Object.prototype.toString and name an entity "hex".
      const kind = Object.hasOwn(ENTITY_FACTORY_CALLS, calleeName) ? ENTITY_FACTORY_CALLS[calleeName] : undefined;
      if (kind && node.arguments.length === 1) {
        const receiver = this.evaluate(module, callee.expression);
        return { k: 'entity', name: firstText, kind: isKnex(receiver) ? 'knex' : kind, module: module.path };
      }
      if (calleeName === 'define' && node.arguments.length >= 2) return { k: 'entity', name: firstText, kind: 'sequelize', module: module.path };
    }
    if (calleeName && REPOSITORY_GETTERS.has(calleeName) && first) return this.entityOfArgument(module, first);
    const target = this.evaluate(module, callee);
    if (calleeName === 'model' && firstText !== null && (isMongoose(target) || isPropertyAccessExpression(callee))) {
      return { k: 'entity', name: firstText, kind: 'mongoose', module: module.path };
    }
    return this.applyCall(module, target, node);
  }

  private applyCall(module: ParsedModule, target: Value, node: ts.CallExpression | ts.NewExpression): Value {
    const firstText = literalText(node.arguments?.[0]);
    switch (target.k) {
      case 'external':
        if (target.pkg === 'express' && target.path.length === 0) return this.router(module, node, true);
        if (target.pkg === 'express' && target.path.length === 1 && target.path[0] === 'Router') return this.router(module, node, false);
        if (target.pkg === 'knex' && target.path.length === 0) return { k: 'external', pkg: 'knex', path: ['<instance>'] };
        if (isKnex(target) && firstText !== null) return { k: 'entity', name: firstText, kind: 'knex' };
        if (target.pkg === 'mongoose' && target.path.at(-1) === 'model' && firstText !== null) return { k: 'entity', name: firstText, kind: 'mongoose' };
        return { k: 'external', pkg: target.pkg, path: [...target.path, '()'] };
      case 'function':
        return this.returnValue(target);
      case 'member': {
        const object = target.object;
        // Query builders and model instances: the result of a call on an entity is still that entity.
        if (object.k === 'entity') return object;
        if (object.k === 'router' && target.name === 'route') {
          const paths = node.arguments?.[0];
          return { k: 'route-chain', router: object, paths: paths && refOf(paths), node: refOf(node) };
        }
        // Express router and app methods return the router, so registrations chain.
        if (object.k === 'router' && CHAINABLE_ROUTER_METHODS.has(target.name) && !(target.name === 'get' && (node.arguments?.length ?? 0) < 2)) return object;
        if (object.k === 'route-chain') return object;
        return UNKNOWN;
      }
      default:
        return UNKNOWN;
    }
  }

  private evaluateNew(module: ParsedModule, node: ts.NewExpression): Value {
    const target = this.evaluate(module, node.expression);
    if (target.k === 'external' && target.pkg === 'express' && target.path.join('.') === 'Router') return this.router(module, node, false);
    if (target.k === 'external' && target.pkg === '@prisma/client') return { k: 'external', pkg: '@prisma/client', path: ['<client>'] };
    if (target.k === 'external' && target.pkg === 'sequelize') return { k: 'external', pkg: 'sequelize', path: ['<instance>'] };
    if (target.k === 'entity') return target;
    if (target.k === 'class') return { k: 'instance', of: target };
    return UNKNOWN;
  }

  private router(module: ParsedModule, node: ts.Node, isApp: boolean): Value {
    const { line, column } = positionOf(module, node);
    return { k: 'router', id: `${module.path}:${line}:${column}`, isApp, module, node: refOf(node) };
  }

  /**
   * Records what the functions of a module return (see returnedExpressions), from the tree at hand, and evaluates
   * it now: a call from another module, read later, then finds the values cached and needs no tree.
   */
  rememberReturns(module: ParsedModule, returns: Map<ts.FunctionLikeDeclaration, ts.Expression[]>): void {
    for (const [fn, expressions] of returns) {
      this.returnedExpressions.set(declarationKey(module, fn), expressions.length === 0 ? NOTHING_RETURNED : expressions.map(refOf));
      for (const expression of expressions) this.evaluate(module, expression);
    }
  }

  /** What a function returns: the first return statement (or arrow body) with a known value. */
  returnValue(fn: Value & { k: 'function' }): Value {
    const key = declarationKey(fn.module, fn.node);
    let returned = this.returnedExpressions.get(key);
    if (!returned) {
      returned = returnedExpressions(nodeAt(fn.module, fn.node));
      this.returnedExpressions.set(key, returned);
    }
    for (const expression of returned) {
      const value = this.evaluateRef(fn.module, expression);
      if (value.k !== 'unknown') return value;
    }
    return UNKNOWN;
  }

  /**
   * The value of a parameter, one object per parameter: every use of `req` or `deps` in a body evaluates to it, and
   * the evaluation cache keeps each (one per use was the largest share of what the analysis keeps per module).
   */
  private parameterValue(module: ParsedModule, fn: ts.SignatureDeclaration, parameter: ts.ParameterDeclaration): ParameterValue {
    let values = this.parameterValues.get(module);
    if (!values) {
      values = new Map();
      this.parameterValues.set(module, values);
    }
    const address = addressOf(parameter);
    let value = values.get(address);
    if (!value) {
      value = { k: 'param', fn: `${module.path}:${fn.pos}`, index: fn.parameters.indexOf(parameter), module, fnNode: refOf(fn as ts.FunctionLikeDeclaration), path: NO_PATH };
      values.set(address, value);
    }
    return value;
  }

  /** Property `name` of a value. */
  member(object: Value, name: string): Value {
    switch (object.k) {
      case 'param':
        // `opts.app`, `deps.routers.api`: deeper than that, a parameter's properties carry no router.
        return object.path.length < MAX_PARAMETER_PATH ? { ...object, path: [...object.path, name] } : UNKNOWN;
      case 'module':
        return this.exportOf(object.file, name);
      case 'object':
        return this.objectProperty(object, name);
      case 'external':
        return { k: 'external', pkg: object.pkg, path: [...object.path, name] };
      case 'class':
      case 'instance': {
        const cls = object.k === 'class' ? object : object.of;
        for (const m of nodeAt(cls.module, cls.node).members) {
          if ((isMethodDeclaration(m) || isPropertyDeclaration(m)) && m.name && propertyNameText(m.name) === name) {
            if (isMethodDeclaration(m)) return this.functionValue(cls.module, m, name);
            if (m.initializer) {
              const init = m.initializer;
              return isArrowFunction(init) || isFunctionExpression(init) ? this.functionValue(cls.module, init, name) : this.evaluate(cls.module, init);
            }
          }
        }
        return UNKNOWN;
      }
      case 'entity':
      case 'router':
      case 'route-chain':
        return { k: 'member', object, name };
      default:
        return UNKNOWN;
    }
  }

  private objectProperty(object: Value & { k: 'object' }, name: string): Value {
    const key = declarationKey(object.module, object.node);
    let properties = this.propertyPlans.get(key);
    if (!properties) {
      properties = propertyPlans(nodeAt(object.module, object.node));
      this.propertyPlans.set(key, properties);
    }
    for (const property of properties) {
      if (property.k === 'assign' && property.name === name) return this.evaluateInitialiser(object.module, property.init, name);
      if (property.k === 'shorthand' && property.name === name) return this.evaluateRef(object.module, property.ref);
      if (property.k === 'method' && property.name === name) return this.functionValue(object.module, property.ref, name);
      if (property.k === 'spread') {
        const spread = this.member(this.evaluateRef(object.module, property.ref), name);
        if (spread.k !== 'unknown') return spread;
      }
    }
    return UNKNOWN;
  }

  /** What evaluateDeclaration and wrappedFunction make of a named initialiser, from its plan. */
  private evaluateInitialiser(module: ParsedModule, plan: InitialiserPlan, name: string): Value {
    if (plan.k === 'function') return this.functionValue(module, plan.fn, name);
    if (plan.k === 'wrapped') {
      const result = this.evaluateRef(module, plan.call);
      const isWrapper = result.k === 'function' || (result.k === 'external' && result.pkg !== '<global>');
      if (isWrapper) return this.functionValue(module, plan.fn, name);
    }
    return this.evaluateRef(module, plan.init);
  }

  /** The module that defines a value, when a static reading can tell. */
  definingModule(value: Value): string | null {
    switch (value.k) {
      case 'function':
      case 'class':
      case 'router':
      case 'object':
      case 'array':
        return value.module.path;
      case 'instance':
        return value.of.module.path;
      case 'entity':
        return value.module ?? null;
      case 'module':
        return this.modules.moduleFor(value.file)?.path ?? null;
      default:
        return null;
    }
  }

  /** The repo path of the internal module a specifier resolves to, or null. */
  resolveSpecifier(module: ParsedModule, specifier: string): string | null {
    const resolved = this.resolver.resolve(module.file, specifier);
    return resolved.kind === 'internal' ? (this.modules.moduleFor(resolved.file)?.path ?? null) : null;
  }

  /** The value an import of `name` ('default', '*' or an export name) from `specifierNode` gives. */
  importValue(module: ParsedModule, specifierNode: ts.Node, name: string): Value {
    return this.importedValue(module, literalText(specifierNode), name);
  }

  private importedValue(module: ParsedModule, specifier: string | null, name: string): Value {
    if (specifier === null) return UNKNOWN;
    const resolved = this.resolver.resolve(module.file, specifier);
    if (resolved.kind === 'external') {
      return { k: 'external', pkg: resolved.packageName, path: name === 'default' || name === '*' ? [] : [name] };
    }
    if (resolved.kind === 'builtin') {
      return { k: 'external', pkg: `node:${resolved.name.replace(/\/promises$/, '')}`, path: name === 'default' || name === '*' ? [] : [name] };
    }
    if (resolved.kind !== 'internal') return UNKNOWN;
    if (name === '*') {
      const exports = this.exportsOf(resolved.file);
      // require() of a CommonJS module gives module.exports itself.
      return exports.whole ? exports.whole() : { k: 'module', file: resolved.file };
    }
    return this.exportOf(resolved.file, name);
  }

  /** The value of export `name` of a module, following re-exports and CommonJS exports. */
  exportOf(file: string, name: string): Value {
    let names = this.exportGuard.get(file);
    if (names === undefined) {
      names = new Set();
      this.exportGuard.set(file, names);
    }
    if (names.has(name) || this.depth >= MAX_EVALUATION_DEPTH) return UNKNOWN;
    names.add(name);
    this.depth += 1;
    try {
      const exports = this.exportsOf(file);
      const named = exports.named.get(name);
      if (named) return named();
      if (exports.whole) {
        const whole = exports.whole();
        return name === 'default' ? whole : this.member(whole, name);
      }
      if (name === 'default') return UNKNOWN;
      const module = this.modules.moduleFor(file);
      if (!module) return UNKNOWN;
      for (const specifier of exports.stars) {
        const resolved = this.resolver.resolve(file, specifier);
        if (resolved.kind !== 'internal') continue;
        const value = this.exportOf(resolved.file, name);
        if (value.k !== 'unknown') return value;
      }
      return UNKNOWN;
    } finally {
      names.delete(name);
      this.depth -= 1;
    }
  }

  /** Export names and how to evaluate each (lazily). */
  exportsOf(file: string): ModuleExports {
    let exports = this.exportsCache.get(file);
    if (!exports) {
      const module = this.modules.moduleFor(file);
      exports = module ? this.collectExports(module) : { named: new Map(), whole: null, stars: [] };
      this.exportsCache.set(file, exports);
    }
    return exports;
  }

  /**
   * The getters hold no nodes (the tree may be dropped before they are called): literal values are taken now,
   * expressions are remembered as NodeRefs, and a tree is only asked for when a value is not cached yet.
   */
  private collectExports(module: ParsedModule): ModuleExports {
    const named = new Map<string, () => Value>();
    let whole: (() => Value) | null = null;
    const stars: string[] = [];
    /** What an initialiser means as the value of `name` (see evaluateDeclaration and wrappedFunction). */
    const initialiserValue = (init: ts.Expression, name: string): (() => Value) => {
      const plan = initialiserPlan(init);
      return () => this.evaluateInitialiser(module, plan, name);
    };
    for (const statement of module.source.statements) {
      if (isExportDeclaration(statement)) {
        const specifier = literalText(statement.moduleSpecifier);
        if (!statement.exportClause) {
          if (specifier !== null) stars.push(specifier);
        } else if (isNamespaceExport(statement.exportClause)) {
          named.set(statement.exportClause.name.text, () => this.importedValue(module, specifier, '*'));
        } else {
          for (const element of statement.exportClause.elements) {
            const exported = propertyNameText(element.name) ?? '';
            const local = element.propertyName ? (propertyNameText(element.propertyName) ?? '') : exported;
            if (statement.moduleSpecifier) {
              named.set(exported, () => this.importedValue(module, specifier, local));
            } else {
              const at = refOf(element);
              named.set(exported, () => this.evaluateLocalName(module, nodeAt(module, at), local));
            }
          }
        }
      } else if (isExportAssignment(statement)) {
        const expression = refOf(statement.expression);
        if (statement.isExportEquals) whole = () => this.evaluateRef(module, expression);
        else named.set('default', () => this.evaluateRef(module, expression));
      } else if (hasModifier(statement, SyntaxKind.ExportKeyword)) {
        const isDefault = hasModifier(statement, SyntaxKind.DefaultKeyword);
        if (isFunctionDeclaration(statement)) {
          const value = this.functionValue(module, statement, statement.name?.text ?? 'default');
          named.set(isDefault ? 'default' : (statement.name?.text ?? 'default'), () => value);
        } else if (isClassDeclaration(statement)) {
          // A class value is read from the declaration alone (decorators, heritage), never from other values.
          const value = this.classValue(module, statement);
          named.set(isDefault ? 'default' : (statement.name?.text ?? 'default'), () => value);
        } else if (isVariableStatement(statement)) {
          for (const declaration of statement.declarationList.declarations) {
            for (const bound of bindingNames(declaration.name)) {
              if (bound === nameText(declaration.name)) {
                const init = declaration.initializer;
                named.set(bound, init ? initialiserValue(init, bound) : () => UNKNOWN);
              } else {
                const element = refOf(findBindingElement(declaration.name, bound)!);
                named.set(bound, () => this.evaluateDeclaration(module, nodeAt(module, element), bound));
              }
            }
          }
        } else if (isEnumDeclaration(statement)) {
          named.set(statement.name.text, () => UNKNOWN);
        }
      } else if (isExpressionStatement(statement)) {
        const assignment = commonJsAssignment(statement.expression);
        if (assignment?.name === null) {
          const right = refOf(assignment.value);
          whole = () => this.evaluateRef(module, right);
        } else if (assignment) {
          named.set(assignment.name, initialiserValue(assignment.value, assignment.name));
        }
      }
    }
    return { named, whole, stars };
  }

  private evaluateLocalName(module: ParsedModule, at: ts.Node, name: string): Value {
    const declaration = this.lookup(at, name);
    return declaration ? this.evaluateDeclaration(module, declaration, name) : UNKNOWN;
  }

  /** Finds the declaration that binds `name` at `from`, walking out through enclosing scopes. */
  lookup(from: ts.Node, name: string): ts.Node | undefined {
    // Scope declarations are cached with their tree (see TreeCache), found from the tree's root.
    let root = from;
    while (root.parent) root = root.parent;
    const scopes = this.modules.scopesOf(root as ts.SourceFile);
    for (let scope: ts.Node | undefined = from.parent; scope; scope = scope.parent) {
      if (!isScope(scope)) continue;
      const found = this.scopeDeclarations(scope, scopes).get(name);
      if (found) return found;
    }
    return undefined;
  }

  /** The declarations of a scope, from the tree's scope cache (null: the tree is not cached, nor are they). */
  private scopeDeclarations(scope: ts.Node, scopes: ScopeDeclarations | null): Map<string, ts.Node> {
    let declarations = scopes?.get(scope);
    if (declarations) return declarations;
    declarations = new Map();
    const add = (name: string, node: ts.Node) => {
      if (!declarations!.has(name)) declarations!.set(name, node);
    };
    const addBinding = (name: ts.BindingName, declaration: ts.Node) => {
      if (isIdentifier(name)) add(name.text, declaration);
      else for (const element of name.elements) if (!isOmittedExpression(element)) addBinding(element.name, isIdentifier(element.name) ? element : declaration);
    };
    const addStatement = (statement: ts.Node) => {
      if (isVariableStatement(statement)) {
        for (const d of statement.declarationList.declarations) addBinding(d.name, d);
      } else if ((isFunctionDeclaration(statement) || isClassDeclaration(statement) || isEnumDeclaration(statement)) && statement.name) {
        add(statement.name.text, statement);
      } else if (isImportDeclaration(statement) && statement.importClause) {
        const clause = statement.importClause;
        if (clause.name) add(clause.name.text, clause);
        const bindings = clause.namedBindings;
        if (bindings && isNamespaceImport(bindings)) add(bindings.name.text, bindings);
        if (bindings && isNamedImports(bindings)) for (const element of bindings.elements) add(element.name.text, element);
      } else if (isImportEqualsDeclaration(statement)) {
        add(statement.name.text, statement);
      }
    };
    if (isSourceFile(scope) || isBlock(scope) || isModuleBlock(scope) || isCaseClause(scope) || isDefaultClause(scope)) {
      for (const statement of scope.statements) addStatement(statement);
    } else if (isFunctionLike(scope)) {
      for (const parameter of scope.parameters) addBinding(parameter.name, parameter);
      if ((isFunctionExpression(scope) || isClassExpression(scope)) && scope.name) add(scope.name.text, scope);
      if (scope.body && isBlock(scope.body)) for (const statement of scope.body.statements) addStatement(statement);
    } else if ((isForStatement(scope) || isForOfStatement(scope) || isForInStatement(scope)) && scope.initializer && isVariableDeclarationList(scope.initializer)) {
      for (const d of scope.initializer.declarations) addBinding(d.name, d);
    } else if (isCatchClause(scope) && scope.variableDeclaration) {
      addBinding(scope.variableDeclaration.name, scope.variableDeclaration);
    }
    scopes?.set(scope, declarations);
    return declarations;
  }
}

/**
 * What a function can return, in the order returnValue tries them: an arrow's expression body, or the expressions of
 * its return statements in walk order (not those of nested functions and classes).
 */
function returnedExpressions(fn: ts.FunctionLikeDeclaration): Array<NodeRef<ts.Expression>> {
  const body = fn.body;
  if (!body) return [];
  if (!isBlock(body)) return [refOf(body)];
  const out: Array<NodeRef<ts.Expression>> = [];
  const visit = (child: ts.Node): void => {
    if (isFunctionLike(child) || isClassLike(child)) return;
    if (isReturnStatement(child) && child.expression) {
      out.push(refOf(child.expression));
      return;
    }
    forEachChild(child, visit);
  };
  forEachChild(body, visit);
  return out;
}

const NOTHING_RETURNED: Array<NodeRef<ts.Expression>> = [];

/** How to evaluate an initialiser that gives a value a name (see initialiserPlan). */
type InitialiserPlan =
  | { k: 'function'; fn: NodeRef<ts.FunctionLikeDeclaration> }
  | { k: 'value'; init: NodeRef<ts.Expression> }
  | { k: 'wrapped'; init: NodeRef<ts.Expression>; call: NodeRef<ts.CallExpression>; fn: NodeRef<ts.FunctionLikeDeclaration> };

/**
 * An initialiser read once, while its tree is at hand: a function literal is that function, `wrapper(fn)` may be
 * `fn` (see wrappedFunction), anything else is its value.
 */
function initialiserPlan(init: ts.Expression): InitialiserPlan {
  if (isArrowFunction(init) || isFunctionExpression(init)) return { k: 'function', fn: refOf(init) };
  const wrapper = wrapperCall(init);
  if (!wrapper) return { k: 'value', init: refOf(init) };
  return { k: 'wrapped', init: refOf(init), call: refOf(wrapper.call), fn: refOf(wrapper.fnArg as ts.FunctionLikeDeclaration) };
}

/** An object literal's properties as objectProperty reads them: last first. */
type PropertyPlan =
  | { k: 'assign'; name: string | null; init: InitialiserPlan }
  | { k: 'shorthand'; name: string; ref: NodeRef<ts.Identifier> }
  | { k: 'method'; name: string | null; ref: NodeRef<ts.MethodDeclaration> }
  | { k: 'spread'; ref: NodeRef<ts.Expression> };

function propertyPlans(object: ts.ObjectLiteralExpression): PropertyPlan[] {
  const out: PropertyPlan[] = [];
  for (const property of [...object.properties].reverse()) {
    if (isPropertyAssignment(property)) out.push({ k: 'assign', name: propertyNameText(property.name), init: initialiserPlan(property.initializer) });
    else if (isShorthandPropertyAssignment(property)) out.push({ k: 'shorthand', name: property.name.text, ref: refOf(property.name) });
    else if (isMethodDeclaration(property)) out.push({ k: 'method', name: property.name ? propertyNameText(property.name) : null, ref: refOf(property) });
    else if (isSpreadAssignment(property)) out.push({ k: 'spread', ref: refOf(property.expression) });
  }
  return out;
}

/** `wrapper(fn)` or `wrapper(fn, x)` with a function literal `fn`: the shape wrappedFunction looks at. */
function wrapperCall(init: ts.Expression): { call: ts.CallExpression; fnArg: ts.Expression } | null {
  let call = init;
  while (isParenthesizedExpression(call) || isAsExpression(call)) call = call.expression;
  if (!isCallExpression(call)) return null;
  const fnArg = call.arguments.find((a) => isArrowFunction(a) || isFunctionExpression(a));
  if (!fnArg || call.arguments.length > 2) return null;
  return { call, fnArg };
}

/** The right-hand side of `this.<name> = …` when the statement is that assignment. */
function thisAssignment(statement: ts.Statement, name: string): ts.Expression | undefined {
  if (!isExpressionStatement(statement)) return undefined;
  const expression = statement.expression;
  if (!isBinaryExpression(expression) || expression.operatorToken.kind !== SyntaxKind.EqualsToken) return undefined;
  const left = expression.left;
  if (isPropertyAccessExpression(left) && left.expression.kind === SyntaxKind.ThisKeyword && left.name.text === name) return expression.right;
  return undefined;
}

function isScope(node: ts.Node): boolean {
  // A switch on the kind: every identifier look-up asks this of each of its ancestors.
  switch (node.kind) {
    case SyntaxKind.SourceFile:
    case SyntaxKind.Block:
    case SyntaxKind.ModuleBlock:
    case SyntaxKind.CaseClause:
    case SyntaxKind.DefaultClause:
    case SyntaxKind.ForStatement:
    case SyntaxKind.ForOfStatement:
    case SyntaxKind.ForInStatement:
    case SyntaxKind.CatchClause:
      return true;
    default:
      return isFunctionLike(node);
  }
}

export function propertyNameText(name: ts.PropertyName | ts.ModuleExportName): string | null {
  if (isIdentifier(name) || isStringLiteral(name) || isNumericLiteral(name) || isPrivateIdentifier(name)) return name.text;
  return null;
}

function nameText(name: ts.BindingName): string | null {
  return isIdentifier(name) ? name.text : null;
}

export function bindingNames(name: ts.BindingName): string[] {
  if (isIdentifier(name)) return [name.text];
  const out: string[] = [];
  for (const element of name.elements) if (!isOmittedExpression(element)) out.push(...bindingNames(element.name));
  return out;
}

function findBindingElement(pattern: ts.BindingName, name: string): ts.Node | undefined {
  if (isIdentifier(pattern)) return undefined;
  for (const element of pattern.elements) {
    if (isOmittedExpression(element)) continue;
    if (isIdentifier(element.name) && element.name.text === name) return element;
    const nested = findBindingElement(element.name, name);
    if (nested) return nested;
  }
  return undefined;
}

function functionNameOf(node: ts.FunctionLikeDeclaration): string | null {
  if (node.name && isIdentifier(node.name)) return node.name.text;
  const parent = node.parent;
  if (isVariableDeclaration(parent) && isIdentifier(parent.name)) return parent.name.text;
  if (isPropertyAssignment(parent) || isPropertyDeclaration(parent)) return propertyNameText(parent.name);
  return null;
}

/**
 * `module.exports = x` (name null), `module.exports.y = x` / `exports.y = x` (name y).
 */
export function commonJsAssignment(expression: ts.Expression): { name: string | null; value: ts.Expression } | null {
  if (!isBinaryExpression(expression) || expression.operatorToken.kind !== SyntaxKind.EqualsToken) return null;
  const left = expression.left;
  // `module.exports = exports = router` chains: take the innermost value.
  let value = expression.right;
  while (isBinaryExpression(value) && value.operatorToken.kind === SyntaxKind.EqualsToken) value = value.right;
  if (isModuleExports(left)) return { name: null, value };
  if (isPropertyAccessExpression(left) && (isModuleExports(left.expression) || (isIdentifier(left.expression) && left.expression.text === 'exports'))) {
    return { name: left.name.text, value };
  }
  return null;
}

function isModuleExports(node: ts.Node): boolean {
  return isPropertyAccessExpression(node) && isIdentifier(node.expression) && node.expression.text === 'module' && node.name.text === 'exports';
}

function isKnex(value: Value): boolean {
  return value.k === 'external' && value.pkg === 'knex' && value.path[0] === '<instance>';
}

function isMongoose(value: Value): boolean {
  return value.k === 'external' && value.pkg === 'mongoose';
}

function typeOrmEntity(node: ts.ClassLikeDeclaration): (Value & { k: 'entity' }) | null {
  for (const decorator of getDecorators(node) ?? []) {
    const expression = decorator.expression;
    const callee = isCallExpression(expression) ? expression.expression : expression;
    if (isIdentifier(callee) && callee.text === 'Entity') {
      const explicit = isCallExpression(expression) ? literalText(expression.arguments[0]) : null;
      return { k: 'entity', name: explicit ?? node.name?.text ?? 'anonymous', kind: 'typeorm' };
    }
  }
  return null;
}

function isSequelizeModelClass(node: ts.ClassLikeDeclaration): boolean {
  for (const clause of node.heritageClauses ?? []) {
    if (clause.token !== SyntaxKind.ExtendsKeyword) continue;
    for (const type of clause.types) {
      const text = type.expression.getText();
      if (text === 'Model' || text.endsWith('.Model')) return true;
    }
  }
  return false;
}

export function nodeLine(module: ParsedModule, node: ts.Node): number {
  return lineOf(module, node);
}
