import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { Chalk } from 'chalk';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckResult, Finding } from '../model/finding.js';
import { RULES } from '../model/finding.js';
import type { CheckFormat, CheckReportContext } from './check-reporters.js';
import { CHECK_FORMATS, CHECK_REPORTERS, isCheckPassing, SARIF_SCHEMA_URI } from './check-reporters.js';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** A message built to break naive escaping in every format. */
const WEIRD = '100% of GET /a,b:c\r\nowned by <b>users</b> & R&D | not `catalog` — ünïcødé 🚀';
/** Characters no XML 1.0 document may hold (NUL, ESC, a lone surrogate), and an ANSI colour sequence. */
const HOSTILE = 'Nobody claims this module\u0000 \u001b[31m(red)\u001b[0m \uD800end';

function finding(overrides: Partial<Finding> & Pick<Finding, 'rule' | 'severity' | 'message' | 'location'>): Finding {
  return { related: [], service: null, fingerprint: `${overrides.rule}-fp`, ...overrides };
}

function sample(): CheckResult {
  return {
    findings: [
      finding({
        rule: 'forbidden-import',
        severity: 'error',
        message: 'Imports src/users/repo.ts, which belongs to users: call the users API instead.',
        location: { file: 'src/orders/checkout.ts', line: 12, column: 3 },
        related: [
          { file: 'src/users/repo.ts', line: 1, column: 1, message: 'owned by users' },
          { file: 'decompose.plan.yaml', line: 8, column: 5, message: 'orders does not list users in dependsOn' },
        ],
        service: 'orders',
        fingerprint: 'fi-1a2b',
      }),
      finding({
        rule: 'new-hazard',
        severity: 'warn',
        message: 'module-level Map holds carts',
        location: { file: 'src/orders/session.ts', line: 5, column: 1 },
        service: 'orders',
      }),
      finding({
        rule: 'route-owner',
        severity: 'error',
        message: WEIRD,
        location: { file: 'src/catalog/routes.ts', line: 30, column: 5 },
        service: 'catalog',
      }),
      finding({
        rule: 'missing-module',
        severity: 'warn',
        message: 'src/catalog/old.ts no longer exists',
        location: { file: 'decompose.plan.yaml', line: 14, column: 5 },
        service: 'catalog',
      }),
      finding({
        rule: 'unclaimed-module',
        severity: 'error',
        message: HOSTILE,
        location: { file: 'src/legacy/a,b:c.ts', line: 1, column: 1 },
      }),
      finding({
        rule: 'seam-budget',
        severity: 'error',
        message: '7 seams, budget 5: remove cross-service calls',
        location: { file: 'decompose.plan.yaml', line: 0, column: 0 },
      }),
    ],
    stale: [{ fingerprint: 'st-9z', rule: 'forbidden-import', message: 'src/orders/old.ts imports src/users/db.ts (100% gone)' }],
    baselined: 3,
    baselineBefore: 5,
    baselineAfter: 4,
  };
}

function clean(): CheckResult {
  return { findings: [], stale: [], baselined: 0, baselineBefore: null, baselineAfter: null };
}

/** The same result with every list in a different order. */
function shuffled(result: CheckResult): CheckResult {
  const rotate = <T>(items: T[], by: number): T[] => items.map((_, i) => items[(i + by) % items.length] as T);
  return {
    ...result,
    findings: rotate([...result.findings].reverse(), 2).map((f) => ({ ...f, related: [...f.related].reverse() })),
    stale: [...result.stale].reverse(),
  };
}

const context: CheckReportContext = { color: new Chalk({ level: 0 }), toolVersion: '0.1.0', planFile: 'decompose.plan.yaml' };

function render(format: CheckFormat, result: CheckResult, ctx: CheckReportContext = context): string {
  return CHECK_REPORTERS[format](result, ctx);
}

