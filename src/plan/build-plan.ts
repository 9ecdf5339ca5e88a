import picomatch from 'picomatch';
import type { Analysis } from '../model/analysis.js';
import { isProcessState } from '../model/analysis-constants.js';
import type { Conflict, ConflictOption, Plan, PlanSettings, Seam, Service } from '../model/plan.js';
import { DEFAULT_SETTINGS, PLAN_VERSION } from '../model/plan-constants.js';
import { DEFAULT_CACHE_TTL_SECONDS, callCacheDecisions, callCacheKey, defaultCacheRoutes } from './cache-defaults.js';
import { compareStrings, sortBy, uniqueSorted } from '../util/compare.js';
import { routeModules } from '../graph/module-graph.js';
import { computeBaselines } from './baselines.js';
import { type Partition, planMetrics } from './plan-metrics.js';
import { mojoFm } from './mojo.js';

/** What the team decides (or the proposal suggests): everything else in a plan is derived from it. */
export interface PlanChoices {
  settings: PlanSettings;
  services: Array<{ name: string; modules: string[]; owns?: string[]; dependsOn?: string[]; replicas?: { min: number; max: number }; cache?: Record<string, number> }>;
  sharedLibraries: Array<{ name: string; modules: string[] }>;
  entrypoints: string[];
  rationale: Record<string, string>;
}

export interface BuildOptions {
  /** Compute the baselines (`--compare`). */
  compare?: boolean;
  /** An intended split (module → domain; shared modules under one name) to score with MoJoFM. */
  expected?: Partition | null;
  /** Keep services' module lists as written (globs and all) instead of compressing them into folder globs. */
  keepModuleLists?: boolean;
  /** Skip the metrics (zeros instead): `check` needs them only for an ICP budget. */
  skipMetrics?: boolean;
}

export interface BuiltPlan {
  plan: Plan;
  /** Module → service or library name, after expanding globs. */
  assignment: Map<string, { kind: 'service' | 'shared' | 'entry'; name: string }>;
  /** Modules the plan does not place anywhere (new since it was written). */
  unassigned: string[];
  /** Seams the code has that `dependsOn` does not allow. */
  disallowed: Seam[];
}

export const DEFAULT_REPLICAS = { min: 2, max: 6 };

/** Expands module paths and globs against the analysed modules. */
export function expandModules(patterns: string[], modules: string[]): string[] {
  const out = new Set<string>();
  const index = moduleIndex(modules);
  const { known } = index;
  for (const pattern of patterns) {
    // A module's own path is itself, even when it holds glob characters (`src/[id].ts`, `src/a{b}/x.ts`).
    if (known.has(pattern)) {
      out.add(pattern);
      continue;
    }
    const folder = wholeFolder(pattern);
    if (folder !== null) {
      // `folder/**` (what compressModules writes) is the folder itself and every path below it: a range of the
      // sorted module list, found by binary search. Matching all modules against each such glob with picomatch took
      // check 0.2 s on a 10,000-module plan; the answer is the same for module paths, which hold no `.` or `..` part.
      if (known.has(folder)) out.add(folder);
      const sorted = (index.sorted ??= [...modules].sort(compareStrings));
      const prefix = `${folder}/`;
      for (let i = lowerBound(sorted, prefix); i < sorted.length && sorted[i]!.startsWith(prefix); i += 1) out.add(sorted[i]!);
    } else if (picomatch.scan(pattern).isGlob) {
      const isMatch = picomatch(pattern, { dot: true });
      for (const module of modules) if (isMatch(module)) out.add(module);
    }
  }
  return [...out].sort(compareStrings);
}

/** The folder of a `folder/**` pattern whose folder part has no glob or escape character, else null. */
function wholeFolder(pattern: string): string | null {
  if (!pattern.endsWith('/**')) return null;
  const folder = pattern.slice(0, -3);
  return folder.length > 0 && !/[\\*?[\]{}()!+@]/.test(folder) ? folder : null;
}

