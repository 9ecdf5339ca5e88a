import type { MountStep, Route, UnresolvedRoute } from '../model/analysis.js';
import { compareStrings, sortBy } from '../util/compare.js';

/**
 * The route table, walked from plain data. Each partition of the analysis (see partitions.ts) reads its own modules'
 * registrations into the shapes below; this module merges them and walks the mount tree from each root app, so
 * every route gets its full path and the middleware chain in front of it. Nothing here needs a syntax tree.
 */

/**
 * Routers visited while walking the mount tree. A router mounted twice at every level doubles the table per
 * level (2^depth routes); real apps visit a few hundred. Past this the walk stops and says so in
 * `unresolvedRoutes`, instead of running out of memory.
 */
const MAX_MOUNT_VISITS = 20_000;
const MAX_MOUNT_DEPTH = 32;

/** Where an event sits in registration order: call-site file and position, then its own position. */
type OrderKey = [string, number, number];

/** The last call that binds a function parameter: its file, where it starts, and the file's index in the file list. */
export interface BindingSite {
  file: string;
  start: number;
  fileIndex: number;
}

/** An app or router: where `express()` or `express.Router()` is called. */
export interface PlainRouter {
  id: string;
  isApp: boolean;
  file: string;
  line: number;
}

/** An argument of `use`, as the walk needs it. */
export type ResolvedArg =
  | { k: 'router'; id: string; configuredBy: string | null }
  | { k: 'unresolved'; file: string; line: number; text: string }
  | { k: 'error-handler' }
  | { k: 'middleware'; name: string };

/** One registration (`x.get(…)`, `x.use(…)`, or one element's worth of a looped one), read to plain data. */
export interface ResolvedEvent {
  kind: 'route' | 'use';
  method: string;
  file: string;
  line: number;
  /** Where the call starts: with the file, its place in registration order. */
  start: number;
  /** The paths it registers at; null when the path is not a static string (its text is pathText). */
  paths: string[] | null;
  pathText: string;
  /** `use`: each argument after the path. */
  args: ResolvedArg[];
  /** A route's handler (its last argument), null when it has none; and the middleware named before it. */
  handler: Route['handler'] | null;
  middleware: string[];
}

/** What one partition read of the routes of its modules. */
export interface PartitionRoutes {
  routers: PlainRouter[];
  /** Registrations on known routers, by router id. */
  events: Array<{ router: string; event: ResolvedEvent }>;
  /** Registrations on a function parameter: they land on every router the parameter is bound to. */
  pending: Array<{ paramKey: string; event: ResolvedEvent }>;
  /** Parameter key -> router ids or other parameter keys ("param:" prefix) passed to it. */
  bindings: Array<[string, string[]]>;
  /** Parameter key -> the last call that binds it. */
  bindingSites: Array<[string, BindingSite]>;
  /** Modules that start a router listening. */
  listenModules: string[];
  /** Controllers whose routes a decorator library declares (see RouteReader.readClassDecorator): not read. */
  decoratorControllers: UnresolvedRoute[];
}

export interface RouteTable {
  routes: Route[];
  unresolved: UnresolvedRoute[];
  /** Modules that create a root app or start it listening. */
  entries: string[];
}

