import fs from 'node:fs';
import path from 'node:path';
import { Option } from 'commander';
import { METRICS, formatNumber } from '../report/plan-markdown.js';
import { computeMetrics, roundHalfEven, roundMetrics, type DecompositionMetrics, type WeightedCall } from '../plan/metrics.js';
import { compareMoJo } from '../plan/mojo.js';
import { compareStrings, stableJson } from '../util/compare.js';
import { ExitCode, UserError, type SourcePosition } from '../util/errors.js';
import { describeJsonError } from '../util/json-error.js';
import type { CommandRegistry } from './main.js';

/**
 * `decompose metrics`: BCP, ICP, SM, IFN and NED for a partition in the Mono2Micro dataset format, and optionally its
 * MoJoFM against an expected partition. The files are read here; everything after reading is the pure
 * `computeDatasetMetrics`, which the tests call directly.
 *
 * Error codes: DEC-040 unreadable file, DEC-041 invalid JSON, DEC-042 bad call volume, DEC-043 bad partition,
 * DEC-044 bad use cases, DEC-045 called units missing from the partition, DEC-046 empty partition,
 * DEC-047 partition and expected partition share no unit. All exit with 2.
 */

/** One input file: the name to show the user and its text. */
export interface DatasetFile {
  name: string;
  text: string;
}

export interface DatasetFiles {
  /** `{"Caller--Callee": count}` (runtime_call_volume.json). */
  calls: DatasetFile;
  /** `{unit: serviceId}` (vertical_cluster_assignment_K.json); ids may be strings or numbers. */
  partition: DatasetFile;
  /** `{unit: [use case, …]}` (bcs_per_class.json); without it BCP is not computed. */
  useCases?: DatasetFile;
  /** An expected partition in the same format as `partition`, for MoJoFM. */
  expected?: DatasetFile;
  /** Entry-point unit excluded from ICP and IFN (default `Root`, compared case-insensitively). */
  root?: string;
}

export interface DatasetMoJo {
  /** Name of the expected partition's file. */
  expected: string;
  /** MoJoFM(partition, expected) in 0..100, rounded to 3 decimals. */
  mojoFm: number;
  /** mno(partition, expected): moves and joins that turn the partition into the expected one. */
  mno: number;
  /** The largest mno any partition of these units can have to the expected one (the MoJoFM denominator). */
  maxMno: number;
  /** Units compared: those in both partitions. */
  commonUnits: number;
  onlyInPartition: string[];
  onlyInExpected: string[];
}

export interface DatasetMetrics {
  partition: string;
  units: number;
  services: number;
  /** Rounded to 3 decimals as the Mono2Micro script does; `icp` is +Infinity when no call counts for it. */
  metrics: DecompositionMetrics;
  mojo: DatasetMoJo | null;
}

const CODES = {
  unreadable: 'DEC-040',
  invalidJson: 'DEC-041',
  badCalls: 'DEC-042',
  badPartition: 'DEC-043',
  badUseCases: 'DEC-044',
  missingUnits: 'DEC-045',
  emptyPartition: 'DEC-046',
  noCommonUnits: 'DEC-047',
} as const;

/** How many individual problems a message lists before summarising the rest. */
const MAX_LISTED = 20;

/**
 * Computes the Mono2Micro metrics (and MoJoFM against `expected`, when given) from the texts of the dataset files.
 * Pure: no IO. Every problem with the input is a `UserError` (DEC-04x) naming the file.
 */
export function computeDatasetMetrics(files: DatasetFiles): DatasetMetrics {
  const calls = parseCalls(files.calls);
  const partition = parsePartition(files.partition);
  const useCases = files.useCases ? parseUseCases(files.useCases) : undefined;
  const expected = files.expected ? parsePartition(files.expected) : undefined;
  const root = files.root ?? 'Root';

  const units = Object.keys(partition).length;
  if (units === 0) {
    throw new UserError(CODES.emptyPartition, `${files.partition.name}: the partition is empty`, {
      position: { file: files.partition.name },
      hint: 'Give a partition that assigns at least one unit to a service: {"ClassName": 0, …}.',
    });
  }

  let metrics: DecompositionMetrics;
  try {
    metrics = computeMetrics({ calls, partition, useCases, root });
  } catch (error) {
    const missing = unitsMissingFromPartition(calls, partition, root);
    if (missing.length === 0) throw error; // not an input problem: a bug, keep the stack
    throw new UserError(
      CODES.missingUnits,
      `${files.partition.name}: ${missing.length} unit${missing.length === 1 ? ' is' : 's are'} called in ${files.calls.name} but missing from the partition: ${listed(missing)}`,
      {
        position: { file: files.partition.name },
        hint: `Assign every called unit to a service; if the entry point is not named "${root}", name it with --root.`,
      },
    );
  }

  let mojo: DatasetMoJo | null = null;
  if (expected && files.expected) {
    const comparison = compareMoJo(partition, expected);
    if (comparison.mojoFm === null) {
      throw new UserError(CODES.noCommonUnits, `${files.expected.name}: shares no unit with ${files.partition.name}; MoJoFM is undefined`, {
        position: { file: files.expected.name },
        hint: 'Both partitions must name the same units (class names) as keys.',
      });
    }
    mojo = {
      expected: files.expected.name,
      mojoFm: roundHalfEven(comparison.mojoFm, 3),
      mno: comparison.mno,
      maxMno: comparison.maxMno,
      commonUnits: comparison.objects,
      onlyInPartition: comparison.onlyInA,
      onlyInExpected: comparison.onlyInB,
    };
  }

  return {
    partition: files.partition.name,
    units,
    services: new Set(Object.values(partition)).size,
    metrics: roundMetrics(metrics),
    mojo,
  };
}

