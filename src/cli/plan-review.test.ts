import fs from 'node:fs';
import path from 'node:path';
import { Chalk } from 'chalk';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../analyze/analyze.js';
import { proposeSplit } from '../cluster/propose.js';
import { DEFAULT_SETTINGS, type PlanMetrics } from '../model/plan.js';
import { type PlanChoices, buildPlan } from '../plan/build-plan.js';
import { METRICS } from '../report/plan-markdown.js';
import { cliPath, ensureBuilt } from '../test-support/run-cli.js';
import { copyFixture, fixturePath } from '../test-support/temp-project.js';
import { hasTmux, tmuxServer } from '../test-support/tmux.js';
import {
  REVIEW_METRICS,
  formatDeltas,
  formatProposal,
  initialChoices,
  judgeChange,
  mergeServices,
  metricDeltas,
  modulesOf,
  moveModules,
  nameProblem,
  placementOf,
  renameService,
  withoutOwnership,
} from './plan-review.js';

const METRICS_ZERO: PlanMetrics = {
  sm: 0.3,
  icp: 0.5,
  ifn: 4,
  ned: 0.2,
  bcp: null,
  crossServiceEdges: 20,
  crossServiceWeight: 10,
  conflicts: 2,
  dataOwnershipEntropy: 0.1,
  coChangeModularity: null,
  services: 4,
};

describe('metric deltas', () => {
  it('judges each metric by its own direction', () => {
    const after = { ...METRICS_ZERO, sm: 0.35, icp: 0.6, crossServiceEdges: 15, conflicts: 2 };
    const deltas = metricDeltas(METRICS_ZERO, after);
    expect(deltas.map((d) => [d.key, d.before, d.after, d.change])).toEqual([
      ['sm', 0.3, 0.35, 'better'],
      ['icp', 0.5, 0.6, 'worse'],
      ['crossServiceEdges', 20, 15, 'better'],
      ['conflicts', 2, 2, 'same'],
    ]);
  });

  it('calls a lower SM worse and a lower ICP better, and ignores differences below the printed precision', () => {
    expect(judgeChange(0.5, 0.4, 'higher')).toBe('worse');
    expect(judgeChange(0.5, 0.4, 'lower')).toBe('better');
    expect(judgeChange(1, 3, 'lower')).toBe('worse');
    expect(judgeChange(0.1 + 0.2, 0.3, 'higher')).toBe('same');
    expect(judgeChange(0.3, 0.3004, 'lower')).toBe('same');
  });

  it('uses the directions PLAN.md uses', () => {
    for (const metric of REVIEW_METRICS) expect(METRICS.find((m) => m.key === metric.key)?.better).toBe(metric.better);
  });
});

describe('service names', () => {
  it('accepts DNS labels that are not taken', () => {
    expect(nameProblem('mailer', ['orders'])).toBeNull();
    expect(nameProblem('order-2', [])).toBeNull();
    expect(nameProblem('a'.repeat(63), [])).toBeNull();
  });

  it('refuses anything else with the reason', () => {
    expect(nameProblem('', [])).toBe('type a name');
    expect(nameProblem('Mailer', [])).toContain('not a DNS label');
    expect(nameProblem('2fa', [])).toContain('not a DNS label');
    expect(nameProblem('mail-', [])).toContain('not a DNS label');
    expect(nameProblem('mail_er', [])).toContain('not a DNS label');
    expect(nameProblem('a'.repeat(64), [])).toContain('longer than 63');
    expect(nameProblem('orders', ['orders', 'shared'])).toBe('"orders" is already taken by a service or shared library');
    expect(nameProblem('shared', ['orders', 'shared'])).toContain('already taken');
  });
});

