import type { ts } from 'ts-morph';
import { typescript } from './typescript.js';
import type { Route, UnresolvedRoute } from '../model/analysis.js';
import type { BindingSite, PartitionRoutes, PlainRouter, ResolvedArg, ResolvedEvent } from './route-table.js';
import { type Bindings, type Evaluator, type Loop, type Value, declarationKey, loopsAround, propertyNameText } from './evaluator.js';
import { type NodeRef, type ParsedModule, lineOf, lineOfRef, literalText, nodeAt, refOf, startOf, textOf } from './parsed-module.js';

// Bound once instead of read from `ts` at every use (see the note on `ts` in parsed-module.ts).
const { forEachChild, isArrayLiteralExpression, isArrowFunction, isBinaryExpression, isCallExpression,
  isClassDeclaration, isDecorator, isFunctionExpression, isIdentifier, isImportClause, isImportSpecifier, isNamespaceImport, isObjectLiteralExpression,
  isOmittedExpression, isPropertyAccessExpression, isPropertyAssignment, isRegularExpressionLiteral,
  isShorthandPropertyAssignment, isSpreadElement, isTemplateExpression, SyntaxKind } = typescript;

const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'del', 'options', 'head', 'all']);
/** Class decorators that make a class a controller whose routes its methods' decorators declare, by package. */
const CONTROLLER_DECORATORS: Record<string, ReadonlySet<string>> = {
  'routing-controllers': new Set(['JsonController', 'Controller']),
  'inversify-express-utils': new Set(['controller']),
  tsoa: new Set(['Route']),
  '@decorators/express': new Set(['Controller']),
  '@tsed/common': new Set(['Controller']),
  '@tsed/di': new Set(['Controller']),
};
const ROUTER_CALLS = new Set([...HTTP_METHODS, 'use', 'param']);
type RouterValue = Value & { k: 'router' };

interface RouterEvent {
  kind: 'route' | 'use';
  method: string;
  module: ParsedModule;
  call: NodeRef<ts.CallExpression>;
  /** The path argument, if the call has one (routes always; `use` optionally). */
  pathNode: NodeRef<ts.Expression> | undefined;
  /** Arguments after the path. */
  args: Array<NodeRef<ts.Expression>>;
  /** Loop variables bound for this registration (one event per element of an iterated route table). */
  bindings: Bindings;
}

/** A call `x.<method>(…)` with a router method (or listen), as read from its tree. */
interface Registration {
  call: NodeRef<ts.CallExpression>;
  method: string;
  receiver: NodeRef<ts.Expression>;
  loops: Loop[];
  args: Array<{ ref: NodeRef<ts.Expression>; pathLike: boolean; routerLike: boolean }>;
}

/** Syntax of registration arguments, read from memory when it was recorded, else from the (re-parsed) tree. */
interface ArgumentSyntax {
  middlewareName: (module: ParsedModule, ref: NodeRef<ts.Expression>) => string;
  arrayElements: (module: ParsedModule, ref: NodeRef<ts.Expression>) => Array<NodeRef<ts.Expression>>;
  spreadTarget: (module: ParsedModule, ref: NodeRef<ts.Expression>) => NodeRef<ts.Expression>;
  handlerSyntax: (module: ParsedModule, ref: NodeRef<ts.Expression>) => HandlerSyntax | null;
}

interface PendingParamEvent {
  paramKey: string;
  event: RouterEvent;
}

/**
 * Reads the routes of some modules (a partition of the program, see partitions.ts): every router and app, every
 * registration on them (also through functions that receive the app as a parameter), as plain data from which
 * buildRouteTable walks the mount tree.
 */
export class RouteReader {
  private readonly routers = new Map<string, RouterValue>();
  private readonly events = new Map<string, RouterEvent[]>();
  private readonly pending: PendingParamEvent[] = [];
  /** param key -> router ids or other param keys ("param:" prefix) */
  private readonly bindings = new Map<string, Set<string>>();
  private readonly bindingSites = new Map<string, BindingSite>();
  private readonly listenModules = new Set<string>();
  private readonly decoratorControllers: UnresolvedRoute[] = [];
  private readonly registrations: Array<{ module: ParsedModule; fileIndex: number; registrations: Registration[] }> = [];
  // Read from registrations' arguments while their trees are at hand (by declarationKey): middlewareName of calls
  // and functions, the elements of arrays and what spreads spread.
  private readonly middlewareNames = new Map<string, string>();
  private readonly arrayElements = new Map<string, Array<NodeRef<ts.Expression>>>();
  private readonly spreadTargets = new Map<string, NodeRef<ts.Expression>>();
  private readonly handlerSyntax = new Map<string, HandlerSyntax>();

