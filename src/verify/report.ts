import { compareStrings } from '../util/compare.js';
import { type Difference, sideBySide } from './compare.js';
import { type CacheCounts, type LogRequest, type PlannedRoute, type RouteMatcher, median } from './routes.js';

/**
 * The verify report: per route of the plan, passed / failed (with why) / not exercised, its latency through the
 * gateway against the monolith's, and the cache hits seen. Built from plain observations (requests seen in front of
 * each system, the services' request logs, their cache counters, replay differences), sorted, so the same run gives
 * the same report.
 */

export interface ObservedRequest {
  method: string;
  url: string;
  status: number;
  durationMs: number;
  error?: string;
}

export interface ReplayDifference {
  index: number;
  method: string;
  url: string;
  differences: Difference[];
}

export type RouteVerdict = 'passed' | 'failed' | 'not-exercised';

export interface RouteResult {
  route: string;
  service: string;
  verdict: RouteVerdict;
  /** Requests sent to the decomposed system (through the gateway) for this route. */
  requests: number;
  /** Status → count, through the gateway. */
  statuses: Record<string, number>;
  monolithStatuses: Record<string, number> | null;
  p50Ms: number | null;
  monolithP50Ms: number | null;
  cache: CacheCounts | null;
  problems: string[];
  differences: ReplayDifference[];
}

export interface FaultRoute {
  route: string;
  service: string;
  /** `killed`: the killed service owns it; `depends`: its service calls the killed one; `other`: neither. */
  relation: 'killed' | 'depends' | 'other';
  before: Record<string, number>;
  after: Record<string, number>;
  /** Requests after the kill that did not get the status the route answered before it. */
  lost: number;
  verdict: 'kept answering' | 'failed';
}

export interface FaultReport {
  service: string;
  replica: number;
  replicas: number;
  signal: string;
  requestsBefore: number;
  requestsAfter: number;
  /** Requests the killed instance answered during the fault phase (before it died): it was taking traffic. */
  killedInstanceServed: number;
  lost: number;
  routes: FaultRoute[];
  passed: boolean;
  summary: string;
}

export interface VerifyReport {
  version: 1;
  passed: boolean;
  mode: 'test-command' | 'replay';
  gateway: 'nginx' | 'node';
  redis: string | null;
  contract: {
    command?: string;
    exitCode?: number;
    replayFile?: string;
    requests: number;
    differing?: number;
    passed: boolean;
  };
  summary: { passed: number; failed: number; notExercised: number; routes: number };
  routes: RouteResult[];
  /** Requests that matched no route of the plan (the entry service answered them, as the monolith did). */
  unrouted: { requests: number; statuses: Record<string, number> };
  cache: (CacheCounts & { ratio: number | null }) | null;
  fault: FaultReport | null;
  /** Problems of the run itself, e.g. a service that stopped during the contract without verify stopping it. */
  problems: string[];
  timings: Record<string, number>;
  logs: string;
}

export interface ReportInput {
  matcher: RouteMatcher;
  decomposed: ObservedRequest[];
  monolith: ObservedRequest[] | null;
  logs: LogRequest[];
  /** Cache counters per service and route label. */
  cache: Map<string, Map<string, CacheCounts>> | null;
  differences: ReplayDifference[] | null;
}

