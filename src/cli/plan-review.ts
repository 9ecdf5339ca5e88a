import { checkbox, confirm, input, select } from '@inquirer/prompts';
import type { ChalkInstance } from 'chalk';
import type { Analysis } from '../model/analysis.js';
import { DNS_LABEL, type Plan, type PlanMetrics } from '../model/plan.js';
import { type BuiltPlan, type PlanChoices, compressModules, expandModules } from '../plan/build-plan.js';
import { formatNumber } from '../report/plan-markdown.js';
import { compareStrings, uniqueSorted } from '../util/compare.js';
import { UserError } from '../util/errors.js';
import type { Output } from './output.js';
import { promptTheme } from './prompt-theme.js';

/*
 * The interactive review of a proposed plan (`decompose plan` in a terminal without --yes). The pure helpers
 * (metric deltas, name validation, rename/merge/move applied to PlanChoices) are exported and unit-tested; the
 * prompts and the text a person reads live in the second half of the file.
 */

// ---------------------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------------------

/** Where a module sits in the choices. */
export type Place = { kind: 'service' | 'shared'; name: string } | { kind: 'entry' };

/** A destination of a move: an existing or a new service or shared library. */
export interface Destination {
  kind: 'service' | 'shared';
  name: string;
}

/** The metrics the review shows, with the direction that is better (the same as in PLAN.md). */
export const REVIEW_METRICS = [
  { key: 'sm', label: 'SM', better: 'higher' },
  { key: 'icp', label: 'ICP', better: 'lower' },
  { key: 'crossServiceEdges', label: 'cross-service edges', better: 'lower' },
  { key: 'conflicts', label: 'conflicts', better: 'lower' },
] as const satisfies ReadonlyArray<{ key: keyof PlanMetrics; label: string; better: 'higher' | 'lower' }>;

export type ReviewMetricKey = (typeof REVIEW_METRICS)[number]['key'];

export interface MetricDelta {
  key: ReviewMetricKey;
  label: string;
  better: 'higher' | 'lower';
  before: number;
  after: number;
  /** Judged at the precision the review prints (three decimals), so float noise is no change. */
  change: 'better' | 'worse' | 'same';
}

/** Whether going from `before` to `after` is an improvement, given which direction is better. */
export function judgeChange(before: number, after: number, better: 'higher' | 'lower'): MetricDelta['change'] {
  const a = Math.round(before * 1000);
  const b = Math.round(after * 1000);
  if (a === b) return 'same';
  return (b > a) === (better === 'higher') ? 'better' : 'worse';
}

/** The review's key metrics before and after a change, each judged by its own direction. */
export function metricDeltas(before: PlanMetrics, after: PlanMetrics): MetricDelta[] {
  return REVIEW_METRICS.map(({ key, label, better }) => ({
    key,
    label,
    better,
    before: before[key],
    after: after[key],
    change: judgeChange(before[key], after[key], better),
  }));
}

/**
 * Checks a name for a new or renamed service or shared library: a DNS label (it becomes a folder, image and
 * host name) not used by another service or library. Returns the reason it is refused, or null.
 */
export function nameProblem(name: string, taken: Iterable<string>): string | null {
  if (name.length === 0) return 'type a name';
  if (name.length > 63) return `"${name}" is longer than 63 characters`;
  if (!DNS_LABEL.test(name)) {
    return `"${name}" is not a DNS label: lower-case letters, digits and "-", starting with a letter and not ending with "-"`;
  }
  if ([...taken].includes(name)) return `"${name}" is already taken by a service or shared library`;
  return null;
}

/** Module → place, with the precedence `buildPlan` uses: entry points, then shared libraries, then services in order. */
export function placementOf(choices: PlanChoices, allModules: string[]): Map<string, Place> {
  const placement = new Map<string, Place>();
  for (const module of expandModules(choices.entrypoints, allModules)) placement.set(module, { kind: 'entry' });
  for (const library of choices.sharedLibraries) {
    for (const module of expandModules(library.modules, allModules)) if (!placement.has(module)) placement.set(module, { kind: 'shared', name: library.name });
  }
  for (const service of choices.services) {
    for (const module of expandModules(service.modules, allModules)) if (!placement.has(module)) placement.set(module, { kind: 'service', name: service.name });
  }
  return placement;
}

