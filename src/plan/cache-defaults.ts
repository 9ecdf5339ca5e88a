import type { Analysis, ImportEdge } from '../model/analysis.js';
import { componentsInReachOrder } from '../graph/cycles.js';
import { compareStrings, uniqueSorted } from '../util/compare.js';

/** How long a cached GET response lives unless the plan says otherwise. */
export const DEFAULT_CACHE_TTL_SECONDS = 30;

export interface RouteCacheDecision {
  route: string;
  cacheable: boolean;
  /** Why not (empty when cacheable). */
  reason: string;
  /** Every entity the handler can reach: a write of any of them drops the cached answer. */
  tags: string[];
}

/**
 * Which GET routes a service can cache in a shared cache (Redis). A GET route is cacheable when its handler's module
 * writes nothing, nothing it reaches keeps state in this service's process (module state, in-process caches,
 * sessions: a replica-local answer must not be shared), and none of the data it reads is changed by a timer (a write
 * no request would invalidate). Tags are every entity its handler's modules read or write, through any import, so a
 * write anywhere drops it. `serviceOf` places a module (null: shared code or entry).
 */
export function cacheDecisions(analysis: Analysis, service: string, routes: string[], serviceOf: (module: string) => string | null): RouteCacheDecision[] {
  const context = contextOf(analysis);
  const decisions: RouteCacheDecision[] = [];
  for (const route of routes) {
    const space = route.indexOf(' ');
    const method = route.slice(0, space);
    const path = route.slice(space + 1);
    if (method !== 'GET') continue;
    const matching = context.getRoutes.get(path) ?? [];
    // A router built by a shared factory reads what the module that configures it (its origin) reaches.
    const handlers = uniqueSorted(matching.flatMap((r) => (r.origin ? [r.handler.module, r.origin] : [r.handler.module])));
    if (handlers.length === 0) {
      decisions.push({ route, cacheable: false, reason: 'no handler found in the analysis', tags: [] });
      continue;
    }
    const reach = handlers.map((h) => context.reachOf(h));
    const tags = uniqueSorted(reach.flatMap((r) => r.tags));
    const writer = handlers.find((h) => (context.writesByModule.get(h)?.size ?? 0) > 0);
    // Process state of another service is that service's concern (it answers through its own API).
    const stateful = uniqueSorted(reach.flatMap((r) => r.stateful)).find((m) => serviceOf(m) === null || serviceOf(m) === service);
    const changedByTimer = tags.find((t) => context.volatile.has(t));
    let reason = '';
    if (writer) reason = `its handler's module ${writer} writes data`;
    else if (stateful) reason = `it reaches ${stateful}, which keeps state in the process`;
    else if (changedByTimer) reason = `\`${changedByTimer}\` is changed by a timer, not only by requests`;
    else if (tags.length === 0) reason = 'it reads no data decompose can see, so no write would invalidate it';
    decisions.push({ route, cacheable: reason === '', reason, tags });
  }
  return decisions;
}

/** Function names that read: such calls are retried on network failures, and their results may be cached. */
export const READ_NAME = /^(get|find|list|count|fetch|search|load|read|lookup|query|has|is|exists|check|resolve|describe|show|view)/i;

/** The plan's key for a call a service makes to another: `CALL src/catalog/catalog.api.ts#getProductPrices`. */
export function callCacheKey(module: string, symbol: string): string {
  return `CALL ${module}#${symbol}`;
}

/**
 * Cross-service calls whose results a service can cache: a function of another service that reads (by its name),
 * becomes an HTTP call (convertible), reaches data (tags) and no in-process state of its owner, and no data a timer
 * changes. Tags are every entity the callee's module can reach: the owner's writes drop them.
 */
export function callCacheDecisions(
  analysis: Analysis,
  seams: Array<{ callee: string; symbol: string; kind: string; convertible: boolean; to: string }>,
  serviceOf: (module: string) => string | null,
): Array<{ key: string; cacheable: boolean; reason: string; tags: string[] }> {
  const context = contextOf(analysis);
  const seen = new Set<string>();
  const out: Array<{ key: string; cacheable: boolean; reason: string; tags: string[] }> = [];
  for (const seam of seams) {
    if (seam.kind !== 'function' || !seam.convertible) continue;
    const key = callCacheKey(seam.callee, seam.symbol);
    if (seen.has(key)) continue;
    seen.add(key);
    const reach = context.reachOf(seam.callee);
    const stateful = reach.stateful.find((m) => serviceOf(m) === null || serviceOf(m) === seam.to);
    const changedByTimer = reach.tags.find((t) => context.volatile.has(t));
    let reason = '';
    if (!READ_NAME.test(seam.symbol)) reason = 'its name does not say it only reads';
    else if (stateful) reason = `it reaches ${stateful}, which keeps state in the process`;
    else if (changedByTimer) reason = `\`${changedByTimer}\` is changed by a timer, not only by requests`;
    else if (reach.tags.length === 0) reason = 'it reads no data decompose can see, so no write would invalidate it';
    out.push({ key, cacheable: reason === '', reason, tags: reach.tags });
  }
  return out.sort((a, b) => compareStrings(a.key, b.key));
}

/** The tags of a call's result: every entity the callee's module can reach. */
export function callTags(analysis: Analysis, module: string): string[] {
  return contextOf(analysis).reachOf(module).tags;
}

/** The plan's default: every cacheable GET route with the default TTL. */
export function defaultCacheRoutes(analysis: Analysis, service: string, routes: string[], serviceOf: (module: string) => string | null): Record<string, number> {
  return Object.fromEntries(cacheDecisions(analysis, service, routes, serviceOf).filter((d) => d.cacheable).map((d) => [d.route, DEFAULT_CACHE_TTL_SECONDS]));
}

