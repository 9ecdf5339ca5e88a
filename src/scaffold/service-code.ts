import path from 'node:path';
import { Node, Project, type SourceFile, SyntaxKind, ts } from 'ts-morph';
import type { Analysis, ExportedSymbol, ImportEdge } from '../model/analysis.js';
import type { Plan } from '../model/plan.js';
import { READ_NAME, callCacheKey, callTags } from '../plan/cache-defaults.js';
import { compareStrings, sortBy, uniqueSorted } from '../util/compare.js';
import { type Placement, type UnitLayout, type WorkspaceLayout, groupEdges, importablePath, relativeSpecifier } from './layout.js';

/**
 * Turns the monolith's modules into each unit's code with ts-morph (the only scaffold module that parses code):
 * specifiers rewritten for the new layout, composition entries pruned to the unit's own routers, `app.listen`
 * handed to the runtime, and a facade (network client, data proxy or stub) for every module of another service the
 * unit still imports. The result is plain data; templates render the facades.
 */

/** The monolith's source text by repo path (read by app/, never here). */
export type SourceSet = Record<string, string>;

export interface CopiedFile {
  /** Path inside the unit folder (the monolith's repo path). */
  path: string;
  /** The monolith module it was made from. */
  from: string;
  content: string;
}

export type FacadeMember =
  | {
      kind: 'client';
      name: string;
      operation: string;
      owner: string;
      idempotent: boolean;
      /**
       * A function that is synchronous in the monolith, whose result this service's code never uses: the client
       * starts the call and returns nothing; the response to the current request waits for it (the runtime's serve).
       */
      deferred: boolean;
      /** Cache-aside for the result, when the plan lists the call under the service's cache. */
      cache: { ttlSeconds: number; tags: string[] } | null;
      typeParameters: string;
      params: string;
      args: string;
      returnType: string;
      at: string;
    }
  | { kind: 'data'; name: string; operation: string; owner: string; type: string; at: string }
  | { kind: 'stub'; name: string; owner: string; what: string; at: string; reason: string; isClass: boolean }
  | { kind: 'reexport'; name: string; importedName: string; specifier: string };

export interface FacadeModule {
  /** Path inside the unit folder: `remote/<the module's repo path>`. */
  path: string;
  module: string;
  owner: string;
  language: 'ts' | 'js';
  format: 'esm' | 'cjs';
  members: FacadeMember[];
  /** `import type` lines the copied type declarations need (TypeScript only). */
  typeImports: { names: string; specifier: string; isDefault: boolean }[];
  /** Type declarations copied verbatim from the module (TypeScript only). */
  typeDeclarations: string[];
}

export interface InternalOperation {
  operation: string;
  /** The owner's module and export that implement it. */
  module: string;
  symbol: string;
  kind: 'function' | 'data';
}

export interface MigrationNote {
  kind: 'stub' | 'data-proxy' | 'deferred' | 'copied' | 'no-listen' | 'unresolved';
  unit: string;
  at: string;
  message: string;
}

export interface ExtractedUnit {
  unit: UnitLayout;
  files: CopiedFile[];
  facades: FacadeModule[];
  /** npm packages the unit's code imports (package names). */
  externals: string[];
  /** Workspace libraries it imports. */
  libraries: string[];
  /** The copied composition entry whose `listen` now goes through the runtime (null: none found). */
  serverEntry: string | null;
  notes: MigrationNote[];
}

export interface ExtractedCode {
  units: ExtractedUnit[];
  /** Operations each service exposes to the others (service name → operations, sorted). */
  internal: Record<string, InternalOperation[]>;
}

const CODE_EXTENSION = /\.(c|m)?[jt]sx?$/;

/** The monolith's path aliases (tsconfig `baseUrl`/`paths`), so types declared behind an alias can be spelled out. */
export interface AliasOptions {
  baseUrl?: string;
  paths?: Record<string, string[]>;
}

export function extractCode(layout: WorkspaceLayout, analysis: Analysis, plan: Plan, sources: SourceSet, aliases: AliasOptions = {}): ExtractedCode {
  const extractor = new Extractor(layout, analysis, plan, sources, aliases);
  const units = [...layout.services, ...layout.libraries].map((unit) => extractor.extractUnit(unit));
  const internal: Record<string, InternalOperation[]> = {};
  for (const service of layout.services) internal[service.name] = [];
  for (const unit of units) {
    for (const facade of unit.facades) {
      for (const member of facade.members) {
        if (member.kind !== 'client' && member.kind !== 'data') continue;
        const list = internal[member.owner];
        if (!list || list.some((op) => op.operation === member.operation)) continue;
        list.push({ operation: member.operation, module: facade.module, symbol: member.name, kind: member.kind === 'client' ? 'function' : 'data' });
      }
    }
  }
  for (const name of Object.keys(internal)) internal[name] = sortBy(internal[name]!, (op) => op.operation);
  return { units, internal };
}

/** `src/users/user.repository.ts#findUserByEmail`: how services name each other's operations. */
export function operationId(module: string, symbol: string): string {
  return `${module.replace(CODE_EXTENSION, '')}#${symbol}`;
}

interface FacadeRequest {
  names: Set<string>;
  typeOnly: Set<string>;
}

class Extractor {
  private readonly project: Project;
  private readonly edgesFrom: Map<string, ImportEdge[]>;
  private readonly edgeBySpecifier = new Map<string, ImportEdge>();
  private readonly modules: Map<string, Analysis['modules'][number]>;
  private readonly stateless: Set<string>;
  private readonly composition: Set<string>;
  private readonly units = new Map<string, UnitLayout>();
  private copyCounter = 0;
  private readonly copyable = new Map<string, boolean>();
  private readonly instances = new Map<string, boolean>();
  /** The specifier literals of each original module (see originalSpecifiers). */
  private readonly specifiers = new Map<string, ts.StringLiteral[]>();

  constructor(
    private readonly layout: WorkspaceLayout,
    private readonly analysis: Analysis,
    private readonly plan: Plan,
    private readonly sources: SourceSet,
    aliases: AliasOptions,
  ) {
    const tsconfigDir = analysis.project.tsconfig ? path.posix.dirname(`/${analysis.project.tsconfig}`) : '/';
    this.project = new Project({
      useInMemoryFileSystem: true,
      skipLoadingLibFiles: true,
      compilerOptions: {
        allowJs: true,
        checkJs: false,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        ...(aliases.paths ? { paths: aliases.paths, baseUrl: path.posix.resolve(tsconfigDir, aliases.baseUrl ?? '.') } : {}),
      },
    });
    this.edgesFrom = groupEdges(analysis.imports);
    for (const edge of analysis.imports) {
      const key = `${edge.from}\0${edge.specifier}`;
      if (!this.edgeBySpecifier.has(key)) this.edgeBySpecifier.set(key, edge);
    }
    this.modules = new Map(analysis.modules.map((m) => [m.path, m]));
    this.stateless = new Set(layout.statelessModules);
    this.composition = new Set(layout.compositionEntries);
    for (const unit of [...layout.services, ...layout.libraries]) this.units.set(unit.name, unit);
    // Every module is in the project, so the checker can spell out a type declared in another module.
    for (const module of Object.keys(sources).sort(compareStrings)) this.original(module);
  }

