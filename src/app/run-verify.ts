import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyze } from '../analyze/analyze.js';
import { DEFAULT_PLAN_FILE, parsePlanFor, readPlanText } from './plan-input.js';
import type { Plan } from '../model/plan.js';
import { stableJson } from '../util/compare.js';
import { UserError } from '../util/errors.js';
import { type Answer, type CompareOptions, Correlation, compareAnswers } from '../verify/compare.js';
import { buildProbes, runFault } from '../verify/fault.js';
import { type Observer, sendRequest, startObserver } from '../verify/observer.js';
import { Supervisor, tail } from '../verify/processes.js';
import { type Recording, readRecording, toRecording, writeRecording } from '../verify/recording.js';
import { type ObservedRequest, type ReplayDifference, type VerifyReport, cacheTotals, routeResults } from '../verify/report.js';
import { type CacheCounts, type LogRequest, parseCacheMetrics, readRequestLog, routeMatcher } from '../verify/routes.js';
import { type GatewayKind, type RunningSystem, bootSystem, checkScaffold, prepareWorkspace, startMonolith } from '../verify/system.js';
import { DEFAULT_SCAFFOLD_DIR } from './run-scaffold.js';
import { makeFolders } from '../sink/disk-sink.js';

export interface VerifyRunOptions {
  dir: string;
  planFile?: string;
  out?: string;
  /** The user's own command (run through a shell, in the monolith's folder, with BASE_URL). */
  testCommand?: string;
  replay?: string;
  /** Record what the test command sends to the monolith into this file (no decomposed system is started). */
  record?: string;
  kill?: string;
  replicas: Record<string, number>;
  gateway: GatewayKind | 'auto';
  redis: boolean;
  /** Run the monolith too (latency and status comparison); replay always runs it. */
  monolith: boolean;
  compare: CompareOptions;
  env: NodeJS.ProcessEnv;
  progress: (text: string) => void;
  /** Said even without a terminal (what verify will run). */
  notice: (text: string) => void;
  warn: (text: string) => void;
  readyTimeoutMs?: number;
}

export interface RecordResult {
  file: string;
  requests: number;
  command: string;
  exitCode: number;
  logs: string;
}

/** The test command recorded in the plan, when there is a plan (recording may come before planning). */
async function recordedTestCommand(dir: string, planFile: string | undefined): Promise<string | undefined> {
  const file = path.resolve(planFile ?? path.join(dir, DEFAULT_PLAN_FILE));
  if (planFile === undefined && !fs.existsSync(file)) return undefined;
  return (await loadPlan(dir, file)).verify?.testCommand;
}

function loadPlan(dir: string, planFile: string): Promise<Plan> {
  const text = readPlanText(planFile, 'verify', `Run \`decompose plan\` and \`decompose scaffold\` in ${dir} first, or pass --plan FILE.`);
  return analyze({ dir }).then((analysis) => parsePlanFor(text, planFile, analysis, { missingModulesAreDrift: true }));
}

/**
 * The contract command: --test-command, else the one the team recorded in the plan (`verify.testCommand`), else the
 * monolith's `npm run test:api`.
 */
export function resolveTestCommand(dir: string, given: string | undefined, recorded?: string): string {
  if (given !== undefined) {
    if (given.trim() === '') throw new UserError('DEC-116', '--test-command is empty', { hint: 'Pass the command that runs your black-box API tests, e.g. --test-command "npm run test:api".' });
    return given;
  }
  if (recorded !== undefined) return recorded;
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    if (manifest.scripts?.['test:api']) return 'npm run test:api';
  } catch {
    // no usable package.json: fall through
  }
  throw new UserError('DEC-116', `${dir}: no contract to verify against`, {
    hint: 'Pass --test-command "…" (your black-box API suite; it gets BASE_URL), record one in the plan (verify.testCommand), add a "test:api" script, or pass --replay FILE.',
  });
}

/** Said before anything starts: verify, unlike the other commands, runs the project's code. */
function noticeOfWhatRuns(notice: (text: string) => void, parts: { monolith: boolean; services: boolean; command?: string }): void {
  const what = [
    ...(parts.monolith ? ["the monolith's own code (npm start)"] : []),
    ...(parts.services ? ['the generated services (made from its code)'] : []),
    ...(parts.command ? [`your test command \`${parts.command}\` through a shell`] : []),
  ];
  notice(`note: verify runs ${what.join(', ')} on this machine, bound to loopback ports`);
}