/** A small set of choices over concrete modules, to test the edits without analysing anything. */
function sampleChoices(): { choices: PlanChoices; allModules: string[] } {
  const allModules = [
    'src/app.ts',
    'src/orders/a.ts',
    'src/orders/b.ts',
    'src/orders/util.ts',
    'src/payments/p.ts',
    'src/payments/q.ts',
    'src/mail/m.ts',
    'src/shared/log.ts',
  ];
  const choices: PlanChoices = {
    settings: DEFAULT_SETTINGS,
    services: [
      { name: 'orders', modules: ['src/orders/**'], owns: ['orders'], dependsOn: ['payments', 'mail'], replicas: { min: 2, max: 4 } },
      { name: 'payments', modules: ['src/payments/**'], owns: ['payments'], replicas: { min: 3, max: 6 } },
      { name: 'mail', modules: ['src/mail/m.ts'] },
    ],
    sharedLibraries: [{ name: 'common', modules: ['src/shared/log.ts', 'src/orders/util.ts'] }],
    entrypoints: ['src/app.ts'],
    rationale: {
      'src/orders/a.ts': 'orders: import links with 1 orders module',
      'src/payments/p.ts': 'payments: writes payments',
      'src/mail/m.ts': 'mail: closest by folder (no direct links)',
    },
  };
  return { choices, allModules };
}

function placeOf(choices: PlanChoices, allModules: string[], module: string): string {
  const place = placementOf(choices, allModules).get(module);
  return !place ? 'nowhere' : place.kind === 'entry' ? 'entry' : `${place.kind}:${place.name}`;
}

