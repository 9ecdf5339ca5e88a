import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan, PlanMetrics } from '../model/plan.js';
import { DEFAULT_SETTINGS } from '../model/plan.js';
import { renderPlanHtml, serviceGraphDot } from './plan-html.js';
import { mermaidLabel, renderPlanMarkdown } from './plan-markdown.js';

/** A service name and a module path built to break naive escaping: a pipe, a script tag, backticks. */
const WEIRD = 'pay|<script>alert(1)</script>`x`';
const WEIRD_MODULE = 'src/we|ird/<script>`m`.ts';

function metrics(overrides: Partial<PlanMetrics> = {}): PlanMetrics {
  return {
    sm: 0.412,
    icp: 0.18,
    ifn: 1.5,
    ned: 0.25,
    bcp: null,
    crossServiceEdges: 7,
    crossServiceWeight: 9.5,
    conflicts: 1,
    dataOwnershipEntropy: 0.2,
    coChangeModularity: null,
    services: 4,
    ...overrides,
  };
}

function samplePlan(): Plan {
  return {
    version: 1,
    project: 'shop',
    settings: DEFAULT_SETTINGS,
    services: [
      {
        name: 'orders',
        modules: ['src/orders/routes.ts', 'src/orders/repo.ts', 'src/orders/session.ts'],
        owns: ['Order'],
        dependsOn: ['users', 'catalog'],
        replicas: { min: 1, max: 3 },
        routes: ['GET /orders', 'POST /orders'],
        hazards: [{ kind: 'in-memory-state', file: 'src/orders/session.ts', line: 5, message: 'module-level Map holds carts' }],
        loc: 420,
        moduleCount: 3,
      },
      {
        name: 'catalog',
        modules: ['src/catalog/routes.ts', 'src/catalog/stock.ts'],
        owns: ['Product'],
        dependsOn: ['util'],
        replicas: { min: 1, max: 2 },
        routes: ['GET /products', 'GET /products/:id', 'PUT /products/:id'],
        hazards: [{ kind: 'timer', file: 'src/catalog/stock.ts', line: 30, message: 'setInterval refreshes the cache' }],
        loc: 310,
        moduleCount: 2,
      },
      {
        name: 'users',
        modules: ['src/users/**'],
        owns: ['User'],
        dependsOn: [],
        replicas: { min: 1, max: 1 },
        routes: ['GET /users/:id'],
        hazards: [],
        loc: 150,
        moduleCount: 1,
      },
      {
        name: WEIRD,
        modules: [WEIRD_MODULE],
        owns: [],
        dependsOn: ['orders', 'ghost'],
        replicas: { min: 1, max: 1 },
        routes: [],
        hazards: [{ kind: 'file-write', file: WEIRD_MODULE, line: 3, message: 'writes to ./uploads | disk' }],
        loc: 12,
        moduleCount: 1,
      },
    ],
    sharedLibraries: [{ name: 'util', modules: ['src/util/money.ts', 'src/util/log.ts'] }],
    entrypoints: ['src/app.ts'],
    entryRoutes: ['GET /health'],
    conflicts: [
      {
        entity: 'Order',
        owner: 'orders',
        writers: [
          { service: 'orders', module: 'src/orders/repo.ts', line: 10 },
          { service: 'catalog', module: 'src/catalog/stock.ts', line: 42 },
        ],
        options: ['move-writer', 'expose-api', 'publish-events'],
        recommended: 'expose-api',
        reason: 'catalog marks orders\nas shipped | writes `status` <b>directly</b>',
      },
    ],
    seams: [
      {
        from: 'orders',
        to: 'catalog',
        caller: 'src/orders/routes.ts',
        line: 12,
        callee: 'src/catalog/stock.ts',
        symbol: 'getProduct',
        kind: 'function',
        convertible: true,
        reason: 'async, JSON arguments',
      },
      {
        from: 'orders',
        to: 'catalog',
        caller: 'src/orders/repo.ts',
        line: 3,
        callee: 'src/catalog/stock.ts',
        symbol: 'priceCache',
        kind: 'variable',
        convertible: false,
        reason: 'shared mutable Map',
      },
      {
        from: WEIRD,
        to: 'orders',
        caller: WEIRD_MODULE,
        line: 7,
        callee: 'src/orders/repo.ts',
        symbol: 'createOrder',
        kind: 'function',
        convertible: true,
        reason: 'async',
      },
    ],
    metrics: metrics(),
    baselines: [
      { name: 'by-folder', description: 'one service per top-level folder', metrics: metrics({ sm: 0.3, icp: 0.25, conflicts: 2 }) },
      { name: 'monolith', description: 'everything in one service', metrics: metrics({ sm: 0, icp: 0, conflicts: 0, services: 1 }) },
    ],
    mojofm: 87.5,
    rationale: {
      'src/orders/routes.ts': 'serves /orders',
      'src/orders/repo.ts': 'writes Order',
      [WEIRD_MODULE]: 'imports | `createOrder` <i>only</i>',
    },
  };
}

