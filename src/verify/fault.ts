import type { Plan } from '../model/plan.js';
import { compareStrings } from '../util/compare.js';
import { sendRequest } from './observer.js';
import type { ObservedRequest } from './report.js';
import { type FaultReport, type FaultRoute, countStatuses, showStatuses } from './report.js';
import type { RouteMatcher } from './routes.js';

/**
 * Fault injection: requests flow through the gateway to every GET route of the plan (the targets and credentials the
 * contract used where it exercised the route, a sample path otherwise), one service instance is killed (SIGKILL, a
 * crash: no drain) halfway, and the requests keep flowing. A request is lost when it gets no answer, or a server or
 * gateway error (5xx) from a route that answered without one before the kill.
 */

export interface Probe {
  route: string;
  service: string;
  target: string;
  headers: Record<string, string>;
}

/** A concrete path for an Express path: parameters get a sample value, `*` a sub-path. */
export function samplePath(expressPath: string): string {
  return expressPath.replace(/:(\w+)(\((?:\\.|[^)])*\))?[?*]?/g, '42').replace(/\*/g, 'any/thing');
}

/** One probe per GET route: the last successful request the contract sent to it (with its credentials), else a sample path. */
export function buildProbes(matcher: RouteMatcher, seen: Array<ObservedRequest & { headers?: Record<string, string> }>): Probe[] {
  const last = new Map<string, { url: string; headers: Record<string, string>; ok: boolean }>();
  for (const request of seen) {
    if (request.method !== 'GET' || request.error || request.status >= 500) continue;
    const route = matcher.match('GET', request.url);
    const ok = request.status < 300;
    // The last successful request of the route, else its last answered one.
    if (route && (ok || !last.get(route.route)?.ok)) last.set(route.route, { url: request.url, headers: request.headers ?? {}, ok });
  }
  return matcher.routes
    .filter((r) => r.method === 'GET' && !r.path.includes('*'))
    .map((r) => {
      const used = last.get(r.route);
      const headers = Object.fromEntries(Object.entries(used?.headers ?? {}).filter(([name]) => ['authorization', 'cookie', 'accept'].includes(name)));
      return { route: r.route, service: r.service, target: used?.url ?? samplePath(r.path), headers };
    });
}

/** Services that call `service`, directly or through others (their routes may fail when it is gone). */
export function dependants(plan: Plan, service: string): Set<string> {
  const out = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of plan.services) {
      if (out.has(s.name) || s.name === service) continue;
      if (s.dependsOn.some((d) => d === service || out.has(d))) {
        out.add(s.name);
        grew = true;
      }
    }
  }
  return out;
}

interface Sample {
  probe: Probe;
  status: number;
  error?: string;
  after: boolean;
}

export interface FaultOptions {
  plan: Plan;
  gatewayUrl: string;
  probes: Probe[];
  service: string;
  replica: number;
  replicas: number;
  kill: () => Promise<void>;
  /** Requests the killed instance answered since the fault phase began (read from its log after the run). */
  served: () => number;
  beforeMs?: number;
  afterMs?: number;
  concurrency?: number;
}

export async function runFault(options: FaultOptions): Promise<FaultReport> {
  const beforeMs = options.beforeMs ?? 1500;
  const afterMs = options.afterMs ?? 2500;
  const concurrency = options.concurrency ?? 4;
  const samples: Sample[] = [];
  let killed = false;
  let stop = false;
  let next = 0;
  const worker = async () => {
    while (!stop) {
      const probe = options.probes[next % options.probes.length]!;
      next += 1;
      const after = killed;
      const answer = await sendRequest(options.gatewayUrl, 'GET', probe.target, probe.headers, Buffer.alloc(0), 10_000);
      samples.push({ probe, status: answer.status, ...(answer.error ? { error: answer.error } : {}), after: after && killed });
    }
  };
  const workers = options.probes.length === 0 ? [] : Array.from({ length: concurrency }, worker);
  await new Promise((r) => setTimeout(r, beforeMs));
  await options.kill();
  killed = true;
  await new Promise((r) => setTimeout(r, afterMs));
  stop = true;
  await Promise.all(workers);

  const gone = dependants(options.plan, options.service);
  const replicated = options.replicas > 1;
  const routes: FaultRoute[] = options.probes
    .map((probe): FaultRoute => {
      const mine = samples.filter((s) => s.probe === probe);
      const before = countStatuses(mine.filter((s) => !s.after));
      const after = countStatuses(mine.filter((s) => s.after));
      const usual = Object.entries(before).sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]))[0]?.[0];
      // Lost: no answer, or a server/gateway error where the route answered without one before. Another 2xx/4xx is
      // an answer (replicas of a service that keeps data in memory may disagree: that is a scale-out hazard, not loss).
      const healthy = usual !== undefined && usual !== 'error' && Number(usual) < 500;
      const lost = mine.filter((s) => s.after && healthy && (s.error !== undefined || s.status >= 500)).length;
      const relation = probe.service === options.service ? 'killed' : gone.has(probe.service) ? 'depends' : 'other';
      return { route: probe.route, service: probe.service, relation, before, after, lost, verdict: lost === 0 ? 'kept answering' : 'failed' };
    })
    .sort((a, b) => compareStrings(a.service, b.service) || compareStrings(a.route, b.route));
  const lost = routes.reduce((n, r) => n + r.lost, 0);
  const requestsAfter = samples.filter((s) => s.after).length;
  const requestsBefore = samples.length - requestsAfter;
  const othersLost = routes.filter((r) => r.relation === 'other').reduce((n, r) => n + r.lost, 0);
  let passed: boolean;
  let summary: string;
  if (replicated) {
    passed = lost === 0;
    summary = passed
      ? `no request lost (${requestsAfter} requests after the kill, ${requestsBefore} before): the other replica took them`
      : `${lost} of ${requestsAfter} requests after the kill lost (${routes.filter((r) => r.lost > 0).map((r) => r.route).join(', ')})`;
  } else {
    passed = othersLost === 0;
    const failedOwn = routes.filter((r) => r.relation === 'killed' && r.lost > 0).map((r) => r.route);
    const failedDependants = routes.filter((r) => r.relation === 'depends' && r.lost > 0).map((r) => r.route);
    summary = `${failedOwn.length} route${failedOwn.length === 1 ? '' : 's'} of ${options.service} failed as expected` +
      (failedDependants.length > 0 ? `, and ${failedDependants.length} of services that call it (${failedDependants.join(', ')})` : '') + '; ' +
      (passed ? 'the routes of services that do not call it kept answering' : `${othersLost} requests to routes of services that do not call it failed too (${routes.filter((r) => r.relation === 'other' && r.lost > 0).map((r) => `${r.route}: ${showStatuses(r.after)}`).join(', ')})`);
  }
  return { service: options.service, replica: options.replica, replicas: options.replicas, signal: 'SIGKILL', requestsBefore, requestsAfter, killedInstanceServed: options.served(), lost, routes, passed, summary };
}
