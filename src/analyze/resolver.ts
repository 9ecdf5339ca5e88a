import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { compareStrings } from '../util/compare.js';
import type { ProjectLayout } from './project.js';

export type Resolution =
  | { kind: 'internal'; file: string }
  | { kind: 'external'; packageName: string }
  | { kind: 'builtin'; name: string }
  /** A file that exists but is not a source module (JSON, CSS…): not part of the module graph. */
  | { kind: 'asset'; file: string }
  /** `differsInCase`: a file the specifier names but for letter case (found on macOS and Windows, not on Linux). */
  | { kind: 'missing'; differsInCase?: string };

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, m.split('/')[0]!]));
const TRY_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];
/** `./x.js` in TypeScript sources usually means `./x.ts` (NodeNext); try the TS twins first. */
const JS_TO_TS: Record<string, string[]> = {
  '.js': ['.ts', '.tsx', '.js', '.jsx'],
  '.jsx': ['.tsx', '.jsx'],
  '.mjs': ['.mts', '.mjs'],
  '.cjs': ['.cts', '.cjs'],
};

/**
 * Resolves specifiers the way Node and TypeScript would, with a cache of file-system look-ups:
 * relative paths, extensions, index files, `.js` meaning `.ts`, tsconfig baseUrl/paths, package.json imports.
 */
export class ModuleResolver {
  private readonly sources: Set<string>;
  private readonly statCache = new Map<string, 'file' | 'dir' | null>();
  /** Resolutions by importing folder, then specifier (they depend on nothing else). */
  private readonly byFolder = new Map<string, Map<string, Resolution>>();
  /** Each importing file's entry of byFolder: no folder name or key string to build per look-up. */
  private readonly byFile = new Map<string, Map<string, Resolution>>();
  /** Folder -> its entries, sorted; read only to tell a missing file from one that differs in case. */
  private readonly folderEntries = new Map<string, string[]>();

  constructor(private readonly layout: ProjectLayout) {
    this.sources = new Set(layout.files);
  }

  resolve(fromFile: string, specifier: string): Resolution {
    let results = this.byFile.get(fromFile);
    if (!results) {
      const folder = path.dirname(fromFile);
      results = this.byFolder.get(folder);
      if (!results) {
        results = new Map();
        this.byFolder.set(folder, results);
      }
      this.byFile.set(fromFile, results);
    }
    let result = results.get(specifier);
    if (!result) {
      result = this.resolveUncached(fromFile, specifier);
      results.set(specifier, result);
    }
    return result;
  }

  private resolveUncached(fromFile: string, specifier: string): Resolution {
    const bare = specifier.split('?')[0]!;
    if (bare.startsWith('node:')) return { kind: 'builtin', name: bare.slice(5) };
    if (bare.startsWith('.') || bare.startsWith('/')) {
      return this.fileAt(path.resolve(path.dirname(fromFile), bare));
    }
    if (bare.startsWith('#')) {
      const target = this.packageImport(bare);
      if (target) return target.startsWith('.') ? this.fileAt(path.resolve(this.layout.root, target)) : this.external(target);
      return { kind: 'missing' };
    }
    const candidates = this.pathCandidates(bare);
    for (const candidate of candidates) {
      const found = this.tryPath(candidate);
      // A catch-all mapping (`"*": ["node_modules/*", …]`) leads into installed packages: packages, not project files.
      if (found) return found.split(path.sep).includes('node_modules') ? this.external(bare) : this.classify(found);
    }
    // A specifier that an alias (`@app/*`) matches but no mapped file answers is a project file gone missing, unless
    // it names a built-in or a package the project depends on: TypeScript and Node then look in node_modules, as they
    // do for whatever only a catch-all `"*"` mapping matches (Microsoft's TypeScript-Node-Starter has one).
    if (this.layout.paths.some((m) => m.pattern !== '*' && matchPattern(m.pattern, bare) !== null) && !this.isPackage(bare)) return this.missing(candidates);
    if (this.layout.baseUrl) {
      const found = this.tryPath(path.resolve(this.layout.baseUrl, bare));
      if (found) return this.classify(found);
    }
    return this.external(bare);
  }

  private external(specifier: string): Resolution {
    const packageName = packageNameOf(specifier);
    if (BUILTINS.has(packageName)) return { kind: 'builtin', name: packageName };
    return { kind: 'external', packageName };
  }

  /** Whether a bare specifier names a built-in module or a package in package.json's dependencies. */
  private isPackage(specifier: string): boolean {
    const packageName = packageNameOf(specifier);
    return BUILTINS.has(packageName) || Object.hasOwn(this.layout.dependencies, packageName);
  }

  /** The file `candidate` names (see tryPath), or missing. */
  private fileAt(candidate: string): Resolution {
    const found = this.tryPath(candidate);
    return found ? this.classify(found) : this.missing([candidate]);
  }

  private classify(file: string): Resolution {
    return this.sources.has(file) ? { kind: 'internal', file } : { kind: 'asset', file };
  }

