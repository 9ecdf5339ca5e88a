import { logger } from './logger';
import { RouteTable, type RoutePattern } from './routes';

export interface CacheRoute {
  /** Express path of a cacheable GET route. */
  path: string;
  ttlSeconds: number;
  /** Entities the response depends on: a write to any of them drops the cached response. */
  tags: string[];
}

export interface ServiceConfig {
  /** DNS-label service name, e.g. `catalog`. */
  service: string;
  /** Express routes this service answers (`ALL` allowed): the `route` label of the HTTP metrics. */
  routes: RoutePattern[];
  cache: {
    routes: CacheRoute[];
    /** Entity tags this service's writes invalidate. */
    writes: string[];
  };
  /** Cache through Redis at REDIS_URL. */
  redis: boolean;
}

export interface ActiveConfig {
  config: ServiceConfig;
  routes: RouteTable<RoutePattern>;
  cacheRoutes: RouteTable<CacheRoute & { method: string }>;
}

const DNS_LABEL = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const METHOD = /^[A-Za-z]+$/;

let active: ActiveConfig | undefined;

/**
 * Tells the runtime which service this process is. The generated main calls it first, before the service's
 * own code loads; a wrong configuration is a bug in the scaffold and throws.
 */
export function configureService(config: ServiceConfig): void {
  const problems: string[] = [];
  if (typeof config !== 'object' || config === null) throw new TypeError('configureService() needs a configuration object');
  if (typeof config.service !== 'string' || !DNS_LABEL.test(config.service)) problems.push(`service ${JSON.stringify(config.service)} is not a DNS label`);
  if (!Array.isArray(config.routes)) problems.push('routes is not a list');
  else {
    config.routes.forEach((r, i) => {
      if (typeof r?.method !== 'string' || !METHOD.test(r.method)) problems.push(`routes[${i}].method is not an HTTP method`);
      if (typeof r?.path !== 'string' || !r.path.startsWith('/')) problems.push(`routes[${i}].path does not start with /`);
    });
  }
  if (typeof config.cache !== 'object' || config.cache === null || !Array.isArray(config.cache.routes) || !Array.isArray(config.cache.writes)) {
    problems.push('cache needs routes and writes lists');
  } else {
    config.cache.routes.forEach((r, i) => {
      if (typeof r?.path !== 'string' || !r.path.startsWith('/')) problems.push(`cache.routes[${i}].path does not start with /`);
      if (typeof r?.ttlSeconds !== 'number' || !Number.isInteger(r.ttlSeconds) || r.ttlSeconds < 1) problems.push(`cache.routes[${i}].ttlSeconds is not a positive whole number`);
      if (!Array.isArray(r?.tags) || r.tags.some((t) => typeof t !== 'string' || t === '')) problems.push(`cache.routes[${i}].tags is not a list of names`);
    });
    if (config.cache.writes.some((t) => typeof t !== 'string' || t === '')) problems.push('cache.writes is not a list of names');
  }
  if (typeof config.redis !== 'boolean') problems.push('redis is not true or false');
  if (problems.length > 0) throw new TypeError(`invalid service configuration: ${problems.join('; ')}`);

  const copy: ServiceConfig = {
    service: config.service,
    routes: config.routes.map((r) => ({ method: r.method.toUpperCase(), path: r.path })),
    cache: {
      routes: config.cache.routes.map((r) => ({ path: r.path, ttlSeconds: r.ttlSeconds, tags: [...r.tags] })),
      writes: [...new Set(config.cache.writes)],
    },
    redis: config.redis,
  };
  active = {
    config: copy,
    routes: new RouteTable(copy.routes),
    cacheRoutes: new RouteTable(copy.cache.routes.map((r) => ({ ...r, method: 'GET' }))),
  };
  logger.setBindings({ service: copy.service });
}

/** The configuration, or a clear error when the generated main did not call `configureService` first. */
export function activeConfig(): ActiveConfig {
  if (active === undefined) throw new Error('configureService() must be called before serve()');
  return active;
}

export function maybeActiveConfig(): ActiveConfig | undefined {
  return active;
}