describe('editing the choices', () => {
  it('places modules with the plan builder\'s precedence: entry points, shared libraries, services', () => {
    const { choices, allModules } = sampleChoices();
    expect(placeOf(choices, allModules, 'src/app.ts')).toBe('entry');
    expect(placeOf(choices, allModules, 'src/orders/util.ts')).toBe('shared:common');
    expect(modulesOf(choices, allModules, 'service', 'orders')).toEqual(['src/orders/a.ts', 'src/orders/b.ts']);
  });

  it('renames a service in its entry, in other services\' dependsOn and in its rationale', () => {
    const { choices } = sampleChoices();
    const renamed = renameService(choices, 'mail', 'mailer');
    expect(renamed.services.map((s) => s.name)).toEqual(['orders', 'payments', 'mailer']);
    expect(renamed.services[0]!.dependsOn).toEqual(['mailer', 'payments']);
    expect(renamed.rationale['src/mail/m.ts']).toBe('mailer: closest by folder (no direct links)');
    expect(renamed.rationale['src/orders/a.ts']).toBe(choices.rationale['src/orders/a.ts']);
    expect(renamed.services[0]!.owns).toEqual(['orders']);
  });

  it('merges two services: modules, owned entities, dependencies and replicas combine; references follow', () => {
    const { choices, allModules } = sampleChoices();
    const merged = mergeServices(choices, allModules, 'orders', 'payments', 'checkout');
    expect(merged.services.map((s) => s.name)).toEqual(['checkout', 'mail']);
    const checkout = merged.services[0]!;
    expect(modulesOf(merged, allModules, 'service', 'checkout')).toEqual(['src/orders/a.ts', 'src/orders/b.ts', 'src/payments/p.ts', 'src/payments/q.ts']);
    expect(checkout.owns).toEqual(['orders', 'payments']);
    expect(checkout.dependsOn).toEqual(['mail']);
    expect(checkout.replicas).toEqual({ min: 3, max: 6 });
    expect(merged.rationale['src/payments/p.ts']).toBe('checkout: merged from payments in review; was: writes payments');
    // The shared library keeps its module from the orders folder.
    expect(placeOf(merged, allModules, 'src/orders/util.ts')).toBe('shared:common');
  });

  it('merges into one of the two names and redirects other services\' dependsOn to it', () => {
    const { choices, allModules } = sampleChoices();
    const merged = mergeServices(choices, allModules, 'payments', 'mail', 'payments');
    expect(merged.services.map((s) => s.name)).toEqual(['orders', 'payments']);
    expect(merged.services[0]!.dependsOn).toEqual(['payments']);
    expect(merged.rationale['src/payments/p.ts']).toBe('payments: writes payments');
    expect(merged.rationale['src/mail/m.ts']).toBe('payments: merged from mail in review; was: closest by folder (no direct links)');
    expect(placeOf(merged, allModules, 'src/mail/m.ts')).toBe('service:payments');
  });

  it('moves modules out of a folder glob to another service, rewriting only the lists that changed', () => {
    const { choices, allModules } = sampleChoices();
    const moved = moveModules(choices, allModules, ['src/orders/b.ts'], { kind: 'service', name: 'payments' });
    expect(placeOf(moved, allModules, 'src/orders/b.ts')).toBe('service:payments');
    expect(placeOf(moved, allModules, 'src/orders/a.ts')).toBe('service:orders');
    expect(moved.services.find((s) => s.name === 'orders')!.modules).toEqual(['src/orders/a.ts']);
    expect(moved.services.find((s) => s.name === 'payments')!.modules).toEqual(['src/orders/b.ts', 'src/payments/**']);
    expect(moved.services.find((s) => s.name === 'mail')!.modules).toEqual(['src/mail/m.ts']);
    expect(moved.rationale['src/orders/b.ts']).toBe('payments: moved here in review');
    expect(moved.services.find((s) => s.name === 'orders')!.owns).toEqual(['orders']);
  });

  it('moves modules to a new service, and removes a service left empty from others\' dependsOn', () => {
    const { choices, allModules } = sampleChoices();
    const moved = moveModules(choices, allModules, ['src/mail/m.ts'], { kind: 'service', name: 'mailer' });
    expect(moved.services.map((s) => s.name)).toEqual(['orders', 'payments', 'mailer']);
    expect(moved.services[0]!.dependsOn).toEqual(['payments']);
    expect(moved.services[2]).toEqual({ name: 'mailer', modules: ['src/mail/m.ts'] });
    expect(moved.rationale['src/mail/m.ts']).toBe('mailer: moved here in review');
  });

  it('moves modules to a new shared library and out of one', () => {
    const { choices, allModules } = sampleChoices();
    const toLibrary = moveModules(choices, allModules, ['src/payments/q.ts'], { kind: 'shared', name: 'money' });
    expect(toLibrary.sharedLibraries.map((l) => l.name)).toEqual(['common', 'money']);
    expect(placeOf(toLibrary, allModules, 'src/payments/q.ts')).toBe('shared:money');
    expect(toLibrary.rationale['src/payments/q.ts']).toBe('shared library money: moved here in review');
    const back = moveModules(toLibrary, allModules, ['src/payments/q.ts'], { kind: 'service', name: 'payments' });
    expect(back.sharedLibraries.map((l) => l.name)).toEqual(['common']);
    expect(modulesOf(back, allModules, 'service', 'payments')).toEqual(['src/payments/p.ts', 'src/payments/q.ts']);
  });

  it('rewrites every list when an untouched glob would otherwise claim a moved module', () => {
    const { choices, allModules } = sampleChoices();
    // orders' `src/orders/**` only leaves util.ts alone because the library claims it first.
    const moved = moveModules(choices, allModules, ['src/orders/util.ts'], { kind: 'service', name: 'payments' });
    expect(placeOf(moved, allModules, 'src/orders/util.ts')).toBe('service:payments');
    expect(modulesOf(moved, allModules, 'service', 'orders')).toEqual(['src/orders/a.ts', 'src/orders/b.ts']);
    expect(modulesOf(moved, allModules, 'shared', 'common')).toEqual(['src/shared/log.ts']);
  });
});

