import type { Analysis } from '../model/analysis.js';
import { isProcessState } from '../model/analysis-constants.js';
import type { PlanSettings } from '../model/plan.js';
import { DNS_LABEL } from '../model/plan.js';
import { type ModuleGraph, buildModuleGraph, resourceKey, routeModules as modulesOfRoute } from '../graph/module-graph.js';
import { compareStrings, sortBy } from '../util/compare.js';
import { LAYER_FOLDERS } from '../graph/domains.js';
import { detectCommunities } from './louvain.js';

export interface Granularity {
  services?: number;
  minServices?: number;
  maxServices?: number;
}

export interface Proposal {
  services: Array<{ name: string; modules: string[] }>;
  sharedLibraries: Array<{ name: string; modules: string[] }>;
  entrypoints: string[];
  rationale: Record<string, string>;
}


/** Signals on module pairs that keep a module with the service that uses it. */
interface Facts {
  routeModules: Set<string>;
  writers: Set<string>;
  definers: Set<string>;
  importers: Map<string, Set<string>>;
  imports: Map<string, Set<string>>;
  typeOnlyModules: Set<string>;
  routesByModule: Map<string, string[]>;
  /**
   * Modules that keep state in the process (module state, an in-process cache) and that only request-handling code
   * uses, not the modules that register routes or mount routers: a library would give each service its own copy.
   */
  servicedState: Set<string>;
}

/**
 * Proposes services and shared libraries: seeded Louvain over the weighted module graph, then the domain
 * rules: bootstrap modules belong to no service; modules used by most services that serve no route and write
 * no data become shared libraries; a cluster that serves no route joins the service that calls it most;
 * the requested granularity is met by merging the most coupled services or raising the resolution.
 */
export function proposeSplit(analysis: Analysis, settings: PlanSettings, granularity: Granularity = {}): Proposal {
  const facts = collectFacts(analysis);
  const entrypoints = findEntrypoints(analysis);
  const all = analysis.modules.map((m) => m.path).filter((m) => !entrypoints.has(m));
  const fullGraph = buildModuleGraph(analysis, all, settings.weights);

  // Hubs used across most folders would pull every domain together: take them out before clustering,
  // then check again against the services that emerge.
  const byFolder = folderClusters(all);
  let shared = findShared(byFolder, facts, settings.sharedThreshold, new Set(), entrypoints);
  // Hubs that many use but that depend on a service (auth middleware reading users) cannot be libraries;
  // they stay out of clustering, so they do not glue their users together, and join what they depend on.
  // Start-up helpers that only the entry points use and that reach into services (seeding, index
  // rebuilding) are bootstrap code too.
  // Start-up helpers used only by the entry points are decided after clustering: one that reaches into
  // several services is bootstrap code; one that works for a single service (a cleanup job) joins it.
  const startupHelpers = all.filter((module) => {
    const importers = [...(facts.importers.get(module) ?? [])];
    const onlyEntries = importers.length > 0 && importers.every((i) => entrypoints.has(i));
    return onlyEntries && !shared.has(module) && !facts.routeModules.has(module) && !facts.writers.has(module) && !facts.definers.has(module);
  });
  const hubs = [...findShared(byFolder, facts, settings.sharedThreshold, new Set(), entrypoints, false)].filter(
    (m) => !shared.has(m) && !startupHelpers.includes(m),
  );
  const rest = all.filter((m) => !shared.has(m) && !hubs.includes(m) && !startupHelpers.includes(m));
  const graph = buildModuleGraph(analysis, rest, settings.weights);
  let clusters = clusterAtGranularity(graph, settings, granularity, facts);
  shared = findShared(clusters, facts, settings.sharedThreshold, shared, entrypoints);
  clusters = clusters.map((c) => c.filter((m) => !shared.has(m))).filter((c) => c.length > 0);
  clusters = homeForState(shared, clusters, facts);
  clusters = placeHubs(hubs, clusters, facts);
  clusters = placeStartupHelpers(startupHelpers, clusters, facts, entrypoints, shared);
  clusters = mergeRoutelessClusters(clusters, graph, facts);
  clusters = meetGranularity(clusters, graph, granularity);

  const services = nameServices(clusters, facts, analysis);
  const sharedLibraries = groupShared([...shared], services.map((s) => s.name));
  const rationale = explain(analysis, services, sharedLibraries, [...entrypoints], fullGraph, facts);
  return {
    services: sortBy(services, (s) => s.name),
    sharedLibraries: sortBy(sharedLibraries, (s) => s.name),
    entrypoints: [...entrypoints].sort(compareStrings),
    rationale,
  };
}