function runId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${process.pid}`;
}

/** Set once Ctrl-C / SIGTERM arrived: what fails after it failed because verify is stopping it, and says nothing. */
let interrupted = false;

/** Stops everything on Ctrl-C / SIGTERM as well, then ends the process (130 / 143). */
function onSignals(supervisor: Supervisor, warn: (text: string) => void): () => void {
  const handler = (signal: NodeJS.Signals) => {
    interrupted = true;
    warn(`${signal}: stopping everything verify started…`);
    void supervisor.stopAll(2000).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
  };
}

async function runTestCommand(supervisor: Supervisor, command: string, dir: string, baseUrl: string, runDir: string, name: string, env: NodeJS.ProcessEnv): Promise<{ exitCode: number; logFile: string }> {
  const logFile = path.join(runDir, `${name}.log`);
  const child = supervisor.start({ name, command, args: [], shell: true, cwd: dir, env: { ...env, BASE_URL: baseUrl, CI: env.CI ?? '1' }, logFile });
  const { exitCode } = await child.exited;
  return { exitCode: exitCode ?? 1, logFile };
}

function observed(observer: Observer): Array<ObservedRequest & { headers: Record<string, string> }> {
  return [...observer.exchanges]
    .sort((a, b) => a.seq - b.seq)
    .map((e) => ({ method: e.method, url: e.url, status: e.response.status, durationMs: e.durationMs, headers: e.headers, ...(e.error ? { error: e.error } : {}) }));
}

/** `verify --record FILE`: the monolith alone, the test command through a recording proxy, the requests saved. */
export async function runRecord(options: VerifyRunOptions): Promise<RecordResult> {
  const dir = path.resolve(options.dir);
  const command = resolveTestCommand(dir, options.testCommand, options.testCommand === undefined ? await recordedTestCommand(dir, options.planFile) : undefined);
  const file = path.resolve(options.record!);
  const outDir = path.resolve(options.out ?? path.join(dir, DEFAULT_SCAFFOLD_DIR));
  const runDir = path.join(fs.existsSync(outDir) ? path.join(outDir, '.decompose-verify') : fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-verify-')), `record-${runId()}`);
  makeFolders(runDir);
  const supervisor = new Supervisor();
  const release = onSignals(supervisor, options.warn);
  let observer: Observer | null = null;
  try {
    noticeOfWhatRuns(options.notice, { monolith: true, services: false, command });
    options.progress('starting the monolith (npm start)…');
    const monolith = await startMonolith(dir, runDir, supervisor, options.env, options.readyTimeoutMs);
    observer = await startObserver(monolith.url);
    options.progress(`recording \`${command}\` against the monolith…`);
    const { exitCode, logFile } = await runTestCommand(supervisor, command, dir, observer.url, runDir, 'test-command', options.env);
    if (exitCode !== 0 && !interrupted) options.warn(`\`${command}\` failed against the monolith itself (exit ${exitCode}); recorded anyway. Log: ${logFile}`);
    const recording = toRecording(observer.exchanges, `${command} against the monolith in ${path.basename(dir)}`);
    writeRecording(file, recording);
    return { file, requests: recording.requests.length, command, exitCode, logs: runDir };
  } finally {
    await observer?.close();
    await supervisor.stopAll();
    release();
  }
}

async function scrapeCache(system: RunningSystem): Promise<Map<string, Map<string, CacheCounts>>> {
  const out = new Map<string, Map<string, CacheCounts>>();
  for (const instance of system.instances) {
    if (!instance.process.isRunning()) continue;
    try {
      const res = await fetch(`${instance.url}/metrics`, { signal: AbortSignal.timeout(5000) });
      const counters = parseCacheMetrics(await res.text());
      const merged = out.get(instance.service) ?? new Map<string, CacheCounts>();
      for (const [route, c] of counters) {
        const m = merged.get(route) ?? { hit: 0, miss: 0, bypass: 0 };
        merged.set(route, { hit: m.hit + c.hit, miss: m.miss + c.miss, bypass: m.bypass + c.bypass });
      }
      out.set(instance.service, merged);
    } catch {
      // a service that stopped answering has no counters to give
    }
  }
  return out;
}

function serviceLogs(system: RunningSystem): LogRequest[] {
  return system.instances.flatMap((i) => readRequestLog(i.process.logFile, i.service, i.replica));
}

