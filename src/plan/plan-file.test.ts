import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, parseDocument } from 'yaml';
import { DEFAULT_SETTINGS, type Plan, PlanSchema } from '../model/plan.js';
import { userErrorOf } from '../test-support/user-error.js';
import type { UserError } from '../util/errors.js';
import { fixturePath } from '../test-support/temp-project.js';
import { PARSE_OPTIONS, TO_JS_OPTIONS, parsePlan, readPlanValue } from './parse-plan.js';
import { DERIVED_COMMENT, PLAN_FILE_HEADER, serializePlan } from './plan-file.js';

// ---------------------------------------------------------------------------------------------------------
// A small hand-built plan and a fixed module list with a tiny glob matcher (`**` and `*` only).
// ---------------------------------------------------------------------------------------------------------

const FILE = 'decompose.plan.yaml';

const MODULES = [
  'src/app.ts',
  'src/server.ts',
  'src/catalog/list.ts',
  'src/catalog/repo.ts',
  'src/orders/routes.ts',
  'src/orders/service.ts',
  'src/orders/cart.ts',
  'src/users/routes.ts',
  'src/util/format.ts',
  'src/billing/invoice.ts',
];

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (char === '*') source += '[^/]*';
    else source += char.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function contextFor(modules: string[], projectName = 'shop') {
  return {
    moduleExists: (path: string) => modules.includes(path),
    matchModules: (pattern: string) => (pattern.includes('*') ? modules.filter((m) => globToRegExp(pattern).test(m)) : []),
    projectName,
  };
}

const context = contextFor(MODULES);

function samplePlan(): Plan {
  return {
    version: 1,
    project: 'shop',
    settings: structuredClone(DEFAULT_SETTINGS),
    services: [
      {
        name: 'catalog',
        modules: ['src/catalog/**'],
        owns: ['Product'],
        dependsOn: [],
        replicas: { min: 1, max: 3 },
        routes: ['GET /products', 'GET /products/:id'],
        hazards: [],
        loc: 120,
        moduleCount: 3,
      },
      {
        name: 'orders',
        modules: ['src/orders/routes.ts', 'src/orders/service.ts'],
        owns: ['Order'],
        dependsOn: ['catalog'],
        replicas: { min: 2, max: 4 },
        routes: ['POST /orders'],
        hazards: [{ kind: 'in-memory-state', file: 'src/orders/service.ts', line: 12, message: 'module-level cache: each replica holds its own copy' }],
        loc: 80,
        moduleCount: 3,
      },
      {
        name: 'users',
        modules: ['src/users/routes.ts'],
        owns: ['User'],
        dependsOn: [],
        replicas: { min: 1, max: 1 },
        routes: ['GET /users/:id'],
        hazards: [],
        loc: 40,
        moduleCount: 3,
      },
    ],
    sharedLibraries: [{ name: 'shared-util', modules: ['src/util/format.ts'] }],
    entrypoints: ['src/app.ts', 'src/server.ts'],
    entryRoutes: ['GET /health'],
    conflicts: [
      {
        entity: 'Product',
        owner: 'catalog',
        writers: [{ service: 'orders', module: 'src/orders/service.ts', line: 30 }],
        options: ['move-writer', 'expose-api', 'publish-events'],
        recommended: 'expose-api',
        reason: 'orders decrements stock: call catalog instead',
      },
    ],
    seams: [
      {
        from: 'orders',
        to: 'catalog',
        caller: 'src/orders/service.ts',
        line: 5,
        callee: 'src/catalog/repo.ts',
        symbol: 'findProduct',
        kind: 'function',
        convertible: true,
        reason: 'async, JSON-serialisable arguments',
      },
    ],
    metrics: {
      sm: 0.41,
      icp: 0.2,
      ifn: 1.5,
      ned: 0.9,
      bcp: null,
      crossServiceEdges: 3,
      crossServiceWeight: 4.2,
      conflicts: 1,
      dataOwnershipEntropy: 0.12,
      coChangeModularity: null,
      services: 3,
    },
    baselines: [],
    mojofm: null,
    rationale: { 'src/orders/routes.ts': 'serves /orders', 'src/catalog/repo.ts': 'writes Product' },
  };
}

/** 1-based line and column of the `occurrence`-th appearance of `needle` in `text`. */
function locate(text: string, needle: string, occurrence = 1): { line: number; column: number } {
  let index = -1;
  for (let i = 0; i < occurrence; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`${needle} occurs fewer than ${occurrence} times`);
  }
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - (before.lastIndexOf('\n') + 1) + 1 };
}

