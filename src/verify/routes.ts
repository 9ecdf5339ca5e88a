import fs from 'node:fs';
import type { Plan } from '../model/plan.js';
import { buildRoutingTable, type RoutingTable } from '../scaffold/gateway.js';
import { compareStrings } from '../util/compare.js';

/**
 * The route universe of a verify run is the plan's: every route of every service, plus the entry routes. Requests
 * are attributed to a route with the same Express-faithful matcher the gateway uses, from the plan (not from the
 * generated gateway, which is what is being verified).
 */

export interface PlannedRoute {
  route: string;
  service: string;
  method: string;
  path: string;
}

export interface RouteMatcher {
  routes: PlannedRoute[];
  table: RoutingTable;
  /** The plan route a request (method, raw target) belongs to, or null (no route: the entry service's fallback). */
  match(method: string, target: string): PlannedRoute | null;
  /** The plan route a service's request log line names (service, method, route pattern), or null. */
  fromLog(service: string, method: string, pattern: string): PlannedRoute | null;
}

export function routeMatcher(plan: Plan): RouteMatcher {
  const table = buildRoutingTable(plan);
  const byKey = new Map<string, PlannedRoute>();
  const routes: PlannedRoute[] = [];
  for (const r of table.routes) {
    const planned = { route: r.route, service: r.service, method: r.method, path: r.path };
    routes.push(planned);
    byKey.set(`${r.service} ${r.method} ${r.path}`, planned);
  }
  const compiled = table.routes.map((r) => ({ regex: new RegExp(r.pattern, r.flags), methods: r.methods, route: byKey.get(`${r.service} ${r.method} ${r.path}`)! }));
  return {
    routes: routes.sort((a, b) => compareStrings(a.service, b.service) || compareStrings(a.path, b.path) || compareStrings(a.method, b.method)),
    table,
    match(method, target) {
      const path = target.split('?')[0]!;
      const hit = compiled.find((c) => (c.methods.includes('*') || c.methods.includes(method)) && c.regex.test(path));
      return hit?.route ?? null;
    },
    fromLog(service, method, pattern) {
      return byKey.get(`${service} ${method} ${pattern}`) ?? (method === 'HEAD' ? byKey.get(`${service} GET ${pattern}`) : undefined) ?? byKey.get(`${service} ALL ${pattern}`) ?? null;
    },
  };
}

export interface LogRequest {
  service: string;
  replica: number;
  method: string;
  /** The route pattern the runtime matched (`unmatched` when the service has no such route). */
  route: string;
  status: number;
  durationMs: number;
}

/** The request lines (pino JSON, msg "request") of one service log. */
export function readRequestLog(file: string, service: string, replica: number): LogRequest[] {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: LogRequest[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{') || !line.includes('"request"')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; method?: string; route?: string; status?: number; durationMs?: number };
      if (entry.msg !== 'request' || typeof entry.method !== 'string' || typeof entry.route !== 'string') continue;
      out.push({ service, replica, method: entry.method, route: entry.route, status: Number(entry.status), durationMs: Number(entry.durationMs) });
    } catch {
      // not a log line of the runtime
    }
  }
  return out;
}

export interface CacheCounts {
  hit: number;
  miss: number;
  bypass: number;
}

/** `cache_requests_total` of one service's /metrics, per route label. */
export function parseCacheMetrics(text: string): Map<string, CacheCounts> {
  const out = new Map<string, CacheCounts>();
  for (const line of text.split('\n')) {
    const match = /^cache_requests_total\{([^}]*)\}\s+([0-9.eE+-]+)$/.exec(line.trim());
    if (!match) continue;
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="((?:\\.|[^"\\])*)"/g)].map((m) => [m[1]!, m[2]!.replace(/\\(.)/g, '$1')]));
    const route = labels.route;
    const result = labels.result as keyof CacheCounts | undefined;
    if (route === undefined || (result !== 'hit' && result !== 'miss' && result !== 'bypass')) continue;
    const counts = out.get(route) ?? { hit: 0, miss: 0, bypass: 0 };
    counts[result] += Number(match[2]);
    out.set(route, counts);
  }
  return out;
}

/** The median of a list (null when empty), rounded to 0.1 ms. */
export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return Math.round(value * 10) / 10;
}
