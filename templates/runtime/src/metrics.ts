import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The runtime's own registry (not prom-client's global one, which the service's code may use for itself).
 * Names and labels are fixed: the generated Prometheus alerts and Grafana dashboard query them.
 */
export const registry = new Registry();

/** `route` is a pattern from the service configuration, one of the runtime's own paths, or `unmatched`. */
export const httpRequests = new Counter({
  name: 'http_requests_total',
  help: 'HTTP requests answered, by route pattern and status',
  labelNames: ['service', 'method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time from receiving a request to the end of its response, by route pattern and status',
  labelNames: ['service', 'method', 'route', 'status'] as const,
  registers: [registry],
});

/** `result`: hit, miss, or bypass (Redis unavailable or too slow: the request went to the code). */
export const cacheRequests = new Counter({
  name: 'cache_requests_total',
  help: 'Cache lookups, by route pattern and result',
  labelNames: ['service', 'route', 'result'] as const,
  registers: [registry],
});

let collecting = false;

/** Process metrics (CPU, memory, event loop lag, GC): started by serve(), not at import. */
export function startDefaultMetrics(): void {
  if (collecting) return;
  collecting = true;
  collectDefaultMetrics({ register: registry });
}
