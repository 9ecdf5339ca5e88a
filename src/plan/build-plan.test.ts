import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze/analyze.js';
import { proposeSplit } from '../cluster/propose.js';
import { DEFAULT_SETTINGS } from '../model/plan.js';
import { EXPRESS_PACKAGE, fixturePath, writeProject } from '../test-support/temp-project.js';
import picomatch from 'picomatch';
import { compareStrings } from '../util/compare.js';
import { buildPlan, compressModules, expandModules } from './build-plan.js';
import type { Partition } from './mojo.js';

function expectedSplit(fixture: string): Partition {
  const expected = JSON.parse(fs.readFileSync(path.join(fixturePath(fixture), 'EXPECTED.json'), 'utf8')) as { domains: Record<string, string[]>; shared: string[] };
  const partition: Partition = {};
  for (const [domain, modules] of Object.entries(expected.domains)) for (const m of modules) partition[m] = domain;
  for (const m of expected.shared) partition[m] = 'SHARED';
  return partition;
}

async function proposedPlan(fixture: string, compare = false) {
  const analysis = await analyze({ dir: fixturePath(fixture) });
  const proposal = proposeSplit(analysis, DEFAULT_SETTINGS);
  return { analysis, ...buildPlan(analysis, { settings: DEFAULT_SETTINGS, ...proposal }, { compare, expected: expectedSplit(fixture) }) };
}

describe('the proposal for fixtures/shop-ts', async () => {
  const { plan, assignment } = await proposedPlan('shop-ts', true);

  it('recovers the intended domains (MoJoFM >= 85%)', () => {
    expect(plan.mojofm).toBeGreaterThanOrEqual(85);
  });

  it('flags the stock table, written by orders and inventory, as a conflict owned by inventory', () => {
    const stock = plan.conflicts.find((c) => c.entity === 'stock');
    expect(stock?.owner).toBe('inventory');
    expect(stock?.writers.map((w) => `${w.service} ${w.module}`)).toContain('orders src/orders/order-cancellation.ts');
    expect(stock?.options).toEqual(['move-writer', 'expose-api', 'publish-events']);
    expect(stock?.recommended).toBe('expose-api');
  });

  it('keeps bootstrap modules out of services and generic code in shared libraries', () => {
    expect(plan.entrypoints).toEqual(expect.arrayContaining(['src/app.ts', 'src/server.ts', 'src/routes.ts']));
    for (const module of ['src/shared/errors.ts', 'src/middleware/authenticate.ts', 'src/db/table.ts']) expect(assignment.get(module)?.kind).toBe('shared');
    expect(plan.entryRoutes).toEqual(['ALL /api/v1/*', 'GET /health', 'HEAD /health']);
  });

  it('turns async cross-service calls into convertible seams and table handles into manual ones', () => {
    const reserve = plan.seams.find((s) => s.symbol === 'reserveStock');
    expect(reserve).toMatchObject({ from: 'orders', to: 'inventory', convertible: true });
    const table = plan.seams.find((s) => s.symbol === 'stockTable' && s.caller === 'src/orders/order-cancellation.ts');
    expect(table).toMatchObject({ kind: 'entity', convertible: false });
    const orders = plan.services.find((s) => s.name === 'orders')!;
    expect(orders.dependsOn).toEqual(expect.arrayContaining(['inventory', 'payments', 'notifications']));
  });

  it('attaches every hazard to the service it lands in', () => {
    const hazards = plan.services.flatMap((s) => s.hazards.map((h) => `${s.name} ${h.kind} ${h.file}`)).sort();
    expect(hazards).toEqual([
      'auth module-state src/auth/login-attempts.ts',
      'cart timer src/cart/cart-cleanup.ts',
      'catalog in-process-cache src/catalog/product-cache.ts',
    ].sort());
  });

  it('measures itself against the baselines and couples services less than all of them', () => {
    expect(plan.baselines.map((b) => b.name)).toEqual(['folders', 'route-prefixes', 'louvain-imports']);
    for (const baseline of plan.baselines) expect(plan.metrics.crossServiceEdges).toBeLessThan(baseline.metrics.crossServiceEdges);
  });

  it('is deterministic', async () => {
    const again = await proposedPlan('shop-ts', true);
    expect(JSON.stringify(again.plan)).toBe(JSON.stringify(plan));
  });
});

