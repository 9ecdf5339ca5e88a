import { z } from 'zod';
import { ANALYSIS_VERSION } from './analysis-constants.js';

export { ANALYSIS_VERSION, isProcessState } from './analysis-constants.js';

/*
 * The analysis file (`decompose-analysis.json`): everything later stages know about the monolith.
 * Plain, serialisable data; every path is repo-relative POSIX; every list is sorted.
 * Bump ANALYSIS_VERSION on any incompatible change; readers refuse other versions.
 */
const repoPath = z.string().describe('Repo-relative POSIX path');

export const ExportedSymbolSchema = z.object({
  name: z.string().describe("Export name; 'default' for the default export"),
  kind: z.enum(['function', 'class', 'variable', 'type', 'router', 'entity', 'reexport', 'unknown']),
  line: z.number().int(),
  async: z.boolean().describe('An async function, or an arrow/function expression marked async'),
  params: z.array(z.object({ name: z.string(), type: z.string().nullable() })),
  /** Whether every parameter and the resolved return type look JSON-serialisable from their annotations. */
  serializable: z.boolean(),
});

export const ModuleSchema = z.object({
  path: repoPath,
  language: z.enum(['ts', 'js']),
  format: z.enum(['esm', 'cjs']),
  bytes: z.number().int(),
  loc: z.number().int().describe('Non-blank lines'),
  externals: z.array(z.string()).describe('npm packages imported (package name only)'),
  builtins: z.array(z.string()).describe('Node built-in modules imported'),
  exports: z.array(ExportedSymbolSchema),
});

export const ImportKindSchema = z.enum([
  'import',
  'export-from',
  'import-equals',
  'require',
  'dynamic-import',
  'require-resolve',
]);

export const ImportEdgeSchema = z.object({
  from: repoPath,
  to: repoPath,
  kind: ImportKindSchema,
  specifier: z.string(),
  line: z.number().int(),
  /** Erased at run time: `import type`, or every imported binding is used only in type positions. */
  typeOnly: z.boolean(),
  /** Imported names ('default', '*' for namespace/whole-module, or the export name). */
  names: z.array(z.string()),
  /** Members read from a namespace or whole-module binding (`db.Comment` after `const db = require('./models')`). */
  members: z.array(z.string()),
  /**
   * When `to` only passes things on (a barrel, a models index), the modules that really define what is
   * imported. Empty when `to` defines it itself.
   */
  through: z.array(repoPath),
});

export const UnresolvedImportSchema = z.object({
  file: repoPath,
  line: z.number().int(),
  column: z.number().int(),
  specifier: z.string(),
  /** `case-mismatch`: no file has that name, but `existing` has it in other letter case (fine on macOS, not Linux). */
  reason: z.enum(['non-literal', 'missing-file', 'case-mismatch']),
  existing: repoPath.optional(),
});

export const MountStepSchema = z.object({
  file: repoPath,
  line: z.number().int(),
  prefix: z.string(),
});

export const RouteSchema = z.object({
  method: z.string().describe("Upper-case HTTP method, or 'ALL' for router.all"),
  path: z.string().describe('Full path after every mount prefix'),
  localPath: z.string().describe('The path as written at the route'),
  file: repoPath,
  line: z.number().int(),
  handler: z
    .object({ module: repoPath, name: z.string().nullable(), line: z.number().int().nullable() })
    .describe('Where the final handler is defined; name is null for inline functions'),
  middleware: z.array(z.string()).describe('Names of the middleware that run before the handler, outermost first'),
  mounts: z.array(MountStepSchema).describe('The app.use/router.use steps from the app down to this route'),
  origin: repoPath
    .nullable()
    .describe('For a router built by a shared factory: the module whose exports configure it (the first one its call names)'),
});

export const UnresolvedRouteSchema = z.object({
  file: repoPath,
  line: z.number().int(),
  reason: z.string(),
});