  constructor(private readonly evaluator: Evaluator) {}

  private addEvent(router: RouterValue, event: RouterEvent): void {
    this.routers.set(router.id, router);
    const list = this.events.get(router.id) ?? [];
    list.push(event);
    this.events.set(router.id, list);
  }

  /**
   * Reads a module's calls while its tree is at hand (`calls`: its call expressions in walk order). A router passed
   * to a function binds that function's parameter now; registrations (`x.get(…)`, `x.use(…)`) are kept as plain
   * data and read in `build`, once every module has been read, because the loops around them may need every call
   * site of the program (see Evaluator.callSiteArguments).
   */
  summarize(module: ParsedModule, calls: Iterable<ts.Node>, fileIndex: number): void {
    // The work per call is in methods of their own: V8 optimises each on its own, so a deopt in one (a node shape
    // not seen before) does not send the whole pass back to be compiled again.
    const registrations: Registration[] = [];
    for (const call of calls) {
      if (!isCallExpression(call)) continue;
      if (isDecorator(call.parent) && isClassDeclaration(call.parent.parent)) this.readClassDecorator(module, call, call.parent.parent);
      const callee = call.expression;
      if (isPropertyAccessExpression(callee)) {
        const method = callee.name.text;
        if (ROUTER_CALLS.has(method) || method === 'listen') registrations.push(this.readRegistration(module, call, callee, method));
      }
      if (call.arguments.length > 0) this.readCallArguments(module, call, fileIndex);
    }
    if (registrations.length > 0) this.registrations.push({ module, fileIndex, registrations });
  }

  /**
   * `@JsonController('/users') class UserController { @Get('/:id') … }`: routes declared by a decorator library
   * (routing-controllers, tsoa, inversify-express-utils …), which are not read. Listed, so that a program whose
   * routes are all declared that way does not come out with an empty route table and no word why.
   */
  private readClassDecorator(module: ParsedModule, call: ts.CallExpression, cls: ts.ClassDeclaration): void {
    const decorator = this.evaluator.evaluate(module, call.expression);
    if (decorator.k !== 'external' || decorator.path.length !== 1 || !(Object.hasOwn(CONTROLLER_DECORATORS, decorator.pkg) && CONTROLLER_DECORATORS[decorator.pkg]!.has(decorator.path[0]!))) return;
    this.decoratorControllers.push({
      file: module.path,
      line: lineOf(module, call),
      reason: `controller \`${cls.name?.text ?? '(anonymous)'}\` declares its routes with ${decorator.pkg} decorators, which are not read`,
    });
  }

  /** A registration (`x.get(…)`, `x.use(…)`, `x.listen(…)`) as plain data, with what reading it later needs cached. */
  private readRegistration(module: ParsedModule, call: ts.CallExpression, callee: ts.PropertyAccessExpression, method: string): Registration {
    const { evaluator } = this;
    const args = call.arguments.map((a) => ({ ref: refOf(a), pathLike: isPathLike(a), routerLike: looksLikeRouter(module, refOf(a)) }));
    const loops = loopsAround(module, call);
    // Evaluated now, while the tree is here, so that reading the registration later finds them cached.
    for (const loop of loops) evaluator.evaluateRef(module, loop.iterated);
    evaluator.evaluate(module, callee.expression);
    for (const arg of call.arguments) this.recordArgument(module, arg);
    return { call: refOf(call), method, receiver: refOf(callee.expression), loops, args };
  }

