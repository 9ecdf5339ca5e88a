import { builtinModules } from 'node:module';
import type { Analysis } from '../model/analysis.js';
import type { FileChange } from '../model/file-change.js';
import type { Plan } from '../model/plan.js';
import { compareStrings, sortBy, uniqueSorted } from '../util/compare.js';
import { UserError } from '../util/errors.js';
import { buildCachePolicy, type ServiceCachePolicy } from './cache-policy.js';
import { type CiProvider, renderCi } from './deploy-ci.js';
import { renderDocker } from './deploy-docker.js';
import { renderK8s } from './deploy-k8s.js';
import { toEnvName } from './deploy-model.js';
import { renderObservability } from './deploy-observability.js';
import { renderGateway } from './gateway.js';
import { type UnitLayout, type WorkspaceLayout, buildLayout, importablePath, relativeSpecifier } from './layout.js';
import { markedCopy, renderTemplateFile, renderTemplates } from './render-templates.js';
import { RUNTIME_DEV_DEPENDENCIES, RUNTIME_PEER_DEPENDENCIES, renderRuntimePackage } from './runtime-package.js';
import { type ExtractedCode, type ExtractedUnit, type FacadeModule, type MigrationNote, type SourceSet, extractCode, styled } from './service-code.js';

/**
 * `decompose scaffold` as a pure function: the plan, the analysis and the monolith's sources in, the whole workspace
 * out as file changes (the sink writes them). Services, shared packages and the runtime come from the code; the
 * gateway, containers, Kubernetes, observability and CI from their own generators.
 */

export const SCAFFOLD_TARGETS = ['services', 'gateway', 'docker', 'k8s', 'observability', 'ci'] as const;
export type ScaffoldTarget = (typeof SCAFFOLD_TARGETS)[number];

/** What app/ reads from the monolith besides its modules. */
export interface MonolithManifest {
  packageJson: {
    name?: string;
    version?: string;
    type?: string;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    engines?: Record<string, string>;
  };
  /** `compilerOptions` of the monolith's tsconfig as written (null: none, or a JavaScript project). */
  compilerOptions: Record<string, unknown> | null;
}

export interface ScaffoldOptions {
  targets: readonly ScaffoldTarget[];
  /** Public host of the Ingress. */
  host: string;
  registry?: string;
  ci: CiProvider;
  /** The plan and the scaffold folder, relative to the repository root (for CI and docs). */
  planFile: string;
  scaffoldDir: string;
}

export interface ScaffoldSummary {
  services: { name: string; files: number; facades: number; operations: number; cachedRoutes: number }[];
  libraries: { name: string; files: number }[];
  notes: MigrationNote[];
}

export interface ScaffoldResult {
  changes: FileChange[];
  summary: ScaffoldSummary;
}

/** Compiler options a service must not inherit: output placement is the scaffold's, aliases were rewritten away. */
const DROPPED_COMPILER_OPTIONS = new Set([
  'noEmit', 'paths', 'baseUrl', 'rootDir', 'rootDirs', 'outDir', 'outFile', 'composite', 'incremental', 'tsBuildInfoFile',
  'declaration', 'declarationMap', 'emitDeclarationOnly', 'declarationDir', 'allowImportingTsExtensions', 'noUnusedLocals',
  'noUnusedParameters', 'sourceRoot', 'mapRoot', 'typeRoots',
]);

