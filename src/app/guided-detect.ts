import fs from 'node:fs';
import path from 'node:path';
import { MAX_SOURCE_BYTES, discoverProject } from '../analyze/project.js';
import { compareNumbers, compareStrings } from '../util/compare.js';
import { toRepoPath } from '../util/paths.js';
import { type LoadedConfig, readGuidedConfig } from './config-file.js';
import { DEFAULT_PLAN_FILE } from './plan-input.js';

/** What the guided run finds in a folder before it analyses anything. */
export interface DetectedProject {
  root: string;
  /** package.json name (or the folder name) and version, null without a package.json. */
  packageJson: { name: string; version: string | null } | null;
  /** The Express version range the project depends on, null when it does not. */
  express: string | null;
  /** Repo-relative tsconfig.json / jsconfig.json, or null. */
  tsconfig: string | null;
  /** Modules that call `express()`, most likely app entry first (a cheap text search; the analysis decides). */
  entryCandidates: string[];
  sourceFiles: number;
  /** The folder holding `.git` (a work tree) above or at the project, or null. */
  gitRoot: string | null;
  /** An existing plan at the project root. */
  existingPlan: string | null;
  config: LoadedConfig;
}

/**
 * Looks at a folder the way the guided run shows it: package.json, tsconfig, the Express app entry, git, an
 * existing plan and the guided config. Reads only; starts no process (git is found by its folder). Throws the
 * same user errors as `decompose analyze` for a folder that cannot be analysed (missing, no sources, bad
 * package.json or tsconfig) and DEC-131 for a bad config, before any question is asked.
 */
export function detectProject(dir: string): DetectedProject {
  const layout = discoverProject(dir);
  const root = layout.root;
  const pkgText = readText(path.join(root, 'package.json'));
  let packageJson: DetectedProject['packageJson'] = null;
  if (pkgText !== null) {
    const value = JSON.parse(pkgText) as { name?: unknown; version?: unknown };
    packageJson = { name: layout.name, version: typeof value.version === 'string' ? value.version : null };
  }
  const plan = path.join(root, DEFAULT_PLAN_FILE);
  return {
    root,
    packageJson,
    express: layout.dependencies.express ?? null,
    tsconfig: layout.tsconfig,
    entryCandidates: findEntryCandidates(root, layout.files),
    sourceFiles: layout.files.length,
    gitRoot: findGitRoot(root),
    existingPlan: fs.existsSync(plan) ? DEFAULT_PLAN_FILE : null,
    config: readGuidedConfig(root),
  };
}

const EXPRESS_CALL = /\bexpress\s*\(\s*\)/;
const ENTRY_NAMES = ['app', 'server', 'index', 'main'];

/** Files that call `express()`: conventional names first (app, server, index, main), then shallower paths. */
export function findEntryCandidates(root: string, files: string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      if (fs.statSync(file).size > MAX_SOURCE_BYTES) continue;
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    if (EXPRESS_CALL.test(text)) found.push(toRepoPath(root, file));
  }
  const rank = (file: string) => {
    const stem = path.posix.basename(file).replace(/\.[^.]+$/, '');
    const index = ENTRY_NAMES.indexOf(stem);
    return index < 0 ? ENTRY_NAMES.length : index;
  };
  return found.sort((a, b) => compareNumbers(rank(a), rank(b)) || compareNumbers(a.split('/').length, b.split('/').length) || compareStrings(a, b));
}

/** The nearest folder at or above `dir` with a `.git` folder or file (a work tree or a linked worktree). */
export function findGitRoot(dir: string): string | null {
  let current = path.resolve(dir);
  for (;;) {
    if (fs.existsSync(path.join(current, '.git'))) return current;
    const parent = path.dirname(current);
    if (parent === current) return null;
    current = parent;
  }
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
