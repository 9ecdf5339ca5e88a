import { ts } from 'ts-morph';
import type { MountStep, Route, UnresolvedRoute } from '../model/analysis.js';
import { compareStrings, sortBy } from '../util/compare.js';
import { type Bindings, type Evaluator, type Value } from './evaluator.js';
import { type NodeRef, type ParsedModule, lineOf, lineOfRef, literalText, nodeAt, refOf, startOf, textOf } from './parsed-module.js';

// Bound once instead of read from `ts` at every use (see the note on `ts` in parsed-module.ts).
const { forEachChild, isArrayLiteralExpression, isArrowFunction, isBinaryExpression, isCallExpression,
  isFunctionExpression, isIdentifier, isImportClause, isImportSpecifier, isNamespaceImport, isOmittedExpression,
  isPropertyAccessExpression, isRegularExpressionLiteral, isSpreadElement, isTemplateExpression, SyntaxKind } = ts;

const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'del', 'options', 'head', 'all']);
const ROUTER_CALLS = new Set([...HTTP_METHODS, 'use', 'param']);
const MAX_MOUNT_DEPTH = 32;
/**
 * Routers visited while walking the mount tree. A router mounted twice at every level doubles the table per
 * level (2^depth routes); real apps visit a few hundred. Past this the walk stops and says so in
 * `unresolvedRoutes`, instead of running out of memory.
 */
const MAX_MOUNT_VISITS = 20_000;

type RouterValue = Value & { k: 'router' };

/** Where an event sits in registration order: call-site file and position, then its own position. */
type OrderKey = [string, number, number];

interface RouterEvent {
  kind: 'route' | 'use';
  method: string;
  module: ParsedModule;
  call: NodeRef<ts.CallExpression>;
  /** The path argument, if the call has one (routes always; `use` optionally). */
  pathNode: NodeRef<ts.Expression> | undefined;
  /** Arguments after the path. */
  args: Array<NodeRef<ts.Expression>>;
  order: OrderKey;
  /** Loop variables bound for this registration (one event per element of an iterated route table). */
  bindings: Bindings;
}

interface PendingParamEvent {
  paramKey: string;
  event: Omit<RouterEvent, 'order'>;
}

export interface RouteTable {
  routes: Route[];
  unresolved: UnresolvedRoute[];
  /** Modules that create a root app or start it listening. */
  entries: string[];
}

/**
 * Builds the full route table: finds every router and app, every registration on them (also through
 * functions that receive the app as a parameter), and walks the mount tree from each root app so every
 * route gets its full path and the middleware chain in front of it.
 */
export class RouteTableBuilder {
  private readonly routers = new Map<string, RouterValue>();
  private readonly events = new Map<string, RouterEvent[]>();
  private readonly pending: PendingParamEvent[] = [];
  /** param key -> router ids or other param keys ("param:" prefix) */
  private readonly bindings = new Map<string, Set<string>>();
  private readonly bindingSites = new Map<string, OrderKey>();
  private readonly listenModules = new Set<string>();

  constructor(private readonly evaluator: Evaluator) {}

  private addEvent(router: RouterValue, event: RouterEvent): void {
    this.routers.set(router.id, router);
    const list = this.events.get(router.id) ?? [];
    list.push(event);
    this.events.set(router.id, list);
  }

  /**
   * Records the registrations a module makes and the routers it passes to functions. `calls`: the module's call
   * expressions in walk order, from the tree at hand; nothing kept refers to them.
   */
  inspect(module: ParsedModule, calls: Iterable<ts.Node>): void {
    const { evaluator, routers, pending, bindings, bindingSites, listenModules } = this;
    const inspectCall = (module: ParsedModule, call: ts.CallExpression) => {
      const callee = call.expression;
      if (isPropertyAccessExpression(callee)) {
        const method = callee.name.text;
        if (ROUTER_CALLS.has(method) || method === 'listen') {
          for (const bindings of evaluator.loopBindings(module, call)) {
            const target = evaluator.evaluateWith(module, callee.expression, bindings);
            if (method === 'listen') {
              if (target.k === 'router') listenModules.add(module.path);
              continue;
            }
            const event = toEvent(module, call, method, target, bindings);
            if (!event) continue;
            const order: OrderKey = [module.path, call.getStart(module.source), 0];
            if (event.target.k === 'router') this.addEvent(event.target, { ...event.event, order });
            else pending.push({ paramKey: paramKey(event.target), event: event.event });
          }
        }
      }
      // A function called with a router (or with a parameter that may be one) binds its parameter to it.
      if (call.arguments.length > 0) {
        const args = call.arguments.map((a) => (isIdentifier(a) || isPropertyAccessExpression(a) || isCallExpression(a) ? evaluator.evaluate(module, a) : null));
        if (args.some((a) => a?.k === 'router' || a?.k === 'param')) {
          const fn = evaluator.evaluate(module, callee);
          if (fn.k === 'function') {
            args.forEach((arg, index) => {
              if (arg?.k !== 'router' && arg?.k !== 'param') return;
              const key = `${fn.id}#${index}`;
              const set = bindings.get(key) ?? new Set();
              set.add(arg.k === 'router' ? arg.id : `param:${paramKey(arg)}`);
              if (arg.k === 'router') routers.set(arg.id, arg);
              bindings.set(key, set);
              bindingSites.set(key, [module.path, call.getStart(module.source), 0]);
            });
          }
        }
      }
    };
    for (const call of calls) if (isCallExpression(call)) inspectCall(module, call);
  }

