import type { Analysis } from '../model/analysis.js';
import type { Weights } from '../model/plan.js';
import { compareStrings } from '../util/compare.js';
import { domainOf } from './domains.js';

export type Signal = 'import' | 'typeImport' | 'sharedEntity' | 'routePrefix' | 'coChange' | 'sameDomain';

/** An undirected, weighted edge between two modules (a < b), with the weight each signal contributed. */
export interface WeightedEdge {
  a: string;
  b: string;
  weight: number;
  signals: Partial<Record<Signal, number>>;
}

export interface ModuleGraph {
  nodes: string[];
  edges: WeightedEdge[];
}

/** Path segments that name an API namespace, not a resource: `/api/admin/users` is about users. */
const NAMESPACE_SEGMENTS = new Set(['api', 'apis', 'admin', 'internal', 'public', 'private', 'rest', 'graphql', 'v1', 'v2', 'v3', 'v4', 'me']);

/**
 * The resource a route is about: its first path segment that is neither a namespace (api, admin, v1 …)
 * nor a parameter. `/api/admin/reports/sales` → `reports`; `/health` → `health`.
 */
export function resourceKey(path: string): string | null {
  for (const segment of path.split('/')) {
    if (segment === '' || segment.startsWith(':') || segment.includes('*') || segment.includes('(')) continue;
    if (NAMESPACE_SEGMENTS.has(segment.toLowerCase())) continue;
    return segment.toLowerCase();
  }
  return null;
}

/**
 * The resource a route belongs to. A router mounted at `/posts/:postId/comments` serves comments: the last
 * static segment of the prefix its own router was mounted at decides; without mounts, the path does.
 */
export function routeResource(route: Analysis['routes'][number]): string | null {
  for (let i = route.mounts.length - 1; i >= 0; i--) {
    const segments = route.mounts[i]!.prefix.split('/').filter((s) => s !== '' && !s.startsWith(':') && !NAMESPACE_SEGMENTS.has(s.toLowerCase()));
    const last = segments.at(-1);
    if (last && !last.includes('*') && !last.includes('(')) return last.toLowerCase();
  }
  return resourceKey(route.path);
}

/**
 * The modules that make a route what it is: where it is registered (or, for a router built by a shared
 * factory, the module that configures it) and where its handler lives.
 */
export function routeModules(route: Analysis['routes'][number]): string[] {
  const home = route.origin ?? route.file;
  const handler = route.origin && route.handler.module === route.file ? null : route.handler.module;
  return handler && handler !== home ? [home, handler] : [home];
}

/**
 * One weighted module graph from every signal the analysis has: runtime and type-only imports, modules
 * touching the same entity, modules serving the same resource prefix, and git co-change. Only `nodes`
 * take part; edges are aggregated per unordered pair and sorted.
 */