  /**
   * A call with arguments: a function called with a router (or with a parameter that may be one) binds its
   * parameter to it. Its callee and arguments are evaluated now, while the tree is here, for the call index.
   */
  private readCallArguments(module: ParsedModule, call: ts.CallExpression, fileIndex: number): void {
    const { evaluator } = this;
    const callee = call.expression;
    // What each argument passes, by the parameter (or parameter property) it lands in: `setup(app)` binds
    // parameter 0, `setup({ app })` and `setup({ app: server })` its property `app`.
    const passed: Array<{ suffix: string; value: Value }> = [];
    call.arguments.forEach((a, index) => {
      if (isIdentifier(a) || isPropertyAccessExpression(a) || isCallExpression(a)) {
        passed.push({ suffix: `${index}`, value: evaluator.evaluate(module, a) });
      } else if (isObjectLiteralExpression(a)) {
        for (const property of a.properties) {
          const name = property.name && (isShorthandPropertyAssignment(property) || isPropertyAssignment(property)) ? propertyNameText(property.name) : null;
          if (name === null) continue;
          const value = isShorthandPropertyAssignment(property) ? evaluator.evaluate(module, property.name) : evaluator.evaluate(module, (property as ts.PropertyAssignment).initializer);
          passed.push({ suffix: `${index}.${name}`, value });
        }
      }
    });
    if (passed.some(({ value }) => value.k === 'router' || value.k === 'param')) {
      const fn = evaluator.evaluate(module, callee);
      if (fn.k === 'function') {
        for (const { suffix, value: arg } of passed) {
          if (arg.k !== 'router' && arg.k !== 'param') continue;
          const key = `${fn.id}#${suffix}`;
          const set = this.bindings.get(key) ?? new Set();
          set.add(arg.k === 'router' ? arg.id : `param:${paramKey(arg)}`);
          if (arg.k === 'router') this.routers.set(arg.id, arg);
          this.bindings.set(key, set);
          // The last call in file order (then walk order) gives the site, whatever the order modules come in.
          if ((this.bindingSites.get(key)?.fileIndex ?? -1) <= fileIndex) {
            this.bindingSites.set(key, { file: module.path, start: startOf(module, call), fileIndex });
          }
        }
      }
    }
    // The call index (Evaluator.callSiteArguments) evaluates every callee and may evaluate any argument.
    evaluator.evaluate(module, callee);
    for (const arg of call.arguments) evaluator.evaluate(module, arg);
  }

  /** What the route table needs of a registration's argument later, taken while its tree is at hand. */
  private recordArgument(module: ParsedModule, node: ts.Expression): void {
    const key = declarationKey(module, node);
    if (isArrayLiteralExpression(node)) {
      const elements = node.elements.filter((e): e is ts.Expression => !isOmittedExpression(e));
      this.arrayElements.set(key, elements.map(refOf));
      for (const element of elements) this.recordArgument(module, element);
    } else if (isSpreadElement(node)) {
      this.spreadTargets.set(key, refOf(node.expression));
      this.recordArgument(module, node.expression);
    } else if (isCallExpression(node) || isFunctionExpression(node) || isArrowFunction(node)) {
      this.middlewareNames.set(key, middlewareNameOf(module, node));
      this.handlerSyntax.set(key, handlerSyntaxOf(module, node)!);
      if (isCallExpression(node)) {
        const wrapped = node.arguments.find((a) => isArrowFunction(a) || isFunctionExpression(a) || isIdentifier(a) || isPropertyAccessExpression(a));
        if (wrapped) this.recordArgument(module, wrapped);
      }
    }
  }

  /** The registrations of every module, in file order and walk order, as the route table reads them. */
  private readRegistrations(): void {
    const { evaluator, pending, listenModules } = this;
    const byFile = [...this.registrations].sort((a, b) => a.fileIndex - b.fileIndex);
    for (const { module, registrations } of byFile) {
      for (const registration of registrations) {
        const { method } = registration;
        for (const bindings of evaluator.bindingsOf(module, registration.loops)) {
          const target = evaluator.evaluateRefWith(module, registration.receiver, bindings);
          if (method === 'listen') {
            if (target.k === 'router') listenModules.add(module.path);
            continue;
          }
          const event = toEvent(module, registration, target, bindings);
          if (!event) continue;
          if (event.target.k === 'router') this.addEvent(event.target, event.event);
          else pending.push({ paramKey: paramKey(event.target), event: event.event });
        }
      }
    }
  }