describe('CHECK_REPORTERS', () => {
  it('has one reporter per format', () => {
    expect(CHECK_FORMATS).toEqual(['pretty', 'json', 'github', 'sarif', 'junit', 'markdown']);
  });

  it('passes only without errors and stale entries', () => {
    expect(isCheckPassing(sample())).toBe(false);
    expect(isCheckPassing(clean())).toBe(true);
    const warningsOnly = { ...sample(), stale: [], findings: sample().findings.filter((f) => f.severity === 'warn') };
    expect(isCheckPassing(warningsOnly)).toBe(true);
    expect(isCheckPassing({ ...clean(), stale: sample().stale })).toBe(false);
  });

  it.each(CHECK_FORMATS)('%s is deterministic: input order does not matter, output ends with a newline', (format) => {
    const once = render(format, sample());
    expect(render(format, sample())).toBe(once);
    expect(render(format, shuffled(sample()))).toBe(once);
    expect(render(format, shuffled(shuffled(sample())))).toBe(once);
    expect(once.endsWith('\n')).toBe(true);
    expect(render(format, clean()).endsWith('\n')).toBe(true);
  });

  it('sorts findings by file, then line, column and rule', () => {
    const at = (file: string, line: number, column: number, rule: Finding['rule']): Finding =>
      finding({ rule, severity: 'error', message: `${rule} at ${line}:${column}`, location: { file, line, column } });
    const result = {
      ...clean(),
      findings: [
        at('src/b.ts', 1, 1, 'forbidden-import'),
        at('src/a.ts', 10, 1, 'forbidden-import'),
        at('src/a.ts', 2, 9, 'unclaimed-module'),
        at('src/a.ts', 2, 9, 'data-ownership'),
        at('src/a.ts', 2, 3, 'route-owner'),
      ],
    };
    const order = render('github', result)
      .split('\n')
      .filter((l) => l.startsWith('::'))
      .map((l) => l.slice(l.lastIndexOf('::') + 2));
    expect(order).toEqual([
      'route-owner at 2:3',
      'data-ownership at 2:9',
      'unclaimed-module at 2:9',
      'forbidden-import at 10:1',
      'forbidden-import at 1:1',
    ]);
  });

  it.each(CHECK_FORMATS)('%s does not modify its input', (format) => {
    const input = shuffled(sample());
    const before = structuredClone(input);
    render(format, input);
    expect(input).toEqual(before);
  });
});

