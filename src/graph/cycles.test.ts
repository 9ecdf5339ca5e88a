import { Graph, alg } from '@dagrejs/graphlib';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { compareStrings } from '../util/compare.js';
import { componentsInReachOrder, findCycles } from './cycles.js';

describe('findCycles', () => {
  it('finds the same groups as graphlib’s recursive Tarjan on random graphs', () => {
    const random = seedrandom('cycles');
    for (let round = 0; round < 200; round++) {
      const nodes = Array.from({ length: 2 + Math.floor(random() * 30) }, (_, i) => `m${i}`);
      const edges = Array.from({ length: Math.floor(random() * nodes.length * 2) }, () => ({
        from: nodes[Math.floor(random() * nodes.length)]!,
        to: nodes[Math.floor(random() * nodes.length)]!,
      }));
      const graph = new Graph({ directed: true });
      for (const node of nodes) graph.setNode(node);
      for (const edge of edges) if (edge.from !== edge.to) graph.setEdge(edge.from, edge.to);
      const expected = alg
        .tarjan(graph)
        .filter((group) => group.length > 1)
        .concat([...new Set(edges.filter((e) => e.from === e.to).map((e) => e.from))].map((node) => [node]))
        .map((group) => [...group].sort(compareStrings))
        .sort((a, b) => compareStrings(a[0]!, b[0]!));
      expect(findCycles(nodes, edges)).toEqual(expected);
    }
  });

  it('handles an import chain thousands of modules long without overflowing the stack', () => {
    const nodes = Array.from({ length: 20_000 }, (_, i) => `m${i}`);
    const edges = nodes.slice(1).map((to, i) => ({ from: nodes[i]!, to }));
    expect(findCycles(nodes, edges)).toEqual([]);
    edges.push({ from: nodes.at(-1)!, to: nodes[0]! });
    expect(findCycles(nodes, edges)).toEqual([[...nodes].sort(compareStrings)]);
  });
});

describe('componentsInReachOrder', () => {
  it('lists every component after each component it reaches, and every node, edge-only ones too, in one', () => {
    const random = seedrandom('reach order');
    for (let round = 0; round < 200; round++) {
      const nodes = Array.from({ length: 1 + Math.floor(random() * 30) }, (_, i) => `m${i}`);
      const named = [...nodes, 'outside-a', 'outside-b'];
      const edges = Array.from({ length: Math.floor(random() * nodes.length * 2) }, () => ({
        from: named[Math.floor(random() * named.length)]!,
        to: named[Math.floor(random() * named.length)]!,
      }));
      const { components, componentOf } = componentsInReachOrder(nodes, edges);
      const listed = components.flat();
      expect(new Set(listed).size).toBe(listed.length);
      expect(new Set(listed)).toEqual(new Set([...nodes, ...edges.filter((e) => e.from !== e.to).flatMap((e) => [e.from, e.to])]));
      for (const { from, to } of edges) if (from !== to) expect(componentOf.get(to)!).toBeLessThanOrEqual(componentOf.get(from)!);
    }
  });
});
