import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ts } from 'ts-morph';
import { typescript } from './typescript.js';
import { compareStrings } from '../util/compare.js';
import { UserError } from '../util/errors.js';
import { describeJsonError } from '../util/json-error.js';
import { toRepoPath } from '../util/paths.js';

export const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];

/** Folders that never hold the server's own source. */
const SKIPPED_DIRS = new Set([
  'node_modules', 'dist', 'build', 'out', 'coverage', '.git', '.next', '.nuxt', '.cache', '.turbo',
  'test', 'tests', '__tests__', '__mocks__', 'e2e', 'cypress', 'spec', 'public', 'static', 'vendor',
  'decomposed', 'tmp', 'temp', 'fixtures',
]);
const TEST_FILE = /\.(test|spec|e2e)\.[cm]?[jt]sx?$/;
const TOOL_CONFIG_FILE = /^(\..*rc|.*\.config|gulpfile|gruntfile|jest\.setup|vitest\.setup|karma\.conf)\.[cm]?[jt]s$/i;
/** Generated or minified bundles are not the monolith's code and would dominate parse time. */
export const MAX_SOURCE_BYTES = 2 * 1024 * 1024;

export interface PathMapping {
  pattern: string;
  targets: string[];
}

export interface ProjectLayout {
  root: string;
  name: string;
  dependencies: Record<string, string>;
  /** Repo-relative tsconfig/jsconfig used, if any. */
  tsconfig: string | null;
  /** Absolute base folder for non-relative specifiers (tsconfig baseUrl), if set. */
  baseUrl: string | null;
  /** Absolute folder `paths` targets are relative to. */
  pathsBase: string;
  paths: PathMapping[];
  /** package.json "imports" map (`#alias` specifiers). */
  packageImports: Record<string, unknown>;
  /** Absolute paths of the source files to analyse, sorted. */
  files: string[];
}