/** The route table of the whole program from every partition's routes, in partition order. */
export function buildRouteTable(parts: PartitionRoutes[], entryFile: string | null): RouteTable {
  const routers = new Map<string, PlainRouter>();
  const ordered = new Map<string, Array<{ order: OrderKey; event: ResolvedEvent }>>();
  const bindings = new Map<string, Set<string>>();
  const bindingSites = new Map<string, BindingSite>();
  const listenModules = new Set<string>();
  const addEvent = (router: string, order: OrderKey, event: ResolvedEvent) => {
    const list = ordered.get(router);
    if (list) list.push({ order, event });
    else ordered.set(router, [{ order, event }]);
  };
  for (const part of parts) {
    for (const router of part.routers) if (!routers.has(router.id)) routers.set(router.id, router);
    for (const { router, event } of part.events) addEvent(router, [event.file, event.start, 0], event);
    for (const [key, targets] of part.bindings) {
      const set = bindings.get(key) ?? new Set();
      for (const target of targets) set.add(target);
      bindings.set(key, set);
    }
    // The last binding call in file order gives the site; within a file only one partition has calls.
    for (const [key, site] of part.bindingSites) {
      if ((bindingSites.get(key)?.fileIndex ?? -1) <= site.fileIndex) bindingSites.set(key, site);
    }
    for (const file of part.listenModules) listenModules.add(file);
  }

  const unresolved: UnresolvedRoute[] = parts.flatMap((part) => part.decoratorControllers);
  // Registrations on function parameters land on every router the parameter is bound to.
  for (const part of parts) {
    for (const { paramKey: key, event } of part.pending) {
      const targets = routersBoundTo(key, bindings);
      if (targets.size === 0) {
        unresolved.push({ file: event.file, line: event.line, reason: `registered on a parameter of a function that is never called with an app or router` });
        continue;
      }
      const site = bindingSites.get(key) ?? { file: event.file, start: 0 };
      for (const id of targets) {
        if (routers.has(id)) addEvent(id, [site.file, site.start, event.start], event);
      }
    }
  }
  const events = new Map<string, ResolvedEvent[]>();
  for (const [router, list] of ordered) {
    list.sort((a, b) => compareStrings(a.order[0], b.order[0]) || a.order[1] - b.order[1] || a.order[2] - b.order[2]);
    events.set(router, list.map((entry) => entry.event));
  }

  // Roots: apps nothing mounts (or the routers created in --entry).
  const mounted = new Set<string>();
  for (const list of events.values()) {
    for (const event of list) {
      if (event.kind !== 'use') continue;
      for (const arg of event.args) if (arg.k === 'router') mounted.add(arg.id);
    }
  }
  let roots = [...routers.values()].filter((r) => r.isApp && !mounted.has(r.id));
  if (entryFile !== null) {
    const inEntry = [...routers.values()].filter((r) => r.file === entryFile && !mounted.has(r.id));
    roots = inEntry.length > 0 ? inEntry : roots;
  }
  roots = sortBy(roots, (r) => r.id);

  const routes: Route[] = [];
  const reached = new Set<string>();
  let visits = 0;
  let truncatedAt: { file: string; line: number } | null = null;
  const walk = (router: PlainRouter, prefix: string, inherited: string[], mounts: MountStep[], stack: string[], origin: string | null): void => {
    if (stack.includes(router.id) || stack.length > MAX_MOUNT_DEPTH) return;
    if (++visits > MAX_MOUNT_VISITS) {
      truncatedAt ??= { file: router.file, line: router.line };
      return;
    }
    reached.add(router.id);
    const routerMiddleware: Array<{ name: string; scope: string }> = [];
    for (const event of events.get(router.id) ?? []) {
      const { paths } = event;
      if (paths === null) {
        unresolved.push({ file: event.file, line: event.line, reason: `path \`${event.pathText}\` is not a static string` });
        continue;
      }
      if (event.kind === 'use') {
        const before: string[] = [];
        for (const arg of event.args) {
          if (arg.k === 'router') {
            for (const path of paths) {
              const step: MountStep = { file: event.file, line: event.line, prefix: path };
              const applicable = routerMiddleware.filter((m) => scopeApplies(m.scope, path)).map((m) => m.name);
              walk(routers.get(arg.id)!, joinPath(prefix, path), [...inherited, ...applicable, ...before], [...mounts, step], [...stack, router.id], arg.configuredBy ?? origin);
            }
          } else if (arg.k === 'unresolved') {
            unresolved.push({ file: arg.file, line: arg.line, reason: `mounted value \`${arg.text}\` could not be resolved statically` });
          } else if (arg.k === 'middleware') {
            before.push(arg.name);
            for (const path of paths) routerMiddleware.push({ name: arg.name, scope: path });
          }
        }
        continue;
      }
      if (event.handler === null) continue;
      for (const localPath of paths) {
        const applicable = routerMiddleware.filter((m) => scopeApplies(m.scope, localPath)).map((m) => m.name);
        // Keys in sorted order, as the analysis file has them (see sortKeysDeep).
        routes.push({
          file: event.file,
          handler: { line: event.handler.line, module: event.handler.module, name: event.handler.name },
          line: event.line,
          localPath: localPath === '' ? '/' : localPath,
          method: event.method === 'DEL' ? 'DELETE' : event.method,
          middleware: [...inherited, ...applicable, ...event.middleware],
          mounts,
          origin,
          path: joinPath(prefix, localPath),
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
    unresolved.push({ file: router.file, line: router.line, reason: `router with ${routeEvents.length} route(s) is never mounted on an app` });
  }

  const entries = new Set<string>([...roots.map((r) => r.file), ...listenModules]);
  return {
    routes: sortBy(routes, (r) => r.path, (r) => r.method, (r) => r.file, (r) => r.line),
    unresolved: dedupeUnresolved(unresolved),
    entries: [...entries].sort(compareStrings),
  };
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
