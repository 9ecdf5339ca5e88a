import type { PlanSettings } from './plan.js';

// What code outside the plan's reader needs of the plan format at run time, without its zod schemas (plan.ts): check
// validates the plan in a worker thread (see app/plan-in-background.ts) and compares it on the main thread, which
// then need not load zod at all.

export const PLAN_VERSION = 1;

/** A Kubernetes/DNS label: service names become folder, image and host names. */
export const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const DEFAULT_SETTINGS: PlanSettings = {
  seed: 42,
  resolution: 1,
  weights: { import: 1, typeImport: 0.2, sharedEntity: 2, routePrefix: 1, coChange: 0.5, sameDomain: 1 },
  sharedThreshold: 0.5,
};