/** The first index of `sorted` whose entry is not below `key` (code-unit order, as compareStrings sorts). */
function lowerBound(sorted: readonly string[], key: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Look-ups in a module list, made once per list: a set (plans list thousands of literal paths on large trees) and,
 * when a folder glob first asks for it, the list sorted.
 */
interface ModuleIndex {
  known: Set<string>;
  sorted: string[] | null;
}
const indexCache = new WeakMap<string[], ModuleIndex>();
function moduleIndex(modules: string[]): ModuleIndex {
  let index = indexCache.get(modules);
  if (!index) {
    index = { known: new Set(modules), sorted: null };
    indexCache.set(modules, index);
  }
  return index;
}

/**
 * Replaces a service's modules by `folder/**` wherever a whole folder (with at least two modules) belongs to
 * it, so a reviewer reads domains, and new files in the folder are claimed by the same service.
 */
export function compressModules(mine: string[], all: string[]): string[] {
  const own = new Set(mine);
  const covered = new Set<string>();
  const out: string[] = [];
  for (const { folder, members, exact } of folderIndex(all)) {
    if (members.length < 2 || !members.every((m) => own.has(m)) || members.every((m) => covered.has(m))) continue;
    // Never claim the whole source root: that is no domain.
    if (members.length === all.length) continue;
    if (members.some((m) => covered.has(m))) continue;
    // A folder whose name holds glob characters (`a|b`, `[id]`, `(group)`) would make a glob that matches
    // something else: list its modules one by one instead.
    if (!exact()) continue;
    out.push(`${folder}/**`);
    for (const m of members) covered.add(m);
  }
  for (const module of mine) if (!covered.has(module)) out.push(module);
  return out.sort(compareStrings);
}

interface FolderEntry {
  folder: string;
  members: string[];
  /** Whether `folder/**` matches exactly the folder's modules (computed once, on first use). */
  exact: () => boolean;
}

const folderIndexes = new WeakMap<string[], FolderEntry[]>();

/**
 * Every folder of the project with its modules, shallowest first (so `src/catalog/**` wins over
 * `src/catalog/api/**`). Built once per module list: every service of a plan asks the same question of it.
 */
function folderIndex(all: string[]): FolderEntry[] {
  const known = folderIndexes.get(all);
  if (known) return known;
  const folders = new Map<string, string[]>();
  for (const module of all) {
    const parts = module.split('/');
    for (let depth = 1; depth < parts.length; depth++) {
      const folder = parts.slice(0, depth).join('/');
      let members = folders.get(folder);
      if (!members) folders.set(folder, (members = []));
      members.push(module);
    }
  }
  const entries = sortBy(folders, ([f]) => f.split('/').length, ([f]) => f).map(([folder, members]): FolderEntry => {
    let exact: boolean | null = null;
    return {
      folder,
      members,
      exact: () => {
        if (exact === null) {
          const matched = new Set(expandModules([`${folder}/**`], all));
          exact = matched.size === members.length && members.every((m) => matched.has(m));
        }
        return exact;
      },
    };
  });
  folderIndexes.set(all, entries);
  return entries;
}

/**
 * Assembles the plan from the team's choices and the analysis: routes, owned entities, conflicts with a
 * recommendation, seams and whether each can become an HTTP call, dependencies, hazards, metrics.
 * Pure: the same inputs give the same plan.
 */
export function buildPlan(analysis: Analysis, choices: PlanChoices, options: BuildOptions = {}): BuiltPlan {
  const allModules = analysis.modules.map((m) => m.path);
  const assignment = new Map<string, { kind: 'service' | 'shared' | 'entry'; name: string }>();
  for (const module of expandModules(choices.entrypoints, allModules)) assignment.set(module, { kind: 'entry', name: '' });
  for (const library of choices.sharedLibraries) {
    for (const module of expandModules(library.modules, allModules)) if (!assignment.has(module)) assignment.set(module, { kind: 'shared', name: library.name });
  }
  const serviceModules = new Map<string, string[]>();
  for (const service of choices.services) {
    const modules = expandModules(service.modules, allModules).filter((m) => !assignment.has(m));
    for (const module of modules) assignment.set(module, { kind: 'service', name: service.name });
    serviceModules.set(service.name, modules);
  }
  const serviceOf = (module: string) => {
    const a = assignment.get(module);
    return a?.kind === 'service' ? a.name : null;
  };
  const unassigned = allModules.filter((m) => !assignment.has(m));

  const seams = findSeams(analysis, serviceOf);
  const owners = decideOwners(analysis, choices, serviceOf);
  const conflicts = findConflicts(analysis, owners, serviceOf, seams);
  const routesOf = new Map<string, string[]>();
  const entryRoutes: string[] = [];
  for (const route of analysis.routes) {
    const home = route.origin ?? route.file;
    const service = serviceOf(home);
    const label = `${route.method} ${route.path}`;
    if (service) routesOf.set(service, [...(routesOf.get(service) ?? []), label]);
    else entryRoutes.push(label);
  }
  const loc = new Map(analysis.modules.map((m) => [m.path, m.loc]));
  const disallowed: Seam[] = [];
  const services: Service[] = choices.services.map((choice) => {
    const modules = serviceModules.get(choice.name) ?? [];
    const needed = uniqueSorted(seams.filter((s) => s.from === choice.name).map((s) => s.to));
    const dependsOn = choice.dependsOn ? uniqueSorted(choice.dependsOn) : needed;
    disallowed.push(...seams.filter((s) => s.from === choice.name && !dependsOn.includes(s.to)));
    const routes = uniqueSorted(routesOf.get(choice.name) ?? []);
    // The team's cache choices stay; routes the service no longer serves drop out. A new plan gets the defaults.
    const serviceOf = (m: string) => {
      const place = assignment.get(m);
      return place?.kind === 'service' ? place.name : null;
    };
    const calls = seams.filter((s) => s.from === choice.name);
    const callKeys = new Set(calls.map((s) => callCacheKey(s.callee, s.symbol)));
    const cache = choice.cache
      ? Object.fromEntries(Object.entries(choice.cache).filter(([key]) => routes.includes(key) || callKeys.has(key)).sort((a, b) => compareStrings(a[0], b[0])))
      : Object.fromEntries(
          Object.entries({
            ...defaultCacheRoutes(analysis, choice.name, routes, serviceOf),
            ...Object.fromEntries(callCacheDecisions(analysis, calls, serviceOf).filter((d) => d.cacheable).map((d) => [d.key, DEFAULT_CACHE_TTL_SECONDS])),
          }).sort((a, b) => compareStrings(a[0], b[0])),
        );
    return {
      name: choice.name,
      modules: options.keepModuleLists ? [...choice.modules].sort(compareStrings) : compressModules(modules, allModules),
      owns: [...owners].filter(([, s]) => s === choice.name).map(([e]) => e).sort(compareStrings),
      dependsOn,
      replicas: choice.replicas ?? DEFAULT_REPLICAS,
      cache,
      routes,
      hazards: sortBy(
        analysis.hazards.filter((h) => serviceOf(h.file) === choice.name).map((h) => ({ kind: h.kind, file: h.file, line: h.line, message: h.message })),
        (h) => h.file,
        (h) => h.line,
      ),
      loc: modules.reduce((sum, m) => sum + (loc.get(m) ?? 0), 0),
      moduleCount: modules.length,
    };
  });

  const partition: Partition = {};
  for (const [module, place] of assignment) {
    if (place.kind === 'service') partition[module] = place.name;
    else if (place.kind === 'shared') partition[module] = `lib:${place.name}`;
  }
  const metrics = options.skipMetrics ? emptyMetrics(conflicts.length) : planMetrics(analysis, partition, conflicts.length, choices.settings);
  const expected = options.expected ?? null;
  let mojofm: number | null = null;
  if (expected) {
    const produced: Partition = {};
    for (const [module, place] of assignment) {
      if (place.kind === 'service') produced[module] = place.name;
      else if (place.kind === 'shared') produced[module] = 'SHARED';
    }
    mojofm = Math.round(mojoFm(produced, expected) * 10) / 10;
  }
  const plan: Plan = {
    version: PLAN_VERSION,
    project: analysis.project.name,
    settings: choices.settings,
    services: sortBy(services, (s) => s.name),
    sharedLibraries: sortBy(
      choices.sharedLibraries.map((l) => {
        const hazards = libraryHazards(analysis, allModules.filter((m) => assignment.get(m)?.kind === 'shared' && assignment.get(m)?.name === l.name), serviceOf);
        return {
          name: l.name,
          modules: options.keepModuleLists ? [...l.modules].sort(compareStrings) : expandModules(l.modules, allModules),
          ...(hazards.length > 0 ? { hazards } : {}),
        };
      }),
      (l) => l.name,
    ),
    entrypoints: options.keepModuleLists ? [...choices.entrypoints].sort(compareStrings) : expandModules(choices.entrypoints, allModules),
    entryRoutes: uniqueSorted(entryRoutes),
    conflicts,
    seams,
    metrics,
    baselines: options.compare ? computeBaselines(analysis, [...assignment].filter(([, p]) => p.kind === 'entry').map(([m]) => m), choices.settings) : [],
    mojofm,
    rationale: Object.fromEntries(Object.entries(choices.rationale).filter(([m]) => assignment.has(m)).sort(([a], [b]) => compareStrings(a, b))),
  };
  return { plan, assignment, unassigned, disallowed };
}

function emptyMetrics(conflicts: number): Plan['metrics'] {
  return { sm: 0, icp: 0, ifn: 0, ned: 0, bcp: null, crossServiceEdges: 0, crossServiceWeight: 0, conflicts, dataOwnershipEntropy: 0, coChangeModularity: null, services: 0 };
}

/** Every runtime import from one service's module into another's, per imported symbol. */
function findSeams(analysis: Analysis, serviceOf: (m: string) => string | null): Seam[] {
  const exportsOf = new Map(analysis.modules.map((m) => [m.path, new Map(m.exports.map((e) => [e.name, e]))]));
  const seams: Seam[] = [];
  const seen = new Set<string>();
  for (const edge of analysis.imports) {
    if (edge.typeOnly) continue;
    const from = serviceOf(edge.from);
    if (!from) continue;
    for (const target of edge.through.length > 0 ? edge.through : [edge.to]) {
      const to = serviceOf(target);
      if (!to || to === from) continue;
      const named = [...edge.names.filter((n) => n !== '*'), ...edge.members];
      const symbols = named.length > 0 ? named : ['*'];
      for (const symbol of symbols) {
        const info = exportsOf.get(target)?.get(symbol) ?? (symbol === 'default' ? undefined : exportsOf.get(edge.to)?.get(symbol));
        if (edge.through.length > 0 && info === undefined && symbol !== '*') continue;
        if (info?.kind === 'type') continue;
        const key = `${edge.from}\0${target}\0${symbol}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const verdict = judgeSeam(info, symbol, to);
        seams.push({ from, to, caller: edge.from, line: edge.line, callee: target, symbol, kind: info?.kind ?? 'unknown', ...verdict });
      }
    }
  }
  return sortBy(seams, (s) => s.from, (s) => s.to, (s) => s.caller, (s) => s.line, (s) => s.symbol);
}

function judgeSeam(info: Analysis['modules'][number]['exports'][number] | undefined, symbol: string, owner: string): { convertible: boolean; reason: string } {
  if (!info) {
    return symbol === '*'
      ? { convertible: false, reason: `imports the whole module: list the functions it uses so each can become a call to ${owner}` }
      : { convertible: false, reason: 'cannot tell statically what this is; check it by hand' };
  }
  switch (info.kind) {
    case 'function': {
      if (!info.async) return { convertible: false, reason: `synchronous function: the scaffold makes it a call to ${owner} only where its result is never used; elsewhere make it async first` };
      if (!info.serializable) {
        const bad = info.params.map((p) => `${p.name}${p.type ? `: ${p.type}` : ''}`).join(', ');
        return { convertible: false, reason: `takes arguments that are not JSON (${bad}): pass plain data instead` };
      }
      return { convertible: true, reason: 'async function with JSON-serialisable arguments: becomes an HTTP call' };
    }
    case 'entity':
      return { convertible: false, reason: `reaches into data ${owner} owns (a table or model handle): put the access behind an operation of ${owner}` };
    case 'class':
      return { convertible: false, reason: 'a class instance cannot cross a network boundary: expose the operations used as async functions' };
    case 'router':
      return { convertible: false, reason: `a router of ${owner}: mount it in ${owner} and route to it at the gateway` };
    default:
      return { convertible: false, reason: `a value, not a function: move it to a shared library or fetch it from ${owner}` };
  }
}

/** The one owner of each entity: the team's choice, else the service that writes it most, else its definer's. */
function decideOwners(analysis: Analysis, choices: PlanChoices, serviceOf: (m: string) => string | null): Map<string, string> {
  const owners = new Map<string, string>();
  for (const service of choices.services) for (const entity of service.owns ?? []) owners.set(entity, service.name);
  for (const entity of analysis.entities) {
    if (owners.has(entity.name)) continue;
    const writes = new Map<string, number>();
    const reads = new Map<string, number>();
    for (const access of entity.accesses) {
      const service = serviceOf(access.module);
      if (!service) continue;
      const tally = access.mode === 'write' ? writes : reads;
      tally.set(service, (tally.get(service) ?? 0) + 1);
    }
    const definer = entity.definedIn.map((d) => serviceOf(d.module)).find((s): s is string => s !== null) ?? null;
    const pick = (tally: Map<string, number>) =>
      sortBy(tally, ([, n]) => -n, ([s]) => (s === definer ? 0 : 1), ([s]) => s)[0]?.[0] ?? null;
    const owner = pick(writes) ?? definer ?? pick(reads);
    if (owner) owners.set(entity.name, owner);
  }
  return owners;
}

function findConflicts(analysis: Analysis, owners: Map<string, string>, serviceOf: (m: string) => string | null, seams: Seam[]): Conflict[] {
  const conflicts: Conflict[] = [];
  for (const entity of analysis.entities) {
    const owner = owners.get(entity.name);
    if (!owner) continue;
    const writes = entity.accesses.filter((a) => a.mode === 'write');
    const foreign = writes.filter((a) => {
      const service = serviceOf(a.module);
      return service !== null && service !== owner;
    });
    if (foreign.length === 0) continue;
    const writers = sortBy(
      dedupe(writes.map((a) => ({ service: serviceOf(a.module) ?? '(none)', module: a.module, line: a.line })), (w) => `${w.module}:${w.line}`),
      (w) => w.service,
      (w) => w.module,
      (w) => w.line,
    );
    const foreignServices = uniqueSorted(foreign.map((a) => serviceOf(a.module)!));
    const alreadyCalls = foreignServices.every((s) => seams.some((seam) => seam.from === s && seam.to === owner && seam.kind === 'function'));
    const foreignModules = uniqueSorted(foreign.map((a) => a.module));
    const movable = foreignModules.every((m) => !analysis.routes.some((r) => routeModules(r).includes(m)) && foreign.filter((a) => a.module === m).length === entity.accesses.filter((a) => a.module === m).length);
    let recommended: ConflictOption;
    let reason: string;
    if (alreadyCalls) {
      recommended = 'expose-api';
      reason = `${foreignServices.join(', ')} already call${foreignServices.length === 1 ? 's' : ''} ${owner}: add the write as an operation of ${owner}'s API and call it instead of writing ${entity.name} directly`;
    } else if (movable) {
      recommended = 'move-writer';
      reason = `${foreignModules.join(', ')} only write${foreignModules.length === 1 ? 's' : ''} ${entity.name} and serve${foreignModules.length === 1 ? 's' : ''} no route: move ${foreignModules.length === 1 ? 'it' : 'them'} into ${owner}`;
    } else {
      recommended = 'publish-events';
      reason = `${foreignServices.join(', ')} and ${owner} both change ${entity.name}: have ${owner} own it and react to events the others publish`;
    }
    conflicts.push({ entity: entity.name, owner, writers, options: ['move-writer', 'expose-api', 'publish-events'], recommended, reason });
  }
  return sortBy(conflicts, (c) => c.entity);
}

function dedupe<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export { DEFAULT_SETTINGS };

/**
 * The hazards in a shared library's modules. A library is copied into every service that uses it, so its module
 * state is kept once per service even with one replica each; the message says which services and which one uses
 * the module most (the natural owner when the others only call its functions).
 */
function libraryHazards(analysis: Analysis, modules: string[], serviceOf: (module: string) => string | null): Service['hazards'] {
  const inLibrary = new Set(modules);
  const users = new Map<string, Map<string, number>>();
  for (const edge of analysis.imports) {
    if (edge.typeOnly || !inLibrary.has(edge.to)) continue;
    const service = serviceOf(edge.from);
    if (!service) continue;
    const counts = users.get(edge.to) ?? new Map<string, number>();
    counts.set(service, (counts.get(service) ?? 0) + 1);
    users.set(edge.to, counts);
  }
  const hazards = analysis.hazards.filter((h) => inLibrary.has(h.file));
  return sortBy(
    hazards.map((h) => {
      const counts = users.get(h.file) ?? new Map<string, number>();
      if (!isProcessState(h.kind) || counts.size < 2) return { kind: h.kind, file: h.file, line: h.line, message: h.message };
      const ranked = sortBy([...counts], ([, n]) => -n, ([name]) => name).map(([name]) => name);
      const message =
        `${h.message} In a shared library it splits further: each of the ${ranked.length} services using it (${[...ranked].sort(compareStrings).join(', ')}) keeps its own copy, even with one replica each. ` +
        `If the others only call its functions, move ${h.file} into ${ranked[0]} (its modules use it most) so the state has one home; otherwise keep the state in a shared store (Redis).`;
      return { kind: h.kind, file: h.file, line: h.line, message };
    }),
    (h) => h.file,
    (h) => h.line,
  );
}
