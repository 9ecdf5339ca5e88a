import type { Analysis } from '../model/analysis.js';
import type { Baseline, PlanSettings } from '../model/plan.js';
import { buildModuleGraph, routeModules, routeResource } from '../graph/module-graph.js';
import { detectCommunities } from '../cluster/louvain.js';
import { compareStrings, sortBy } from '../util/compare.js';
import { type Partition, planMetrics, routeUseCases } from './plan-metrics.js';

/**
 * The simple splits a reviewer compares the proposal with: one service per top-level folder, one per route
 * resource, and Louvain on the import graph alone. Entry points are left out of every one, as in the plan.
 */
export function computeBaselines(analysis: Analysis, entrypoints: string[], settings: PlanSettings): Baseline[] {
  const excluded = new Set(entrypoints);
  const modules = analysis.modules.map((m) => m.path).filter((m) => !excluded.has(m));
  const score = (name: string, description: string, partition: Partition): Baseline => ({
    name,
    description,
    metrics: planMetrics(analysis, partition, countConflicts(analysis, partition), settings),
  });
  return [
    score('folders', 'one service per top-level source folder', byTopFolder(modules)),
    score('route-prefixes', 'one service per route resource; other modules join the resource whose routes reach them most', byRouteResource(analysis, modules)),
    score('louvain-imports', 'Louvain on runtime imports alone, no domain rules', byImportLouvain(analysis, modules, settings)),
  ];
}

function byTopFolder(modules: string[]): Partition {
  const partition: Partition = {};
  for (const module of modules) {
    const parts = module.split('/');
    const start = ['src', 'lib', 'app', 'server'].includes(parts[0]!) && parts.length > 2 ? 1 : 0;
    partition[module] = parts.length > start + 1 ? parts[start]! : '(root)';
  }
  return partition;
}

function byRouteResource(analysis: Analysis, modules: string[]): Partition {
  const units = new Set(modules);
  const partition: Partition = {};
  for (const route of analysis.routes) {
    const resource = routeResource(route) ?? '(root)';
    for (const module of routeModules(route)) if (units.has(module) && partition[module] === undefined) partition[module] = resource;
  }
  const useCases = routeUseCases(analysis, units);
  const resourceOf = new Map(analysis.routes.map((r) => [`${r.method} ${r.path}`, routeResource(r) ?? '(root)']));
  const folders = byTopFolder(modules);
  for (const module of modules) {
    if (partition[module] !== undefined) continue;
    const votes = new Map<string, number>();
    for (const id of useCases[module] ?? []) {
      const resource = resourceOf.get(id)!;
      votes.set(resource, (votes.get(resource) ?? 0) + 1);
    }
    partition[module] = sortBy(votes, ([, n]) => -n, ([r]) => r)[0]?.[0] ?? folders[module]!;
  }
  return partition;
}

function byImportLouvain(analysis: Analysis, modules: string[], settings: PlanSettings): Partition {
  const graph = buildModuleGraph(analysis, modules, { import: 1, typeImport: 0, sharedEntity: 0, routePrefix: 0, coChange: 0, sameDomain: 0 });
  const partition: Partition = {};
  detectCommunities(graph, { seed: settings.seed, resolution: 1 }).forEach((members, i) => {
    for (const m of members) partition[m] = `c${String(i + 1).padStart(2, '0')}`;
  });
  return Object.fromEntries(Object.entries(partition).sort(([a], [b]) => compareStrings(a, b)));
}

/** Entities written from more than one group of the partition. */
function countConflicts(analysis: Analysis, partition: Partition): number {
  return analysis.entities.filter((e) => new Set(e.writers.map((w) => partition[w]).filter((s) => s !== undefined)).size > 1).length;
}