  private original(module: string): SourceFile {
    const file = `/${module}`;
    return this.project.getSourceFile(file) ?? this.project.createSourceFile(file, this.sources[module] ?? '', { overwrite: true });
  }

  /** An original's specifier literals, found once: a module is copied into many units, and originals are never edited. */
  private originalSpecifiers(module: string): ts.StringLiteral[] {
    let literals = this.specifiers.get(module);
    if (!literals) {
      literals = moduleSpecifierLiterals(this.original(module).compilerNode);
      this.specifiers.set(module, literals);
    }
    return literals;
  }

  private placementOf(module: string): Placement {
    return this.layout.placement[module] ?? { kind: 'unclaimed' };
  }

  extractUnit(unit: UnitLayout): ExtractedUnit {
    const files = new Set<string>(unit.modules);
    if (unit.kind === 'service') for (const entry of this.layout.compositionEntries) files.add(entry);
    const copiedFrom = new Map<string, string>();
    const requests = new Map<string, FacadeRequest>();
    const notes: MigrationNote[] = [];
    const isForeign = (module: string): boolean => {
      const p = this.placementOf(module);
      return p.kind === 'service' && p.name !== unit.name;
    };
    const request = (module: string, name: string, typeOnly: boolean): boolean => {
      let r = requests.get(module);
      if (!r) requests.set(module, (r = { names: new Set(), typeOnly: new Set() }));
      const before = r.names.size + r.typeOnly.size;
      if (typeOnly) {
        if (!r.names.has(name)) r.typeOnly.add(name);
      } else {
        r.names.add(name);
        r.typeOnly.delete(name);
      }
      return r.names.size + r.typeOnly.size !== before;
    };
    const adopt = (module: string): boolean => {
      if (files.has(module)) return false;
      files.add(module);
      const p = this.placementOf(module);
      if (p.kind === 'service') copiedFrom.set(module, p.name);
      return true;
    };

    // Close over imports: which modules are copied, which become facades.
    let facades: FacadeModule[] = [];
    for (let round = 0; round < 20; round += 1) {
      let changed = false;
      for (const file of [...files].sort(compareStrings)) {
        const pruned = unit.kind === 'service' && this.composition.has(file);
        for (const edge of this.edgesFrom.get(file) ?? []) {
          const target = edge.to;
          if (files.has(target)) continue;
          const p = this.placementOf(target);
          if (p.kind === 'library') continue;
          if (p.kind === 'unclaimed' || p.kind === 'composition') {
            changed = adopt(target) || changed;
            continue;
          }
          if (p.name === unit.name) continue;
          if (pruned) continue;
          const names = this.requestedNames(edge);
          if ((this.stateless.has(target) && !this.createsInstances(target)) || (!edge.typeOnly && this.needsLocalCopy(target, names, unit.name) && this.isCopyable(target))) {
            changed = adopt(target) || changed;
            continue;
          }
          for (const name of names) changed = request(target, name, edge.typeOnly) || changed;
        }
      }
      const context: FacadeContext = { unit, files, request, adopt, isForeign };
      const before = [...requests.values()].reduce((n, r) => n + r.names.size + r.typeOnly.size, 0) + files.size;
      facades = [...requests.keys()].sort(compareStrings).map((module) => this.facade(module, requests.get(module)!, context));
      const after = [...requests.values()].reduce((n, r) => n + r.names.size + r.typeOnly.size, 0) + files.size;
      if (!changed && before === after) break;
    }

    const externals = new Set<string>();
    const libraries = new Set<string>();
    const copied: CopiedFile[] = [];
    const facadePaths = new Map(facades.map((f) => [f.module, f.path]));
    let serverEntry: string | null = null;
    const removedExports = new Map<string, Set<string>>();
    // Composition entries import each other: prune until the names they stop exporting stop changing.
    const compositionFiles = [...files].filter((f) => unit.kind === 'service' && this.composition.has(f)).sort(compareStrings);
    const rewritten = new Map<string, SourceFile>();
    // What each entry was pruned against: the names the modules it imports stopped exporting. An entry whose
    // imports removed nothing new since is not pruned again (the last round only confirms, and each removal is a
    // re-parse of the entry).
    const prunedAgainst = new Map<string, string>();
    for (let round = 0; round < 10; round += 1) {
      let changed = false;
      for (const file of compositionFiles) {
        const against = (this.edgesFrom.get(file) ?? []).map((edge) => [...(removedExports.get(edge.to) ?? [])].sort(compareStrings).join('\0')).join('\n');
        if (prunedAgainst.get(file) === against) continue;
        prunedAgainst.set(file, against);
        const sf = this.copyOf(unit, file);
        const removed = this.prune(sf, file, isForeign, removedExports);
        const previous = removedExports.get(file);
        if (!previous || previous.size !== removed.size) changed = true;
        removedExports.set(file, removed);
        rewritten.set(file, sf);
      }
      if (!changed) break;
    }
    for (const file of [...files].sort(compareStrings)) {
      // Only the pruned entries are edited as trees; every other module is its original's text with the specifiers
      // replaced, read off the original's tree (see rewriteSpecifiers).
      const pruned = rewritten.get(file);
      const literals = pruned ? moduleSpecifierLiterals(pruned.compilerNode) : this.originalSpecifiers(file);
      let content = this.rewriteSpecifiers(pruned ?? this.original(file), literals, file, unit, files, facadePaths, externals, libraries, notes);
      if (pruned) {
        if (content !== pruned.getFullText()) pruned.replaceWithText(content);
        if (this.handListenToRuntime(pruned, file)) serverEntry ??= file;
        content = pruned.getFullText();
      }
      copied.push({ path: file, from: file, content });
    }
    for (const facade of facades) {
      for (const member of facade.members) {
        if (member.kind === 'stub') notes.push({ kind: 'stub', unit: unit.name, at: member.at, message: `\`${member.what}\` of ${member.owner} is a stub that throws "not yet extracted": ${member.reason}` });
        if (member.kind === 'client' && member.deferred) notes.push({ kind: 'deferred', unit: unit.name, at: member.at, message: `\`${member.name}\` runs in ${member.owner}: it is synchronous, and ${unit.name} never uses its result, so the call returns at once and the response waits for it; a failure is logged instead of thrown` });
        if (member.kind === 'data') notes.push({ kind: 'data-proxy', unit: unit.name, at: member.at, message: `\`${member.name}\` reaches into data ${member.owner} owns: each call goes to ${member.owner} over HTTP (a transitional data API); give ${member.owner} a real operation for it` });
      }
    }
    for (const [module, owner] of [...copiedFrom].sort((a, b) => compareStrings(a[0], b[0]))) {
      notes.push({ kind: 'copied', unit: unit.name, at: module, message: `copied from ${owner} (it holds no state of its own; data it reaches stays with its owner): move it to a shared library, or keep the copies in step` });
    }
    if (unit.kind === 'service' && serverEntry === null) {
      notes.push({ kind: 'no-listen', unit: unit.name, at: this.layout.compositionEntries[0] ?? '(none)', message: 'no `app.listen(...)` found in the entry modules: the generated main cannot start the app; start it through the runtime\'s serve(app)' });
    }
    for (const facade of facades) {
      if (facade.language === 'ts' && facade.format === 'cjs') {
        // nothing else: the template handles the module format
      }
    }
    return {
      unit,
      files: copied,
      facades,
      externals: [...externals].sort(compareStrings),
      libraries: [...libraries].sort(compareStrings),
      serverEntry,
      notes: sortBy(notes, (n) => n.kind, (n) => n.at, (n) => n.message),
    };
  }

