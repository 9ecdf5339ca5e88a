import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  computeMetrics,
  parseCallVolume,
  roundHalfEven,
  roundMetrics,
  type DecompositionMetrics,
  type MetricsInput,
  type WeightedCall,
} from './metrics.js';

// ---------------------------------------------------------------------------------------------------------
// Golden data: the Mono2Micro study's AcmeAir partitions and what its own script computes for them.
// ---------------------------------------------------------------------------------------------------------

const GOLDEN_DIR = new URL('../../fixtures/golden/mono2micro-acmeair/', import.meta.url);

function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(fileURLToPath(new URL(name, GOLDEN_DIR)), 'utf8')) as T;
}

interface ExpectedRow {
  BCP: number;
  ICP: number;
  SM: number;
  IFN: number;
  NED: number;
}

const expected = readJson<Record<string, ExpectedRow>>('expected-metrics.json');
const goldenCalls = parseCallVolume(readJson<Record<string, number>>('runtime_call_volume.json'));
const goldenUseCases = readJson<Record<string, string[]>>('bcs_per_class.json');

function goldenPartition(k: string): Record<string, string> {
  const raw = readJson<Record<string, number | string>>(`vertical_cluster_assignment_${k}.json`);
  return Object.fromEntries(Object.entries(raw).map(([unit, service]) => [unit, String(service)]));
}

function asRow(m: DecompositionMetrics): ExpectedRow {
  return { BCP: m.bcp ?? Number.NaN, ICP: m.icp, SM: m.sm, IFN: m.ifn, NED: m.ned };
}

describe('Mono2Micro AcmeAir golden values', () => {
  it('covers every K the study published for AcmeAir', () => {
    expect(Object.keys(expected).sort((a, b) => Number(a) - Number(b))).toEqual(['3', '5', '7', '9', '11', '13']);
    expect(goldenCalls).toHaveLength(61);
  });

  for (const k of Object.keys(expected)) {
    it(`K=${k}: every metric equals the script's output to 3 decimals`, () => {
      const row = expected[k]!;
      const got = roundMetrics(
        computeMetrics({ calls: goldenCalls, partition: goldenPartition(k), useCases: goldenUseCases }),
      );
      expect(got.bcp).toBe(row.BCP);
      expect(got.icp).toBe(row.ICP);
      expect(got.sm).toBe(row.SM);
      expect(got.ifn).toBe(row.IFN);
      expect(got.ned).toBe(row.NED);
    });
  }

  it('a wrong partition gives different numbers', () => {
    const partition = goldenPartition('5');
    // Move one class to another service (ConnectionManager is called by many classes, so ICP/SM/IFN all move).
    const original = partition.ConnectionManager!;
    const other = Object.values(partition).find((s) => s !== original)!;
    partition.ConnectionManager = other;
    const got = roundMetrics(computeMetrics({ calls: goldenCalls, partition, useCases: goldenUseCases }));
    const row = expected['5']!;
    expect(asRow(got)).not.toEqual(row);
    expect(got.icp).not.toBe(row.ICP);
    expect(got.sm).not.toBe(row.SM);
    expect(got.ifn).not.toBe(row.IFN);
    // And the K=3 partition does not reproduce the K=5 numbers either.
    const k3 = roundMetrics(computeMetrics({ calls: goldenCalls, partition: goldenPartition('3'), useCases: goldenUseCases }));
    expect(asRow(k3)).not.toEqual(row);
  });

  it('computeMetrics is deterministic and does not mutate its input', () => {
    const partition = goldenPartition('7');
    const input: MetricsInput = { calls: goldenCalls, partition, useCases: goldenUseCases };
    const snapshot = JSON.stringify(input);
    const a = computeMetrics(input);
    const b = computeMetrics(input);
    expect(a).toEqual(b);
    expect(JSON.stringify(input)).toBe(snapshot);
  });
});

// ---------------------------------------------------------------------------------------------------------
// A tiny hand-computed graph. Every expected value below was derived by hand from the formulas (and
// cross-checked against the original Python script).
//
//   Root -> A (3)      A -> A (4, self-call)
//   A -> B (1)         B -> C (7)        C -> D (1)
//   D -> E (1)         E -> D (1)        F: no calls at all
//
//   services: s1 = [A, B], s2 = [C, D], s3 = [E, F]
// ---------------------------------------------------------------------------------------------------------

