import path from 'node:path';
import type { ChalkInstance } from 'chalk';
import { ARTIFACTS, type Artifact, type GuidedAnswers } from '../app/config-file.js';
import type { DetectedProject } from '../app/guided-detect.js';
import type { WriteAction } from '../model/file-change.js';
import type { Plan } from '../model/plan.js';
import { compareStrings } from '../util/compare.js';
import { wrap } from './plan-review.js';

/*
 * The text of the guided run (`decompose` with no command): pure functions from data to lines that fit an
 * 80-column terminal. The conversation itself is in guided-command.ts.
 */

export const WIDTH = 80;

/** Labels of the scaffold artifacts, as the checkbox shows them. */
export const ARTIFACT_LABELS: Record<Artifact, string> = {
  services: 'Services: one package per service, made from the monolith\'s code',
  gateway: 'Gateway: nginx config and a Node gateway that keep every URL',
  docker: 'Docker: a Dockerfile per service and docker-compose.yml',
  k8s: 'Kubernetes: manifests, autoscaling, policies, Redis StatefulSet',
  observability: 'Prometheus: scrape config, alert rules, Grafana dashboard',
};

export const REDIS_NOTE = 'Redis caching: every service\'s runtime caches through it';

// ---------------------------------------------------------------------------------------------------------
// What was found
// ---------------------------------------------------------------------------------------------------------

/** The short summary of the detected project, one fact per line. */
export function formatDetection(found: DetectedProject, color: ChalkInstance): string {
  const row = (label: string, value: string) => `  ${color.dim(label.padEnd(11))} ${truncate(value, WIDTH - 14)}`;
  const lines = [color.bold('decompose · guided run')];
  const pkg = found.packageJson;
  lines.push(row('project', pkg ? `${pkg.name}${pkg.version ? ` ${pkg.version}` : ''}` : `${path.basename(found.root)} (no package.json)`));
  lines.push(row('folder', found.root));
  lines.push(row('express', found.express ?? color.yellow('not a dependency in package.json')));
  lines.push(row('tsconfig', found.tsconfig ?? 'none (JavaScript, or defaults)'));
  const [entry, ...others] = found.entryCandidates;
  lines.push(row('app entry', entry ? `${entry}${others.length > 0 ? ` (+${others.length} more calling express())` : ''}` : color.yellow('no file calls express()')));
  lines.push(row('sources', `${found.sourceFiles} file${found.sourceFiles === 1 ? '' : 's'}`));
  lines.push(row('git', found.gitRoot ? `work tree at ${found.gitRoot === found.root ? '.' : found.gitRoot}: change coupling on` : 'not a work tree: change coupling off'));
  lines.push(row('answers', found.config.source ? `defaults from ${found.config.source}` : 'built-in defaults (no decompose.config.json)'));
  if (found.existingPlan) lines.push(row('plan', `${found.existingPlan} exists`));
  return lines.join('\n');
}

/** A step heading: `2/4 Plan  propose services and review them`. */
export function formatHeading(index: number, total: number, title: string, what: string, color: ChalkInstance): string {
  return `\n${color.bold.cyan(`${index}/${total}`)} ${color.bold(title)}  ${color.dim(what)}`;
}

/** The analysis in one line. */
export function analysisLine(counts: { modules: number; routes: number; entities: number; hazards: number }): string {
  const n = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
  return `Analysed ${n(counts.modules, 'module')}: ${n(counts.routes, 'route')}, ${n(counts.entities, 'entity', 'entities')}, ${n(counts.hazards, 'hazard')}`;
}

