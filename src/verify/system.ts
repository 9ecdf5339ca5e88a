import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Plan } from '../model/plan.js';
import { serviceUrlEnv } from '../scaffold/gateway.js';
import { compareStrings } from '../util/compare.js';
import { UserError } from '../util/errors.js';
import { type Supervised, type Supervisor, freePorts, isListening, isProcessOf, redisProcessId, status200, tail, waitForHttp } from './processes.js';
import { makeFolders } from '../sink/disk-sink.js';

/**
 * Boots the scaffolded workspace locally: install and build when needed, a real redis-server, every service (and
 * replica) on its own loopback port with the environment the plan gives it, and the generated gateway (nginx with
 * gateway/nginx.local.conf, or the Node gateway with gateway/node/routes.json) pointed at those ports.
 */

export type GatewayKind = 'nginx' | 'node';

export interface Instance {
  service: string;
  /** 1-based replica number. */
  replica: number;
  port: number;
  url: string;
  process: Supervised;
}

export interface RunningSystem {
  gatewayUrl: string;
  gateway: GatewayKind;
  redisUrl: string | null;
  instances: Instance[];
  /** nginx's access log (method, path, status, service, time), or null for the Node gateway. */
  accessLog: string | null;
}

export interface BootOptions {
  plan: Plan;
  /** The scaffold folder (decomposed/). */
  outDir: string;
  /** Where logs and the run's gateway files go. */
  runDir: string;
  supervisor: Supervisor;
  gateway: GatewayKind | 'auto';
  /** false: run without Redis even when redis-server is installed. */
  redis: boolean;
  replicas: Record<string, number>;
  env: NodeJS.ProcessEnv;
  progress: (text: string) => void;
  warn: (text: string) => void;
  readyTimeoutMs?: number;
}

/** A program on PATH (no shell involved), or null. */
export function findOnPath(program: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, program);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Checks the folder is a scaffold of this plan: a workspace with one package per service and the gateway files. */
export function checkScaffold(plan: Plan, outDir: string): void {
  const hint = 'Run `decompose scaffold` first (or pass --out to the folder it wrote).';
  if (!fs.existsSync(path.join(outDir, 'package.json'))) {
    throw new UserError('DEC-100', `${outDir}: no scaffolded workspace here (no package.json)`, { hint, position: { file: outDir } });
  }
  const missing = plan.services.map((s) => s.name).filter((name) => !fs.existsSync(path.join(outDir, 'services', name, 'package.json')));
  const gatewayFiles = ['gateway/nginx.local.conf', 'gateway/node/gateway.mjs', 'gateway/node/routes.json'].filter((f) => !fs.existsSync(path.join(outDir, f)));
  const problems = [...missing.map((name) => `services/${name}/package.json is missing`), ...gatewayFiles.map((f) => `${f} is missing`)];
  if (problems.length > 0) {
    throw new UserError('DEC-100', `${outDir}: the scaffold does not match the plan`, { details: problems, hint: 'Run `decompose scaffold` again after changing the plan.', position: { file: outDir } });
  }
}

function newestMtime(dir: string, skip: Set<string>): number {
  let newest = 0;
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      if (skip.has(entry.name)) continue;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return newest;
}

/** Whether `npm install` is needed: no node_modules, or a package.json newer than the last install. */
export function needsInstall(outDir: string, plan: Plan): boolean {
  const marker = path.join(outDir, 'node_modules', '.package-lock.json');
  if (!fs.existsSync(marker)) return true;
  const installed = fs.statSync(marker).mtimeMs;
  const manifests = ['package.json', ...plan.services.map((s) => `services/${s.name}/package.json`)];
  return manifests.some((m) => fs.existsSync(path.join(outDir, m)) && fs.statSync(path.join(outDir, m)).mtimeMs > installed);
}

/** Whether `npm run build` is needed: a service without its build output, or a source newer than the oldest one. */
export function needsBuild(outDir: string, plan: Plan): boolean {
  let oldestBuild = Infinity;
  for (const service of plan.services) {
    const main = path.join(outDir, 'services', service.name, 'dist', 'main.js');
    if (!fs.existsSync(main)) return true;
    oldestBuild = Math.min(oldestBuild, fs.statSync(main).mtimeMs);
  }
  const skip = new Set(['node_modules', 'dist', '.decompose-verify']);
  const newestSource = Math.max(newestMtime(path.join(outDir, 'services'), skip), newestMtime(path.join(outDir, 'packages'), skip));
  return newestSource > oldestBuild;
}