/** Reads the dataset files named on the command line, relative to `cwd`, keeping the names as typed. */
export function readDatasetFiles(
  paths: { calls: string; partition: string; useCases?: string; expected?: string },
  cwd: string,
): Omit<DatasetFiles, 'root'> {
  const read = (name: string): DatasetFile => ({ name, text: readText(name, cwd) });
  return {
    calls: read(paths.calls),
    partition: read(paths.partition),
    useCases: paths.useCases === undefined ? undefined : read(paths.useCases),
    expected: paths.expected === undefined ? undefined : read(paths.expected),
  };
}

const METRIC_ROWS: Array<{ key: keyof DecompositionMetrics; label: string; better: 'lower' | 'higher'; meaning: string }> = [
  { key: 'bcp', label: 'BCP', better: 'lower', meaning: 'business context purity' },
  { key: 'icp', label: 'ICP', better: 'lower', meaning: 'inter-call percentage' },
  { key: 'sm', label: 'SM', better: 'higher', meaning: 'structural modularity' },
  { key: 'ifn', label: 'IFN', better: 'lower', meaning: 'interface number' },
  { key: 'ned', label: 'NED', better: 'lower', meaning: 'non-extreme distribution (5..20 units)' },
];

/** The table for people: one row per metric with its value (3 decimals) and which direction is better. */
export function formatMetricsTable(result: DatasetMetrics): string {
  const rows: string[][] = [['metric', 'value', 'better', '']];
  for (const { key, label, better, meaning } of METRIC_ROWS) {
    const value = result.metrics[key];
    if (value === null) rows.push([label, '-', better, `${meaning} (needs --use-cases)`]);
    else if (!Number.isFinite(value)) rows.push([label, 'n/a', better, `${meaning} (no call between two partitioned units)`]);
    else rows.push([label, value.toFixed(3), better, meaning]);
  }
  if (result.mojo) {
    const m = result.mojo;
    rows.push(['MoJoFM', m.mojoFm.toFixed(3), 'higher', `against ${m.expected} (mno ${m.mno} of at most ${m.maxMno})`]);
  }
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) =>
    `  ${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padStart(widths[1]!)}  ${r[2]!.padEnd(widths[2]!)}  ${r[3]}`.trimEnd(),
  );
  const header = `${result.partition}: ${result.services} service${result.services === 1 ? '' : 's'}, ${result.units} unit${result.units === 1 ? '' : 's'}`;
  return [header, '', ...lines].join('\n');
}

/** The --json document: stable key order, non-finite values (an undefined ICP) as null. */
export function serializeDatasetMetrics(result: DatasetMetrics): string {
  const finite = (x: number | null): number | null => (x !== null && Number.isFinite(x) ? x : null);
  return stableJson({
    partition: result.partition,
    units: result.units,
    services: result.services,
    metrics: {
      bcp: finite(result.metrics.bcp),
      icp: finite(result.metrics.icp),
      sm: finite(result.metrics.sm),
      ifn: finite(result.metrics.ifn),
      ned: finite(result.metrics.ned),
    },
    mojo: result.mojo,
  });
}

interface MetricsFlags {
  calls: string;
  partition: string;
  useCases?: string;
  expected?: string;
  root: string;
  plan?: string;
}

/** The plan's metrics recomputed from the code as it is now (the plan's choices, today's imports). */
async function planMetricsNow(dir: string, planFile: string) {
  const { analyze } = await import('../analyze/analyze.js');
  const { choicesFromPlan } = await import('../app/run-plan.js');
  const { buildPlan } = await import('../plan/build-plan.js');
  const { parsePlanFor } = await import('../app/plan-input.js');
  let text: string;
  try {
    text = fs.readFileSync(planFile, 'utf8');
  } catch {
    throw new UserError('DEC-040', `${planFile}: no such plan`, { position: { file: planFile } });
  }
  const analysis = await analyze({ dir });
  const parsed = parsePlanFor(text, planFile, analysis);
  return buildPlan(analysis, choicesFromPlan(parsed, parsed.settings), { keepModuleLists: true });
}