  /**
   * Reads this reader's registrations and turns each into plain data: its paths, what each argument is (a mounted
   * router, middleware, an error handler) and the handler of a route. Nothing in it depends on where the router
   * is mounted, so the route table can be walked from the plain data of every partition (see buildRouteTable).
   */
  resolve(): PartitionRoutes {
    this.readRegistrations();
    const { evaluator } = this;
    const names = this.middlewareNames;
    const middlewareName = (module: ParsedModule, ref: NodeRef<ts.Expression>): string =>
      names.get(declarationKey(module, ref)) ??
      (ref.kind === SyntaxKind.CallExpression || ref.kind === SyntaxKind.FunctionExpression || ref.kind === SyntaxKind.ArrowFunction
        ? middlewareNameOf(module, nodeAt(module, ref))
        : middlewareNameOf(module, ref));
    const syntax: ArgumentSyntax = {
      middlewareName,
      arrayElements: (module, ref) =>
        this.arrayElements.get(declarationKey(module, ref)) ??
        nodeAt(module, ref as NodeRef<ts.ArrayLiteralExpression>).elements.filter((e): e is ts.Expression => !isOmittedExpression(e)).map(refOf),
      handlerSyntax: (module, ref) => {
        if (ref.kind !== SyntaxKind.ArrowFunction && ref.kind !== SyntaxKind.FunctionExpression && ref.kind !== SyntaxKind.CallExpression) return null;
        return this.handlerSyntax.get(declarationKey(module, ref)) ?? handlerSyntaxOf(module, nodeAt(module, ref));
      },
      spreadTarget: (module, ref) => this.spreadTargets.get(declarationKey(module, ref)) ?? refOf(nodeAt(module, ref as NodeRef<ts.SpreadElement>).expression),
    };
    const routers = new Map<string, PlainRouter>();
    const plainRouter = (router: RouterValue): string => {
      if (!routers.has(router.id)) routers.set(router.id, { id: router.id, isApp: router.isApp, file: router.module.path, line: lineOfRef(router.module, router.node) });
      return router.id;
    };
    for (const router of this.routers.values()) plainRouter(router);
    const resolveEvent = (event: RouterEvent): ResolvedEvent => {
      const { module } = event;
      const paths = event.pathNode ? evaluatePaths(module, event.pathNode, evaluator, event.bindings) : [''];
      const args = flattenArgs(module, event.args, evaluator, syntax, event.bindings);
      const resolved: ResolvedEvent = {
        kind: event.kind,
        method: event.method,
        file: module.path,
        line: lineOfRef(module, event.call),
        start: startOf(module, event.call),
        paths,
        pathText: paths === null ? textOf(module, event.pathNode!) : '',
        args: [],
        handler: null,
        middleware: [],
      };
      if (event.kind === 'use') {
        resolved.args = args.map((arg): ResolvedArg => {
          const value = evaluator.evaluateRefWith(arg.module, arg.node, arg.bindings);
          if (value.k === 'router') return { k: 'router', id: plainRouter(value), configuredBy: factoryOrigin(arg.module, arg.node, evaluator, value) };
          if (value.k === 'unknown' && looksLikeRouter(arg.module, arg.node)) {
            return { k: 'unresolved', file: arg.module.path, line: lineOfRef(arg.module, arg.node), text: textOf(arg.module, arg.node) };
          }
          // Error handlers (err, req, res, next) never run in front of a route on the normal path.
          if (value.k === 'function' && nodeAt(value.module, value.node).parameters.length === 4) return { k: 'error-handler' };
          return { k: 'middleware', name: middlewareName(arg.module, arg.node) };
        });
      } else if (args.length > 0) {
        const handlerArg = args.at(-1)!;
        resolved.handler = describeHandler(handlerArg.module, handlerArg.node, evaluator, syntax, handlerArg.bindings);
        resolved.middleware = args.slice(0, -1).map((a) => middlewareName(a.module, a.node));
      }
      return resolved;
    };
    const events: PartitionRoutes['events'] = [];
    for (const [id, list] of this.events) for (const event of list) events.push({ router: id, event: resolveEvent(event) });
    const pending = this.pending.map(({ paramKey: key, event }) => ({ paramKey: key, event: resolveEvent(event) }));
    return {
      routers: [...routers.values()],
      events,
      pending,
      bindings: [...this.bindings].map(([key, targets]) => [key, [...targets]]),
      bindingSites: [...this.bindingSites],
      listenModules: [...this.listenModules],
      decoratorControllers: this.decoratorControllers,
    };
  }
}