/** `file:line:column` of a needle, `shift` characters into it (to point past `- ` or `min: `). */
function at(text: string, needle: string, occurrence = 1, shift = 0): string {
  const { line, column } = locate(text, needle, occurrence);
  return `${FILE}:${line}:${column + shift}`;
}

function parseError(text: string, ctx = context): UserError {
  return userErrorOf(() => parsePlan(text, FILE, ctx));
}

function where(error: UserError): string {
  return `${error.position?.file}:${error.position?.line}:${error.position?.column}`;
}

/** The first problem and the details, as `file:line:column: message` lines. */
function allProblems(error: UserError): string[] {
  return [`${where(error)}: ${error.message}`, ...error.details];
}

/** Replaces exactly one occurrence, so a test edit cannot silently miss. */
function edit(text: string, from: string, to: string): string {
  const first = text.indexOf(from);
  if (first < 0 || text.indexOf(from, first + 1) >= 0) throw new Error(`expected exactly one ${JSON.stringify(from)}`);
  return text.slice(0, first) + to + text.slice(first + from.length);
}

// ---------------------------------------------------------------------------------------------------------
// Serialisation
// ---------------------------------------------------------------------------------------------------------

describe('serializePlan', () => {
  it('writes the header, fields in schema order, two-space indent and a trailing newline', () => {
    const plan = samplePlan();
    const text = serializePlan(plan);
    expect(text.startsWith(`${PLAN_FILE_HEADER}\n`)).toBe(true);
    expect(PLAN_FILE_HEADER).not.toMatch(/\d{4}-\d\d|version \d|v\d+\.\d/);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.endsWith('\n\n')).toBe(false);
    const topLevel = text.split('\n').flatMap((line) => /^([A-Za-z]+):/.exec(line)?.[1] ?? []);
    // Optional team sections (checks) appear only when set.
    expect(topLevel).toEqual(Object.keys(PlanSchema.shape).filter((key) => key in plan));
    expect(text).toContain('services:\n  - name: catalog\n    modules:\n      - src/catalog/**\n');
    expect(text).toContain('\n    replicas:\n      min: 1\n      max: 3\n');
    expect(text).not.toMatch(/[ \t]$/m);
  });

  it('marks derived sections with a comment', () => {
    const text = serializePlan(samplePlan());
    for (const key of ['entryRoutes', 'conflicts', 'seams', 'metrics', 'baselines', 'mojofm', 'rationale']) {
      expect(text).toContain(`#${DERIVED_COMMENT}\n${key}:`);
    }
    for (const key of ['version', 'project', 'settings', 'services', 'sharedLibraries', 'entrypoints']) {
      expect(text).not.toContain(`#${DERIVED_COMMENT}\n${key}:`);
    }
    expect(text.match(/# derived \(routes, hazards, loc\)[^\n]*\n {4}routes:/g)).toHaveLength(3);
  });

  it('round-trips: parse(serialize(plan)) equals the plan', () => {
    const plan = samplePlan();
    expect(parsePlan(serializePlan(plan), FILE, context)).toEqual(plan);
  });

  it('is deterministic: same plan, same bytes, whatever the key insertion order', () => {
    const plan = samplePlan();
    const first = serializePlan(plan);
    expect(serializePlan(samplePlan())).toBe(first);
    const reordered = reverseKeys(plan) as Plan;
    expect(Object.keys(reordered)[0]).toBe('rationale');
    expect(serializePlan(reordered)).toBe(first);
    // Rewriting an unchanged plan onto its own file changes nothing.
    expect(serializePlan(plan, first)).toBe(first);
  });

  it('does not fold long strings', () => {
    const plan = samplePlan();
    const long = `${'word '.repeat(60)}end`;
    plan.conflicts[0]!.reason = long;
    const text = serializePlan(plan);
    expect(text).toContain(`    reason: ${long}\n`);
    expect(parsePlan(text, FILE, context).conflicts[0]!.reason).toBe(long);
  });
});

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]));
  }
  return value;
}

