import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../app/run-check.js';
import { runPlan } from '../app/run-plan.js';
import { checkExitCode } from './baseline.js';
import { copyFixture } from '../test-support/temp-project.js';

/** A planned copy of shop-ts; each test changes its own copy of that. */
let planned: string;

beforeAll(async () => {
  planned = copyFixture('shop-ts');
  await runPlan({ dir: planned, refresh: false, compare: false, force: false, granularity: {} });
}, 60_000);

function copyPlanned(): string {
  const dir = fs.mkdtempSync(`${planned}-drift-`);
  fs.cpSync(planned, dir, { recursive: true });
  return dir;
}

function edit(dir: string, file: string, change: (text: string) => string): void {
  const full = path.join(dir, file);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, change(fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : ''));
}

async function findingsOf(dir: string, options: { maxSeams?: number; maxIcp?: number } = {}) {
  const { result } = await runCheck({ dir, updateBaseline: false, ...options });
  return { result, summary: result.findings.map((f) => `${f.rule} ${f.severity} ${f.location.file}:${f.location.line}`) };
}

describe('decompose check on shop-ts and its plan', () => {
  it('reports nothing right after decompose plan', async () => {
    const { result } = await findingsOf(planned);
    expect(result.findings).toEqual([]);
    expect(checkExitCode(result)).toBe(0);
  });

  it('finds an import into a service the plan does not allow, with both positions', async () => {
    const dir = copyPlanned();
    edit(dir, 'src/cart/cart.service.ts', (t) => `import { refundPayment } from '../payments/payment.service.js';\nexport const refundForCart = refundPayment;\n${t}`);
    const { result, summary } = await findingsOf(dir);
    expect(summary).toEqual(['forbidden-import error src/cart/cart.service.ts:1']);
    expect(result.findings[0]!.related[0]!.file).toBe('src/payments/payment.service.ts');
    expect(result.findings[0]!.message).toContain('cart imports refundPayment');
    expect(checkExitCode(result)).toBe(1);
  });

  it('finds a module no service claims, but not one inside a claimed folder', async () => {
    const dir = copyPlanned();
    edit(dir, 'src/loyalty/points.ts', () => 'export const points = 1;\n');
    edit(dir, 'src/cart/cart-coupons.ts', () => 'export const coupon = 1;\n');
    const { summary } = await findingsOf(dir);
    expect(summary).toEqual(['unclaimed-module error src/loyalty/points.ts:1']);
  });

  it('finds a module the plan names that no longer exists', async () => {
    const dir = copyPlanned();
    const planText = fs.readFileSync(path.join(dir, 'decompose.plan.yaml'), 'utf8');
    const explicit = /^ {6}- (src\/users\/users\.routes\.ts)$/m.exec(planText);
    expect(explicit).not.toBeNull();
    fs.rmSync(path.join(dir, 'src/users/users.routes.ts'));
    edit(dir, 'src/routes.ts', (t) => t.replace(/^import .*users\.routes\.js';$/m, '').replace(/^.*usersRouter.*$/gm, ''));
    const { summary } = await findingsOf(dir);
    expect(summary).toContain(`missing-module warn decompose.plan.yaml:${planText.slice(0, explicit!.index).split('\n').length}`);
  });

  it('finds a route served by a service other than the one owning its prefix', async () => {
    const dir = copyPlanned();
    edit(dir, 'src/cart/featured.routes.ts', () => "import { Router } from 'express';\nexport const featured = Router();\nfeatured.get('/', (_req, res) => { res.json([]); });\n");
    edit(dir, 'src/routes.ts', (t) => `import { featured } from './cart/featured.routes.js';\n${t.replace(/(export (const|default) [^\n]*\n)/, '$1')}\napi.use('/products/featured', featured);\n`);
    const { summary, result } = await findingsOf(dir);
    expect(summary).toEqual(['route-owner error src/cart/featured.routes.ts:3']);
    expect(result.findings[0]!.message).toContain('GET /api/products/featured is served by cart');
  });

  it('finds a new writer of an entity another service owns (the known conflict stays quiet)', async () => {
    const dir = copyPlanned();
    edit(dir, 'src/cart/cart.service.ts', (t) => `${t}\nimport { productsTable } from '../catalog/product.repository.js';\nexport async function markPopular(id: string) { await productsTable.update(id, {}); }\n`);
    const { summary } = await findingsOf(dir);
    expect(summary.filter((s) => s.startsWith('data-ownership'))).toHaveLength(1);
    expect(summary.find((s) => s.startsWith('data-ownership'))).toMatch(/^data-ownership error src\/cart\/cart\.service\.ts:\d+$/);
  });

  it('finds a shared library that starts importing a service', async () => {
    const dir = copyPlanned();
    edit(dir, 'src/shared/money.ts', (t) => `import { listOrders } from '../orders/order.service.js';\nexport const orderLister = listOrders;\n${t}`);
    const { summary } = await findingsOf(dir);
    expect(summary).toContain('shared-imports-service error src/shared/money.ts:1');
  });

  it('finds a new scale-out hazard in a service as a warning (exit 0)', async () => {
    const dir = copyPlanned();
    edit(dir, 'src/payments/payment.service.ts', (t) => `${t}\nsetInterval(() => undefined, 60_000).unref();\n`);
    const { summary, result } = await findingsOf(dir);
    expect(summary).toEqual([expect.stringMatching(/^new-hazard warn src\/payments\/payment\.service\.ts:\d+$/)]);
    expect(checkExitCode(result)).toBe(0);
  });

  it('enforces seam and ICP budgets', async () => {
    const { summary } = await findingsOf(planned, { maxSeams: 3, maxIcp: 0.1 });
    expect(summary).toEqual(['icp-budget error decompose.plan.yaml:1', 'seam-budget error decompose.plan.yaml:1']);
  });

  it('lets a baseline absorb today\'s findings and fails on a stale entry once one is fixed', async () => {
    const dir = copyPlanned();
    const original = fs.readFileSync(path.join(dir, 'src/cart/cart.service.ts'), 'utf8');
    edit(dir, 'src/cart/cart.service.ts', (t) => `import { refundPayment } from '../payments/payment.service.js';\nexport const refundForCart = refundPayment;\n${t}`);
    const baselineFile = path.join(dir, '.decompose-baseline.json');
    const recorded = await runCheck({ dir, baselineFile, updateBaseline: true });
    expect(recorded.baselineWritten).toBe(baselineFile);
    const again = await runCheck({ dir, baselineFile, updateBaseline: false });
    expect(again.result.findings).toEqual([]);
    expect(again.result.baselined).toBe(1);
    expect(checkExitCode(again.result)).toBe(0);
    // Moving the offending line keeps its fingerprint.
    edit(dir, 'src/cart/cart.service.ts', (t) => `\n\n${t}`);
    expect(checkExitCode((await runCheck({ dir, baselineFile, updateBaseline: false })).result)).toBe(0);
    fs.writeFileSync(path.join(dir, 'src/cart/cart.service.ts'), original);
    const fixed = await runCheck({ dir, baselineFile, updateBaseline: false });
    expect(fixed.result.stale).toHaveLength(1);
    expect(checkExitCode(fixed.result)).toBe(1);
    expect([fixed.result.baselineBefore, fixed.result.baselineAfter]).toEqual([1, 0]);
  });
});

describe('severity per rule from the plan', () => {
  it('turns a rule off or down to a warning through checks.rules, and keeps that over a refresh', async () => {
    const dir = copyPlanned();
    edit(dir, 'src/cart/cart.service.ts', (t) => `import { refundPayment } from '../payments/payment.service.js';\nexport const refundForCart = refundPayment;\n${t}`);
    edit(dir, 'decompose.plan.yaml', (t) => `${t}\nchecks:\n  rules:\n    forbidden-import: warn\n`);
    const warned = await runCheck({ dir, updateBaseline: false });
    expect(warned.result.findings.map((f) => f.severity)).toEqual(['warn']);
    expect(checkExitCode(warned.result)).toBe(0);
    await runPlan({ dir, refresh: true, compare: false, force: false, granularity: {} });
    expect(fs.readFileSync(path.join(dir, 'decompose.plan.yaml'), 'utf8')).toContain('forbidden-import: warn');
    edit(dir, 'decompose.plan.yaml', (t) => t.replace('forbidden-import: warn', 'forbidden-import: off'));
    expect((await runCheck({ dir, updateBaseline: false })).result.findings).toEqual([]);
  });
});