describe('granularity', () => {
  it('merges the most coupled services to stay within --max-services', async () => {
    const analysis = await analyze({ dir: fixturePath('shop-ts') });
    const proposal = proposeSplit(analysis, DEFAULT_SETTINGS, { maxServices: 4 });
    expect(proposal.services.length).toBeLessThanOrEqual(4);
    const few = proposeSplit(analysis, DEFAULT_SETTINGS, { services: 3 });
    expect(few.services.length).toBe(3);
  });
});

describe('plan rules on small projects', () => {
  it('merges a cluster that serves no route into the service that calls it, and names services by domain', async () => {
    const analysis = await analyze({
      dir: writeProject({
        'package.json': EXPRESS_PACKAGE,
        'src/app.ts': "import express from 'express';\nimport { a } from './alpha/routes';\nimport { b } from './beta/routes';\nconst app = express();\napp.use('/alpha', a);\napp.use('/beta', b);\napp.listen(1);",
        'src/alpha/routes.ts': "import { Router } from 'express';\nimport { work } from './service';\nexport const a = Router();\na.get('/', async (q, s) => s.json(await work()));",
        'src/alpha/service.ts': "import { helper } from '../gamma/helper';\nexport async function work() { return helper(); }",
        'src/gamma/helper.ts': "import { deep } from './deep';\nexport function helper() { return deep(); }",
        'src/gamma/deep.ts': 'export function deep() { return 1; }',
        'src/beta/routes.ts': "import { Router } from 'express';\nexport const b = Router();\nb.get('/', (q, s) => s.end());",
      }),
    });
    const proposal = proposeSplit(analysis, DEFAULT_SETTINGS);
    expect(proposal.entrypoints).toEqual(['src/app.ts']);
    const alpha = proposal.services.find((s) => s.modules.includes('src/alpha/routes.ts'))!;
    expect(alpha.modules).toEqual(expect.arrayContaining(['src/gamma/helper.ts', 'src/gamma/deep.ts']));
    expect(proposal.services.every((s) => /^[a-z][a-z0-9-]*$/.test(s.name))).toBe(true);
    expect(proposal.rationale['src/alpha/routes.ts']).toMatch(/serves \/alpha/);
  });

  it('compresses whole folders into globs and expands them back', () => {
    const all = ['src/a/x.ts', 'src/a/y.ts', 'src/a/sub/z.ts', 'src/b/w.ts', 'src/c.ts'];
    expect(compressModules(['src/a/x.ts', 'src/a/y.ts', 'src/a/sub/z.ts', 'src/c.ts'], all)).toEqual(['src/a/**', 'src/c.ts']);
    expect(compressModules(['src/a/x.ts', 'src/a/sub/z.ts'], all)).toEqual(['src/a/sub/z.ts', 'src/a/x.ts']);
    expect(expandModules(['src/a/**', 'src/c.ts', 'src/nope.ts'], all)).toEqual(['src/a/sub/z.ts', 'src/a/x.ts', 'src/a/y.ts', 'src/c.ts']);
  });

  it('expands folder globs (found in the sorted module list) exactly as picomatch matches them', () => {
    const all = ['src/a', 'src/a-b/x.ts', 'src/a.ts', 'src/a/.hidden/x.ts', 'src/a/x.ts', 'src/a/b/c/d.js', 'src/ab/x.ts', 'lib/src/a/x.ts', 'src/[id]/x.ts', 'src/A/x.ts', 'z.ts'];
    const patterns = ['src/a/**', 'src/a-b/**', 'src/**', 'src/a/b/**', 'src/[id]/**', 'src/\\[id\\]/**', 'src/*/x.ts', 'src/nope/**', '**', 'src/a/**/*.ts'];
    for (const pattern of patterns) {
      const isMatch = picomatch(pattern, { dot: true });
      expect(expandModules([pattern], [...all].reverse()), pattern).toEqual(all.filter((m) => isMatch(m)).sort(compareStrings));
    }
  });
});

describe('the proposal for fixtures/blog-cjs', async () => {
  const { plan } = await proposedPlan('blog-cjs');

  it('gives state used from request handling one home: the mailer joins the service that uses it most, not a library', () => {
    expect(plan.sharedLibraries.flatMap((l) => l.modules)).not.toContain('services/mailer.js');
    expect(plan.services.find((s) => s.modules.includes('services/mailer.js'))?.name).toBe('reports');
    // A middleware factory with state, used where routes are registered, stays a library (its hazard listed there).
    const middleware = plan.sharedLibraries.find((l) => l.modules.includes('middleware/rate-limit.js'));
    expect(middleware?.hazards?.map((h) => `${h.kind} ${h.file}`)).toEqual(['module-state middleware/rate-limit.js']);
  });
});
