import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import type { FileChange } from '../model/file-change.js';
import { UserError } from '../util/errors.js';
import { describeJsonError } from '../util/json-error.js';
import { nearestName } from '../util/nearest.js';
import { writeOutput } from './write-output.js';

/*
 * The answers of the guided run (`decompose` with no command), from `decompose.config.json` or the `decompose`
 * key of package.json. Every answer is optional: what the file leaves out is asked (in a terminal) or takes its
 * default (--yes). The file is the team's: decompose reads it, and writes one only where none exists.
 */

export const CONFIG_FILE = 'decompose.config.json';

/** The scaffold targets the guided run lets you choose; `ci` is chosen through the CI provider ("none" drops it). */
export const ARTIFACTS = ['services', 'gateway', 'docker', 'k8s', 'observability'] as const;
export type Artifact = (typeof ARTIFACTS)[number];
export const CI_CHOICES = ['github', 'gitlab', 'none'] as const;
export type CiChoice = (typeof CI_CHOICES)[number];
/** Both gateways are always generated; this picks the one `decompose verify` starts locally (auto: nginx when installed). */
export const GATEWAY_KINDS = ['auto', 'node', 'nginx'] as const;
export type GatewayKind = (typeof GATEWAY_KINDS)[number];
/** What to do when decompose.plan.yaml exists: recompute it keeping the team's edits, or propose afresh over it. */
export const EXISTING_PLAN = ['refresh', 'replace'] as const;
export type ExistingPlanChoice = (typeof EXISTING_PLAN)[number];

const positiveInt = z.number().int().min(1);

const ConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  plan: z
    .strictObject({
      existing: z.enum(EXISTING_PLAN).optional(),
      services: positiveInt.optional(),
      minServices: positiveInt.optional(),
      maxServices: positiveInt.optional(),
      seed: z.number().int().optional(),
      resolution: z.number().positive().optional(),
      git: z.boolean().optional(),
      compare: z.boolean().optional(),
    })
    .optional(),
  scaffold: z
    .strictObject({
      targets: z.array(z.enum(ARTIFACTS)).min(1).optional(),
      ci: z.enum(CI_CHOICES).optional(),
      out: z.string().min(1).optional(),
      host: z.string().min(1).optional(),
      registry: z.string().min(1).optional(),
    })
    .optional(),
  verify: z
    .strictObject({
      gateway: z.enum(GATEWAY_KINDS).optional(),
      run: z.boolean().optional(),
    })
    .optional(),
});

export type GuidedConfig = z.infer<typeof ConfigSchema>;

/** Every answer of the guided run, filled in. */
export interface GuidedAnswers {
  existingPlan: ExistingPlanChoice;
  plan: { services?: number; minServices?: number; maxServices?: number; seed?: number; resolution?: number; git: boolean; compare: boolean };
  targets: Artifact[];
  ci: CiChoice;
  out: string;
  host?: string;
  registry?: string;
  gateway: GatewayKind;
  runVerify: boolean;
}

/** The defaults: everything scaffolded, GitHub Actions, verify's own gateway choice (auto), no verify run. */
export function defaultAnswers(context: { git: boolean }): GuidedAnswers {
  return {
    existingPlan: 'refresh',
    plan: { git: context.git, compare: false },
    targets: [...ARTIFACTS],
    ci: 'github',
    out: 'decomposed',
    gateway: 'auto',
    runVerify: false,
  };
}

/** The answers a config gives, over the defaults. */
export function answersFrom(config: GuidedConfig, defaults: GuidedAnswers): GuidedAnswers {
  const plan = config.plan ?? {};
  const { existing, ...planOptions } = plan;
  return {
    existingPlan: existing ?? defaults.existingPlan,
    plan: { ...defaults.plan, ...planOptions },
    targets: config.scaffold?.targets ? ARTIFACTS.filter((t) => config.scaffold!.targets!.includes(t)) : defaults.targets,
    ci: config.scaffold?.ci ?? defaults.ci,
    out: config.scaffold?.out ?? defaults.out,
    ...(config.scaffold?.host ? { host: config.scaffold.host } : {}),
    ...(config.scaffold?.registry ? { registry: config.scaffold.registry } : {}),
    gateway: config.verify?.gateway ?? defaults.gateway,
    runVerify: config.verify?.run ?? defaults.runVerify,
  };
}

export interface LoadedConfig {
  config: GuidedConfig;
  /** Where it came from: `decompose.config.json`, `package.json#decompose`, or null when there is none. */
  source: string | null;
}

/**
 * Reads the guided run's answers from `<dir>/decompose.config.json`, else from the `decompose` key of
 * `<dir>/package.json`. A file that is not valid JSON, or holds an unknown key or a wrong value, is refused
 * (DEC-131) with every problem named by `file:line:column`.
 */
export function readGuidedConfig(dir: string): LoadedConfig {
  const file = path.join(dir, CONFIG_FILE);
  const own = readText(file);
  if (own !== null) return { config: parseConfig(own, file, []), source: CONFIG_FILE };
  const packageFile = path.join(dir, 'package.json');
  const pkg = readText(packageFile);
  if (pkg === null) return { config: {}, source: null };
  let value: unknown;
  try {
    value = JSON.parse(pkg);
  } catch {
    // analyze reports a broken package.json in its own words; the guided run just finds no answers in it.
    return { config: {}, source: null };
  }
  if (value === null || typeof value !== 'object' || !('decompose' in value)) return { config: {}, source: null };
  return { config: parseConfig(pkg, packageFile, ['decompose']), source: 'package.json#decompose' };
}

