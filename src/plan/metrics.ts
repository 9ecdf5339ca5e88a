/**
 * Standard microservice-decomposition quality metrics, computed exactly the way the Mono2Micro
 * evaluation script does (Kalia et al., "Mono2Micro: a practical and effective tool for decomposing
 * monolithic Java applications to microservices", ESEC/FSE 2021; replication package
 * kaliaanup/Mono2Micro-FSE-2021, `metrics/metrics_util.py`, as driven by `metrics/main.py`).
 *
 * This is an independent TypeScript re-implementation of those definitions, including the script's
 * quirks (documented per metric below), so that the numbers are comparable with the published tables.
 * Everything here is pure: plain data in, plain data out, no IO, deterministic.
 *
 * Vocabulary: a *unit* is a class/module; the *partition* maps each unit to a service id; a *call* is a
 * directed, weighted unit-to-unit edge observed at runtime ("Caller--Callee": count).
 *
 * Ordering: where the script's result depends on iteration order (only SM, see below), the order used is
 * the insertion order of `partition` (`Object.entries`), which matches Python's dict order for a partition
 * read from the same JSON file as long as no unit name is an integer-like string (JavaScript enumerates
 * such keys first).
 */

/** One observed caller -> callee relation and how many times it was observed. */
export interface WeightedCall {
  caller: string;
  callee: string;
  count: number;
}

export interface MetricsInput {
  /**
   * Observed calls. Several entries for the same (caller, callee) pair are merged by summing their counts
   * (the script reads a JSON object, so it can only ever see one entry per pair). Counts should be >= 1:
   * ICP weighs a call by `ln(count) + 1`, taken literally (a count of 0 yields -Infinity, as in the script).
   */
  calls: WeightedCall[];
  /** unit (class/module) -> service id. Every unit listed here belongs to exactly one service. */
  partition: Record<string, string>;
  /** unit -> business use cases that touch it. BCP is computed only when this is given (else `null`). */
  useCases?: Record<string, string[]>;
  /**
   * Entry-point unit, excluded like Mono2Micro's `Root` (default `'Root'`). Compared case-insensitively,
   * as in the script. It is excluded from ICP and IFN only; SM and NED see it only if it is in the partition.
   */
  root?: string;
}

export interface DecompositionMetrics {
  /** Business context purity — lower is better. `null` when no use cases were given. */
  bcp: number | null;
  /** Inter-call percentage — lower is better. */
  icp: number;
  /** Structural modularity — higher is better. */
  sm: number;
  /** Interface number — lower is better. */
  ifn: number;
  /** Non-extreme distribution — lower is better. */
  ned: number;
}

/** The use-case label the script gives a unit that has no entry in the use-case map. */
const UNKNOWN_USE_CASE = 'Unknown';
/** NED's "non-extreme" service size range, inclusive (in units). */
const NED_MIN_SIZE = 5;
const NED_MAX_SIZE = 20;

/** Directed call relation with fast "is there a call between a and b (either direction)?" checks. */
class CallGraph {
  private readonly out = new Map<string, Set<string>>();

  add(caller: string, callee: string): void {
    let s = this.out.get(caller);
    if (!s) {
      s = new Set();
      this.out.set(caller, s);
    }
    s.add(callee);
  }

  has(caller: string, callee: string): boolean {
    return this.out.get(caller)?.has(callee) ?? false;
  }

  /** True when a calls b or b calls a. For a === b: true when a calls itself. */
  linked(a: string, b: string): boolean {
    return this.has(a, b) || this.has(b, a);
  }

  /** Every unordered pair {a, b} of distinct units with a call either way, once; and the units that call themselves. */
  linkedPairs(): { pairs: Array<[string, string]>; selfCalls: string[] } {
    const pairs: Array<[string, string]> = [];
    const selfCalls: string[] = [];
    for (const [caller, callees] of this.out) {
      for (const callee of callees) {
        if (callee === caller) selfCalls.push(caller);
        // Counted from the side that sorts first, or from the caller when the call goes one way only.
        else if (caller < callee || !this.has(callee, caller)) pairs.push([caller, callee]);
      }
    }
    return { pairs, selfCalls };
  }
}

