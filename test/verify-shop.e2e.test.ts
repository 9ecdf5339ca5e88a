import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesInside, routesBy, scaffoldedFixture, verify } from './verify-support.js';

/**
 * decompose verify on fixtures/shop-ts, for real: analyze → plan --yes → scaffold, then verify installs and builds
 * the workspace, starts redis-server, nine services, nginx and the monolith, and runs the shop's own black-box
 * suite (unchanged) through the gateway. The same scaffold serves the fault runs and the broken gateway.
 */

let dir: string;

beforeAll(async () => {
  dir = await scaffoldedFixture('shop-ts');
}, 120_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('decompose verify on fixtures/shop-ts', () => {
  it('passes the full HTTP suite through nginx with Redis caching on; killing one of two replicas loses no request', async () => {
    const { exitCode, report, stderr } = await verify(dir, ['--json', '--kill', 'reports', '--replicas', 'reports=2']);
    expect(report, stderr).not.toBeNull();
    const r = report!;
    expect(r.gateway).toBe('nginx');
    expect(r.redis).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(r.mode).toBe('test-command');
    expect(r.contract).toMatchObject({ command: 'npm run test:api', exitCode: 0, passed: true });
    // The whole suite passed (read-after-write included: it reads what it just wrote, through the cache).
    expect(r.problems).toEqual([]);
    expect(routesBy(r, 'failed')).toEqual([]);
    expect(r.summary.routes).toBe(48);
    expect(r.summary.passed + r.summary.notExercised).toBe(48);
    expect(r.summary.passed).toBeGreaterThanOrEqual(45);
    // Cached routes were looked up in Redis; the monolith ran the same suite for the latency baseline.
    expect(r.cache!.hit + r.cache!.miss).toBeGreaterThan(0);
    const products = r.routes.find((x) => x.route === 'GET /api/products/:id')!;
    expect(products.p50Ms).toBeGreaterThan(0);
    expect(products.monolithP50Ms).toBeGreaterThan(0);
    // Fault: replica 1 of reports took traffic, was killed with SIGKILL, and the other replica answered everything.
    expect(r.fault).toMatchObject({ service: 'reports', replica: 1, replicas: 2, signal: 'SIGKILL', lost: 0, passed: true });
    expect(r.fault!.killedInstanceServed).toBeGreaterThan(0);
    expect(r.fault!.requestsAfter).toBeGreaterThan(50);
    expect(r.passed).toBe(true);
    expect(exitCode).toBe(0);
    // Everything it started is gone; the logs stay.
    expect(processesInside(dir)).toEqual([]);
    for (const log of ['reports-1.log', 'reports-2.log', 'catalog.log', 'redis.log', 'monolith.log', 'test-command.log', 'report.json']) {
      expect(fs.existsSync(path.join(r.logs, log)), log).toBe(true);
    }
    expect(r.logs.startsWith(path.join(fs.realpathSync(dir), 'decomposed', '.decompose-verify'))).toBe(true);
  }, 420_000);

  it('killing the only instance of a service fails its routes and only those of the services that call it (Node gateway)', async () => {
    const { exitCode, report, stderr } = await verify(dir, ['--json', '--gateway', 'node', '--no-monolith', '--kill', 'payments']);
    expect(report, stderr).not.toBeNull();
    const f = report!.fault!;
    expect(report!.gateway).toBe('node');
    expect(f).toMatchObject({ service: 'payments', replicas: 1, passed: true });
    const own = f.routes.filter((x) => x.relation === 'killed');
    expect(own.map((x) => x.route).sort()).toEqual(['GET /api/payments', 'GET /api/payments/:id']);
    for (const route of own) expect(route.lost, route.route).toBeGreaterThan(0);
    // Routes of services that do not call payments all kept answering.
    const others = f.routes.filter((x) => x.relation === 'other');
    expect(others.length).toBeGreaterThan(5);
    for (const route of others) expect(route.lost, route.route).toBe(0);
    expect(exitCode).toBe(0);
    expect(processesInside(dir)).toEqual([]);
  }, 300_000);

  it('fails and names the route when the generated gateway leaves one out', async () => {
    const config = path.join(dir, 'decomposed', 'gateway', 'nginx.local.conf');
    const original = fs.readFileSync(config, 'utf8');
    const lines = original.split('\n');
    const at = lines.findIndex((l) => l.includes('# "GET /api/payments/:id -> payments"'));
    expect(at).toBeGreaterThan(0);
    lines.splice(at, 2);
    fs.writeFileSync(config, lines.join('\n'));
    try {
      const result = await verify(dir, ['--no-monolith']);
      expect(result.exitCode, result.stderr).toBe(1);
      expect(result.stdout).toContain('failed routes:\n  GET /api/payments/:id (payments)\n    2 of 2 requests did not reach payments: the gateway sent them elsewhere');
      expect(result.stdout).toMatch(/FAILED: 47 passed, 1 failed, 0 not exercised of 48 routes/);
    } finally {
      fs.writeFileSync(config, original);
    }
    expect(processesInside(dir)).toEqual([]);
  }, 300_000);
});
