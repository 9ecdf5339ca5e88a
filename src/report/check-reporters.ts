import type { ChalkInstance } from 'chalk';
import type * as Sarif from 'sarif';
import type { CheckResult, Finding, FindingLocation, RuleDescription, RuleId, Severity } from '../model/finding.js';
import { RULES } from '../model/finding.js';
import { compareStrings, sortBy, stableJson } from '../util/compare.js';

/**
 * Reporters for `decompose check`: pure functions from a CheckResult to the text of one output format, chosen
 * by name. Deterministic: findings are sorted (file, line, column, rule, then the rest), related locations and
 * stale entries too, whatever order the check produced them in; no dates, no absolute paths.
 */
export type CheckFormat = 'pretty' | 'json' | 'github' | 'sarif' | 'junit' | 'markdown';

export interface CheckReportContext {
  /** chalk instance to colour `pretty` output with; `new Chalk({ level: 0 })` for plain text. */
  color: ChalkInstance;
  /** decompose's own version, for SARIF `tool.driver.version`. */
  toolVersion: string;
  /** The plan file the code was checked against, repo-relative. */
  planFile: string;
  /**
   * Absolute URL of decompose's documentation, for SARIF `tool.driver.informationUri`. Omitted from the SARIF
   * log when not given: the project has no homepage yet, and the npm name `decompose` belongs to another project.
   */
  informationUri?: string;
}

export type CheckReporter = (result: CheckResult, context: CheckReportContext) => string;

export const CHECK_REPORTERS: Record<CheckFormat, CheckReporter> = {
  pretty: renderPretty,
  json: renderJson,
  github: renderGithub,
  sarif: renderSarif,
  junit: renderJunit,
  markdown: renderMarkdown,
};

export const CHECK_FORMATS = Object.keys(CHECK_REPORTERS) as CheckFormat[];

/**
 * Whether the check passes: no error findings and no stale baseline entries (stale entries fail the check until the
 * baseline is updated). Warnings alone pass. The CLI's exit code and the reporters' ✅/❌ use this one predicate.
 */
/**
 * True for a file that an earlier `check -o` wrote, in any format (or an empty file): ours to replace. Anything else
 * at that path is the user's, and `check -o` does not overwrite it without --force.
 */
export function isCheckReport(existing: string): boolean {
  if (existing.trim() === '') return true;
  try {
    const value = JSON.parse(existing) as { findings?: unknown; stale?: unknown; runs?: Array<{ tool?: { driver?: { name?: unknown } } }> } | null;
    if (value === null || typeof value !== 'object') return false;
    if (Array.isArray(value.findings) && Array.isArray(value.stale)) return true;
    return Array.isArray(value.runs) && value.runs[0]?.tool?.driver?.name === 'decompose';
  } catch {
    // not JSON: one of the text formats
  }
  return existing.includes('<testsuites name="decompose"') || /\d+ errors?, \d+ warnings?, \d+ baselined, \d+ stale baseline entr/.test(existing);
}

export function isCheckPassing(result: CheckResult): boolean {
  return result.stale.length === 0 && result.findings.every((f) => f.severity !== 'error');
}

// ---------------------------------------------------------------------------------------------------------------
// Shared: sorting, counting, wording

/** The result with every list in report order, so each reporter only has to walk it. */
function sortedResult(result: CheckResult): CheckResult {
  const findings = sortBy(
    result.findings.map((f) => ({
      ...f,
      related: sortBy(f.related, (r) => r.file, (r) => r.line, (r) => r.column, (r) => r.message),
    })),
    (f) => f.location.file,
    (f) => f.location.line,
    (f) => f.location.column,
    (f) => f.rule,
    (f) => f.severity,
    (f) => f.message,
    (f) => f.service ?? '',
    (f) => f.fingerprint,
  );
  const stale = sortBy(result.stale, (s) => s.rule, (s) => s.fingerprint, (s) => s.message);
  return { ...result, findings, stale };
}

interface Counts {
  errors: number;
  warnings: number;
  baselined: number;
  stale: number;
}