/** Parses and validates the config found at `at` (a path of keys) inside `text`; exported for tests. */
export function parseConfig(text: string, file: string, at: string[]): GuidedConfig {
  const body = text.replace(/^\uFEFF/, '');
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    const { message, line, column } = describeJsonError(body, error);
    throw new UserError('DEC-131', `not valid JSON: ${message}`, { position: { file, line, column }, hint: 'Fix the file, or delete it to be asked every question.' });
  }
  for (const key of at) value = (value as Record<string, unknown>)[key];
  const parsed = ConfigSchema.safeParse(value);
  if (parsed.success) return parsed.data;

  // JSON is YAML: the YAML parser gives every key and value its place in the text, for line:column.
  const lineCounter = new LineCounter();
  const document = parseDocument(body, { lineCounter });
  const problems = parsed.error.issues.flatMap((issue) => {
    const where = [...at, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const parent = where.slice(at.length);
        const known = knownKeys(parent);
        const nearest = nearestName(key, known, (name) => Math.max(2, Math.floor(name.length / 3)));
        const keyPath = [...parent, key].join('.');
        return { offset: keyOffset(document, [...where, key]), text: `unknown key "${keyPath}"${nearest ? `; did you mean "${[...parent, nearest].join('.')}"?` : ` (known: ${known.join(', ')})`}` };
      });
    }
    const name = issue.path.map(String).join('.') || '(the config)';
    return [{ offset: valueOffset(document, where), text: `${name}: ${describeIssue(issue)}` }];
  });
  problems.sort((a, b) => a.offset - b.offset);
  const located = problems.map((p) => {
    const { line, col } = lineCounter.linePos(p.offset);
    return `${file}:${line}:${col}: ${p.text}`;
  });
  const first = problems[0]!;
  const { line, col } = lineCounter.linePos(first.offset);
  throw new UserError('DEC-131', `${file}:${line}:${col}: ${first.text}`, {
    position: { file, line, column: col },
    details: located.slice(1),
    hint: `See "Answers from a file" in the README for the keys ${at.length > 0 ? 'of "decompose" in package.json' : `of ${CONFIG_FILE}`}.`,
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return issue.message.replace(/^Invalid input: /, '');
}

function knownKeys(parent: Array<string | number>): string[] {
  let shape: z.ZodType = ConfigSchema;
  for (const key of parent) {
    const unwrapped: z.ZodType = shape instanceof z.ZodOptional ? (shape.unwrap() as z.ZodType) : shape;
    if (!(unwrapped instanceof z.ZodObject)) return [];
    shape = (unwrapped.shape as Record<string, z.ZodType>)[String(key)]!;
  }
  const unwrapped: z.ZodType = shape instanceof z.ZodOptional ? (shape.unwrap() as z.ZodType) : shape;
  return unwrapped instanceof z.ZodObject ? Object.keys(unwrapped.shape).filter((k) => k !== '$schema') : [];
}

/** Offset of a key in the document (of its value when the key node is not found, else 0). */
function keyOffset(document: ReturnType<typeof parseDocument>, keyPath: Array<string | number>): number {
  const parent = keyPath.length > 1 ? (document.getIn(keyPath.slice(0, -1), true) as Node | undefined) : document.contents;
  const last = keyPath.at(-1);
  const items = (parent as { items?: Array<{ key?: Node & { value?: unknown } }> } | undefined)?.items ?? [];
  const pair = items.find((item) => item.key && (item.key as { value?: unknown }).value === last);
  return pair?.key?.range?.[0] ?? valueOffset(document, keyPath);
}

/** Offset of the value at a key path, or of the deepest part of it that exists. */
function valueOffset(document: ReturnType<typeof parseDocument>, keyPath: Array<string | number>): number {
  for (let n = keyPath.length; n >= 0; n--) {
    const node = (n === 0 ? document.contents : document.getIn(keyPath.slice(0, n), true)) as Node | undefined | null;
    if (node && typeof node === 'object' && 'range' in node && node.range) return node.range[0];
  }
  return 0;
}

/** The config as a file: only what differs from the defaults, so the file says what the team chose. */
export function serializeConfig(answers: GuidedAnswers, defaults: GuidedAnswers): string {
  const plan: Record<string, unknown> = {};
  for (const key of ['services', 'minServices', 'maxServices', 'seed', 'resolution'] as const) if (answers.plan[key] !== undefined) plan[key] = answers.plan[key];
  if (answers.plan.git !== defaults.plan.git) plan.git = answers.plan.git;
  if (answers.plan.compare) plan.compare = true;
  const scaffold: Record<string, unknown> = {
    targets: answers.targets,
    ci: answers.ci,
    out: answers.out,
    ...(answers.host ? { host: answers.host } : {}),
    ...(answers.registry ? { registry: answers.registry } : {}),
  };
  const config = {
    ...(Object.keys(plan).length > 0 ? { plan } : {}),
    scaffold,
    verify: { gateway: answers.gateway, run: answers.runVerify },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * Writes decompose.config.json where there is none (through the sink: atomic, and never over a file that
 * appeared meanwhile). Returns the file written.
 */
export function writeGuidedConfig(dir: string, content: string): string {
  const change: FileChange = { path: CONFIG_FILE, content, isOurs: () => false };
  writeOutput([change], { root: dir, force: false, dryRun: false, onConflict: 'refuse' });
  return path.join(dir, CONFIG_FILE);
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