/**
 * Parses Mono2Micro's `runtime_call_volume.json` format (`{"Caller--Callee": count}`), keeping key order.
 * Like the script's `src, target = call.split("--")`, a key must split into exactly two parts.
 */
export function parseCallVolume(json: Record<string, number>): WeightedCall[] {
  const calls: WeightedCall[] = [];
  for (const [key, count] of Object.entries(json)) {
    const parts = key.split('--');
    if (parts.length !== 2) {
      throw new Error(`call volume key ${JSON.stringify(key)} is not of the form "Caller--Callee"`);
    }
    if (typeof count !== 'number') {
      throw new Error(`call volume for ${JSON.stringify(key)} is not a number`);
    }
    const [caller, callee] = parts as [string, string];
    calls.push({ caller, callee, count });
  }
  return calls;
}

/** Merges duplicate (caller, callee) entries by summing counts; keeps first-seen order. */
function mergeCalls(calls: WeightedCall[]): WeightedCall[] {
  const byPair = new Map<string, Map<string, WeightedCall>>();
  const merged: WeightedCall[] = [];
  for (const c of calls) {
    let row = byPair.get(c.caller);
    if (!row) {
      row = new Map();
      byPair.set(c.caller, row);
    }
    const seen = row.get(c.callee);
    if (seen) {
      seen.count += c.count;
    } else {
      const copy = { caller: c.caller, callee: c.callee, count: c.count };
      row.set(c.callee, copy);
      merged.push(copy);
    }
  }
  return merged;
}

/** Services in first-seen order of the partition, each with its units in partition order. */
function groupServices(partition: Record<string, string>): string[][] {
  const services = new Map<string, string[]>();
  for (const [unit, service] of Object.entries(partition)) {
    const key = String(service); // the script does `str(assignment)`
    let units = services.get(key);
    if (!units) {
      units = [];
      services.set(key, units);
    }
    units.push(unit);
  }
  return [...services.values()];
}

/** Shannon entropy (natural log) of n equally weighted outcomes, computed like scipy.stats.entropy([1]*n). */
function uniformEntropy(n: number): number {
  // scipy normalises to p = 1/n and sums -p*ln(p); entropy([]) is 0.
  const p = 1 / n;
  let s = 0;
  for (let i = 0; i < n; i++) s += -p * Math.log(p);
  return s;
}

/**
 * BCP — business context purity. LOWER is better.
 *
 * BCP = mean over services s of ln(|BC(s)|), where BC(s) is the set of use cases touching any unit of s
 * (the entropy of |BC(s)| equally likely use cases).
 *
 * Script quirks reproduced: a unit with no entry in the use-case map contributes the literal use case
 * `'Unknown'` (shared with every other such unit of the same service); duplicates are removed only against
 * what the service already holds, so a use case repeated inside one unit's own list counts twice; a service
 * whose use-case list is empty contributes entropy 0.
 */
function businessContextPurity(services: string[][], useCases: Record<string, string[]>): number {
  const e: number[] = [];
  for (const units of services) {
    // The count of the script's list, and a set of what it holds (its `in` test, without scanning the list).
    let count = 0;
    const held = new Set<string>();
    for (const unit of units) {
      const own = Object.hasOwn(useCases, unit) ? (useCases[unit] ?? []) : [UNKNOWN_USE_CASE];
      const fresh = own.filter((bc) => !held.has(bc));
      count += fresh.length;
      for (const bc of fresh) held.add(bc);
    }
    e.push(uniformEntropy(count));
  }
  return mean(e);
}

/**
 * ICP — inter-call percentage. LOWER is better.
 *
 * ICP = Σ_{calls a→b crossing services} (ln(count(a→b)) + 1) / Σ_{all calls a→b} (ln(count(a→b)) + 1),
 * over calls that involve neither the root (case-insensitive) nor a unit calling itself, and whose names are
 * non-empty. When no call qualifies the script's 0/0 yields +Infinity, reproduced here.
 */
function interCallPercentage(calls: WeightedCall[], serviceOf: Map<string, string>, isRoot: (u: string) => boolean): number {
  let total = 0;
  let inter = 0;
  for (const { caller, callee, count } of calls) {
    if (!icpCounts(caller, callee, isRoot)) continue;
    const w = Math.log(count) + 1;
    total += w;
    if (serviceOf.get(caller) !== serviceOf.get(callee)) inter += w;
  }
  if (total === 0) return Number.POSITIVE_INFINITY;
  return inter / total;
}