export function countStatuses(requests: { status: number; error?: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of requests) {
    const key = r.error ? 'error' : String(r.status);
    out[key] = (out[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort((a, b) => compareStrings(a[0], b[0])));
}

export function showStatuses(statuses: Record<string, number>): string {
  const entries = Object.entries(statuses);
  return entries.length === 0 ? '—' : entries.map(([s, n]) => (n === 1 ? s : `${s}×${n}`)).join(' ');
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}

/** Per-route results, in the plan's order (service, path, method). */
export function routeResults(input: ReportInput): { routes: RouteResult[]; unrouted: VerifyReport['unrouted'] } {
  const { matcher } = input;
  const group = <T extends { method: string; url: string }>(requests: T[]) => {
    const by = new Map<string, T[]>();
    const none: T[] = [];
    for (const r of requests) {
      const route = matcher.match(r.method, r.url);
      if (route === null) none.push(r);
      else by.set(route.route, [...(by.get(route.route) ?? []), r]);
    }
    return { by, none };
  };
  const decomposed = group(input.decomposed);
  const monolith = input.monolith ? group(input.monolith) : null;
  const logged = new Map<string, number>();
  for (const line of input.logs) {
    const route = matcher.fromLog(line.service, line.method, line.route);
    if (route) logged.set(route.route, (logged.get(route.route) ?? 0) + 1);
  }
  const differences = new Map<string, ReplayDifference[]>();
  for (const d of input.differences ?? []) {
    const route = matcher.match(d.method, d.url);
    const key = route?.route ?? '';
    differences.set(key, [...(differences.get(key) ?? []), d]);
  }
  const entryRoutes = new Set(matcher.table.routes.filter((r) => r.source === 'entry').map((r) => r.route));

  const routes = matcher.routes.map((planned: PlannedRoute): RouteResult => {
    const seen = decomposed.by.get(planned.route) ?? [];
    const before = monolith ? (monolith.by.get(planned.route) ?? []) : null;
    const statuses = countStatuses(seen);
    const monolithStatuses = before ? countStatuses(before) : null;
    const problems: string[] = [];
    const diffs = differences.get(planned.route) ?? [];
    if (seen.length > 0) {
      const reached = logged.get(planned.route) ?? 0;
      // Entry routes are answered by the entry service's own wiring, which its request log cannot name.
      if (!entryRoutes.has(planned.route) && reached < seen.length) {
        problems.push(`${seen.length - reached} of ${seen.length} request${seen.length === 1 ? '' : 's'} did not reach ${planned.service}: the gateway sent ${seen.length - reached === 1 ? 'it' : 'them'} elsewhere`);
      }
      if (diffs.length > 0) {
        problems.push(`${diffs.length} of ${seen.length} request${seen.length === 1 ? '' : 's'} answered differently from the monolith`);
      } else if (monolithStatuses && input.differences === null && !sameCounts(statuses, monolithStatuses)) {
        problems.push(`statuses differ: monolith ${showStatuses(monolithStatuses)}, decomposed ${showStatuses(statuses)}`);
      } else if (!monolithStatuses && input.differences === null) {
        const errors = seen.filter((r) => r.error || r.status >= 500).length;
        if (errors > 0) problems.push(`${errors} server error${errors === 1 ? '' : 's'} (${showStatuses(statuses)})`);
      }
    }
    let cache: CacheCounts | null = null;
    const counters = input.cache?.get(planned.service)?.get(planned.path);
    if (counters && planned.method === 'GET') cache = { ...counters };
    return {
      route: planned.route,
      service: planned.service,
      verdict: seen.length === 0 ? 'not-exercised' : problems.length > 0 ? 'failed' : 'passed',
      requests: seen.length,
      statuses,
      monolithStatuses,
      p50Ms: median(seen.filter((r) => !r.error).map((r) => r.durationMs)),
      monolithP50Ms: before ? median(before.filter((r) => !r.error).map((r) => r.durationMs)) : null,
      cache,
      problems,
      differences: diffs.slice(0, 5),
    };
  });
  return { routes, unrouted: { requests: decomposed.none.length, statuses: countStatuses(decomposed.none) } };
}

export function cacheTotals(routes: RouteResult[], all: Map<string, Map<string, CacheCounts>> | null): VerifyReport['cache'] {
  if (all === null) return null;
  const total = { hit: 0, miss: 0, bypass: 0 };
  for (const counters of all.values()) {
    for (const [route, c] of counters) {
      // Calls between services (rpc:…) are cached too; the ratio is over the public routes.
      if (route.startsWith('rpc:')) continue;
      total.hit += c.hit;
      total.miss += c.miss;
      total.bypass += c.bypass;
    }
  }
  void routes;
  const lookups = total.hit + total.miss + total.bypass;
  return { ...total, ratio: lookups === 0 ? null : Math.round((total.hit / lookups) * 1000) / 1000 };
}

function ms(value: number | null): string {
  return value === null ? '—' : `${value.toFixed(1)} ms`;
}

/** The report for people: failures first with their reasons, then one line per route. */
export function renderReport(report: VerifyReport): string[] {
  const lines: string[] = [];
  const c = report.contract;
  if (report.mode === 'test-command') {
    lines.push(`contract: \`${c.command}\` through the ${report.gateway} gateway ${c.passed ? 'passed' : `FAILED (exit ${String(c.exitCode)})`}, ${c.requests} requests`);
  } else {
    lines.push(`contract: replayed ${c.requests} requests from ${c.replayFile} against the monolith and through the ${report.gateway} gateway: ${c.differing === 0 ? 'all answered the same' : `${c.differing} answered differently`}`);
  }
  lines.push(`redis: ${report.redis ?? 'not running (caching off)'}`);
  for (const problem of report.problems) lines.push(`problem: ${problem}`);
  const failed = report.routes.filter((r) => r.verdict === 'failed');
  if (failed.length > 0) {
    lines.push('', 'failed routes:');
    for (const route of failed) {
      lines.push(`  ${route.route} (${route.service})`);
      for (const problem of route.problems) lines.push(`    ${problem}`);
      for (const d of route.differences.slice(0, 3)) {
        lines.push(`    request #${d.index + 1}: ${d.method} ${d.url}`);
        for (const line of sideBySide(d.differences.slice(0, 6))) lines.push(`      ${line}`);
        if (d.differences.length > 6) lines.push(`      … ${d.differences.length - 6} more (report.json has them all)`);
      }
    }
  }
  lines.push('', 'routes:');
  const width = Math.max(10, ...report.routes.map((r) => r.route.length));
  lines.push(`  ${'route'.padEnd(width)}  ${'service'.padEnd(14)} ${'result'.padEnd(13)} ${'requests'.padStart(8)}  ${'p50 gateway'.padStart(11)}  ${'p50 monolith'.padStart(12)}  cache hits`);
  for (const r of report.routes) {
    const cache = r.cache ? `${r.cache.hit}/${r.cache.hit + r.cache.miss + r.cache.bypass}` : '';
    lines.push(`  ${r.route.padEnd(width)}  ${r.service.padEnd(14)} ${r.verdict.padEnd(13)} ${String(r.requests).padStart(8)}  ${ms(r.p50Ms).padStart(11)}  ${ms(r.monolithP50Ms).padStart(12)}  ${cache}`);
  }
  if (report.unrouted.requests > 0) lines.push(`  (${report.unrouted.requests} requests matched no route of the plan and went to the entry service: ${showStatuses(report.unrouted.statuses)})`);
  if (report.cache) {
    const lookups = report.cache.hit + report.cache.miss + report.cache.bypass;
    lines.push('', `cache: ${report.cache.hit} hits of ${lookups} lookups${report.cache.ratio === null ? '' : ` (${(report.cache.ratio * 100).toFixed(1)}%)`}, ${report.cache.bypass} bypassed`);
  }
  if (report.fault) {
    const f = report.fault;
    lines.push('', `fault: ${f.signal} to ${f.service}${f.replicas > 1 ? ` replica ${f.replica} of ${f.replicas}` : ' (its only instance)'} after it answered ${f.killedInstanceServed} requests, while requests flowed: ${f.summary}`);
    for (const r of f.routes.filter((x) => x.relation !== 'other' || x.lost > 0)) {
      lines.push(`  ${r.route.padEnd(width)}  ${r.verdict.padEnd(15)} before ${showStatuses(r.before)}, after ${showStatuses(r.after)}${r.relation === 'depends' ? ` (${r.service} calls ${f.service})` : ''}`);
    }
    const others = f.routes.filter((x) => x.relation === 'other');
    if (others.length > 0) lines.push(`  ${others.filter((r) => r.lost === 0).length} of ${others.length} routes of the other services kept answering`);
  }
  const s = report.summary;
  lines.push('', `${report.passed ? 'PASSED' : 'FAILED'}: ${s.passed} passed, ${s.failed} failed, ${s.notExercised} not exercised of ${s.routes} routes; logs in ${report.logs}`);
  return lines;
}