/** The concrete modules of one service or library under the choices. */
export function modulesOf(choices: PlanChoices, allModules: string[], kind: 'service' | 'shared', name: string): string[] {
  return [...placementOf(choices, allModules)]
    .filter(([, place]) => place.kind === kind && place.name === name)
    .map(([module]) => module)
    .sort(compareStrings);
}

/**
 * The choices a review starts from: the plan's services (module patterns, replicas), shared libraries,
 * entry points, settings and rationale.
 *
 * `owns` and `dependsOn` are kept where they are the team's decision and left out where they only repeat
 * what the code implies, so they keep following the code as modules move: a service's `dependsOn` is kept when
 * it differs from the services its seams call; an owned entity is kept when `derivedOwner` (the owner the
 * plan builder picks by itself) differs. Without `derivedOwner` every owned entity is kept. Either way,
 * building the plan again from the result gives the same plan.
 */
export function initialChoices(built: BuiltPlan, derivedOwner?: (entity: string) => string | undefined): PlanChoices {
  const { plan } = built;
  return {
    settings: plan.settings,
    services: plan.services.map((service) => {
      const needed = uniqueSorted(plan.seams.filter((s) => s.from === service.name).map((s) => s.to));
      const owns = derivedOwner ? service.owns.filter((entity) => derivedOwner(entity) !== service.name) : [...service.owns];
      return {
        name: service.name,
        modules: [...service.modules],
        ...(owns.length > 0 ? { owns } : {}),
        ...(sameList(service.dependsOn, needed) ? {} : { dependsOn: [...service.dependsOn] }),
        replicas: { ...service.replicas },
      };
    }),
    sharedLibraries: plan.sharedLibraries.map((library) => ({ name: library.name, modules: [...library.modules] })),
    entrypoints: [...plan.entrypoints],
    rationale: { ...plan.rationale },
  };
}

/** The same choices without any owned entity: building them shows which owner the code implies for each. */
export function withoutOwnership(choices: PlanChoices): PlanChoices {
  return { ...choices, services: choices.services.map(({ owns: _owns, ...service }) => service) };
}

/** Renames a service everywhere it appears: its entry, other services' `dependsOn`, its modules' rationale. */
export function renameService(choices: PlanChoices, from: string, to: string): PlanChoices {
  const rename = (name: string) => (name === from ? to : name);
  return {
    ...choices,
    services: choices.services.map((service) => ({
      ...service,
      name: rename(service.name),
      ...(service.dependsOn ? { dependsOn: uniqueSorted(service.dependsOn.map(rename)) } : {}),
    })),
    rationale: mapValues(choices.rationale, (text) => (text.startsWith(`${from}: `) ? `${to}: ${text.slice(from.length + 2)}` : text)),
  };
}

/**
 * Merges services `a` and `b` into `survivor` (one of them, or a new name). The merged service owns what
 * either owned and may call what either could (other than itself); references to `a` and `b` in other
 * services' `dependsOn` point to the survivor. `current` (the plan before the merge) supplies the effective
 * `dependsOn` of a side that left it to the code when the other side has an explicit one.
 */
export function mergeServices(choices: PlanChoices, allModules: string[], a: string, b: string, survivor: string, current?: Plan): PlanChoices {
  const first = choices.services.find((s) => s.name === a);
  const second = choices.services.find((s) => s.name === b);
  if (!first || !second || a === b) throw new Error(`cannot merge ${a} and ${b}`);
  const merged = new Set([a, b, survivor]);
  const target = placementOf(choices, allModules);
  for (const [module, place] of target) if (place.kind === 'service' && (place.name === a || place.name === b)) target.set(module, { kind: 'service', name: survivor });

  const effective = (side: typeof first) => side.dependsOn ?? current?.services.find((s) => s.name === side.name)?.dependsOn ?? [];
  const dependsOn = first.dependsOn || second.dependsOn ? uniqueSorted([...effective(first), ...effective(second)].filter((d) => !merged.has(d))) : undefined;
  const owns = uniqueSorted([...(first.owns ?? []), ...(second.owns ?? [])]);
  const replicas = first.replicas || second.replicas ? mergeReplicas(first.replicas, second.replicas) : undefined;
  const redirect = (name: string) => (name === a || name === b ? survivor : name);

  const services: PlanChoices['services'] = [];
  for (const service of choices.services) {
    if (service.name === b) continue;
    if (service.name === a) {
      services.push({
        name: survivor,
        modules: service.modules,
        ...(owns.length > 0 ? { owns } : {}),
        ...(dependsOn ? { dependsOn } : {}),
        ...(replicas ? { replicas } : {}),
      });
      continue;
    }
    services.push(service.dependsOn ? { ...service, dependsOn: uniqueSorted(service.dependsOn.map(redirect).filter((d) => d !== service.name)) } : service);
  }
  const rationale = { ...choices.rationale };
  for (const [module, place] of placementOf(choices, allModules)) {
    if (place.kind !== 'service' || (place.name !== a && place.name !== b) || place.name === survivor) continue;
    rationale[module] = `${survivor}: merged from ${place.name} in review${reasonOf(rationale[module], place.name)}`;
  }
  return settle({ ...choices, services, rationale }, target, allModules, new Set([key('service', survivor)]));
}