export function registerMetrics({ program, action }: CommandRegistry): void {
  const command = program
    .command('metrics [dir]')
    .description('compute BCP, ICP, SM, IFN and NED for a partition (Mono2Micro dataset format), and MoJoFM against an expected one')
    .option('--calls <file>', 'runtime call volume: {"Caller--Callee": count}')
    .option('--partition <file>', 'the partition to measure: {"Unit": serviceId}')
    .option('--plan <file>', 'measure a decompose plan instead: the same metrics `decompose plan` prints, from the current code in [dir]')
    .option('--use-cases <file>', 'use cases per unit: {"Unit": ["use case", …]}; needed for BCP')
    .option('--expected <file>', 'an expected partition in the same format: prints MoJoFM(partition, expected)')
    .addOption(new Option('--root <name>', 'entry-point unit left out of ICP and IFN (case-insensitive)').default('Root'))
    .addHelpText(
      'after',
      `
Metrics are computed as the Mono2Micro evaluation script does (Kalia et al., FSE 2021) and rounded to 3 decimals:
BCP business context purity (lower is better), ICP inter-call percentage (lower), SM structural modularity (higher),
IFN interface number (lower), NED non-extreme distribution (lower). MoJoFM (Wen & Tzerpos 2004) is 100 when the
partition equals the expected one and 0 when it is as far from it as any partition can be; units present in only one
of the two partitions are left out of it.

Examples:
  $ decompose metrics --calls runtime_call_volume.json --partition vertical_cluster_assignment_5.json
  $ decompose metrics --calls runtime_call_volume.json --partition vertical_cluster_assignment_5.json \\
      --use-cases bcs_per_class.json --expected vertical_cluster_assignment_7.json
  $ decompose metrics --calls calls.json --partition mine.json --root Main --json | jq .metrics.icp
  $ decompose metrics --plan decompose.plan.yaml     a plan of the monolith in the current folder

Exit codes: 0 computed, 2 bad input (missing file, invalid JSON, a malformed partition, called units missing from it).
`,
    );
  action(command, async (args, output, globals) => {
    const flags = command.opts<MetricsFlags>();
    const cwd = path.resolve(globals.cwd ?? process.cwd());
    if (flags.plan) {
      const [dirArg] = args as [string | undefined];
      const { plan } = await planMetricsNow(path.resolve(cwd, dirArg ?? '.'), path.resolve(cwd, flags.plan));
      if (output.json) output.data(stableJson(plan.metrics));
      else output.info(METRICS.map((m) => `${m.label.padEnd(32)} ${formatNumber((plan.metrics as unknown as Record<string, number | null>)[m.key] ?? null).padStart(8)}  ${m.better ? `${m.better} is better` : ''}`).join('\n'));
      return ExitCode.ok;
    }
    if (!flags.calls || !flags.partition) {
      throw new UserError('DEC-048', 'metrics needs --calls and --partition (Mono2Micro format), or --plan FILE', { hint: 'See `decompose metrics --help` for examples.' });
    }
    const files = readDatasetFiles(
      { calls: flags.calls, partition: flags.partition, useCases: flags.useCases, expected: flags.expected },
      cwd,
    );
    const result = computeDatasetMetrics({ ...files, root: flags.root });
    const m = result.mojo;
    if (m && m.onlyInPartition.length > 0) {
      output.warn(`${m.onlyInPartition.length} unit(s) only in ${result.partition}, left out of MoJoFM: ${listed(m.onlyInPartition)}`);
    }
    if (m && m.onlyInExpected.length > 0) {
      output.warn(`${m.onlyInExpected.length} unit(s) only in ${m.expected}, left out of MoJoFM: ${listed(m.onlyInExpected)}`);
    }
    if (!Number.isFinite(result.metrics.icp)) {
      output.warn(`no call between two partitioned units (other than ${flags.root} and self-calls): ICP is undefined`);
    }
    if (output.json) output.data(serializeDatasetMetrics(result));
    else output.info(formatMetricsTable(result));
    return ExitCode.ok;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Reading and validating the files
// ---------------------------------------------------------------------------------------------------------

function readText(name: string, cwd: string): string {
  const absolute = path.resolve(cwd, name);
  try {
    return fs.readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot read it (${code ?? String(error)})`;
    throw new UserError(CODES.unreadable, `${name}: ${why}`, { position: { file: name } });
  }
}

function parseJson(file: DatasetFile): unknown {
  try {
    return JSON.parse(file.text);
  } catch (error) {
    // One line whatever the parser quotes back (it can quote text with line breaks).
    const { message, line, column } = describeJsonError(file.text, error);
    const position: SourcePosition = line === undefined ? { file: file.name } : { file: file.name, line, column };
    const where = position.line === undefined ? file.name : `${file.name}:${position.line}:${position.column}`;
    throw new UserError(CODES.invalidJson, `${where}: not valid JSON: ${message}`, { position });
  }
}

/** Line and column (1-based) of the "at position N" that V8 puts in JSON syntax errors, when it does. */

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Throws one error carrying every problem found (the first in the message, the others as details). */
function failWithProblems(code: string, file: DatasetFile, what: string, problems: string[], hint: string): never {
  const shown = problems.slice(0, MAX_LISTED);
  if (problems.length > MAX_LISTED) shown.push(`… and ${problems.length - MAX_LISTED} more`);
  throw new UserError(code, `${file.name}: not ${what}: ${shown[0]}`, { position: { file: file.name }, details: shown.slice(1), hint });
}

function parsePartition(file: DatasetFile): Record<string, string> {
  const value = parseJson(file);
  const hint = 'A partition maps each unit to its service: {"BookingService": 0, "FlightService": "flights", …}.';
  if (!isPlainObject(value)) failWithProblems(CODES.badPartition, file, 'a partition', [`the file holds ${describeValue(value)}, not an object`], hint);
  const partition: Record<string, string> = {};
  const problems: string[] = [];
  for (const [unit, service] of Object.entries(value)) {
    if (typeof service === 'string' || (typeof service === 'number' && Number.isFinite(service))) partition[unit] = String(service);
    else problems.push(`${JSON.stringify(unit)} has ${describeValue(service)} as its service; expected a string or a number`);
  }
  if (problems.length > 0) failWithProblems(CODES.badPartition, file, 'a partition', problems, hint);
  return partition;
}

function parseCalls(file: DatasetFile): WeightedCall[] {
  const value = parseJson(file);
  const hint = 'The call volume maps "Caller--Callee" to how often the call was observed: {"Root--LoginREST": 4, …}.';
  if (!isPlainObject(value)) failWithProblems(CODES.badCalls, file, 'a call volume', [`the file holds ${describeValue(value)}, not an object`], hint);
  const calls: WeightedCall[] = [];
  const problems: string[] = [];
  for (const [pair, count] of Object.entries(value)) {
    const parts = pair.split('--');
    const names = parts.length === 2 && parts[0] !== '' && parts[1] !== '';
    const number = typeof count === 'number' && Number.isFinite(count) && count > 0;
    if (!names) problems.push(`${JSON.stringify(pair)} is not of the form "Caller--Callee"`);
    if (!number) problems.push(`${JSON.stringify(pair)} has ${describeValue(count)} as its count; expected a positive number`);
    if (names && number) calls.push({ caller: parts[0]!, callee: parts[1]!, count });
  }
  if (problems.length > 0) failWithProblems(CODES.badCalls, file, 'a call volume', problems, hint);
  return calls;
}

function parseUseCases(file: DatasetFile): Record<string, string[]> {
  const value = parseJson(file);
  const hint = 'Use cases map each unit to the business use cases that touch it: {"LoginREST": ["login", "logout"], …}.';
  if (!isPlainObject(value)) failWithProblems(CODES.badUseCases, file, 'a use-case map', [`the file holds ${describeValue(value)}, not an object`], hint);
  const useCases: Record<string, string[]> = {};
  const problems: string[] = [];
  for (const [unit, list] of Object.entries(value)) {
    if (Array.isArray(list) && list.every((u) => typeof u === 'string')) useCases[unit] = list as string[];
    else problems.push(`${JSON.stringify(unit)} has ${describeValue(list)}; expected a list of use-case names`);
  }
  if (problems.length > 0) failWithProblems(CODES.badUseCases, file, 'a use-case map', problems, hint);
  return useCases;
}

/**
 * The units `computeMetrics` needs in the partition and does not find there: both ends of every call that is neither
 * a root call nor a self-call (the calls ICP looks at).
 */
function unitsMissingFromPartition(calls: WeightedCall[], partition: Record<string, string>, root: string): string[] {
  const isRoot = (u: string): boolean => u.toLowerCase() === root.toLowerCase();
  const missing = new Set<string>();
  for (const { caller, callee } of calls) {
    if (isRoot(caller) || isRoot(callee) || caller === callee) continue;
    for (const unit of [caller, callee]) if (!Object.hasOwn(partition, unit)) missing.add(unit);
  }
  return [...missing].sort(compareStrings);
}

function listed(names: string[], max = 10): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, … (${names.length - max} more)` : shown;
}
