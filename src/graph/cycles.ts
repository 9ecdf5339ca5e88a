import { compareStrings, uniqueSorted } from '../util/compare.js';

/**
 * Groups of modules that import each other in a cycle (strongly connected components with more than one
 * member, or a module importing itself). Plain arrays in, plain arrays out; graphlib stays inside.
 */
export function findCycles(nodes: string[], edges: Array<{ from: string; to: string }>): string[][] {
  const selfLoops = new Set<string>();
  for (const edge of edges) if (edge.from === edge.to) selfLoops.add(edge.from);
  const groups = namedComponents(nodes, edges).filter((group) => group.length > 1);
  for (const node of selfLoops) groups.push([node]);
  return groups.map((group) => [...group].sort(compareStrings)).sort((a, b) => compareStrings(a[0]!, b[0]!));
}

/**
 * Every strongly connected component of the import graph (single modules too), each listed after every component it
 * reaches, and the component of each module: what a module reaches can then be collected in one pass,
 * components first-to-last.
 */
export function componentsInReachOrder(nodes: string[], edges: Array<{ from: string; to: string }>): { components: string[][]; componentOf: Map<string, number> } {
  const components = namedComponents(nodes, edges);
  const componentOf = new Map<string, number>();
  components.forEach((members, index) => {
    for (const member of members) componentOf.set(member, index);
  });
  return { components, componentOf };
}

/** The strongly connected components (see stronglyConnected), by the nodes' names. */
function namedComponents(nodes: string[], edges: Array<{ from: string; to: string }>): string[][] {
  const graph = successorLists(nodes, edges);
  return stronglyConnected(graph.successors).map((group) => group.map((id) => graph.names[id]!));
}

interface SuccessorLists {
  /** Each node's name, by its number. */
  names: string[];
  /** Each node's distinct successors, by number. */
  successors: number[][];
}

/**
 * Each node's distinct successors, self-loops left out: the nodes in sorted order, then any node only an edge
 * names, in the order the edges first name it; successors in the order their edges come (graphlib's order, which
 * this replaced). Nodes are numbered in that order: on 10,000 modules graphlib's bookkeeping made findCycles take
 * 280 ms, maps keyed by name 57 ms.
 */
function successorLists(nodes: readonly string[], edges: ReadonlyArray<{ from: string; to: string }>): SuccessorLists {
  const names = uniqueSorted(nodes);
  const numberOf = new Map(names.map((name, id) => [name, id]));
  const successors: number[][] = names.map(() => []);
  const number = (name: string) => {
    let id = numberOf.get(name);
    if (id === undefined) {
      id = names.length;
      numberOf.set(name, id);
      names.push(name);
      successors.push([]);
    }
    return id;
  };
  // Edges seen, as from·2^26 + to: exact in a double for up to 67 million nodes.
  const seen = new Set<number>();
  for (const { from, to } of edges) {
    if (from === to) continue;
    const a = number(from);
    const b = number(to);
    const key = a * 67_108_864 + b;
    if (seen.has(key)) continue;
    seen.add(key);
    successors[a]!.push(b);
  }
  return { names, successors };
}

/**
 * Tarjan's strongly connected components with an explicit stack, over numbered nodes, starting from each in number
 * order. A recursive search (graphlib's `alg.tarjan`) recurses once per module on a path, so an import chain a few
 * thousand modules long (generated code) overflowed the call stack.
 */
function stronglyConnected(successors: readonly (readonly number[])[]): number[][] {
  const count = successors.length;
  const index = new Int32Array(count).fill(-1);
  const low = new Int32Array(count);
  const onStack = new Uint8Array(count);
  const stack: number[] = [];
  const groups: number[][] = [];
  // The search's frames: a node and how many of its successors it has been through.
  const frameNode: number[] = [];
  const framePosition: number[] = [];
  let next = 0;
  const open = (node: number) => {
    index[node] = next;
    low[node] = next;
    next += 1;
    stack.push(node);
    onStack[node] = 1;
    frameNode.push(node);
    framePosition.push(0);
  };
  for (let start = 0; start < count; start++) {
    if (index[start] !== -1) continue;
    open(start);
    while (frameNode.length > 0) {
      const top = frameNode.length - 1;
      const node = frameNode[top]!;
      const list = successors[node]!;
      const position = framePosition[top]!;
      if (position < list.length) {
        const successor = list[position]!;
        framePosition[top] = position + 1;
        if (index[successor] === -1) open(successor);
        else if (onStack[successor]) low[node] = Math.min(low[node]!, index[successor]!);
        continue;
      }
      frameNode.pop();
      framePosition.pop();
      if (frameNode.length > 0) {
        const parent = frameNode[frameNode.length - 1]!;
        low[parent] = Math.min(low[parent]!, low[node]!);
      }
      if (low[node] === index[node]) {
        const group: number[] = [];
        let member: number;
        do {
          member = stack.pop()!;
          onStack[member] = 0;
          group.push(member);
        } while (member !== node);
        groups.push(group);
      }
    }
  }
  return groups;
}