describe('sarif', () => {
  // The schema comes from Microsoft's SARIF SDK (@microsoft/sarif-multitool ships it beside its binary, in the
  // package for this platform). It declares JSON Schema 2020-12, hence Ajv2020; strict: false because it uses
  // annotation keywords ajv does not know.
  const requireHere = createRequire(import.meta.url);
  const requireFromMultitool = createRequire(requireHere.resolve('@microsoft/sarif-multitool/package.json'));
  const schemaPath = requireFromMultitool.resolve(`@microsoft/sarif-multitool-${process.platform}/sarif-2.1.0.json`);
  const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);

  const log = JSON.parse(render('sarif', sample()));
  const run = log.runs[0];

  it('loads the official SARIF 2.1.0 schema', () => {
    expect(path.basename(schemaPath)).toBe('sarif-2.1.0.json');
    expect(schema.title).toBe('Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema');
  });

  it('has a validator that rejects a broken log (so it is not silent)', () => {
    const broken = structuredClone(log);
    broken.runs[0].results[0].level = 'fatal';
    delete broken.runs[0].results[1].message;
    broken.runs[0].results[2].locations[0].physicalLocation.region.startLine = 0;
    expect(validate(broken)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/runs/0/results/0/level must be equal to one of the allowed values',
        "/runs/0/results/1 must have required property 'message'",
        '/runs/0/results/2/locations/0/physicalLocation/region/startLine must be >= 1',
      ]),
    );
    expect(validate({ version: '2.1.0' })).toBe(false);
  });

  it('validates against the schema, with findings and when clean', () => {
    expect(validate(log), JSON.stringify(validate.errors, null, 2)).toBe(true);
    const cleanLog = JSON.parse(render('sarif', clean(), { ...context, informationUri: 'https://example.org/decompose' }));
    expect(validate(cleanLog), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(cleanLog.runs[0].results).toEqual([]);
    expect(cleanLog.runs[0].tool.driver.informationUri).toBe('https://example.org/decompose');
    expect(cleanLog.runs[0].invocations).toEqual([{ executionSuccessful: true }]);
  });

  it('describes the tool and every rule', () => {
    expect(log.$schema).toBe(SARIF_SCHEMA_URI);
    expect(log.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    expect(log.version).toBe('2.1.0');
    expect(log.runs).toHaveLength(1);
    const driver = run.tool.driver;
    expect(driver.name).toBe('decompose');
    expect(driver.version).toBe('0.1.0');
    expect(driver.informationUri).toBeUndefined();
    expect(driver.rules.map((r: { id: string }) => r.id)).toEqual(RULES.map((r) => r.id));
    expect(driver.rules[0]).toEqual({
      id: 'forbidden-import',
      name: 'ForbiddenImport',
      shortDescription: { text: RULES[0]?.title },
      fullDescription: { text: `${RULES[0]?.title}. ${RULES[0]?.help}` },
      help: { text: RULES[0]?.help },
      defaultConfiguration: { level: 'error' },
    });
    const missing = driver.rules.find((r: { id: string }) => r.id === 'missing-module');
    expect(missing.defaultConfiguration.level).toBe('warning');
    expect(run.columnKind).toBe('utf16CodeUnits');
    expect(run.properties).toEqual({ planFile: 'decompose.plan.yaml', baselined: 3, baselineBefore: 5, baselineAfter: 4 });
  });

  it('reports each finding with rule, level, location, related locations and fingerprint', () => {
    expect(run.results.map((r: { ruleId: string }) => r.ruleId)).toEqual([
      'seam-budget',
      'missing-module',
      'route-owner',
      'unclaimed-module',
      'forbidden-import',
      'new-hazard',
    ]);
    for (const result of run.results) {
      expect(RULES[result.ruleIndex]?.id).toBe(result.ruleId);
      expect(result.partialFingerprints['decompose/v1']).toEqual(expect.any(String));
      expect(result.locations[0].physicalLocation.artifactLocation.uriBaseId).toBe('%SRCROOT%');
    }
    const forbidden = run.results.find((r: { ruleId: string }) => r.ruleId === 'forbidden-import');
    expect(forbidden).toEqual({
      ruleId: 'forbidden-import',
      ruleIndex: 0,
      level: 'error',
      message: { text: 'Imports src/users/repo.ts, which belongs to users: call the users API instead.' },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: 'src/orders/checkout.ts', uriBaseId: '%SRCROOT%' },
            region: { startLine: 12, startColumn: 3 },
          },
        },
      ],
      relatedLocations: [
        {
          id: 1,
          message: { text: 'orders does not list users in dependsOn' },
          physicalLocation: { artifactLocation: { uri: 'decompose.plan.yaml', uriBaseId: '%SRCROOT%' }, region: { startLine: 8, startColumn: 5 } },
        },
        {
          id: 2,
          message: { text: 'owned by users' },
          physicalLocation: { artifactLocation: { uri: 'src/users/repo.ts', uriBaseId: '%SRCROOT%' }, region: { startLine: 1, startColumn: 1 } },
        },
      ],
      partialFingerprints: { 'decompose/v1': 'fi-1a2b' },
      properties: { service: 'orders' },
    });
    const hazard = run.results.find((r: { ruleId: string }) => r.ruleId === 'new-hazard');
    expect(hazard.level).toBe('warning');
    const route = run.results.find((r: { ruleId: string }) => r.ruleId === 'route-owner');
    expect(route.message.text).toBe(WEIRD);
    // A file name with URI-reserved characters is percent-encoded; a whole-file finding has no region.
    const unclaimed = run.results.find((r: { ruleId: string }) => r.ruleId === 'unclaimed-module');
    expect(unclaimed.locations[0].physicalLocation.artifactLocation.uri).toBe('src/legacy/a%2Cb%3Ac.ts');
    expect(unclaimed.properties).toBeUndefined();
    const budget = run.results.find((r: { ruleId: string }) => r.ruleId === 'seam-budget');
    expect(budget.locations[0].physicalLocation.region).toBeUndefined();
  });

  it('reports stale baseline entries as tool execution notifications, not results', () => {
    expect(run.tool.driver.notifications.map((n: { id: string }) => n.id)).toEqual(['stale-baseline-entry']);
    expect(run.invocations).toEqual([
      {
        executionSuccessful: true,
        toolExecutionNotifications: [
          {
            level: 'error',
            message: { text: 'Stale baseline entry for forbidden-import (st-9z): src/orders/old.ts imports src/users/db.ts (100% gone)' },
            descriptor: { id: 'stale-baseline-entry', index: 0 },
            associatedRule: { id: 'forbidden-import', index: 0 },
            properties: { fingerprint: 'st-9z' },
          },
        ],
      },
    ]);
    const fingerprints = run.results.map((r: { partialFingerprints: Record<string, string> }) => r.partialFingerprints['decompose/v1']);
    expect(fingerprints).not.toContain('st-9z');
  });
});

