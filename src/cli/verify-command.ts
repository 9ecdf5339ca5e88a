import path from 'node:path';
import { Option } from 'commander';
import { ExitCode, UserError } from '../util/errors.js';
import type { CommandRegistry } from './main.js';

interface VerifyFlags {
  plan?: string;
  out?: string;
  testCommand?: string;
  replay?: string;
  record?: string;
  kill?: string;
  replicas?: string;
  gateway: 'auto' | 'nginx' | 'node';
  redis: boolean;
  monolith: boolean;
  ignoreField: string[];
  compareHeader: string[];
  readyTimeout?: string;
}

const collect = (value: string, previous: string[]) => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

/** `2` (every service) or `catalog=2,orders=3`. */
export function parseReplicas(text: string | undefined): Record<string, number> {
  if (text === undefined) return {};
  const out: Record<string, number> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^(?:([a-z0-9-]+)=)?(\d+)$/.exec(part);
    const count = match ? Number(match[2]) : NaN;
    if (!match || !Number.isInteger(count) || count < 1 || count > 8) {
      throw new UserError('DEC-118', `--replicas ${text}: "${part}" is not N or SERVICE=N (1 to 8)`, { hint: 'e.g. --replicas 2, or --replicas catalog=2,orders=2' });
    }
    out[match[1] ?? '*'] = count;
  }
  return out;
}

export function registerVerify({ program, action }: CommandRegistry): void {
  const command = program
    .command('verify [dir]')
    .description("boot the decomposed system locally and prove it answers like the monolith: its API tests through the gateway, or recorded requests replayed against both")
    .option('--plan <file>', 'the plan (default: <dir>/decompose.plan.yaml)')
    .option('--out <dir>', 'the scaffolded workspace (default: <dir>/decomposed)')
    .option('--test-command <command>', "the monolith's black-box API suite, run through a shell in <dir> with BASE_URL set to the system under test (default: the plan's verify.testCommand, else npm run test:api when that script exists)")
    .option('--replay <file>', 'replay these requests (a HAR file or a --record file) against the monolith and the decomposed system, in order, and compare the answers')
    .option('--record <file>', 'run the monolith alone and record what the test command sends to it into this file (for --replay)')
    .option('--kill <service>', 'fault injection: after the contract, kill one instance of this service while requests flow and show which routes fail')
    .option('--replicas <n>', 'replicas per service: N for all, or SERVICE=N,… (several replicas need nginx)')
    .addOption(new Option('--gateway <kind>', 'the gateway to run').choices(['auto', 'nginx', 'node']).default('auto'))
    .option('--no-redis', 'run without Redis (caching off) even when redis-server is installed')
    .option('--no-monolith', 'with --test-command: do not run the monolith for comparison (no latency or status baseline)')
    .option('--ignore-field <names>', 'with --replay: JSON fields never compared (repeatable, comma-separated)', collect, [])
    .option('--compare-header <names>', 'with --replay: response headers compared (default content-type,location)', collect, [])
    .option('--ready-timeout <seconds>', 'how long to wait for each process to be ready', '60')
    .addHelpText(
      'after',
      `
Run it in the monolith's folder after \`decompose scaffold\`. It installs and builds decomposed/ when needed, starts
redis-server (when installed; else caching is off for the run), every service on a free loopback port, the gateway
(nginx with gateway/nginx.local.conf when nginx is installed, else gateway/node), and the monolith (npm start, PORT),
runs the contract through the gateway, reports per route, and stops everything it started (also on Ctrl-C).
Logs stay in <out>/.decompose-verify/<run>/. The --test-command string is your own command and runs through a
shell; nothing else verify starts does.

Examples:
  $ decompose verify                                     npm run test:api through the gateway
  $ decompose verify --test-command "npx vitest run test/api"
  $ decompose verify --record requests.json              record what the suite sends to the monolith
  $ decompose verify --replay requests.json              replay it against both and compare the answers
  $ decompose verify --replay session.har --ignore-field updatedAt
  $ decompose verify --kill catalog --replicas catalog=2 kill one of two replicas: no request may be lost

Exit codes: 0 everything passed, 1 verification failed (a route, the suite, a lost request), 2 bad input.`,
    );
  action(command, async (args, output, globals) => {
    const [dirArg] = args as [string | undefined];
    const flags = command.opts<VerifyFlags>();
    const cwd = path.resolve(globals.cwd ?? process.cwd());
    const dir = path.resolve(cwd, dirArg ?? '.');
    if (flags.record && flags.replay) throw new UserError('DEC-119', '--record and --replay cannot be used together', { hint: 'Record first (--record FILE), then verify with --replay FILE.' });
    if (flags.replay && flags.testCommand) throw new UserError('DEC-119', '--replay and --test-command cannot be used together', { hint: 'The contract is either the replayed requests or the test command.' });
    if (flags.record && (flags.kill || flags.replicas)) throw new UserError('DEC-119', '--record runs the monolith alone: --kill and --replicas do not apply', { hint: 'Record first, then verify with --replay FILE --kill SERVICE.' });
    const readyTimeout = Number(flags.readyTimeout);
    if (!Number.isFinite(readyTimeout) || readyTimeout <= 0) throw new UserError('DEC-119', `--ready-timeout ${flags.readyTimeout}: not a number of seconds`, { hint: 'e.g. --ready-timeout 120' });
    const { DEFAULT_COMPARED_HEADERS } = await import('../verify/compare.js');
    const options = {
      dir,
      planFile: flags.plan ? path.resolve(cwd, flags.plan) : undefined,
      out: flags.out ? path.resolve(cwd, flags.out) : undefined,
      testCommand: flags.testCommand,
      replay: flags.replay ? path.resolve(cwd, flags.replay) : undefined,
      record: flags.record ? path.resolve(cwd, flags.record) : undefined,
      kill: flags.kill,
      replicas: parseReplicas(flags.replicas),
      gateway: flags.gateway,
      redis: flags.redis,
      monolith: flags.monolith,
      compare: {
        ignoreFields: flags.ignoreField,
        headers: flags.compareHeader.length > 0 ? flags.compareHeader.map((h) => h.toLowerCase()) : DEFAULT_COMPARED_HEADERS,
      },
      env: process.env,
      progress: (text: string) => output.progress(text),
      notice: (text: string) => output.info(text),
      warn: (text: string) => output.warn(text),
      readyTimeoutMs: readyTimeout * 1000,
    };
    const { runRecord, runVerify } = await import('../app/run-verify.js');
    if (flags.record) {
      const result = await runRecord(options);
      if (output.json) output.data(JSON.stringify(result, null, 2));
      else output.info(`recorded ${result.requests} requests of \`${result.command}\` into ${path.relative(cwd, result.file) || result.file}; logs in ${path.relative(cwd, result.logs)}`);
      return ExitCode.ok;
    }
    const report = await runVerify(options);
    if (output.json) {
      const { stableJson } = await import('../util/compare.js');
      output.data(stableJson(report));
    } else {
      const { renderReport } = await import('../verify/report.js');
      for (const line of renderReport({ ...report, logs: path.relative(cwd, report.logs) || report.logs })) output.info(line);
    }
    return report.passed ? ExitCode.ok : ExitCode.findings;
  });
}
