import type { Analysis } from '../model/analysis.js';
import type { Plan } from '../model/plan.js';
import { compareStrings, sortBy, uniqueSorted } from '../util/compare.js';
import { type WorkspaceLayout, groupEdges } from './layout.js';
import type { ExtractedCode } from './service-code.js';

/** How long a cached GET response lives unless the plan says otherwise. */
export const DEFAULT_CACHE_TTL_SECONDS = 30;

export interface CachedRoute {
  path: string;
  ttlSeconds: number;
  /** Entities the response depends on: a successful write of any of them drops it. */
  tags: string[];
}

export interface ServiceCachePolicy {
  routes: CachedRoute[];
  /** Entities this service's writes (its own routes and the internal calls it answers) invalidate. */
  writes: string[];
  /** GET routes left uncached, with the reason (for docs and tests). */
  uncached: { route: string; reason: string }[];
}

/**
 * Which GET routes each service caches in Redis, and which entity tags its writes invalidate. A GET route is
 * cacheable when its handler's module writes nothing, nothing it reaches keeps state in the process (module state,
 * in-process caches, sessions — a replica-local answer must not be shared), and none of the data it reads is changed
 * by a timer (a write no request would invalidate). Tags are every entity its handler's modules read or write,
 * through any import, so a write anywhere drops it.
 */
export function buildCachePolicy(plan: Plan, analysis: Analysis, layout: WorkspaceLayout, code: ExtractedCode): Record<string, ServiceCachePolicy> {
  const edgesFrom = groupEdges(analysis.imports.filter((e) => !e.typeOnly));
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
  const statefulModules = new Set(analysis.hazards.filter((h) => h.kind !== 'timer' && h.kind !== 'local-disk').map((h) => h.file));
  const volatile = new Set<string>();
  for (const hazard of analysis.hazards) {
    if (hazard.kind !== 'timer') continue;
    for (const module of closure(hazard.file, edgesFrom)) for (const entity of writesByModule.get(module) ?? []) volatile.add(entity);
  }
  const closures = new Map<string, Set<string>>();
  const closureOf = (module: string) => {
    let c = closures.get(module);
    if (!c) closures.set(module, (c = closure(module, edgesFrom)));
    return c;
  };

  const isLocal = (service: string, module: string) => {
    const p = layout.placement[module];
    return !p || p.kind !== 'service' || p.name === service;
  };
  const policies: Record<string, ServiceCachePolicy> = {};
  for (const service of plan.services) {
    const routes: CachedRoute[] = [];
    const uncached: { route: string; reason: string }[] = [];
    for (const route of service.routes) {
      const [method, path] = [route.slice(0, route.indexOf(' ')), route.slice(route.indexOf(' ') + 1)];
      if (method !== 'GET') continue;
      const matching = analysis.routes.filter((r) => r.method === 'GET' && r.path === path);
      // A router built by a shared factory reads what the module that configures it (its origin) reaches.
      const handlers = uniqueSorted(matching.flatMap((r) => (r.origin ? [r.handler.module, r.origin] : [r.handler.module])));
      if (handlers.length === 0) {
        uncached.push({ route, reason: 'no handler found in the analysis' });
        continue;
      }
      const reached = new Set(handlers.flatMap((h) => [...closureOf(h)]));
      const writer = handlers.find((h) => (writesByModule.get(h)?.size ?? 0) > 0);
      // Process state of another service is that service's concern (it answers through its own API); only this
      // service's own state makes a shared cached answer wrong.
      const stateful = [...reached].sort(compareStrings).find((m) => statefulModules.has(m) && isLocal(service.name, m));
      const tags = uniqueSorted([...reached].flatMap((m) => [...(entitiesByModule.get(m) ?? [])]));
      const changedByTimer = tags.find((t) => volatile.has(t));
      if (writer) uncached.push({ route, reason: `its handler's module ${writer} writes data` });
      else if (stateful) uncached.push({ route, reason: `it reaches ${stateful}, which keeps state in the process` });
      else if (changedByTimer) uncached.push({ route, reason: `\`${changedByTimer}\` is changed by a timer, not only by requests` });
      else if (tags.length === 0) uncached.push({ route, reason: 'it reads no data decompose can see, so no write would invalidate it' });
      else routes.push({ path, ttlSeconds: DEFAULT_CACHE_TTL_SECONDS, tags });
    }
    policies[service.name] = { routes: sortBy(routes, (r) => r.path), writes: [], uncached };
  }

  // Writes: what the service's own code writes, and the data it answers for through data proxies.
  for (const unit of code.units) {
    if (unit.unit.kind !== 'service') continue;
    const writes = new Set<string>();
    for (const file of unit.files) for (const entity of writesByModule.get(file.from) ?? []) writes.add(entity);
    const own = new Set(unit.files.map((f) => f.from));
    for (const operation of code.internal[unit.unit.name] ?? []) {
      for (const module of closureOf(operation.module)) if (own.has(module)) for (const entity of writesByModule.get(module) ?? []) writes.add(entity);
      if (operation.kind === 'data') {
        for (const entity of analysis.entities) {
          if (entity.name === operation.symbol || entity.definedIn.some((d) => closureOf(operation.module).has(d.module))) writes.add(entity.name);
        }
      }
    }
    policies[unit.unit.name]!.writes = [...writes].sort(compareStrings);
  }
  return policies;
}

function closure(start: string, edgesFrom: Map<string, { to: string }[]>): Set<string> {
  const seen = new Set<string>([start]);
  const stack = [start];
  while (stack.length > 0) {
    const module = stack.pop()!;
    for (const edge of edgesFrom.get(module) ?? []) {
      if (!seen.has(edge.to)) {
        seen.add(edge.to);
        stack.push(edge.to);
      }
    }
  }
  return seen;
}