describe('junit', () => {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    processEntities: true,
    htmlEntities: true,
    isArray: (name) => ['testsuite', 'testcase', 'failure', 'property'].includes(name),
  });
  interface Testcase {
    classname: string;
    name: string;
    file?: string;
    failure?: Array<{ type: string; message: string; '#text': string }>;
    'system-out'?: string;
  }
  interface Suite {
    name: string;
    tests: string;
    failures: string;
    errors: string;
    testcase: Testcase[];
    properties: { property: Array<{ name: string; value: string }> };
  }
  function parse(xml: string): { testsuites: { tests: string; failures: string; testsuite: Suite[] } } {
    expect(XMLValidator.validate(xml)).toBe(true);
    return parser.parse(xml);
  }
  /** The characters XML 1.0 forbids, even as references. */
  const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

  it('has a validator that rejects broken XML (so it is not silent)', () => {
    expect(XMLValidator.validate('<testsuite><testcase></testsuite>')).not.toBe(true);
    expect(XMLValidator.validate('<failure>a & b</failure>')).not.toBe(true);
    expect(XMLValidator.validate('<failure>1 < 2</failure>')).not.toBe(true);
    expect(XMLValidator.validate('<testsuite name="a" name="b"/>')).not.toBe(true);
    expect(XMLValidator.validate('<testsuite name="ok"><testcase name="x"/></testsuite>')).toBe(true);
  });

  it('is one suite with a testcase per clean rule and per finding; errors and stale entries fail', () => {
    const xml = render('junit', sample());
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(INVALID_XML.test(xml)).toBe(false);
    // fast-xml-parser's validator accepts a bare `&` inside an attribute value, so check that one by hand.
    expect(xml).not.toMatch(/&(?!(?:amp|lt|gt|quot|apos|#\d+);)/);
    // Line breaks in attributes are references: a conforming parser turns a literal one into a space.
    expect(xml).toContain('message="src/catalog/routes.ts:30:5: 100% of GET /a,b:c&#13;&#10;owned by &lt;b&gt;users&lt;/b&gt; &amp; R&amp;D');
    const doc = parse(xml);
    expect(doc.testsuites.testsuite).toHaveLength(1);
    const suite = doc.testsuites.testsuite[0] as Suite;
    expect(suite.name).toBe('decompose check');
    // 9 rules: 6 with one finding each, 3 clean; plus 1 stale entry.
    expect(suite.testcase).toHaveLength(10);
    expect(suite.tests).toBe('10');
    const failing = suite.testcase.filter((t) => t.failure !== undefined);
    expect(failing.map((t) => t.classname)).toEqual(['forbidden-import', 'unclaimed-module', 'route-owner', 'seam-budget', 'baseline']);
    expect(suite.failures).toBe('5');
    expect(suite.errors).toBe('0');
    expect(doc.testsuites.tests).toBe('10');
    expect(doc.testsuites.failures).toBe('5');
    expect(suite.testcase.filter((t) => t.name.endsWith(': no findings')).map((t) => t.classname)).toEqual([
      'data-ownership',
      'shared-imports-service',
      'icp-budget',
    ]);
    const warnings = suite.testcase.filter((t) => t['system-out'] !== undefined);
    expect(warnings.map((t) => [t.classname, t.failure])).toEqual([
      ['missing-module', undefined],
      ['new-hazard', undefined],
    ]);
    expect(warnings[1]?.['system-out']).toContain('warning: module-level Map holds carts');
    expect(Object.fromEntries(suite.properties.property.map((p) => [p.name, p.value]))).toEqual({
      planFile: 'decompose.plan.yaml',
      toolVersion: '0.1.0',
      baselined: '3',
      baselineBefore: '5',
      baselineAfter: '4',
    });
  });

  it('keeps every character through the XML round trip, except those XML cannot hold', () => {
    const suite = parse(render('junit', sample())).testsuites.testsuite[0] as Suite;
    const route = suite.testcase.find((t) => t.classname === 'route-owner');
    expect(route?.name).toBe('src/catalog/routes.ts (route-owner-fp)');
    expect(route?.file).toBe('src/catalog/routes.ts');
    expect(route?.failure?.[0]?.type).toBe('route-owner');
    expect(route?.failure?.[0]?.message).toBe(`src/catalog/routes.ts:30:5: ${WEIRD}`);
    expect(route?.failure?.[0]?.['#text'].startsWith(`${WEIRD}\n\nat src/catalog/routes.ts:30:5\n`)).toBe(true);
    const unclaimed = suite.testcase.find((t) => t.classname === 'unclaimed-module');
    expect(unclaimed?.name).toBe('src/legacy/a,b:c.ts (unclaimed-module-fp)');
    expect(unclaimed?.failure?.[0]?.message).toBe('src/legacy/a,b:c.ts:1:1: Nobody claims this module [31m(red)[0m end');
    const forbidden = suite.testcase.find((t) => t.classname === 'forbidden-import');
    expect(forbidden?.failure?.[0]?.['#text']).toContain('related src/users/repo.ts:1:1: owned by users\n');
    const stale = suite.testcase.find((t) => t.classname === 'baseline');
    expect(stale?.name).toBe('stale baseline entry (st-9z)');
    expect(stale?.failure?.[0]?.message).toBe('Stale baseline entry for forbidden-import: src/orders/old.ts imports src/users/db.ts (100% gone)');
  });

  it('is a passing suite with a testcase per rule when clean', () => {
    const suite = parse(render('junit', clean())).testsuites.testsuite[0] as Suite;
    expect(suite.testcase).toHaveLength(RULES.length);
    expect(suite.testcase.every((t) => t.failure === undefined)).toBe(true);
    expect(suite.tests).toBe(String(RULES.length));
    expect(suite.failures).toBe('0');
    expect(suite.properties.property.find((p) => p.name === 'baselineBefore')?.value).toBe('none');
  });
});

describe('github', () => {
  it('prints one workflow command per finding and stale entry, escaped, then the totals', () => {
    expect(render('github', sample()).split('\n')).toEqual([
      '::error file=decompose.plan.yaml,title=decompose seam-budget::7 seams, budget 5: remove cross-service calls',
      '::warning file=decompose.plan.yaml,line=14,col=5,title=decompose missing-module::src/catalog/old.ts no longer exists',
      '::error file=src/catalog/routes.ts,line=30,col=5,title=decompose route-owner::100%25 of GET /a,b:c%0D%0Aowned by <b>users</b> & R&D | not `catalog` — ünïcødé 🚀',
      '::error file=src/legacy/a%2Cb%3Ac.ts,line=1,col=1,title=decompose unclaimed-module::Nobody claims this module [31m(red)[0m \u{FFFD}end',
      '::error file=src/orders/checkout.ts,line=12,col=3,title=decompose forbidden-import::Imports src/users/repo.ts, which belongs to users: call the users API instead.%0A↳ decompose.plan.yaml:8:5 orders does not list users in dependsOn%0A↳ src/users/repo.ts:1:1 owned by users',
      '::warning file=src/orders/session.ts,line=5,col=1,title=decompose new-hazard::module-level Map holds carts',
      '::error title=stale baseline entry::forbidden-import st-9z: src/orders/old.ts imports src/users/db.ts (100%25 gone)%0AThe finding this baseline entry accepted is gone: update the baseline so the entry is dropped.',
      'decompose check: 4 errors, 2 warnings, 3 baselined, 1 stale baseline entry, baseline: 5 → 4',
      '',
    ]);
  });

  it('prints only the totals when clean', () => {
    expect(render('github', clean())).toBe('decompose check: 0 errors, 0 warnings, 0 baselined, 0 stale baseline entries\n');
  });
});

describe('markdown', () => {
  const md = render('markdown', sample());
  const lines = md.split('\n');
  /** Cell separators: pipes not escaped with a backslash. */
  const cellCount = (row: string): number => row.split(/(?<!\\)\|/).length - 2;

  it('has a failing heading, the totals and a table with one row per finding', () => {
    expect(lines[0]).toBe('## ❌ decompose check failed');
    expect(md).toContain('4 errors, 2 warnings, 3 baselined, 1 stale baseline entry, baseline: 5 → 4. Plan: decompose.plan.yaml.');
    const header = lines.indexOf('| Severity | Location | Rule | Service | Message |');
    expect(header).toBeGreaterThan(0);
    const rows = lines.slice(header + 2, lines.indexOf('', header));
    expect(rows).toHaveLength(6);
    for (const row of rows) expect(cellCount(row), row).toBe(5);
    expect(rows[0]).toBe('| ❌ error | <code>decompose.plan.yaml</code> | seam-budget | — | 7 seams, budget 5: remove cross-service calls |');
    expect(rows[1]).toBe('| ⚠️ warning | <code>decompose.plan.yaml:14:5</code> | missing-module | catalog | src/catalog/old.ts no longer exists |');
  });

  it('escapes pipes, newlines, backticks and HTML in cells', () => {
    const route = lines.find((l) => l.includes('route-owner'));
    expect(route).toBe(
      '| ❌ error | <code>src/catalog/routes.ts:30:5</code> | route-owner | catalog | 100% of GET /a,b:c<br>owned by &lt;b&gt;users&lt;/b&gt; &amp; R&amp;D \\| not \\`catalog\\` — ünïcødé 🚀 |',
    );
    expect(md).not.toContain('<b>');
    const unclaimed = lines.find((l) => l.includes('unclaimed-module'));
    expect(unclaimed).toBe('| ❌ error | <code>src/legacy/a,b:c.ts:1:1</code> | unclaimed-module | — | Nobody claims this module \\[31m(red)\\[0m \u{FFFD}end |');
    expect(md).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    const forbidden = lines.find((l) => l.includes('forbidden-import') && l.startsWith('|'));
    expect(forbidden).toContain(
      'call the users API instead.<br>↳ <code>decompose.plan.yaml:8:5</code> orders does not list users in dependsOn<br>↳ <code>src/users/repo.ts:1:1</code> owned by users |',
    );
  });

  it('lists stale entries and the baseline change', () => {
    expect(md).toContain('### Stale baseline entries');
    expect(md).toContain('- forbidden-import <code>st-9z</code>: src/orders/old.ts imports src/users/db.ts (100% gone)');
    expect(md).toContain('### Baseline\n\n3 known findings are accepted by the baseline.\nBaseline entries: 5 → 4.\n');
  });

  it('has a passing heading and no table when clean', () => {
    expect(render('markdown', clean())).toBe(
      '## ✅ decompose check passed\n\n0 errors, 0 warnings, 0 baselined, 0 stale baseline entries. Plan: decompose.plan.yaml.\n\nNo boundary drift: no new findings.\n',
    );
  });

  it('summarises past 200 rows', () => {
    const many = { ...clean(), findings: Array.from({ length: 205 }, (_, i) => ({ ...sample().findings[1]!, location: { file: 'src/a.ts', line: i + 1, column: 1 } })) };
    const text = render('markdown', many);
    expect(text.split('\n').filter((l) => l.startsWith('| ⚠️'))).toHaveLength(200);
    expect(text).toContain('…and 5 more findings: see the full report in the job log.');
  });
});

describe('pretty', () => {
  const text = render('pretty', sample());
  const lines = text.split('\n');

  it('groups by service, then findings with no service', () => {
    const headers = lines.filter((l) => /^\S/.test(l) && !l.startsWith('Plan:') && !l.startsWith('✖'));
    expect(headers).toEqual(['catalog', 'orders', '(no service)', 'Stale baseline entries']);
    expect(lines[0]).toBe('Plan: decompose.plan.yaml');
  });

  it('prints file:line:col, rule and message, related locations indented, within 80 columns', () => {
    expect(text).toContain('  warn   src/orders/session.ts:5:1  new-hazard  module-level Map holds carts\n');
    // Too long for one line: the message goes under the location.
    expect(text).toContain('  warn   decompose.plan.yaml:14:5  missing-module\n         src/catalog/old.ts no longer exists\n');
    expect(text).toContain('  error  decompose.plan.yaml  seam-budget\n         7 seams, budget 5: remove cross-service calls\n');
    expect(text).toContain(
      [
        '  error  src/orders/checkout.ts:12:3  forbidden-import',
        '         Imports src/users/repo.ts, which belongs to users: call the users API',
        '         instead.',
        '         ↳ decompose.plan.yaml:8:5 orders does not list users in dependsOn',
        '         ↳ src/users/repo.ts:1:1 owned by users',
      ].join('\n'),
    );
    // A multi-line message keeps its lines, under the location.
    expect(text).toContain('  error  src/catalog/routes.ts:30:5  route-owner\n         100% of GET /a,b:c\n         owned by <b>users</b>');
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80);
  });

  it('shows control characters instead of sending them to the terminal', () => {
    expect(text).toContain('Nobody claims this module\\x00 \\x1B[31m(red)\\x1B[0m \u{FFFD}end');
    expect(text).not.toContain('\u001b');
  });

  it('colours severities when colour is on', () => {
    const coloured = render('pretty', sample(), { ...context, color: new Chalk({ level: 1 }) });
    expect(coloured).toContain('\u001b[31merror\u001b[39m');
    expect(coloured).toContain('\u001b[33mwarn \u001b[39m');
    // Data never carries its own escape sequences through.
    expect(coloured).not.toContain('\u001b[31m(red)');
  });

  it('ends with the stale entries and the summary line', () => {
    expect(text).toContain('Stale baseline entries\n');
    expect(text).toContain('  error  forbidden-import  st-9z\n         src/orders/old.ts imports src/users/db.ts (100% gone)\n');
    expect(lines.at(-2)).toBe('✖ 4 errors, 2 warnings, 3 baselined, 1 stale baseline entry, baseline: 5 → 4');
  });

  it('is a plan line and a passing summary when clean', () => {
    expect(render('pretty', clean())).toBe('Plan: decompose.plan.yaml\n\n✔ 0 errors, 0 warnings, 0 baselined, 0 stale baseline entries\n');
    expect(render('pretty', { ...clean(), baselineBefore: null, baselineAfter: 2, baselined: 2 })).toContain(
      '✔ 0 errors, 0 warnings, 2 baselined, 0 stale baseline entries, baseline: none → 2\n',
    );
  });
});