  build(entryFile: string | null): RouteTable {
    return buildTable(this.evaluator, this.routers, this.events, this.pending, this.bindings, this.bindingSites, this.listenModules, entryFile);
  }
}

function buildTable(
  evaluator: Evaluator,
  routers: Map<string, RouterValue>,
  events: Map<string, RouterEvent[]>,
  pending: PendingParamEvent[],
  bindings: Map<string, Set<string>>,
  bindingSites: Map<string, OrderKey>,
  listenModules: Set<string>,
  entryFile: string | null,
): RouteTable {
  const unresolved: UnresolvedRoute[] = [];
  const addEvent = (router: RouterValue, event: RouterEvent) => {
    routers.set(router.id, router);
    const list = events.get(router.id) ?? [];
    list.push(event);
    events.set(router.id, list);
  };

  // Registrations on function parameters land on every router the parameter is bound to.
  for (const { paramKey: key, event } of pending) {
    const targets = routersBoundTo(key, bindings);
    if (targets.size === 0) {
      unresolved.push({
        file: event.module.path,
        line: lineOfRef(event.module, event.call),
        reason: `registered on a parameter of a function that is never called with an app or router`,
      });
      continue;
    }
    const site = bindingSites.get(key) ?? [event.module.path, 0, 0];
    for (const id of targets) {
      const router = routers.get(id);
      if (router) addEvent(router, { ...event, order: [site[0], site[1], startOf(event.module, event.call)] });
    }
  }
  for (const list of events.values()) {
    list.sort((a, b) => compareStrings(a.order[0], b.order[0]) || a.order[1] - b.order[1] || a.order[2] - b.order[2]);
  }

  // Roots: apps nothing mounts (or the routers created in --entry).
  const mounted = new Set<string>();
  for (const list of events.values()) {
    for (const event of list) {
      if (event.kind !== 'use') continue;
      for (const arg of flattenArgs(event.module, event.args, evaluator, event.bindings)) {
        const value = evaluator.evaluateRefWith(arg.module, arg.node, arg.bindings);
        if (value.k === 'router') mounted.add(value.id);
      }
    }
  }
  let roots = [...routers.values()].filter((r) => r.isApp && !mounted.has(r.id));
  if (entryFile !== null) {
    const inEntry = [...routers.values()].filter((r) => r.module.path === entryFile && !mounted.has(r.id));
    roots = inEntry.length > 0 ? inEntry : roots;
  }
  roots = sortBy(roots, (r) => r.id);

  const routes: Route[] = [];
  const reached = new Set<string>();
  let visits = 0;
  let truncatedAt: { file: string; line: number } | null = null;
  const walk = (router: RouterValue, prefix: string, inherited: string[], mounts: MountStep[], stack: string[], origin: string | null): void => {
    if (stack.includes(router.id) || stack.length > MAX_MOUNT_DEPTH) return;
    if (++visits > MAX_MOUNT_VISITS) {
      truncatedAt ??= { file: router.module.path, line: lineOfRef(router.module, router.node) };
      return;
    }
    reached.add(router.id);
    const routerMiddleware: Array<{ name: string; scope: string }> = [];
    for (const event of events.get(router.id) ?? []) {
      const paths = event.pathNode ? evaluatePaths(event.module, event.pathNode, evaluator, event.bindings) : [''];
      if (paths === null) {
        unresolved.push({
          file: event.module.path,
          line: lineOfRef(event.module, event.call),
          reason: `path \`${textOf(event.module, event.pathNode!)}\` is not a static string`,
        });
        continue;
      }
      const args = flattenArgs(event.module, event.args, evaluator, event.bindings);
      if (event.kind === 'use') {
        const before: string[] = [];
        for (const arg of args) {
          const value = evaluator.evaluateRefWith(arg.module, arg.node, arg.bindings);
          if (value.k === 'router') {
            for (const path of paths) {
              const step: MountStep = { file: event.module.path, line: lineOfRef(event.module, event.call), prefix: path };
              const applicable = routerMiddleware.filter((m) => scopeApplies(m.scope, path)).map((m) => m.name);
              const configuredBy = factoryOrigin(arg.module, arg.node, evaluator, value) ?? origin;
              walk(value, joinPath(prefix, path), [...inherited, ...applicable, ...before], [...mounts, step], [...stack, router.id], configuredBy);
            }
          } else if (value.k === 'unknown' && looksLikeRouter(arg.module, arg.node)) {
            unresolved.push({
              file: arg.module.path,
              line: lineOfRef(arg.module, arg.node),
              reason: `mounted value \`${textOf(arg.module, arg.node)}\` could not be resolved statically`,
            });
          } else if (!(value.k === 'function' && nodeAt(value.module, value.node).parameters.length === 4)) {
            // Error handlers (err, req, res, next) never run in front of a route on the normal path.
            const name = middlewareName(arg.module, arg.node);
            before.push(name);
            for (const path of paths) routerMiddleware.push({ name, scope: path });
          }
        }
        continue;
      }
      if (args.length === 0) continue;
      const handlerArg = args.at(-1)!;
      const middleware = args.slice(0, -1).map((a) => middlewareName(a.module, a.node));
      for (const localPath of paths) {
        const applicable = routerMiddleware.filter((m) => scopeApplies(m.scope, localPath)).map((m) => m.name);
        routes.push({
          method: event.method === 'DEL' ? 'DELETE' : event.method,
          path: joinPath(prefix, localPath),
          localPath: localPath === '' ? '/' : localPath,
          file: event.module.path,
          line: lineOfRef(event.module, event.call),
          handler: describeHandler(handlerArg.module, handlerArg.node, evaluator, handlerArg.bindings),
          middleware: [...inherited, ...applicable, ...middleware],
          mounts,
          origin,
        });
      }
    }
  };
  for (const root of roots) walk(root, '', [], [], [], null);
  if (truncatedAt !== null) {
    const { file, line } = truncatedAt as { file: string; line: number };
    unresolved.push({
      file,
      line,
      reason: `the mount tree mounts the same routers more than ${MAX_MOUNT_VISITS} times (each mounted several times at every level); the route table stops there`,
    });
  }

  for (const [id, list] of events) {
    if (reached.has(id)) continue;
    const router = routers.get(id)!;
    const routeEvents = list.filter((e) => e.kind === 'route');
    if (routeEvents.length === 0) continue;
    unresolved.push({
      file: router.module.path,
      line: lineOfRef(router.module, router.node),
      reason: `router with ${routeEvents.length} route(s) is never mounted on an app`,
    });
  }

  const entries = new Set<string>([...roots.map((r) => r.module.path), ...listenModules]);
  return {
    routes: sortBy(routes, (r) => r.path, (r) => r.method, (r) => r.file, (r) => r.line),
    unresolved: dedupeUnresolved(unresolved),
    entries: [...entries].sort(compareStrings),
  };
}