/** Installs and builds the workspace when needed (npm through argument arrays; output to the run's logs). */
export async function prepareWorkspace(options: BootOptions): Promise<{ installed: boolean; built: boolean; ms: number }> {
  const { outDir, runDir, supervisor, plan } = options;
  const started = Date.now();
  const npm = findOnPath('npm', options.env);
  if (npm === null) throw new UserError('DEC-106', 'npm is not on PATH: verify installs and builds the workspace with it', { hint: 'Install Node.js with npm.' });
  const run = async (name: string, args: string[], what: string) => {
    const logFile = path.join(runDir, `${name}.log`);
    const child = supervisor.start({ name, command: npm, args, cwd: outDir, env: { ...options.env, npm_config_audit: 'false', npm_config_fund: 'false' }, logFile });
    const { exitCode } = await child.exited;
    if (exitCode !== 0) {
      throw new UserError('DEC-107', `${what} failed in ${outDir} (exit ${String(exitCode)}); log: ${logFile}`, { details: tail(logFile, 15).split('\n'), hint: 'Fix the error in the log, then run verify again.' });
    }
  };
  let installed = false;
  let built = false;
  if (needsInstall(outDir, plan)) {
    options.progress(`installing the workspace (npm install in ${outDir})…`);
    await run('npm-install', ['install', '--no-audit', '--no-fund', '--prefer-offline'], '`npm install`');
    installed = true;
  }
  if (installed || needsBuild(outDir, plan)) {
    options.progress('building the services (npm run build)…');
    await run('npm-build', ['run', 'build'], '`npm run build`');
    built = true;
  }
  return { installed, built, ms: Date.now() - started };
}

