import { createRequire } from 'node:module';
import type graphology from 'graphology';
import type louvainModule from 'graphology-communities-louvain';
import type seedrandom from 'seedrandom';
import type { ModuleGraph } from '../graph/module-graph.js';
import { compareStrings } from '../util/compare.js';

interface LouvainPackages {
  graphology: typeof graphology;
  louvain: typeof louvainModule.default;
  seedrandom: typeof seedrandom;
}

let packages: LouvainPackages | null = null;

/**
 * graphology, its Louvain package and seedrandom, loaded on the first detection rather than with this file:
 * `check` reaches this file through the plan metrics (for `modularity` below) but never detects communities, and
 * loading the three costs it ~15 ms. require() because detection is synchronous; all three are CommonJS packages.
 */
function louvainPackages(): LouvainPackages {
  if (!packages) {
    const require = createRequire(import.meta.url);
    packages = {
      graphology: require('graphology') as typeof graphology,
      louvain: require('graphology-communities-louvain') as typeof louvainModule.default,
      seedrandom: require('seedrandom') as typeof seedrandom,
    };
  }
  return packages;
}

export interface CommunityOptions {
  seed: number;
  resolution: number;
}

/**
 * Louvain community detection (graphology's implementation: graphlib has none) with a seeded RNG and
 * nodes and edges added in sorted order, so the same graph always gives the same communities.
 * Communities are returned as sorted member lists, ordered by their first member.
 */
export function detectCommunities(graph: ModuleGraph, options: CommunityOptions): string[][] {
  const { graphology, louvain, seedrandom } = louvainPackages();
  const g = new graphology.UndirectedGraph({ allowSelfLoops: false, multi: false });
  for (const node of graph.nodes) g.addNode(node);
  for (const edge of graph.edges) g.addEdge(edge.a, edge.b, { weight: edge.weight });
  if (g.order === 0) return [];
  const assignment =
    g.size === 0
      ? Object.fromEntries(graph.nodes.map((n, i) => [n, i]))
      : louvain(g, { getEdgeWeight: 'weight', resolution: options.resolution, rng: seedrandom(String(options.seed)), randomWalk: true });
  const groups = new Map<number, string[]>();
  for (const node of graph.nodes) {
    const community = assignment[node]!;
    const list = groups.get(community) ?? [];
    list.push(node);
    groups.set(community, list);
  }
  return [...groups.values()].map((members) => members.sort(compareStrings)).sort((x, y) => compareStrings(x[0]!, y[0]!));
}

/** Newman modularity of a partition of a weighted undirected graph (for co-change modularity). */
export function modularity(graph: ModuleGraph, partition: Record<string, string>): number {
  let total = 0;
  const degree = new Map<string, number>();
  for (const edge of graph.edges) {
    total += edge.weight;
    degree.set(edge.a, (degree.get(edge.a) ?? 0) + edge.weight);
    degree.set(edge.b, (degree.get(edge.b) ?? 0) + edge.weight);
  }
  if (total === 0) return 0;
  let inside = 0;
  for (const edge of graph.edges) if (partition[edge.a] !== undefined && partition[edge.a] === partition[edge.b]) inside += edge.weight;
  const perCommunity = new Map<string, number>();
  for (const [node, d] of degree) {
    const community = partition[node];
    if (community !== undefined) perCommunity.set(community, (perCommunity.get(community) ?? 0) + d);
  }
  let expected = 0;
  for (const d of perCommunity.values()) expected += (d / (2 * total)) ** 2;
  return inside / total - expected;
}
