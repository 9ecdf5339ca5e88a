import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { repoRoot, writeProject } from '../test-support/temp-project.js';
import { userErrorOf } from '../test-support/user-error.js';
import { run } from './main.js';
import { computeDatasetMetrics, formatMetricsTable, serializeDatasetMetrics, type DatasetFile } from './metrics-command.js';

const GOLDEN = path.join(repoRoot, 'fixtures', 'golden', 'mono2micro-acmeair');
const golden = (name: string): DatasetFile => ({ name, text: readFileSync(path.join(GOLDEN, name), 'utf8') });
const expected = JSON.parse(readFileSync(path.join(GOLDEN, 'expected-metrics.json'), 'utf8')) as Record<
  string,
  { BCP: number; ICP: number; SM: number; IFN: number; NED: number }
>;

/** A small file from an object literal. */
const json = (name: string, value: unknown): DatasetFile => ({ name, text: JSON.stringify(value, null, 2) });

const userError = userErrorOf;

describe('computeDatasetMetrics', () => {
  for (const k of Object.keys(expected)) {
    it(`AcmeAir K=${k}: exactly the values of expected-metrics.json`, () => {
      const result = computeDatasetMetrics({
        calls: golden('runtime_call_volume.json'),
        partition: golden(`vertical_cluster_assignment_${k}.json`),
        useCases: golden('bcs_per_class.json'),
      });
      const row = expected[k]!;
      expect(result.metrics).toEqual({ bcp: row.BCP, icp: row.ICP, sm: row.SM, ifn: row.IFN, ned: row.NED });
      // The dataset's K is the number of services asked for; a few of the larger K leave some empty.
      expect(result.services).toBe(new Set(Object.values(JSON.parse(golden(`vertical_cluster_assignment_${k}.json`).text))).size);
      expect(result.mojo).toBeNull();
    });
  }

  it('leaves BCP out without use cases and adds MoJoFM against an expected partition', () => {
    const result = computeDatasetMetrics({
      calls: golden('runtime_call_volume.json'),
      partition: golden('vertical_cluster_assignment_7.json'),
      expected: golden('vertical_cluster_assignment_5.json'),
    });
    expect(result.metrics.bcp).toBeNull();
    expect(result.units).toBe(28);
    // K=7 = K=5 with two units split off: 2 joins; K=5 sizes 9 9 4 4 2 -> max mno 28 - 5 = 23.
    expect(result.mojo).toEqual({
      expected: 'vertical_cluster_assignment_5.json',
      mojoFm: 91.304,
      mno: 2,
      maxMno: 23,
      commonUnits: 28,
      onlyInPartition: [],
      onlyInExpected: [],
    });
  });

  it('reports units present in only one of the two partitions', () => {
    const result = computeDatasetMetrics({
      calls: json('calls.json', { 'A--B': 1 }),
      partition: json('p.json', { A: 0, B: 0, C: 1 }),
      expected: json('e.json', { A: 'x', B: 'y', D: 'y' }),
    });
    expect(result.mojo).toMatchObject({ commonUnits: 2, onlyInPartition: ['C'], onlyInExpected: ['D'], mno: 1, maxMno: 1, mojoFm: 0 });
  });

  it('treats numeric and string service ids alike and honours a custom root', () => {
    const calls = json('calls.json', { 'Main--A': 5, 'A--B': 3, 'B--A': 1, 'A--A': 9 });
    const numeric = computeDatasetMetrics({ calls, partition: json('p.json', { A: 0, B: 1 }), root: 'main' });
    const named = computeDatasetMetrics({ calls, partition: json('p.json', { A: '0', B: '1' }), root: 'MAIN' });
    expect(named).toEqual(numeric);
    expect(numeric.metrics.icp).toBe(1);
    expect(numeric.metrics.ifn).toBe(0.5);
  });

  it('keeps an undefined ICP as +Infinity, printed as n/a and serialised as null', () => {
    const result = computeDatasetMetrics({ calls: json('calls.json', { 'Root--A': 2 }), partition: json('p.json', { A: 0 }) });
    expect(result.metrics.icp).toBe(Number.POSITIVE_INFINITY);
    expect(formatMetricsTable(result)).toMatch(/ICP\s+n\/a/);
    expect(JSON.parse(serializeDatasetMetrics(result)).metrics.icp).toBeNull();
  });

  describe('bad input', () => {
    const calls = json('calls.json', { 'A--B': 1 });
    const partition = json('p.json', { A: 0, B: 1 });

    it('DEC-041: invalid JSON, with the line and column', () => {
      const error = userError(() => computeDatasetMetrics({ calls, partition: { name: 'p.json', text: '{\n  "A": 0,\n}' } }));
      expect(error.code).toBe('DEC-041');
      expect(error.exitCode).toBe(2);
      expect(error.message).toMatch(/^p\.json(:\d+:\d+)?: not valid JSON/);
      expect(error.position?.file).toBe('p.json');
    });

    it('DEC-043: a partition that is not an object of string or number values, listing every bad entry', () => {
      const notObject = userError(() => computeDatasetMetrics({ calls, partition: json('p.json', [['A', 0]]) }));
      expect(notObject.code).toBe('DEC-043');
      expect(notObject.message).toBe('p.json: not a partition: the file holds an array, not an object');
      const badValues = userError(() => computeDatasetMetrics({ calls, partition: json('p.json', { A: 0, B: true, C: null, D: ['x'] }) }));
      expect(badValues.code).toBe('DEC-043');
      expect(badValues.message).toContain('"B" has boolean true as its service');
      expect(badValues.details).toHaveLength(2);
      expect(badValues.details.join('\n')).toMatch(/"C" has null[\s\S]*"D" has an array/);
      // The expected partition is validated the same way.
      const badExpected = userError(() => computeDatasetMetrics({ calls, partition, expected: json('e.json', { A: {} }) }));
      expect(badExpected.code).toBe('DEC-043');
      expect(badExpected.message).toMatch(/^e\.json: /);
    });

    it('DEC-042: a call volume with malformed keys or counts', () => {
      const error = userError(() =>
        computeDatasetMetrics({ calls: json('calls.json', { 'A--B': 1, 'A-B': 2, 'A--B--C': 3, 'B--A': '4', 'B--B': 0 }), partition }),
      );
      expect(error.code).toBe('DEC-042');
      expect(error.message).toBe('calls.json: not a call volume: "A-B" is not of the form "Caller--Callee"');
      expect(error.details).toHaveLength(3);
    });

    it('DEC-044: use cases that are not lists of names', () => {
      const error = userError(() => computeDatasetMetrics({ calls, partition, useCases: json('uc.json', { A: ['x'], B: 'y' }) }));
      expect(error.code).toBe('DEC-044');
      expect(error.message).toContain('uc.json');
    });

    it('DEC-045: calls that reference units missing from the partition, naming them', () => {
      const error = userError(() =>
        computeDatasetMetrics({
          calls: json('calls.json', { 'Root--Ghost': 1, 'A--Zed': 2, 'Yan--B': 1, 'Self--Self': 3, 'A--B': 1 }),
          partition,
        }),
      );
      expect(error.code).toBe('DEC-045');
      expect(error.exitCode).toBe(2);
      // Root calls and self-calls do not need their units in the partition (as in the Mono2Micro script).
      expect(error.message).toBe('p.json: 2 units are called in calls.json but missing from the partition: Yan, Zed');
      expect(error.hint).toContain('--root');
    });

    it('DEC-046: an empty partition', () => {
      const error = userError(() => computeDatasetMetrics({ calls: json('calls.json', {}), partition: json('p.json', {}) }));
      expect(error.code).toBe('DEC-046');
      expect(error.message).toBe('p.json: the partition is empty');
    });

    it('DEC-047: an expected partition that shares no unit', () => {
      const error = userError(() => computeDatasetMetrics({ calls, partition, expected: json('e.json', { X: 0 }) }));
      expect(error.code).toBe('DEC-047');
      expect(error.message).toContain('e.json');
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// The command, in-process through the real entry point (src/cli/main.ts run()).
// ---------------------------------------------------------------------------------------------------------

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function runMetrics(args: string[], cwd = GOLDEN): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exitCode = await run(['node', 'decompose', '--cwd', cwd, ...args], { stdout, stderr, stdinIsTTY: false, env: { NO_COLOR: '1' } });
  return { exitCode, stdout: out, stderr: err };
}

describe('decompose metrics (in-process)', () => {
  it('prints an aligned table with directions and 3 decimals for AcmeAir K=5', async () => {
    const result = await runMetrics([
      'metrics',
      '--calls',
      'runtime_call_volume.json',
      '--partition',
      'vertical_cluster_assignment_5.json',
      '--use-cases',
      'bcs_per_class.json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      [
        'vertical_cluster_assignment_5.json: 5 services, 28 units',
        '',
        '  metric  value  better',
        '  BCP     1.636  lower   business context purity',
        '  ICP     0.527  lower   inter-call percentage',
        '  SM      0.085  higher  structural modularity',
        '  IFN     5.600  lower   interface number',
        '  NED     0.357  lower   non-extreme distribution (5..20 units)',
        '',
      ].join('\n'),
    );
    expect(result.stderr).toBe('');
  });

  it('prints JSON on stdout with --json, MoJoFM included', async () => {
    const result = await runMetrics([
      '--json',
      'metrics',
      '--calls',
      'runtime_call_volume.json',
      '--partition',
      'vertical_cluster_assignment_5.json',
      '--use-cases',
      'bcs_per_class.json',
      '--expected',
      'vertical_cluster_assignment_7.json',
    ]);
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout);
    const row = expected['5']!;
    expect(doc.metrics).toEqual({ bcp: row.BCP, icp: row.ICP, sm: row.SM, ifn: row.IFN, ned: row.NED });
    expect(doc).toMatchObject({ partition: 'vertical_cluster_assignment_5.json', units: 28, services: 5 });
    // K=5 -> K=7 needs two moves; K=7 sizes 1 1 2 4 4 7 9 -> max mno 28 - 6 = 22; (1 - 2/22) * 100.
    expect(doc.mojo).toMatchObject({ mojoFm: 90.909, mno: 2, maxMno: 22 });
    expect(result.stdout.endsWith('}\n')).toBe(true);
  });

  it('prints the MoJoFM row in the table and warns about units in only one partition', async () => {
    const dir = writeProject({
      'calls.json': JSON.stringify({ 'A--B': 1 }),
      'p.json': JSON.stringify({ A: 0, B: 0, C: 1 }),
      'e.json': JSON.stringify({ A: 'x', B: 'x', D: 'y' }),
    });
    const result = await runMetrics(['metrics', '--calls', 'calls.json', '--partition', 'p.json', '--expected', 'e.json'], dir);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      [
        'p.json: 2 services, 3 units',
        '',
        '  metric    value  better',
        '  BCP           -  lower   business context purity (needs --use-cases)',
        '  ICP       0.000  lower   inter-call percentage',
        '  SM        0.125  higher  structural modularity',
        '  IFN       0.000  lower   interface number',
        '  NED       1.000  lower   non-extreme distribution (5..20 units)',
        '  MoJoFM  100.000  higher  against e.json (mno 0 of at most 1)',
        '',
      ].join('\n'),
    );
    expect(result.stderr).toContain('1 unit(s) only in p.json, left out of MoJoFM: C');
    expect(result.stderr).toContain('1 unit(s) only in e.json, left out of MoJoFM: D');
  });

  it('DEC-040: names a missing file', async () => {
    const result = await runMetrics(['metrics', '--calls', 'runtime_call_volume.json', '--partition', 'nope.json']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('error DEC-040 nope.json: no such file');
    expect(result.exitCode).toBe(2);
  });

  it('requires --calls and --partition', async () => {
    const result = await runMetrics(['metrics', '--calls', 'runtime_call_volume.json']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('DEC-048');
  });

  it('has help with examples and exit codes', async () => {
    const result = await runMetrics(['metrics', '--help']);
    expect(result.stdout).toContain('--calls <file>');
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain('Exit codes:');
  });
});

// ---------------------------------------------------------------------------------------------------------
// End to end through bin/decompose.js, once the command is wired into src/cli/main.ts and built.
// ---------------------------------------------------------------------------------------------------------

const bin = path.join(repoRoot, 'bin', 'decompose.js');
const cli = (args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const registered = (() => {
  try {
    // The option list, not the placeholder's example line, which mentions --calls too.
    return /--calls <file>/.test(cli(['metrics', '--help']).stdout);
  } catch {
    return false;
  }
})();

describe('decompose metrics (built CLI)', () => {
  it.skipIf(!registered)('prints exactly the expected AcmeAir K=5 metrics and exits 0', () => {
    const rel = path.relative(repoRoot, GOLDEN);
    const result = cli([
      'metrics',
      '--calls',
      `${rel}/runtime_call_volume.json`,
      '--partition',
      `${rel}/vertical_cluster_assignment_5.json`,
      '--use-cases',
      `${rel}/bcs_per_class.json`,
      '--json',
    ]);
    expect(result.status).toBe(0);
    const row = expected['5']!;
    expect(JSON.parse(result.stdout).metrics).toEqual({ bcp: row.BCP, icp: row.ICP, sm: row.SM, ifn: row.IFN, ned: row.NED });
  });

  it.skipIf(!registered)('answers a missing file with DEC-040, the file named, exit 2', () => {
    const result = cli(['metrics', '--calls', 'missing-calls.json', '--partition', 'missing-partition.json']);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')[0]).toBe('error DEC-040 missing-calls.json: no such file');
  });
});

describe('decompose metrics --plan', () => {
  it('measures a decompose plan from the current code, the same numbers decompose plan prints', async () => {
    const { runCli } = await import('../test-support/run-cli.js');
    const { fixturePath } = await import('../test-support/temp-project.js');
    const result = await runCli(['metrics', fixturePath('shop-ts'), '--plan', `${fixturePath('shop-ts')}/golden/decompose.plan.yaml`, '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const fs = await import('node:fs');
    const YAML = await import('yaml');
    const golden = YAML.parse(fs.readFileSync(`${fixturePath('shop-ts')}/golden/decompose.plan.yaml`, 'utf8')) as { metrics: unknown };
    expect(JSON.parse(result.stdout)).toEqual(golden.metrics);
    const neither = await runCli(['metrics']);
    expect(neither.exitCode).toBe(2);
    expect(neither.stderr).toContain('DEC-048');
  });
});