/** How a service starts: its `start` script when it is `node FILE` (run directly), else `npm start`. */
function startCommand(serviceDir: string, npm: string | null): { command: string; args: string[] } {
  const manifest = JSON.parse(fs.readFileSync(path.join(serviceDir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const start = manifest.scripts?.start ?? 'node dist/main.js';
  const direct = /^node\s+([\w./-]+)$/.exec(start.trim());
  if (direct) return { command: process.execPath, args: [direct[1]!] };
  if (npm === null) throw new UserError('DEC-106', 'npm is not on PATH: the services start with `npm start`', { hint: 'Install Node.js with npm.' });
  return { command: npm, args: ['start', '--silent'] };
}

/**
 * Why a `/readyz` answer does not show `service` ready on `port`, or null. The port was free when verify chose it, but
 * another program may bind it before the service does; its answer must not pass for the service's.
 */
export function readyAs(service: string, port: number, status: number, body: string): string | null {
  let answeredBy: unknown;
  try {
    answeredBy = (JSON.parse(body) as { service?: unknown }).service;
  } catch {
    answeredBy = undefined;
  }
  if (answeredBy !== service) return `port ${port} answers as ${typeof answeredBy === 'string' ? `service ${answeredBy}` : 'something else'}: another program took it`;
  return status === 200 ? null : `answered ${status}`;
}

/** The scaffold's nginx.local.conf with this run's ports: the listen address and one server line per replica. */
export function localNginxConfig(generated: string, gatewayPort: number, ports: Record<string, number[]>): string {
  const problems: string[] = [];
  let config = generated.replace(/^(\s*listen\s+)"?127\.0\.0\.1:\d+"?;/m, `$1"127.0.0.1:${gatewayPort}";`);
  if (config === generated && !generated.includes(`127.0.0.1:${gatewayPort}`)) problems.push('no `listen "127.0.0.1:PORT";` line');
  for (const [service, list] of Object.entries(ports)) {
    const block = new RegExp(`(upstream\\s+"?${service.replace(/[-]/g, '\\-')}"?\\s*\\{)([^}]*)\\}`);
    const match = block.exec(config);
    if (!match) {
      problems.push(`no upstream block for ${service}`);
      continue;
    }
    const servers = list.map((port) => `        server "127.0.0.1:${port}" max_fails=1 fail_timeout=30s;`).join('\n');
    const body = match[2]!.replace(/^\s*server\s+[^;]+;\s*$/gm, '').replace(/^\s*\n/gm, '');
    config = config.replace(match[0], `${match[1]}\n${servers}\n${body}    }`);
  }
  if (problems.length > 0) {
    throw new UserError('DEC-108', 'gateway/nginx.local.conf is not a configuration decompose can point at local ports', { details: problems, hint: 'Run `decompose scaffold` again, or use --gateway node.' });
  }
  return config;
}

/** How many ports Redis is tried on when another program takes the one chosen for it before it binds it. */
const REDIS_PORT_ATTEMPTS = 3;

/**
 * Starts redis-server on `port` and returns its URL once it answers as itself: the port was free when verify chose
 * it, but another program may bind it first, and a Redis that is not this run's (another verify, a developer's)
 * must not pass for it. When the port turns out taken, Redis is started again on another free one (not in `taken`).
 */
export async function startRedis(
  redisServer: string,
  port: number,
  taken: ReadonlySet<number>,
  options: Pick<BootOptions, 'supervisor' | 'runDir' | 'env'>,
): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    const redis = options.supervisor.start({
      name: 'redis',
      command: redisServer,
      args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', options.runDir],
      cwd: options.runDir,
      env: options.env,
      logFile: path.join(options.runDir, attempt === 1 ? 'redis.log' : `redis-${attempt}.log`),
    });
    const deadline = Date.now() + 10_000;
    let someoneElse = false;
    for (;;) {
      const pid = await redisProcessId(port, 500);
      if (pid !== null && isProcessOf(pid, redis)) return `redis://127.0.0.1:${port}`;
      someoneElse ||= pid !== null || (await isListening(port));
      if (!redis.isRunning() || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await redis.stop();
    const portTaken = someoneElse || /address already in use/i.test(tail(redis.logFile, 20));
    if (!portTaken || attempt >= REDIS_PORT_ATTEMPTS) {
      throw new UserError('DEC-111', portTaken ? `redis-server could not have port ${port}: another program took it, ${attempt} times` : `redis-server did not start on port ${port}`, {
        details: tail(redis.logFile, 10).split('\n'),
        hint: 'See the log, or run with --no-redis.',
      });
    }
    do port = (await freePorts(1))[0]!;
    while (taken.has(port));
  }
}

/** Starts Redis, the services and the gateway; everything started is stopped by the supervisor. */
export async function bootSystem(options: BootOptions): Promise<RunningSystem> {
  const { plan, outDir, runDir, supervisor } = options;
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  const services = plan.services.map((s) => s.name).sort(compareStrings);
  const replicas = (name: string) => Math.max(1, options.replicas[name] ?? 1);
  const nginx = findOnPath('nginx', options.env);
  const gateway: GatewayKind = options.gateway === 'auto' ? (nginx ? 'nginx' : 'node') : options.gateway;
  if (gateway === 'nginx' && nginx === null) throw new UserError('DEC-109', '--gateway nginx: nginx is not on PATH', { hint: 'Install nginx, or use --gateway node.' });
  if (gateway === 'node' && services.some((s) => replicas(s) > 1)) {
    throw new UserError('DEC-110', 'several replicas of a service need the nginx gateway (the Node gateway has one address per service)', { hint: 'Install nginx, or run one replica per service.' });
  }
  if (options.gateway === 'auto' && nginx === null) options.warn('nginx is not on PATH: using the Node gateway (gateway/node) with the same routing table');

  // Redis
  let redisUrl: string | null = null;
  const redisServer = options.redis ? findOnPath('redis-server', options.env) : null;
  const [firstRedisPort, gatewayPort, ...servicePorts] = await freePorts(2 + services.reduce((n, s) => n + replicas(s), 0));
  if (redisServer) {
    redisUrl = await startRedis(redisServer, firstRedisPort!, new Set([gatewayPort!, ...servicePorts]), options);
  } else if (options.redis) {
    options.warn('redis-server is not on PATH: caching is off for this run (install redis-server to verify the cache)');
  }

  // Ports and environment
  const ports: Record<string, number[]> = {};
  let next = 0;
  for (const service of services) ports[service] = Array.from({ length: replicas(service) }, () => servicePorts[next++]!);
  const token = randomBytes(24).toString('hex');
  const serviceUrls: Record<string, string> = {};
  // Seam calls go to one replica: the last one (--kill stops the first), so a killed replica never takes them down.
  for (const service of services) serviceUrls[serviceUrlEnv(service)] = `http://127.0.0.1:${ports[service]!.at(-1)!}`;
  const npm = findOnPath('npm', options.env);
  const instances: Instance[] = [];
  for (const service of services) {
    const dir = path.join(outDir, 'services', service);
    const { command, args } = startCommand(dir, npm);
    ports[service]!.forEach((port, i) => {
      const replica = i + 1;
      const env = {
        ...options.env,
        ...serviceUrls,
        PORT: String(port),
        HOST: '127.0.0.1',
        INTERNAL_TOKEN: token,
        REDIS_URL: redisUrl ?? undefined,
        // verify reads the request lines (info) to see which service answered which route.
        LOG_LEVEL: 'info',
        STARTUP_WAIT_MS: options.env.STARTUP_WAIT_MS ?? '30000',
      };
      const name = replicas(service) > 1 ? `${service}-${replica}` : service;
      const child = supervisor.start({ name, command, args, cwd: dir, env, logFile: path.join(runDir, `${name}.log`) });
      instances.push({ service, replica, port, url: `http://127.0.0.1:${port}`, process: child });
    });
  }
  options.progress(`starting ${instances.length} service process${instances.length === 1 ? '' : 'es'}${redisUrl ? ` with Redis at ${redisUrl}` : ' without Redis'}…`);
  const failures = (
    await Promise.all(
      instances.map(async (instance) => {
        const why = await waitForHttp(`${instance.url}/readyz`, { timeoutMs, process: instance.process, accept: (status, body) => readyAs(instance.service, instance.port, status, body) });
        return why === null ? null : { instance, why };
      }),
    )
  ).filter((f) => f !== null);
  if (failures.length > 0) {
    const first = failures[0]!;
    throw new UserError('DEC-112', `${failures.map((f) => f.instance.process.name).join(', ')}: not ready (${first.why}); logs in ${runDir}`, {
      details: tail(first.instance.process.logFile, 12).split('\n'),
      hint: `See ${path.relative(process.cwd(), first.instance.process.logFile) || first.instance.process.logFile}.`,
      exitCode: 1,
    });
  }

  // Gateway
  let accessLog: string | null = null;
  let gatewayProcess: Supervised;
  const gatewayDir = path.join(runDir, 'gateway');
  makeFolders(gatewayDir);
  if (gateway === 'nginx') {
    const generated = fs.readFileSync(path.join(outDir, 'gateway', 'nginx.local.conf'), 'utf8');
    fs.writeFileSync(path.join(gatewayDir, 'nginx.conf'), localNginxConfig(generated, gatewayPort!, ports));
    gatewayProcess = supervisor.start({
      name: 'gateway',
      command: nginx!,
      args: ['-p', gatewayDir, '-e', path.join(gatewayDir, 'error.log'), '-c', path.join(gatewayDir, 'nginx.conf'), '-g', 'daemon off;'],
      cwd: gatewayDir,
      env: options.env,
      logFile: path.join(runDir, 'gateway.log'),
    });
    accessLog = path.join(gatewayDir, 'gateway-access.log');
  } else {
    const env: NodeJS.ProcessEnv = { ...options.env, PORT: String(gatewayPort), HOST: '127.0.0.1' };
    for (const service of services) env[serviceUrlEnv(service)] = `http://127.0.0.1:${ports[service]![0]!}`;
    gatewayProcess = supervisor.start({ name: 'gateway', command: process.execPath, args: [path.join(outDir, 'gateway', 'node', 'gateway.mjs')], cwd: gatewayDir, env, logFile: path.join(runDir, 'gateway.log') });
  }
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const why = await waitForHttp(`${gatewayUrl}/gateway/healthz`, { timeoutMs: 15_000, process: gatewayProcess, accept: status200 });
  if (why !== null) {
    const log = [tail(gatewayProcess.logFile, 8), tail(path.join(gatewayDir, 'error.log'), 8)].filter(Boolean).join('\n');
    throw new UserError('DEC-113', `the ${gateway} gateway is not ready (${why}); logs in ${runDir}`, { details: log.split('\n'), hint: 'See the gateway log.', exitCode: 1 });
  }
  return { gatewayUrl, gateway, redisUrl, instances, accessLog };
}

export interface Monolith {
  url: string;
  process: Supervised;
}

/** The monolith itself, started with `npm start` and PORT in its folder (its own environment otherwise). */
export async function startMonolith(dir: string, runDir: string, supervisor: Supervisor, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Monolith> {
  const manifestFile = path.join(dir, 'package.json');
  let scripts: Record<string, string> = {};
  try {
    scripts = (JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  } catch {
    // checked below
  }
  if (!scripts.start) {
    throw new UserError('DEC-114', `${manifestFile}: no "start" script, so verify cannot run the monolith to compare with`, {
      hint: 'Add a start script that listens on $PORT, or pass --no-monolith.',
      position: { file: manifestFile },
    });
  }
  const npm = findOnPath('npm', env);
  if (npm === null) throw new UserError('DEC-106', 'npm is not on PATH: the monolith starts with `npm start`', { hint: 'Install Node.js with npm.' });
  const [port] = await freePorts(1);
  const child = supervisor.start({ name: 'monolith', command: npm, args: ['start', '--silent'], cwd: dir, env: { ...env, PORT: String(port), HOST: '127.0.0.1' }, logFile: path.join(runDir, 'monolith.log') });
  const url = `http://127.0.0.1:${port}`;
  const why = await waitForHttp(`${url}/`, { timeoutMs, process: child });
  if (why !== null) {
    throw new UserError('DEC-115', `the monolith (npm start in ${dir}) is not answering on PORT=${port}: ${why}`, { details: tail(child.logFile, 12).split('\n'), hint: 'It must listen on the port given in $PORT; see its log, or pass --no-monolith.', exitCode: 1 });
  }
  return { url, process: child };
}