/** Modules grouped by their domain folder (the first folder that is not a layer name). */
function folderClusters(modules: string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const module of modules) {
    const folders = module.split('/').slice(0, -1);
    const key = folders.find((f) => !LAYER_FOLDERS.has(f.toLowerCase())) ?? folders.join('/');
    groups.set(key, [...(groups.get(key) ?? []), module]);
  }
  return [...groups.values()];
}

function collectFacts(analysis: Analysis): Facts {
  const routeModules = new Set<string>();
  const routesByModule = new Map<string, string[]>();
  for (const route of analysis.routes) {
    for (const module of modulesOfRoute(route)) {
      routeModules.add(module);
      routesByModule.set(module, [...(routesByModule.get(module) ?? []), `${route.method} ${route.path}`]);
    }
  }
  const writers = new Set(analysis.entities.flatMap((e) => e.writers));
  const definers = new Set(analysis.entities.flatMap((e) => e.definedIn.map((d) => d.module)));
  const importers = new Map<string, Set<string>>();
  const imports = new Map<string, Set<string>>();
  for (const edge of analysis.imports) {
    if (edge.typeOnly) continue;
    importers.set(edge.to, (importers.get(edge.to) ?? new Set()).add(edge.from));
    imports.set(edge.from, (imports.get(edge.from) ?? new Set()).add(edge.to));
  }
  const typeOnlyModules = new Set(
    analysis.modules.filter((m) => m.exports.length > 0 && m.exports.every((e) => e.kind === 'type')).map((m) => m.path),
  );
  // Modules that register routes or mount routers use middleware factories at load time (a rate limiter): those
  // stay libraries, state and all. A stateful module used only from handlers and services is a capability of
  // its own (an outbox, an index): it needs one home, and the others call it.
  const wiring = new Set(analysis.routes.flatMap((r) => [r.file, ...r.mounts.map((m) => m.file)]));
  const stateful = new Set(analysis.hazards.filter((h) => isProcessState(h.kind)).map((h) => h.file));
  const servicedState = new Set(
    [...stateful].filter((m) => {
      const users = [...(importers.get(m) ?? [])];
      return users.length > 0 && users.every((u) => !wiring.has(u));
    }),
  );
  return { routeModules, writers, definers, importers, imports, typeOnlyModules, routesByModule, servicedState };
}

/**
 * Bootstrap modules: those that create or start the app, and composition roots that only mount routers
 * from several different folders (`routes.ts` wiring every domain together).
 */
export function findEntrypoints(analysis: Analysis): Set<string> {
  const entries = new Set(analysis.project.entries);
  const children = new Map<string, Set<string>>();
  for (const route of analysis.routes) {
    const chain = [...route.mounts.map((m) => m.file), route.file];
    for (let i = 0; i < chain.length - 1; i++) {
      if (chain[i] === chain[i + 1]) continue;
      children.set(chain[i]!, (children.get(chain[i]!) ?? new Set()).add(chain[i + 1]!));
    }
  }
  for (const [module, mounted] of children) {
    const folders = new Set([...mounted].map((m) => m.split('/').slice(0, -1).join('/')));
    // Routers from several domain folders, or several routers from a layer folder (routes/posts.js,
    // routes/tags.js …): either way this module wires domains together and is not one of them.
    const layerFolder = folders.size === 1 && [...folders][0]!.split('/').every((f) => f === '' || LAYER_FOLDERS.has(f.toLowerCase()));
    if (folders.size >= 2 || (layerFolder && mounted.size >= 2)) entries.add(module);
  }
  return entries;
}

/**
 * Modules used by at least `threshold` of the clusters (and by two or more), serving no route and writing no
 * entity, that depend only on other shared modules; plus what only shared modules use; plus type-only
 * modules used by two or more clusters.
 */