function toEvent(
  module: ParsedModule,
  registration: Registration,
  target: Value,
  bindings: Bindings,
): { target: RouterValue | (Value & { k: 'param' }); event: RouterEvent } | null {
  const { method, args } = registration;
  const call = registration.call;
  const refs = args.map((a) => a.ref);
  if (target.k === 'route-chain') {
    if (!HTTP_METHODS.has(method) || args.length === 0) return null;
    return {
      target: target.router,
      event: { kind: 'route', method: method.toUpperCase(), module, call, pathNode: target.paths, args: refs, bindings },
    };
  }
  if (target.k !== 'router' && target.k !== 'param') return null;
  if (method === 'param') return null;
  if (method === 'use') {
    if (args.length === 0) return null;
    const hasPath = args[0]!.pathLike;
    // `passport.use(strategy)` on a parameter is not a mount: a mount has a path or something router-like.
    if (target.k === 'param' && !hasPath && !args.some((a) => a.routerLike)) return null;
    return {
      target,
      event: { kind: 'use', method: 'USE', module, call, pathNode: hasPath ? refs[0] : undefined, args: hasPath ? refs.slice(1) : refs, bindings },
    };
  }
  // app.get('setting') reads a setting; a route needs a path and at least one handler.
  if (args.length < 2) return null;
  if (target.k === 'param' && !args[0]!.pathLike) return null;
  return { target, event: { kind: 'route', method: method.toUpperCase(), module, call, pathNode: refs[0], args: refs.slice(1), bindings } };
}

function isPathLike(node: ts.Expression): boolean {
  if (literalText(node) !== null || isTemplateExpression(node) || isRegularExpressionLiteral(node)) return true;
  if (isArrayLiteralExpression(node)) return node.elements.length > 0 && node.elements.every((e) => isPathLike(e as ts.Expression));
  if (isBinaryExpression(node) && node.operatorToken.kind === SyntaxKind.PlusToken) return isPathLike(node.left) || isPathLike(node.right);
  // A constant holding a path: `app.use(API_PREFIX, api)`; identifiers naming routers/middleware are not paths.
  return (isIdentifier(node) || isPropertyAccessExpression(node)) && /(path|prefix|base|url|route_?root|mount)$/i.test(node.getText());
}

/**
 * `app.use('/x', createCrudRouter({ ...categoryOptions }))`: the router comes from a generic factory; the module
 * that supplies its configuration (the first internal import the call's arguments name) is where the routes
 * really belong.
 */
function factoryOrigin(module: ParsedModule, ref: NodeRef<ts.Expression>, evaluator: Evaluator, router: RouterValue): string | null {
  if (ref.kind !== SyntaxKind.CallExpression || router.module === module) return null;
  const node = nodeAt(module, ref as NodeRef<ts.CallExpression>);
  let found: string | null = null;
  const visit = (child: ts.Node): void => {
    if (found) return;
    if (isIdentifier(child)) {
      const declaration = evaluator.lookup(child, child.text);
      if (declaration && (isImportSpecifier(declaration) || isImportClause(declaration) || isNamespaceImport(declaration))) {
        const importDeclaration = isImportSpecifier(declaration) ? declaration.parent.parent.parent : isImportClause(declaration) ? declaration.parent : declaration.parent.parent;
        const specifier = literalText(importDeclaration.moduleSpecifier);
        const target = specifier ? evaluator.resolveSpecifier(module, specifier) : null;
        if (target && target !== router.module.path) found = target;
      }
    }
    forEachChild(child, visit);
  };
  node.arguments.forEach(visit);
  return found;
}

function paramKey(value: Value & { k: 'param' }): string {
  return [`${value.fn}#${value.index}`, ...value.path].join('.');
}

interface ArgRef {
  module: ParsedModule;
  node: NodeRef<ts.Expression>;
  bindings: Bindings;
}

/** Middleware arrays (inline or held in a constant) count as their elements, in order. */
function flattenArgs(module: ParsedModule, args: Array<NodeRef<ts.Expression>>, evaluator: Evaluator, syntax: ArgumentSyntax, bindings: Bindings, depth = 0): ArgRef[] {
  const out: ArgRef[] = [];
  for (const arg of args) {
    if (arg.kind === SyntaxKind.ArrayLiteralExpression) {
      out.push(...flattenArgs(module, syntax.arrayElements(module, arg), evaluator, syntax, bindings, depth + 1));
      continue;
    }
    if (arg.kind === SyntaxKind.SpreadElement) {
      out.push(...flattenArgs(module, [syntax.spreadTarget(module, arg)], evaluator, syntax, bindings, depth + 1));
      continue;
    }
    if (arg.kind === SyntaxKind.Identifier && depth < 4) {
      const value = evaluator.evaluateRefWith(module, arg, bindings);
      if (value.k === 'array') {
        out.push(...flattenArgs(value.module, value.items, evaluator, syntax, new Map(), depth + 1));
        continue;
      }
    }
    out.push({ module, node: arg, bindings });
  }
  return out;
}