describe('the review of fixtures/shop-ts', async () => {
  const analysis = await analyze({ dir: fixturePath('shop-ts') });
  const rebuild = (choices: PlanChoices) => buildPlan(analysis, choices, {});
  const built = rebuild({ settings: DEFAULT_SETTINGS, ...proposeSplit(analysis, DEFAULT_SETTINGS) });
  const allModules = analysis.modules.map((m) => m.path);
  const derived = rebuild(withoutOwnership(initialChoices(built)));
  const derivedOwner = new Map(derived.plan.services.flatMap((s) => s.owns.map((e) => [e, s.name] as const)));

  it('starts from choices that rebuild the same plan, with or without the owners the code implies', () => {
    expect(rebuild(initialChoices(built)).plan).toEqual(built.plan);
    const lean = initialChoices(built, (e) => derivedOwner.get(e));
    expect(lean.services.every((s) => s.owns === undefined && s.dependsOn === undefined)).toBe(true);
    expect(lean.services.every((s) => s.replicas !== undefined)).toBe(true);
    expect(rebuild(lean).plan).toEqual(built.plan);
  });

  it('keeps a dependsOn or an owner the team chose that the code would not', () => {
    const team = structuredClone(built);
    const orders = team.plan.services.find((s) => s.name === 'orders')!;
    orders.dependsOn = ['payments'];
    orders.owns = [...orders.owns, 'stock'];
    team.plan.services.find((s) => s.name === 'inventory')!.owns = [];
    const choices = initialChoices(team, (e) => derivedOwner.get(e));
    expect(choices.services.find((s) => s.name === 'orders')).toMatchObject({ owns: ['stock'], dependsOn: ['payments'] });
  });

  it('moves a module and rebuilds a plan that places it and explains why', () => {
    const choices = initialChoices(built, (e) => derivedOwner.get(e));
    const moved = moveModules(choices, allModules, ['src/orders/order-cancellation.ts'], { kind: 'service', name: 'inventory' });
    const after = rebuild(moved);
    expect(after.assignment.get('src/orders/order-cancellation.ts')).toEqual({ kind: 'service', name: 'inventory' });
    expect(after.plan.rationale['src/orders/order-cancellation.ts']).toBe('inventory: moved here in review');
    expect(after.unassigned).toEqual(built.unassigned);
    const changed = [...after.assignment].filter(([m, p]) => built.assignment.get(m)?.name !== p.name).map(([m]) => m);
    expect(changed).toEqual(['src/orders/order-cancellation.ts']);
  });

  it('merges two services into a plan with one service fewer', () => {
    const choices = initialChoices(built, (e) => derivedOwner.get(e));
    const after = rebuild(mergeServices(choices, allModules, 'cart', 'orders', 'checkout', built.plan));
    expect(after.plan.services.map((s) => s.name)).not.toContain('cart');
    expect(after.plan.services).toHaveLength(built.plan.services.length - 1);
    expect(after.plan.services.find((s) => s.name === 'checkout')!.owns).toEqual(expect.arrayContaining(['carts', 'orders']));
    for (const service of after.plan.services) expect(service.dependsOn).not.toContain('cart');
  });

  it('shows the proposal within 80 columns and colours deltas by direction', () => {
    const plain = new Chalk({ level: 0 });
    const text = formatProposal(built, plain);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(text).toContain('notifications');
    expect(text).toMatch(/SM ↑ [\d.]+ {3}ICP ↓ [\d.]+ {3}cross-service edges ↓ \d+ {3}conflicts ↓ \d+/);

    const before = built.plan;
    const after = { ...before, metrics: { ...before.metrics, sm: before.metrics.sm + 0.1, crossServiceEdges: before.metrics.crossServiceEdges + 3 } };
    const coloured = formatDeltas(before, after, new Chalk({ level: 1 }));
    const line = (label: string) => coloured.split('\n').find((l) => l.trimStart().startsWith(label))!;
    expect(line('SM ↑')).toContain('\u001b[32m↑ better');
    expect(line('cross-service edges ↓')).toContain('\u001b[31m↑ worse');
    expect(line('conflicts ↓')).toContain('no change');
    for (const l of formatDeltas(before, after, plain).split('\n')) expect(l.length).toBeLessThanOrEqual(80);
  });
});