  /**
   * Whether a unit needs something from another service's module that cannot become a network call: a
   * synchronous function (Express middleware, a model factory), a class, a value.
   */
  private needsLocalCopy(module: string, names: string[], unit: string): boolean {
    const exports = new Map((this.modules.get(module)?.exports ?? []).map((e) => [e.name, e]));
    return names.some((name) => {
      const symbol = exports.get(name);
      if (!symbol || symbol.kind === 'type' || symbol.kind === 'entity' || symbol.kind === 'router') return false;
      if (symbol.kind !== 'function') return true;
      const seam = this.plan.seams.find((s) => s.callee === module && s.symbol === name && s.from === unit);
      return !(seam ? seam.convertible : symbol.async && symbol.serializable);
    });
  }

  /**
   * A module that holds nothing of its own at run time, so a copy behaves like the original: no scale-out hazard
   * (module state, caches, timers), no routes, no data handle it exports, and every data definition it has sits
   * inside a function (a model factory such as `module.exports = (orm) => orm.define('Post', …)`). Its own imports
   * are resolved like any other: data it reaches through other modules stays behind proxies or clients.
   */
  private isCopyable(module: string): boolean {
    const known = this.copyable.get(module);
    if (known !== undefined) return known;
    let result = true;
    const info = this.modules.get(module);
    if (!info || this.composition.has(module)) result = false;
    else if (this.analysis.hazards.some((h) => h.file === module)) result = false;
    else if (this.analysis.routes.some((r) => r.file === module) || info.exports.some((e) => e.kind === 'router' || e.kind === 'entity')) result = false;
    else if (this.createsInstances(module)) result = false;
    else {
      const sf = this.original(module);
      for (const entity of this.analysis.entities) {
        for (const definition of entity.definedIn) {
          if (definition.module !== module) continue;
          if (!isInsideFunction(sf, definition.line)) result = false;
        }
      }
    }
    this.copyable.set(module, result);
    return result;
  }

  /**
   * Whether loading the module creates something at run time that a copy would duplicate: a top-level `new X()` or
   * call of anything but the language's own pure helpers (`Object.freeze`, `new Set` …) and require/import. An ORM
   * instance, a connection pool or a data registry made this way holds data; its copy would hold different data.
   */
  private createsInstances(module: string): boolean {
    const known = this.instances.get(module);
    if (known !== undefined) return known;
    const sf = this.original(module);
    let found = false;
    for (const statement of sf.getStatements()) {
      if (!Node.isVariableStatement(statement)) continue;
      for (const declaration of statement.getDeclarations()) {
        const init = declaration.getInitializer();
        if (init && initializesInstance(init)) found = true;
      }
    }
    this.instances.set(module, found);
    return found;
  }

  /** The names an edge brings in: members of a namespace/whole-module import, else the imported names. */
  private requestedNames(edge: ImportEdge): string[] {
    const names = edge.names.filter((n) => n !== '*');
    if (edge.names.includes('*')) {
      if (edge.members.length > 0) names.push(...edge.members);
      else names.push(...(this.modules.get(edge.to)?.exports.map((e) => e.name) ?? []));
    }
    if (names.length === 0 && edge.names.length === 0) return [];
    return uniqueSorted(names);
  }

  private copyOf(unit: UnitLayout, module: string): SourceFile {
    this.copyCounter += 1;
    return this.project.createSourceFile(`/__units__/${this.copyCounter}/${unit.name}/${module}`, this.sources[module] ?? '', { overwrite: true });
  }

  // ---- specifiers ------------------------------------------------------------------------------------------------

  /**
   * The module's text with its import specifiers (`literals`, of `sf`) rewritten for the unit's layout. The edits are made to the text, not
   * through ts-morph: each ts-morph edit re-parses the file and every wrapped node is kept, and a 1,000-module
   * scaffold spent a quarter of its time on them. The source file is only read.
   */
  private rewriteSpecifiers(
    sf: SourceFile,
    literals: readonly ts.StringLiteral[],
    file: string,
    unit: UnitLayout,
    files: Set<string>,
    facadePaths: Map<string, string>,
    externals: Set<string>,
    libraries: Set<string>,
    notes: MigrationNote[],
  ): string {
    const text = sf.getFullText();
    const edits: TextEdit[] = [];
    for (const literal of literals) {
      const specifier = literal.text;
      const edge = this.edgeBySpecifier.get(`${file}\0${specifier}`);
      if (!edge) {
        if (!specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.startsWith('node:')) {
          const name = packageName(specifier);
          if (name) externals.add(name);
        }
        continue;
      }
      const target = edge.to;
      const p = this.placementOf(target);
      let next: string | null = null;
      if (files.has(target)) {
        if (!specifier.startsWith('.')) next = styled(specifier, relativeSpecifier(file, target));
      } else if (p.kind === 'library' && p.name !== unit.name) {
        const library = this.units.get(p.name)!;
        libraries.add(p.name);
        next = `${library.packageName}/${this.packagedPath(target)}`;
      } else if (p.kind === 'library') {
        if (!specifier.startsWith('.')) next = styled(specifier, relativeSpecifier(file, target));
      } else if (facadePaths.has(target)) {
        next = styled(specifier, relativeSpecifier(file, facadePaths.get(target)!));
      } else {
        notes.push({ kind: 'unresolved', unit: unit.name, at: `${file}:${edge.line}`, message: `import of ${target} (${p.kind === 'service' ? p.name : p.kind}) has no place in ${unit.name}` });
      }
      if (next !== null && next !== specifier) {
        // Between the quotes, in the literal's own quote style, as ts-morph's setLiteralValue writes it.
        const start = literal.getStart(sf.compilerNode);
        edits.push({ start: start + 1, end: literal.end - 1, text: escapeWithinQuotes(next, text[start] === "'" ? "'" : '"') });
      }
    }
    return applyEdits(text, edits);
  }

  /** How another package imports a library module: its compiled path for TypeScript, its own path for JavaScript. */
  private packagedPath(module: string): string {
    return this.layout.language === 'ts' ? importablePath(module) : module;
  }

  // ---- pruning composition entries --------------------------------------------------------------------------------