/**
 * Moves modules to another service or shared library, creating it when it does not exist yet. A service or
 * library left without modules is removed (and other services' `dependsOn` forget it). The rationale of a
 * moved module says it was moved in review.
 */
export function moveModules(choices: PlanChoices, allModules: string[], modules: string[], to: Destination): PlanChoices {
  const target = placementOf(choices, allModules);
  const touched = new Set([key(to.kind, to.name)]);
  const rationale = { ...choices.rationale };
  for (const module of modules) {
    const place = target.get(module);
    if (place?.kind === 'service' || place?.kind === 'shared') touched.add(key(place.kind, place.name));
    target.set(module, { kind: to.kind, name: to.name });
    rationale[module] = `${to.kind === 'service' ? to.name : `shared library ${to.name}`}: moved here in review`;
  }
  const occupied = new Set([...target.values()].map((p) => (p.kind === 'entry' ? 'entry' : key(p.kind, p.name))));
  const emptied = new Set([...touched].filter((k) => !occupied.has(k)));
  const removedServices = new Set(choices.services.filter((s) => emptied.has(key('service', s.name))).map((s) => s.name));

  const services = choices.services
    .filter((s) => !removedServices.has(s.name))
    .map((s) => (s.dependsOn && s.dependsOn.some((d) => removedServices.has(d)) ? { ...s, dependsOn: s.dependsOn.filter((d) => !removedServices.has(d)) } : s));
  if (to.kind === 'service' && !services.some((s) => s.name === to.name)) services.push({ name: to.name, modules: [] });
  const sharedLibraries = choices.sharedLibraries.filter((l) => !emptied.has(key('shared', l.name)));
  if (to.kind === 'shared' && !sharedLibraries.some((l) => l.name === to.name)) sharedLibraries.push({ name: to.name, modules: [] });
  return settle({ ...choices, services, sharedLibraries, rationale }, target, allModules, touched);
}

/**
 * Gives the changed services and libraries module lists that produce `target` (folder globs where a whole
 * folder is theirs, the plan builder's own compression); the others keep their patterns as written. Should an
 * untouched pattern now claim a module meant elsewhere, every entry gets its exact list instead.
 */
function settle(choices: PlanChoices, target: Map<string, Place>, allModules: string[], touched: Set<string>): PlanChoices {
  const members = new Map<string, string[]>();
  for (const [module, place] of target) {
    if (place.kind === 'entry') continue;
    const k = key(place.kind, place.name);
    members.set(k, [...(members.get(k) ?? []), module]);
  }
  const exact = (kind: 'service' | 'shared', name: string) => compressModules((members.get(key(kind, name)) ?? []).sort(compareStrings), allModules);
  const rewrite = (all: boolean): PlanChoices => ({
    ...choices,
    services: choices.services.map((s) => (all || touched.has(key('service', s.name)) ? { ...s, modules: exact('service', s.name) } : s)),
    sharedLibraries: choices.sharedLibraries.map((l) => (all || touched.has(key('shared', l.name)) ? { ...l, modules: exact('shared', l.name) } : l)),
  });
  const partial = rewrite(false);
  return samePlacement(placementOf(partial, allModules), target) ? partial : rewrite(true);
}

function samePlacement(a: Map<string, Place>, b: Map<string, Place>): boolean {
  if (a.size !== b.size) return false;
  for (const [module, place] of a) {
    const other = b.get(module);
    if (!other || other.kind !== place.kind || (place.kind !== 'entry' && other.kind !== 'entry' && place.name !== other.name)) return false;
  }
  return true;
}

