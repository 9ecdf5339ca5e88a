import { z } from 'zod';
import { PLAN_VERSION } from './plan-constants.js';

export { DEFAULT_SETTINGS, DNS_LABEL, PLAN_VERSION } from './plan-constants.js';

/**
 * The plan (`decompose.plan.yaml`): the split a team reviews and edits. Team-owned fields (service names,
 * modules, owned entities, allowed dependencies, settings) survive `plan --refresh`; derived fields
 * (routes, hazards, seams, conflicts, metrics, rationale) are recomputed from the code and the team's choices.
 */
export const WeightsSchema = z.object({
  import: z.number().min(0).describe('per runtime import edge'),
  typeImport: z.number().min(0).describe('per type-only import edge'),
  sharedEntity: z.number().min(0).describe('between modules that write the same entity (readers get a quarter)'),
  routePrefix: z.number().min(0).describe('between modules serving the same resource prefix'),
  coChange: z.number().min(0).describe('per co-change, scaled by the strongest pair (with --git)'),
  sameDomain: z.number().min(0).describe('added to an import between modules of the same domain folder (or file stem in a layer-by-layer layout)'),
});

export const PlanSettingsSchema = z.object({
  seed: z.number().int().describe('seed of the community detection'),
  resolution: z.number().positive().describe('Louvain resolution: higher gives more, smaller services'),
  weights: WeightsSchema,
  sharedThreshold: z.number().min(0).max(1).describe('share of services that must use a module for it to become shared'),
});

export const RouteRefSchema = z.object({ method: z.string(), path: z.string() });

export const ServiceHazardSchema = z.object({ kind: z.string(), file: z.string(), line: z.number().int(), message: z.string() });

export const ServiceSchema = z.object({
  name: z.string(),
  /** Module paths or globs (`src/catalog/**`). */
  modules: z.array(z.string()),
  owns: z.array(z.string()).describe('entities this service owns (the only writer)'),
  dependsOn: z.array(z.string()).describe('services this service may call'),
  replicas: z.object({ min: z.number().int().min(1), max: z.number().int().min(1) }),
  cache: z
    .record(
      // Route paths are kept exactly as written, spaces and line breaks included (Express accepts them).
      z.string().regex(/^(GET \/[\s\S]*|CALL \S+#\S+)$/, 'a key is a GET route of the service ("GET /api/products") or a call it makes ("CALL src/catalog/catalog.api.ts#getProductPrices")'),
      z.number().int().min(1).max(86_400),
    )
    .optional()
    .describe('what the service caches in Redis, with the TTL in seconds: its GET routes, and results of calls it makes to other services (proposed by decompose plan; remove an entry to stop caching it)'),
  routes: z.array(z.string()).describe('derived: "METHOD /full/path" served by this service'),
  hazards: z.array(ServiceHazardSchema).describe('derived: scale-out hazards in its modules'),
  loc: z.number().int().describe('derived: lines of code'),
  moduleCount: z.number().int().describe('derived: modules the service holds (globs expanded)'),
});

export const SharedLibrarySchema = z.object({
  name: z.string(),
  modules: z.array(z.string()),
  hazards: z
    .array(ServiceHazardSchema)
    .optional()
    .describe('derived: hazards in its modules; state in a library is kept once per service that uses it, even with one replica each'),
});

export const ConflictOptionSchema = z.enum(['move-writer', 'expose-api', 'publish-events']);

export const ConflictSchema = z.object({
  entity: z.string(),
  owner: z.string(),
  writers: z.array(z.object({ service: z.string(), module: z.string(), line: z.number().int() })),
  options: z.array(ConflictOptionSchema),
  recommended: ConflictOptionSchema,
  reason: z.string(),
});

export const SeamSchema = z.object({
  from: z.string().describe('calling service'),
  to: z.string().describe('owning service'),
  caller: z.string().describe('calling module'),
  line: z.number().int(),
  callee: z.string().describe('module that defines the symbol'),
  symbol: z.string(),
  kind: z.enum(['function', 'class', 'variable', 'entity', 'router', 'type', 'unknown', 'reexport']),
  convertible: z.boolean().describe('can become an HTTP call as is (async, JSON-serialisable arguments)'),
  reason: z.string(),
});

export const MetricsSchema = z.object({
  sm: z.number(),
  icp: z.number(),
  ifn: z.number(),
  ned: z.number(),
  bcp: z.number().nullable(),
  crossServiceEdges: z.number().int(),
  crossServiceWeight: z.number(),
  conflicts: z.number().int(),
  dataOwnershipEntropy: z.number().describe('mean over entities of the normalised entropy of their accesses across services'),
  coChangeModularity: z.number().nullable(),
  services: z.number().int(),
});

export const BaselineSchema = z.object({ name: z.string(), description: z.string(), metrics: MetricsSchema });

export const PlanSchema = z.object({
  version: z.literal(PLAN_VERSION),
  project: z.string().describe('name of the analysed project (package.json name)'),
  settings: PlanSettingsSchema,
  services: z.array(ServiceSchema),
  sharedLibraries: z.array(SharedLibrarySchema),
  entrypoints: z.array(z.string()).describe('bootstrap modules (app creation, router composition) that belong to no service'),
  entryRoutes: z.array(z.string()).describe('derived: routes the entry modules register themselves; the gateway must still answer them'),
  conflicts: z.array(ConflictSchema),
  seams: z.array(SeamSchema),
  metrics: MetricsSchema,
  baselines: z.array(BaselineSchema).describe('derived with --compare'),
  mojofm: z.number().nullable().describe('derived: MoJoFM against an intended split, when one is known'),
  rationale: z.record(z.string(), z.string()).describe('derived: one line per module on why it sits where it sits'),
  checks: z
    .object({
      rules: z
        .partialRecord(
          z.enum(['forbidden-import', 'unclaimed-module', 'missing-module', 'route-owner', 'data-ownership', 'shared-imports-service', 'new-hazard', 'seam-budget', 'icp-budget']),
          z.enum(['error', 'warn', 'off']),
        )
        .describe('severity per rule of decompose check; rules not listed keep their default'),
    })
    .optional()
    .describe('team-owned: how decompose check treats each rule'),
  verify: z
    .object({
      testCommand: z
        .string()
        .regex(/\S/, 'the command must not be empty')
        .optional()
        .describe('the black-box API test command decompose verify runs through the gateway (with BASE_URL) when --test-command is not given'),
      ignoreFields: z
        .array(z.string().regex(/\S/, 'a field name must not be empty'))
        .optional()
        .describe('JSON fields decompose verify --replay never compares (generated values it cannot recognise), besides --ignore-field'),
    })
    .optional()
    .describe('team-owned: how decompose verify checks the decomposed system'),
});

export type Plan = z.infer<typeof PlanSchema>;
export type PlanSettings = z.infer<typeof PlanSettingsSchema>;
export type Weights = z.infer<typeof WeightsSchema>;
export type Service = z.infer<typeof ServiceSchema>;
export type SharedLibrary = z.infer<typeof SharedLibrarySchema>;
export type Conflict = z.infer<typeof ConflictSchema>;
export type ConflictOption = z.infer<typeof ConflictOptionSchema>;
export type Seam = z.infer<typeof SeamSchema>;
export type PlanMetrics = z.infer<typeof MetricsSchema>;
export type Baseline = z.infer<typeof BaselineSchema>;

/** Module -> the service or shared library it belongs to; entry points map to null. */
export type Assignment = Record<string, { kind: 'service' | 'shared'; name: string } | { kind: 'entry' }>;
