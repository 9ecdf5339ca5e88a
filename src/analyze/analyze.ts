import path from 'node:path';
import { ANALYSIS_VERSION } from '../model/analysis-constants.js';
import type { Analysis, Entity, EnvRead, ImportEdge, ModuleInfo, UnresolvedImport } from '../model/analysis.js';
import { findCycles } from '../graph/cycles.js';
import { compareStrings, sortBy, uniqueSorted } from '../util/compare.js';
import { UserError } from '../util/errors.js';
import { toRepoPath } from '../util/paths.js';
import { type EntityAccess, type EntityDefinition, SQL_CLIENTS } from './facts.js';
import { readCoChange } from './git.js';
import { isAnalysable } from './module-reader.js';
import { partitionFiles, readPartitions } from './partitions.js';
import { discoverProject } from './project.js';
import { buildRouteTable } from './route-table.js';

export interface AnalyzeOptions {
  /** The monolith's folder. */
  dir: string;
  /** Repo-relative or absolute path of the module that creates the app, when detection guesses wrong. */
  entry?: string;
  git?: { maxCommits: number; since: string | null } | null;
  onProgress?: (done: number, total: number) => void;
  /**
   * How many partitions the program is read in (see partitions.ts); by default one below PARTITION_MIN_FILES
   * files, else two. The result is the same for any count: tests read small programs in several to show it.
   */
  partitions?: number;
}

const OTHER_FRAMEWORKS: Record<string, string> = {
  koa: 'Koa',
  '@koa/router': 'Koa',
  'koa-router': 'Koa',
  fastify: 'Fastify',
  '@nestjs/core': 'NestJS',
  '@nestjs/common': 'NestJS',
  '@hapi/hapi': 'hapi',
  hapi: 'hapi',
  restify: 'Restify',
  hono: 'Hono',
  'next': 'Next.js',
};

/**
 * Reads the monolith statically (never imports or runs it) and returns the analysis: modules and imports,
 * the full route table, data ownership, configuration, scale-out hazards and optional change coupling.
 */
export async function analyze(options: AnalyzeOptions): Promise<Analysis> {
  const layout = discoverProject(options.dir);
  const root = layout.root;
  let entryFile: string | null = null;
  if (options.entry) {
    const absolute = path.resolve(root, options.entry);
    entryFile = toRepoPath(root, absolute);
    const entry = layout.files.find((file) => toRepoPath(root, file) === entryFile);
    if (entry === undefined || !isAnalysable(root, entry)) {
      throw new UserError('DEC-011', `--entry ${options.entry}: not a source file of ${root}`, {
        hint: 'Give the path, relative to the project folder, of the file that calls express().',
      });
    }
  }

  const readsSql = SQL_CLIENTS.some((pkg) => pkg in layout.dependencies);
  const { modules: parts, routes: routeParts } = await readPartitions(layout, partitionFiles(layout, options.partitions), { readsSql, onProgress: options.onProgress });

  const readings = parts.flatMap((part) => part.modules).sort((a, b) => a.fileIndex - b.fileIndex);
  const edges: ImportEdge[] = [];
  const unresolvedImports: UnresolvedImport[] = [];
  const definitions: EntityDefinition[] = [];
  const accesses: EntityAccess[] = [];
  const envAccesses: Array<{ name: string; module: string; line: number }> = [];
  const hazards: Analysis['hazards'] = [];
  const externalsSeen = new Map<string, string>();
  for (const reading of readings) {
    edges.push(...reading.edges);
    unresolvedImports.push(...reading.unresolvedImports);
    for (const pkg of reading.externals) if (!externalsSeen.has(pkg)) externalsSeen.set(pkg, reading.info.path);
    definitions.push(...reading.definitions);
    accesses.push(...reading.accesses);
    envAccesses.push(...reading.env);
    hazards.push(...reading.hazards);
  }
  const moduleInfos: ModuleInfo[] = readings.map((reading) => reading.info);
  const diagnostics = parts.flatMap((part) => part.diagnostics);

  if (!externalsSeen.has('express')) throw noExpressError(root, externalsSeen, layout.dependencies);

  const table = buildRouteTable(routeParts, entryFile);
  const runtimeEdges = edges.filter((e) => !e.typeOnly);
  const cycles = findCycles(
    moduleInfos.map((m) => m.path),
    runtimeEdges,
  );

  const coChange = options.git
    ? await readCoChange(root, new Set(moduleInfos.map((m) => m.path)), { ...options.git, maxFilesPerCommit: 50 })
    : null;

  // Every record of the analysis is built with its keys in sorted order, this one too: the file is written as built
  // (see serializeAnalysis).
  return {
    coChange,
    cycles,
    diagnostics: sortBy(diagnostics, (d) => d.file, (d) => d.line),
    entities: buildEntities(definitions, accesses),
    env: buildEnv(envAccesses),
    generator: 'decompose',
    hazards: sortBy(hazardsInServer(hazards, table.entries, runtimeEdges), (h) => h.file, (h) => h.line, (h) => h.column, (h) => h.kind),
    imports: sortedUniqueEdges(edges),
    modules: sortBy(moduleInfos, (m) => m.path),
    project: {
      entries: table.entries,
      framework: 'express',
      name: layout.name,
      packageDependencies: Object.fromEntries(Object.entries(layout.dependencies).sort(([a], [b]) => compareStrings(a, b))),
      tsconfig: layout.tsconfig,
    },
    routes: table.routes,
    unresolvedImports: sortBy(unresolvedImports, (u) => u.file, (u) => u.line, (u) => u.column),
    unresolvedRoutes: table.unresolved,
    version: ANALYSIS_VERSION,
  };
}

