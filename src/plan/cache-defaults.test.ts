import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze/analyze.js';
import { proposeSplit } from '../cluster/propose.js';
import { DEFAULT_SETTINGS } from '../model/plan.js';
import { choicesFromPlan } from '../app/run-plan.js';
import { fixturePath } from '../test-support/temp-project.js';
import { buildPlan } from './build-plan.js';
import { DEFAULT_CACHE_TTL_SECONDS, cacheDecisions } from './cache-defaults.js';

describe('which GET routes a plan caches (fixtures/shop-ts)', async () => {
  const analysis = await analyze({ dir: fixturePath('shop-ts') });
  const { plan, assignment } = buildPlan(analysis, { settings: DEFAULT_SETTINGS, ...proposeSplit(analysis, DEFAULT_SETTINGS) });
  const serviceOf = (m: string) => {
    const place = assignment.get(m);
    return place?.kind === 'service' ? place.name : null;
  };
  const service = (name: string) => plan.services.find((s) => s.name === name)!;

  it('caches routes that read data and keep no process state; explains every route it leaves out', () => {
    expect(service('catalog').cache).toEqual({
      'GET /api/admin/categories': DEFAULT_CACHE_TTL_SECONDS,
      'GET /api/admin/categories/:id': DEFAULT_CACHE_TTL_SECONDS,
      'GET /api/categories': DEFAULT_CACHE_TTL_SECONDS,
      'GET /api/categories/:id': DEFAULT_CACHE_TTL_SECONDS,
    });
    const decisions = Object.fromEntries(cacheDecisions(analysis, 'catalog', service('catalog').routes, serviceOf).map((d) => [d.route, d]));
    // The products routes read through the monolith's own in-process cache: a shared copy would go stale.
    expect(decisions['GET /api/products']).toMatchObject({ cacheable: false, reason: expect.stringContaining('src/catalog/product-cache.ts') });
    // A crud-router factory's routes are tagged with what the configuring module reaches.
    expect(decisions['GET /api/categories']!.tags).toContain('categories');
    // The cart is swept by a timer (cart-cleanup): nothing that reads carts is cached.
    expect(service('cart').cache).toEqual({});
    expect(cacheDecisions(analysis, 'cart', service('cart').routes, serviceOf)[0]).toMatchObject({ cacheable: false, reason: expect.stringContaining('timer') });
    expect(Object.keys(service('users').cache!)).toEqual(['GET /api/admin/users', 'GET /api/admin/users/:id', 'GET /api/users/me']);
  });

  it('keeps the team\'s choice on refresh (a removed route stays removed, a TTL stays) and drops routes the service lost', () => {
    const edited = structuredClone(plan);
    const users = edited.services.find((s) => s.name === 'users')!;
    users.cache = { 'GET /api/users/me': 5, 'GET /api/no/longer': 60 };
    const refreshed = buildPlan(analysis, choicesFromPlan(edited, DEFAULT_SETTINGS)).plan;
    expect(refreshed.services.find((s) => s.name === 'users')!.cache).toEqual({ 'GET /api/users/me': 5 });
    expect(refreshed.services.find((s) => s.name === 'catalog')!.cache).toEqual(service('catalog').cache);
  });
});