function toEvent(
  module: ParsedModule,
  call: ts.CallExpression,
  method: string,
  target: Value,
  bindings: Bindings,
): { target: RouterValue | (Value & { k: 'param' }); event: Omit<RouterEvent, 'order'> } | null {
  const args = [...call.arguments];
  const callRef = refOf(call);
  if (target.k === 'route-chain') {
    if (!HTTP_METHODS.has(method) || args.length === 0) return null;
    return {
      target: target.router,
      event: { kind: 'route', method: method.toUpperCase(), module, call: callRef, pathNode: target.paths, args: args.map(refOf), bindings },
    };
  }
  if (target.k !== 'router' && target.k !== 'param') return null;
  if (method === 'param') return null;
  if (method === 'use') {
    if (args.length === 0) return null;
    const first = args[0]!;
    const hasPath = isPathLike(first);
    // `passport.use(strategy)` on a parameter is not a mount: a mount has a path or something router-like.
    if (target.k === 'param' && !hasPath && !args.some((a) => looksLikeRouter(module, refOf(a)))) return null;
    return {
      target,
      event: { kind: 'use', method: 'USE', module, call: callRef, pathNode: hasPath ? refOf(first) : undefined, args: (hasPath ? args.slice(1) : args).map(refOf), bindings },
    };
  }
  // app.get('setting') reads a setting; a route needs a path and at least one handler.
  if (args.length < 2) return null;
  if (target.k === 'param' && !isPathLike(args[0]!)) return null;
  return { target, event: { kind: 'route', method: method.toUpperCase(), module, call: callRef, pathNode: refOf(args[0]!), args: args.slice(1).map(refOf), bindings } };
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
  return `${value.fn}#${value.index}`;
}

function routersBoundTo(key: string, bindings: Map<string, Set<string>>, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(key)) return out;
  seen.add(key);
  for (const target of bindings.get(key) ?? []) {
    if (target.startsWith('param:')) for (const id of routersBoundTo(target.slice(6), bindings, seen)) out.add(id);
    else out.add(target);
  }
  return out;
}