/** 20 services that all call each other (380 dependencies): too many to draw. */
function densePlan(): Plan {
  const base = samplePlan();
  const names = Array.from({ length: 20 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
  return {
    ...base,
    services: names.map((name) => ({ ...base.services[0]!, name, dependsOn: names.filter((n) => n !== name) })),
    seams: names.flatMap((from, i) => (i === 0 ? [] : [{ ...base.seams[0]!, from, to: names[0]!, caller: `src/${from}.ts` }])),
    conflicts: [],
  };
}

function emptyPlan(): Plan {
  return {
    ...samplePlan(),
    services: [],
    sharedLibraries: [],
    conflicts: [],
    seams: [],
    baselines: [],
    mojofm: null,
    metrics: metrics({ services: 0 }),
  };
}

/** Rows of the Markdown table that starts at the line equal to `header`. */
function tableRows(markdown: string, header: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(header);
  expect(start, `table ${header}`).toBeGreaterThanOrEqual(0);
  const rows: string[] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i += 1) rows.push(lines[i]!);
  return rows;
}

/** Cells of a GFM table row, splitting on unescaped pipes only. */
function cells(row: string): string[] {
  return row
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

describe('renderPlanMarkdown', () => {
  const markdown = renderPlanMarkdown(samplePlan(), { planFile: 'decompose.plan.yaml', analysisFile: '.decompose/analysis.json' });

  it('summarises the plan in one paragraph', () => {
    expect(markdown.startsWith('# Decomposition plan: shop\n')).toBe(true);
    expect(markdown).toContain(
      'shop splits into **4 services** and **1 shared library**, with **1 data-ownership conflict** to resolve and **3 seams**',
    );
    expect(markdown).toContain('of which **2 convertible**');
    expect(markdown).toContain('Generated from the plan decompose.plan.yaml and the analysis .decompose/analysis.json.');
  });

  it('has one service row per service, every row with the header number of cells', () => {
    const rows = tableRows(markdown, '| Service | Modules | Routes | Owns | LOC | Depends on |');
    expect(rows).toContain('| catalog | 2 | 3 | Product | 310 | util |');
    expect(rows).toContain('| orders | 3 | 2 | Order | 420 | catalog, users |');
    expect(rows).toContain('| users | 1 | 1 | User | 150 | — |');
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(cells(row)).toHaveLength(6);
    const weird = rows.find((r) => r.startsWith('| pay'))!;
    expect(cells(weird)[0]).toBe('pay\\|&lt;script&gt;alert(1)&lt;/script&gt;\\`x\\`');
  });

  it('draws a Mermaid flowchart whose ids are safe identifiers and whose labels cannot inject syntax', () => {
    const block = /```mermaid\n([\s\S]*?)\n```/.exec(markdown)![1]!.split('\n');
    expect(block[0]).toBe('flowchart LR');
    const nodes = block.filter((l) => /^ {2}\w+\[/.test(l));
    const edges = block.filter((l) => /-->|-\.->/.test(l));
    for (const line of nodes) expect(line).toMatch(/^ {2}[A-Za-z0-9_]+(\["[^"`<>|]*"\]|\[\["[^"`<>|]*"\]\])$/);
    for (const line of edges) expect(line).toMatch(/^ {2}[A-Za-z0-9_]+ (-->|-\.->) [A-Za-z0-9_]+$/);
    expect(nodes).toContain('  svc_orders["orders"]');
    expect(nodes).toContain('  lib_util[["util"]]');
    expect(nodes).toContain('  svc_pay_script_alert_1_script_x["pay#124;#60;script#62;alert#40;1#41;#60;/script#62;#96;x#96;"]');
    expect(nodes).toContain('  missing_ghost["ghost #40;not in the plan#41;"]');
    expect(edges).toEqual([
      '  svc_catalog -.-> lib_util',
      '  svc_orders --> svc_catalog',
      '  svc_orders --> svc_users',
      '  svc_pay_script_alert_1_script_x --> missing_ghost',
      '  svc_pay_script_alert_1_script_x --> svc_orders',
    ]);
    for (const line of nodes) expect(line).not.toMatch(/[`<>|]/);
  });

  it('encodes every character a Mermaid label could misread, and draws nothing for an empty plan', () => {
    expect(mermaidLabel('lifestyle: a"b;c%%d\ne')).toBe('lifestyle#58; a#34;b#59;c#37;#37;d e');
    const empty = renderPlanMarkdown(emptyPlan(), {});
    expect(empty).not.toContain('```mermaid');
    expect(empty).toContain('_Nothing to draw._');
    expect(empty).toContain('Nothing to do: the plan has no services.');
  });

  it('lists metrics with their direction and compares with every baseline', () => {
    expect(tableRows(markdown, '| Metric | Value | Better |')).toEqual(
      expect.arrayContaining([
        '| Structural modularity (SM) | 0.412 | higher |',
        '| Inter-call percentage (ICP) | 0.18 | lower |',
        '| Business context purity (BCP) | n/a | lower |',
        '| Data-ownership entropy | 0.2 | lower |',
        '| MoJoFM vs the intended split | 87.5 | higher |',
      ]),
    );
    const comparison = tableRows(markdown, '| Metric | Better | This plan | by-folder | monolith |');
    expect(comparison).toContain('| Structural modularity (SM) | higher | **0.412** | 0.3 | 0 |');
    expect(comparison).toContain('| Inter-call percentage (ICP) | lower | 0.18 | 0.25 | **0** |');
    expect(comparison).toContain('| Services | — | 4 | 4 | 1 |');
  });

  it('links conflicts, seams and hazards to file#Lline, escaping every reason', () => {
    expect(markdown).toContain('- catalog: [src/catalog/stock.ts:42](src/catalog/stock.ts#L42)');
    expect(markdown).toContain('Options: move-writer, **expose-api** (recommended), publish-events');
    expect(markdown).toContain('Why: catalog marks orders as shipped \\| writes \\`status\\` &lt;b&gt;directly&lt;/b&gt;');
    expect(markdown).toContain('### orders → catalog (2 seams, 1 convertible)');
    expect(markdown).toContain('| [src/orders/repo.ts:3](src/orders/repo.ts#L3) | priceCache | variable | **no** | shared mutable Map |');
    expect(markdown).toContain(
      '| [src/we\\|ird/&lt;script&gt;\\`m\\`.ts:7](src/we%7Cird/%3Cscript%3E%60m%60.ts#L7) | createOrder | function | yes | async |',
    );
    expect(markdown).toContain('| [src/orders/session.ts:5](src/orders/session.ts#L5) | in-memory-state | module-level Map holds carts |');
    expect(markdown).not.toMatch(/<script|<b>directly|<i>only/);
  });

  it('says what to do first, ending with the service to extract first', () => {
    const section = markdown.slice(markdown.indexOf('## What to do first'), markdown.indexOf('## Services'));
    expect(section).toContain('1. Resolve 1 data-ownership conflict with the recommended option\n   - Order: expose-api (owner orders; also written by catalog)');
    expect(section).toContain('2. Make 1 seam that cannot become an HTTP call as is convertible');
    expect(section).toContain('   - orders → catalog: priceCache');
    expect(section).toContain('3. Fix 3 scale-out hazards');
    expect(section).toMatch(/4\. Extract pay\\\|&lt;script&gt;.* first \(strangler fig/);
    expect(section).toContain('   - then: users, catalog, orders');
  });

  it('puts each group of modules with its rationale in a collapsible block', () => {
    expect(markdown).toContain('<details>\n<summary>Service orders (3 modules)</summary>\n\n- [src/orders/repo.ts](src/orders/repo.ts) — writes Order');
    expect(markdown).toContain('<summary>Service pay|&lt;script&gt;alert(1)&lt;/script&gt;`x` (1 module)</summary>');
    expect(markdown).toContain('- src/users/\\*\\*\n');
    expect(markdown).toContain('— imports \\| \\`createOrder\\` &lt;i&gt;only&lt;/i&gt;');
    expect(markdown).toContain('<summary>Entry points (belong to no service) (1 module)</summary>');
  });

  it('is deterministic and does not depend on the order of the plan', () => {
    const again = renderPlanMarkdown(samplePlan(), { planFile: 'decompose.plan.yaml', analysisFile: '.decompose/analysis.json' });
    expect(again).toBe(markdown);
    const shuffled = samplePlan();
    shuffled.services.reverse();
    shuffled.seams.reverse();
    expect(renderPlanMarkdown(shuffled, { planFile: 'decompose.plan.yaml', analysisFile: '.decompose/analysis.json' })).toBe(markdown);
    expect(markdown.endsWith('\n')).toBe(true);
    expect(markdown).not.toMatch(/\d{4}-\d{2}-\d{2}/);
  });
});

describe('serviceGraphDot', () => {
  it('keeps user text inside escaped labels', () => {
    const plan = samplePlan();
    plan.services[2]!.name = 'a"b\\c&lt;';
    const dot = serviceGraphDot(plan);
    expect(dot).toContain('label="a\\"b\\\\c&amp;lt;\\n');
  });
});

const CHROMIUM = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));

/** Runs headless Chromium on a local page with a fresh profile and no network-facing features. */
async function chromium(dir: string, page: string, args: string[]): Promise<string> {
  if (!CHROMIUM) throw new Error('Chromium not found: apt-get install -y --no-install-recommends chromium (or set CHROMIUM)');
  const profile = await mkdtemp(path.join(dir, 'profile-'));
  const result = await execa(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      ...args,
      pathToFileURL(page).href,
    ],
    { timeout: 25_000, stdin: 'ignore' },
  );
  return result.stdout;
}

/** The markup of `#service-graph` (a div holding the inline SVG) as the browser serialised it. */
function graphOf(dom: string): string {
  const start = dom.indexOf('<div id="service-graph"');
  expect(start, 'the #service-graph container').toBeGreaterThanOrEqual(0);
  return dom.slice(start, dom.indexOf('</svg>', start) + '</svg>'.length);
}

function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(pattern)].length;
}

const SERVICE_NODE = /<g id="(service-[^"]*)" class="node service [^"]*">/g;

describe('renderPlanHtml in headless Chromium', () => {
  let dir: string;
  let html: string;
  let dom: string;
  let emptyDom: string;
  let denseDom: string;
  let screenshot: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'decompose-plan-html-'));
    html = await renderPlanHtml(samplePlan());
    const page = path.join(dir, 'plan.html');
    const emptyPage = path.join(dir, 'empty.html');
    const densePage = path.join(dir, 'dense.html');
    screenshot = path.join(dir, 'plan.png');
    await writeFile(page, html);
    await writeFile(emptyPage, await renderPlanHtml(emptyPlan()));
    await writeFile(densePage, await renderPlanHtml(densePlan()));
    [dom, emptyDom, denseDom] = await Promise.all([
      chromium(dir, page, ['--dump-dom']),
      chromium(dir, emptyPage, ['--dump-dom']),
      chromium(dir, densePage, ['--dump-dom']),
      chromium(dir, page, [`--screenshot=${screenshot}`, '--window-size=1280,900', '--hide-scrollbars']),
    ]);
  }, 60_000);

  afterAll(async () => {
    if (dir && !process.env.KEEP_PLAN_HTML) await rm(dir, { recursive: true, force: true });
  });

  it('draws the service graph as inline SVG with one node per service and per shared library', () => {
    const graph = graphOf(dom);
    expect(graph).toMatch(/^<div id="service-graph" class="graph"><svg /);
    const ids = [...graph.matchAll(SERVICE_NODE)].map((m) => m[1]).sort();
    expect(ids).toEqual(['service-catalog', 'service-orders', 'service-pay__script_alert_1___script__x_', 'service-users']);
    expect(count(graph, /<g id="library-util" class="node library /g)).toBe(1);
    expect(count(graph, /<g id="missing-ghost" class="node missing /g)).toBe(1);
    expect(count(graph, /class="node /g)).toBe(6);
    expect(count(graph, /class="edge"/g)).toBe(5);
    // The weird name is text in the drawing, not markup.
    expect(graph).toContain('>pay|&lt;script&gt;alert(1)&lt;/script&gt;`x`</text>');
  });

  it('finds no node when the plan has no services (the node count is not vacuous)', () => {
    const graph = graphOf(emptyDom);
    expect(graph).toContain('<svg ');
    expect(count(graph, /class="node /g)).toBe(0);
    expect(count(graph, SERVICE_NODE)).toBe(0);
    expect(emptyDom).toContain('<p>No services.</p>');
  });

  it('shows a plan with too many dependencies to draw as a dependency matrix: a row per service, seams in the cells', () => {
    expect(denseDom).not.toContain('<div id="service-graph"');
    expect(denseDom).not.toContain('<svg');
    const matrix = denseDom.slice(denseDom.indexOf('<div id="dependency-matrix"'), denseDom.indexOf('</table>', denseDom.indexOf('<div id="dependency-matrix"')));
    expect(matrix).toContain('<table class="dsm">');
    expect(count(matrix, /<tr><th>\d+\. svc-\d\d<\/th>/g)).toBe(20);
    expect(count(matrix, /<td class="self"><\/td>/g)).toBe(20);
    // Every service but the first calls the first through one seam; every other dependency has none (a dot).
    expect(count(matrix, /<td class="num h4" title="svc-\d\d → svc-00: 1 seam">1<\/td>/g)).toBe(19);
    expect(count(matrix, /<td class="num h0" title="[^"]*: 0 seams">·<\/td>/g)).toBe(380 - 19);
    expect(denseDom).toContain('20 services with 380 dependencies are too many to draw legibly.');
  });

  it('renders the tables, with hostile text as text', () => {
    const services = dom.slice(dom.indexOf('<section id="services">'), dom.indexOf('</section>', dom.indexOf('<section id="services">')));
    expect(count(services, /<tr><td><strong>/g)).toBe(4);
    expect(services).toContain('<td><strong>orders</strong></td><td class="num">3</td><td class="num">2</td><td>Order</td><td class="num">420</td><td>catalog, users</td>');
    expect(dom).toContain('<th>Metric</th><th>Better</th><th class="num">This plan</th><th class="num">by-folder</th><th class="num">monolith</th>');
    expect(dom).toContain('<td>Structural modularity (SM)</td><td>higher</td><td class="num"><strong>0.412</strong></td>');
    expect(dom).toContain('<a href="src/catalog/stock.ts#L42"><code>src/catalog/stock.ts:42</code></a>');
    expect(dom).toContain('<a href="src/we%7Cird/%3Cscript%3E%60m%60.ts#L7"><code>src/we|ird/&lt;script&gt;`m`.ts:7</code></a>');
    expect(dom).toContain('catalog marks orders as shipped | writes `status` &lt;b&gt;directly&lt;/b&gt;');
    expect(count(dom, /<span class="badge no">no<\/span>/g)).toBe(1);
    expect(count(dom, /<span class="badge ok">yes<\/span>/g)).toBe(2);
    expect(dom).toContain('<td>in-memory-state</td>');
    expect(dom).not.toMatch(/<script|<b>directly|<i>only/);
  });

  it('is self-contained: no network resource, no script', () => {
    expect(html).not.toMatch(/https?:\/\//);
    expect(dom).not.toMatch(/<(script|link|img|iframe|object|embed)\b/);
    expect(dom).not.toMatch(/\b(src|srcset)=/);
    expect(dom).not.toMatch(/url\(/);
  });

  it('takes a screenshot that is a real 1280x900 picture', async () => {
    const png = await readFile(screenshot);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 900]);
    expect((await stat(screenshot)).size).toBeGreaterThan(20_000);
  });

  it('is deterministic, SVG included', async () => {
    expect(await renderPlanHtml(samplePlan())).toBe(html);
    expect(html).not.toMatch(/graphviz version|<!--/i);
  });
});