const tinyCalls: WeightedCall[] = [
  { caller: 'Root', callee: 'A', count: 3 },
  { caller: 'A', callee: 'A', count: 4 },
  { caller: 'A', callee: 'B', count: 1 },
  { caller: 'B', callee: 'C', count: 7 },
  { caller: 'C', callee: 'D', count: 1 },
  { caller: 'D', callee: 'E', count: 1 },
  { caller: 'E', callee: 'D', count: 1 },
];
const tinyPartition: Record<string, string> = { A: 's1', B: 's1', C: 's2', D: 's2', E: 's3', F: 's3' };
const tinyUseCases: Record<string, string[]> = {
  Root: ['u1', 'u2', 'u3', 'u4'],
  A: ['u1', 'u2'],
  B: ['u2', 'u3'],
  C: ['u1'],
  // D: no entry -> 'Unknown'
  E: ['u4'],
  // F: no entry -> 'Unknown'
};
const tiny: MetricsInput = { calls: tinyCalls, partition: tinyPartition, useCases: tinyUseCases };
const PRECISION = 12; // hand formulas vs implementation: agree to 1e-12

describe('BCP (business context purity)', () => {
  it('is the mean over services of ln(#distinct use cases), unknown units counting as "Unknown"', () => {
    // s1 {u1,u2,u3} -> ln 3; s2 {u1, Unknown} -> ln 2; s3 {u4, Unknown} -> ln 2
    expect(computeMetrics(tiny).bcp).toBeCloseTo((Math.log(3) + 2 * Math.log(2)) / 3, PRECISION);
    expect(roundMetrics(computeMetrics(tiny)).bcp).toBe(0.828);
  });

  it('is null when no use cases are given', () => {
    expect(computeMetrics({ calls: tinyCalls, partition: tinyPartition }).bcp).toBeNull();
  });

  it('is 0 when every service has exactly one use case', () => {
    const m = computeMetrics({ calls: [], partition: { X: 'a', Y: 'a', Z: 'b' }, useCases: { X: ['u'], Y: ['u'], Z: ['v'] } });
    expect(m.bcp).toBe(0);
  });

  it('units without an entry share one "Unknown" use case per service', () => {
    const m = computeMetrics({ calls: [], partition: { X: 'a', Y: 'a' }, useCases: {} });
    expect(m.bcp).toBe(0); // {Unknown}
  });

  it('quirk: a use case repeated inside one unit list counts twice; an empty list contributes entropy 0', () => {
    const dup = computeMetrics({ calls: [], partition: { X: 'a' }, useCases: { X: ['u', 'u'] } });
    expect(dup.bcp).toBeCloseTo(Math.log(2), PRECISION);
    const empty = computeMetrics({ calls: [], partition: { X: 'a', Y: 'b' }, useCases: { X: [], Y: ['u', 'v'] } });
    expect(empty.bcp).toBeCloseTo(Math.log(2) / 2, PRECISION);
  });
});

describe('ICP (inter-call percentage)', () => {
  it('weighs each call by ln(count)+1, skipping Root and self-calls', () => {
    // counted: A>B (1, intra), B>C (ln7+1, inter), C>D (1, intra), D>E (1, inter), E>D (1, inter)
    const w = Math.log(7) + 1;
    expect(computeMetrics(tiny).icp).toBeCloseTo((w + 2) / (w + 4), PRECISION);
    expect(roundMetrics(computeMetrics(tiny)).icp).toBe(0.712);
  });

  it('is 0 for a single service', () => {
    const one = Object.fromEntries(Object.keys(tinyPartition).map((u) => [u, 'only']));
    expect(computeMetrics({ calls: tinyCalls, partition: one }).icp).toBe(0);
  });

  it('is 1 when every counted call crosses services', () => {
    const m = computeMetrics({
      calls: [
        { caller: 'X', callee: 'Y', count: 10 },
        { caller: 'Y', callee: 'X', count: 2 },
      ],
      partition: { X: 'a', Y: 'b' },
    });
    expect(m.icp).toBe(1);
  });

  it('is +Infinity when no call qualifies (the script divides 0 by 0)', () => {
    const m = computeMetrics({
      calls: [
        { caller: 'Root', callee: 'X', count: 5 },
        { caller: 'X', callee: 'X', count: 5 },
      ],
      partition: { X: 'a', Y: 'b' },
    });
    expect(m.icp).toBe(Number.POSITIVE_INFINITY);
    expect(roundMetrics(m).icp).toBe(Number.POSITIVE_INFINITY);
  });

  it('matches the root case-insensitively and honours a custom root', () => {
    const calls: WeightedCall[] = [
      { caller: 'ROOT', callee: 'X', count: 1 },
      { caller: 'X', callee: 'Y', count: 1 },
      { caller: 'Main', callee: 'Y', count: 1 },
    ];
    // 'ROOT' is the default root; 'Main' is not and is missing from the partition -> error
    expect(() => computeMetrics({ calls, partition: { X: 'a', Y: 'a' } })).toThrow(/Main/);
    const m = computeMetrics({ calls, partition: { X: 'a', Y: 'a', ROOT: 'b' }, root: 'main' });
    // with root 'main': ROOT>X (inter), X>Y (intra) counted
    expect(m.icp).toBe(0.5);
  });

  it('merges duplicate call entries by summing their counts', () => {
    const split = computeMetrics({
      calls: [
        { caller: 'X', callee: 'Y', count: 1 },
        { caller: 'X', callee: 'Y', count: 1 },
        { caller: 'X', callee: 'Z', count: 1 },
      ],
      partition: { X: 'a', Y: 'b', Z: 'a' },
    });
    const w = Math.log(2) + 1;
    expect(split.icp).toBeCloseTo(w / (w + 1), PRECISION);
  });
});