  /**
   * Removes from a copied composition entry everything that belongs to other services: their imports, and every
   * statement (or route-table element) that uses what those imports bound. Returns the names the module no longer
   * exports, so entries importing them are pruned in turn.
   */
  private prune(sf: SourceFile, file: string, isForeign: (m: string) => boolean, removedExports: Map<string, Set<string>>): Set<string> {
    const removed = new Set<string>();
    const exportedBefore = exportedNames(sf);
    const gone = (edge: ImportEdge | undefined, importedName?: string): boolean => {
      if (!edge) return false;
      if (isForeign(edge.to)) return true;
      return importedName !== undefined && (removedExports.get(edge.to)?.has(importedName) ?? false);
    };
    const edgeOf = (specifier: string) => this.edgeBySpecifier.get(`${file}\0${specifier}`);

    for (const declaration of sf.getImportDeclarations()) {
      const edge = edgeOf(declaration.getModuleSpecifierValue());
      if (!edge) continue;
      if (isForeign(edge.to)) {
        const clause = declaration.getImportClause();
        if (clause) {
          const d = clause.getDefaultImport();
          if (d) removed.add(d.getText());
          const ns = clause.getNamespaceImport();
          if (ns) removed.add(ns.getText());
          for (const named of clause.getNamedImports()) removed.add((named.getAliasNode() ?? named.getNameNode()).getText());
        }
        declaration.remove();
        continue;
      }
      const clause = declaration.getImportClause();
      if (!clause) continue;
      for (const named of declaration.getNamedImports()) {
        if (gone(edge, named.getName())) {
          removed.add((named.getAliasNode() ?? named.getNameNode()).getText());
          named.remove();
          if (declaration.wasForgotten()) break;
        }
      }
      if (declaration.wasForgotten()) continue;
      const d = declaration.getDefaultImport();
      if (d && gone(edge, 'default')) {
        removed.add(d.getText());
        declaration.removeDefaultImport();
      }
      if (!declaration.getDefaultImport() && !declaration.getNamespaceImport() && declaration.getNamedImports().length === 0) declaration.remove();
    }
    for (const declaration of sf.getExportDeclarations()) {
      const specifier = declaration.getModuleSpecifierValue();
      if (specifier === undefined) continue;
      if (gone(edgeOf(specifier))) declaration.remove();
    }
    // require('./x') / import('./x') of another service's module: the statement (or table element) goes.
    for (;;) {
      const call = sf
        .getDescendantsOfKind(SyntaxKind.CallExpression)
        .find((c) => {
          const literal = requireLiteral(c);
          return literal !== null && gone(edgeOf(literal.getLiteralText()));
        });
      if (!call) break;
      removeUnit(call, removed);
    }
    // Destructured or member requires of removed exports: `const { ready } = require('./app')`.
    for (const declaration of sf.getDescendantsOfKind(SyntaxKind.VariableDeclaration)) {
      if (declaration.wasForgotten()) continue;
      const init = declaration.getInitializer();
      const literal = init && Node.isCallExpression(init) ? requireLiteral(init) : null;
      if (!literal) continue;
      const edge = edgeOf(literal.getLiteralText());
      const nameNode = declaration.getNameNode();
      if (Node.isObjectBindingPattern(nameNode)) {
        for (const element of nameNode.getElements()) {
          const imported = (element.getPropertyNameNode() ?? element.getNameNode()).getText();
          if (gone(edge, imported)) {
            removed.add(element.getNameNode().getText());
            removeBindingElement(element);
          }
        }
      }
    }
    // Every use of a removed binding takes its statement (or route-table element) with it.
    for (let guard = 0; guard < 10_000; guard += 1) {
      const use = firstRemovedReference(sf, removed);
      if (!use) break;
      removeUnit(use, removed);
    }
    const exportedAfter = exportedNames(sf);
    return new Set([...exportedBefore].filter((name) => !exportedAfter.has(name)));
  }

  /** `app.listen(...)` → `serve(app, ...)`: the runtime adds health, readiness, metrics, internal calls and shutdown. */
  private handListenToRuntime(sf: SourceFile, file: string): boolean {
    const calls = sf.getDescendantsOfKind(SyntaxKind.CallExpression).filter((call) => {
      const callee = call.getExpression();
      return Node.isPropertyAccessExpression(callee) && callee.getName() === 'listen';
    });
    if (calls.length === 0) return false;
    for (const call of calls.reverse()) {
      const callee = call.getExpression();
      if (!Node.isPropertyAccessExpression(callee)) continue;
      const target = callee.getExpression();
      let receiver: Node = target;
      if (Node.isCallExpression(target) && /(^|\.)createServer$/.test(target.getExpression().getText())) {
        const args = target.getArguments();
        receiver = args[args.length - 1] ?? target;
      }
      const args = call.getArguments().map((a) => a.getText());
      call.replaceWithText(`serve(${[receiver.getText(), ...args].join(', ')})`);
    }
    const runtime = this.layout.runtimePackage;
    const isEsm = this.modules.get(file)?.format === 'esm';
    if (isEsm) {
      sf.insertStatements(firstStatementIndex(sf), `import { serve } from '${runtime}';`);
    } else {
      sf.insertStatements(firstStatementIndex(sf), `const { serve } = require('${runtime}');`);
    }
    return true;
  }

  // ---- facades ---------------------------------------------------------------------------------------------------