export function renderScaffold(plan: Plan, analysis: Analysis, sources: SourceSet, manifest: MonolithManifest, options: ScaffoldOptions): ScaffoldResult {
  if (plan.services.length === 0) {
    throw new UserError('DEC-091', 'the plan has no services to scaffold', { hint: 'Run `decompose plan` first, or add services to the plan.' });
  }
  const layout = buildLayout(plan, analysis);
  const written = manifest.compilerOptions ?? {};
  const code = extractCode(layout, analysis, plan, sources, {
    baseUrl: typeof written.baseUrl === 'string' ? written.baseUrl : undefined,
    paths: typeof written.paths === 'object' && written.paths !== null ? (written.paths as Record<string, string[]>) : undefined,
  });
  const cache = buildCachePolicy(plan, analysis, layout, code);
  const targets = new Set(options.targets);
  const changes: FileChange[] = [];
  if (targets.has('services')) changes.push(...renderWorkspace(plan, analysis, layout, code, cache, manifest, options, sources));
  if (targets.has('gateway')) changes.push(...renderGateway(plan));
  if (targets.has('docker')) changes.push(...renderDocker(plan, analysis, { host: options.host, registry: options.registry }));
  if (targets.has('k8s')) changes.push(...renderK8s(plan, analysis, { host: options.host, registry: options.registry }));
  if (targets.has('observability')) changes.push(...renderObservability(plan));
  if (targets.has('ci')) {
    // The CI files live at the repository root, the rest in the scaffold folder: the caller writes them apart.
    void renderCi;
  }
  const seen = new Map<string, string>();
  for (const change of changes) {
    if (seen.has(change.path)) throw new Error(`two generators wrote ${change.path}`);
    seen.set(change.path, change.content);
  }
  const summary: ScaffoldSummary = {
    services: code.units
      .filter((u) => u.unit.kind === 'service')
      .map((u) => ({
        name: u.unit.name,
        files: u.files.length,
        facades: u.facades.length,
        operations: code.internal[u.unit.name]?.length ?? 0,
        cachedRoutes: cache[u.unit.name]?.routes.length ?? 0,
      })),
    libraries: code.units.filter((u) => u.unit.kind === 'library').map((u) => ({ name: u.unit.name, files: u.files.length })),
    notes: code.units.flatMap((u) => u.notes),
  };
  return { changes: changes.sort((a, b) => compareStrings(a.path, b.path)), summary };
}

/** The CI files, relative to the repository root (the scaffold folder is one part of it). */
export function renderScaffoldCi(plan: Plan, options: ScaffoldOptions): FileChange[] {
  return renderCi(plan, { provider: options.ci, planFile: options.planFile, scaffoldDir: options.scaffoldDir });
}

