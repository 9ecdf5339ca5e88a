/**
 * MoJo distance and MoJoFM: how far a produced partition is from an authoritative one.
 *
 * - MoJo (Tzerpos & Holt, "MoJo: a distance metric for software clusterings", WCRE 1999): the minimum number of
 *   Move and Join operations that turn partition A into partition B. A *move* takes one object out of its cluster
 *   and puts it into another cluster, possibly a new one; a *join* merges two clusters into one. The one-directional
 *   count is mno(A, B); the symmetric MoJo distance is min(mno(A, B), mno(B, A)).
 * - mno(A, B) is computed exactly with the polynomial algorithm of Wen & Tzerpos ("An optimal algorithm for MoJo
 *   distance", IWPC 2003), not with the 1999 heuristic (which breaks ties arbitrarily and can overcount joins).
 * - MoJoFM (Wen & Tzerpos, "An effectiveness measure for software clustering algorithms", IWPC 2004):
 *   MoJoFM(A, B) = (1 − mno(A, B) / max(mno(∀A, B))) × 100%, with A the produced and B the authoritative partition.
 *   100 means A equals B; 0 means A is as far from B as any partition of the same objects can be.
 *
 * The exact algorithm. Let n be the number of objects, A = A_1..A_l and B = B_1..B_m, and v_ij = |A_i ∩ B_j|.
 *   1. Tag every A_i with every B_j for which v_ij = max_k v_ik (several tags when there is a tie).
 *   2. Build the bipartite graph with an edge A_i — B_j for every tag and find a MAXIMUM matching; its size is g,
 *      the number of B clusters that end up with an A cluster assigned (the non-empty "groups").
 *   3. mno(A, B) = M + J, where M = Σ_i (|A_i| − max_j v_ij) = n − Σ_i max_j v_ij moves bring every A_i down to its
 *      tag's objects, and J = l − g joins merge the A clusters that share a group.
 *   Tie-breaking is where the heuristic goes wrong: a tied A_i may take the same B_j as another cluster and cost a
 *   join that a different choice avoids. The matching makes that choice globally.
 *
 * The MoJoFM denominator. max(mno(∀A, B)) = n − g_max, where g_max is obtained from B's cluster sizes sorted in
 *   ascending order s_1 ≤ s_2 ≤ … ≤ s_m by g ← 0; for each s_k: if g < s_k then g ← g + 1. (Wen & Tzerpos 2004;
 *   the same computation as the authors' MoJo tool, whose comment reads "n − l + l − g = n − g".) It depends on B
 *   only, so MoJoFM is not symmetric. The tests check it against a brute-force maximum over every partition A.
 *
 * Objects in only one partition: both partitions are first restricted to the objects they share (the MoJo tool
 *   likewise ignores them, with a warning); n, the cluster sizes of B and therefore max mno are all computed on that
 *   intersection. (The MoJo tool, unlike this module, counts B's cluster sizes before dropping B-only objects; the
 *   two agree whenever every object of B is also in A.) `compareMoJo` reports the objects it dropped.
 * Clusters are the distinct values of each map; cluster names never matter, only who is with whom. Everything is
 *   pure and deterministic: clusters are visited in name order, and the results do not depend on that order anyway.
 */
import { compareStrings } from '../util/compare.js';

/** A partition: object (class, module) → name of the cluster (service) that holds it. */
export type Partition = Record<string, string>;

export interface MoJoComparison {
  /** Objects present in both partitions: the n every number below is computed on. */
  objects: number;
  /** Objects only in A (the produced partition), ignored; sorted. */
  onlyInA: string[];
  /** Objects only in B (the authoritative partition), ignored; sorted. */
  onlyInB: string[];
  /** Clusters of A and of B after the restriction to common objects. */
  clustersA: number;
  clustersB: number;
  /** Move operations in an optimal transformation of A into B. */
  moves: number;
  /** Join operations in an optimal transformation of A into B. */
  joins: number;
  /** mno(A, B) = moves + joins. */
  mno: number;
  /** max(mno(∀A, B)): the largest mno any partition of these objects can have to B. */
  maxMno: number;
  /** MoJoFM(A, B) in 0..100 (unrounded); `null` when the partitions share no object (it is undefined then). */
  mojoFm: number | null;
}

/** One cluster's objects and its tags: the B clusters it overlaps most, with that overlap. */
interface TaggedCluster {
  size: number;
  maxOverlap: number;
  tags: number[];
}

/**
 * Compares a produced partition A with an authoritative partition B: optimal moves and joins, mno(A, B), the MoJoFM
 * denominator and MoJoFM, after restricting both to their common objects.
 */