  private facade(module: string, req: FacadeRequest, context: FacadeContext): FacadeModule {
    const info = this.modules.get(module);
    const owner = (this.placementOf(module) as { name: string }).name;
    const language = info?.language ?? 'js';
    const format = info?.format ?? 'cjs';
    const facadePath = `remote/${module}`;
    const exportsByName = new Map<string, ExportedSymbol>((info?.exports ?? []).map((e) => [e.name, e]));
    const sf = this.original(module);
    const members: FacadeMember[] = [];
    const typeImports = new Map<string, { names: Set<string>; specifier: string; isDefault: boolean }>();
    const typeDeclarations = new Map<string, string>();
    const typeNames = new Set<string>();
    const runtimeNames = new Set([...req.names]);
    const allNames = uniqueSorted([...req.names, ...req.typeOnly]);

    const needType = (text: string) => {
      if (language !== 'ts') return;
      for (const id of withoutStrings(text).match(/[A-Za-z_$][\w$]*/g) ?? []) this.copyType(sf, module, id, context, typeDeclarations, typeImports, facadePath, typeNames);
    };

    for (const name of allNames) {
      const symbol = exportsByName.get(name);
      const at = `${module}:${symbol?.line ?? 1}`;
      const typeOnly = !runtimeNames.has(name);
      const source = this.reexportSource(module, name, context, facadePath);
      if (source) {
        members.push({ kind: 'reexport', name, importedName: source.importedName, specifier: source.specifier });
        continue;
      }
      if (symbol?.kind === 'type' || (typeOnly && language === 'ts')) {
        if (language === 'ts') {
          const copied = this.copyType(sf, module, name, context, typeDeclarations, typeImports, facadePath, typeNames);
          if (!copied) typeDeclarations.set(name, `export type ${name} = any;`);
        }
        continue;
      }
      if (!symbol) {
        members.push({ kind: 'stub', name, owner, what: name, at, reason: `${module} exports nothing called ${name} that decompose could follow`, isClass: false });
        continue;
      }
      if (symbol.kind === 'function') {
        const seam = this.plan.seams.find((s) => s.callee === module && s.symbol === name && s.from === context.unit.name);
        const convertible = seam ? seam.convertible : symbol.async && symbol.serializable;
        if (convertible) {
          const signature = language === 'ts' ? functionSignature(sf, name) : null;
          if (signature) {
            needType(`${signature.typeParameters} ${signature.params} ${signature.returnType}`);
          }
          members.push({
            kind: 'client',
            name,
            owner,
            operation: operationId(module, name),
            idempotent: READ_NAME.test(name),
            deferred: false,
            cache: this.callCache(context.unit.name, module, name),
            typeParameters: signature?.typeParameters ?? '',
            params: signature?.params ?? '...args: any[]',
            args: signature?.args ?? '...args',
            returnType: signature?.returnType ?? 'Promise<any>',
            at,
          });
          continue;
        }
        if (!symbol.async && symbol.serializable && this.onlyDiscardedCalls(context.files, module, name)) {
          const signature = language === 'ts' ? functionSignature(sf, name) : null;
          if (signature) needType(`${signature.typeParameters} ${signature.params}`);
          members.push({
            kind: 'client',
            name,
            owner,
            operation: operationId(module, name),
            idempotent: false,
            deferred: true,
            cache: null,
            typeParameters: signature?.typeParameters ?? '',
            params: signature?.params ?? '...args: any[]',
            args: signature?.args ?? '...args',
            returnType: 'void',
            at,
          });
          continue;
        }
        members.push({ kind: 'stub', name, owner, what: name, at, reason: seam?.reason ?? (symbol.async ? 'its arguments or result are not JSON-serialisable' : 'a synchronous function whose result is used cannot become a network call'), isClass: false });
        continue;
      }
      if (symbol.kind === 'entity') {
        let type = 'any';
        if (language === 'ts') {
          const written = variableType(sf, name);
          type = (written && this.portableTypeText(written, module, context, facadePath)) ?? 'any';
          needType(type);
        }
        members.push({ kind: 'data', name, owner, operation: operationId(module, name), type, at });
        continue;
      }
      members.push({
        kind: 'stub',
        name,
        owner,
        what: name,
        at,
        reason: symbol.kind === 'class' ? 'a class instance lives in one process and cannot cross the network' : symbol.kind === 'router' ? 'a router belongs to the service that serves its routes' : 'shared module state cannot cross the network',
        isClass: symbol.kind === 'class',
      });
    }
    return {
      path: facadePath,
      module,
      owner,
      language,
      format,
      members: sortBy(members, (m) => (m.name === 'default' ? '\uffff' : m.name)),
      typeImports: [...typeImports.values()]
        .map((t) => ({ names: [...t.names].sort(compareStrings).join(', '), specifier: t.specifier, isDefault: t.isDefault }))
        .sort((a, b) => compareStrings(a.specifier + a.names, b.specifier + b.names)),
      typeDeclarations: [...typeDeclarations.keys()].sort(compareStrings).map((k) => typeDeclarations.get(k)!),
    };
  }

  /**
   * Whether every use of `name` (exported by `module`) in these files is a call whose result is thrown away, as in
   * `mailer.send({ … });`. Only then can a synchronous function become a call to its owner: nothing waits for the
   * value. Any other use (a value passed on, a result assigned, a module object that escapes) answers no.
   */
  private onlyDiscardedCalls(files: Iterable<string>, module: string, name: string): boolean {
    let calls = 0;
    for (const file of files) {
      const specifiers = new Set((this.edgesFrom.get(file) ?? []).filter((e) => e.to === module && !e.typeOnly).map((e) => e.specifier));
      if (specifiers.size === 0) continue;
      const sf = this.original(file);
      const bindings = bindingsOf(sf, specifiers, name);
      if (bindings === null) return false;
      for (const id of sf.getDescendantsOfKind(SyntaxKind.Identifier)) {
        if (!isReference(id)) continue;
        const text = id.getText();
        if (bindings.direct.has(text)) {
          if (!isDiscardedCall(id)) return false;
          calls += 1;
        } else if (bindings.namespaces.has(text)) {
          const parent = id.getParent();
          if (!Node.isPropertyAccessExpression(parent) || parent.getExpression() !== id) return false;
          if (parent.getName() !== name) continue;
          if (!isDiscardedCall(parent)) return false;
          calls += 1;
        }
      }
    }
    return calls > 0;
  }