/** The top data-ownership conflicts and scale-out hazards of a plan, `limit` of each, with where the rest are. */
export function formatFindings(plan: Plan, color: ChalkInstance, limit = 3): string {
  const lines: string[] = [];
  if (plan.conflicts.length > 0) {
    lines.push(color.bold(`  Data conflicts (${plan.conflicts.length}): an entity written from two services`));
    for (const conflict of plan.conflicts.slice(0, limit)) {
      const writers = [...new Set(conflict.writers.map((w) => w.service))].sort(compareStrings).join(', ');
      const text = `${conflict.entity}: written by ${writers}; owner ${conflict.owner}; recommended: ${conflict.recommended}`;
      lines.push(...wrap(text, WIDTH - 6).map((l, i) => `${i === 0 ? '  - ' : '    '}${l}`));
    }
  } else {
    lines.push(`  ${color.green('No data conflicts')}: every entity has one writing service.`);
  }
  const hazards = plan.services.flatMap((s) => s.hazards.map((h) => ({ ...h, service: s.name })));
  if (hazards.length > 0) {
    lines.push(color.bold(`  Scale-out hazards (${hazards.length}): break with several replicas`));
    for (const hazard of hazards.slice(0, limit)) {
      lines.push(...wrap(`${hazard.kind} in ${hazard.service}, ${hazard.file}:${hazard.line}`, WIDTH - 6).map((l, i) => `${i === 0 ? '  - ' : '    '}${l}`));
    }
  }
  const more = Math.max(0, plan.conflicts.length - limit) + Math.max(0, hazards.length - limit);
  if (more > 0) lines.push(color.dim(`  … ${more} more in PLAN.md, each with the options to fix it`));
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// The dry-run tree
// ---------------------------------------------------------------------------------------------------------

export interface PreviewFile {
  /** Path relative to the project root, POSIX. */
  path: string;
  action: WriteAction;
}

const ACTION_WORDS: Record<WriteAction, string> = { create: 'new', update: 'changed', unchanged: 'unchanged', conflict: 'edited' };

/** "316 new, 1 changed" for a set of files. */
export function countWords(files: PreviewFile[]): string {
  const counts = new Map<WriteAction, number>();
  for (const f of files) counts.set(f.action, (counts.get(f.action) ?? 0) + 1);
  return (['create', 'update', 'unchanged', 'conflict'] as const).filter((a) => counts.has(a)).map((a) => `${counts.get(a)} ${ACTION_WORDS[a]}`).join(', ');
}

interface Folder {
  folders: Map<string, Folder>;
  files: PreviewFile[];
  all: PreviewFile[];
}

/**
 * The files a scaffold would write as a short tree: the top folder of each root opened, folders that hold only
 * folders opened one level further (services/, packages/, deploy/), every other folder folded into a count.
 */
export function formatTree(files: PreviewFile[], color: ChalkInstance, maxChildren = 12): string {
  const root: Folder = { folders: new Map(), files: [], all: [] };
  for (const file of [...files].sort((a, b) => compareStrings(a.path, b.path))) {
    const parts = file.path.split('/');
    let folder = root;
    folder.all.push(file);
    for (const part of parts.slice(0, -1)) {
      let next = folder.folders.get(part);
      if (!next) folder.folders.set(part, (next = { folders: new Map(), files: [], all: [] }));
      next.all.push(file);
      folder = next;
    }
    folder.files.push(file);
  }
  const lines: string[] = [];
  const paint = (text: string, action: WriteAction) => (action === 'create' ? color.green(text) : action === 'update' ? color.yellow(text) : action === 'conflict' ? color.red(text) : color.dim(text));
  const entry = (indent: number, name: string, detail: string, action?: WriteAction) => {
    const label = truncate(`${'  '.repeat(indent)}${name}`, 35).padEnd(36);
    const text = truncate(detail, WIDTH - 38);
    lines.push(`  ${label}${action ? paint(text, action) : text}`);
  };
  const walk = (folder: Folder, indent: number, open: boolean) => {
    const children: Array<[string, Folder | PreviewFile]> = [...folder.folders.entries(), ...folder.files.map((f) => [path.posix.basename(f.path), f] as [string, PreviewFile])];
    let shown = 0;
    for (const [name, child] of children) {
      if (shown === maxChildren) {
        lines.push(`  ${'  '.repeat(indent)}${color.dim(`… ${children.length - maxChildren} more`)}`);
        break;
      }
      shown++;
      if ('action' in child) {
        entry(indent, name, ACTION_WORDS[child.action], child.action);
        continue;
      }
      if (child.all.length === 1) {
        // A lone file deep down (.github/workflows/ci.yml) reads best as one path.
        const only = child.all[0]!;
        const rest = only.path.split('/');
        entry(indent, rest.slice(rest.indexOf(name)).join('/'), ACTION_WORDS[only.action], only.action);
        continue;
      }
      const onlyFolders = child.files.length === 0;
      entry(indent, `${name}/`, countWords(child.all), dominant(child.all));
      if (open || onlyFolders) walk(child, indent + 1, false);
    }
  };
  walk(root, 0, true);
  return lines.join('\n');
}

function dominant(files: PreviewFile[]): WriteAction {
  if (files.some((f) => f.action === 'conflict')) return 'conflict';
  if (files.some((f) => f.action === 'update')) return 'update';
  if (files.some((f) => f.action === 'create')) return 'create';
  return 'unchanged';
}

// ---------------------------------------------------------------------------------------------------------
// The equivalent command line
// ---------------------------------------------------------------------------------------------------------

export type PlanMode = 'propose' | 'refresh' | 'replace';

export interface CommandLineInput {
  /** The project folder as the user would type it from where they are, or null when it is the current folder. */
  dirArg: string | null;
  /** propose: `plan --yes`; replace: `plan --yes --force`; refresh: `plan --refresh`. */
  mode: PlanMode;
  answers: GuidedAnswers;
  /** Run `decompose verify` too; `gatewayOption` when verify takes --gateway. */
  verify: null | { gatewayOption: boolean };
}

/** The commands, one per element, that repeat a guided run without questions. */
export function equivalentCommands(input: CommandLineInput): string[] {
  const { answers } = input;
  const dir = input.dirArg ? [input.dirArg] : [];
  const plan = ['decompose', 'plan', ...dir];
  if (input.mode === 'refresh') plan.push('--refresh');
  else plan.push('--yes', ...(input.mode === 'replace' ? ['--force'] : []));
  if (answers.plan.git && input.mode !== 'refresh') plan.push('--git');
  if (answers.plan.compare) plan.push('--compare');
  for (const [key, flag] of [['services', '--services'], ['minServices', '--min-services'], ['maxServices', '--max-services'], ['seed', '--seed'], ['resolution', '--resolution']] as const) {
    const value = answers.plan[key];
    if (value !== undefined && input.mode !== 'refresh') plan.push(flag, String(value));
  }
  const scaffold = ['decompose', 'scaffold', ...dir];
  const allTargets = answers.targets.length === ARTIFACTS.length && answers.ci !== 'none';
  if (!allTargets) scaffold.push('--only', [...answers.targets, ...(answers.ci === 'none' ? [] : ['ci'])].join(','));
  if (answers.ci === 'gitlab') scaffold.push('--ci', 'gitlab');
  if (answers.out !== 'decomposed') scaffold.push('--out', answers.out);
  if (answers.host) scaffold.push('--host', answers.host);
  if (answers.registry) scaffold.push('--registry', answers.registry);
  const commands = [plan, scaffold];
  if (input.verify) commands.push(['decompose', 'verify', ...dir, ...(input.verify.gatewayOption && answers.gateway !== 'auto' ? ['--gateway', answers.gateway] : [])]);
  return commands.map((words) => words.map(shellQuote).join(' '));
}

/** Commands joined with `&&`, broken into lines of at most 80 columns with `\` continuations. */
export function formatCommandLine(commands: string[], indent = '  '): string {
  const oneLine = `${indent}${commands.join(' && ')}`;
  if (oneLine.length <= WIDTH) return oneLine;
  const lines: string[] = [];
  commands.forEach((command, i) => {
    const text = i === 0 ? command : `&& ${command}`;
    const lead = i === 0 ? indent : `${indent}  `;
    const words = text.split(' ');
    let line = lead;
    for (const word of words) {
      if (line.trim().length > 0 && line.length + 1 + word.length + 2 > WIDTH) {
        lines.push(`${line} \\`);
        line = `${indent}    ${word}`;
      } else {
        line = line.trim().length > 0 ? `${line} ${word}` : `${line}${word}`;
      }
    }
    lines.push(line);
  });
  return lines.map((l, i) => (i < lines.length - 1 && !l.endsWith('\\') ? `${l} \\` : l)).join('\n');
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:=@,+-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------------------
// Without a terminal: what would have been asked
// ---------------------------------------------------------------------------------------------------------

/** The questions of a guided run, each with the answer --yes would take, numbered. */
export function formatQuestions(options: { answers: GuidedAnswers; existingPlan: string | null; verifyAvailable: boolean }): string[] {
  const { answers } = options;
  const questions: Array<[string, string]> = [];
  if (options.existingPlan) questions.push([`${options.existingPlan} exists: refresh or replace it?`, answers.existingPlan]);
  questions.push(['Review the services: rename, merge, move modules?', 'accept']);
  questions.push(['What to scaffold?', answers.targets.join(',')]);
  questions.push(['CI pipeline?', answers.ci]);
  questions.push(['Gateway for decompose verify?', answers.gateway]);
  questions.push(['Output folder?', answers.out]);
  questions.push(['Write the plan and the scaffold?', 'yes']);
  if (options.verifyAvailable) questions.push(['Run decompose verify now?', answers.runVerify ? 'yes' : 'no']);
  return questions.map(([question, answer], i) => `${i + 1}. ${question} [${answer}]`);
}

function truncate(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}