function evaluatePaths(module: ParsedModule, ref: NodeRef<ts.Expression>, evaluator: Evaluator, bindings: Bindings): string[] | null {
  if (ref.kind === SyntaxKind.RegularExpressionLiteral) return [nodeAt(module, ref as NodeRef<ts.RegularExpressionLiteral>).text];
  if (ref.kind === SyntaxKind.ArrayLiteralExpression) {
    const out: string[] = [];
    for (const element of nodeAt(module, ref as NodeRef<ts.ArrayLiteralExpression>).elements) {
      const inner = evaluatePaths(module, refOf(element), evaluator, bindings);
      if (inner === null) return null;
      out.push(...inner);
    }
    return out;
  }
  const value = evaluator.evaluateRefWith(module, ref, bindings);
  return value.k === 'string' ? [value.value] : null;
}

function looksLikeRouter(module: ParsedModule, ref: NodeRef<ts.Expression>): boolean {
  return /rout|api|controller|app/i.test(textOf(module, ref)) && ref.kind !== SyntaxKind.CallExpression;
}

/** How a middleware argument is named in the route table: its text, the function a call makes it with, or its name. */
function middlewareNameOf(module: ParsedModule, node: ts.Expression | NodeRef<ts.Expression>): string {
  if (node.kind === SyntaxKind.Identifier || node.kind === SyntaxKind.PropertyAccessExpression) return textOf(module, node);
  const expression = node as ts.Expression;
  if (isCallExpression(expression)) return expression.expression.getText(module.source);
  if ((isFunctionExpression(expression) || isArrowFunction(expression)) && expression.name) return expression.name.getText(module.source);
  return '<inline>';
}

function describeHandler(module: ParsedModule, ref: NodeRef<ts.Expression>, evaluator: Evaluator, syntax: ArgumentSyntax, bindings: Bindings): Route['handler'] {
  const handler = syntax.handlerSyntax(module, ref);
  if (handler?.k === 'function') return { line: handler.line, module: module.path, name: handler.name };
  if (handler?.k === 'call') {
    // Wrappers such as asyncHandler(fn) or catchErrors(controller.x): the wrapped function is the handler.
    if (handler.wrapped) return describeHandler(module, handler.wrapped, evaluator, syntax, bindings);
    const made = evaluator.evaluateRef(module, handler.callee);
    if (made.k === 'function') {
      const returned = evaluator.returnValue(made);
      if (returned.k === 'function') return functionHandler(returned, evaluator);
    }
    return { line: null, module: module.path, name: handler.calleeText };
  }
  const value = evaluator.evaluateRefWith(module, ref, bindings);
  if (value.k === 'function') return functionHandler(value, evaluator);
  return { module: module.path, name: textOf(module, ref), line: null };
}

type HandlerSyntax =
  | { k: 'function'; name: string | null; line: number }
  | { k: 'call'; wrapped: NodeRef<ts.Expression> | null; callee: NodeRef<ts.Expression>; calleeText: string };

/** What describeHandler reads of a function literal or call, or null for any other expression. */
function handlerSyntaxOf(module: ParsedModule, node: ts.Expression): HandlerSyntax | null {
  if (isArrowFunction(node) || isFunctionExpression(node)) return { k: 'function', name: node.name?.text ?? null, line: lineOf(module, node) };
  if (!isCallExpression(node)) return null;
  const wrapped = node.arguments.find((a) => isArrowFunction(a) || isFunctionExpression(a) || isIdentifier(a) || isPropertyAccessExpression(a));
  return { k: 'call', wrapped: wrapped ? refOf(wrapped) : null, callee: refOf(node.expression), calleeText: node.expression.getText(module.source) };
}

function functionHandler(value: Value & { k: 'function' }, _evaluator: Evaluator): Route['handler'] {
  return { module: value.module.path, name: value.name, line: lineOfRef(value.module, value.node) };
}
