import type { Analysis } from '../model/analysis.js';
import type { Plan } from '../model/plan.js';
import { cacheDecisions, defaultCacheRoutes, entitiesWrittenBy, importClosure } from '../plan/cache-defaults.js';
import { sortBy } from '../util/compare.js';
import type { WorkspaceLayout } from './layout.js';
import type { ExtractedCode } from './service-code.js';

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
 * What each service's runtime caches: the GET routes the plan lists under `cache` (with their TTL; a plan without the
 * field gets the defaults of plan/cache-defaults.ts), tagged with every entity their handler can reach; and the
 * entity tags the service's writes invalidate: what its own code writes, and what the internal operations it answers
 * write (data proxies included).
 */
export function buildCachePolicy(plan: Plan, analysis: Analysis, layout: WorkspaceLayout, code: ExtractedCode): Record<string, ServiceCachePolicy> {
  const serviceOf = (module: string) => {
    const p = layout.placement[module];
    return p?.kind === 'service' ? p.name : null;
  };
  const policies: Record<string, ServiceCachePolicy> = {};
  for (const service of plan.services) {
    const chosen = service.cache ?? defaultCacheRoutes(analysis, service.name, service.routes, serviceOf);
    const decisions = cacheDecisions(analysis, service.name, service.routes, serviceOf);
    const routes: CachedRoute[] = [];
    const uncached: { route: string; reason: string }[] = [];
    for (const decision of decisions) {
      const ttl = chosen[decision.route];
      if (ttl === undefined) uncached.push({ route: decision.route, reason: decision.reason || 'the plan does not list it under cache' });
      else routes.push({ path: decision.route.slice(decision.route.indexOf(' ') + 1), ttlSeconds: ttl, tags: decision.tags });
    }
    policies[service.name] = { routes: sortBy(routes, (r) => r.path), writes: [], uncached };
  }
  for (const unit of code.units) {
    if (unit.unit.kind !== 'service') continue;
    const own = new Set(unit.files.map((f) => f.from));
    const writes = new Set(entitiesWrittenBy(analysis, own));
    for (const operation of code.internal[unit.unit.name] ?? []) {
      const closure = importClosure(analysis, operation.module);
      for (const entity of entitiesWrittenBy(analysis, [...closure].filter((m) => own.has(m)))) writes.add(entity);
      if (operation.kind === 'data') {
        for (const entity of analysis.entities) {
          if (entity.name === operation.symbol || entity.definedIn.some((d) => closure.has(d.module))) writes.add(entity.name);
        }
      }
    }
    policies[unit.unit.name]!.writes = [...writes].sort();
  }
  return policies;
}
