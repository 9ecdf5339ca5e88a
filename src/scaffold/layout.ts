import path from 'node:path';
import type { Analysis, ImportEdge } from '../model/analysis.js';
import { DNS_LABEL, type Plan } from '../model/plan.js';
import { expandModules } from '../plan/build-plan.js';
import { compareStrings, sortBy } from '../util/compare.js';
import { UserError } from '../util/errors.js';
import { GATEWAY_NAME, REDIS_NAME, toDnsLabel } from './deploy-model.js';

/**
 * Where every monolith module goes in the generated workspace. Pure data computed from the plan and the analysis;
 * the code transformation (scaffold/service-code.ts) follows it.
 */

export type UnitKind = 'service' | 'library';

export interface UnitLayout {
  kind: UnitKind;
  name: string;
  /** `services/<name>` or `packages/<name>`, relative to the scaffold root. */
  dir: string;
  /** npm workspace package name, `@<project>/<name>`. */
  packageName: string;
  /** Monolith modules this unit owns; copied into it at their repo-relative paths. */
  modules: string[];
}

/**
 * - `service`/`library`: owned by one unit.
 * - `composition`: an entry module that wires the app (creates it, mounts routers, listens). Every service gets a
 *   copy with the other services' parts removed, so middleware order, mount paths and error handling stay the same.
 * - `unclaimed`: a module the plan does not place (a unit that imports it gets its own copy).
 */
export type Placement = { kind: 'service' | 'library'; name: string } | { kind: 'composition' } | { kind: 'unclaimed' };

export interface WorkspaceLayout {
  project: string;
  /** npm scope of the workspace packages, without `@`. */
  scope: string;
  language: 'ts' | 'js';
  /** Module format of the monolith's own code (package.json `type`). */
  moduleFormat: 'esm' | 'cjs';
  services: UnitLayout[];
  libraries: UnitLayout[];
  /** Repo path → placement, for every analysed module. */
  placement: Record<string, Placement>;
  /** Entry modules every service copies (sorted). */
  compositionEntries: string[];
  /**
   * Modules of a service that hold no state and reach no data (types, pure helpers): a unit that uses them gets a
   * copy instead of a network call, so synchronous helpers keep working.
   */
  statelessModules: string[];
  /** The runtime package every service depends on. */
  runtimePackage: string;
}

/** The one workspace package that holds every shared library of the plan (libraries import each other freely). */
export const SHARED_PACKAGE = 'shared';

const RESERVED_NAMES = new Set([GATEWAY_NAME, REDIS_NAME, 'runtime', 'node_modules', 'deploy', 'packages', 'services']);

/** Computes the layout; refuses names that cannot become folder and package names. */
export function buildLayout(plan: Plan, analysis: Analysis): WorkspaceLayout {
  const problems: string[] = [];
  // Service names become folder, package, image and host names; library names only label the shared package's parts.
  const seen = new Set<string>();
  for (const service of plan.services) {
    if (!DNS_LABEL.test(service.name)) problems.push(`service name ${JSON.stringify(service.name)} is not a DNS label (lowercase letters, digits and hyphens, starting with a letter)`);
    else if (RESERVED_NAMES.has(service.name) || service.name === SHARED_PACKAGE) problems.push(`service name ${JSON.stringify(service.name)} is reserved by the scaffold`);
    else if (seen.has(service.name)) problems.push(`service name ${JSON.stringify(service.name)} is used twice`);
    seen.add(service.name);
  }
  if (problems.length > 0) {
    throw new UserError('DEC-090', `cannot scaffold: ${problems[0]}`, {
      hint: 'Rename the service in the plan: its name becomes a folder, package, image and host name.',
      details: problems.slice(1),
    });
  }

  const all = analysis.modules.map((m) => m.path);
  const scope = toDnsLabel(plan.project) || 'app';
  const placement: Record<string, Placement> = {};
  for (const module of all) placement[module] = { kind: 'unclaimed' };
  const units: UnitLayout[] = [];
  for (const service of sortBy(plan.services, (s) => s.name)) {
    const modules = expandModules(service.modules, all);
    for (const m of modules) placement[m] = { kind: 'service', name: service.name };
    units.push({ kind: 'service', name: service.name, dir: `services/${service.name}`, packageName: `@${scope}/${service.name}`, modules });
  }
  // All shared libraries go into one package: libraries often import each other (errors ↔ middleware), and
  // separately built packages cannot form a cycle.
  const shared = new Set<string>();
  for (const library of sortBy(plan.sharedLibraries, (l) => l.name)) {
    for (const m of expandModules(library.modules, all)) {
      placement[m] = { kind: 'library', name: SHARED_PACKAGE };
      shared.add(m);
    }
  }
  if (shared.size > 0) {
    units.push({ kind: 'library', name: SHARED_PACKAGE, dir: `packages/${SHARED_PACKAGE}`, packageName: `@${scope}/${SHARED_PACKAGE}`, modules: [...shared].sort(compareStrings) });
  }

  const edgesFrom = groupEdges(analysis.imports);
  const entries = expandModules(plan.entrypoints, all);
  const entrySet = new Set(entries);
  for (const entry of entries) placement[entry] = { kind: 'composition' };
  const stateless = new Set(statelessModules(analysis, placement, edgesFrom));
  const compositionEntries: string[] = [];
  for (const entry of entries) {
    // An entry that only reaches one service's stateful modules (a seeding helper, a worker) belongs to that
    // service; one that wires several services, or other entries, is composition.
    const services = new Set<string>();
    let wiresEntries = false;
    for (const edge of edgesFrom.get(entry) ?? []) {
      if (edge.typeOnly) continue;
      const target = placement[edge.to];
      if (entrySet.has(edge.to)) wiresEntries = true;
      else if (target?.kind === 'service' && !stateless.has(edge.to)) services.add(target.name);
    }
    if (services.size === 1 && !wiresEntries) placement[entry] = { kind: 'service', name: [...services][0]! };
    else compositionEntries.push(entry);
  }
  for (const unit of units) {
    if (unit.kind !== 'service') continue;
    unit.modules = all.filter((m) => {
      const p = placement[m];
      return p?.kind === 'service' && p.name === unit.name;
    });
  }

  const format = analysis.modules.some((m) => m.format === 'esm') && analysis.modules.filter((m) => m.format === 'esm').length >= analysis.modules.length / 2 ? 'esm' : 'cjs';
  const language = analysis.modules.some((m) => m.language === 'ts') ? 'ts' : 'js';
  return {
    project: plan.project,
    scope,
    language,
    moduleFormat: format,
    services: units.filter((u) => u.kind === 'service'),
    libraries: units.filter((u) => u.kind === 'library'),
    placement,
    compositionEntries: compositionEntries.sort(compareStrings),
    statelessModules: [...stateless].sort(compareStrings),
    runtimePackage: `@${scope}/runtime`,
  };
}