function renderWorkspace(
  plan: Plan,
  analysis: Analysis,
  layout: WorkspaceLayout,
  code: ExtractedCode,
  cache: Record<string, ServiceCachePolicy>,
  manifest: MonolithManifest,
  options: ScaffoldOptions,
  sources: SourceSet,
): FileChange[] {
  const changes: FileChange[] = [];
  const version = manifest.packageJson.version ?? '0.0.0';
  const esm = manifest.packageJson.type === 'module';
  const declared = { ...(manifest.packageJson.devDependencies ?? {}), ...(manifest.packageJson.dependencies ?? {}) };
  const runtimeDeps = manifest.packageJson.dependencies ?? {};
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const isTs = layout.language === 'ts';
  const compilerOptions = baseCompilerOptions(manifest.compilerOptions, isTs, esm);
  const shared = layout.libraries[0];
  // Shared modules that export classes: main registers their Error subclasses so remote errors keep their class.
  const errorModules = shared
    ? shared.modules
        .filter((m) => analysis.modules.find((x) => x.path === m)?.exports.some((e) => e.kind === 'class'))
        .map((m) => `${shared.packageName}/${isTs ? importablePath(m) : m}`)
    : [];
  const libraryUsers = new Map<string, string[]>();
  for (const unit of code.units) for (const library of unit.libraries) libraryUsers.set(library, [...(libraryUsers.get(library) ?? []), unit.unit.name]);

  const dependenciesOf = (unit: ExtractedUnit, notes: MigrationNote[]): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const external of unit.externals) {
      if (builtins.has(external) || external === layout.runtimePackage) continue;
      if (external.startsWith(`@${layout.scope}/`)) continue;
      const version = runtimeDeps[external] ?? declared[external];
      if (version === undefined) {
        notes.push({ kind: 'unresolved', unit: unit.unit.name, at: 'package.json', message: `the code imports \`${external}\`, which the monolith's package.json does not list: add it to ${unit.unit.dir}/package.json` });
        continue;
      }
      out[external] = version;
    }
    // '*' links the workspace package whatever its version.
    for (const library of unit.libraries) out[`@${layout.scope}/${library}`] = '*';
    if (unit.unit.kind === 'service') {
      out[layout.runtimePackage] = '*';
      for (const [name, range] of Object.entries(RUNTIME_PEER_DEPENDENCIES)) out[name] ??= declared[name] ?? range;
    }
    return sortRecord(out);
  };

  // Root: workspaces, shared compiler options, docs.
  const workspaces = ['packages/runtime', ...layout.libraries.map((l) => l.dir), ...layout.services.map((s) => s.dir)];
  const devDependencies: Record<string, string> = { ...RUNTIME_DEV_DEPENDENCIES };
  for (const [name, range] of Object.entries(manifest.packageJson.devDependencies ?? {})) {
    if (name.startsWith('@types/') || name === 'typescript') devDependencies[name] = range;
  }
  changes.push(
    ...renderTemplates({
      template: 'workspace',
      into: '',
      context: {
        packageName: `@${layout.scope}/workspace`,
        version,
        description: `${plan.project}, decomposed into services by decompose`,
        workspaces,
        references: layout.services.map((service) => ({ path: service.dir })),
        devDependencies: sortRecord(devDependencies),
        engines: { node: '>=20.17' },
        compilerOptions,
        project: plan.project,
        planFile: options.planFile,
        serviceCount: layout.services.length,
        libraryCount: layout.libraries.length,
        runtimePackage: layout.runtimePackage,
        services: layout.services.map((service) => {
          const planned = plan.services.find((s) => s.name === service.name)!;
          return {
            name: service.name,
            routeCount: planned.routes.length,
            owns: planned.owns.length > 0 ? planned.owns.map((o) => `\`${o}\``).join(', ') : '—',
            calls: planned.dependsOn.length > 0 ? planned.dependsOn.map((d) => `\`${d}\``).join(', ') : '—',
          };
        }),
        libraries: layout.libraries.map((l) => ({ name: l.name, packageName: l.packageName })),
        clientCount: count(code, 'client'),
        dataCount: count(code, 'data'),
        sections: migrationSections(plan, analysis, code, sources),
        order: extractionOrder(plan),
      },
    }),
  );
  changes.push(...renderRuntimePackage({ packageName: layout.runtimePackage, project: plan.project }));

  for (const extracted of code.units) {
    const unit = extracted.unit;
    const notes: MigrationNote[] = [];
    const dependencies = dependenciesOf(extracted, notes);
    extracted.notes.push(...notes);
    for (const file of extracted.files) changes.push(markedCopy(`${unit.dir}/${file.path}`, file.content, `${file.from} (the monolith's code, imports rewritten)`));
    for (const facade of extracted.facades) changes.push(renderFacade(`${unit.dir}/${facade.path}`, facade, layout));
    const include = isTs ? ['**/*.ts', '**/*.tsx', '**/*.js'] : ['**/*.js', '**/*.cjs', '**/*.mjs'];
    const packageFields = (description: string) => ({ name: unit.name, packageName: unit.packageName, project: plan.project, version, description, esm });
    if (unit.kind === 'library') {
      changes.push(
        ...renderTemplates({
          template: 'library',
          into: '',
          service: unit.name,
          context: {
            ...packageFields(`Shared library ${unit.name} of ${plan.project}`),
            exportsTarget: isTs ? './dist/*' : './*',
            // A composite project: services reference it, and `tsc -b` builds it once, incrementally.
            scripts: isTs ? { build: 'tsc -b', typecheck: 'tsc -b' } : { typecheck: 'tsc -p tsconfig.json --noEmit' },
            dependencies,
            compilerOptions: isTs ? { rootDir: '.', outDir: 'dist', noEmit: false, composite: true, declaration: true } : { rootDir: '.', noEmit: true, allowJs: true, checkJs: false },
            include,
            references: [],
            libraries: plan.sharedLibraries.map((l) => ({ name: l.name, modules: l.modules })),
            usedBy: uniqueSorted(libraryUsers.get(unit.name) ?? []),
          },
        }),
      );
      continue;
    }
    const planned = plan.services.find((s) => s.name === unit.name)!;
    const operations = code.internal[unit.name] ?? [];
    const serverEntry = extracted.serverEntry ? compiledSpecifier('main.js', extracted.serverEntry) : null;
    changes.push(
      ...renderTemplates({
        template: 'service/common',
        into: '',
        service: unit.name,
        context: {
          ...packageFields(`${unit.name} service of ${plan.project}`),
          // tsc -b builds the workspace packages the service references first (once, incrementally), then it.
          scripts: {
            build: 'tsc -b',
            typecheck: 'tsc -b',
            start: 'node dist/main.js',
            test: 'node --test --test-reporter=spec',
          },
          dependencies,
          engines: { node: '>=20.17' },
          compilerOptions: isTs ? { rootDir: '.', outDir: 'dist', noEmit: false } : { rootDir: '.', outDir: 'dist', noEmit: false, allowJs: true, checkJs: false },
          include,
          references: [{ path: '../../packages/runtime' }, ...(isTs && extracted.libraries.length > 0 ? [{ path: '../../packages/shared' }] : [])],
          routes: planned.routes,
          owns: planned.owns,
          calls: planned.dependsOn.map((d) => ({ name: d, envName: `${toEnvName(d)}_URL` })),
          operations: operations.map((o) => o.operation),
          moduleCount: unit.modules.length,
          copiedCount: extracted.notes.filter((n) => n.kind === 'copied').length,
          composition: layout.compositionEntries,
          serverEntry: extracted.serverEntry ?? '(none found)',
          runtime: layout.runtimePackage,
        },
      }),
    );
    const flavour = isTs ? 'ts' : esm ? 'esm' : 'cjs';
    changes.push(
      ...renderTemplates({
        template: `service/${flavour}`,
        into: '',
        service: unit.name,
        context: {
          runtime: layout.runtimePackage,
          config: {
            service: unit.name,
            routes: planned.routes.map(routeRef),
            cache: { routes: cache[unit.name]?.routes ?? [], writes: cache[unit.name]?.writes ?? [] },
            redis: true,
          },
          serverEntry,
          errorModules,
          noServerEntry: `${unit.name}: decompose found no app.listen(...) in the monolith's entry modules; start the app with serve(app) from ${layout.runtimePackage}`,
          operations: operations.map((operation, index) => {
            const isDefault = operation.symbol === 'default';
            return {
              operation: operation.operation,
              symbol: operation.symbol,
              local: `op${index}`,
              isDefault,
              data: operation.kind === 'data',
              specifier: compiledSpecifier('internal.js', operation.module),
            };
          }),
        },
      }),
    );
  }
  return changes;
}