describe('SM (structural modularity)', () => {
  it('is mean cohesion minus mean pairwise coupling', () => {
    // cohesion: s1 pairs (A,A) self-call + (A,B) = 2 -> 2/4; s2 (C,C) no, (C,D) yes -> 1/4; s3 -> 0
    // p1 = (0.5 + 0.25 + 0) / 3 = 0.25
    // coupling: sigma(s1,s2) = 1 (B-C) -> 1/8; sigma(s1,s3) = 0; sigma(s2,s3) = 1 (D-E, both directions once) -> 1/8
    // p2 = 2 * (1/8 + 0 + 1/8) / 3 / 2 * 2 = 1/6
    expect(computeMetrics(tiny).sm).toBeCloseTo(0.25 - 1 / 6, PRECISION);
    expect(roundMetrics(computeMetrics(tiny)).sm).toBe(0.083);
  });

  it('quirk: a self-call counts for cohesion except for the last unit of its service', () => {
    // Same graph, s1 listed as [B, A]: pairs (B,B) no, (B,A) yes -> 1/4 instead of 2/4
    const reordered = { B: 's1', A: 's1', C: 's2', D: 's2', E: 's3', F: 's3' };
    const m = computeMetrics({ calls: tinyCalls, partition: reordered });
    expect(m.sm).toBeCloseTo((0.25 + 0.25 + 0) / 3 - 1 / 6, PRECISION);
    // A single-unit service never gets cohesion, even from a self-call
    const single = computeMetrics({ calls: [{ caller: 'X', callee: 'X', count: 9 }], partition: { X: 'a' } });
    expect(single.sm).toBe(0);
  });

  it('for a single service there is no coupling term', () => {
    // [A..F]: linked pairs (A,A), (A,B), (B,C), (C,D), (D,E) = 5 -> 5/36
    const one = Object.fromEntries(Object.keys(tinyPartition).map((u) => [u, 'only']));
    expect(computeMetrics({ calls: tinyCalls, partition: one }).sm).toBeCloseTo(5 / 36, PRECISION);
  });

  it('a service with no calls dilutes both cohesion and coupling means', () => {
    const withIdle = { ...tinyPartition, G: 's4' };
    // p1 = 0.75 / 4; p2 = 2 * (1/8 + 1/8) / 4 / 3 * 2 = 1/12
    expect(computeMetrics({ calls: tinyCalls, partition: withIdle }).sm).toBeCloseTo(0.75 / 4 - 1 / 12, PRECISION);
  });

  it('can be negative (more coupling than cohesion)', () => {
    const m = computeMetrics({ calls: [{ caller: 'X', callee: 'Y', count: 1 }], partition: { X: 'a', Y: 'b' } });
    // p1 = 0; p2 = (1/2 + 1/2) / 2 / 1 * 2 = 1
    expect(m.sm).toBe(-1);
  });
});