export function buildModuleGraph(analysis: Analysis, nodes: string[], weights: Weights): ModuleGraph {
  const included = new Set(nodes);
  const edges = new Map<string, WeightedEdge>();
  const add = (x: string, y: string, signal: Signal, weight: number) => {
    if (x === y || weight <= 0 || !included.has(x) || !included.has(y)) return;
    const [a, b] = compareStrings(x, y) < 0 ? [x, y] : [y, x];
    const key = `${a}\0${b}`;
    let edge = edges.get(key);
    if (!edge) {
      edge = { a, b, weight: 0, signals: {} };
      edges.set(key, edge);
    }
    edge.weight += weight;
    edge.signals[signal] = (edge.signals[signal] ?? 0) + weight;
  };

  // An aggregator that reaches into many domains (a report reading every table) would glue them all
  // together: each of its imports into another domain counts for less, divided by the number of other
  // domains it reaches. Imports within its own domain keep their full weight.
  const domains = new Map<string, string>();
  const folderOf = (module: string): string => {
    let domain = domains.get(module);
    if (domain === undefined) domains.set(module, (domain = domainOf(module)));
    return domain;
  };
  const reach = new Map<string, Set<string>>();
  for (const edge of analysis.imports) {
    if (!included.has(edge.to) || !included.has(edge.from)) continue;
    for (const target of edge.through.length > 0 ? edge.through : [edge.to]) {
      reach.set(edge.from, (reach.get(edge.from) ?? new Set()).add(folderOf(target)));
    }
  }
  const seenImports = new Set<string>();
  const otherFoldersOf = new Map<string, number>();
  for (const edge of analysis.imports) {
    const key = `${edge.from}\0${edge.to}\0${edge.typeOnly}`;
    if (seenImports.has(key)) continue;
    seenImports.add(key);
    let otherFolders = otherFoldersOf.get(edge.from);
    if (otherFolders === undefined) {
      const own = folderOf(edge.from);
      otherFolders = [...(reach.get(edge.from) ?? [])].filter((f) => f !== own).length;
      otherFoldersOf.set(edge.from, otherFolders);
    }
    // Through a barrel, the dependency is on the modules that define what is imported.
    for (const target of edge.through.length > 0 ? edge.through : [edge.to]) {
      const spread = folderOf(target) === folderOf(edge.from) ? 1 : Math.max(1, otherFolders);
      if (edge.typeOnly) add(edge.from, target, 'typeImport', weights.typeImport / spread);
      else add(edge.from, target, 'import', weights.import / spread);
      // The team's own layout is evidence too: a dependency inside one domain folder binds harder.
      if (!edge.typeOnly && folderOf(target) === folderOf(edge.from)) add(edge.from, target, 'sameDomain', weights.sameDomain);
    }
  }

  // A module reading many entities (a report) is diluted across them, like an aggregator's imports.
  const readsOf = new Map<string, number>();
  for (const entity of analysis.entities) {
    for (const reader of entity.readers) if (!entity.writers.includes(reader)) readsOf.set(reader, (readsOf.get(reader) ?? 0) + 1);
  }
  for (const entity of analysis.entities) {
    // The module that defines an entity (a model file) belongs with the modules that write it.
    const definers = entity.definedIn.map((d) => d.module).filter((m) => included.has(m) && !entity.writers.includes(m));
    const writers = [...new Set([...entity.writers, ...definers])].filter((m) => included.has(m));
    const readers = entity.readers.filter((m) => included.has(m) && !entity.writers.includes(m));
    // A module that writes a table once is not its co-owner: writer pairs weigh by how evenly they share
    // the writes (a definer counts as writing as much as the busiest writer).
    const writeCount = (m: string) => entity.accesses.filter((a) => a.module === m && a.mode === 'write').length;
    const busiest = Math.max(1, ...entity.writers.map(writeCount));
    const share = (m: string) => (definers.includes(m) ? busiest : Math.max(1, writeCount(m)));
    for (let i = 0; i < writers.length; i++) {
      for (let j = i + 1; j < writers.length; j++) {
        const [x, y] = [share(writers[i]!), share(writers[j]!)];
        add(writers[i]!, writers[j]!, 'sharedEntity', (weights.sharedEntity * Math.min(x, y)) / Math.max(x, y));
      }
      // Reading is not owning: a report that reads every table should not be pulled into every domain.
      for (const reader of readers) add(writers[i]!, reader, 'sharedEntity', weights.sharedEntity / 4 / (readsOf.get(reader) ?? 1));
    }
  }

  const byResource = new Map<string, Set<string>>();
  for (const route of analysis.routes) {
    const key = routeResource(route);
    if (!key) continue;
    const set = byResource.get(key) ?? new Set<string>();
    for (const module of routeModules(route)) set.add(module);
    byResource.set(key, set);
  }
  for (const set of byResource.values()) {
    const members = [...set].filter((m) => included.has(m)).sort(compareStrings);
    for (let i = 0; i < members.length; i++) for (let j = i + 1; j < members.length; j++) add(members[i]!, members[j]!, 'routePrefix', weights.routePrefix);
  }

  if (analysis.coChange && analysis.coChange.pairs.length > 0) {
    const strongest = Math.max(...analysis.coChange.pairs.map((p) => p.commits));
    for (const pair of analysis.coChange.pairs) add(pair.a, pair.b, 'coChange', (weights.coChange * pair.commits) / strongest);
  }

  return {
    nodes: [...included].sort(compareStrings),
    edges: [...edges.values()].sort((x, y) => compareStrings(x.a, y.a) || compareStrings(x.b, y.b)),
  };
}