function answerOf(result: Awaited<ReturnType<typeof sendRequest>>): Answer {
  return { status: result.status, headers: result.headers, body: result.body, ...(result.error ? { error: result.error } : {}) };
}

/** Replays the recording against both systems, request by request, in order. */
async function replay(recording: Recording, monolithUrl: string, gatewayUrl: string, compare: CompareOptions): Promise<{ monolith: ObservedRequest[]; decomposed: ObservedRequest[]; differences: ReplayDifference[] }> {
  const monolithIds = new Correlation();
  const decomposedIds = new Correlation();
  const monolith: ObservedRequest[] = [];
  const decomposed: ObservedRequest[] = [];
  const differences: ReplayDifference[] = [];
  for (const [index, request] of recording.requests.entries()) {
    const toMonolith = monolithIds.rewrite(request);
    const toDecomposed = decomposedIds.rewrite(request);
    const m = await sendRequest(monolithUrl, request.method, toMonolith.url, toMonolith.headers, toMonolith.body);
    const d = await sendRequest(gatewayUrl, request.method, toDecomposed.url, toDecomposed.headers, toDecomposed.body);
    monolith.push({ method: request.method, url: request.url, status: m.status, durationMs: m.durationMs, ...(m.error ? { error: m.error } : {}) });
    decomposed.push({ method: request.method, url: request.url, status: d.status, durationMs: d.durationMs, ...(d.error ? { error: d.error } : {}) });
    const found = compareAnswers(answerOf(m), answerOf(d), request.response, compare);
    if (found.length > 0) differences.push({ index, method: request.method, url: request.url, differences: found });
    monolithIds.learnFrom(request.response, answerOf(m));
    decomposedIds.learnFrom(request.response, answerOf(d));
  }
  return { monolith, decomposed, differences };
}

/**
 * `decompose verify`: boots the decomposed system (and the monolith to compare with), runs the contract through
 * the gateway, optionally kills a service while requests flow, and reports per route. Everything it started is
 * stopped before it returns, whatever happens; the logs stay in `<out>/.decompose-verify/<run>/`.
 */
