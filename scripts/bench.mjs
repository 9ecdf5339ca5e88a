#!/usr/bin/env node
// `npm run bench`: how fast and how big decompose is on monoliths of 1k–10k modules, next to dependency-cruiser
// and the parse floor. Not part of `npm test`; the targets are printed as PASS/FAIL, never asserted.
//
//   node scripts/bench.mjs [--sizes 1000,2000,5000,10000] [--runs 3] [--large-runs N] [--seed 42] [--timeout S]
//                          [--tree DIR]... [--no-fixtures] [--cli DIR] [--keep] [--json] [--markdown FILE]
//
// Every run is a child process, timed here (wall clock) and measured by /usr/bin/time (peak RSS, CPU time) when it
// exists, else by a preload hook that reports process.resourceUsage() at exit. Nothing is written into the trees:
// the analysis, the plan and the tools' output go to a temporary work folder.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateMonolith } from './bench/generate.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Set by snapshotCli(): the copy of the built CLI that every run uses.
let CLI = path.join(repo, 'bin', 'decompose.js');
const FLOOR = path.join(repo, 'scripts', 'bench', 'parse-floor.mjs');
const RSS_HOOK = path.join(repo, 'scripts', 'bench', 'rss-hook.mjs');
const TOOLS = ['floor', 'depcruise', 'analyze', 'plan', 'check', 'check-fresh', 'scaffold'];
const TOOL_LABEL = { floor: 'parse floor', depcruise: 'dependency-cruiser', analyze: 'decompose analyze', plan: 'decompose plan', check: 'decompose check', 'check-fresh': 'decompose check, plan read afresh', scaffold: 'decompose scaffold' };
/** check's runs after the first take the plan's reading from the cache; check-fresh is given a plan it has not read. */
const CHECKS = ['check', 'check-fresh'];
/** The tools that read the plan `decompose plan` wrote (not a target: scaffold is measured to be seen). */
const NEEDS_PLAN = [...CHECKS, 'scaffold'];
/** Every scaffold target but ci, which writes at the measured tree's root (the fixtures are the repository's own). */
const SCAFFOLD_ONLY = 'services,gateway,docker,k8s,observability';
const GB = 1024 ** 3;

const USAGE = `usage: node scripts/bench.mjs [options]
  --sizes 1000,2000,5000,10000   generated trees to measure (modules each); --sizes none for none
  --runs N                       runs per tool and tree (default 3)
  --large-runs N                 runs for generated trees of 5000 modules or more (default: --runs)
  --seed S                       generator seed (default 42)
  --tree DIR                     also measure this folder (repeatable); it is only read
  --no-fixtures                  skip fixtures/shop-ts and fixtures/blog-cjs
  --timeout S                    stop a run after S seconds (default 1200); a decompose command that times out
                                 is not run again on that tree, and plan/check are skipped after analyze timed out
  --wait-idle S                  before each run, wait up to S seconds (default 120; 0: never) until other processes
                                 use less than half a core
  --cli DIR                      measure the decompose built in DIR (a checkout with bin/ and dist/), e.g. an
                                 older commit, instead of this repository's build
  --keep                         keep the generated trees and the work folder
  --json                         print the results as JSON instead of tables
  --markdown FILE                also write the tables as Markdown to FILE`;

function parseArgs(argv) {
  const args = { sizes: [1000, 2000, 5000, 10000], runs: 3, largeRuns: null, seed: 42, trees: [], fixtures: true, keep: false, json: false, markdown: null, timeout: 1200, waitIdle: 120, cli: repo };
  const value = (i) => {
    if (argv[i + 1] === undefined) fail(`${argv[i]} needs a value\n${USAGE}`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--sizes') {
      const v = value(i++);
      args.sizes = v === 'none' ? [] : v.split(',').map((s) => positive(s, '--sizes'));
    } else if (arg === '--runs') args.runs = positive(value(i++), '--runs');
    else if (arg === '--large-runs') args.largeRuns = positive(value(i++), '--large-runs');
    else if (arg === '--seed') args.seed = Number(value(i++));
    else if (arg === '--tree') args.trees.push(path.resolve(value(i++)));
    else if (arg === '--no-fixtures') args.fixtures = false;
    else if (arg === '--timeout') args.timeout = positive(value(i++), '--timeout');
    else if (arg === '--wait-idle') args.waitIdle = Number(value(i++));
    else if (arg === '--cli') args.cli = path.resolve(value(i++));
    else if (arg === '--keep') args.keep = true;
    else if (arg === '--json') args.json = true;
    else if (arg === '--markdown') args.markdown = path.resolve(value(i++));
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else fail(`unknown option ${arg}\n${USAGE}`);
  }
  if (!fs.existsSync(path.join(args.cli, 'dist', 'cli', 'main.js'))) fail(`--cli ${args.cli}: no built decompose there (dist/cli/main.js); run npm run build in it`);
  for (const tree of args.trees) if (!fs.statSync(tree, { throwIfNoEntry: false })?.isDirectory()) fail(`--tree ${tree}: no such folder`);
  return args;
}