function mergeReplicas(a: { min: number; max: number } | undefined, b: { min: number; max: number } | undefined): { min: number; max: number } {
  const sides = [a, b].filter((r): r is { min: number; max: number } => r !== undefined);
  return { min: Math.max(...sides.map((r) => r.min)), max: Math.max(...sides.map((r) => r.max)) };
}

/** The reasons of a rationale line without its "<service>: " prefix, as a "; …" suffix. */
function reasonOf(text: string | undefined, name: string): string {
  if (!text) return '';
  const reason = text.startsWith(`${name}: `) ? text.slice(name.length + 2) : text;
  return reason ? `; was: ${reason}` : '';
}

function key(kind: 'service' | 'shared', name: string): string {
  return `${kind}:${name}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  const x = uniqueSorted(a);
  const y = uniqueSorted(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function mapValues(record: Record<string, string>, fn: (value: string) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}

// ---------------------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------------------

const WIDTH = 80;

/** The proposal in a few lines that fit 80 columns: one row per service, the libraries, the key metrics. */
export function formatProposal(built: BuiltPlan, color: ChalkInstance): string {
  const { plan } = built;
  const count = countModules(built);
  const lines: string[] = [];
  const entries = [...built.assignment.values()].filter((p) => p.kind === 'entry').length;
  lines.push(
    color.bold(
      `${plan.project}: ${plural(plan.services.length, 'service')}, ${plural(plan.sharedLibraries.length, 'shared library', 'shared libraries')}, ${plural(entries, 'entry module')}`,
    ),
  );
  lines.push(color.dim(`  ${pad('service', 18)}${padStart('modules', 7)}${padStart('routes', 7)}${padStart('LOC', 7)}  owns`));
  const ownsWidth = WIDTH - (2 + 18 + 7 + 7 + 7 + 2);
  for (const service of plan.services) {
    lines.push(
      `  ${pad(service.name, 18)}${padStart(String(count.get(key('service', service.name)) ?? 0), 7)}${padStart(String(service.routes.length), 7)}${padStart(String(service.loc), 7)}  ${truncate(service.owns.join(', ') || '—', ownsWidth)}`,
    );
  }
  if (plan.sharedLibraries.length > 0) {
    const libraries = plan.sharedLibraries.map((l) => `${l.name} (${count.get(key('shared', l.name)) ?? 0})`).join(', ');
    lines.push(...wrap(`shared libraries: ${libraries}`, WIDTH - 2).map((l, i) => `  ${i > 0 ? '  ' : ''}${l}`));
  }
  if (built.unassigned.length > 0) lines.push(color.yellow(`  ${plural(built.unassigned.length, 'module')} in no service or library`));
  lines.push(`  ${REVIEW_METRICS.map((m) => `${m.label} ${m.better === 'higher' ? '↑' : '↓'} ${formatNumber(plan.metrics[m.key])}`).join('   ')}`);
  lines.push(color.dim('  (↑ higher is better, ↓ lower is better)'));
  return lines.join('\n');
}

/** The what-if of a change: each key metric before → after, green when it improves, red when it worsens. */
export function formatDeltas(before: Plan, after: Plan, color: ChalkInstance): string {
  const lines = [color.bold('  If you confirm:')];
  for (const delta of metricDeltas(before.metrics, after.metrics)) {
    const goal = delta.better === 'higher' ? '↑' : '↓';
    const moved = delta.after > delta.before ? '↑' : delta.after < delta.before ? '↓' : '=';
    const verdict = delta.change === 'same' ? 'no change' : `${moved} ${delta.change}`;
    const paint = delta.change === 'better' ? color.green : delta.change === 'worse' ? color.red : color.dim;
    lines.push(`    ${pad(`${delta.label} ${goal}`, 24)}${padStart(formatNumber(delta.before), 8)} → ${pad(formatNumber(delta.after), 8)} ${paint(verdict)}`);
  }
  if (before.services.length !== after.services.length) lines.push(`    ${pad('services', 24)}${padStart(String(before.services.length), 8)} → ${after.services.length}`);
  const gone = before.services.filter((s) => !after.services.some((t) => t.name === s.name)).map((s) => s.name);
  const gained = after.services.filter((s) => !before.services.some((t) => t.name === s.name)).map((s) => s.name);
  if (gained.length > 0) lines.push(`    new service: ${gained.join(', ')}`);
  if (gone.length > 0) lines.push(`    no longer a service: ${gone.join(', ')}`);
  const libsGone = before.sharedLibraries.filter((l) => !after.sharedLibraries.some((t) => t.name === l.name)).map((l) => l.name);
  if (libsGone.length > 0) lines.push(`    shared library left empty and removed: ${libsGone.join(', ')}`);
  return lines.join('\n');
}

/** One service or library in detail: modules with their LOC and the rationale for each. */
export function formatDetails(built: BuiltPlan, analysis: Analysis, kind: 'service' | 'shared', name: string, color: ChalkInstance): string {
  const { plan } = built;
  const modules = [...built.assignment].filter(([, p]) => p.kind === kind && p.name === name).map(([m]) => m).sort(compareStrings);
  const loc = new Map(analysis.modules.map((m) => [m.path, m.loc]));
  const lines: string[] = [];
  if (kind === 'service') {
    const service = plan.services.find((s) => s.name === name);
    lines.push(color.bold(`${name}: ${plural(modules.length, 'module')}, ${plural(service?.routes.length ?? 0, 'route')}, ${service?.loc ?? 0} LOC`));
    lines.push(...wrap(`owns: ${service?.owns.join(', ') || '—'}`, WIDTH - 2).map((l) => `  ${l}`));
    lines.push(...wrap(`calls: ${service?.dependsOn.join(', ') || '—'}`, WIDTH - 2).map((l) => `  ${l}`));
  } else {
    lines.push(color.bold(`shared library ${name}: ${plural(modules.length, 'module')}`));
  }
  const prefix = kind === 'service' ? `${name}: ` : `shared library ${name}: `;
  for (const module of modules) {
    lines.push(`  ${module}${color.dim(` (${loc.get(module) ?? 0} LOC)`)}`);
    const text = plan.rationale[module];
    if (text) lines.push(...wrap(text.startsWith(prefix) ? text.slice(prefix.length) : text, WIDTH - 6).map((l) => color.dim(`      ${l}`)));
  }
  return lines.join('\n');
}

function countModules(built: BuiltPlan): Map<string, number> {
  const count = new Map<string, number>();
  for (const place of built.assignment.values()) {
    if (place.kind === 'entry') continue;
    const k = key(place.kind, place.name);
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  return count;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text.slice(0, width - 2)}… ` : text + ' '.repeat(width - text.length);
}