function countsOf(result: CheckResult): Counts {
  return {
    errors: result.findings.filter((f) => f.severity === 'error').length,
    warnings: result.findings.filter((f) => f.severity === 'warn').length,
    baselined: result.baselined,
    stale: result.stale.length,
  };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "2 errors, 1 warning, 3 baselined, 1 stale baseline entry" (+ "baseline: 5 → 4" when known). */
function summaryText(result: CheckResult, separator = ', '): string {
  const counts = countsOf(result);
  const parts = [
    plural(counts.errors, 'error', 'errors'),
    plural(counts.warnings, 'warning', 'warnings'),
    `${counts.baselined} baselined`,
    plural(counts.stale, 'stale baseline entry', 'stale baseline entries'),
  ];
  const change = baselineChange(result);
  if (change !== null) parts.push(`baseline: ${change}`);
  return parts.join(separator);
}

/** "5 → 4", "none → 4" (baseline created), or null when neither side is known. */
function baselineChange(result: CheckResult): string | null {
  if (result.baselineBefore === null && result.baselineAfter === null) return null;
  const side = (n: number | null): string => (n === null ? 'none' : String(n));
  return `${side(result.baselineBefore)} → ${side(result.baselineAfter)}`;
}

/** `file:line:col`; a whole-file location (line 0) is just the file, a line without a column `file:line`. */
function locationText(location: FindingLocation): string {
  if (location.line < 1) return location.file;
  return location.column < 1 ? `${location.file}:${location.line}` : `${location.file}:${location.line}:${location.column}`;
}

function ruleOf(id: RuleId): RuleDescription | undefined {
  return RULES.find((rule) => rule.id === id);
}

/** Lone surrogates (a string cut in the middle of an emoji) become U+FFFD, as String#toWellFormed would. */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

const STALE_HELP = 'The finding this baseline entry accepted is gone: update the baseline so the entry is dropped.';

// ---------------------------------------------------------------------------------------------------------------
// pretty

const WIDTH = 80;

function renderPretty(input: CheckResult, context: CheckReportContext): string {
  const result = sortedResult(input);
  const c = context.color;
  const out: string[] = [c.dim(`Plan: ${terminalText(context.planFile)}`), ''];

  const groups = new Map<string | null, Finding[]>();
  for (const finding of result.findings) {
    const list = groups.get(finding.service) ?? [];
    list.push(finding);
    groups.set(finding.service, list);
  }
  const names = [...groups.keys()].filter((k): k is string => k !== null).sort(compareStrings);
  const order: Array<string | null> = groups.has(null) ? [...names, null] : names;

  for (const service of order) {
    out.push(service === null ? c.bold.dim('(no service)') : c.bold(terminalText(service)));
    for (const finding of groups.get(service) ?? []) out.push(...prettyFinding(finding, c));
    out.push('');
  }

  if (result.stale.length > 0) {
    out.push(c.bold('Stale baseline entries'), c.dim(wrap(STALE_HELP, WIDTH - 2, '  ').join('\n')));
    for (const entry of result.stale) {
      const head = `  ${c.red('error')}  ${entry.rule}  ${c.dim(terminalText(entry.fingerprint))}`;
      out.push(head, ...wrap(terminalText(entry.message), WIDTH - INDENT.length, INDENT));
    }
    out.push('');
  }

  const passing = isCheckPassing(result);
  const mark = passing ? c.green('✔') : c.red('✖');
  out.push(`${mark} ${summaryText(result)}`);
  return `${out.join('\n')}\n`;
}

/** Width of "  error  ": message continuation lines and related locations line up under the location. */
const INDENT = ' '.repeat(9);

function prettyFinding(finding: Finding, c: ChalkInstance): string[] {
  const severity = finding.severity === 'error' ? c.red('error') : c.yellow('warn ');
  const head = terminalText(`${locationText(finding.location)}  ${finding.rule}`);
  const messageLines = terminalText(finding.message).split('\n');
  const lines: string[] = [];
  // Measured without colour codes: "error" and "warn " are both five columns.
  const oneLine = `  error  ${head}  ${messageLines[0] ?? ''}`;
  if (messageLines.length === 1 && [...oneLine].length <= WIDTH) {
    lines.push(`  ${severity}  ${head}  ${messageLines[0] ?? ''}`);
  } else {
    lines.push(`  ${severity}  ${head}`);
    for (const line of messageLines) lines.push(...wrap(line, WIDTH - INDENT.length, INDENT));
  }
  for (const related of finding.related) {
    const text = `↳ ${locationText(related)}  ${related.message}`;
    lines.push(...wrap(terminalText(text).replace(/\n/g, ' '), WIDTH - INDENT.length, INDENT, '  ').map((l) => c.dim(l)));
  }
  return lines;
}

/**
 * Control characters (an ANSI escape in a route name, a stray carriage return) are shown as `\xNN` so data can't
 * repaint the terminal. Newlines and tabs stay.
 */
function terminalText(text: string): string {
  return wellFormed(text)
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Greedy word wrap; a word longer than the width (a path) gets a line of its own rather than being cut. */
function wrap(text: string, width: number, indent: string, continuation = ''): string[] {
  const words = text.split(/ +/).filter((w) => w.length > 0);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const prefix = lines.length === 0 ? '' : continuation;
    const candidate = line === '' ? word : `${line} ${word}`;
    if (line !== '' && [...prefix, ...candidate].length > width) {
      lines.push(line);
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines.map((l, i) => `${indent}${i === 0 ? '' : continuation}${l}`);
}

// ---------------------------------------------------------------------------------------------------------------
// json

function renderJson(input: CheckResult): string {
  return stableJson(sortedResult(input));
}

// ---------------------------------------------------------------------------------------------------------------
// github (workflow commands)

/**
 * Workflow-command data: `%`, CR and LF are percent-encoded (what GitHub's own toolkit escapes). Other control
 * characters are dropped first: an annotation cannot show them, and an ESC would recolour the log.
 */
export function githubEscapeData(text: string): string {
  return wellFormed(text)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(/%/g, '%25')
    .replace(/\r/g, '%0D')
    .replace(/\n/g, '%0A');
}

/** Workflow-command property values: data escaping plus `:` and `,`, which separate properties. */
export function githubEscapeProperty(text: string): string {
  return githubEscapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function renderGithub(input: CheckResult): string {
  const result = sortedResult(input);
  const out: string[] = [];
  for (const finding of result.findings) {
    const command = finding.severity === 'error' ? 'error' : 'warning';
    const properties = [`file=${githubEscapeProperty(finding.location.file)}`];
    if (finding.location.line >= 1) {
      properties.push(`line=${finding.location.line}`);
      if (finding.location.column >= 1) properties.push(`col=${finding.location.column}`);
    }
    properties.push(`title=${githubEscapeProperty(`decompose ${finding.rule}`)}`);
    const message = [finding.message, ...finding.related.map((r) => `↳ ${locationText(r)} ${r.message}`)].join('\n');
    out.push(`::${command} ${properties.join(',')}::${githubEscapeData(message)}`);
  }
  for (const entry of result.stale) {
    const message = `${entry.rule} ${entry.fingerprint}: ${entry.message}\n${STALE_HELP}`;
    out.push(`::error title=${githubEscapeProperty('stale baseline entry')}::${githubEscapeData(message)}`);
  }
  // A plain line (never starting with "::"), so the log ends with the totals.
  out.push(`decompose check: ${summaryText(result)}`);
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// sarif

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
const SRCROOT = '%SRCROOT%';
const STALE_NOTIFICATION_ID = 'stale-baseline-entry';

function sarifLevel(severity: Severity): 'error' | 'warning' {
  return severity === 'error' ? 'error' : 'warning';
}

/** "forbidden-import" → "ForbiddenImport": SARIF's `name` is meant to be an identifier-like friendly name. */
function pascalCase(id: string): string {
  return id
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** A repo-relative POSIX path as a relative URI reference: each segment percent-encoded (spaces, `#`, `%`, `|`). */
function fileUri(file: string): string {
  return file.split('/').map(encodeURIComponent).join('/');
}

function sarifPhysicalLocation(location: FindingLocation): Sarif.PhysicalLocation {
  const physical: Sarif.PhysicalLocation = { artifactLocation: { uri: fileUri(location.file), uriBaseId: SRCROOT } };
  // A region needs startLine >= 1; a finding about a whole file (line 0) has none.
  if (location.line >= 1) {
    physical.region = { startLine: location.line };
    if (location.column >= 1) physical.region.startColumn = location.column;
  }
  return physical;
}

function renderSarif(input: CheckResult, context: CheckReportContext): string {
  const result = sortedResult(input);
  const ruleIndex = new Map(RULES.map((rule, index) => [rule.id, index]));

  const rules: Sarif.ReportingDescriptor[] = RULES.map((rule) => ({
    id: rule.id,
    name: pascalCase(rule.id),
    shortDescription: { text: rule.title },
    fullDescription: { text: `${rule.title}. ${rule.help}` },
    help: { text: rule.help },
    defaultConfiguration: { level: sarifLevel(rule.defaultSeverity) },
  }));

  const results: Sarif.Result[] = result.findings.map((finding) => {
    const sarifResult: Sarif.Result = {
      ruleId: finding.rule,
      level: sarifLevel(finding.severity),
      message: { text: finding.message },
      locations: [{ physicalLocation: sarifPhysicalLocation(finding.location) }],
      partialFingerprints: { 'decompose/v1': finding.fingerprint },
    };
    const index = ruleIndex.get(finding.rule);
    if (index !== undefined) sarifResult.ruleIndex = index;
    if (finding.related.length > 0) {
      sarifResult.relatedLocations = finding.related.map((related, i) => ({
        id: i + 1,
        physicalLocation: sarifPhysicalLocation(related),
        message: { text: related.message },
      }));
    }
    if (finding.service !== null) sarifResult.properties = { service: finding.service };
    return sarifResult;
  });

  // Stale baseline entries are not results: they have no location in the code, and a result carrying the
  // fingerprint of a finding that was just fixed would make code scanning reopen (or keep open) that alert.
  // They are problems with the run's input (the baseline), which is what SARIF's tool execution notifications are.
  const notifications: Sarif.Notification[] = result.stale.map((entry) => {
    const notification: Sarif.Notification = {
      level: 'error',
      message: { text: `Stale baseline entry for ${entry.rule} (${entry.fingerprint}): ${entry.message}` },
      descriptor: { id: STALE_NOTIFICATION_ID, index: 0 },
      properties: { fingerprint: entry.fingerprint },
    };
    const index = ruleIndex.get(entry.rule);
    notification.associatedRule = index === undefined ? { id: entry.rule } : { id: entry.rule, index };
    return notification;
  });

  const driver: Sarif.ToolComponent = {
    name: 'decompose',
    version: context.toolVersion,
    rules,
    notifications: [
      {
        id: STALE_NOTIFICATION_ID,
        name: 'StaleBaselineEntry',
        shortDescription: { text: 'Baseline entry whose finding is gone' },
        fullDescription: { text: `Baseline entry whose finding is gone. ${STALE_HELP}` },
        help: { text: STALE_HELP },
        defaultConfiguration: { level: 'error' },
      },
    ],
  };
  if (context.informationUri !== undefined) driver.informationUri = context.informationUri;

  const invocation: Sarif.Invocation = { executionSuccessful: true };
  if (notifications.length > 0) invocation.toolExecutionNotifications = notifications;

  const log: Sarif.Log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: { driver },
        originalUriBaseIds: { [SRCROOT]: { description: { text: 'The repository root.' } } },
        // Columns come from TypeScript positions: UTF-16 code units.
        columnKind: 'utf16CodeUnits',
        invocations: [invocation],
        results,
        properties: {
          planFile: context.planFile,
          baselined: result.baselined,
          baselineBefore: result.baselineBefore,
          baselineAfter: result.baselineAfter,
        },
      },
    ],
  };
  return stableJson(log);
}

// ---------------------------------------------------------------------------------------------------------------
// junit

/**
 * XML 1.0 allows TAB, LF, CR and U+0020 onwards except surrogates, U+FFFE and U+FFFF. Anything else (NUL, ESC, a
 * lone surrogate) cannot be written even as a character reference, so it is removed.
 */
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text content: markup characters as entities; CR as a reference so parsers don't turn it into LF. */
export function xmlText(text: string): string {
  return text
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/** Attribute values (double-quoted): also quotes, and whitespace as references so attribute normalisation keeps it. */
export function xmlAttr(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

interface JunitCase {
  classname: string;
  name: string;
  file?: string;
  failure?: { type: string; message: string; body: string };
  systemOut?: string;
}

function findingReport(finding: Finding): string {
  const lines = [finding.message, '', `at ${locationText(finding.location)}`];
  for (const related of finding.related) lines.push(`related ${locationText(related)}: ${related.message}`);
  if (finding.service !== null) lines.push(`service: ${finding.service}`);
  lines.push(`fingerprint: ${finding.fingerprint}`);
  const help = ruleOf(finding.rule)?.help;
  if (help !== undefined) lines.push('', help);
  return lines.join('\n');
}

/**
 * One <testsuite name="decompose check">. Each rule is a passing testcase ("no findings") until it has findings;
 * then each finding is its own testcase named after its file and fingerprint (stable while lines move, so CI
 * history and GitLab's "new failures" comparison track the same violation). Errors carry a <failure>; warnings
 * pass with the warning in <system-out>, since JUnit has no warning state and warnings do not fail the check.
 * Stale baseline entries fail the check, so each is a failing testcase in the `baseline` class.
 */
function renderJunit(input: CheckResult, context: CheckReportContext): string {
  const result = sortedResult(input);
  const cases: JunitCase[] = [];
  for (const rule of RULES) {
    const findings = result.findings.filter((f) => f.rule === rule.id);
    if (findings.length === 0) {
      cases.push({ classname: rule.id, name: `${rule.id}: no findings` });
      continue;
    }
    for (const finding of findings) {
      const report = findingReport(finding);
      const name = `${finding.location.file} (${finding.fingerprint})`;
      if (finding.severity === 'error') {
        cases.push({
          classname: rule.id,
          name,
          file: finding.location.file,
          failure: { type: rule.id, message: `${locationText(finding.location)}: ${finding.message}`, body: report },
        });
      } else {
        cases.push({ classname: rule.id, name, file: finding.location.file, systemOut: `warning: ${report}` });
      }
    }
  }
  // Findings whose rule is not in RULES (a newer check, an older reporter) are still reported, never dropped.
  const known = new Set<string>(RULES.map((r) => r.id));
  for (const finding of result.findings.filter((f) => !known.has(f.rule))) {
    cases.push({
      classname: finding.rule,
      name: `${finding.location.file} (${finding.fingerprint})`,
      file: finding.location.file,
      failure: { type: finding.rule, message: `${locationText(finding.location)}: ${finding.message}`, body: findingReport(finding) },
    });
  }
  for (const entry of result.stale) {
    cases.push({
      classname: 'baseline',
      name: `stale baseline entry (${entry.fingerprint})`,
      failure: {
        type: STALE_NOTIFICATION_ID,
        message: `Stale baseline entry for ${entry.rule}: ${entry.message}`,
        body: `${entry.message}\n\nrule: ${entry.rule}\nfingerprint: ${entry.fingerprint}\n\n${STALE_HELP}`,
      },
    });
  }

  const failures = cases.filter((c) => c.failure !== undefined).length;
  const counts = `tests="${cases.length}" failures="${failures}" errors="0" skipped="0"`;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="decompose" ${counts}>`);
  out.push(`  <testsuite name="decompose check" ${counts}>`);
  out.push('    <properties>');
  const properties: Array<[string, string]> = [
    ['planFile', context.planFile],
    ['toolVersion', context.toolVersion],
    ['baselined', String(result.baselined)],
    ['baselineBefore', result.baselineBefore === null ? 'none' : String(result.baselineBefore)],
    ['baselineAfter', result.baselineAfter === null ? 'none' : String(result.baselineAfter)],
  ];
  for (const [name, value] of properties) out.push(`      <property name="${xmlAttr(name)}" value="${xmlAttr(value)}"/>`);
  out.push('    </properties>');
  for (const testcase of cases) {
    const file = testcase.file === undefined ? '' : ` file="${xmlAttr(testcase.file)}"`;
    const open = `    <testcase classname="${xmlAttr(testcase.classname)}" name="${xmlAttr(testcase.name)}"${file}`;
    if (testcase.failure === undefined && testcase.systemOut === undefined) {
      out.push(`${open}/>`);
      continue;
    }
    out.push(`${open}>`);
    if (testcase.failure !== undefined) {
      const { type, message, body } = testcase.failure;
      out.push(`      <failure type="${xmlAttr(type)}" message="${xmlAttr(message)}">${xmlText(body)}</failure>`);
    }
    if (testcase.systemOut !== undefined) out.push(`      <system-out>${xmlText(testcase.systemOut)}</system-out>`);
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>');
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// markdown

/** Rows past this are summarised: a pull-request comment holds at most 65,536 characters. */
const MARKDOWN_MAX_ROWS = 200;

/**
 * Text for a Markdown table cell or list item: Markdown punctuation backslash-escaped, HTML's `&`, `<`, `>` as
 * entities (GitHub would otherwise take `<script>` as a tag), and line breaks as `<br>` so a cell stays one row.
 */
export function markdownText(text: string): string {
  return wellFormed(text)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(/[\\`*_[\]|~#]/g, (ch) => `\\${ch}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r\n?|\n/g, '<br>');
}

function renderMarkdown(input: CheckResult, context: CheckReportContext): string {
  const result = sortedResult(input);
  const passing = isCheckPassing(result);
  const counts = countsOf(result);
  const out: string[] = [];
  out.push(passing ? '## ✅ decompose check passed' : '## ❌ decompose check failed', '');
  out.push(`${markdownText(summaryText(result))}. Plan: ${markdownText(context.planFile)}.`, '');

  if (result.findings.length === 0) {
    out.push('No boundary drift: no new findings.', '');
  } else {
    out.push('### Findings', '');
    out.push('| Severity | Location | Rule | Service | Message |', '| --- | --- | --- | --- | --- |');
    for (const finding of result.findings.slice(0, MARKDOWN_MAX_ROWS)) {
      const severity = finding.severity === 'error' ? '❌ error' : '⚠️ warning';
      const message = [
        markdownText(finding.message),
        ...finding.related.map((r) => `↳ <code>${markdownText(locationText(r))}</code> ${markdownText(r.message)}`),
      ].join('<br>');
      const service = finding.service === null ? '—' : markdownText(finding.service);
      out.push(
        `| ${severity} | <code>${markdownText(locationText(finding.location))}</code> | ${markdownText(finding.rule)} | ${service} | ${message} |`,
      );
    }
    const hidden = result.findings.length - MARKDOWN_MAX_ROWS;
    if (hidden > 0) out.push('', `…and ${plural(hidden, 'more finding', 'more findings')}: see the full report in the job log.`);
    out.push('');
  }

  if (counts.stale > 0) {
    out.push('### Stale baseline entries', '', markdownText(STALE_HELP), '');
    for (const entry of result.stale) {
      out.push(`- ${markdownText(entry.rule)} <code>${markdownText(entry.fingerprint)}</code>: ${markdownText(entry.message)}`);
    }
    out.push('');
  }

  const change = baselineChange(result);
  if (change !== null || counts.baselined > 0) {
    out.push('### Baseline', '');
    out.push(`${counts.baselined} known ${counts.baselined === 1 ? 'finding is' : 'findings are'} accepted by the baseline.`);
    if (change !== null) out.push(`Baseline entries: ${change}.`);
    out.push('');
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}