function baseCompilerOptions(written: Record<string, unknown> | null, isTs: boolean, esm: boolean): Record<string, unknown> {
  const defaults: Record<string, unknown> = esm
    ? { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext' }
    : { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext' };
  const options: Record<string, unknown> = { ...defaults, strict: isTs, esModuleInterop: true, skipLibCheck: true };
  if (isTs && written) {
    for (const [key, value] of Object.entries(written)) if (!DROPPED_COMPILER_OPTIONS.has(key)) options[key] = value;
  }
  // Services and packages resolve each other through package.json `exports`: only node16/nodenext read them.
  const module = String(options.module ?? '').toLowerCase();
  if (module !== 'node16' && module !== 'nodenext') {
    options.module = 'NodeNext';
    options.moduleResolution = 'NodeNext';
  } else {
    options.moduleResolution = options.module;
  }
  options.skipLibCheck = true;
  if (!isTs) {
    options.allowJs = true;
    options.checkJs = false;
  }
  return sortRecord(options);
}

function renderFacade(outPath: string, facade: FacadeModule, layout: WorkspaceLayout): FileChange {
  let counter = 0;
  const local = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default' ? name : `member${(counter += 1)}`);
  const clients = facade.members.flatMap((m) => (m.kind === 'client' ? [{ ...m, local: local(m.name) }] : []));
  const data = facade.members.flatMap((m) => (m.kind === 'data' ? [{ ...m, local: local(m.name) }] : []));
  const stubs = facade.members.flatMap((m) => (m.kind === 'stub' ? [{ ...m, local: local(m.name) }] : []));
  const reexports = facade.members.flatMap((m) => (m.kind === 'reexport' ? [{ ...m, local: local(m.name), property: m.importedName !== 'default' }] : []));
  const runtimeImports = [
    clients.some((c) => !c.deferred) ? 'callRemote' : '',
    clients.some((c) => c.deferred) ? 'callRemoteDeferred' : '',
    stubs.length > 0 ? 'notYetExtractedValue' : '',
    data.length > 0 ? 'remoteData' : '',
  ]
    .filter(Boolean)
    .sort(compareStrings)
    .join(', ');
  const declaredLocals = [...clients, ...data, ...stubs];
  const exportList = declaredLocals.map((m) => (m.local === m.name ? m.name : `${m.local} as ${m.name === 'default' ? 'default' : JSON.stringify(m.name)}`)).join(', ');
  // CommonJS: a default export is module.exports itself; named members become its properties.
  const members = [...reexports, ...declaredLocals];
  const named = members.filter((m) => m.name !== 'default').map((m) => `${JSON.stringify(m.name)}: ${m.local}`);
  const defaultMember = members.find((m) => m.name === 'default');
  const object = `{${named.length > 0 ? ` ${named.join(', ')} ` : ''}}`;
  const cjsExports = defaultMember ? (named.length > 0 ? `Object.assign(${defaultMember.local}, ${object})` : defaultMember.local) : object;
  const template = facade.language === 'ts' ? 'remote/module.ts.hbs' : facade.format === 'esm' ? 'remote/module.esm.hbs' : 'remote/module.cjs.hbs';
  return renderTemplateFile(template, outPath, {
    module: facade.module,
    owner: facade.owner,
    runtime: layout.runtimePackage,
    runtimeImports,
    typeImports: facade.typeImports,
    typeDeclarations: facade.typeDeclarations,
    reexports: reexports.map((r) => ({ ...r, importedName: r.importedName, name: r.name })),
    clients,
    data,
    stubs,
    exportList: exportList.replace(/ as "([A-Za-z_$][\w$]*)"/g, ' as $1'),
    cjsExports,
  });
}

/** How a generated file at the service root imports a copied module once compiled: relative, with `.js`. */
function compiledSpecifier(from: string, module: string): string {
  return styled('./module.js', relativeSpecifier(from, module));
}

function routeRef(route: string): { method: string; path: string } {
  const space = route.indexOf(' ');
  return { method: route.slice(0, space), path: route.slice(space + 1) };
}

function count(code: ExtractedCode, kind: 'client' | 'data'): number {
  return code.units.reduce((n, u) => n + u.facades.reduce((m, f) => m + f.members.filter((x) => x.kind === kind).length, 0), 0);
}

function sortRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort((a, b) => compareStrings(a[0], b[0])));
}