interface ArgRef {
  module: ParsedModule;
  node: NodeRef<ts.Expression>;
  bindings: Bindings;
}

/** Middleware arrays (inline or held in a constant) count as their elements, in order. */
function flattenArgs(module: ParsedModule, args: Array<NodeRef<ts.Expression>>, evaluator: Evaluator, bindings: Bindings, depth = 0): ArgRef[] {
  const out: ArgRef[] = [];
  for (const arg of args) {
    if (arg.kind === SyntaxKind.ArrayLiteralExpression) {
      const elements = nodeAt(module, arg as NodeRef<ts.ArrayLiteralExpression>).elements.filter((e): e is ts.Expression => !isOmittedExpression(e));
      out.push(...flattenArgs(module, elements.map(refOf), evaluator, bindings, depth + 1));
      continue;
    }
    if (arg.kind === SyntaxKind.SpreadElement) {
      out.push(...flattenArgs(module, [refOf(nodeAt(module, arg as NodeRef<ts.SpreadElement>).expression)], evaluator, bindings, depth + 1));
      continue;
    }
    if (arg.kind === SyntaxKind.Identifier && depth < 4) {
      const value = evaluator.evaluateRefWith(module, arg, bindings);
      if (value.k === 'array') {
        out.push(...flattenArgs(value.module, value.items, evaluator, new Map(), depth + 1));
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

/** Express path join: a router's '/' route answers at the mount prefix itself. */
export function joinPath(prefix: string, path: string): string {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (path === '' || path === '/') return base === '' ? '/' : base;
  return `${base}${path.startsWith('/') ? '' : '/'}${path}`;
}

function scopeApplies(scope: string, path: string): boolean {
  if (scope === '' || scope === '/') return true;
  const base = scope.endsWith('/') ? scope.slice(0, -1) : scope;
  return path === base || path.startsWith(`${base}/`);
}

function looksLikeRouter(module: ParsedModule, ref: NodeRef<ts.Expression>): boolean {
  return /rout|api|controller|app/i.test(textOf(module, ref)) && ref.kind !== SyntaxKind.CallExpression;
}

function middlewareName(module: ParsedModule, ref: NodeRef<ts.Expression>): string {
  if (ref.kind === SyntaxKind.Identifier || ref.kind === SyntaxKind.PropertyAccessExpression) return textOf(module, ref);
  if (ref.kind !== SyntaxKind.CallExpression && ref.kind !== SyntaxKind.FunctionExpression && ref.kind !== SyntaxKind.ArrowFunction) return '<inline>';
  const node = nodeAt(module, ref);
  if (isCallExpression(node)) return node.expression.getText(module.source);
  if ((isFunctionExpression(node) || isArrowFunction(node)) && node.name) return node.name.getText(module.source);
  return '<inline>';
}

function describeHandler(module: ParsedModule, ref: NodeRef<ts.Expression>, evaluator: Evaluator, bindings: Bindings): Route['handler'] {
  const node = ref.kind === SyntaxKind.ArrowFunction || ref.kind === SyntaxKind.FunctionExpression || ref.kind === SyntaxKind.CallExpression ? nodeAt(module, ref) : null;
  if (node && (isArrowFunction(node) || isFunctionExpression(node))) {
    return { module: module.path, name: node.name?.text ?? null, line: lineOf(module, node) };
  }
  if (node && isCallExpression(node)) {
    // Wrappers such as asyncHandler(fn) or catchErrors(controller.x): the wrapped function is the handler.
    const wrapped = node.arguments.find((a) => isArrowFunction(a) || isFunctionExpression(a) || isIdentifier(a) || isPropertyAccessExpression(a));
    if (wrapped) return describeHandler(module, refOf(wrapped), evaluator, bindings);
    const made = evaluator.evaluate(module, node.expression);
    if (made.k === 'function') {
      const returned = evaluator.returnValue(made);
      if (returned.k === 'function') return functionHandler(returned, evaluator);
    }
    return { module: module.path, name: node.expression.getText(module.source), line: null };
  }
  const value = evaluator.evaluateRefWith(module, ref, bindings);
  if (value.k === 'function') return functionHandler(value, evaluator);
  return { module: module.path, name: textOf(module, ref), line: null };
}

function functionHandler(value: Value & { k: 'function' }, _evaluator: Evaluator): Route['handler'] {
  return { module: value.module.path, name: value.name, line: lineOfRef(value.module, value.node) };
}

function dedupeUnresolved(items: UnresolvedRoute[]): UnresolvedRoute[] {
  const seen = new Set<string>();
  const out: UnresolvedRoute[] = [];
  for (const item of sortBy(items, (i) => i.file, (i) => i.line, (i) => i.reason)) {
    const key = `${item.file}:${item.line}:${item.reason}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(item);
    }
  }
  return out;
}