/** Finds the project's configuration and its source files. Reads only; never runs anything. */
export function discoverProject(dir: string): ProjectLayout {
  const root = path.resolve(dir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch {
    throw new UserError('DEC-001', `${dir}: no such folder`, { hint: 'Give the folder of the monolith, e.g. `decompose analyze ./my-app`.' });
  }
  if (!stat.isDirectory()) {
    throw new UserError('DEC-002', `${dir} is a file, not a folder`, { hint: 'Give the folder that holds the monolith, not one of its files.' });
  }
  const pkg = readPackageJson(root);
  const config = readTsConfig(root);
  const walked = walkSources(root);
  let files: string[];
  if (config) {
    const nested = nestedPackageChecker(root);
    const listed = config.parsed.fileNames.map((f) => path.resolve(f)).filter((f) => isAnalysableFile(root, f) && !nested(f));
    // A tsconfig that covers only TS still leaves JS modules that the app requires; keep both.
    files = listed.length === 0 ? walked : [...new Set([...listed, ...walked.filter((f) => isJsLike(f))])];
  } else {
    files = walked;
  }
  files.sort(compareStrings);
  if (files.length === 0) {
    throw new UserError('DEC-003', `${dir}: no JavaScript or TypeScript sources found`, {
      hint: 'Run decompose in the folder of an Express app (node_modules, dist, build and tests are skipped).',
    });
  }
  const options = config?.parsed.options ?? {};
  const configDir = config ? path.dirname(config.file) : root;
  // TypeScript resolves `paths` against baseUrl when set, else against the folder of the config that declared them.
  const pathsBase = options.baseUrl ?? (options as { pathsBasePath?: string }).pathsBasePath ?? configDir;
  return {
    root,
    name: typeof pkg.name === 'string' ? pkg.name : path.basename(root),
    dependencies: { ...(pkg.devDependencies ?? {}), ...(pkg.dependencies ?? {}) },
    tsconfig: config ? toRepoPath(root, config.file) : null,
    baseUrl: options.baseUrl ? path.resolve(options.baseUrl) : null,
    pathsBase: path.resolve(pathsBase),
    paths: Object.entries(options.paths ?? {})
      .map(([pattern, targets]) => ({ pattern, targets: targets as string[] }))
      .sort((a, b) => compareStrings(a.pattern, b.pattern)),
    packageImports: pkg.imports && typeof pkg.imports === 'object' ? (pkg.imports as Record<string, unknown>) : {},
    files,
  };
}

interface PackageJson {
  name?: unknown;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  imports?: unknown;
}

function readPackageJson(root: string): PackageJson {
  const file = path.join(root, 'package.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as PackageJson) : {};
  } catch (error) {
    const { message, line, column } = describeJsonError(text, error);
    throw new UserError('DEC-004', `package.json is not valid JSON: ${message}`, {
      position: { file, line, column },
      hint: 'Fix the JSON syntax in package.json.',
    });
  }
}

interface LoadedConfig {
  file: string;
  parsed: ts.ParsedCommandLine;
}

function readTsConfig(root: string): LoadedConfig | null {
  const file = ['tsconfig.json', 'jsconfig.json'].map((name) => path.join(root, name)).find((f) => fs.existsSync(f));
  if (!file) return null;
  const read = typescript.readConfigFile(file, (f) => typescript.sys.readFile(f));
  if (read.error) throw configError(file, read.error);
  const parsed = typescript.parseJsonConfigFileContent(read.config, typescript.sys, path.dirname(file), { allowJs: path.basename(file) === 'jsconfig.json' || undefined }, file);
  // Option-level complaints (deprecations, unknown options) do not stop an analysis; unreadable files do.
  const fatal = parsed.errors.find((d) => d.code === 5083 || d.code === 6053 || (d.code >= 1000 && d.code < 1500));
  if (fatal) throw configError(file, fatal);
  // A "solution" tsconfig lists no files itself and points at the real projects through `references`.
  if (parsed.fileNames.length === 0 && parsed.projectReferences?.length) {
    for (const reference of parsed.projectReferences) {
      const referenced = typescript.sys.directoryExists(reference.path) ? path.join(reference.path, 'tsconfig.json') : reference.path;
      if (!fs.existsSync(referenced)) continue;
      const child = typescript.readConfigFile(referenced, (f) => typescript.sys.readFile(f));
      if (child.error) throw configError(referenced, child.error);
      const childParsed = typescript.parseJsonConfigFileContent(child.config, typescript.sys, path.dirname(referenced), undefined, referenced);
      parsed.fileNames.push(...childParsed.fileNames);
      if (!parsed.options.paths && childParsed.options.paths) {
        parsed.options.paths = childParsed.options.paths;
        parsed.options.baseUrl = childParsed.options.baseUrl;
        (parsed.options as { pathsBasePath?: unknown }).pathsBasePath = (childParsed.options as { pathsBasePath?: unknown }).pathsBasePath;
      }
    }
  }
  return { file, parsed };
}

function configError(file: string, diagnostic: ts.Diagnostic): UserError {
  const message = typescript.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
  let line: number | undefined;
  let column: number | undefined;
  const where = diagnostic.file ?? (diagnostic.start !== undefined ? typescript.createSourceFile(file, fs.readFileSync(file, 'utf8'), typescript.ScriptTarget.Latest) : undefined);
  if (where && diagnostic.start !== undefined) {
    const pos = where.getLineAndCharacterOfPosition(diagnostic.start);
    line = pos.line + 1;
    column = pos.character + 1;
  } else if (!diagnostic.file && (diagnostic.code === 5083 || diagnostic.code === 6053)) {
    // A missing `extends` target comes without a position: point at the "extends" value.
    const text = fs.readFileSync(file, 'utf8');
    const match = /"extends"\s*:\s*/.exec(text);
    if (match) {
      const before = text.slice(0, match.index + match[0].length).split('\n');
      line = before.length;
      column = (before.at(-1)?.length ?? 0) + 1;
    }
  }
  const shown = diagnostic.file ? diagnostic.file.fileName : file;
  // The position (printed before the message) names the file; the message says what is wrong with it.
  return new UserError('DEC-005', `invalid configuration: ${message}`, {
    position: { file: shown, line, column },
    hint: 'Fix the tsconfig/jsconfig (or the file it extends), or remove it to let decompose find sources itself.',
  });
}

/** True for files below a folder (other than the root) that has its own package.json: another project. */
function nestedPackageChecker(root: string): (file: string) => boolean {
  const cache = new Map<string, boolean>();
  const check = (dir: string): boolean => {
    if (dir === root || !dir.startsWith(root)) return false;
    let result = cache.get(dir);
    if (result === undefined) {
      result = fs.existsSync(path.join(dir, 'package.json')) || check(path.dirname(dir));
      cache.set(dir, result);
    }
    return result;
  };
  return (file) => check(path.dirname(file));
}

function isJsLike(file: string): boolean {
  return /\.[cm]?jsx?$/.test(file);
}

function isAnalysableFile(root: string, file: string): boolean {
  if (file.endsWith('.d.ts') || file.endsWith('.d.mts') || file.endsWith('.d.cts')) return false;
  if (!SOURCE_EXTENSIONS.includes(path.extname(file))) return false;
  const rel = toRepoPath(root, file);
  if (rel.startsWith('..')) return false;
  const parts = rel.split('/');
  if (parts.slice(0, -1).some((p) => SKIPPED_DIRS.has(p) || p.startsWith('.'))) return false;
  const base = parts.at(-1) ?? '';
  return !TEST_FILE.test(base) && !(parts.length === 1 && TOOL_CONFIG_FILE.test(base));
}

/** Lists source files below root, following no symlinked folder twice (loops are common in monorepos). */
function walkSources(root: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const visit = (dir: string): void => {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch {
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = fs.statSync(full);
          isDir = target.isDirectory();
          isFile = target.isFile();
        } catch {
          continue;
        }
      }
      if (isDir) {
        // A folder with its own package.json is another project (a client app, a tool), not this server.
        const nestedPackage = fs.existsSync(path.join(full, 'package.json'));
        if (!SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith('.') && !nestedPackage) visit(full);
      } else if (isFile && isAnalysableFile(root, full)) {
        found.push(full);
      }
    }
  };
  visit(root);
  return found;
}

/** compilerOptions as written, with those of the configs it extends underneath (relative or package `extends`). */
export function readWrittenCompilerOptions(file: string, seen = new Set<string>()): Record<string, unknown> {
  if (seen.has(file) || !fs.existsSync(file)) return {};
  seen.add(file);
  const { config } = typescript.readConfigFile(file, (f) => fs.readFileSync(f, 'utf8')) as { config?: { extends?: string | string[]; compilerOptions?: Record<string, unknown> } };
  if (!config) return {};
  let options: Record<string, unknown> = {};
  const bases = config.extends === undefined ? [] : Array.isArray(config.extends) ? config.extends : [config.extends];
  for (const base of bases) {
    let resolved: string | null = null;
    if (base.startsWith('.') || path.isAbsolute(base)) resolved = path.resolve(path.dirname(file), base.endsWith('.json') ? base : `${base}.json`);
    else {
      try {
        resolved = createRequire(file).resolve(base);
      } catch {
        resolved = null;
      }
    }
    if (resolved) options = { ...options, ...readWrittenCompilerOptions(resolved, seen) };
  }
  return { ...options, ...(config.compilerOptions ?? {}) };
}