interface MigrationSection {
  title: string;
  intro: string;
  items: { at: string; unit: string; message: string }[];
}

/**
 * `process.env.JWT_SECRET ?? 'dev-secret'`, `required('X', process.env.X, 'fallback')`, `?? DEFAULT_PASSWORD`: a
 * secret with a value written in the code, after the read on the same line (the value itself is never repeated).
 */
function hasHardCodedFallback(line: string): boolean {
  const read = line.search(/process\.env\b/);
  if (read < 0) return false;
  const after = line.slice(read);
  return /(['"`])[^'"`]{3,}\1/.test(after.replace(/^process\.env(\.\w+|\[\s*(['"`])[^'"`]*\2\s*\])/, '')) || /(\?\?|\|\|)\s*[A-Z][A-Z0-9_]{2,}\b/.test(after);
}

function migrationSections(plan: Plan, analysis: Analysis, code: ExtractedCode, sources: SourceSet): MigrationSection[] {
  const notes = code.units.flatMap((u) => u.notes);
  const of = (kind: MigrationNote['kind']) => sortBy(notes.filter((n) => n.kind === kind), (n) => n.at, (n) => n.unit).map((n) => ({ at: n.at, unit: n.unit, message: n.message }));
  const secrets = analysis.env.filter((e) => e.secretLike);
  const hardCoded = secrets.flatMap((secret) =>
    secret.modules
      .filter((m) => hasHardCodedFallback((sources[m.module] ?? '').split('\n')[m.line - 1] ?? ''))
      .map((m) => ({ at: `${m.module}:${m.line}`, unit: '', message: `\`${secret.name}\` has a value written in the code as its fallback: every copy of this code carries it; remove the fallback so a missing Secret fails at start` })),
  );
  return [
    {
      title: 'Calls that could not become HTTP calls',
      intro: 'These imports now resolve to stubs that throw `NotYetExtractedError` when used: the code compiles, the routes that reach them fail until a person gives the owner an operation for them (make the function async with JSON arguments, or move it).',
      items: of('stub'),
    },
    {
      title: 'Calls that no longer wait for their result',
      intro: "These functions are synchronous in the monolith and the calling service never uses their result, so each call now goes to the owner without being awaited. The runtime holds the response to the client's request until the call has finished, so the client still sees its effect; a failure is logged (there is no caller left to throw to). Make the function async when its result starts to matter.",
      items: of('deferred'),
    },
    {
      title: 'Data reached across services (transitional data proxies)',
      intro: 'Each method call on these handles goes to the owning service over HTTP, so behaviour is kept while the data has one owner. Calls with arguments that are not JSON (a predicate function, symbols) throw `NotYetExtractedError`. Replace each with a real operation of the owner.',
      items: of('data-proxy'),
    },
    {
      title: 'Data written by more than one service',
      intro: 'The plan found these conflicts; the recommended resolution is in the plan.',
      items: plan.conflicts.map((c) => ({
        at: c.writers.map((w) => `${w.module}:${w.line}`).join(', '),
        unit: c.owner,
        message: `\`${c.entity}\` is owned by ${c.owner} but written by ${uniqueSorted(c.writers.map((w) => w.service)).join(', ')}: ${c.recommended} — ${c.reason}`,
      })),
    },
    {
      title: 'Scale-out hazards',
      intro: 'Every service runs at least two replicas in production; these break with more than one.',
      items: sortBy(analysis.hazards, (h) => h.file, (h) => h.line).map((h) => ({ at: `${h.file}:${h.line}`, unit: '', message: h.message })),
    },
    {
      title: 'Copied code',
      intro: 'Stateless modules of one service that another service uses synchronously were copied into it.',
      items: of('copied'),
    },
    {
      title: 'Secrets',
      intro: 'Secret-like settings become references to Kubernetes Secrets (never values): create the Secret before deploying.',
      items: [...secrets.map((s) => ({ at: s.modules.map((m) => `${m.module}:${m.line}`).join(', '), unit: '', message: `\`${s.name}\`` })), ...hardCoded],
    },
    {
      title: 'Other',
      intro: 'Anything else the scaffold could not place.',
      items: [...of('no-listen'), ...of('unresolved')],
    },
  ];
}