function findShared(
  clusters: string[][],
  facts: Facts,
  threshold: number,
  start: Set<string>,
  entrypoints: Set<string>,
  independentOnly = true,
): Set<string> {
  const clusterOf = new Map<string, number>();
  clusters.forEach((c, i) => c.forEach((m) => clusterOf.set(m, i)));
  const candidates = [...new Set([...clusterOf.keys(), ...start])].sort(compareStrings);
  // "Most" services, and never fewer than three: a module two services use is a seam, not a library.
  const needed = Math.max(3, Math.ceil(threshold * clusters.length));
  // A module that defines an entity goes with the service that owns the data, never into a library.
  const eligible = (m: string) => !facts.routeModules.has(m) && !facts.writers.has(m) && !facts.definers.has(m);
  const importerModules = (m: string) => [...(facts.importers.get(m) ?? [])].filter((i) => !entrypoints.has(i)).length;
  const usersOf = (m: string) => new Set([...(facts.importers.get(m) ?? [])].map((i) => clusterOf.get(i)).filter((c) => c !== undefined));
  // Code in layer-only folders (src/middleware, src/shared …) is generic: two users make it shared.
  const generic = (m: string) => m.split('/').slice(0, -1).every((f) => LAYER_FOLDERS.has(f.toLowerCase()));
  const base = new Set(
    candidates.filter(
      (m) =>
        eligible(m) &&
        (start.has(m) ||
          usersOf(m).size >= needed ||
          (facts.typeOnlyModules.has(m) && usersOf(m).size >= 2) ||
          (generic(m) && importerModules(m) >= 2)),
    ),
  );
  // Fixpoint from the base each round: shared code may not depend on a service, and code used only by
  // shared code is shared too.
  const excluded = new Set<string>();
  for (;;) {
    const shared = new Set([...base].filter((m) => !excluded.has(m)));
    let grew = true;
    while (grew) {
      grew = false;
      for (const m of candidates) {
        if (shared.has(m) || excluded.has(m) || !eligible(m)) continue;
        // Used only by shared code or by the bootstrap (app-wide middleware): every service needs it.
        const importers = [...(facts.importers.get(m) ?? [])].filter((i) => clusterOf.has(i) || shared.has(i) || entrypoints.has(i));
        if (importers.length > 0 && importers.every((i) => shared.has(i) || entrypoints.has(i))) {
          shared.add(m);
          grew = true;
        }
      }
    }
    const violating = [...shared].filter((m) => [...(facts.imports.get(m) ?? [])].some((d) => (clusterOf.has(d) || start.has(d)) && !shared.has(d)));
    if (violating.length === 0 || !independentOnly) return shared;
    for (const m of violating) excluded.add(m);
  }
}

function clusterAtGranularity(graph: ModuleGraph, settings: PlanSettings, granularity: Granularity, facts: Facts): string[][] {
  const target = granularity.services ?? granularity.minServices;
  let clusters = detectCommunities(graph, settings);
  if (target === undefined) return clusters;
  // Too few services: raise the resolution step by step (deterministically) until there are enough.
  let resolution = settings.resolution;
  for (let step = 0; step < 12 && countServing(clusters, facts) < target; step++) {
    resolution *= 1.5;
    clusters = detectCommunities(graph, { seed: settings.seed, resolution });
  }
  return clusters;
}

function countServing(clusters: string[][], facts: Facts): number {
  return clusters.filter((c) => c.some((m) => facts.routeModules.has(m))).length;
}

/**
 * A would-be library that keeps state used from request handling (an outbox, an index) cannot be copied into every
 * service: each copy would keep its own state. It joins the cluster whose modules use it most, and the others
 * call it there. Taken out of the libraries after clustering, so the clusters themselves do not change; one that
 * other shared code imports stays a library (shared code must not depend on a service).
 */
function homeForState(shared: Set<string>, clusters: string[][], facts: Facts): string[][] {
  const out = clusters.map((c) => [...c]);
  for (const module of [...shared].filter((m) => facts.servicedState.has(m)).sort(compareStrings)) {
    const importers = [...(facts.importers.get(module) ?? [])];
    if (importers.some((i) => shared.has(i))) continue;
    const counts = out.map((c) => importers.filter((i) => c.includes(i)).length);
    const best = counts.indexOf(Math.max(...counts));
    if (best < 0 || counts[best] === 0) continue;
    out[best] = [...out[best]!, module].sort(compareStrings);
    shared.delete(module);
  }
  return out;
}

