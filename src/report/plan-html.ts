import { type Viz, instance } from '@viz-js/viz';
import type { Plan } from '../model/plan.js';
import { compareStrings, sortBy } from '../util/compare.js';
import {
  type PlanView,
  METRICS,
  bestIndexes,
  buildPlanView,
  countOf,
  directionText,
  firstSteps,
  formatNumber,
  oneLine,
  pathTarget,
  sortHazards,
} from './plan-markdown.js';

/**
 * plan.html: one self-contained page (no script, no external font, style sheet or image) with the service graph
 * drawn at generation time by Graphviz (WebAssembly, `@viz-js/viz`) and inlined as SVG, plus the tables of
 * PLAN.md. Deterministic: Graphviz's comments (which carry its version and the node names) are stripped.
 *
 * The graph container is `#service-graph`; each service node is a `g.node.service` with
 * `id="service-<name>"` (the name reduced to `[a-z0-9_-]`, made unique), each shared library a `g.node.library`.
 */
export async function renderPlanHtml(plan: Plan): Promise<string> {
  const view = buildPlanView(plan);
  const edgeCount = dependencyCount(view);
  // A few dozen services that all call each other draw as a hairball, and Graphviz needs seconds for it: past this
  // many dependencies the page shows them as a matrix (a design structure matrix) instead.
  const drawn = edgeCount <= MAX_DRAWN_EDGES;
  const svg = drawn ? renderSvg(await graphviz(), serviceGraphDot(plan, view)) : null;
  const title = `Decomposition plan: ${plan.project}`;
  const body: string[] = [];

  body.push(`<header><h1>${esc(title)}</h1>`, `<p class="summary">${summary(plan, view)}</p>`, cards(plan, view), '</header>');

  body.push('<section id="first-steps"><h2>What to do first</h2>');
  const steps = firstSteps(view);
  if (steps.length === 0) body.push('<p>Nothing to do: the plan has no services.</p>');
  else {
    body.push('<ol>');
    for (const step of steps) {
      body.push(`<li>${esc(step.title)}<ul>${step.items.map((item) => `<li>${esc(item)}</li>`).join('')}</ul></li>`);
    }
    body.push('</ol>');
  }
  body.push('</section>');

  if (svg !== null) {
    body.push(
      '<section id="graph"><h2>Service graph</h2>',
      `<div id="service-graph" class="graph">${svg}</div>`,
      '<p class="legend"><span class="key service"></span> service <span class="key library"></span> shared library',
      ' <span class="key missing"></span> named in <code>dependsOn</code> but not in the plan. Arrows: may call; labels: seams to convert.</p>',
      '</section>',
    );
  } else {
    body.push(
      '<section id="graph"><h2>Service dependencies</h2>',
      `<p class="note">${esc(`${countOf(view.services.length, 'service')} with ${countOf(edgeCount, 'dependency', 'dependencies')} are too many to draw legibly. Each row is a service, each column a service or shared library it may call; a number is the seams (in-process calls) to convert, a dot a dependency without seams.`)}</p>`,
      `<div id="dependency-matrix" class="matrix">${dependencyMatrix(view)}</div>`,
      '</section>',
    );
  }

  body.push('<section id="services"><h2>Services</h2>');
  if (view.services.length === 0) body.push('<p>No services.</p>');
  else {
    body.push(
      table(
        ['Service', 'Modules', 'Routes', 'Owns', 'LOC', 'Depends on'],
        view.services.map((s) => [
          `<strong>${esc(s.name)}</strong>`,
          num(s.moduleCount),
          num(s.routes.length),
          list(s.owns),
          num(s.loc),
          list(s.dependsOn),
        ]),
        [false, true, true, false, true, false],
      ),
    );
  }
  if (view.sharedLibraries.length > 0) {
    body.push(
      '<h3>Shared libraries</h3>',
      table(['Library', 'Modules'], view.sharedLibraries.map((l) => [esc(l.name), num(l.modules.length)]), [false, true], 'compact'),
    );
  }
  body.push('</section>');

  body.push('<section id="metrics"><h2>Metrics</h2>');
  const columns = [{ name: 'This plan', metrics: plan.metrics }, ...plan.baselines.map((b) => ({ name: b.name, metrics: b.metrics }))];
  const metricRows = METRICS.map((metric) => {
    const values = columns.map((c) => c.metrics[metric.key]);
    const best = bestIndexes(values, metric.better);
    return [
      esc(metric.label),
      esc(directionText(metric.better)),
      ...values.map((v, i) => (best.has(i) ? `<strong>${esc(formatNumber(v))}</strong>` : esc(formatNumber(v)))),
    ];
  });
  if (plan.mojofm !== null) {
    metricRows.push(['MoJoFM vs the intended split', 'higher', esc(formatNumber(plan.mojofm)), ...plan.baselines.map(() => '<span class="none">—</span>')]);
  }
  body.push(
    table(
      ['Metric', 'Better', ...columns.map((c) => esc(c.name))],
      metricRows,
      [false, false, ...columns.map(() => true)],
    ),
  );
  if (plan.baselines.length > 0) {
    body.push('<p class="note">Bold: the best value in the row.</p><dl class="baselines">');
    for (const baseline of plan.baselines) body.push(`<dt>${esc(baseline.name)}</dt><dd>${esc(baseline.description)}</dd>`);
    body.push('</dl>');
  }
  body.push('</section>');

  body.push('<section id="conflicts"><h2>Data-ownership conflicts</h2>');
  if (view.conflicts.length === 0) body.push('<p>None: every entity has a single writing service.</p>');
  else {
    body.push(
      table(
        ['Entity', 'Owner', 'Writers', 'Options', 'Why'],
        view.conflicts.map((c) => [
          `<strong>${esc(c.entity)}</strong>`,
          esc(c.owner),
          sortBy(c.writers, (w) => w.service, (w) => w.module, (w) => w.line)
            .map((w) => `${esc(w.service)}: ${sourceLink(w.module, w.line)}`)
            .join('<br>'),
          [...new Set([...c.options, c.recommended])]
            .map((o) => (o === c.recommended ? `<strong>${esc(o)}</strong> <span class="badge ok">recommended</span>` : esc(o)))
            .join('<br>'),
          esc(c.reason),
        ]),
      ),
    );
  }
  body.push('</section>');

  body.push('<section id="seams"><h2>Seams</h2>', '<p>In-process calls that cross a service boundary and must become network calls (or events).</p>');
  if (view.seamGroups.length === 0) body.push('<p>None.</p>');
  for (const group of view.seamGroups) {
    body.push(
      `<h3>${esc(group.from)} → ${esc(group.to)} <span class="count">${esc(countOf(group.seams.length, 'seam'))}, ${group.convertible} convertible</span></h3>`,
      table(
        ['Caller', 'Symbol', 'Kind', 'Convertible', 'Reason'],
        group.seams.map((s) => [
          sourceLink(s.caller, s.line),
          `<code>${esc(s.symbol)}</code>`,
          esc(s.kind),
          s.convertible ? '<span class="badge ok">yes</span>' : '<span class="badge no">no</span>',
          esc(s.reason),
        ]),
      ),
    );
  }
  body.push('</section>');

  body.push('<section id="hazards"><h2>Scale-out hazards</h2>');
  const hazardRows = view.services.flatMap((s) =>
    sortHazards(s.hazards).map((h) => [esc(s.name), sourceLink(h.file, h.line), esc(h.kind), esc(h.message)]),
  );
  body.push(hazardRows.length === 0 ? '<p>None found.</p>' : table(['Service', 'Where', 'Kind', 'What'], hazardRows));
  body.push('</section>');

  body.push('<section id="modules"><h2>Modules</h2>');
  const groups: Array<{ title: string; modules: string[] }> = [
    ...view.services.map((s) => ({ title: `Service ${s.name}`, modules: s.modules })),
    ...view.sharedLibraries.map((l) => ({ title: `Shared library ${l.name}`, modules: l.modules })),
  ];
  if (plan.entrypoints.length > 0) groups.push({ title: 'Entry points (belong to no service)', modules: plan.entrypoints });
  for (const group of groups) {
    body.push(`<details><summary>${esc(group.title)} (${esc(countOf(group.modules.length, 'module'))})</summary><ul>`);
    for (const module of [...group.modules].sort(compareStrings)) {
      const rationale = plan.rationale[module];
      body.push(`<li><code>${esc(module)}</code>${rationale === undefined ? '' : ` — ${esc(rationale)}`}</li>`);
    }
    body.push('</ul></details>');
  }
  body.push('</section>');

  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing may be fetched and nothing may run, even if a name slipped through escaping.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="decompose">',
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    ...body,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// The graph.

let vizInstance: Promise<Viz> | undefined;

/** One Graphviz instance per process: compiling the WebAssembly module is the slow part. */
function graphviz(): Promise<Viz> {
  vizInstance ??= instance();
  return vizInstance;
}

/** Above this many dependency edges the graph is drawn without seam-count labels. */
export const MAX_LABELLED_EDGES = 120;
/** Past this many dependencies plan.html shows the dependency matrix instead of the drawing. */
export const MAX_DRAWN_EDGES = 250;

function dependencyCount(view: PlanView): number {
  return view.services.reduce((n, s) => n + new Set(s.dependsOn).size, 0);
}

/**
 * Rows: services; columns: everything some service depends on (services, then shared libraries and names the plan
 * does not know), numbered to keep the header narrow. Cells: the seams from row to column, shaded by how many.
 */
export function dependencyMatrix(view: PlanView): string {
  const services = view.services.map((s) => s.name);
  const targets = [...services, ...[...new Set(view.services.flatMap((s) => s.dependsOn))].filter((t) => !services.includes(t)).sort(compareStrings)];
  const seams = new Map<string, number>();
  for (const group of view.seamGroups) seams.set(`${group.from}\u0000${group.to}`, group.seams.length);
  const most = Math.max(1, ...seams.values());
  const head = `<thead><tr><th>calls →</th>${targets.map((t, i) => `<th class="num" title="${esc(t)}">${i + 1}</th>`).join('')}</tr></thead>`;
  const rows = view.services.map((service, row) => {
    const depends = new Set(service.dependsOn);
    const cells = targets.map((target) => {
      if (target === service.name) return '<td class="self"></td>';
      if (!depends.has(target)) return '<td></td>';
      const n = seams.get(`${service.name}\u0000${target}`) ?? 0;
      const level = n === 0 ? 0 : Math.min(4, Math.ceil((n / most) * 4));
      return `<td class="num h${level}" title="${esc(`${service.name} → ${target}: ${countOf(n, 'seam')}`)}">${n === 0 ? '·' : n}</td>`;
    });
    return `<tr><th>${row + 1}. ${esc(service.name)}</th>${cells.join('')}</tr>`;
  });
  const key = targets.slice(services.length).map((t, i) => `${services.length + i + 1}. ${esc(t)}`);
  return `<table class="dsm">\n${head}\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>${key.length > 0 ? `\n<p class="note">Columns past the services: ${key.join(', ')}.</p>` : ''}`;
}

/** The DOT text of the service graph. Node names are generated; user text only ever appears in escaped labels. */
export function serviceGraphDot(plan: Plan, view: PlanView = buildPlanView(plan)): string {
  const ids = new SvgIds();
  const lines = [
    'digraph services {',
    '  graph [rankdir=LR, bgcolor="transparent", pad=0.2, nodesep=0.35, ranksep=0.8, fontname="Helvetica"];',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=12, margin="0.2,0.08", color="#1f6feb", fillcolor="#ddf4ff", fontcolor="#1f2328", penwidth=1.2];',
    '  edge [color="#57606a", fontname="Helvetica", fontsize=10, fontcolor="#57606a", arrowsize=0.7];',
  ];
  const serviceNodes = new Map<string, string>();
  const libraryNodes = new Map<string, string>();
  view.services.forEach((service, i) => {
    const node = `s${i}`;
    serviceNodes.set(service.name, node);
    const id = ids.take('service', service.name);
    const facts = `${countOf(service.moduleCount, 'module')} · ${countOf(service.routes.length, 'route')} · ${service.loc} LOC`;
    lines.push(`  ${node} [id=${dotString(id)}, class=${dotString(`service ${id}`)}, label="${dotEscape(service.name)}\\n${dotEscape(facts)}"];`);
  });
  view.sharedLibraries.forEach((library, i) => {
    const node = `l${i}`;
    libraryNodes.set(library.name, node);
    const id = ids.take('library', library.name);
    lines.push(
      `  ${node} [id=${dotString(id)}, class=${dotString(`library ${id}`)}, label="${dotEscape(library.name)}\\n${dotEscape(countOf(library.modules.length, 'module'))}", shape=component, style="dashed,filled", color="#6e7781", fillcolor="#f6f8fa"];`,
    );
  });
  const missingNodes = new Map<string, string>();
  // Edge labels make Graphviz's layout slow on big graphs (a minute at a few thousand edges): past this many
  // edges the seam counts stay in the tables below the graph.
  const edgeCount = dependencyCount(view);
  const labelEdges = edgeCount <= MAX_LABELLED_EDGES;
  const seamCounts = new Map<string, number>();
  for (const group of view.seamGroups) seamCounts.set(`${group.from}\u0000${group.to}`, group.seams.length);
  for (const service of view.services) {
    const from = serviceNodes.get(service.name)!;
    for (const target of [...new Set(service.dependsOn)].sort(compareStrings)) {
      const seams = seamCounts.get(`${service.name}\u0000${target}`) ?? 0;
      const label = seams > 0 && labelEdges ? `, label="${dotEscape(countOf(seams, 'seam'))}"` : '';
      const toService = serviceNodes.get(target);
      const toLibrary = libraryNodes.get(target);
      if (toService !== undefined) lines.push(`  ${from} -> ${toService} [${label.slice(2)}];`);
      else if (toLibrary !== undefined) lines.push(`  ${from} -> ${toLibrary} [style=dashed${label}];`);
      else {
        let node = missingNodes.get(target);
        if (node === undefined) {
          node = `m${missingNodes.size}`;
          missingNodes.set(target, node);
          const id = ids.take('missing', target);
          lines.push(
            `  ${node} [id=${dotString(id)}, class=${dotString(`missing ${id}`)}, label="${dotEscape(target)}\\n(not in the plan)", style="dashed,rounded", color="#cf222e", fontcolor="#cf222e"];`,
          );
        }
        lines.push(`  ${from} -> ${node} [color="#cf222e"${label}];`);
      }
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** SVG ids and class names `<prefix>-<name>` with the name reduced to `[a-z0-9_-]`, unique within one graph. */
class SvgIds {
  private readonly used = new Set<string>();

  take(prefix: string, name: string): string {
    const base = `${prefix}-${name.toLowerCase().replace(/[^a-z0-9_-]/g, '_') || '_'}`;
    let id = base;
    for (let n = 2; this.used.has(id); n += 1) id = `${base}-${n}`;
    this.used.add(id);
    return id;
  }
}

/**
 * Text inside a DOT double-quoted string: backslashes and quotes escaped, and `&` written as `&amp;` because
 * Graphviz decodes HTML entities in labels (so a name like `a&lt;b` stays literal).
 */
export function dotEscape(text: string): string {
  return oneLine(text).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/&/g, '&amp;');
}

function dotString(text: string): string {
  return `"${dotEscape(text)}"`;
}

/**
 * Renders DOT to SVG for inlining into HTML: without the XML prologue, doctype and comments (Graphviz writes its
 * version there), and without namespace declarations, which the HTML parser does not need.
 */
function renderSvg(viz: Viz, dot: string): string {
  const raw = viz.renderString(dot, { format: 'svg' });
  return raw
    .replace(/<\?xml[^>]*\?>/g, '')
    .replace(/<!DOCTYPE[^>]*>/g, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\s+xmlns(:xlink)?="[^"]*"/g, '')
    .replace(/<svg width="([\d.]+)pt" height="([\d.]+)pt"/, '<svg role="img" aria-label="Service graph" width="$1pt" height="$2pt"')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// HTML pieces.

/** Escapes text for HTML element content and double-quoted attribute values. */
export function esc(text: string): string {
  return oneLine(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function num(n: number): string {
  return esc(formatNumber(n));
}

function list(items: string[]): string {
  return items.length === 0 ? '<span class="none">—</span>' : [...items].sort(compareStrings).map(esc).join(', ');
}

function sourceLink(file: string, line: number): string {
  return `<a href="${esc(`${pathTarget(file)}#L${line}`)}"><code>${esc(`${file}:${line}`)}</code></a>`;
}

/** A table from already-escaped cells; `numeric` right-aligns columns. */
function table(headers: string[], rows: string[][], numeric: boolean[] = [], className?: string): string {
  const cls = (i: number) => (numeric[i] ? ' class="num"' : '');
  const head = `<thead><tr>${headers.map((h, i) => `<th${cls(i)}>${h}</th>`).join('')}</tr></thead>`;
  const body = rows.map((row) => `<tr>${row.map((cell, i) => `<td${cls(i)}>${cell}</td>`).join('')}</tr>`).join('\n');
  return `<table${className ? ` class="${className}"` : ''}>\n${head}\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function summary(plan: Plan, view: PlanView): string {
  return esc(
    `${plan.project} splits into ${countOf(plan.services.length, 'service')} and ${countOf(plan.sharedLibraries.length, 'shared library', 'shared libraries')}, ` +
      `with ${countOf(plan.conflicts.length, 'data-ownership conflict')} to resolve and ${countOf(plan.seams.length, 'seam')} ` +
      `(in-process calls across a service boundary), of which ${view.convertibleSeams} convertible to HTTP calls as they are.`,
  );
}

function cards(plan: Plan, view: PlanView): string {
  const items: Array<[string, string, boolean]> = [
    [String(plan.services.length), plural(plan.services.length, 'service'), false],
    [String(plan.sharedLibraries.length), plural(plan.sharedLibraries.length, 'shared library', 'shared libraries'), false],
    [String(plan.conflicts.length), plural(plan.conflicts.length, 'conflict'), plan.conflicts.length > 0],
    [`${view.convertibleSeams}/${plan.seams.length}`, `${plural(plan.seams.length, 'seam')} convertible`, view.convertibleSeams < plan.seams.length],
    [String(view.hazardCount), plural(view.hazardCount, 'hazard'), view.hazardCount > 0],
  ];
  return `<ul class="cards">${items.map(([value, label, warn]) => `<li${warn ? ' class="warn"' : ''}><b>${esc(value)}</b> ${esc(label)}</li>`).join('')}</ul>`;
}

function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return n === 1 ? noun : nouns;
}

const STYLE = `
:root { color-scheme: light; --fg: #1f2328; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--fg); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 20px; margin: 32px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 8px; }
h3 .count { color: var(--muted); font-weight: normal; font-size: 14px; }
.summary { color: var(--muted); max-width: 80ch; margin: 0 0 12px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; list-style: none; padding: 0; margin: 0; }
.cards li { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; background: var(--soft); }
.cards li b { font-size: 20px; margin-right: 4px; }
.cards li.warn { border-color: #d4a72c; background: #fff8c5; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { border: 1px solid var(--line); padding: 6px 10px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: var(--soft); font-weight: 600; }
table.compact { width: auto; min-width: 320px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; background: rgba(175,184,193,0.2); padding: 1px 4px; border-radius: 4px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.graph { border: 1px solid var(--line); border-radius: 8px; padding: 16px; overflow-x: auto; background: #fff; }
.graph svg { display: block; margin: 0 auto; max-width: 100%; height: auto; }
.matrix { overflow-x: auto; }
table.dsm { width: auto; font-size: 12px; }
table.dsm th, table.dsm td { padding: 2px 5px; white-space: nowrap; }
table.dsm tbody th { text-align: left; }
table.dsm td.self { background: var(--line); }
table.dsm td.h1 { background: #ddf4ff; }
table.dsm td.h2 { background: #b6e3ff; }
table.dsm td.h3 { background: #80ccff; }
table.dsm td.h4 { background: #54aeff; }
.legend, .note { color: var(--muted); font-size: 13px; }
.key { display: inline-block; width: 14px; height: 10px; border-radius: 3px; vertical-align: middle; margin-left: 8px; }
.key.service { background: #ddf4ff; border: 1px solid #1f6feb; }
.key.library { background: #f6f8fa; border: 1px dashed #6e7781; }
.key.missing { border: 1px dashed #cf222e; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.badge.ok { background: #dafbe1; color: #1a7f37; }
.badge.no { background: #ffebe9; color: #cf222e; }
.none { color: var(--muted); }
dl.baselines dt { font-weight: 600; }
dl.baselines dd { margin: 0 0 6px 16px; color: var(--muted); }
details { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; margin: 6px 0; }
details summary { cursor: pointer; font-weight: 600; }
details ul { margin: 8px 0; padding-left: 20px; }
ol > li { margin-bottom: 6px; }
`.trim();