export async function runVerify(options: VerifyRunOptions): Promise<VerifyReport> {
  const dir = path.resolve(options.dir);
  const planFile = path.resolve(options.planFile ?? path.join(dir, DEFAULT_PLAN_FILE));
  const outDir = path.resolve(options.out ?? path.join(dir, DEFAULT_SCAFFOLD_DIR));
  const recording = options.replay ? readRecording(path.resolve(options.replay)) : null;
  const plan = await loadPlan(dir, planFile);
  const command = recording ? undefined : resolveTestCommand(dir, options.testCommand, plan.verify?.testCommand);
  const compare: CompareOptions = { ...options.compare, ignoreFields: [...options.compare.ignoreFields, ...(plan.verify?.ignoreFields ?? [])] };
  checkScaffold(plan, outDir);
  const services = plan.services.map((s) => s.name);
  if (options.kill !== undefined && !services.includes(options.kill)) {
    throw new UserError('DEC-117', `--kill ${options.kill}: not a service of the plan`, { hint: `choose one of: ${[...services].sort().join(', ')}` });
  }
  for (const name of Object.keys(options.replicas)) {
    if (name !== '*' && !services.includes(name)) throw new UserError('DEC-118', `--replicas ${name}: not a service of the plan`, { hint: `choose one of: ${[...services].sort().join(', ')}` });
  }
  const replicas: Record<string, number> = {};
  for (const s of services) replicas[s] = options.replicas[s] ?? options.replicas['*'] ?? 1;
  const matcher = routeMatcher(plan);

  const runDir = path.join(outDir, '.decompose-verify', runId());
  makeFolders(runDir);
  const supervisor = new Supervisor();
  const release = onSignals(supervisor, options.warn);
  const timings: Record<string, number> = {};
  const time = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await body();
    } finally {
      timings[name] = Date.now() - started;
    }
  };
  const observers: Observer[] = [];
  try {
    noticeOfWhatRuns(options.notice, { monolith: recording !== null || options.monolith, services: true, command });
    const boot = { plan, outDir, runDir, supervisor, gateway: options.gateway, redis: options.redis, replicas, env: options.env, progress: options.progress, warn: options.warn, readyTimeoutMs: options.readyTimeoutMs };
    await time('installAndBuildMs', () => prepareWorkspace(boot));
    const system = await time('bootMs', () => bootSystem(boot));
    const monolith = recording || options.monolith ? await time('monolithBootMs', () => startMonolith(dir, runDir, supervisor, options.env, options.readyTimeoutMs)) : null;

    let contract: VerifyReport['contract'];
    let decomposed: Array<ObservedRequest & { headers?: Record<string, string> }>;
    let monolithRequests: ObservedRequest[] | null = null;
    let differences: ReplayDifference[] | null = null;
    if (recording) {
      options.progress(`replaying ${recording.requests.length} requests against the monolith and through the gateway…`);
      const result = await time('contractMs', () => replay(recording, monolith!.url, system.gatewayUrl, compare));
      decomposed = result.decomposed.map((r, i) => ({ ...r, headers: recording.requests[i]!.headers }));
      monolithRequests = result.monolith;
      differences = result.differences;
      contract = { replayFile: path.resolve(options.replay!), requests: recording.requests.length, differing: differences.length, passed: differences.length === 0 };
    } else {
      if (monolith) {
        const front = await startObserver(monolith.url);
        observers.push(front);
        options.progress(`running \`${command}\` against the monolith (for comparison)…`);
        const baseline = await time('monolithContractMs', () => runTestCommand(supervisor, command!, dir, front.url, runDir, 'test-command-monolith', options.env));
        if (baseline.exitCode !== 0 && !interrupted) options.warn(`\`${command}\` fails against the monolith itself (exit ${baseline.exitCode}); log: ${baseline.logFile}`);
        monolithRequests = observed(front);
      }
      const front = await startObserver(system.gatewayUrl);
      observers.push(front);
      options.progress(`running \`${command}\` through the gateway…`);
      const run = await time('contractMs', () => runTestCommand(supervisor, command!, dir, front.url, runDir, 'test-command', options.env));
      decomposed = observed(front);
      contract = { command, exitCode: run.exitCode, requests: decomposed.length, passed: run.exitCode === 0 };
      if (run.exitCode !== 0 && !interrupted) {
        const last = tail(run.logFile, 25);
        if (last) options.warn(`\`${command}\` failed through the gateway (exit ${run.exitCode}); last lines of ${run.logFile}:\n${last}`);
      }
    }

    const problems: string[] = [];
    for (const instance of system.instances) {
      if (instance.process.isRunning()) continue;
      const { exitCode, signal } = await instance.process.exited;
      problems.push(`${instance.process.name} stopped during the contract (${signal ?? `exit code ${String(exitCode)}`}); see ${instance.process.logFile}`);
    }
    const cache = system.redisUrl ? await scrapeCache(system) : null;
    const { routes, unrouted } = routeResults({ matcher, decomposed, monolith: monolithRequests, logs: serviceLogs(system), cache, differences });

    let fault: VerifyReport['fault'] = null;
    if (options.kill !== undefined) {
      const service = options.kill;
      const target = system.instances.find((i) => i.service === service && i.replica === 1)!;
      options.progress(`fault: killing ${target.process.name} while requests flow…`);
      const servedBefore = readRequestLog(target.process.logFile, service, 1).length;
      fault = await time('faultMs', () =>
        runFault({
          plan,
          gatewayUrl: system.gatewayUrl,
          probes: buildProbes(matcher, decomposed),
          service,
          replica: 1,
          replicas: replicas[service]!,
          kill: () => target.process.stop('SIGKILL', 1000),
          served: () => readRequestLog(target.process.logFile, service, 1).length - servedBefore,
        }),
      );
    }

    const summary = {
      passed: routes.filter((r) => r.verdict === 'passed').length,
      failed: routes.filter((r) => r.verdict === 'failed').length,
      notExercised: routes.filter((r) => r.verdict === 'not-exercised').length,
      routes: routes.length,
    };
    const report: VerifyReport = {
      version: 1,
      passed: contract.passed && summary.failed === 0 && problems.length === 0 && (fault === null || fault.passed),
      mode: recording ? 'replay' : 'test-command',
      gateway: system.gateway,
      redis: system.redisUrl,
      contract,
      summary,
      routes,
      unrouted,
      cache: cacheTotals(routes, cache),
      fault,
      problems,
      timings,
      logs: runDir,
    };
    fs.writeFileSync(path.join(runDir, 'report.json'), stableJson(report));
    return report;
  } finally {
    for (const observer of observers) await observer.close();
    await supervisor.stopAll();
    release();
  }
}