/** Each hub joins the cluster holding most of the modules it imports (ties: the first cluster in order). */
function placeHubs(hubs: string[], clusters: string[][], facts: Facts): string[][] {
  const out = clusters.map((c) => [...c]);
  for (const hub of [...hubs].sort(compareStrings)) {
    const counts = out.map((c) => [...(facts.imports.get(hub) ?? [])].filter((d) => c.includes(d)).length);
    const best = counts.indexOf(Math.max(...counts));
    if (best >= 0 && out.length > 0) out[best] = [...out[best]!, hub].sort(compareStrings);
  }
  return out;
}

function placeStartupHelpers(helpers: string[], clusters: string[][], facts: Facts, entrypoints: Set<string>, shared: Set<string>): string[][] {
  const out = clusters.map((c) => [...c]);
  for (const helper of [...helpers].sort(compareStrings)) {
    const deps = [...(facts.imports.get(helper) ?? [])].filter((d) => !shared.has(d));
    const touched = out.map((c, i) => (deps.some((d) => c.includes(d)) ? i : -1)).filter((i) => i >= 0);
    if (touched.length === 1) out[touched[0]!] = [...out[touched[0]!]!, helper].sort(compareStrings);
    else if (touched.length === 0 && deps.length === 0) shared.add(helper);
    else entrypoints.add(helper);
  }
  return out;
}

/** A cluster that serves no route is not a service: it joins the cluster it is most coupled to. */
function mergeRoutelessClusters(clusters: string[][], graph: ModuleGraph, facts: Facts): string[][] {
  let current = clusters.map((c) => [...c]);
  // Remembered: every lonely cluster compares the folders of all modules.
  const folders = new Map<string, string>();
  const folderOf = (module: string) => {
    let folder = folders.get(module);
    if (folder === undefined) folders.set(module, (folder = module.slice(0, Math.max(0, module.lastIndexOf('/')))));
    return folder;
  };
  // Each module's edges by their position in the graph: a lonely cluster's coupling is summed over its own edges
  // only, in the graph's order (the same sums, to the last bit, as going through every edge).
  const edgesOf = new Map<string, number[]>();
  graph.edges.forEach((edge, index) => {
    for (const end of [edge.a, edge.b]) {
      let list = edgesOf.get(end);
      if (!list) edgesOf.set(end, (list = []));
      list.push(index);
    }
  });
  for (;;) {
    const index = current.findIndex((c) => !c.some((m) => facts.routeModules.has(m)));
    if (index === -1 || current.length <= 1) return current;
    const lonely = current[index]!;
    const weights = couplingTo(lonely, current, graph, edgesOf);
    weights[index] = -1;
    let best = weights.indexOf(Math.max(...weights));
    if (weights[best]! <= 0) best = closestByFolder(lonely, current, index, folderOf);
    current[best] = [...current[best]!, ...lonely].sort(compareStrings);
    current.splice(index, 1);
  }
}

function couplingTo(members: string[], clusters: string[][], graph: ModuleGraph, edgesOf?: Map<string, number[]>): number[] {
  const set = new Set(members);
  const clusterOf = new Map<string, number>();
  clusters.forEach((c, i) => c.forEach((m) => clusterOf.set(m, i)));
  const weights = clusters.map(() => 0);
  const indexes = edgesOf ? [...new Set(members.flatMap((m) => edgesOf.get(m) ?? []))].sort((x, y) => x - y) : graph.edges.map((_, i) => i);
  for (const i of indexes) {
    const edge = graph.edges[i]!;
    const inA = set.has(edge.a);
    const inB = set.has(edge.b);
    if (inA === inB) continue;
    const other = clusterOf.get(inA ? edge.b : edge.a);
    if (other !== undefined) weights[other]! += edge.weight;
  }
  return weights;
}

function closestByFolder(members: string[], clusters: string[][], self: number, folder: (module: string) => string): number {
  const mine = new Set(members.map(folder));
  let best = self === 0 ? 1 : 0;
  let bestScore = -1;
  clusters.forEach((c, i) => {
    if (i === self) return;
    const score = c.filter((m) => mine.has(folder(m))).length;
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  });
  return best;
}

