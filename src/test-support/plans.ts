import { DEFAULT_SETTINGS, type Plan, type Service } from '../model/plan.js';

/**
 * A hand-made plan for unit tests: services given by their modules or routes, everything derived left empty or
 * zero, so each test states only what it is about.
 */
export function testPlan(parts: {
  project?: string;
  services: Array<Pick<Service, 'name'> & Partial<Service>>;
  sharedLibraries?: Plan['sharedLibraries'];
  entrypoints?: string[];
  entryRoutes?: string[];
}): Plan {
  const services = parts.services.map(
    (s): Service => ({ modules: [`src/${s.name}/**`], owns: [], dependsOn: [], replicas: { min: 1, max: 2 }, routes: [], hazards: [], loc: 1, moduleCount: 1, ...s }),
  );
  return {
    version: 1,
    project: parts.project ?? 'demo',
    settings: DEFAULT_SETTINGS,
    services,
    sharedLibraries: parts.sharedLibraries ?? [],
    entrypoints: parts.entrypoints ?? ['src/app.ts'],
    entryRoutes: parts.entryRoutes ?? [],
    conflicts: [],
    seams: [],
    metrics: { sm: 0, icp: 0, ifn: 0, ned: 0, bcp: null, crossServiceEdges: 0, crossServiceWeight: 0, conflicts: 0, dataOwnershipEntropy: 0, coChangeModularity: null, services: services.length },
    baselines: [],
    mojofm: null,
    rationale: {},
  };
}