/**
 * Strangler-fig order: services that call no other service first (they can leave the monolith alone), then each
 * service once everything it calls has left; among equals, the one more others depend on goes first.
 */
function extractionOrder(plan: Plan): { name: string; reason: string }[] {
  const remaining = new Map(plan.services.map((s) => [s.name, new Set(s.dependsOn.filter((d) => d !== s.name && plan.services.some((x) => x.name === d)))]));
  const dependants = (name: string) => plan.services.filter((s) => s.dependsOn.includes(name)).length;
  const order: { name: string; reason: string }[] = [];
  const done = new Set<string>();
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, deps]) => [...deps].every((d) => done.has(d))).map(([name]) => name);
    const pick = sortBy(ready.length > 0 ? ready : [...remaining.keys()], (n) => -dependants(n), (n) => n)[0]!;
    const deps = [...remaining.get(pick)!].sort(compareStrings);
    const users = dependants(pick);
    order.push({
      name: pick,
      reason:
        (deps.length === 0 ? 'calls no other service' : ready.length > 0 ? `everything it calls (${deps.join(', ')}) is already out` : `part of a dependency cycle with ${deps.join(', ')}: extract them together or break the cycle first`) +
        (users > 0 ? `; ${users} service${users === 1 ? '' : 's'} call${users === 1 ? 's' : ''} it` : ''),
    });
    done.add(pick);
    remaining.delete(pick);
  }
  return order;
}

export type { UnitLayout };