export const DataAccessSchema = z.object({
  module: repoPath,
  line: z.number().int(),
  operation: z.string().describe('The method or SQL verb, e.g. findAll, insert, SELECT'),
  mode: z.enum(['read', 'write']),
});

export const EntitySchema = z.object({
  name: z.string(),
  kind: z.enum(['store', 'mongoose', 'sequelize', 'typeorm', 'prisma', 'knex', 'sql', 'mongodb']),
  definedIn: z.array(z.object({ module: repoPath, line: z.number().int() })),
  readers: z.array(repoPath),
  writers: z.array(repoPath),
  accesses: z.array(DataAccessSchema),
});

export const EnvReadSchema = z.object({
  name: z.string(),
  secretLike: z.boolean(),
  modules: z.array(z.object({ module: repoPath, line: z.number().int() })),
});

export const HazardKindSchema = z.enum([
  'in-memory-session',
  'in-process-cache',
  'module-state',
  'timer',
  'local-disk',
  'websocket',
]);

export const HazardSchema = z.object({
  kind: HazardKindSchema,
  file: repoPath,
  line: z.number().int(),
  column: z.number().int(),
  symbol: z.string().nullable(),
  message: z.string().describe('Why it breaks with several replicas'),
});

export const CoChangeSchema = z.object({
  commitsRead: z.number().int(),
  maxCommits: z.number().int(),
  since: z.string().nullable(),
  modules: z.array(z.object({ module: repoPath, commits: z.number().int() })),
  pairs: z.array(z.object({ a: repoPath, b: repoPath, commits: z.number().int() })),
});

export const DiagnosticSchema = z.object({
  file: repoPath,
  line: z.number().int(),
  column: z.number().int(),
  code: z.string(),
  message: z.string(),
});

export const AnalysisSchema = z.object({
  $schema: z.string().optional(),
  version: z.literal(ANALYSIS_VERSION),
  generator: z.literal('decompose'),
  project: z.object({
    name: z.string(),
    framework: z.literal('express'),
    tsconfig: repoPath.nullable(),
    entries: z.array(repoPath).describe('Modules that create an express() app that nothing mounts'),
    packageDependencies: z.record(z.string(), z.string()).describe('dependencies of the monolith package.json'),
  }),
  modules: z.array(ModuleSchema),
  imports: z.array(ImportEdgeSchema),
  unresolvedImports: z.array(UnresolvedImportSchema),
  cycles: z.array(z.array(repoPath)).describe('Strongly connected groups of runtime imports'),
  routes: z.array(RouteSchema),
  unresolvedRoutes: z.array(UnresolvedRouteSchema),
  entities: z.array(EntitySchema),
  env: z.array(EnvReadSchema),
  hazards: z.array(HazardSchema),
  coChange: CoChangeSchema.nullable(),
  diagnostics: z.array(DiagnosticSchema).describe('Files skipped or partly read (syntax errors, unreadable files)'),
});

export type Analysis = z.infer<typeof AnalysisSchema>;
export type ModuleInfo = z.infer<typeof ModuleSchema>;
export type ExportedSymbol = z.infer<typeof ExportedSymbolSchema>;
export type ImportEdge = z.infer<typeof ImportEdgeSchema>;
export type ImportKind = z.infer<typeof ImportKindSchema>;
export type UnresolvedImport = z.infer<typeof UnresolvedImportSchema>;
export type Route = z.infer<typeof RouteSchema>;
export type MountStep = z.infer<typeof MountStepSchema>;
export type UnresolvedRoute = z.infer<typeof UnresolvedRouteSchema>;
export type Entity = z.infer<typeof EntitySchema>;
export type EntityKind = Entity['kind'];
export type DataAccess = z.infer<typeof DataAccessSchema>;
export type EnvRead = z.infer<typeof EnvReadSchema>;
export type Hazard = z.infer<typeof HazardSchema>;
export type HazardKind = z.infer<typeof HazardKindSchema>;
export type CoChange = z.infer<typeof CoChangeSchema>;
export type Diagnostic = z.infer<typeof DiagnosticSchema>;