  /** Nothing answers `candidates`; a file one of them names but for the letter case of its last part is told. */
  private missing(candidates: readonly string[]): Resolution {
    for (const candidate of candidates) {
      const found = this.caseVariant(candidate);
      if (found) return { kind: 'missing', differsInCase: found };
    }
    return { kind: 'missing' };
  }

  private caseVariant(candidate: string): string | null {
    const folder = path.dirname(candidate);
    const name = path.basename(candidate);
    const wanted = name.toLowerCase();
    let entries = this.folderEntries.get(folder);
    if (entries === undefined) {
      try {
        entries = fs.readdirSync(folder).sort(compareStrings);
      } catch {
        entries = [];
      }
      this.folderEntries.set(folder, entries);
    }
    for (const entry of entries) {
      const lower = entry.toLowerCase();
      if (entry.startsWith(name) || !(lower === wanted || lower.startsWith(`${wanted}.`))) continue;
      const found = this.tryPath(path.join(folder, entry.slice(0, name.length)));
      if (found) return found;
    }
    return null;
  }

  private pathCandidates(specifier: string): string[] {
    let best: { prefixLength: number; candidates: string[] } | null = null;
    for (const mapping of this.layout.paths) {
      const star = matchPattern(mapping.pattern, specifier);
      if (star === null) continue;
      const prefixLength = mapping.pattern.indexOf('*') === -1 ? mapping.pattern.length : mapping.pattern.indexOf('*');
      if (best && best.prefixLength >= prefixLength) continue;
      best = {
        prefixLength,
        candidates: mapping.targets.map((t) => path.resolve(this.layout.pathsBase, t.replace('*', star))),
      };
    }
    return best?.candidates ?? [];
  }

  private packageImport(specifier: string): string | null {
    for (const [pattern, target] of Object.entries(this.layout.packageImports)) {
      const star = matchPattern(pattern, specifier);
      if (star === null) continue;
      const chosen = pickCondition(target);
      if (chosen) return chosen.replace('*', star);
    }
    return null;
  }

  private tryPath(candidate: string): string | null {
    const ext = path.extname(candidate);
    const twins = JS_TO_TS[ext];
    if (twins) {
      const stem = candidate.slice(0, -ext.length);
      for (const twin of twins) if (this.stat(stem + twin) === 'file') return stem + twin;
    }
    if (this.stat(candidate) === 'file') return candidate;
    for (const extension of TRY_EXTENSIONS) if (this.stat(candidate + extension) === 'file') return candidate + extension;
    if (this.stat(candidate) === 'dir') {
      const main = this.packageMain(candidate);
      if (main) {
        const found = this.tryPath(path.resolve(candidate, main));
        if (found) return found;
      }
      for (const extension of TRY_EXTENSIONS) {
        const index = path.join(candidate, `index${extension}`);
        if (this.stat(index) === 'file') return index;
      }
    }
    if (this.stat(candidate + '.json') === 'file') return candidate + '.json';
    return null;
  }

  private packageMain(dir: string): string | null {
    const file = path.join(dir, 'package.json');
    if (this.stat(file) !== 'file') return null;
    try {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { main?: unknown };
      return typeof pkg.main === 'string' ? pkg.main : null;
    } catch {
      return null;
    }
  }

  private stat(file: string): 'file' | 'dir' | null {
    if (this.sources.has(file)) return 'file';
    let result = this.statCache.get(file);
    if (result === undefined) {
      try {
        // Most look-ups miss (`./x` tries eight extensions): without an exception per miss they cost a fifth.
        const s = fs.statSync(file, { throwIfNoEntry: false });
        result = s === undefined ? null : s.isFile() ? 'file' : s.isDirectory() ? 'dir' : null;
      } catch {
        result = null;
      }
      this.statCache.set(file, result);
    }
    return result;
  }
}

/** Matches a tsconfig/package.json pattern with at most one `*`; returns what the star matched, or null. */
function matchPattern(pattern: string, specifier: string): string | null {
  const star = pattern.indexOf('*');
  if (star === -1) return pattern === specifier ? '' : null;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  if (specifier.length < prefix.length + suffix.length) return null;
  if (!specifier.startsWith(prefix) || !specifier.endsWith(suffix)) return null;
  return specifier.slice(prefix.length, specifier.length - suffix.length);
}

function pickCondition(target: unknown): string | null {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const t of target) {
      const picked = pickCondition(t);
      if (picked) return picked;
    }
    return null;
  }
  if (target && typeof target === 'object') {
    const conditions = target as Record<string, unknown>;
    for (const key of ['node', 'import', 'require', 'default']) {
      if (key in conditions) {
        const picked = pickCondition(conditions[key]);
        if (picked) return picked;
      }
    }
  }
  return null;
}

/** The package a bare specifier names: `lodash` for `lodash/fp`, `@scope/pkg` for `@scope/pkg/sub`. */
function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}