/**
 * Replicas only run what the server loads: hazards in scripts and tools that no entry reaches (a `bin/`
 * scaffolder, a seed script) are not scale-out hazards. Without a known entry every hazard is kept.
 */
function hazardsInServer(hazards: Analysis['hazards'], entries: string[], edges: ImportEdge[]): Analysis['hazards'] {
  if (entries.length === 0) return hazards;
  const next = new Map<string, string[]>();
  for (const edge of edges) next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  const reached = new Set(entries);
  const queue = [...entries];
  while (queue.length > 0) {
    for (const to of next.get(queue.pop()!) ?? []) {
      if (!reached.has(to)) {
        reached.add(to);
        queue.push(to);
      }
    }
  }
  return hazards.filter((h) => reached.has(h.file));
}

function noExpressError(root: string, externals: Map<string, string>, dependencies: Record<string, string>): UserError {
  const found = Object.keys(OTHER_FRAMEWORKS)
    .filter((pkg) => externals.has(pkg) || pkg in dependencies)
    .map((pkg) => `${OTHER_FRAMEWORKS[pkg]} (${externals.has(pkg) ? `imported in ${externals.get(pkg)}` : 'in package.json'})`);
  const what = found.length > 0 ? `found ${[...new Set(found)].join(', ')} instead` : 'no web framework import found';
  return new UserError('DEC-010', `${root}: no Express app found: ${what}`, {
    hint: 'decompose reads Express apps (express() and express.Router()). Use --entry FILE if the app is created in an unusual place.',
  });
}

/**
 * The edges sorted by from, to, line and kind, the first of each run of equal ones kept (the sort is stable, so
 * that is the one first found). A comparator written out: sortBy's key functions, and a key string per edge to
 * drop the repeats, cost ~30 ms on a 5,000-module program.
 */
function sortedUniqueEdges(edges: ImportEdge[]): ImportEdge[] {
  const sorted = [...edges].sort(
    (a, b) => compareStrings(a.from, b.from) || compareStrings(a.to, b.to) || a.line - b.line || compareStrings(a.kind, b.kind),
  );
  return sorted.filter((e, i) => {
    const before = sorted[i - 1];
    return !before || before.from !== e.from || before.to !== e.to || before.line !== e.line || before.kind !== e.kind;
  });
}

function buildEntities(definitions: EntityDefinition[], accesses: EntityAccess[]): Entity[] {
  const byName = new Map<string, Entity>();
  const get = (name: string, kind: Entity['kind']): Entity => {
    let entity = byName.get(name);
    if (!entity) {
      entity = { name, kind, definedIn: [], readers: [], writers: [], accesses: [] };
      byName.set(name, entity);
    }
    return entity;
  };
  for (const d of definitions) get(d.name, d.kind).definedIn.push({ line: d.line, module: d.module });
  for (const a of accesses) {
    const entity = get(a.entity, a.kind);
    entity.accesses.push({ line: a.line, mode: a.mode, module: a.module, operation: a.operation });
  }
  return sortBy(byName.values(), (e) => e.name).map((entity) => {
    const accessesSorted = sortBy(entity.accesses, (a) => a.module, (a) => a.line, (a) => a.operation);
    // Keys in sorted order, as the analysis file has them (see sortKeysDeep).
    return {
      accesses: accessesSorted,
      definedIn: sortBy(entity.definedIn, (d) => d.module, (d) => d.line),
      kind: entity.kind,
      name: entity.name,
      readers: uniqueSorted(accessesSorted.filter((a) => a.mode === 'read').map((a) => a.module)),
      writers: uniqueSorted(accessesSorted.filter((a) => a.mode === 'write').map((a) => a.module)),
    };
  });
}

const SECRET_PART = /^(SECRET|SECRETS|TOKEN|TOKENS|PASSWORD|PASSWD|PASS|PWD|KEY|KEYS|APIKEY|PRIVATE|CREDENTIAL|CREDENTIALS|SALT|PASSPHRASE|AUTH|SIGNATURE|CERT)$/;
const CONNECTION_STRING = /^(DATABASE|DB|MONGO|MONGODB|POSTGRES|PG|MYSQL|REDIS|AMQP|RABBITMQ)_?(URL|URI|DSN|CONNECTION(_STRING)?)$/;

/** A variable name that probably holds a credential: SECRET, TOKEN, PASSWORD, *_KEY … or a connection string. */
export function isSecretLike(name: string): boolean {
  const upper = name.toUpperCase();
  if (CONNECTION_STRING.test(upper) || upper === 'DSN') return true;
  return upper.split(/[_\-.]/).some((part) => SECRET_PART.test(part));
}

function buildEnv(reads: Array<{ name: string; module: string; line: number }>): EnvRead[] {
  const byName = new Map<string, Array<{ module: string; line: number }>>();
  for (const read of reads) {
    const list = byName.get(read.name) ?? [];
    if (!list.some((r) => r.module === read.module && r.line === read.line)) list.push({ line: read.line, module: read.module });
    byName.set(read.name, list);
  }
  return [...byName]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([name, modules]) => ({ modules: sortBy(modules, (m) => m.module, (m) => m.line), name, secretLike: isSecretLike(name) }));
}

