import { Graph } from '@dagrejs/graphlib';
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
  const groups = stronglyConnected(graph).filter((group) => group.length > 1);
  for (const node of selfLoops) groups.push([node]);
  return groups.map((group) => [...group].sort(compareStrings)).sort((a, b) => compareStrings(a[0]!, b[0]!));
}

/**
 * Every strongly connected component of the import graph (single modules too), each listed after every component it
 * reaches, and the component of each module: what a module reaches can then be collected in one pass,
 * components first-to-last.
 */
export function componentsInReachOrder(nodes: string[], edges: Array<{ from: string; to: string }>): { components: string[][]; componentOf: Map<string, number> } {
  const graph = new Graph({ directed: true });
  for (const node of [...nodes].sort(compareStrings)) graph.setNode(node);
  for (const edge of edges) if (edge.from !== edge.to) graph.setEdge(edge.from, edge.to);
  const components = stronglyConnected(graph);
  const componentOf = new Map<string, number>();
  components.forEach((members, index) => {
    for (const member of members) componentOf.set(member, index);
  });
  return { components, componentOf };
}

/**
 * Tarjan's strongly connected components with an explicit stack. graphlib's `alg.tarjan` recurses once per
 * module on a path, so an import chain a few thousand modules long (generated code) overflowed the call stack.
 */
function stronglyConnected(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: string[][] = [];
  let next = 0;
  for (const start of graph.nodes()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; successors: string[]; position: number }> = [];
    const open = (node: string) => {
      index.set(node, next);
      low.set(node, next);
      next += 1;
      stack.push(node);
      onStack.add(node);
      work.push({ node, successors: (graph.successors(node) as string[] | undefined) ?? [], position: 0 });
    };
    open(start);
    while (work.length > 0) {
      const frame = work.at(-1)!;
      if (frame.position < frame.successors.length) {
        const successor = frame.successors[frame.position]!;
        frame.position += 1;
        if (!index.has(successor)) open(successor);
        else if (onStack.has(successor)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(successor)!));
        continue;
      }
      work.pop();
      const parent = work.at(-1);
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const group: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          group.push(member);
        } while (member !== frame.node);
        groups.push(group);
      }
    }
  }
  return groups;
}