describe('serializePlan with the previous file', () => {
  const original = serializePlan(samplePlan());
  const edited = [
    [`  - name: orders\n`, `  # orders: owned by the checkout team, ask #checkout\n  - name: orders\n`],
    [`      - src/orders/service.ts\n`, `      - 'src/orders/service.ts' # keep: talks to the payment provider\n`],
    [`  - name: catalog\n`, `  # catalog: to be split later\n  - name: catalog\n`],
    [`sharedLibraries:\n`, `# libraries are versioned separately\nsharedLibraries:\n`],
    [`# derived: recomputed by decompose plan --refresh\nmetrics:\n`, `# numbers from the March review\n# derived: recomputed by decompose plan --refresh\nmetrics:\n`],
  ].reduce((text, [from, to]) => edit(text, from!, to!), original) + '# end of file: reviewed by the platform team\n';

  it('keeps the team comments while updating values', () => {
    const next = samplePlan();
    next.services[1]!.modules.push('src/orders/cart.ts');
    next.services[1]!.loc = 99;
    next.metrics.sm = 0.57;
    const text = serializePlan(next, edited);

    expect(text.startsWith(`${PLAN_FILE_HEADER}\n`)).toBe(true);
    expect(text.split(PLAN_FILE_HEADER)).toHaveLength(2);
    expect(text).toContain('  # orders: owned by the checkout team, ask #checkout\n  - name: orders\n');
    expect(text).toContain("      - 'src/orders/service.ts' # keep: talks to the payment provider\n      - src/orders/cart.ts\n");
    expect(text).toContain('  # catalog: to be split later\n  - name: catalog\n');
    expect(text).toContain('# libraries are versioned separately\nsharedLibraries:\n');
    expect(text).toContain(`# numbers from the March review\n#${DERIVED_COMMENT}\nmetrics:\n  sm: 0.57\n`);
    expect(text).toContain('    loc: 99\n');
    expect(text.endsWith('# end of file: reviewed by the platform team\n')).toBe(true);
    // The derived marker is not duplicated.
    expect(text.match(/\nmetrics:/g)).toHaveLength(1);
    expect(text.split(`#${DERIVED_COMMENT}\nmetrics:`)).toHaveLength(2);
    expect(parsePlan(text, FILE, context)).toEqual(next);
    // And a second rewrite with the same plan is a no-op.
    expect(serializePlan(next, text)).toBe(text);
  });

  it('moves comments with their service and drops a removed service with its comments', () => {
    const next = samplePlan();
    const [catalog, orders, users] = next.services;
    next.services = [users!, orders!]; // catalog removed, the others swapped
    orders!.dependsOn = [];
    next.conflicts = [];
    const text = serializePlan(next, edited);
    expect(text).not.toContain('catalog: to be split later');
    expect(text).not.toContain('name: catalog');
    expect(text).toContain('  # orders: owned by the checkout team, ask #checkout\n  - name: orders\n');
    expect(text.indexOf('name: users')).toBeLessThan(text.indexOf('name: orders'));
    expect(text).toContain('services:\n  - name: users\n');
    expect(text).toContain("      - 'src/orders/service.ts' # keep: talks to the payment provider\n");
    expect(text.endsWith('# end of file: reviewed by the platform team\n')).toBe(true);
    expect(parsePlan(text, FILE, contextFor(MODULES))).toEqual(next);
    expect(catalog).toBeDefined();
  });

  it('updates a file written by hand in other styles (CRLF, BOM, flow collections, aliases)', () => {
    const plan = samplePlan();
    const handWritten = [
      '\ufeff# our split, agreed on 2024-03-01',
      'version: 1',
      'project: shop',
      'services:',
      '  - {name: catalog, modules: [src/catalog/**], dependsOn: &none []} # inline service',
      '  - name: orders',
      '    modules: [src/orders/routes.ts, src/orders/service.ts] # flow list',
      '    dependsOn: *none',
      '',
    ].join('\r\n');
    const text = serializePlan(plan, handWritten);
    expect(text.startsWith(`${PLAN_FILE_HEADER}\n# our split, agreed on 2024-03-01\nversion: 1\n`)).toBe(true);
    expect(text).not.toContain('\r');
    expect(text).not.toMatch(/[&*]none/);
    expect(text).toContain('    modules: [ src/orders/routes.ts, src/orders/service.ts ] # flow list\n');
    expect(text).toMatch(/services:\n {2}- name: catalog\n/);
    expect(parsePlan(text, FILE, context)).toEqual(plan);
    expect(serializePlan(plan, text)).toBe(text);
  });

  it('drops the comment beside a module that is removed, and regenerates a file that is not YAML', () => {
    const next = samplePlan();
    next.services[1]!.modules = ['src/orders/routes.ts'];
    const text = serializePlan(next, edited);
    expect(text).not.toContain('talks to the payment provider');
    expect(text).toContain('# orders: owned by the checkout team');
    expect(serializePlan(next, 'services: [unclosed\n')).toBe(serializePlan(next));
  });
});

