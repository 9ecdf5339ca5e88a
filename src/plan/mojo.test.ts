import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareMoJo, maxMnoTo, mojo, mojoFm, type Partition } from './mojo.js';

/** Builds a partition from clusters written as lists: [['a', 'b'], ['c']] -> { a: 'C0', b: 'C0', c: 'C1' }. */
function part(clusters: string[][], prefix = 'C'): Partition {
  const out: Partition = {};
  clusters.forEach((objects, i) => {
    for (const o of objects) out[o] = `${prefix}${i}`;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Brute force, for checking the exact algorithm: all set partitions, and shortest move/join paths between them.
// ---------------------------------------------------------------------------------------------------------

/** Every partition of the objects (restricted growth strings), each as a Partition. */
function allPartitions(objects: string[]): Partition[] {
  const out: Partition[] = [];
  const labels: number[] = [];
  const grow = (i: number, blocks: number): void => {
    if (i === objects.length) {
      out.push(Object.fromEntries(objects.map((o, k) => [o, `B${labels[k]}`])));
      return;
    }
    for (let label = 0; label <= blocks; label++) {
      labels[i] = label;
      grow(i + 1, Math.max(blocks, label + 1));
    }
  };
  grow(0, 0);
  return out;
}

type Blocks = string[][];

function toBlocks(p: Partition): Blocks {
  const byCluster = new Map<string, string[]>();
  for (const [o, c] of Object.entries(p)) byCluster.set(c, [...(byCluster.get(c) ?? []), o]);
  return [...byCluster.values()];
}

/** Canonical key of a partition, independent of cluster names and order. */
function key(blocks: Blocks): string {
  return blocks
    .map((b) => [...b].sort().join(','))
    .sort()
    .join('|');
}

/** Partitions one Move or one Join away. A move may put the object into a new cluster of its own. */
function neighbours(blocks: Blocks): Blocks[] {
  const out: Blocks[] = [];
  blocks.forEach((from, i) => {
    for (const o of from) {
      const rest = from.filter((x) => x !== o);
      const without = blocks.map((b, k) => (k === i ? rest : b));
      blocks.forEach((_, j) => {
        if (j !== i) out.push(without.map((b, k) => (k === j ? [...b, o] : b)).filter((b) => b.length > 0));
      });
      if (rest.length > 0) out.push([...without, [o]]);
    }
  });
  for (let i = 0; i < blocks.length; i++) {
    for (let j = i + 1; j < blocks.length; j++) {
      out.push([...blocks.filter((_, k) => k !== i && k !== j), [...blocks[i]!, ...blocks[j]!]]);
    }
  }
  return out;
}

/** Breadth-first search: the fewest moves and joins from A to every partition of the same objects. */
function bfsDistances(a: Partition): Map<string, number> {
  const start = toBlocks(a);
  const dist = new Map<string, number>([[key(start), 0]]);
  let frontier: Blocks[] = [start];
  for (let d = 1; frontier.length > 0; d++) {
    const next: Blocks[] = [];
    for (const blocks of frontier) {
      for (const n of neighbours(blocks)) {
        const k = key(n);
        if (!dist.has(k)) {
          dist.set(k, d);
          next.push(n);
        }
      }
    }
    frontier = next;
  }
  return dist;
}

/** The 1999-style heuristic: each A cluster takes ONE most-overlapping B cluster, ties broken by a fixed order. */
function greedyMno(a: Partition, b: Partition, order: 'first' | 'last'): number {
  let moves = 0;
  const groups = new Set<string>();
  const blocks = toBlocks(a);
  for (const block of blocks) {
    const counts = new Map<string, number>();
    for (const o of block) counts.set(b[o]!, (counts.get(b[o]!) ?? 0) + 1);
    const max = Math.max(...counts.values());
    const tied = [...counts.keys()].filter((c) => counts.get(c) === max).sort();
    groups.add(order === 'first' ? tied[0]! : tied[tied.length - 1]!);
    moves += block.length - max;
  }
  return moves + blocks.length - groups.size;
}

// ---------------------------------------------------------------------------------------------------------

describe('mno(A, B) — hand-computed examples', () => {
  it('is 0 and MoJoFM is 100 for identical partitions, whatever the cluster names', () => {
    const b = part([['a1', 'a2', 'a3'], ['b1', 'b2'], ['c1']]);
    const a = part([['a1', 'a2', 'a3'], ['b1', 'b2'], ['c1']], 'service-');
    expect(mojo(a, b)).toBe(0);
    expect(mojoFm(a, b)).toBe(100);
    expect(mojoFm(b, b)).toBe(100);
  });

  it('reaches MoJoFM 0 for a worst-case partition', () => {
    const b = part([['a1', 'a2'], ['b1', 'b2']]);
    // max mno: sizes 2, 2 -> g = 2 -> 4 - 2 = 2. One big cluster: 2 moves. All singletons: 2 joins.
    expect(compareMoJo(part([['a1', 'a2', 'b1', 'b2']]), b)).toMatchObject({ moves: 2, joins: 0, mno: 2, maxMno: 2, mojoFm: 0 });
    expect(compareMoJo(part([['a1'], ['a2'], ['b1'], ['b2']]), b)).toMatchObject({ moves: 0, joins: 2, mno: 2, mojoFm: 0 });
  });

  it('counts one move and one join where both are needed', () => {
    // B = {a1 a2 a3} {b1 b2}; A = {a1 a2 b1} {b2} {a3}: move b1 next to b2, join {a3} into {a1 a2}.
    const b = part([['a1', 'a2', 'a3'], ['b1', 'b2']]);
    const a = part([['a1', 'a2', 'b1'], ['b2'], ['a3']]);
    const result = compareMoJo(a, b);
    expect(result).toMatchObject({ objects: 5, moves: 1, joins: 1, mno: 2 });
    // max mno: sizes 2, 3 -> g = 2 -> 5 - 2 = 3; MoJoFM = (1 - 2/3) * 100.
    expect(result.maxMno).toBe(3);
    expect(result.mojoFm).toBeCloseTo(100 / 3, 12);
    expect(bfsDistances(a).get(key(toBlocks(b)))).toBe(2);
  });

  it('is exact on ties where the greedy tag choice costs an extra join', () => {
    // A1 = {p1 q1} overlaps P and Q by one each; A2 = {p2} can only go to P. Sending A1 to P (first by name) forces a
    // join; sending it to Q needs only the move of p1: mno = 1.
    const b = part([['p1', 'p2'], ['q1']]);
    const a = part([['p1', 'q1'], ['p2']]);
    expect(mojo(a, b)).toBe(1);
    expect(greedyMno(a, b, 'first')).toBe(2);
    expect(bfsDistances(a).get(key(toBlocks(b)))).toBe(1);
  });

  it('is exact on ties where ANY fixed tie-break order is wrong', () => {
    // Two mirrored gadgets; greedy-by-first-name fails on the first, greedy-by-last-name on the second.
    //   gadget 1: A1 = {p1 q1} ties P/Q, A2 = {p2 p3} -> P, so A1 must take Q (first-by-name takes P: extra join);
    //   gadget 2: A3 = {s1 t1} ties S/T, A4 = {t2 t3} -> T, so A3 must take S (last-by-name takes T: extra join).
    const b: Partition = { p1: 'P', p2: 'P', p3: 'P', q1: 'Q', s1: 'S', t1: 'T', t2: 'T', t3: 'T' };
    const a = part([['p1', 'q1'], ['p2', 'p3'], ['s1', 't1'], ['t2', 't3']]);
    // Exact: one move in A1 and one in A3, matching A1-Q, A2-P, A3-S, A4-T covers every cluster: no join.
    expect(compareMoJo(a, b)).toMatchObject({ moves: 2, joins: 0, mno: 2 });
    expect(greedyMno(a, b, 'first')).toBe(3);
    expect(greedyMno(a, b, 'last')).toBe(3);
    expect(bfsDistances(a).get(key(toBlocks(b)))).toBe(2);
  });

  it('leaves a cluster unmatched (one join) when tied clusters really compete for the same target', () => {
    // A1 ties P/Q, A3 ties Q/R, A2 -> P and A4 -> R: A1 and A3 both need Q, so one of them is joined.
    const b: Partition = { p1: 'P', p2: 'P', q1: 'Q', q2: 'Q', r1: 'R', r2: 'R', r3: 'R' };
    const a = part([['p1', 'q1'], ['p2'], ['q2', 'r1'], ['r2', 'r3']]);
    expect(compareMoJo(a, b)).toMatchObject({ moves: 2, joins: 1, mno: 3 });
    expect(bfsDistances(a).get(key(toBlocks(b)))).toBe(3);
  });

  it('is one-directional: mno(A, B) and mno(B, A) differ, and so do the MoJoFM denominators', () => {
    const split = part([['x1', 'x2', 'x3'], ['x4', 'x5', 'x6']]);
    const whole = part([['x1', 'x2', 'x3', 'x4', 'x5', 'x6']]);
    expect(mojo(split, whole)).toBe(1); // one join
    expect(mojo(whole, split)).toBe(3); // three moves
    // max mno to `whole` = 6 - 1 = 5; to `split` = 6 - 2 = 4.
    expect(mojoFm(split, whole)).toBeCloseTo(80, 12);
    expect(mojoFm(whole, split)).toBeCloseTo(25, 12);
  });
});

describe('mno(A, B) — against brute force', () => {
  it('equals the shortest move/join path for every pair of partitions of 5 objects', () => {
    const objects = ['a', 'b', 'c', 'd', 'e'];
    const partitions = allPartitions(objects);
    expect(partitions).toHaveLength(52); // Bell(5)
    for (const a of partitions) {
      const dist = bfsDistances(a);
      for (const b of partitions) expect(mojo(a, b)).toBe(dist.get(key(toBlocks(b))));
    }
  });

  it('equals the shortest move/join path for every pair of partitions of 6 objects', () => {
    const partitions = allPartitions(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(partitions).toHaveLength(203); // Bell(6)
    let mismatches = 0;
    for (const a of partitions) {
      const dist = bfsDistances(a);
      for (const b of partitions) if (mojo(a, b) !== dist.get(key(toBlocks(b)))) mismatches += 1;
    }
    expect(mismatches).toBe(0);
  });
});

describe('max(mno(∀A, B)) — the MoJoFM denominator', () => {
  it('equals the brute-force maximum over every A, for every B of up to 6 objects', () => {
    for (const n of [1, 2, 3, 4, 5, 6]) {
      const partitions = allPartitions(['a', 'b', 'c', 'd', 'e', 'f'].slice(0, n));
      for (const b of partitions) {
        const worst = Math.max(...partitions.map((a) => mojo(a, b)));
        expect(compareMoJo(b, b).maxMno, `B = ${key(toBlocks(b))}`).toBe(worst);
      }
    }
  });

  it('equals the brute-force maximum for B with uneven clusters of 7 objects', () => {
    const objects = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const partitions = allPartitions(objects);
    for (const b of [part([['a'], ['b'], ['c'], ['d', 'e', 'f', 'g']]), part([['a', 'b'], ['c', 'd'], ['e', 'f', 'g']]), part([objects])]) {
      expect(compareMoJo(b, b).maxMno).toBe(Math.max(...partitions.map((a) => mojo(a, b))));
    }
  });

  it('follows n - g with g grown over the ascending cluster sizes (the MoJo tool’s worked sizes)', () => {
    // Sizes 1 2 3 4 5 6 7 8 10 10 10 15: g runs 1 2 3 4 5 6 7 8 9 10 10 11 -> g = 11, n = 81.
    expect(maxMnoTo([15, 10, 1, 2, 10, 3, 4, 5, 6, 7, 8, 10])).toBe(81 - 11);
    expect(maxMnoTo([1, 1, 1, 5])).toBe(8 - 2);
    expect(maxMnoTo([4, 4, 4])).toBe(12 - 3); // every cluster at least as large as the count: all singletons are worst
    expect(maxMnoTo([])).toBe(0);
  });
});

describe('objects in only one partition, empty partitions, singletons', () => {
  it('restricts both partitions to their common objects and reports the rest', () => {
    const a = { x: 'S1', y: 'S1', onlyA: 'S2' };
    const b = { x: 'T1', y: 'T2', onlyB: 'T1' };
    const result = compareMoJo(a, b);
    expect(result).toMatchObject({ objects: 2, onlyInA: ['onlyA'], onlyInB: ['onlyB'], clustersA: 1, clustersB: 2, mno: 1, maxMno: 1 });
    expect(result.mojoFm).toBe(0);
    // The same numbers as for the partitions cut down by hand.
    expect(mojo(a, b)).toBe(mojo({ x: 'S1', y: 'S1' }, { x: 'T1', y: 'T2' }));
  });

  it('is 0 for empty or disjoint partitions, where MoJoFM is undefined and throws', () => {
    expect(mojo({}, {})).toBe(0);
    expect(compareMoJo({}, {}).mojoFm).toBeNull();
    expect(() => mojoFm({}, {})).toThrow(/share no object/);
    expect(() => mojoFm({ a: '1' }, { b: '1' })).toThrow(RangeError);
    expect(compareMoJo({ a: '1' }, {})).toMatchObject({ objects: 0, onlyInA: ['a'], mno: 0, mojoFm: null });
  });

  it('gives 100 for a single common object (nothing can differ)', () => {
    expect(compareMoJo({ a: 'x' }, { a: 'y' })).toMatchObject({ mno: 0, maxMno: 0, mojoFm: 100 });
  });

  it('handles all-singleton partitions', () => {
    const singletons = part([['a'], ['b'], ['c'], ['d']]);
    expect(mojoFm(singletons, singletons)).toBe(100);
    // To singletons: sizes 1 1 1 1 -> g = 1 -> max 3; one big cluster needs 3 moves -> 0.
    expect(compareMoJo(part([['a', 'b', 'c', 'd']]), singletons)).toMatchObject({ mno: 3, maxMno: 3, mojoFm: 0 });
  });
});

describe('on the Mono2Micro AcmeAir partitions', () => {
  const dir = new URL('../../fixtures/golden/mono2micro-acmeair/', import.meta.url);
  const load = (k: number): Partition =>
    Object.fromEntries(
      Object.entries(JSON.parse(readFileSync(fileURLToPath(new URL(`vertical_cluster_assignment_${k}.json`, dir)), 'utf8')) as Record<string, number>).map(
        ([unit, service]) => [unit, String(service)],
      ),
    );

  it('K=7 splits two singletons off K=5: two joins one way, two moves the other, different denominators', () => {
    const k5 = load(5);
    const k7 = load(7);
    // K=5 cluster sizes 9 9 4 4 2 -> g = 5 -> max = 28 - 5 = 23; K=7 sizes 1 1 2 4 4 7 9 -> g = 6 -> max = 22.
    expect(compareMoJo(k7, k5)).toMatchObject({ objects: 28, moves: 0, joins: 2, mno: 2, maxMno: 23 });
    expect(compareMoJo(k5, k7)).toMatchObject({ objects: 28, moves: 2, joins: 0, mno: 2, maxMno: 22 });
    expect(mojoFm(k7, k5)).toBeCloseTo((1 - 2 / 23) * 100, 12);
    expect(mojoFm(k5, k7)).toBeCloseTo((1 - 2 / 22) * 100, 12);
  });
});

describe('determinism', () => {
  it('gives the same result for any key order and any cluster names, and does not touch its input', () => {
    const a = part([['m1', 'n1', 'o1'], ['m2', 'n2'], ['o2', 'o3', 'm3'], ['n3']]);
    const b = part([['m1', 'm2', 'm3'], ['n1', 'n2', 'n3'], ['o1', 'o2', 'o3']]);
    const frozenA = JSON.stringify(a);
    const expected = compareMoJo(a, b);
    const reversedA = Object.fromEntries(Object.entries(a).reverse().map(([o, c]) => [o, `renamed-${c}`]));
    const reversedB = Object.fromEntries(Object.entries(b).reverse().map(([o, c]) => [o, c.toLowerCase()]));
    for (let i = 0; i < 5; i++) {
      expect(compareMoJo(a, b)).toEqual(expected);
      expect(compareMoJo(reversedA, reversedB)).toEqual(expected);
    }
    expect(JSON.stringify(a)).toBe(frozenA);
  });
});