export function compareMoJo(a: Partition, b: Partition): MoJoComparison {
  const onlyInA = Object.keys(a).filter((o) => !Object.hasOwn(b, o)).sort(compareStrings);
  const onlyInB = Object.keys(b).filter((o) => !Object.hasOwn(a, o)).sort(compareStrings);
  const common = Object.keys(a).filter((o) => Object.hasOwn(b, o)).sort(compareStrings);
  const n = common.length;

  const indexA = clusterIndex(common.map((o) => String(a[o])));
  const indexB = clusterIndex(common.map((o) => String(b[o])));

  // v_ij as one sparse row per A cluster; sizes of B restricted to the common objects.
  const rows: Array<Map<number, number>> = Array.from({ length: indexA.size }, () => new Map());
  const sizeA: number[] = new Array<number>(indexA.size).fill(0);
  const sizeB: number[] = new Array<number>(indexB.size).fill(0);
  for (const o of common) {
    const i = indexA.get(String(a[o]))!;
    const j = indexB.get(String(b[o]))!;
    const row = rows[i]!;
    row.set(j, (row.get(j) ?? 0) + 1);
    sizeA[i]! += 1;
    sizeB[j]! += 1;
  }

  const tagged: TaggedCluster[] = rows.map((row, i) => {
    let maxOverlap = 0;
    for (const count of row.values()) maxOverlap = Math.max(maxOverlap, count);
    const tags = [...row.entries()].filter(([, count]) => count === maxOverlap).map(([j]) => j).sort((x, y) => x - y);
    return { size: sizeA[i]!, maxOverlap, tags };
  });

  let moves = 0;
  for (const cluster of tagged) moves += cluster.size - cluster.maxOverlap;
  const groups = maximumMatching(tagged.map((c) => c.tags), indexB.size);
  const joins = tagged.length - groups;
  const mno = moves + joins;
  const maxMno = maxMnoTo(sizeB);

  let mojoFm: number | null = null;
  if (n > 0) {
    // max mno is 0 only for a single object, and then every A equals B.
    mojoFm = maxMno === 0 ? 100 : (1 - mno / maxMno) * 100;
  }
  return { objects: n, onlyInA, onlyInB, clustersA: indexA.size, clustersB: indexB.size, moves, joins, mno, maxMno, mojoFm };
}

/**
 * mno(A, B): the minimum number of Move and Join operations that transform A into B (one direction; the symmetric
 * MoJo distance is `Math.min(mojo(a, b), mojo(b, a))`). Computed on the objects both partitions hold; 0 when they
 * share none.
 */
export function mojo(a: Partition, b: Partition): number {
  return compareMoJo(a, b).mno;
}

/**
 * MoJoFM(A, B) = (1 − mno(A, B) / max(mno(∀A, B))) × 100, in 0..100, unrounded; A is the produced partition, B the
 * authoritative one. Computed on the objects both partitions hold. Throws when they share no object (undefined).
 */
export function mojoFm(a: Partition, b: Partition): number {
  const result = compareMoJo(a, b);
  if (result.mojoFm === null) {
    throw new RangeError('MoJoFM is undefined for partitions that share no object');
  }
  return result.mojoFm;
}

/**
 * max(mno(∀A, B)) = n − g for B's cluster sizes (Wen & Tzerpos 2004): sort ascending, then g grows by one at every
 * cluster larger than the g counted so far.
 */
export function maxMnoTo(clusterSizesOfB: readonly number[]): number {
  const sizes = [...clusterSizesOfB].sort((x, y) => x - y);
  let n = 0;
  let g = 0;
  for (const size of sizes) {
    n += size;
    if (g < size) g += 1;
  }
  return n - g;
}

/** Cluster name → dense index, in name order. */
function clusterIndex(names: string[]): Map<string, number> {
  const sorted = [...new Set(names)].sort(compareStrings);
  return new Map(sorted.map((name, i) => [name, i] as const));
}

/**
 * Size of a maximum matching in the bipartite graph left i — right j for j in adjacency[i] (augmenting paths,
 * Kuhn's algorithm, iterative so a long path cannot overflow the stack). O(left · edges), ample for partitions of
 * thousands of classes.
 */
function maximumMatching(adjacency: number[][], rightCount: number): number {
  const matchOfRight: number[] = new Array<number>(rightCount).fill(-1);
  let size = 0;
  for (let start = 0; start < adjacency.length; start++) {
    const visited = new Uint8Array(rightCount);
    // Depth-first search for an augmenting path; stack frames are (left vertex, next edge to try).
    const stackLeft: number[] = [start];
    const stackEdge: number[] = [0];
    const viaRight: number[] = []; // viaRight[d] = right vertex used to reach stackLeft[d + 1]
    let augmented = false;
    while (stackLeft.length > 0) {
      const depth = stackLeft.length - 1;
      const left = stackLeft[depth]!;
      const edges = adjacency[left]!;
      const e = stackEdge[depth]!;
      if (e >= edges.length) {
        stackLeft.pop();
        stackEdge.pop();
        viaRight.length = depth; // the parent will reach a new vertex through a new right vertex
        continue;
      }
      stackEdge[depth] = e + 1;
      const right = edges[e]!;
      if (visited[right]) continue;
      visited[right] = 1;
      const owner = matchOfRight[right]!;
      viaRight[depth] = right;
      if (owner === -1) {
        // Flip the path: every left vertex on the stack takes the right vertex it reached the next one by.
        for (let d = 0; d <= depth; d++) matchOfRight[viaRight[d]!] = stackLeft[d]!;
        augmented = true;
        break;
      }
      stackLeft.push(owner);
      stackEdge.push(0);
    }
    if (augmented) size += 1;
  }
  return size;
}