describe('IFN (interface number)', () => {
  it('counts linked unit pairs across services per service, ignoring Root and self-calls', () => {
    // cross-service linked pairs: {B,C}, {D,E} (D>E and E>D count once) -> 2 / 3
    expect(computeMetrics(tiny).ifn).toBeCloseTo(2 / 3, PRECISION);
    expect(roundMetrics(computeMetrics(tiny)).ifn).toBe(0.667);
  });

  it('is 0 for a single service', () => {
    const one = Object.fromEntries(Object.keys(tinyPartition).map((u) => [u, 'only']));
    expect(computeMetrics({ calls: tinyCalls, partition: one }).ifn).toBe(0);
  });

  it('a service with no calls still counts in the denominator', () => {
    expect(computeMetrics({ calls: tinyCalls, partition: { ...tinyPartition, G: 's4' } }).ifn).toBe(0.5);
  });

  it('does not count Root even when Root is placed in the partition', () => {
    const m = computeMetrics({ calls: tinyCalls, partition: { ...tinyPartition, Root: 's3' } });
    expect(m.ifn).toBeCloseTo(2 / 3, PRECISION);
    // ...whereas SM uses the raw call set, so Root>A now couples s3 with s1:
    // p2 = 2 * (1/8 + 1/12 + 1/12) / 3 / 2 * 2 = 7/36; SM = 0.25 - 7/36
    expect(m.sm).toBeCloseTo(0.25 - 7 / 36, PRECISION);
  });
});

describe('NED (non-extreme distribution)', () => {
  const sized = (...sizes: number[]): Record<string, string> => {
    const p: Record<string, string> = {};
    sizes.forEach((n, s) => {
      for (let i = 0; i < n; i++) p[`s${s}_u${i}`] = `s${s}`;
    });
    return p;
  };

  it('is 1 when every service is outside 5..20', () => {
    expect(computeMetrics(tiny).ned).toBe(1); // sizes 2, 2, 2
    expect(computeMetrics({ calls: [], partition: sized(4, 21, 1) }).ned).toBe(1);
  });

  it('is 0 when every service is inside 5..20 (bounds inclusive)', () => {
    expect(computeMetrics({ calls: [], partition: sized(5, 20) }).ned).toBe(0);
  });

  it('is 1 - (units in 5..20-sized services) / (all units)', () => {
    expect(computeMetrics({ calls: [], partition: sized(4, 5, 21) }).ned).toBeCloseTo(1 - 5 / 30, PRECISION);
    expect(roundMetrics(computeMetrics({ calls: [], partition: sized(4, 5, 21) })).ned).toBe(0.833);
  });
});

describe('partition coverage and errors', () => {
  it('throws when a called unit (other than Root or a self-call only) is missing from the partition', () => {
    expect(() => computeMetrics({ calls: tinyCalls, partition: { A: 's1', B: 's1', C: 's2', D: 's2', E: 's3' } })).not.toThrow();
    const partial = { A: 's1', B: 's1', C: 's2', D: 's2' };
    expect(() => computeMetrics({ calls: tinyCalls, partition: partial })).toThrow(/missing from the partition: E/);
    const selfOnly = computeMetrics({
      calls: [...tinyCalls, { caller: 'Ghost', callee: 'Ghost', count: 2 }],
      partition: tinyPartition,
    });
    expect(selfOnly).toEqual(computeMetrics({ calls: tinyCalls, partition: tinyPartition }));
  });

  it('throws for an empty partition', () => {
    expect(() => computeMetrics({ calls: [], partition: {} })).toThrow(/empty partition/);
  });
});

describe('parseCallVolume', () => {
  it('parses "Caller--Callee": count in key order', () => {
    expect(parseCallVolume({ 'Root--A': 3, 'A--B': 1 })).toEqual([
      { caller: 'Root', callee: 'A', count: 3 },
      { caller: 'A', callee: 'B', count: 1 },
    ]);
  });

  it('rejects keys that do not split into exactly two names', () => {
    expect(() => parseCallVolume({ AB: 1 })).toThrow(/Caller--Callee/);
    expect(() => parseCallVolume({ 'A--B--C': 1 })).toThrow(/Caller--Callee/);
  });
});

describe('rounding', () => {
  it('rounds like Python round(x, 3): nearest to the exact binary value, exact ties to even', () => {
    expect(roundHalfEven(0.0625)).toBe(0.062);
    expect(roundHalfEven(0.1875)).toBe(0.188);
    expect(roundHalfEven(2.675, 2)).toBe(2.67); // 2.675 is 2.67499999... in binary
    expect(roundHalfEven(1.0005)).toBe(1); // 1.000499999... in binary
    expect(roundHalfEven(0.12350000000000001)).toBe(0.124);
    expect(roundHalfEven(-0.0001)).toBe(0);
    expect(roundHalfEven(-1.2346)).toBe(-1.235);
    expect(roundHalfEven(8)).toBe(8);
    expect(roundHalfEven(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });

  it('roundMetrics keeps a null BCP', () => {
    expect(roundMetrics({ bcp: null, icp: 0.12345, sm: 0, ifn: 1, ned: 1 })).toEqual({ bcp: null, icp: 0.123, sm: 0, ifn: 1, ned: 1 });
  });
});