function positive(text, flag) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) fail(`${flag}: ${text} is not a positive whole number`);
  return n;
}

function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

const log = (message) => process.stderr.write(`${message}\n`);

// ---- the machine -------------------------------------------------------------------------------------------

function machine(cliRoot) {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  let nproc = os.availableParallelism();
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    // nproc is missing on some systems; Node's count is the same on Linux.
  }
  const git = (...a) => {
    try {
      return execFileSync('git', a, { cwd: cliRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  const dirty = git('status', '--porcelain', '--', 'src', 'bin', 'package.json');
  const version = (pkg) => JSON.parse(fs.readFileSync(path.join(repo, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  return {
    nproc,
    cpu: model,
    memoryGiB: Math.round((os.totalmem() / GB) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    decompose: `${git('rev-parse', '--short', 'HEAD') ?? path.basename(cliRoot)}${dirty ? ' + uncommitted changes' : ''}${cliRoot === repo ? '' : ` (built in ${cliRoot})`}`,
    dependencyCruiser: version('dependency-cruiser'),
    typescriptInTsMorph: tsVersion(),
    measuredWith: fs.existsSync('/usr/bin/time') ? "/usr/bin/time -f '%e %M %U %S'" : 'process.resourceUsage() preload hook',
  };
}

function tsVersion() {
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', "import { ts } from 'ts-morph'; process.stdout.write(ts.version)"], { cwd: repo, encoding: 'utf8' });
  return out.stdout || 'unknown';
}

function warnIfStale(cliRoot) {
  const built = path.join(cliRoot, 'dist', 'cli', 'main.js');
  if (!fs.existsSync(built)) fail('dist/ is missing: run `npm run build` first');
  const builtAt = fs.statSync(built).mtimeMs;
  let newest = 0;
  const visit = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  if (fs.existsSync(path.join(cliRoot, 'src'))) visit(path.join(cliRoot, 'src'));
  if (newest > builtAt) log('bench: warning: src/ is newer than dist/ — run `npm run build` to measure the current code');
}

/**
 * Copies the built CLI (bin/, dist/, templates/, schema/, package.json) into the work folder and links the repo's
 * node_modules beside it, so a rebuild of dist/ during a long benchmark cannot change the code being measured.
 */
function snapshotCli(temp, cliRoot) {
  const root = path.join(temp, 'cli');
  for (const part of ['bin', 'dist', 'templates', 'schema', 'package.json']) {
    const from = path.join(cliRoot, part);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(root, part), { recursive: true });
  }
  const modules = fs.existsSync(path.join(cliRoot, 'node_modules')) ? path.join(cliRoot, 'node_modules') : path.join(repo, 'node_modules');
  fs.symlinkSync(fs.realpathSync(modules), path.join(root, 'node_modules'), 'dir');
  CLI = path.join(root, 'bin', 'decompose.js');
  const check = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
  if (check.status !== 0) fail(`the copied CLI does not start:\n${check.stderr}`);
}

// ---- measuring one run -------------------------------------------------------------------------------------

const HAVE_TIME = fs.existsSync('/usr/bin/time');

/** CPU seconds used so far by the whole machine (all cores, busy time only). */
function machineBusySeconds() {
  return os.cpus().reduce((sum, c) => sum + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0) / 1000;
}

/** Cores kept busy by other processes over the next `ms` milliseconds. */
function othersBusy(ms) {
  const before = machineBusySeconds();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return (machineBusySeconds() - before) / (ms / 1000);
}

/**
 * Waits (up to `limit` seconds) until other processes use less than half a core, so a run does not start in
 * the middle of someone else's burst. Returns the seconds waited.
 */
function waitForQuiet(limit) {
  const started = Date.now();
  while ((Date.now() - started) / 1000 < limit) {
    if (othersBusy(1000) < 0.5) break;
  }
  return Math.round((Date.now() - started) / 1000);
}
const TIMEOUT_BIN = ['/usr/bin/timeout', '/bin/timeout'].find((f) => fs.existsSync(f)) ?? null;

/** Runs `node script ...args` as a child process; returns wall seconds, peak RSS (KiB), CPU seconds and the exit code. */
function measure(script, args, { cwd, work, stdoutFile, timeout }) {
  const timeFile = path.join(work, 'time.txt');
  fs.rmSync(timeFile, { force: true });
  const nodeArgs = HAVE_TIME ? [] : ['--import', pathToFileURL(RSS_HOOK).href];
  // coreutils timeout sits between /usr/bin/time and node, so a killed run is still measured and leaves no orphan.
  // SIGTERM (then SIGKILL 10 s later): timeout reaps node, so /usr/bin/time still sees its peak RSS and CPU time.
  const limited = TIMEOUT_BIN ? [TIMEOUT_BIN, '-k', '10', String(timeout), process.execPath] : [process.execPath];
  const [command, argv] = HAVE_TIME
    ? ['/usr/bin/time', ['-f', '%e %M %U %S', '-o', timeFile, ...limited, ...nodeArgs, script, ...args]]
    : [limited[0], [...limited.slice(1), ...nodeArgs, script, ...args]];
  const out = fs.openSync(stdoutFile, 'w');
  const errFile = `${stdoutFile}.stderr`;
  const err = fs.openSync(errFile, 'w');
  const busyBefore = machineBusySeconds();
  const started = process.hrtime.bigint();
  const result = spawnSync(command, argv, {
    cwd,
    stdio: ['ignore', out, err],
    env: { ...process.env, NO_COLOR: '1', BENCH_RSS_FILE: timeFile },
    // Without coreutils timeout, a last resort (kills only the direct child).
    timeout: TIMEOUT_BIN ? undefined : timeout * 1000 + 5000,
    killSignal: 'SIGKILL',
  });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const busy = machineBusySeconds() - busyBefore;
  fs.closeSync(out);
  fs.closeSync(err);
  if (result.error) throw result.error;
  const timeText = fs.existsSync(timeFile) ? fs.readFileSync(timeFile, 'utf8').trim() : '';
  const last = timeText.split('\n').at(-1) ?? '';
  const numbers = last.split(/\s+/).map(Number);
  const [rssKiB, cpu] = HAVE_TIME ? [numbers[1], numbers[2] + numbers[3]] : [numbers[0], numbers[1] + numbers[2]];
  const timedOut = wall >= timeout && (result.status === 124 || result.status === 137 || result.signal === 'SIGKILL' || /signal (9|15)|status 124/.test(timeText));
  const cpuSeconds = Number.isFinite(cpu) ? cpu : null;
  // What the rest of the machine did meanwhile: busy CPU seconds not spent by this run, per second of the run.
  const othersCores = cpuSeconds === null ? null : Math.round((Math.max(0, busy - cpuSeconds) / wall) * 100) / 100;
  return { wall, rssKiB: Number.isFinite(rssKiB) && rssKiB > 0 ? rssKiB : null, cpu: cpuSeconds, othersCores, exitCode: result.status, timedOut, stderrFile: errFile };
}

function depcruiseTargets(dir) {
  if (fs.statSync(path.join(dir, 'src'), { throwIfNoEntry: false })?.isDirectory()) return ['src'];
  const skip = new Set(['node_modules', 'dist', 'build', 'coverage', 'test', 'tests', '__tests__', 'e2e', 'public', 'static', 'vendor', 'fixtures', 'tmp', 'temp']);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() ? !skip.has(e.name) && !fs.existsSync(path.join(dir, e.name, 'package.json')) : /\.[cm]?[jt]sx?$/.test(e.name) && !/\.(config|test|spec)\.[cm]?[jt]s$/.test(e.name)))
    .map((e) => e.name)
    .sort();
}

function commandFor(tool, dir, work) {
  const depcruise = path.join(repo, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const planFile = path.join(work, 'decompose.plan.yaml');
  switch (tool) {
    case 'floor':
      return [FLOOR, [dir]];
    case 'depcruise':
      // --do-not-follow node_modules: decompose does not read installed packages either (only matters for the fixtures).
      return [depcruise, ['--no-config', '--output-type', 'json', '--do-not-follow', 'node_modules', ...depcruiseTargets(dir)]];
    case 'analyze':
      return [CLI, ['analyze', dir, '--out', path.join(work, 'decompose-analysis.json')]];
    case 'plan':
      return [CLI, ['plan', dir, '--plan', planFile, '--yes', '--force']];
    case 'check':
      return [CLI, ['check', dir, '--plan', planFile]];
    case 'check-fresh':
      return [CLI, ['check', dir, '--plan', freshPlanFile(work)]];
    case 'scaffold':
      return [CLI, ['scaffold', dir, '--plan', planFile, '--out', scaffoldFolder(work), '--only', SCAFFOLD_ONLY]];
    default:
      throw new Error(tool);
  }
}

/**
 * Writes a plan for `check` with `decompose plan --max-services 8` (not measured), for trees where the full plan
 * did not finish. Returns a note for the report, or null when that did not finish either.
 */
function fallbackPlan(tree, work, timeout) {
  const planFile = path.join(work, 'decompose.plan.yaml');
  log(`  ${tree.name.padEnd(14)} making a plan with --max-services 8 for check (not measured)`);
  const limited = TIMEOUT_BIN ? [TIMEOUT_BIN, '-k', '10', String(timeout), process.execPath] : [process.execPath];
  const result = spawnSync(limited[0], [...limited.slice(1), CLI, 'plan', tree.dir, '--plan', planFile, '--yes', '--force', '--max-services', '8'], {
    cwd: tree.dir,
    stdio: 'ignore',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: TIMEOUT_BIN ? undefined : timeout * 1000 + 5000,
    killSignal: 'SIGKILL',
  });
  if (result.status !== 0 || !fs.existsSync(planFile)) return null;
  return 'the full plan did not finish, so check ran against a plan made with --max-services 8';
}

/**
 * The plan for check-fresh: check's plan with a comment no run has seen before, so that check reads it afresh (the
 * plan reading cache is named by the plan's bytes), as on the first check after the plan changed.
 */
function freshPlanFile(work) {
  return path.join(work, 'decompose.plan.fresh.yaml');
}
function writeFreshPlan(work) {
  const plan = fs.readFileSync(path.join(work, 'decompose.plan.yaml'), 'utf8');
  fs.writeFileSync(freshPlanFile(work), `${plan}# bench: a plan check has not read (${crypto.randomUUID()})\n`);
}

/** Where scaffold writes; emptied before each run, so each is a first scaffold (every file written). */
function scaffoldFolder(work) {
  return path.join(work, 'decomposed');
}

/** Exit codes that mean the tool did its job: check exits 1 when it finds drift (reported, but a valid run). */
const OK_EXIT = { floor: [0], depcruise: [0], analyze: [0], plan: [0], check: [0, 1], 'check-fresh': [0, 1], scaffold: [0] };

function median(values) {
  const sorted = values.filter((v) => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function measureTree(tree, runs, workRoot, { timeout, waitIdle }) {
  const work = fs.mkdtempSync(path.join(workRoot, `${tree.name}-`));
  const results = Object.fromEntries(TOOLS.map((t) => [t, { runs: [] }]));
  const stopped = new Map();
  const loadBefore = os.loadavg()[0];
  for (let run = 1; run <= runs; run += 1) {
    for (const tool of TOOLS) {
      if (stopped.has(tool)) continue;
      if (NEEDS_PLAN.includes(tool) && !fs.existsSync(path.join(work, 'decompose.plan.yaml'))) {
        // check and scaffold need a plan. When `decompose plan` timed out (it lays out the service graph for plan.html with
        // Graphviz, which grows steeply with the number of services), make a coarser one, unmeasured.
        const note = fallbackPlan(tree, work, timeout);
        if (note === null) {
          for (const t of NEEDS_PLAN) stopped.set(t, `not run: plan timed out after ${timeout} s and no plan could be made for check and scaffold`);
          continue;
        }
        tree.checkPlanNote = note;
      }
      if (tool === 'check-fresh') writeFreshPlan(work);
      if (tool === 'scaffold') fs.rmSync(scaffoldFolder(work), { recursive: true, force: true });
      const [script, args] = commandFor(tool, tree.dir, work);
      const stdoutFile = path.join(work, `${tool}.out`);
      const waited = waitIdle > 0 ? waitForQuiet(waitIdle) : 0;
      const m = measure(script, args, { cwd: tree.dir, work, stdoutFile, timeout });
      m.waitedForQuiet = waited;
      if (m.timedOut) {
        // Running it again would only cost another `timeout`; plan and check analyse first, so they cannot be faster.
        stopped.set(tool, `${TOOL_LABEL[tool]} timed out after ${timeout} s`);
        if (tool === 'analyze') for (const t of ['plan', ...NEEDS_PLAN]) if (!stopped.has(t)) stopped.set(t, `not run: analyze timed out after ${timeout} s`);
      } else if (!OK_EXIT[tool].includes(m.exitCode)) {
        const stderr = fs.readFileSync(m.stderrFile, 'utf8').slice(-2000);
        throw new Error(`${TOOL_LABEL[tool]} on ${tree.name} exited with ${m.exitCode}:\n${stderr}`);
      }
      if (!m.timedOut && tool === 'floor' && !tree.floor) tree.floor = JSON.parse(fs.readFileSync(stdoutFile, 'utf8'));
      if (!m.timedOut && tool === 'analyze' && !tree.analysis) {
        const analysis = JSON.parse(fs.readFileSync(path.join(work, 'decompose-analysis.json'), 'utf8'));
        tree.analysis = {
          modules: analysis.modules.length,
          loc: analysis.modules.reduce((sum, x) => sum + x.loc, 0),
          imports: analysis.imports.length,
          routes: analysis.routes.length,
          unresolvedImports: analysis.unresolvedImports.length,
          unresolvedRoutes: analysis.unresolvedRoutes.length,
          diagnostics: analysis.diagnostics.length,
        };
      }
      if (!m.timedOut && tool === 'plan' && !tree.planSummary) tree.planSummary = fs.readFileSync(stdoutFile, 'utf8').split('\n')[0];
      if (CHECKS.includes(tool)) m.drift = m.exitCode === 1;
      m.load1 = Math.round(os.loadavg()[0] * 100) / 100;
      delete m.stderrFile;
      results[tool].runs.push(m);
      const rss = m.rssKiB === null ? '?' : Math.round(m.rssKiB / 1024);
      log(`  ${tree.name.padEnd(14)} run ${run}/${runs}  ${TOOL_LABEL[tool].padEnd(33)} ${m.wall.toFixed(2).padStart(8)} s  CPU ${m.cpu === null ? '?' : m.cpu.toFixed(2)} s  ${rss} MB  others ${m.othersCores ?? '?'} cores (load ${m.load1.toFixed(2)}, waited ${waited} s)${m.timedOut ? '  TIMED OUT' : ''}`);
    }
  }
  for (const tool of TOOLS) {
    const r = results[tool];
    if (r.runs.length === 0) {
      Object.assign(r, { wall: null, cpu: null, peakRssMiB: null, lowerBound: false, skipped: stopped.get(tool) });
      continue;
    }
    r.wall = median(r.runs.map((x) => x.wall));
    r.cpu = median(r.runs.map((x) => x.cpu));
    r.othersCores = median(r.runs.map((x) => x.othersCores));
    r.peakRssMiB = Math.round(Math.max(...r.runs.map((x) => x.rssKiB ?? 0)) / 1024);
    // A run stopped at the timeout only tells us the tool needs at least that long.
    r.lowerBound = r.runs.some((x) => x.timedOut);
    if (r.lowerBound) r.note = stopped.get(tool);
  }
  tree.results = results;
  tree.runs = runs;
  tree.load = { before: loadBefore, after: os.loadavg()[0] };
  tree.work = work;
  return tree;
}

// ---- targets -----------------------------------------------------------------------------------------------

/** A measured value that may only be a lower bound (timed out), or missing (not run). */
const val = (r) => (r.wall === null ? null : { v: r.wall, lb: r.lowerBound });
const show = (x) => (x === null ? 'not measured' : `${x.lb ? '> ' : ''}${x.v.toFixed(2)} s`);

/** a ≤ k·b, knowing either side may be a lower bound: true, false, or null when the data cannot tell. */
function atMost(a, b, k = 1) {
  if (a === null || b === null) return null;
  const holds = a.v <= k * b.v;
  if (!a.lb && !b.lb) return holds;
  if (a.lb && !b.lb) return holds ? null : false;
  if (!a.lb && b.lb) return holds ? true : null;
  return null;
}

/** The ratios a/b of the runs made side by side (run i of each), when every one of them finished. */
function pairedRatios(a, b) {
  const count = Math.min(a.runs.length, b.runs.length);
  if (count === 0) return null;
  const ratios = [];
  for (let i = 0; i < count; i += 1) {
    const x = a.runs[i];
    const y = b.runs[i];
    if (x.timedOut || y.timedOut || !x.wall || !y.wall) return null;
    ratios.push(x.wall / y.wall);
  }
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

function evaluateTargets(trees) {
  const targets = [];
  const add = (id, what, pass, measured) => targets.push({ id, what, pass, measured });
  const ratio = (a, b, suffix = '×') => (a === null || b === null || b.lb ? '' : ` (${a.lb ? '> ' : ''}${(a.v / b.v).toFixed(2)}${suffix})`);
  for (const t of trees) {
    const analyze = val(t.results.analyze);
    const depcruise = val(t.results.depcruise);
    const floor = val(t.results.floor);
    add('1a', `${t.name}: analyze ≤ dependency-cruiser`, atMost(analyze, depcruise), `${show(analyze)} vs ${show(depcruise)}${ratio(analyze, depcruise)}`);
    // Each run of analyze has a floor run beside it (the tools of a tree take turns, run after run); the median of
    // those pairs' ratios is steadier than the ratio of the two medians, so 1b asks both to be within 2×.
    const paired = pairedRatios(t.results.analyze, t.results.floor);
    const pairedText = paired === null ? '' : `; by paired runs ${paired.median.toFixed(2)}× (${paired.min.toFixed(2)}–${paired.max.toFixed(2)})`;
    const byMedians = atMost(analyze, floor, 2);
    const pass1b = byMedians === null || paired === null ? byMedians : byMedians && paired.median <= 2;
    add('1b', `${t.name}: analyze ≤ 2× parse floor`, pass1b, `${show(analyze)} vs 2 × ${show(floor)}${ratio(analyze, floor, '× the floor')}${pairedText}`);
  }
  const generated = trees.filter((t) => t.generated).sort((a, b) => a.size - b.size);
  const big = generated.find((t) => t.size === 10000);
  if (big) {
    const analyze = val(big.results.analyze);
    // `decompose plan` analyses first; when it was not run because analyze timed out, analyze's bound holds for it too.
    const plan = val(big.results.plan) ?? (analyze?.lb ? analyze : null);
    add('2a', 'gen-10000: analysed and planned (one `decompose plan`, which analyses first) < 60 s', plan === null ? null : plan.v >= 60 ? false : plan.lb ? null : true, `plan ${show(plan)} (analyze alone ${show(analyze)})`);
    const rssValues = ['analyze', 'plan'].map((tool) => big.results[tool].peakRssMiB).filter((x) => x !== null);
    const rss = rssValues.length ? Math.max(...rssValues) : null;
    const cut = big.results.analyze.lowerBound || big.results.plan.lowerBound || big.results.plan.wall === null;
    add('2b', 'gen-10000: peak RSS of analyze and plan < 2 GB', rss === null ? null : rss >= 2048 ? false : cut ? null : true, `analyze ${big.results.analyze.peakRssMiB ?? '?'} MB, plan ${big.results.plan.peakRssMiB === null ? 'not measured' : `${big.results.plan.peakRssMiB} MB`}${cut ? ' (a run was cut short: the RSS it had reached by then)' : ''}`);
    const planOnly = val(big.results.plan);
    const clustering = planOnly && analyze && !planOnly.lb && !analyze.lb ? planOnly.v - analyze.v : null;
    add('2d', 'gen-10000: clustering (plan − analyze) < 5 s', clustering === null ? null : clustering < 5, clustering === null ? 'not measured (plan or analyze did not finish)' : `${clustering.toFixed(2)} s`);
  } else {
    add('2', 'gen-10000 targets', null, 'not measured (10000 not in --sizes)');
  }
  const base = generated.find((t) => t.size === 1000);
  if (base && generated.length > 1) {
    for (const tool of ['analyze', 'plan']) {
      const first = val(base.results[tool]);
      const per = generated.map((t) => ({ size: t.size, x: val(t.results[tool]) }));
      const parts = per.map((p) => `${p.size}: ${p.x === null ? 'not measured' : `${p.x.lb ? '> ' : ''}${((p.x.v * 1000) / p.size).toFixed(2)} ms`}`);
      let pass = first === null || first.lb ? null : true;
      let worst = 0;
      for (const p of per) {
        if (first === null || first.lb) break;
        if (p.x === null) {
          if (pass) pass = null;
          continue;
        }
        const r = p.x.v / p.size / (first.v / base.size);
        worst = Math.max(worst, r);
        if (r > 1.25) pass = false;
        else if (p.x.lb && pass) pass = null;
      }
      const atLeast = per.some((p) => p.x?.lb) ? ', at least' : '';
      add('2c', `time per module flat within 25% from 1k to ${generated.at(-1).size} (${tool}: no size above 1.25× the 1k figure)`, pass, `${parts.join(', ')}${worst ? ` (worst ${worst.toFixed(2)}× the 1k figure${atLeast})` : ''}`);
    }
  }
  for (const t of trees) {
    const analyze = val(t.results.analyze);
    const check = val(t.results.check);
    const drift = t.results.check.runs.some((r) => r.drift);
    // " (N% over analyze)", or nothing when either side is missing or only a lower bound.
    const versusAnalyze = (x) => {
      const pct = x && analyze && !x.lb && !analyze.lb ? Math.round((x.v / analyze.v - 1) * 100) : null;
      return pct === null ? '' : pct >= 0 ? ` (${pct}% over analyze)` : ` (${-pct}% under analyze)`;
    };
    const over = versusAnalyze(check);
    // Not a target of its own, shown beside it: the first check after the plan changed reads it afresh.
    const fresh = val(t.results['check-fresh']);
    const freshText = fresh === null ? '' : `; with the plan read afresh ${show(fresh)}${versusAnalyze(fresh)}`;
    add('3', `${t.name}: check on the unchanged tree ≤ analyze + 10%`, atMost(check, analyze, 1.1), `${show(check)} vs ${analyze === null ? 'not measured' : `1.1 × ${show(analyze)}`}${over}${drift ? '; check reported drift (exit 1) on the unchanged tree' : ''}${freshText}${t.checkPlanNote ? `; ${t.checkPlanNote}` : ''}`);
  }
  // Group by target number; the targets of 2 in their own order (2a–2d); trees keep the order they ran in.
  const key = (x) => `${x.id[0]}${x.id[0] === '2' ? x.id : ''}`;
  return targets.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

// ---- output ------------------------------------------------------------------------------------------------

function table(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (align[i] === 'r' ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function markdownTable(headers, rows, align) {
  return [
    `| ${headers.join(' | ')} |`,
    `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function resultRows(trees) {
  const rows = [];
  for (const t of trees) {
    for (const tool of TOOLS) {
      const r = t.results[tool];
      const modules = String(t.analysis?.modules ?? t.floor?.files ?? '');
      if (r.wall === null) {
        rows.push([t.name, modules, String(t.floor?.lines ?? ''), TOOL_LABEL[tool], r.skipped ?? 'not run', '', '', '', '', '', '']);
        continue;
      }
      const gt = r.lowerBound ? '>' : '';
      const spread = r.runs.length > 1 ? `${Math.min(...r.runs.map((x) => x.wall)).toFixed(2)}–${Math.max(...r.runs.map((x) => x.wall)).toFixed(2)}` : '';
      const times = (base) => (base.wall === null || base.lowerBound ? '' : `${gt}${(r.wall / base.wall).toFixed(2)}`);
      rows.push([
        t.name,
        modules,
        String(t.floor?.lines ?? ''),
        TOOL_LABEL[tool],
        `${gt}${r.wall.toFixed(2)}${r.lowerBound ? ' (timed out)' : ''}`,
        spread,
        r.cpu === null ? '?' : `${gt}${r.cpu.toFixed(2)}`,
        `${gt}${r.peakRssMiB}`,
        times(t.results.depcruise),
        times(t.results.floor),
        r.othersCores === null ? '?' : r.othersCores.toFixed(2),
      ]);
    }
  }
  return rows;
}

const RESULT_HEADERS = ['tree', 'modules', 'lines', 'tool', 'median wall s', 'min–max s', 'median CPU s', 'peak RSS MB', '× depcruise', '× floor', 'others busy (cores)'];
const RESULT_ALIGN = ['l', 'r', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];
const TARGET_HEADERS = ['target', 'what', 'result', 'measured'];
const TARGET_ALIGN = ['l', 'l', 'l', 'l'];
const verdict = (pass) => (pass === null ? 'n/a' : pass ? 'PASS' : 'FAIL');

function scalingRows(trees) {
  return trees
    .filter((t) => t.generated)
    .sort((a, b) => a.size - b.size)
    .map((t) => {
      const r = t.results;
      const per = (x) => (x.wall === null ? 'not run' : `${x.lowerBound ? '>' : ''}${((x.wall * 1000) / t.size).toFixed(2)}`);
      const clustering = r.plan.wall === null || r.plan.lowerBound || r.analyze.lowerBound ? 'n/a' : (r.plan.wall - r.analyze.wall).toFixed(2);
      return [String(t.size), String(t.summary.domains), String(t.floor?.lines ?? t.summary.lines), per(r.analyze), per(r.plan), per(r.floor), per(r.depcruise), clustering];
    });
}
const SCALING_HEADERS = ['modules', 'domains', 'lines', 'analyze ms/module', 'plan ms/module', 'floor ms/module', 'depcruise ms/module', 'clustering s (plan − analyze)'];
const SCALING_ALIGN = ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];

function render(report, kind) {
  const t = kind === 'md' ? markdownTable : table;
  const targetRows = report.targets.map((x) => [x.id, x.what, verdict(x.pass), x.measured]);
  const parts = [
    t(RESULT_HEADERS, resultRows(report.trees), RESULT_ALIGN),
    '',
    t(SCALING_HEADERS, scalingRows(report.trees), SCALING_ALIGN),
    '',
    t(TARGET_HEADERS, targetRows, TARGET_ALIGN),
  ];
  return `${parts.join('\n')}\n`;
}

// ---- main --------------------------------------------------------------------------------------------------

function main() {
  const args = parseArgs(process.argv.slice(2));
  warnIfStale(args.cli);
  const info = machine(args.cli);
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-bench-'));
  const workRoot = path.join(temp, 'work');
  fs.mkdirSync(workRoot);
  snapshotCli(temp, args.cli);
  // decompose's cache (compiled code, plans check has read) of this run's own, unless one is set: the results do not
  // depend on what earlier runs left, and check-fresh's one-off plans do not crowd the user's cache.
  process.env.DECOMPOSE_CACHE ??= path.join(temp, 'cache');
  log(`bench: ${info.nproc} × ${info.cpu}, ${info.memoryGiB} GiB, Node ${info.node}; decompose ${info.decompose}; work folder ${temp}`);

  const trees = [];
  for (const size of args.sizes) {
    const dir = path.join(temp, 'trees', `gen-${size}`);
    const started = Date.now();
    const summary = generateMonolith({ modules: size, seed: args.seed, dir });
    log(`bench: generated ${dir}: ${summary.modules} modules, ${summary.domains} domains, ${summary.lines} lines in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    trees.push({ name: `gen-${size}`, dir, generated: true, size, summary, runsWanted: size >= 5000 && args.largeRuns ? args.largeRuns : args.runs });
  }
  if (args.fixtures) {
    for (const name of ['shop-ts', 'blog-cjs']) trees.push({ name, dir: path.join(repo, 'fixtures', name), generated: false, runsWanted: args.runs });
  }
  for (const dir of args.trees) trees.push({ name: path.basename(dir), dir, generated: false, runsWanted: args.runs });
  if (trees.length === 0) fail('nothing to measure');

  const started = Date.now();
  for (const tree of trees) {
    log(`bench: ${tree.name} (${tree.runsWanted} runs)`);
    measureTree(tree, tree.runsWanted, workRoot, { timeout: args.timeout, waitIdle: args.waitIdle });
  }
  const report = {
    date: new Date().toISOString(),
    machine: info,
    options: { sizes: args.sizes, runs: args.runs, largeRuns: args.largeRuns, seed: args.seed, timeout: args.timeout, waitIdle: args.waitIdle },
    durationSeconds: Math.round((Date.now() - started) / 1000),
    trees: trees.map(({ runsWanted, ...t }) => t),
  };
  report.targets = evaluateTargets(report.trees);

  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`\n${render(report, 'text')}`);
  if (args.markdown) {
    fs.writeFileSync(args.markdown, render(report, 'md'));
    fs.writeFileSync(args.markdown.replace(/\.md$/, '') + '.json', `${JSON.stringify(report, null, 2)}\n`);
    log(`bench: wrote ${args.markdown} (and the raw results beside it as .json)`);
  }
  if (args.keep) log(`bench: kept ${temp}`);
  else fs.rmSync(temp, { recursive: true, force: true });
}

main();