function padStart(text: string, width: number): string {
  return text.length >= width ? ` ${text}` : ' '.repeat(width - text.length) + text;
}

function truncate(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** Word-wraps at spaces; a word longer than the width gets a line of its own. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

// ---------------------------------------------------------------------------------------------------------
// The conversation
// ---------------------------------------------------------------------------------------------------------

type Action = 'accept' | 'rename' | 'merge' | 'move' | 'show' | 'quit';

/** Above this many modules, a move asks for a filter before listing them (the checkbox prompt cannot search). */
const FILTER_ABOVE = 15;
const PAGE_SIZE = 15;

/**
 * Interactive review of a proposed plan: shows it, lets the user rename, merge and move modules (with the
 * effect of each merge or move on the key metrics shown before it is confirmed), and returns the changed
 * choices on accept, or null when nothing changed. Quitting, or Ctrl-C at any prompt, throws DEC-056
 * before anything is written.
 */
export async function reviewPlanInteractively(
  built: BuiltPlan,
  analysis: Analysis,
  rebuild: (choices: PlanChoices) => BuiltPlan,
  output: Output,
): Promise<PlanChoices | null> {
  try {
    return await converse(built, analysis, rebuild, output);
  } catch (error) {
    if (isPromptExit(error)) {
      output.info('');
      throw cancelled();
    }
    throw error;
  }
}

async function converse(
  built: BuiltPlan,
  analysis: Analysis,
  rebuild: (choices: PlanChoices) => BuiltPlan,
  output: Output,
): Promise<PlanChoices | null> {
  const { color } = output;
  const allModules = analysis.modules.map((m) => m.path);
  const ui = prompts(output);
  const derived = rebuild(withoutOwnership(initialChoices(built)));
  const derivedOwners = new Map(derived.plan.services.flatMap((s) => s.owns.map((entity) => [entity, s.name] as const)));
  let choices = initialChoices(built, (entity) => derivedOwners.get(entity));
  let current = built;
  let changes = 0;

  output.info('');
  output.info(formatProposal(current, color));
  for (;;) {
    output.info('');
    const action = await ui.select<Action>({
      message: changes > 0 ? `What next? (${plural(changes, 'change')} so far)` : 'What would you like to do with this plan?',
      choices: [
        { name: 'Accept the plan', value: 'accept', description: 'write decompose.plan.yaml, PLAN.md and plan.html' },
        { name: 'Rename a service', value: 'rename' },
        { name: 'Merge two services', value: 'merge' },
        { name: 'Move modules to another service or a shared library', value: 'move' },
        { name: "Show a service's modules and rationale", value: 'show' },
        { name: 'Quit without writing', value: 'quit' },
      ],
    });
    const services = current.plan.services.map((s) => s.name);
    const taken = [...services, ...current.plan.sharedLibraries.map((l) => l.name)];

    if (action === 'accept') return changes > 0 ? choices : null;

    if (action === 'quit') {
      if (changes === 0 || (await ui.confirm({ message: `Discard ${plural(changes, 'change')} and quit?`, default: false }))) throw cancelled();
      continue;
    }

    if (action === 'show') {
      const picked = await ui.select<string>({
        message: 'Show which one?',
        choices: [
          ...services.map((name) => ({ name, value: `service:${name}` })),
          ...current.plan.sharedLibraries.map((l) => ({ name: `${l.name} (shared library)`, value: `shared:${l.name}` })),
        ],
        pageSize: PAGE_SIZE,
      });
      const [kind, name] = splitKey(picked);
      output.info(formatDetails(current, analysis, kind, name, color));
      continue;
    }

    if (action === 'rename') {
      const from = await ui.select<string>({ message: 'Rename which service?', choices: services.map((name) => ({ name, value: name })), pageSize: PAGE_SIZE });
      const to = await askName(ui, `New name for ${from}:`, taken.filter((n) => n !== from), from);
      if (to === from) {
        output.info(color.dim('  Same name: nothing changed.'));
        continue;
      }
      choices = renameService(choices, from, to);
      current = rebuild(choices);
      changes++;
      output.info(color.green(`  Renamed ${from} → ${to}.`));
      output.info(formatProposal(current, color));
      continue;
    }

    if (action === 'merge') {
      if (services.length < 2) {
        output.info('  There is only one service.');
        continue;
      }
      const a = await ui.select<string>({ message: 'Merge which service…', choices: services.map((name) => ({ name, value: name })), pageSize: PAGE_SIZE });
      const b = await ui.select<string>({
        message: `…with which one?`,
        choices: services.filter((n) => n !== a).map((name) => ({ name, value: name })),
        pageSize: PAGE_SIZE,
      });
      const NEW = '\0new';
      const survivorPick = await ui.select<string>({
        message: 'Name of the merged service:',
        choices: [
          { name: a, value: a },
          { name: b, value: b },
          { name: 'a new name…', value: NEW },
        ],
      });
      const survivor = survivorPick === NEW ? await askName(ui, 'Name of the merged service:', taken.filter((n) => n !== a && n !== b)) : survivorPick;
      const tentative = mergeServices(choices, allModules, a, b, survivor, current.plan);
      await whatIf(`Merge ${a} and ${b} into ${survivor}`, tentative, `Merged ${a} and ${b} into ${survivor}.`);
      continue;
    }

    // move
    const source = await ui.select<string>({
      message: 'Move modules from:',
      choices: [
        ...services.map((name) => ({ name, value: key('service', name) })),
        ...current.plan.sharedLibraries.map((l) => ({ name: `${l.name} (shared library)`, value: key('shared', l.name) })),
      ],
      pageSize: PAGE_SIZE,
    });
    const [sourceKind, sourceName] = splitKey(source);
    const available = [...current.assignment].filter(([, p]) => p.kind === sourceKind && p.name === sourceName).map(([m]) => m).sort(compareStrings);
    if (available.length === 0) {
      output.info('  It has no modules.');
      continue;
    }
    let listed = available;
    if (available.length > FILTER_ABOVE) {
      const filter = await ui.input({ message: `Filter ${available.length} modules (part of the path; empty for all):` });
      const matching = available.filter((m) => m.toLowerCase().includes(filter.trim().toLowerCase()));
      if (matching.length === 0) {
        output.info(`  No module of ${sourceName} matches "${filter.trim()}".`);
        continue;
      }
      listed = matching;
    }
    const loc = new Map(analysis.modules.map((m) => [m.path, m.loc]));
    const modules = await ui.checkbox<string>({
      message: 'Which modules? (space to select, enter to confirm)',
      choices: listed.map((m) => ({ name: `${m}${color.dim(` (${loc.get(m) ?? 0} LOC)`)}`, value: m, short: m })),
      pageSize: PAGE_SIZE,
      required: true,
    });
    const NEW_SERVICE = '\0new-service';
    const NEW_LIBRARY = '\0new-library';
    const destination = await ui.select<string>({
      message: `Move ${plural(modules.length, 'module')} to:`,
      choices: [
        ...services.filter((n) => !(sourceKind === 'service' && n === sourceName)).map((name) => ({ name, value: key('service', name) })),
        { name: 'a new service…', value: NEW_SERVICE },
        ...current.plan.sharedLibraries
          .filter((l) => !(sourceKind === 'shared' && l.name === sourceName))
          .map((l) => ({ name: `${l.name} (shared library)`, value: key('shared', l.name) })),
        { name: 'a new shared library…', value: NEW_LIBRARY },
      ],
      pageSize: PAGE_SIZE,
    });
    let to: Destination;
    if (destination === NEW_SERVICE) to = { kind: 'service', name: await askName(ui, 'Name of the new service:', taken) };
    else if (destination === NEW_LIBRARY) to = { kind: 'shared', name: await askName(ui, 'Name of the new shared library:', taken) };
    else {
      const [kind, name] = splitKey(destination);
      to = { kind, name };
    }
    const tentative = moveModules(choices, allModules, modules, to);
    const where = to.kind === 'service' ? to.name : `shared library ${to.name}`;
    await whatIf(`Move ${plural(modules.length, 'module')} from ${sourceName} to ${where}`, tentative, `Moved ${plural(modules.length, 'module')} to ${where}.`);
  }

  /** Shows what a change would do to the metrics, asks to confirm, and applies it if confirmed. */
  async function whatIf(question: string, tentative: PlanChoices, done: string): Promise<boolean> {
    output.progress(color.dim('  Measuring the change…'));
    const next = rebuild(tentative);
    output.info(formatDeltas(current.plan, next.plan, color));
    if (!(await ui.confirm({ message: `${question}?`, default: false }))) {
      output.info(color.dim('  Not changed.'));
      return false;
    }
    choices = tentative;
    current = next;
    changes++;
    output.info(color.green(`  ${done}`));
    output.info(formatProposal(current, color));
    return true;
  }
}

async function askName(ui: Prompts, message: string, taken: string[], initial?: string): Promise<string> {
  const answer = await ui.input({
    message,
    ...(initial ? { default: initial } : {}),
    validate: (value) => nameProblem(value.trim(), taken) ?? true,
  });
  return answer.trim();
}

function splitKey(value: string): ['service' | 'shared', string] {
  const at = value.indexOf(':');
  const kind = value.slice(0, at);
  return [kind === 'shared' ? 'shared' : 'service', value.slice(at + 1)];
}

function cancelled(): UserError {
  return new UserError('DEC-056', 'review cancelled: nothing written', {
    hint: 'Run `decompose plan` again to review, or `decompose plan --yes` to write the proposal as it is.',
    exitCode: 2,
  });
}

/** Inquirer rejects with ExitPromptError on Ctrl-C (or when the process is told to end) during a prompt. */
function isPromptExit(error: unknown): boolean {
  return error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError');
}

interface Prompts {
  select<T>(config: { message: string; choices: Array<{ name: string; value: T; description?: string }>; pageSize?: number }): Promise<T>;
  checkbox<T>(config: { message: string; choices: Array<{ name: string; value: T; short?: string }>; pageSize?: number; required?: boolean }): Promise<T[]>;
  input(config: { message: string; default?: string; validate?: (value: string) => true | string }): Promise<string>;
  confirm(config: { message: string; default?: boolean }): Promise<boolean>;
}

/** The prompts, writing where the command's human output goes and coloured (or not) like it. */
function prompts(output: Output): Prompts {
  const { color } = output;
  const context = { output: output.json ? process.stderr : process.stdout };
  const theme = promptTheme(color);
  return {
    select: (config) => select({ ...config, loop: false, theme }, context),
    checkbox: (config) =>
      checkbox({ ...config, loop: false, theme: { ...theme, icon: { checked: color.green('◉'), unchecked: '◯', cursor: '❯' } } }, context),
    input: (config) => input({ ...config, theme }, context),
    confirm: (config) => confirm({ ...config, theme }, context),
  };
}
