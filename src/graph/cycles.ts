import { Graph, alg } from '@dagrejs/graphlib';
import { compareStrings } from '../util/compare.js';

/**
 * Groups of modules that import each other in a cycle (strongly connected components with more than one
 * member, or a module importing itself). Plain arrays in, plain arrays out; graphlib stays inside.
 */
export function findCycles(nodes: string[], edges: Array<{ from: string; to: string }>): string[][] {
  const graph = new Graph({ directed: true });
  for (const node of [...nodes].sort(compareStrings)) graph.setNode(node);
  const selfLoops = new Set<string>();
  for (const edge of edges) {
    if (edge.from === edge.to) selfLoops.add(edge.from);
    else graph.setEdge(edge.from, edge.to);
  }
  const groups = alg.tarjan(graph).filter((group) => group.length > 1);
  for (const node of selfLoops) groups.push([node]);
  return groups.map((group) => [...group].sort(compareStrings)).sort((a, b) => compareStrings(a[0]!, b[0]!));
}