/** Too many services: merge the most coupled pair until within bounds. */
function meetGranularity(clusters: string[][], graph: ModuleGraph, granularity: Granularity): string[][] {
  const limit = granularity.services ?? granularity.maxServices;
  let current = clusters.map((c) => [...c]);
  while (limit !== undefined && current.length > limit && current.length > 1) {
    let best: [number, number, number] = [0, 1, -1];
    for (let i = 0; i < current.length; i++) {
      const weights = couplingTo(current[i]!, current, graph);
      for (let j = i + 1; j < current.length; j++) {
        // Normalise by size so two big services are not merged just for being big.
        const score = weights[j]! / Math.sqrt(current[i]!.length * current[j]!.length);
        if (score > best[2]) best = [i, j, score];
      }
    }
    const [i, j] = best;
    current[i] = [...current[i]!, ...current[j]!].sort(compareStrings);
    current.splice(j, 1);
  }
  return current;
}

/** A DNS-label name from what the modules have in common: a domain folder, else the resource they serve. */
function nameServices(clusters: string[][], facts: Facts, analysis: Analysis): Array<{ name: string; modules: string[] }> {
  const used = new Set<string>();
  const named = clusters.map((modules) => ({ modules, candidates: nameCandidates(modules, facts, analysis) }));
  // Clusters with the clearest claim to a name choose first.
  const order = sortBy(named.map((n, i) => ({ i, strength: n.candidates[0]?.[1] ?? 0 })), (x) => -x.strength, (x) => named[x.i]!.modules[0]!);
  const names = new Array<string>(named.length);
  for (const { i } of order) {
    const candidates = named[i]!.candidates.map(([c]) => toDnsLabel(c)).filter((c) => c.length > 0);
    let name = candidates.find((c) => !used.has(c)) ?? candidates[0] ?? 'service';
    if (used.has(name)) {
      let n = 2;
      while (used.has(`${name}-${n}`)) n++;
      name = `${name}-${n}`;
    }
    used.add(name);
    names[i] = name;
  }
  return named.map((n, i) => ({ name: names[i]!, modules: n.modules }));
}

function nameCandidates(modules: string[], facts: Facts, analysis: Analysis): Array<[string, number]> {
  const folderCounts = new Map<string, number>();
  for (const module of modules) {
    const folders = module.split('/').slice(0, -1).filter((f) => !LAYER_FOLDERS.has(f.toLowerCase()));
    const domain = folders[0];
    if (domain) folderCounts.set(domain, (folderCounts.get(domain) ?? 0) + 1);
  }
  const resourceCounts = new Map<string, number>();
  for (const module of modules) {
    for (const route of facts.routesByModule.get(module) ?? []) {
      const key = resourceKey(route.split(' ')[1] ?? '');
      if (key) resourceCounts.set(key, (resourceCounts.get(key) ?? 0) + 1);
    }
  }
  const candidates: Array<[string, number]> = [];
  const topFolder = sortBy(folderCounts, ([, c]) => -c, ([f]) => f)[0];
  // A folder that holds most of the cluster is its domain's name.
  if (topFolder && topFolder[1] * 2 > modules.length) candidates.push([topFolder[0], topFolder[1] / modules.length + 1]);
  for (const [key, count] of sortBy(resourceCounts, ([, c]) => -c, ([k]) => k)) candidates.push([key, count / Math.max(1, analysis.routes.length)]);
  for (const [folder, count] of sortBy(folderCounts, ([, c]) => -c, ([f]) => f)) candidates.push([folder, count / modules.length / 2]);
  const stem = modules[0]!.split('/').at(-1)!.replace(/\.[^.]+$/, '').split('.')[0]!;
  candidates.push([stem, 0]);
  return candidates;
}

/** Device names Windows refuses as folder names (the plan file's validator rejects them as service names too). */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/;

/**
 * A DNS label from a folder or resource name, or '' when none can be made. A label Windows cannot use as a folder
 * name (`src/aux/` gives "aux") gets `suffix`, so the proposal never writes a name that `plan --refresh` rejects.
 */
