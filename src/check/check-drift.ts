import { createHash } from 'node:crypto';
import type { Analysis } from '../model/analysis.js';
import type { Finding, FindingLocation, RuleId, Severity } from '../model/finding.js';
import { RULES } from '../model/finding.js';
import type { Plan } from '../model/plan.js';
import { resourceKey } from '../graph/module-graph.js';
import { type PlanChoices, buildPlan, expandModules } from '../plan/build-plan.js';
import { sortBy } from '../util/compare.js';

export interface DriftOptions {
  /** Fail when the code has more seams than this. */
  maxSeams?: number;
  /** Fail when the inter-call percentage is above this. */
  maxIcp?: number;
  /** Per-rule severity from the plan (`off` disables a rule). */
  severities?: Partial<Record<RuleId, Severity | 'off'>>;
  /** Where each module string sits in the plan file, for findings about the plan itself. */
  planLocation: (module: string) => FindingLocation;
}

/**
 * Compares fresh analysis with the agreed plan and lists every place the code crosses a boundary the plan
 * does not allow. Pure: plan and analysis in, findings out.
 */
export function checkDrift(analysis: Analysis, plan: Plan, options: DriftOptions): Finding[] {
  const allModules = analysis.modules.map((m) => m.path);
  const choices: PlanChoices = {
    settings: plan.settings,
    // The cache choice plays no part in drift: passing the plan's own spares computing the defaults.
    services: plan.services.map((s) => ({ name: s.name, modules: s.modules, owns: s.owns, dependsOn: s.dependsOn, replicas: s.replicas, cache: s.cache ?? {} })),
    sharedLibraries: plan.sharedLibraries,
    entrypoints: plan.entrypoints,
    rationale: {},
  };
  const now = buildPlan(analysis, choices, { keepModuleLists: true, skipMetrics: options.maxIcp === undefined });
  const placeOf = (module: string) => now.assignment.get(module);
  const serviceOf = (module: string) => {
    const place = placeOf(module);
    return place?.kind === 'service' ? place.name : null;
  };
  const findings: Finding[] = [];
  const severityOf = (rule: RuleId): Severity | 'off' => options.severities?.[rule] ?? RULES.find((r) => r.id === rule)!.defaultSeverity;
  const add = (rule: RuleId, location: FindingLocation, message: string, identity: string[], extra: Partial<Finding> = {}) => {
    const severity = severityOf(rule);
    if (severity === 'off') return;
    findings.push({ rule, severity, message, location, related: [], service: null, fingerprint: fingerprint(rule, identity), ...extra });
  };

  // Imports across boundaries the plan does not allow, and shared code depending on services.
  const allowed = new Map(plan.services.map((s) => [s.name, new Set(s.dependsOn)]));
  for (const edge of analysis.imports) {
    if (edge.typeOnly) continue;
    const fromPlace = placeOf(edge.from);
    if (!fromPlace || fromPlace.kind === 'entry') continue;
    for (const target of edge.through.length > 0 ? edge.through : [edge.to]) {
      const to = serviceOf(target);
      if (!to) continue;
      const names = [...edge.names.filter((n) => n !== '*'), ...edge.members];
      const what = names.length > 0 ? names.join(', ') : edge.specifier;
      const location = { file: edge.from, line: edge.line, column: 1 };
      const related = [{ file: target, line: 1, column: 1, message: `defined in service ${to}` }];
      if (fromPlace.kind === 'shared') {
        add('shared-imports-service', location, `shared library ${fromPlace.name} imports ${what} from ${target} (service ${to}): shared code must not depend on a service; move it into ${to} or pass it in`, [edge.from, target], { related, service: null });
      } else if (fromPlace.name !== to && !allowed.get(fromPlace.name)?.has(to)) {
        add('forbidden-import', location, `${fromPlace.name} imports ${what} from ${target} (service ${to}), which the plan does not allow: call ${to} through its API, or add ${to} to ${fromPlace.name}.dependsOn if the team agrees`, [edge.from, target, ...names], { related, service: fromPlace.name });
      }
    }
  }

  for (const module of now.unassigned) {
    add('unclaimed-module', { file: module, line: 1, column: 1 }, `${module} is in no service, shared library or entrypoints of the plan: add it (or a glob covering it) where it belongs`, [module]);
  }
  const listed = [
    ...plan.services.flatMap((s) => s.modules.map((m) => ({ module: m, owner: s.name }))),
    ...plan.sharedLibraries.flatMap((l) => l.modules.map((m) => ({ module: m, owner: l.name }))),
    ...plan.entrypoints.map((m) => ({ module: m, owner: 'entrypoints' })),
  ];
  for (const { module, owner } of listed) {
    if (expandModules([module], allModules).length === 0) {
      add('missing-module', options.planLocation(module), `${owner} lists ${module}, which matches no module any more: remove it from the plan or run decompose plan --refresh`, [owner, module]);
    }
  }

  // Routes: each resource prefix belongs to the service that served it when the plan was made.
  const planned = new Map<string, string>();
  const prefixOwner = new Map<string, Map<string, number>>();
  for (const service of plan.services) {
    for (const route of service.routes) {
      planned.set(route, service.name);
      const key = resourceKey(route.slice(route.indexOf(' ') + 1));
      if (!key) continue;
      const votes = prefixOwner.get(key) ?? new Map<string, number>();
      votes.set(service.name, (votes.get(service.name) ?? 0) + 1);
      prefixOwner.set(key, votes);
    }
  }
  for (const route of analysis.routes) {
    const home = route.origin ?? route.file;
    const serving = serviceOf(home);
    if (!serving) continue;
    const label = `${route.method} ${route.path}`;
    const key = resourceKey(route.path);
    const votes = key ? prefixOwner.get(key) : undefined;
    const owner = planned.get(label) ?? (votes ? sortBy(votes, ([, n]) => -n, ([s]) => s)[0]![0] : null);
    if (owner && owner !== serving) {
      add('route-owner', { file: route.file, line: route.line, column: 1 }, `${label} is served by ${serving} (${home}) but ${owner} owns ${key ? `/${key}` : 'this route'} in the plan: move the route into ${owner}, or move the prefix in the plan`, [label, serving], { service: serving });
    }
  }

  // Data: a writer in another service than the owner, unless the plan already lists it as a conflict.
  const owners = new Map(plan.services.flatMap((s) => s.owns.map((e) => [e, s.name] as const)));
  const known = new Set(plan.conflicts.flatMap((c) => c.writers.map((w) => `${c.entity}\0${w.module}`)));
  for (const entity of analysis.entities) {
    const owner = owners.get(entity.name);
    if (!owner) continue;
    for (const access of entity.accesses) {
      if (access.mode !== 'write') continue;
      const writer = serviceOf(access.module);
      if (!writer || writer === owner || known.has(`${entity.name}\0${access.module}`)) continue;
      add('data-ownership', { file: access.module, line: access.line, column: 1 }, `${writer} writes ${entity.name} (${access.operation}), which ${owner} owns: write through ${owner}'s API or an event instead`, [entity.name, access.module, access.operation], { service: writer });
    }
  }

  const plannedHazards = new Set(plan.services.flatMap((s) => s.hazards.map((h) => `${h.kind}\0${h.file}`)));
  for (const hazard of analysis.hazards) {
    const service = serviceOf(hazard.file);
    if (!service || plannedHazards.has(`${hazard.kind}\0${hazard.file}`)) continue;
    add('new-hazard', { file: hazard.file, line: hazard.line, column: hazard.column }, `new ${hazard.kind} hazard in ${service}: ${hazard.message}`, [hazard.kind, hazard.file, hazard.symbol ?? ''], { service });
  }

  if (options.maxSeams !== undefined && now.plan.seams.length > options.maxSeams) {
    add('seam-budget', options.planLocation(''), `${now.plan.seams.length} seams, more than the budget of ${options.maxSeams}`, ['seams']);
  }
  if (options.maxIcp !== undefined && now.plan.metrics.icp > options.maxIcp) {
    add('icp-budget', options.planLocation(''), `inter-call percentage is ${now.plan.metrics.icp}, above the budget of ${options.maxIcp}`, ['icp']);
  }
  return sortBy(findings, (f) => f.location.file, (f) => f.location.line, (f) => f.rule, (f) => f.fingerprint);
}

/** Line numbers stay out: a finding keeps its identity when unrelated code above it moves. */
function fingerprint(rule: RuleId, identity: string[]): string {
  return createHash('sha256').update([rule, ...identity].join('\0')).digest('hex').slice(0, 16);
}