/** What a handler module reaches through its imports: entity tags and in-process state (sorted). */
interface Reach {
  tags: string[];
  stateful: string[];
}

interface CacheContext {
  reachOf: (module: string) => Reach;
  /** GET routes of the analysis by full path (looked up once per route of every service). */
  getRoutes: Map<string, Analysis['routes']>;
  entitiesByModule: Map<string, Set<string>>;
  writesByModule: Map<string, Set<string>>;
  statefulModules: Set<string>;
  volatile: Set<string>;
  closureOf: (module: string) => Set<string>;
}

const contexts = new WeakMap<Analysis, CacheContext>();

function contextOf(analysis: Analysis): CacheContext {
  const known = contexts.get(analysis);
  if (known) return known;
  const edgesFrom = new Map<string, ImportEdge[]>();
  for (const edge of analysis.imports) {
    if (edge.typeOnly) continue;
    let list = edgesFrom.get(edge.from);
    if (!list) edgesFrom.set(edge.from, (list = []));
    list.push(edge);
  }
  const entitiesByModule = new Map<string, Set<string>>();
  const writesByModule = new Map<string, Set<string>>();
  const add = (map: Map<string, Set<string>>, module: string, entity: string) => {
    let set = map.get(module);
    if (!set) map.set(module, (set = new Set()));
    set.add(entity);
  };
  for (const entity of analysis.entities) {
    for (const access of entity.accesses) {
      add(entitiesByModule, access.module, entity.name);
      if (access.mode === 'write') add(writesByModule, access.module, entity.name);
    }
    for (const definition of entity.definedIn) add(entitiesByModule, definition.module, entity.name);
  }
  const closures = new Map<string, Set<string>>();
  const closureOf = (start: string): Set<string> => {
    const cached = closures.get(start);
    if (cached) return cached;
    const seen = new Set<string>([start]);
    const stack = [start];
    while (stack.length > 0) {
      for (const edge of edgesFrom.get(stack.pop()!) ?? []) {
        if (!seen.has(edge.to)) {
          seen.add(edge.to);
          stack.push(edge.to);
        }
      }
    }
    closures.set(start, seen);
    return seen;
  };
  const volatile = new Set<string>();
  for (const hazard of analysis.hazards) {
    if (hazard.kind !== 'timer') continue;
    for (const module of closureOf(hazard.file)) for (const entity of writesByModule.get(module) ?? []) volatile.add(entity);
  }
  const getRoutes = new Map<string, Analysis['routes']>();
  for (const route of analysis.routes) {
    if (route.method !== 'GET') continue;
    let list = getRoutes.get(route.path);
    if (!list) getRoutes.set(route.path, (list = []));
    list.push(route);
  }
  const statefulModules = new Set(analysis.hazards.filter((h) => h.kind !== 'timer' && h.kind !== 'local-disk').map((h) => h.file));
  // What each module reaches, for every module in one pass over the import graph's components (each after what it
  // reaches), instead of one walk of the import closure per handler: at 5,000 modules those walks took ~2 s.
  let reaches: Map<string, Reach> | null = null;
  const computeReaches = (): Map<string, Reach> => {
    const runtimeEdges = [...edgesFrom.values()].flat();
    const { components, componentOf } = componentsInReachOrder(analysis.modules.map((m) => m.path), runtimeEdges);
    const tagsOf: Array<Set<string>> = [];
    const statefulOf: Array<Set<string>> = [];
    const out = new Map<string, Reach>();
    components.forEach((members, index) => {
      const tags = new Set<string>();
      const stateful = new Set<string>();
      const reached = new Set<number>();
      for (const member of members) {
        for (const entity of entitiesByModule.get(member) ?? []) tags.add(entity);
        if (statefulModules.has(member)) stateful.add(member);
        for (const edge of edgesFrom.get(member) ?? []) {
          const target = componentOf.get(edge.to);
          if (target !== undefined && target !== index) reached.add(target);
        }
      }
      for (const target of reached) {
        for (const tag of tagsOf[target]!) tags.add(tag);
        for (const module of statefulOf[target]!) stateful.add(module);
      }
      tagsOf[index] = tags;
      statefulOf[index] = stateful;
      const reach = { tags: [...tags].sort(compareStrings), stateful: [...stateful].sort(compareStrings) };
      for (const member of members) out.set(member, reach);
    });
    return out;
  };
  const reachOf = (module: string): Reach => {
    reaches ??= computeReaches();
    const known = reaches.get(module);
    if (known) return known;
    // Not a module of the analysis (a stale plan entry): only what it holds itself.
    return { tags: [...(entitiesByModule.get(module) ?? [])].sort(compareStrings), stateful: statefulModules.has(module) ? [module] : [] };
  };
  const context: CacheContext = {
    reachOf,
    getRoutes,
    entitiesByModule,
    writesByModule,
    statefulModules,
    volatile,
    closureOf,
  };
  contexts.set(analysis, context);
  return context;
}

/** Entities the given modules write (directly). */
export function entitiesWrittenBy(analysis: Analysis, modules: Iterable<string>): string[] {
  const context = contextOf(analysis);
  const out = new Set<string>();
  for (const module of modules) for (const entity of context.writesByModule.get(module) ?? []) out.add(entity);
  return [...out].sort(compareStrings);
}

/** The runtime import closure of a module. */
export function importClosure(analysis: Analysis, module: string): Set<string> {
  return contextOf(analysis).closureOf(module);
}