describe('json', () => {
  it('is the whole result, sorted, with stable key order', () => {
    const text = render('json', sample());
    const parsed = JSON.parse(text) as CheckResult;
    expect(Object.keys(parsed)).toEqual(['baselineAfter', 'baselineBefore', 'baselined', 'findings', 'stale']);
    expect(Object.keys(parsed.findings[0] ?? {})).toEqual(['fingerprint', 'location', 'message', 'related', 'rule', 'service', 'severity']);
    expect(parsed.findings.map((f) => f.rule)).toEqual(['seam-budget', 'missing-module', 'route-owner', 'unclaimed-module', 'forbidden-import', 'new-hazard']);
    // Same content as the input, only ordered: nothing dropped, nothing escaped away.
    const byFingerprint = (r: CheckResult) => [...r.findings].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint)).map((f) => ({ ...f, related: [...f.related].sort((a, b) => a.file.localeCompare(b.file)) }));
    expect(byFingerprint(parsed)).toEqual(byFingerprint(sample()));
    expect(parsed.stale).toEqual(sample().stale);
    expect(parsed.findings.find((f) => f.rule === 'route-owner')?.message).toBe(WEIRD);
    expect(text.startsWith('{\n  "baselineAfter": 4,\n')).toBe(true);
  });

  it('keeps nulls when clean', () => {
    expect(JSON.parse(render('json', clean()))).toEqual(clean());
  });
});