export function toDnsLabel(text: string, suffix = 'service'): string {
  let label = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .replace(/-{2,}/g, '-')
    .slice(0, 63)
    .replace(/-+$/, '');
  if (label && !/^[a-z]/.test(label)) label = `svc-${label}`.slice(0, 63);
  if (WINDOWS_RESERVED.test(label)) label = `${label}-${suffix}`;
  return DNS_LABEL.test(label) ? label : '';
}

/** Shared modules grouped into one library per top folder (`shared`, `db`, `middleware` …). */
function groupShared(modules: string[], serviceNames: string[]): Array<{ name: string; modules: string[] }> {
  const groups = new Map<string, string[]>();
  for (const module of modules.sort(compareStrings)) {
    const parts = module.split('/');
    const underRoot = ['src', 'lib', 'app', 'server'].includes(parts[0]!);
    const folder = underRoot && parts.length > 2 ? parts[1]! : !underRoot && parts.length > 1 ? parts[0]! : 'shared';
    const base = toDnsLabel(folder, 'lib') || 'shared';
    const name = serviceNames.includes(base) ? `${base}-lib` : base;
    groups.set(name, [...(groups.get(name) ?? []), module]);
  }
  return [...groups].map(([name, list]) => ({ name, modules: list }));
}

function explain(
  analysis: Analysis,
  services: Array<{ name: string; modules: string[] }>,
  shared: Array<{ name: string; modules: string[] }>,
  entrypoints: string[],
  graph: ModuleGraph,
  facts: Facts,
): Record<string, string> {
  const rationale: Record<string, string> = {};
  const owner = new Map<string, string>();
  for (const s of services) for (const m of s.modules) owner.set(m, s.name);
  const neighbours = new Map<string, Array<{ other: string; signals: Record<string, number> }>>();
  for (const edge of graph.edges) {
    neighbours.set(edge.a, [...(neighbours.get(edge.a) ?? []), { other: edge.b, signals: edge.signals }]);
    neighbours.set(edge.b, [...(neighbours.get(edge.b) ?? []), { other: edge.a, signals: edge.signals }]);
  }
  for (const service of services) {
    for (const module of service.modules) {
      const reasons: string[] = [];
      const links = (neighbours.get(module) ?? []).filter((n) => owner.get(n.other) === service.name);
      const imports = links.filter((l) => l.signals.import).length;
      if (imports > 0) reasons.push(`import links with ${imports} ${service.name} module${imports === 1 ? '' : 's'}`);
      const routes = facts.routesByModule.get(module) ?? [];
      const keys = [...new Set(routes.map((r) => resourceKey(r.split(' ')[1] ?? '')).filter((k): k is string => k !== null))].sort(compareStrings);
      if (keys.length > 0) reasons.push(`serves /${keys.slice(0, 3).join(', /')}`);
      const writes = analysis.entities.filter((e) => e.writers.includes(module)).map((e) => e.name);
      if (writes.length > 0) reasons.push(`writes ${writes.join(', ')}`);
      const shares = links.filter((l) => l.signals.sharedEntity).length;
      if (shares > 0 && writes.length === 0) reasons.push(`reads data ${service.name} writes`);
      if (links.some((l) => l.signals.coChange)) reasons.push('changes together with it in git');
      rationale[module] = `${service.name}: ${reasons.length > 0 ? reasons.join('; ') : 'closest by folder (no direct links)'}`;
    }
  }
  const serviceCount = services.length;
  const ownerOf = (m: string) => owner.get(m);
  for (const library of shared) {
    for (const module of library.modules) {
      const users = new Set([...(facts.importers.get(module) ?? [])].map(ownerOf).filter((s): s is string => s !== undefined));
      rationale[module] = users.size > 0
        ? `shared library ${library.name}: used by ${users.size} of ${serviceCount} services, serves no route, writes no data`
        : `shared library ${library.name}: used only by other shared code`;
    }
  }
  for (const module of entrypoints) {
    rationale[module] = analysis.project.entries.includes(module)
      ? 'entry point: creates or starts the app; the gateway takes its place'
      : 'entry point: composes routers from several areas; the gateway takes its place';
  }
  return Object.fromEntries(Object.entries(rationale).sort(([a], [b]) => compareStrings(a, b)));
}