  /**
   * A type the checker spelled with `import("../db/table.js").Table`: the specifier is made to work from the facade
   * (a library's package path, or a module the unit has); null when it points at another service's module.
   */
  private portableTypeText(text: string, module: string, context: FacadeContext, facadePath: string): string | null {
    let portable = true;
    const out = text.replace(/import\("([^"]+)"\)/g, (all, specifier: string) => {
      const target = this.edgeBySpecifier.get(`${module}\0${specifier}`)?.to ?? (specifier.startsWith('.') ? this.resolveRelative(module, specifier) : null);
      if (!target && !specifier.startsWith('.')) return all; // an npm package: the same specifier works
      if (!target) {
        portable = false;
        return all;
      }
      const p = this.placementOf(target);
      if (p.kind === 'library' && p.name !== context.unit.name) return `import(${JSON.stringify(`${this.units.get(p.name)!.packageName}/${this.packagedPath(target)}`)})`;
      if (context.files.has(target) || p.kind === 'library') return `import(${JSON.stringify(styled(specifier, relativeSpecifier(facadePath, target)))})`;
      portable = false;
      return all;
    });
    return portable ? out : null;
  }

  private resolveRelative(from: string, specifier: string): string | null {
    const base = path.posix.join(path.posix.dirname(from), specifier);
    const stem = base.replace(CODE_EXTENSION, '');
    for (const candidate of [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.cts`, `${stem}.js`, `${base}/index.ts`, `${base}/index.js`]) {
      if (this.modules.has(candidate)) return candidate;
    }
    return null;
  }

  /** The cache the plan gives a call this unit makes (`CALL <module>#<symbol>`), with the tags of its result. */
  private callCache(unit: string, module: string, symbol: string): { ttlSeconds: number; tags: string[] } | null {
    const ttl = this.plan.services.find((s) => s.name === unit)?.cache?.[callCacheKey(module, symbol)];
    if (ttl === undefined) return null;
    const tags = callTags(this.analysis, module);
    return tags.length > 0 ? { ttlSeconds: ttl, tags } : null;
  }

  /**
   * Where a facade can take `name` from without a network call: the module itself imported it from a library, or
   * from a module the unit has (its own, or a copy).
   */
  private reexportSource(module: string, name: string, context: FacadeContext, facadePath: string): { specifier: string; importedName: string } | null {
    for (const edge of this.edgesFrom.get(module) ?? []) {
      if (edge.typeOnly || !edge.names.includes(name)) continue;
      const p = this.placementOf(edge.to);
      if (p.kind === 'library' && p.name !== context.unit.name) {
        return { specifier: `${this.units.get(p.name)!.packageName}/${this.packagedPath(edge.to)}`, importedName: name };
      }
      if (context.files.has(edge.to) || (p.kind === 'library' && p.name === context.unit.name)) {
        return { specifier: styled(edge.specifier, relativeSpecifier(facadePath, edge.to)), importedName: name };
      }
    }
    return null;
  }

  /**
   * Copies a type the facade's signatures name (and the types it names in turn) from the module, or imports it from
   * where the module imported it. Returns false when the module neither declares nor imports it (a global).
   */
  private copyType(
    sf: SourceFile,
    module: string,
    name: string,
    context: FacadeContext,
    declarations: Map<string, string>,
    imports: Map<string, { names: Set<string>; specifier: string; isDefault: boolean }>,
    facadePath: string,
    seen: Set<string>,
  ): boolean {
    if (seen.has(name)) return declarations.has(name) || [...imports.values()].some((i) => i.names.has(name));
    seen.add(name);
    const declared = sf.getInterface(name) ?? sf.getTypeAlias(name) ?? sf.getEnum(name);
    if (declared) {
      let text = declared.getText();
      if (!declared.isExported()) text = `export ${text}`;
      declarations.set(name, text.replace(/^export\s+default\s+/, 'export '));
      for (const id of withoutStrings(text).match(/[A-Za-z_$][\w$]*/g) ?? []) {
        if (id !== name) this.copyType(sf, module, id, context, declarations, imports, facadePath, seen);
      }
      return true;
    }
    if (sf.getClass(name)) {
      declarations.set(name, `export type ${name} = any;`);
      return true;
    }
    for (const declaration of sf.getImportDeclarations()) {
      const clause = declaration.getImportClause();
      if (!clause) continue;
      const isDefault = clause.getDefaultImport()?.getText() === name;
      const named = clause.getNamedImports().find((n) => (n.getAliasNode() ?? n.getNameNode()).getText() === name);
      if (!isDefault && !named) continue;
      const importedName = isDefault ? 'default' : named!.getName();
      const edge = this.edgeBySpecifier.get(`${module}\0${declaration.getModuleSpecifierValue()}`);
      let specifier: string;
      if (!edge) {
        specifier = declaration.getModuleSpecifierValue(); // an npm package: same specifier
      } else {
        const p = this.placementOf(edge.to);
        if (p.kind === 'library' && p.name !== context.unit.name) specifier = `${this.units.get(p.name)!.packageName}/${this.packagedPath(edge.to)}`;
        else if (context.files.has(edge.to) || p.kind === 'library') specifier = styled(declaration.getModuleSpecifierValue(), relativeSpecifier(facadePath, edge.to));
        else if (this.stateless.has(edge.to)) {
          context.adopt(edge.to);
          specifier = styled(declaration.getModuleSpecifierValue(), relativeSpecifier(facadePath, edge.to));
        } else {
          context.request(edge.to, importedName, true);
          specifier = styled(declaration.getModuleSpecifierValue(), relativeSpecifier(facadePath, `remote/${edge.to}`));
        }
      }
      const key = `${specifier}\0${isDefault}`;
      let entry = imports.get(key);
      if (!entry) imports.set(key, (entry = { names: new Set(), specifier, isDefault }));
      entry.names.add(isDefault || importedName === name ? name : `${importedName} as ${name}`);
      return true;
    }
    return false;
  }
}

interface FacadeContext {
  unit: UnitLayout;
  files: Set<string>;
  request: (module: string, name: string, typeOnly: boolean) => boolean;
  adopt: (module: string) => boolean;
  isForeign: (module: string) => boolean;
}

// ---- syntax helpers ----------------------------------------------------------------------------------------------

/**
 * The local names through which a file reaches `name` of the module it imports with these specifiers: `direct`
 * names bound to it, `namespaces` bound to the whole module (a CommonJS require, `import * as`, a default import
 * of a CommonJS module). Null when the module is reached in a way these cannot follow (`require('./x').send(…)`).
 */
function bindingsOf(sf: SourceFile, specifiers: Set<string>, name: string): { direct: Set<string>; namespaces: Set<string> } | null {
  const direct = new Set<string>();
  const namespaces = new Set<string>();
  for (const declaration of sf.getImportDeclarations()) {
    if (!specifiers.has(declaration.getModuleSpecifierValue())) continue;
    const namespace = declaration.getNamespaceImport();
    if (namespace) namespaces.add(namespace.getText());
    const defaultImport = declaration.getDefaultImport();
    if (defaultImport) (name === 'default' ? direct : namespaces).add(defaultImport.getText());
    for (const named of declaration.getNamedImports()) {
      if (named.getName() === name) direct.add((named.getAliasNode() ?? named.getNameNode()).getText());
    }
  }
  for (const call of sf.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    const literal = requireLiteral(call);
    if (!literal || !specifiers.has(literal.getLiteralText())) continue;
    const parent = call.getParent();
    if (Node.isVariableDeclaration(parent) && parent.getInitializer() === call) {
      const nameNode = parent.getNameNode();
      if (Node.isIdentifier(nameNode)) {
        namespaces.add(nameNode.getText());
        continue;
      }
      if (Node.isObjectBindingPattern(nameNode)) {
        for (const element of nameNode.getElements()) {
          if ((element.getPropertyNameNode() ?? element.getNameNode()).getText() === name) direct.add(element.getNameNode().getText());
        }
        continue;
      }
    }
    if (Node.isExpressionStatement(parent)) continue;
    return null;
  }
  return { direct, namespaces };
}

/** `f(…);` or `m.f(…);` as a statement of its own: the call's value goes nowhere. */
function isDiscardedCall(callee: Node): boolean {
  const call = callee.getParent();
  return call !== undefined && Node.isCallExpression(call) && call.getExpression() === callee && Node.isExpressionStatement(call.getParent());
}

/**
 * The string literals that name modules: of import and export declarations, `import x = require()`, `require()`,
 * `require.resolve()`, `import()` and `import('…')` types. Read off the compiler's tree, with its walk (ts-morph's
 * descendant search takes the same walk, without JSDoc, and wraps every node it passes).
 */
function moduleSpecifierLiterals(sf: ts.SourceFile): ts.StringLiteral[] {
  const out: ts.StringLiteral[] = [];
  for (const statement of sf.statements) {
    if ((ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
      out.push(statement.moduleSpecifier);
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isExternalModuleReference(node) && ts.isStringLiteral(node.expression)) out.push(node.expression);
    if (ts.isCallExpression(node)) {
      const literal = requireSpecifier(node, sf);
      if (literal) out.push(literal);
    }
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) out.push(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(sf, visit);
  return out;
}

/** The specifier of `require('…')`, `require.resolve('…')` or `import('…')`. */
function requireSpecifier(call: ts.CallExpression, sf: ts.SourceFile): ts.StringLiteral | null {
  const callee = call.expression;
  // The callee's text only where its name says it may be one of them: asked of every call, getText makes a string.
  const isRequire =
    callee.kind === ts.SyntaxKind.ImportKeyword ||
    (ts.isIdentifier(callee) && callee.text === 'require' && callee.getText(sf) === 'require') ||
    (ts.isPropertyAccessExpression(callee) && callee.name.text === 'resolve' && callee.getText(sf) === 'require.resolve');
  const first = call.arguments[0];
  return isRequire && first && ts.isStringLiteral(first) ? first : null;
}

function requireLiteral(call: Node): import('ts-morph').StringLiteral | null {
  if (!Node.isCallExpression(call) || requireSpecifier(call.compilerNode, call.getSourceFile().compilerNode) === null) return null;
  return call.getArguments()[0] as import('ts-morph').StringLiteral;
}

interface TextEdit {
  start: number;
  end: number;
  text: string;
}

/** The text with each span replaced (spans do not overlap). */
function applyEdits(text: string, edits: TextEdit[]): string {
  let out = '';
  let at = 0;
  for (const edit of [...edits].sort((a, b) => a.start - b.start)) {
    out += text.slice(at, edit.start) + edit.text;
    at = edit.end;
  }
  return out + text.slice(at);
}

/** A string for between `quote`s: ts-morph's escapeForWithinString (the quote escaped, a line break continued). */
function escapeWithinQuotes(value: string, quote: "'" | '"'): string {
  return value.split(quote).join(`\\${quote}`).replace(/(\r?\n)/g, '\\$1');
}

/** Whether an identifier reads a binding (not a property name, a declaration's own name or an import specifier). */
function isReference(id: Node): boolean {
  return isReferenceNode(id.compilerNode as ts.Identifier);
}

function isReferenceNode(id: ts.Identifier): boolean {
  const parent = id.parent as ts.Node | undefined;
  if (!parent) return false;
  if (ts.isPropertyAccessExpression(parent) && parent.name === id) return false;
  if (ts.isPropertyAssignment(parent) && parent.name === id) return false;
  if (ts.isImportSpecifier(parent) || ts.isImportClause(parent) || ts.isNamespaceImport(parent)) return false;
  if (ts.isBindingElement(parent) && parent.propertyName === id) return false;
  if ((ts.isVariableDeclaration(parent) || ts.isFunctionDeclaration(parent) || ts.isClassDeclaration(parent) || ts.isParameter(parent) || ts.isBindingElement(parent)) && parent.name === id) {
    return false;
  }
  if (ts.isPropertySignature(parent) || ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent)) return false;
  return true;
}

/**
 * The first identifier of the file that refers to a removed name, in the order ts-morph's search for identifiers
 * takes (document order, JSDoc included). Found in the compiler's tree and only it wrapped: the search wrapped every
 * identifier of the file again after each removal, and a composition entry of a 50-service plan loses dozens of
 * statements in each service's copy.
 */
function firstRemovedReference(sf: SourceFile, removed: Set<string>): Node | undefined {
  const tree = sf.compilerNode;
  let found: ts.Identifier | undefined;
  const visit = (node: ts.Node): true | undefined => {
    if (ts.isIdentifier(node) && removed.has(node.getText(tree)) && isReferenceNode(node)) {
      found = node;
      return true;
    }
    for (const doc of (node as { jsDoc?: ts.Node[] }).jsDoc ?? []) if (visit(doc)) return true;
    return ts.forEachChild(node, visit);
  };
  ts.forEachChild(tree, visit);
  if (!found) return undefined;
  const wrapped = sf.getDescendantAtPos(found.getStart(tree));
  // Always the identifier itself; should ts-morph ever answer otherwise, the search it makes itself decides.
  if (wrapped?.compilerNode === found) return wrapped;
  return sf.getDescendantsOfKind(SyntaxKind.Identifier).find((id) => removed.has(id.getText()) && isReference(id));
}

/**
 * Removes the smallest whole thing that uses `node`: an element of a route table (`const routes = [[...], ...]`), a
 * property of `module.exports = {...}` or `export default {...}`, an export specifier, or else its statement.
 * Names the removed statement declared are added to `removed`, so their uses go too.
 */
function removeUnit(node: Node, removed: Set<string>): void {
  let current: Node = node;
  for (;;) {
    const parent = current.getParent();
    if (!parent) return;
    if (Node.isExportSpecifier(parent)) {
      parent.remove();
      return;
    }
    if (Node.isArrayLiteralExpression(parent) && Node.isVariableDeclaration(parent.getParent())) {
      parent.removeElement(parent.getElements().indexOf(current as import('ts-morph').Expression));
      return;
    }
    if ((Node.isShorthandPropertyAssignment(current) || Node.isPropertyAssignment(current) || Node.isSpreadAssignment(current)) && Node.isObjectLiteralExpression(parent) && isExportsObject(parent)) {
      current.remove();
      return;
    }
    if (Node.isSourceFile(parent) || Node.isBlock(parent) || Node.isModuleBlock(parent) || Node.isCaseClause(parent) || Node.isDefaultClause(parent)) {
      for (const name of declaredNames(current)) removed.add(name);
      if (Node.isStatement(current)) current.remove();
      return;
    }
    current = parent;
  }
}

/** `const { a, b } = require(...)` without `a` (the whole statement when nothing is left). */
function removeBindingElement(element: import('ts-morph').BindingElement): void {
  const pattern = element.getParentIfKindOrThrow(SyntaxKind.ObjectBindingPattern);
  const rest = pattern.getElements().filter((e) => e !== element).map((e) => e.getText());
  if (rest.length === 0) {
    const statement = pattern.getFirstAncestorByKind(SyntaxKind.VariableStatement);
    if (statement && statement.getDeclarations().length === 1) {
      statement.remove();
      return;
    }
  }
  pattern.replaceWithText(`{ ${rest.join(', ')} }`);
}

function isExportsObject(object: Node): boolean {
  const parent = object.getParent();
  if (Node.isExportAssignment(parent)) return true;
  if (Node.isBinaryExpression(parent) && parent.getOperatorToken().getKind() === SyntaxKind.EqualsToken && parent.getRight() === object) {
    const left = parent.getLeft().getText();
    return left === 'module.exports' || left === 'exports';
  }
  return false;
}

function declaredNames(statement: Node): string[] {
  if (Node.isVariableStatement(statement)) {
    return statement.getDeclarations().flatMap((d) => {
      const name = d.getNameNode();
      if (Node.isIdentifier(name)) return [name.getText()];
      return name.getDescendantsOfKind(SyntaxKind.Identifier).filter((id) => Node.isBindingElement(id.getParent()) && (id.getParent() as import('ts-morph').BindingElement).getNameNode() === id).map((id) => id.getText());
    });
  }
  if (Node.isFunctionDeclaration(statement) || Node.isClassDeclaration(statement)) {
    const name = statement.getName();
    return name ? [name] : [];
  }
  return [];
}

/** Names a module exports, syntactically (ESM declarations and specifiers, CommonJS `exports.x` and `module.exports = {}`). */
function exportedNames(sf: SourceFile): Set<string> {
  const names = new Set<string>();
  for (const statement of sf.getStatements()) {
    // The keywords, not isExported()/isDefaultExport(): for a declaration without them those ask the type checker,
    // which builds a new program of the whole monolith after every edit the pruning makes (a 1,000-module
    // scaffold spent 23 of its 46 s there). A declaration exported by an `export { … }` or `export default name`
    // statement is counted by that statement, under the name it is exported as.
    if (Node.isVariableStatement(statement) && statement.hasExportKeyword()) for (const d of statement.getDeclarations()) names.add(d.getName());
    if ((Node.isFunctionDeclaration(statement) || Node.isClassDeclaration(statement)) && statement.hasExportKeyword()) names.add(statement.hasDefaultKeyword() ? 'default' : (statement.getName() ?? 'default'));
    if (Node.isExportAssignment(statement)) names.add('default');
    if (Node.isExportDeclaration(statement)) for (const s of statement.getNamedExports()) names.add((s.getAliasNode() ?? s.getNameNode()).getText());
    if (Node.isExpressionStatement(statement)) {
      const expression = statement.getExpression();
      if (Node.isBinaryExpression(expression) && expression.getOperatorToken().getKind() === SyntaxKind.EqualsToken) {
        const left = expression.getLeft().getText();
        const member = /^(?:module\.)?exports\.([A-Za-z_$][\w$]*)$/.exec(left);
        if (member) names.add(member[1]!);
        if (left === 'module.exports') {
          names.add('default');
          const right = expression.getRight();
          if (Node.isObjectLiteralExpression(right)) {
            for (const property of right.getProperties()) {
              if (Node.isShorthandPropertyAssignment(property) || Node.isPropertyAssignment(property)) names.add(property.getName());
            }
          }
        }
      }
    }
  }
  return names;
}

/** Globals whose calls and constructors make plain values, not shared state. */
const PURE_GLOBALS = new Set(['Object', 'Array', 'Symbol', 'Map', 'Set', 'WeakMap', 'WeakSet', 'RegExp', 'Date', 'JSON', 'Math', 'Number', 'String', 'Boolean', 'BigInt', 'Error', 'TypeError', 'RangeError', 'Promise', 'URL', 'parseInt', 'parseFloat', 'require', 'Buffer', 'TextEncoder', 'TextDecoder', 'Intl']);

/** A top-level initialiser that constructs or calls something other than a pure global (see createsInstances). */
function initializesInstance(init: Node): boolean {
  let expression: Node = init;
  while (Node.isAsExpression(expression) || Node.isParenthesizedExpression(expression) || Node.isSatisfiesExpression(expression) || Node.isNonNullExpression(expression)) {
    expression = expression.getExpression();
  }
  if (Node.isAwaitExpression(expression)) return true;
  if (Node.isNewExpression(expression) || Node.isCallExpression(expression)) {
    if (Node.isCallExpression(expression) && requireLiteral(expression)) return false;
    const callee = expression.getExpression();
    // require('x').y(...) and require('x')(...) run the other module's code: an instance unless it is pure.
    const root = callee.getText().split(/[.([]/)[0] ?? '';
    if (PURE_GLOBALS.has(root)) return expression.getArguments().some((a) => initializesInstance(a));
    return true;
  }
  if (Node.isObjectLiteralExpression(expression)) {
    return expression.getProperties().some((p) => Node.isPropertyAssignment(p) && p.getInitializer() !== undefined && initializesInstance(p.getInitializer()!));
  }
  if (Node.isArrayLiteralExpression(expression)) return expression.getElements().some((e) => initializesInstance(e));
  return false;
}

/** Whether the code on this line is inside a function body (not run when the module loads). */
function isInsideFunction(sf: SourceFile, line: number): boolean {
  const start = sf.compilerNode.getPositionOfLineAndCharacter(Math.max(0, line - 1), 0);
  const lineText = sf.getFullText().split('\n')[line - 1] ?? '';
  const offset = lineText.length - lineText.trimStart().length;
  const node = sf.getDescendantAtPos(start + offset);
  return node?.getFirstAncestor((a) => Node.isFunctionDeclaration(a) || Node.isFunctionExpression(a) || Node.isArrowFunction(a) || Node.isMethodDeclaration(a)) !== undefined;
}

/** Index after a leading 'use strict' directive (and after a shebang, which is trivia). */
function firstStatementIndex(sf: SourceFile): number {
  const statements = sf.getStatements();
  let index = 0;
  while (index < statements.length) {
    const statement = statements[index]!;
    if (Node.isExpressionStatement(statement) && Node.isStringLiteral(statement.getExpression())) index += 1;
    else break;
  }
  return index;
}

interface FunctionSignature {
  typeParameters: string;
  params: string;
  args: string;
  returnType: string;
}

/** The exported function's signature as written, for a client with the same name and types. */
function functionSignature(sf: SourceFile, name: string): FunctionSignature | null {
  let fn: import('ts-morph').FunctionDeclaration | import('ts-morph').ArrowFunction | import('ts-morph').FunctionExpression | undefined;
  if (name === 'default') {
    const declaration = sf.getDefaultExportSymbol()?.getDeclarations()[0];
    if (declaration && Node.isFunctionDeclaration(declaration)) fn = declaration;
  } else {
    fn = sf.getFunction(name);
    if (!fn) {
      const init = sf.getVariableDeclaration(name)?.getInitializer();
      if (init && (Node.isArrowFunction(init) || Node.isFunctionExpression(init))) fn = init;
    }
  }
  if (!fn) return null;
  const params: string[] = [];
  const args: string[] = [];
  fn.getParameters().forEach((parameter, index) => {
    const nameNode = parameter.getNameNode();
    const local = Node.isIdentifier(nameNode) ? nameNode.getText() : `arg${index}`;
    const type = parameter.getTypeNode()?.getText() ?? 'any';
    const optional = parameter.hasQuestionToken() || parameter.hasInitializer();
    if (parameter.isRestParameter()) {
      params.push(`...${local}: ${type}`);
      args.push(`...${local}`);
    } else {
      params.push(`${local}${optional ? '?' : ''}: ${type}`);
      args.push(local);
    }
  });
  const declared = fn.getReturnTypeNode()?.getText();
  const returnType = declared && /^Promise\s*</.test(declared) ? declared : 'Promise<any>';
  const typeParameters = fn.getTypeParameters().length > 0 ? `<${fn.getTypeParameters().map((t) => t.getText()).join(', ')}>` : '';
  return { typeParameters, params: params.join(', '), args: args.join(', '), returnType };
}

/** The declared (or written-out inferred) type of an exported variable; null when it would not stand on its own. */
function variableType(sf: SourceFile, name: string): string | null {
  const declaration = sf.getVariableDeclaration(name);
  if (!declaration) return null;
  const written = declaration.getTypeNode()?.getText();
  if (written) return written;
  const init = declaration.getInitializer();
  if (init && Node.isNewExpression(init)) {
    const typeArguments = init.getTypeArguments().map((t) => t.getText());
    const constructor = init.getExpression().getText();
    if (/^[A-Za-z_$][\w$]*$/.test(constructor)) return typeArguments.length > 0 ? `${constructor}<${typeArguments.join(', ')}>` : constructor;
  }
  const text = declaration.getType().getText(declaration, ts.TypeFormatFlags.NoTruncation);
  return text === 'any' ? null : text;
}

/** Type text without its string literals (`import("../db/x.js")` names no type). */
function withoutStrings(text: string): string {
  return text.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""');
}

/** Keeps a specifier's style: its extension (`.js` for `.ts` files), or none, and `dir` for `dir/index`. */
export function styled(original: string, relative: string): string {
  const extension = CODE_EXTENSION.exec(original)?.[0];
  if (extension) return relative.replace(CODE_EXTENSION, extension);
  const bare = relative.replace(CODE_EXTENSION, '');
  if (path.posix.basename(bare) === 'index' && !/(^|\/)index$/.test(original)) return bare.replace(/\/index$/, '') || '.';
  return bare;
}

/** The npm package a bare specifier names (`@scope/pkg/sub` → `@scope/pkg`). */
export function packageName(specifier: string): string | null {
  if (specifier.startsWith('#')) return null;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return /^(@[a-z0-9._~-]+\/)?[a-z0-9._~-]+$/i.test(name) ? name : null;
}