export function groupEdges(edges: ImportEdge[]): Map<string, ImportEdge[]> {
  const out = new Map<string, ImportEdge[]>();
  for (const edge of edges) {
    let list = out.get(edge.from);
    if (!list) out.set(edge.from, (list = []));
    list.push(edge);
  }
  return out;
}

/**
 * Service modules that are safe to copy: no data access, no entity or router they define, no scale-out hazard
 * (module state, caches, timers), and every module they load at run time is a library, an npm package or
 * stateless itself.
 */
function statelessModules(analysis: Analysis, placement: Record<string, Placement>, edgesFrom: Map<string, ImportEdge[]>): string[] {
  const touchesData = new Set<string>();
  for (const entity of analysis.entities) {
    for (const access of entity.accesses) touchesData.add(access.module);
    for (const definition of entity.definedIn) touchesData.add(definition.module);
  }
  for (const hazard of analysis.hazards) touchesData.add(hazard.file);
  for (const module of analysis.modules) {
    if (module.exports.some((e) => e.kind === 'router' || e.kind === 'entity')) touchesData.add(module.path);
  }
  for (const route of analysis.routes) touchesData.add(route.file);
  const memo = new Map<string, boolean>();
  const isStateless = (module: string, visiting: Set<string>): boolean => {
    const known = memo.get(module);
    if (known !== undefined) return known;
    if (touchesData.has(module) || visiting.has(module)) return false;
    visiting.add(module);
    let result = true;
    for (const edge of edgesFrom.get(module) ?? []) {
      if (edge.typeOnly) continue;
      const target = placement[edge.to];
      if (target?.kind === 'library') continue;
      if (target?.kind === 'composition' || !isStateless(edge.to, visiting)) {
        result = false;
        break;
      }
    }
    visiting.delete(module);
    memo.set(module, result);
    return result;
  };
  return Object.keys(placement)
    .filter((m) => placement[m]!.kind === 'service' && isStateless(m, new Set()))
    .sort(compareStrings);
}

/** Path of a module inside its unit's compiled output, as other packages import it (`src/x.ts` → `src/x.js`). */
export function importablePath(module: string): string {
  return module.replace(/\.(c|m)?tsx?$/, (_all, kind: string | undefined) => `.${kind ?? ''}js`).replace(/\.d\.js$/, '.js');
}

/** Repo-relative module path → the folder-relative specifier from one file to another in the same unit. */
export function relativeSpecifier(fromFile: string, toFile: string): string {
  let rel = path.posix.relative(path.posix.dirname(fromFile), toFile);
  if (!rel.startsWith('.')) rel = `./${rel}`;
  return rel;
}