// ---------------------------------------------------------------------------------------------------------
// Hostile strings
// ---------------------------------------------------------------------------------------------------------

const HOSTILE = [
  'src/catalog/**',
  '**/leading-glob.ts',
  '*star',
  '#hash.ts',
  'src/a #b.ts',
  'src/a#b.ts',
  'colon: inside',
  'ends with colon:',
  'key: value # not a comment',
  "it's",
  '"double"',
  "'single'",
  '{{name}}',
  '{a: 1}',
  '[x, y]',
  '- dash',
  '? question',
  '@at',
  '`tick`',
  '%percent',
  '!tag',
  '&anchor',
  '*alias',
  '|pipe',
  '>folded',
  'line one\nline two',
  'trailing newline\n',
  '\nleading newline',
  ' leading space',
  'trailing space ',
  'tab\there',
  'crlf\r\nline',
  'ünïcödé/日本語.ts',
  'emoji 😀 ok',
  'bidi \u202e override',
  'line\u2028separator',
  'bell\u0007char',
  'bom\ufeffinside',
  'null',
  'true',
  '~',
  '1e3',
  '0x10',
  '012',
  '.inf',
  'yes',
  '',
  '<<',
  'back\\slash',
  '---',
  '...',
];

describe('hostile strings', () => {
  const plan = samplePlan();
  plan.rationale = Object.fromEntries(HOSTILE.map((s, i) => [s, HOSTILE[HOSTILE.length - 1 - i]!]));
  plan.entryRoutes = [...HOSTILE];
  plan.services[0]!.routes = [...HOSTILE];
  plan.conflicts[0]!.reason = HOSTILE.join(' | ');
  plan.seams[0]!.symbol = 'line one\nline two';
  plan.services[1]!.hazards[0]!.message = '{{#each x}}: "quoted" # not a comment';
  // Module paths that are valid paths but need quoting in YAML.
  const paths = ['src/#weird.ts', 'src/a: b.ts', '*star.ts', 'src/{{x}}.ts', "src/it's.ts", 'src/ünï/日本.ts', 'src/"q".ts', '@scope/x.ts'];
  plan.services[2]!.modules = ['src/users/routes.ts', ...paths];
  const ctx = contextFor([...MODULES, ...paths]);

  it('round-trip exactly', () => {
    const text = serializePlan(plan);
    expect(parsePlan(text, FILE, ctx)).toEqual(plan);
    // The raw YAML agrees too (no key lost to a merge key or a prototype).
    const raw = parseYaml(text) as { rationale: Record<string, string> };
    expect(Object.keys(raw.rationale).sort()).toEqual(Object.keys(plan.rationale).sort());
    expect(serializePlan(plan, text)).toBe(text);
  });

  it('round-trip through a rewrite of a plain file', () => {
    const text = serializePlan(plan, serializePlan(samplePlan()));
    expect(parsePlan(text, FILE, ctx)).toEqual(plan);
  });

  it('keep glob strings readable', () => {
    const text = serializePlan(plan);
    expect(text).toContain('      - src/catalog/**\n');
    expect(text).toContain('"**/leading-glob.ts"');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Errors: every problem, each at its node
// ---------------------------------------------------------------------------------------------------------

describe('parsePlan errors', () => {
  const good = serializePlan(samplePlan());

  it('DEC-050: YAML syntax errors carry their positions, all of them', () => {
    const text = edit(edit(good, 'project: shop\n', 'project: shop\nproject: again\n'), '  - src/app.ts\n', '  - [src/app.ts\n');
    const error = parseError(text);
    expect(error.code).toBe('DEC-050');
    expect(where(error)).toBe(at(text, 'project: again'));
    expect(error.message).toContain('"project" appears twice');
    expect(error.details.length).toBeGreaterThanOrEqual(1);
    expect(error.details.join('\n')).toMatch(/flow sequence|\]/i);
    expect(error.hint).toMatch(/YAML/);
  });

  it('DEC-050: an empty file and an alias bomb are reported, not thrown raw', () => {
    expect(parseError('').code).toBe('DEC-051');
    expect(parseError('# only a comment\n').message).toContain('empty');
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 8; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    expect(parseError(bomb.join('\n')).code).toBe('DEC-050');
    expect(parseError('a: 1\n---\nb: 2\n').code).toBe('DEC-050');
  });

  it('DEC-051: another version is reported alone, naming both versions', () => {
    const text = edit(good, 'version: 1\n', 'version: 2\n').replace('  loc: 120', '  loc: many');
    const error = parseError(text);
    expect(error.code).toBe('DEC-051');
    expect(where(error)).toBe(`${FILE}:${locate(text, 'version: 2').line}:10`);
    expect(error.message).toContain('version 2');
    expect(error.message).toContain('version 1');
    expect(error.details).toEqual([]);
  });

  it('DEC-051: schema problems, each at its node', () => {
    let text = edit(good, '    loc: 120\n', '    loc: many\n');
    text = edit(text, '      min: 2\n', '      min: 0\n');
    text = edit(text, '    recommended: expose-api\n', '    recommended: rewrite-it\n');
    text = edit(text, '  - name: shared-util\n    modules:\n      - src/util/format.ts\n', '  - name: shared-util\n');
    const error = parseError(text);
    expect(error.code).toBe('DEC-051');
    const problems = allProblems(error);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toBe(`${at(text, 'many')}: services[0].loc (service "catalog"): expected number, received string`);
    expect(problems[1]).toMatch(new RegExp(`^${at(text, '0\n')}: services\\[1\\]\\.replicas\\.min \\(service "orders"\\): Too small`));
    expect(problems[2]).toBe(`${at(text, 'name: shared-util')}: missing field "modules" in sharedLibraries[0] (shared library "shared-util")`);
    expect(problems[3]).toMatch(new RegExp(`^${at(text, 'rewrite-it')}: conflicts\\[0\\]\\.recommended: `));
  });

  it('DEC-051: unknown fields, with a suggestion', () => {
    const text = edit(good, '    dependsOn:\n      - catalog\n', '    dependson:\n      - catalog\n');
    const error = parseError(text);
    expect(error.code).toBe('DEC-051');
    const problems = allProblems(error);
    expect(problems).toContain(`${at(text, 'dependson')}: unknown field "dependson" in services[1] (service "orders"); did you mean "dependsOn"?`);
    expect(problems).toContain(`${at(text, 'name: orders')}: missing field "dependsOn" in services[1] (service "orders")`);
  });

  it('DEC-051: names that are not DNS labels', () => {
    const bad = ['../../etc', 'CON', 'a_b', 'Orders', '', 'x'.repeat(64), 'con'];
    const plan = samplePlan();
    const template = plan.services[2]!;
    plan.services = bad.map((name) => ({ ...structuredClone(template), name, modules: [], owns: [] }));
    const text = serializePlan(plan);
    const error = parseError(text);
    expect(error.code).toBe('DEC-051');
    const problems = allProblems(error);
    expect(problems).toHaveLength(bad.length);
    expect(problems[0]).toBe(`${at(text, '../../etc')}: service name "../../etc" is not a DNS label (lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen); try "etc"`);
    expect(problems[1]).toContain('"CON" is not a DNS label');
    expect(problems[2]).toContain('"a_b" is not a DNS label (lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen); try "a-b"');
    expect(problems[3]).toContain('try "orders"');
    expect(problems[4]).toBe(`${at(text, 'name: ""', 1, 6)}: service name is empty`);
    expect(problems[5]).toContain('is 64 characters long; a DNS label has at most 63');
    expect(problems[6]).toBe(`${at(text, 'name: con', 1, 6)}: service name "con" is a reserved device name on Windows and cannot name a folder; try "con-service"`);
    expect(error.hint).toMatch(/DNS label/);
  });

  it('DEC-051: absolute paths and ".." segments', () => {
    let text = edit(good, '      - src/users/routes.ts\n', '      - /etc/passwd\n      - src/../../secret.ts\n      - C:\\x.ts\n');
    text = edit(text, '  - src/server.ts\n', '  - src\\server.ts\n');
    const error = parseError(text);
    expect(error.code).toBe('DEC-051');
    expect(allProblems(error)).toEqual([
      `${at(text, '/etc/passwd')}: service "users" lists /etc/passwd, which is absolute; module paths are relative to the project root`,
      `${at(text, 'src/../../secret.ts')}: service "users" lists src/../../secret.ts, which contains a ".." segment; module paths must stay inside the project`,
      `${at(text, 'C:')}: service "users" lists "C:\\\\x.ts", which is absolute; module paths are relative to the project root`,
      `${at(text, 'src\\server.ts')}: entrypoints lists "src\\\\server.ts", which contains a backslash; use forward slashes`,
    ]);
  });

  it('DEC-052: duplicate names across services and shared libraries', () => {
    let text = edit(good, '  - name: users\n', '  - name: orders\n');
    text = edit(text, '  - name: shared-util\n', '  - name: catalog\n');
    const error = parseError(text);
    expect(error.code).toBe('DEC-052');
    expect(allProblems(error)).toEqual([
      `${at(text, '- name: orders', 2, 8)}: service "orders" is defined twice (first at line ${locate(text, '- name: orders').line})`,
      `${at(text, '- name: catalog', 2, 8)}: shared library "catalog" has the same name as service "catalog" (line ${locate(text, '- name: catalog').line})`,
    ]);
    expect(error.hint).toMatch(/unique/);
  });

  it('DEC-052: a module in two services, a glob overlapping a service, a module in a service and entrypoints', () => {
    let text = edit(good, '      - src/orders/routes.ts\n', '      - src/orders/routes.ts\n      - src/catalog/list.ts\n');
    text = edit(text, '      - src/util/format.ts\n', '      - src/util/format.ts\n      - src/orders/**\n');
    text = edit(text, '  - src/server.ts\n', '  - src/server.ts\n  - src/users/routes.ts\n');
    const error = parseError(text);
    expect(error.code).toBe('DEC-052');
    expect(allProblems(error)).toEqual([
      `${at(text, 'src/catalog/list.ts')}: service "orders" lists src/catalog/list.ts, which is already in service "catalog"`,
      `${at(text, 'src/orders/**')}: shared library "shared-util" lists src/orders/**, which matches src/orders/routes.ts, src/orders/service.ts already in service "orders"`,
      `${at(text, 'src/users/routes.ts', 2)}: entrypoints lists src/users/routes.ts, which is already in service "users"`,
    ]);
    expect(error.message).toBe('service "orders" lists src/catalog/list.ts, which is already in service "catalog"');
  });

  it('DEC-052: unknown modules and globs that match nothing', () => {
    let text = edit(good, '      - src/users/routes.ts\n', '      - src/users/routes.ts\n      - src/users/missing.ts\n');
    text = edit(text, '      - src/catalog/**\n', '      - src/catalogue/**\n');
    const error = parseError(text);
    expect(error.code).toBe('DEC-052');
    expect(allProblems(error)).toEqual([
      `${at(text, 'src/catalogue/**')}: service "catalog" lists the glob src/catalogue/**, which matches no module`,
      `${at(text, 'src/users/missing.ts')}: service "users" lists src/users/missing.ts, which is not a module of this project`,
    ]);
  });

  it('DEC-052: an entity owned by two services', () => {
    const text = edit(good, '      - User\n', '      - User\n      - Product\n');
    const error = parseError(text);
    expect(error.code).toBe('DEC-052');
    expect(allProblems(error)).toEqual([`${at(text, 'Product\n', 2)}: service "users" owns entity "Product", which service "catalog" already owns`]);
  });

  it('DEC-052: dependsOn naming an unknown service, a shared library or itself', () => {
    const text = edit(good, '      - catalog\n', '      - catalogue\n      - orders\n      - shared-util\n');
    const error = parseError(text);
    expect(error.code).toBe('DEC-052');
    expect(allProblems(error)).toEqual([
      `${at(text, 'catalogue')}: service "orders" depends on "catalogue", which is not a service in this plan; did you mean "catalog"?`,
      `${at(text, '- orders', 1, 2)}: service "orders" lists itself in dependsOn`,
      `${at(text, '- shared-util', 1, 2)}: service "orders" depends on "shared-util", which is not a service in this plan, but a shared library (code linked into services, not a service to call)`,
    ]);
  });

  it('DEC-052: replicas.min above replicas.max', () => {
    const text = edit(good, '      min: 2\n      max: 4\n', '      min: 5\n      max: 4\n');
    const error = parseError(text);
    expect(error.code).toBe('DEC-052');
    expect(allProblems(error)).toEqual([`${at(text, 'min: 5', 1, 5)}: service "orders" has replicas.min 5 above replicas.max 4`]);
  });

  it('DEC-052: a plan for another project', () => {
    const error = parseError(good, contextFor(MODULES, 'blog'));
    expect(error.code).toBe('DEC-052');
    expect(where(error)).toBe(at(good, 'shop'));
    expect(error.message).toBe('this plan is for project "shop", but this repository is "blog"');
    expect(error.hint).toContain('--plan');
  });

  it('reports every problem at once, the most basic kind first, each with file:line:column', () => {
    let text = edit(good, '  - name: users\n', '  - name: Users\n');
    text = edit(text, '      min: 2\n      max: 4\n', '      min: 5\n      max: 4\n');
    text = edit(text, '      - src/orders/routes.ts\n', '      - src/orders/routes.ts\n      - src/nowhere.ts\n');
    text = edit(text, '    loc: 80\n', '    loc: 8.5\n');
    const error = parseError(text, contextFor(MODULES, 'blog'));
    expect(error.code).toBe('DEC-051');
    const problems = allProblems(error);
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(new RegExp(`^${at(text, '8.5')}: services\\[1\\]\\.loc`));
    expect(problems[1]).toMatch(new RegExp(`^${at(text, 'Users')}: service name "Users"`));
    expect(problems[2]).toMatch(new RegExp(`^${at(text, 'shop')}: this plan is for project`));
    expect(problems[3]).toMatch(new RegExp(`^${at(text, 'src/nowhere.ts')}: service "orders" lists src/nowhere.ts`));
    expect(problems[4]).toMatch(new RegExp(`^${at(text, 'min: 5', 1, 5)}: service "orders" has replicas.min 5`));
  });
});

describe('the fast reader (js-yaml) gives the value yaml gives, and leaves everything else to yaml', () => {
  const good = serializePlan(samplePlan());
  const yamlValue = (text: string) => parseDocument(text, PARSE_OPTIONS).toJS(TO_JS_OPTIONS);

  it('reads generated, hand-edited and hostile plans to the same value as yaml', () => {
    const texts = [
      good,
      // Hand-edited: comments, flow collections, quoting styles, numbers and booleans yaml's core schema knows.
      `${good}# a comment\nextra:\n  flow: [a, 'b c', "d\\te", {k: v}]\n  numbers: [0, -1, 1.5, 0x1F, 0o17, 1e3, .inf, -.inf]\n  words: [yes, no, on, off, True, FALSE, Null, ~, 1_000, 0b101, 012, 2024-01-01]\n  block: |\n    line one\n    line two\n  folded: >-\n    folded\n    text\n`,
      // Names and paths with the characters hostile fixtures use.
      serializePlan({ ...samplePlan(), project: 'ünïcödé ☃ {{#each x}} "quoted" \'single\' # not a comment' }),
    ];
    for (const fixture of ['shop-ts', 'blog-cjs']) {
      const file = path.join(fixturePath(fixture), 'golden', 'decompose.plan.yaml');
      if (fs.existsSync(file)) texts.push(fs.readFileSync(file, 'utf8'));
    }
    for (const text of texts) {
      const fast = readPlanValue(text);
      expect(fast, text.slice(0, 80)).not.toBeNull();
      expect(fast!.value).toEqual(yamlValue(text));
    }
  });

  it('leaves duplicate keys, broken YAML and aliases to yaml, which reports them with their position as before', () => {
    const duplicate = edit(good, 'project: shop\n', 'project: shop\nproject: again\n');
    expect(readPlanValue(duplicate)).toBeNull();
    expect(where(parseError(duplicate))).toBe(at(duplicate, 'project: again'));
    expect(readPlanValue('a: [1, 2\n')).toBeNull();
    expect(readPlanValue('a: &a [1]\nb: *a\n')).toBeNull();
  });

  it('places problems found in a plan it read at their nodes, as yaml alone would', () => {
    const text = edit(edit(good, '    loc: 120\n', '    loc: many\n'), 'project: shop\n', 'project: elsewhere\n');
    expect(readPlanValue(text)).not.toBeNull();
    const error = parseError(text);
    expect(error.code).toBe('DEC-051');
    expect(where(error)).toBe(at(text, 'many'));
    expect(allProblems(error).some((p) => p.startsWith(`${at(text, 'elsewhere')}: `))).toBe(true);
  });
});