/** Whether the script's ICP loop looks at this call (and therefore needs both units in the partition). */
function icpCounts(caller: string, callee: string, isRoot: (u: string) => boolean): boolean {
  if (isRoot(caller) || isRoot(callee)) return false;
  if (caller === callee) return false;
  return caller !== '' && callee !== '';
}

/**
 * SM — structural modularity. HIGHER is better.
 *
 * SM = (1/K) Σ_s μ_s / N_s²  −  (2 / (K(K−1))) Σ_{s<t} σ_{s,t} / (N_s·N_t)   (second term is 0 when K = 1),
 * where K = number of services, N_s = units in s, σ_{s,t} = number of unit pairs (a ∈ s, b ∈ t) with a call
 * a→b or b→a, and μ_s = number of linked unit pairs inside s as the script enumerates them:
 * pairs (i, j) with i ≤ j, i ranging over all but the LAST unit of s.
 *
 * Script quirks reproduced: the raw call set is used (root calls and self-calls included); a self-call of a
 * unit counts as a cohesion pair (i = j) — except for the last unit of its service in partition order, and
 * therefore never for a single-unit service (whose cohesion is always 0). The coupling term is the script's
 * Σ_{ordered s≠t} σ/(2·N_s·N_t), divided by K, by K−1, times 2, evaluated in that order.
 */
function structuralModularity(services: string[][], raw: CallGraph): number {
  // The script enumerates every pair of units (quadratic in the units); this counts the same pairs from the calls:
  // μ_s gets each linked pair inside s once, and a self-call of any unit but the service's last (the script's
  // i < n-1 bound); σ(m, n) gets each linked pair between m and n.
  const k = services.length;
  const place = new Map<string, { service: number; index: number }>();
  services.forEach((units, s) => units.forEach((unit, index) => place.set(unit, { service: s, index })));
  const mu = new Array<number>(k).fill(0);
  const sigma = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const { pairs, selfCalls } = raw.linkedPairs();
  for (const [a, b] of pairs) {
    const pa = place.get(a);
    const pb = place.get(b);
    if (!pa || !pb) continue;
    if (pa.service === pb.service) mu[pa.service]! += 1;
    else {
      sigma[pa.service]![pb.service]! += 1;
      sigma[pb.service]![pa.service]! += 1;
    }
  }
  for (const unit of selfCalls) {
    const p = place.get(unit);
    if (p && p.index < services[p.service]!.length - 1) mu[p.service]! += 1;
  }
  const scoh = services.map((units, s) => mu[s]! / (units.length * units.length));

  let p2 = 0;
  for (let m = 0; m < k; m++) {
    for (let n = 0; n < k; n++) {
      if (m === n) continue;
      p2 += sigma[m]![n]! / (2 * services[m]!.length * services[n]!.length);
    }
  }
  p2 = k === 1 ? 0 : (p2 / k / (k - 1)) * 2;

  const p1 = sum(scoh) / scoh.length;
  return p1 - p2;
}

/**
 * IFN — interface number. LOWER is better.
 *
 * IFN = (number of unordered unit pairs {a, b} in different services with a call a→b or b→a) / K,
 * over calls that involve neither the root (case-insensitive) nor a self-call. Units that appear in calls but
 * not in the partition are simply never counted.
 */
function interfaceNumber(services: string[][], filtered: CallGraph): number {
  // Unordered linked pairs whose units sit in different services (the script enumerates all cross pairs).
  const serviceOf = new Map<string, number>();
  services.forEach((units, s) => units.forEach((unit) => serviceOf.set(unit, s)));
  let pairs = 0;
  for (const [a, b] of filtered.linkedPairs().pairs) {
    const sa = serviceOf.get(a);
    const sb = serviceOf.get(b);
    if (sa !== undefined && sb !== undefined && sa !== sb) pairs += 1;
  }
  return pairs / services.length;
}

/**
 * NED — non-extreme distribution. LOWER is better.
 *
 * NED = 1 − (units in services with 5 ≤ size ≤ 20) / (all units in the partition); 1 when no service has a
 * non-extreme size.
 */