// ---------------------------------------------------------------------------------------------------------
// End to end, in a real pseudo-terminal (tmux)
// ---------------------------------------------------------------------------------------------------------

const { tmux, pane, waitFor, choose, start, end: endSession, stop } = tmuxServer('decompose-review-test');

/** Runs `decompose plan <dir>` in a 100×40 terminal; the pane ends with "[exit N]" when it is done. */
function startPlan(session: string, dir: string): void {
  // `env -u CI`: the CLI never asks questions under CI, and CI runners set it.
  start(session, `env -u CI NO_COLOR=1 ${process.execPath} ${cliPath} plan ${dir}; echo "[exit $?]"; sleep 10`, 100, 40);
}

describe.skipIf(!hasTmux && !process.env.CI)('the review in a terminal (tmux)', () => {
  beforeAll(() => {
    if (!hasTmux) throw new Error('these tests drive the CLI in a pseudo-terminal and need tmux (apt-get install -y tmux)');
    ensureBuilt('cli/plan-review.js');
  });

  afterAll(stop);

  it('renames a service, refusing a name that is not a DNS label, and writes the plan with the new name', async () => {
    const dir = copyFixture('shop-ts');
    const session = `rename-${process.pid}`;
    try {
      startPlan(session, dir);
      await waitFor(session, 'What would you like to do with this plan?', 90_000);
      const first = pane(session);
      expect(first).toMatch(/notifications\s+\d+\s+\d+\s+\d+/);
      expect(first).toContain('cross-service edges ↓');
      await choose(session, 'Rename a service');
      await waitFor(session, 'Rename which service?');
      await choose(session, 'notifications');
      await waitFor(session, 'New name for notifications:');
      tmux('send-keys', '-t', session, '-l', 'Mailer');
      tmux('send-keys', '-t', session, 'Enter');
      await waitFor(session, '"Mailer" is not a DNS label');
      tmux('send-keys', '-t', session, 'C-u');
      tmux('send-keys', '-t', session, '-l', 'mailer');
      tmux('send-keys', '-t', session, 'Enter');
      await waitFor(session, 'Renamed notifications → mailer');
      await waitFor(session, 'What next? (1 change so far)');
      await choose(session, 'Accept the plan');
      const end = await waitFor(session, /\[exit \d+\]/, 60_000);
      expect(end).toContain('[exit 0]');
      expect(pane(session, true)).not.toMatch(/internal error|^\s+at /m);

      const plan = parseYaml(fs.readFileSync(path.join(dir, 'decompose.plan.yaml'), 'utf8')) as { services: Array<{ name: string; dependsOn: string[] }> };
      const names = plan.services.map((s) => s.name);
      expect(names).toContain('mailer');
      expect(names).not.toContain('notifications');
      for (const service of plan.services) expect(service.dependsOn).not.toContain('notifications');
      const markdown = fs.readFileSync(path.join(dir, 'PLAN.md'), 'utf8');
      expect(markdown).toMatch(/^\| mailer \|/m);
      expect(markdown).not.toMatch(/^\| notifications \|/m);
    } finally {
      endSession(session);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends cleanly on Ctrl-C at the first prompt and writes nothing', async () => {
    const dir = copyFixture('shop-ts');
    const session = `ctrl-c-${process.pid}`;
    try {
      startPlan(session, dir);
      await waitFor(session, 'What would you like to do with this plan?', 90_000);
      tmux('send-keys', '-t', session, 'C-c');
      const end = await waitFor(session, /\[exit \d+\]/, 30_000);
      expect(end).toContain('[exit 2]');
      expect(end).toContain('DEC-056 review cancelled: nothing written');
      expect(pane(session, true)).not.toMatch(/internal error|ExitPromptError|^\s+at /m);
      for (const file of ['decompose.plan.yaml', 'PLAN.md', 'plan.html']) expect(fs.existsSync(path.join(dir, file))).toBe(false);
    } finally {
      endSession(session);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