function nonExtremeDistribution(services: string[][]): number {
  let inRange = 0;
  let total = 0;
  for (const units of services) {
    const size = units.length;
    total += size;
    if (size >= NED_MIN_SIZE && size <= NED_MAX_SIZE) inRange += size;
  }
  return total > 0 && inRange > 0 ? 1 - inRange / total : 1;
}

function sum(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

function mean(xs: number[]): number {
  return sum(xs) / xs.length;
}

/**
 * Computes BCP, ICP, SM, IFN and NED (unrounded) for a partition of units into services.
 *
 * Errors, both matching a crash of the script:
 * - a non-root, non-self call whose caller or callee is missing from the partition (the script's ICP looks
 *   every such unit up and raises KeyError); units missing from the partition are otherwise ignored by SM
 *   and IFN, and a missing root or a missing unit that only calls itself is fine;
 * - an empty partition (the script divides by the number of services in SM and IFN).
 */
export function computeMetrics(input: MetricsInput): DecompositionMetrics {
  const root = (input.root ?? 'Root').toLowerCase();
  const isRoot = (u: string): boolean => u.toLowerCase() === root;
  const calls = mergeCalls(input.calls);
  const serviceOf = new Map(Object.entries(input.partition).map(([u, s]) => [u, String(s)] as const));
  const services = groupServices(input.partition);
  if (services.length === 0) {
    throw new Error('cannot compute decomposition metrics for an empty partition');
  }

  const missing = new Set<string>();
  const raw = new CallGraph();
  const filtered = new CallGraph();
  for (const { caller, callee } of calls) {
    raw.add(caller, callee);
    if (!isRoot(caller) && !isRoot(callee) && caller !== callee) filtered.add(caller, callee);
    if (icpCounts(caller, callee, isRoot)) {
      if (!serviceOf.has(caller)) missing.add(caller);
      if (!serviceOf.has(callee)) missing.add(callee);
    }
  }
  if (missing.size > 0) {
    throw new Error(`units called at runtime but missing from the partition: ${[...missing].sort().join(', ')}`);
  }

  return {
    bcp: input.useCases ? businessContextPurity(services, input.useCases) : null,
    icp: interCallPercentage(calls, serviceOf, isRoot),
    sm: structuralModularity(services, raw),
    ifn: interfaceNumber(services, filtered),
    ned: nonExtremeDistribution(services),
  };
}

/**
 * Rounds like Python's `round(x, digits)`: to the decimal nearest to the exact binary value of x, exact ties
 * to even (so 0.0625 -> 0.062, 0.1875 -> 0.188, unlike `toFixed`). Non-finite values pass through; -0 becomes 0.
 */
export function roundHalfEven(x: number, digits = 3): number {
  if (!Number.isFinite(x) || x === 0) return x === 0 ? 0 : x;
  if (!Number.isInteger(digits) || digits < 0) throw new Error(`digits must be a non-negative integer, got ${digits}`);
  // Exact decomposition of the double: |x| = mantissa * 2^exponent.
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (biased === 0 ? 1 : biased) - 1075;
  if (exponent >= 0) return x; // an integer already
  const numerator = mantissa * 10n ** BigInt(digits);
  const denominator = 1n << BigInt(-exponent);
  let q = numerator / denominator;
  const twiceRemainder = (numerator % denominator) * 2n;
  if (twiceRemainder > denominator || (twiceRemainder === denominator && q % 2n === 1n)) q += 1n;
  if (q === 0n) return 0;
  const result = Number.parseFloat(`${q}e-${digits}`); // correctly rounded decimal -> double
  return negative ? -result : result;
}

/** Rounds every metric like the script does (`round(value, 3)` by default). */
export function roundMetrics(m: DecompositionMetrics, digits = 3): DecompositionMetrics {
  return {
    bcp: m.bcp === null ? null : roundHalfEven(m.bcp, digits),
    icp: roundHalfEven(m.icp, digits),
    sm: roundHalfEven(m.sm, digits),
    ifn: roundHalfEven(m.ifn, digits),
    ned: roundHalfEven(m.ned, digits),
  };
}
