import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../analyze/analyze.js';
import { proposeSplit } from '../cluster/propose.js';
import type { FileChange } from '../model/file-change.js';
import { DEFAULT_SETTINGS, type Plan } from '../model/plan.js';
import { testPlan } from '../test-support/plans.js';
import { buildPlan } from '../plan/build-plan.js';
import { freePort } from '../test-support/processes.js';
import { fixturePath } from '../test-support/temp-project.js';
import { UserError } from '../util/errors.js';
import { isGenerated } from './render-templates.js';
import {
  buildRoutingTable,
  defaultEntryService,
  expressPathToPattern,
  gatewayRules,
  matchRequest,
  renderGateway,
  renderRoutingTable,
  serviceUrlEnv,
  type RoutingTable,
} from './gateway.js';

// ---------------------------------------------------------------------------------------------------------------
// Plans

function syntheticPlan(services: Record<string, string[]>, entryRoutes: string[] = []): Plan {
  return testPlan({ services: Object.entries(services).map(([name, routes]) => ({ name, routes })), entryRoutes });
}

async function shopPlan(): Promise<Plan> {
  const analysis = await analyze({ dir: fixturePath('shop-ts') });
  return buildPlan(analysis, { settings: DEFAULT_SETTINGS, ...proposeSplit(analysis, DEFAULT_SETTINGS) }, {}).plan;
}

/** Paths that exercise every part of Express 4's path syntax, split over three services and the entry routes. */
const TRICKY = syntheticPlan(
  {
    alpha: ['GET /files/:name.:ext', 'GET /users/:id(\\d+)', 'GET /users/me', 'GET /docs/:section?', 'GET /legacy/keep', 'GET /Mixed/Case/', 'DELETE /users/:id(\\d+)/sessions/:sid', 'GET /range/:from-:to', 'GET /things'],
    beta: ['POST /users/:id', 'POST /things', 'ALL /legacy/*', 'GET /assets/*'],
    gamma: ['HEAD /things', 'PUT /users/:userId', 'GET /users/:name'],
  },
  ['GET /health', 'ALL /v1/*'],
);

const TRICKY_REQUESTS: Array<[string, string]> = [
  ['GET', '/files/report.pdf'], ['GET', '/files/report'], ['GET', '/files/a.b.c'],
  ['GET', '/users/42'], ['GET', '/users/me'], ['GET', '/USERS/ME/'], ['GET', '/users/bob'], ['HEAD', '/users/42'],
  ['POST', '/users/42'], ['POST', '/users/a%2Fb'], ['PUT', '/users/7'], ['PATCH', '/users/7'],
  ['DELETE', '/users/7/sessions/s1'], ['DELETE', '/users/x/sessions/s1'],
  ['GET', '/docs'], ['GET', '/docs/'], ['GET', '/docs/intro'], ['GET', '/docs/intro/more'],
  ['GET', '/legacy/keep'], ['POST', '/legacy/keep'], ['GET', '/legacy'], ['GET', '/legacy/'], ['PATCH', '/legacy/a/b?x=1'],
  ['GET', '/mixed/case'], ['GET', '/Mixed/Case/'], ['GET', '/range/1-5'], ['GET', '/range/15'],
  ['GET', '/things'], ['POST', '/things'], ['HEAD', '/things'], ['PUT', '/things'],
  ['GET', '/assets/css/site.css'], ['GET', '/assets'], ['GET', '/health'], ['HEAD', '/health'], ['GET', '/health/'],
  ['GET', '/v1/anything'], ['DELETE', '/v1/a/b'], ['GET', '/v1'], ['GET', '/nothing'],
];

// ---------------------------------------------------------------------------------------------------------------
// Processes and requests (everything started here is stopped in finally blocks)

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `decompose-gateway-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends the request target exactly as given (no URL normalisation), on a fresh connection. */
function send(port: number, method: string, target: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers, agent: false, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${target} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

interface Stub {
  service: string;
  port: number;
  hits: number;
  close: () => Promise<void>;
}

/** A service stand-in: answers every request with who it is and what it received. */
async function startStub(service: string): Promise<Stub> {
  const stub: Stub = { service, port: 0, hits: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    stub.hits += 1;
    let size = 0;
    req.on('data', (c: Buffer) => (size += c.length));
    req.on('end', () => {
      const body = JSON.stringify({ service, method: req.method, path: req.url });
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-served-by': service,
        'x-seen-method': req.method ?? '',
        'x-seen-url': req.url ?? '',
        'x-seen-request-id': String(req.headers['x-request-id'] ?? ''),
        'x-seen-body-length': String(size),
        'x-seen-forwarded': `${String(req.headers['x-forwarded-proto'])} ${String(req.headers['x-forwarded-host'])} ${String(req.headers['x-forwarded-for'])}`,
        // The gateway answers with its own id, never a second one.
        'x-request-id': 'from-the-service',
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.port = (server.address() as AddressInfo).port;
  stub.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  server.keepAliveTimeout = 500;
  return stub;
}

async function startStubs(plan: Plan): Promise<Stub[]> {
  return Promise.all(plan.services.map((s) => startStub(s.name)));
}

async function closeAll(stubs: Stub[]): Promise<void> {
  await Promise.all(stubs.map((s) => s.close()));
}

interface Running {
  port: number;
  stop: () => Promise<void>;
  output: () => string;
}

async function waitUntilHealthy(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${output()}`);
    try {
      if ((await send(port, 'GET', '/gateway/healthz')).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not healthy after 10 s: ${output()}`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function spawnWatched(command: string, args: string[], env?: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return { child, output: () => stderr };
}

/** nginx in the foreground with its own prefix folder (pid and temp files inside it), stopped by PID. */
async function startNginx(config: string): Promise<Running> {
  const dir = tempDir('nginx');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), config);
  const port = Number(/listen "127\.0\.0\.1:(\d+)"/.exec(config)![1]);
  const { child, output } = spawnWatched('nginx', ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;']);
  const log = () => `${output()}${fs.existsSync(path.join(dir, 'error.log')) ? fs.readFileSync(path.join(dir, 'error.log'), 'utf8') : ''}`;
  try {
    await waitUntilHealthy(port, child, log);
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return { port, stop: () => stopProcess(child), output: log };
}

/** The Node gateway from its two generated files, with one <SERVICE>_URL per stub. */
async function startNodeGateway(files: FileChange[], stubs: Stub[]): Promise<Running> {
  const dir = tempDir('node');
  for (const name of ['gateway.mjs', 'routes.json']) fs.writeFileSync(path.join(dir, name), fileAt(files, `gateway/node/${name}`));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1' };
  for (const stub of stubs) env[serviceUrlEnv(stub.service)] = `http://127.0.0.1:${stub.port}`;
  const { child, output } = spawnWatched(process.execPath, [path.join(dir, 'gateway.mjs')], env);
  try {
    await waitUntilHealthy(port, child, output);
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return { port, stop: () => stopProcess(child), output };
}

function fileAt(files: FileChange[], at: string): string {
  const file = files.find((f) => f.path === at);
  if (!file) throw new Error(`no ${at} among ${files.map((f) => f.path).join(', ')}`);
  return file.content;
}

function portsOf(stubs: Stub[]): Record<string, number> {
  return Object.fromEntries(stubs.map((s) => [s.service, s.port]));
}

// ---------------------------------------------------------------------------------------------------------------
// Probes: one request per route (and method) of the plan, built from the plan itself, not from the table

interface Probe {
  route: string;
  method: string;
  target: string;
  expect: string | null;
}

/** A concrete path for an Express path: params get a sample value that satisfies their regex, `*` a subpath. */
function samplePath(expressPath: string): string {
  return expressPath
    .replace(/:(\w+)(\((?:\\.|[^)])*\))?[?*]?/g, (_m, name: string, regex: string | undefined) => {
      const candidates = ['42', `${name}-1`, 'x'];
      return regex === undefined ? '42' : (candidates.find((c) => new RegExp(`^${regex}$`, 'i').test(c)) ?? '42');
    })
    .replace(/\*/g, 'any/thing');
}

function planProbes(plan: Plan): Probe[] {
  const entryService = defaultEntryService(plan);
  const owned = [...plan.services.flatMap((s) => s.routes.map((route) => ({ route, service: s.name }))), ...plan.entryRoutes.map((route) => ({ route, service: entryService! }))];
  const probes: Probe[] = [];
  for (const { route, service } of owned) {
    const [method, expressPath] = route.split(' ') as [string, string];
    const target = `${samplePath(expressPath)}?probe=1`;
    const methods = method === 'ALL' ? ['GET', 'POST', 'DELETE'] : method === 'GET' ? ['GET', 'HEAD'] : [method];
    for (const m of methods) probes.push({ route, method: m, target, expect: service });
  }
  return probes;
}

/** Sends every probe; returns one line per probe that did not reach its service with its method and target. */
async function runProbes(port: number, probes: Probe[]): Promise<string[]> {
  const failures: string[] = [];
  for (const probe of probes) {
    const answer = await send(port, probe.method, probe.target);
    const served = answer.headers['x-served-by'] ?? null;
    if (probe.expect === null) {
      if (answer.status !== 404 || served !== null) failures.push(`${probe.method} ${probe.target}: expected 404, got ${answer.status} from ${String(served)}`);
      continue;
    }
    const seen = `${String(answer.headers['x-seen-method'])} ${String(answer.headers['x-seen-url'])}`;
    if (answer.status !== 200 || served !== probe.expect || seen !== `${probe.method} ${probe.target}`) {
      failures.push(`${probe.route} (${probe.method} ${probe.target}): expected ${probe.expect}, got ${answer.status} from ${String(served)} as "${seen}"`);
    }
  }
  return failures;
}

/**
 * The contract checks besides the routes: seams hidden (404 from the gateway itself), everything else without a
 * route sent to the entry service (which answers as the monolith did), request ids, bodies, OPTIONS.
 */
async function checkContract(port: number, stubs: Stub[], entryService: string): Promise<void> {
  const hitsBefore = stubs.reduce((n, s) => n + s.hits, 0);
  for (const target of ['/_internal/x', '/_internal', '/_INTERNAL/reserve-stock', '/api/../_internal/x', '/%5Finternal/x', '//_internal/x']) {
    const answer = await send(port, 'POST', target);
    expect(answer.status, target).toBe(404);
  }
  expect(stubs.reduce((n, s) => n + s.hits, 0), 'no seam request reached a service').toBe(hitsBefore);
  expect((await send(port, 'GET', '/no/such/path')).headers['x-served-by']).toBe(entryService);
  expect((await send(port, 'PATCH', '/api/orders')).headers['x-served-by'], 'a method the monolith did not route').toBe(entryService);
  expect((await send(port, 'GET', '/gateway/healthz')).status).toBe(200);

  const kept = await send(port, 'GET', '/api/orders', { 'x-request-id': 'req-abc-123' });
  expect(kept.headers['x-seen-request-id']).toBe('req-abc-123');
  expect(kept.headers['x-request-id']).toBe('req-abc-123');
  const generated = await send(port, 'GET', '/api/orders');
  expect(generated.headers['x-seen-request-id']).toMatch(/^[0-9a-f]{32}$/);
  expect(generated.headers['x-request-id']).toBe(generated.headers['x-seen-request-id']);

  expect(generated.headers['x-seen-forwarded']).toBe('http 127.0.0.1 127.0.0.1');
  const behindIngress = await send(port, 'GET', '/api/orders', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example', 'x-forwarded-for': '203.0.113.7' });
  expect(behindIngress.headers['x-seen-forwarded']).toBe('https shop.example 203.0.113.7, 127.0.0.1');

  const posted = await send(port, 'POST', '/api/orders', { 'content-type': 'application/json' }, JSON.stringify({ items: [{ productId: 'p1', quantity: 2 }] }));
  expect(posted.headers['x-served-by']).toBe('orders');
  expect(Number(posted.headers['x-seen-body-length'])).toBeGreaterThan(20);
  expect(JSON.parse(posted.body)).toEqual({ service: 'orders', method: 'POST', path: '/api/orders' });

  // Express's non-strict trailing slash and case-insensitivity; the raw path (encoded slash) reaches the service.
  const loose = await send(port, 'GET', '/API/Orders/42/?x=%20y');
  expect([loose.headers['x-served-by'], loose.headers['x-seen-url']]).toEqual(['orders', '/API/Orders/42/?x=%20y']);
  const encoded = await send(port, 'GET', '/api/products/a%2Fb');
  expect([encoded.headers['x-served-by'], encoded.headers['x-seen-url']]).toEqual(['catalog', '/api/products/a%2Fb']);
  const preflight = await send(port, 'OPTIONS', '/api/orders/42/cancel');
  expect(preflight.headers['x-served-by']).toBe('orders');
}

function nginxTest(dir: string, config = 'nginx.conf'): { status: number | null; stderr: string } {
    // stdout is not a socket: nginx.conf logs to /dev/stdout, which cannot be opened on one.
  const result = spawnSync('nginx', ['-t', '-q', '-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, config)], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  return { status: result.status, stderr: `${result.stderr}${result.error ? String(result.error) : ''}` };
}

function checkDir(config: string): string {
  const dir = tempDir('check');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), config);
  return dir;
}

// ---------------------------------------------------------------------------------------------------------------
// The routing table

describe('buildRoutingTable', () => {
  it('translates Express 4 paths exactly as Express does (its own path-to-regexp, from the fixture)', () => {
    const require = createRequire(path.join(fixturePath('shop-ts'), 'package.json'));
    const pathToRegexp = require('path-to-regexp') as (p: string, keys: unknown[], options: object) => RegExp;
    const paths = [
      '/api/orders', '/api/orders/', '/api/orders/:id', '/users/:id(\\d+)', '/docs/:section?', '/files/:name.:ext',
      '/range/:from-:to', '/legacy/*', '*', '/a/*/b', '/ab?cd', '/ab+cd', '/x/:path*', '/(foo|bar)/baz', '/api/v1/*', '/:a/:b?/:c?',
    ];
    for (const p of paths) {
      const express = pathToRegexp(p, [], { sensitive: false, strict: false, end: true });
      expect(express.flags, p).toBe('i');
      expect(new RegExp(expressPathToPattern(p)).source, p).toBe(new RegExp(express.source.replace(/\$$/, '(?![\\s\\S])')).source);
    }
    expect(expressPathToPattern('/api/orders/:id')).toBe('^/api/orders(?:/([^/]+?))/?(?![\\s\\S])');
  });

  it('routes every route of every service, by method when a path is split between services', () => {
    const table = buildRoutingTable(TRICKY);
    expect(table.routes).toHaveLength(18);
    expect(matchRequest(table, 'GET', '/things')).toBe('alpha');
    expect(matchRequest(table, 'POST', '/things')).toBe('beta');
    expect(matchRequest(table, 'HEAD', '/things')).toBe('gamma');
    // No route for PUT: the entry service answers, with the monolith's own 404.
    expect(matchRequest(table, 'PUT', '/things')).toBe(table.entryService);
    expect(table.entryService).not.toBeNull();
    expect(matchRequest(table, 'POST', '/_internal/x')).toBeNull();
    expect(matchRequest(table, 'OPTIONS', '/things')).toBe('gamma');
  });

  it('lets the more specific route win: static before parametric, custom regex before plain, explicit method before ALL', () => {
    const table = buildRoutingTable(TRICKY);
    const order = table.routes.map((r) => r.route);
    expect(order.indexOf('GET /users/me')).toBeLessThan(order.indexOf('GET /users/:id(\\d+)'));
    expect(order.indexOf('GET /users/:id(\\d+)')).toBeLessThan(order.indexOf('GET /users/:name'));
    expect(order.indexOf('GET /legacy/keep')).toBeLessThan(order.indexOf('ALL /legacy/*'));
    expect(order.indexOf('HEAD /things')).toBeLessThan(order.indexOf('GET /things'));
    expect(matchRequest(table, 'GET', '/users/me')).toBe('alpha');
    expect(matchRequest(table, 'GET', '/users/42')).toBe('alpha');
    expect(matchRequest(table, 'GET', '/users/bob')).toBe('gamma');
    expect(matchRequest(table, 'GET', '/legacy/keep')).toBe('alpha');
    expect(matchRequest(table, 'POST', '/legacy/keep')).toBe('beta');
    // A static route beats an optional parameter that could swallow it.
    const optional = buildRoutingTable(syntheticPlan({ a: ['GET /docs/:page?'], b: ['GET /docs'] }));
    expect(optional.routes.map((r) => r.route)).toEqual(['GET /docs', 'GET /docs/:page?']);
  });

  it('sends entry routes to the service with the most routes (ties by name), or to the one asked for', () => {
    expect(buildRoutingTable(TRICKY).entryService).toBe('alpha');
    expect(defaultEntryService(syntheticPlan({ b: ['GET /b'], a: ['GET /a'] }))).toBe('a');
    const table = buildRoutingTable(TRICKY, { entryService: 'gamma' });
    expect(table.routes.filter((r) => r.source === 'entry').map((r) => `${r.route} ${r.service}`).sort()).toEqual(['ALL /v1/* gamma', 'GET /health gamma']);
    expect(() => buildRoutingTable(TRICKY, { entryService: 'nope' })).toThrow(expect.objectContaining({ code: 'DEC-071' }));
  });

  it('refuses routes it cannot route, all of them at once, and never routes the internal prefix', () => {
    let error: unknown;
    try {
      buildRoutingTable(syntheticPlan({ a: ['GET /ok', 'GET /_internal/stock', 'FETCH', 'GE-T /x'] }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('DEC-072');
    expect((error as UserError).details).toHaveLength(3);
    expect((error as UserError).details[0]).toContain('services[0].routes[1]');
  });

  it('keeps the first of two identical routes and says so', () => {
    const table = buildRoutingTable(syntheticPlan({ a: ['GET /x'], b: ['GET /X'] }));
    expect(table.routes.map((r) => r.service)).toEqual(['a']);
    expect(table.ignored).toEqual([{ route: 'GET /X', service: 'b', reason: 'a answers the same route first' }]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Rendering and the real nginx

describe('renderGateway', async () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await shopPlan();
  });

  it('renders the nginx configurations and the Node gateway, marked as ours, deterministically', () => {
    const files = renderGateway(plan);
    expect(files.map((f) => f.path)).toEqual(['gateway/.dockerignore', 'gateway/Dockerfile', 'gateway/nginx.conf', 'gateway/nginx.local.conf', 'gateway/node/gateway.mjs', 'gateway/node/routes.json']);
    for (const file of files) expect(isGenerated(file.content), file.path).toBe(true);
    expect(renderGateway(plan).map((f) => f.content)).toEqual(files.map((f) => f.content));
    const routes = JSON.parse(fileAt(files, 'gateway/node/routes.json')) as { rules: Array<{ pattern: string; service: string }>; services: Array<{ env: string }> };
    expect(routes.rules).toEqual(gatewayRules(buildRoutingTable(plan)).map((r) => ({ route: r.route, service: r.service, methods: r.methods, pattern: r.pattern, flags: 'i' })));
    expect(routes.services.map((s) => s.env)).toContain('ORDERS_URL');
    expect(fileAt(files, 'gateway/nginx.conf')).toContain('server "orders:8080";');
    expect(fileAt(files, 'gateway/nginx.local.conf')).toContain('server "127.0.0.1:');
    expect(fileAt(files, 'gateway/nginx.local.conf')).not.toMatch(/server "[a-z]+:8080"/);
  });

  it('needs a port for every service locally, and escapes path characters that would break the nginx file', () => {
    expect(() => renderGateway(plan, { localPorts: { orders: 4000 } })).toThrow(expect.objectContaining({ code: 'DEC-073' }));
    // A path character that could end or change an nginx directive is written as a PCRE hex escape (same match).
    const dollar = fileAt(renderGateway(syntheticPlan({ a: ['GET /price/$amount;x'] })), 'gateway/nginx.conf');
    expect(dollar).toContain('/price/\\\\x24amount\\\\x3bx');
    expect(dollar).not.toMatch(/price\/\$/);
  });

  it('the validator rejects broken files, then accepts the generated nginx.local.conf', () => {
    const local = fileAt(renderGateway(plan), 'gateway/nginx.local.conf');
    const missingSemicolon = nginxTest(checkDir(local.replace(/(server "127\.0\.0\.1:\d+");/, '$1')));
    expect(missingSemicolon.status).not.toBe(0);
    expect(missingSemicolon.stderr).toMatch(/emerg/);
    const badRegex = nginxTest(checkDir(local.replace(/default "[^"]*";/, '$&\n        "~*^GET /api/(unclosed" "orders";')));
    expect(badRegex.status).not.toBe(0);
    expect(badRegex.stderr).toMatch(/pcre|regex|compile/i);
    const good = nginxTest(checkDir(local));
    expect(good, good.stderr).toEqual({ status: 0, stderr: '' });
  });

  it('nginx.conf differs from the tested local file only in addresses and where nginx writes files', () => {
    const files = renderGateway(plan);
    const skeleton = (config: string) =>
      config
        .split('\n')
        .filter((line) => !/^\s*#/.test(line))
        .map((line) => line.replace(/^(\s*(?:server|listen|pid|access_log|\w+_temp_path)) "[^"]+"/, '$1 VALUE'))
        .join('\n');
    expect(skeleton(fileAt(files, 'gateway/nginx.conf'))).toBe(skeleton(fileAt(files, 'gateway/nginx.local.conf')));
  });

  // dockerfile-utils (see VALIDATORS.md) is a devDependency of the deploy generators; loaded by name so this file
  // still type-checks where it is not installed, and the test shows as skipped there.
  const dockerfileUtilsName = 'dockerfile-utils';
  const dockerfileUtils = (await import(dockerfileUtilsName).catch(() => null)) as { validate: (content: string) => Array<{ message: string }> } | null;
  it.skipIf(dockerfileUtils === null)('writes a Dockerfile that dockerfile-utils accepts (and a broken one it rejects)', () => {
    const dockerfile = fileAt(renderGateway(plan), 'gateway/Dockerfile');
    expect(dockerfileUtils!.validate(dockerfile)).toEqual([]);
    expect(dockerfileUtils!.validate(dockerfile.replace('COPY nginx.conf /etc/nginx/nginx.conf', 'COPY nginx.conf')).map((d) => d.message)).toEqual(['COPY requires at least two arguments']);
    expect(dockerfile).toContain('COPY nginx.conf /etc/nginx/nginx.conf');
  });

  // nginx resolves upstream names when it loads: offline, `orders:8080` fails. Instead of touching /etc/hosts, the
  // check runs in a private mount namespace where a temporary hosts file is bind-mounted over it.
  const canUnshare = spawnSync('unshare', ['--mount', 'true']).status === 0;
  it.skipIf(!canUnshare)('accepts nginx.conf once the service names resolve (private mount namespace), and rejects it broken', () => {
    const config = fileAt(renderGateway(plan), 'gateway/nginx.conf');
    const offline = nginxTest(checkDir(config));
    expect(offline.status).not.toBe(0);
    expect(offline.stderr).toContain('host not found in upstream');
    // The namespace also gets its own /tmp (the container configuration keeps pid and temp files there).
    const withHosts = (config: string) => {
      const scratch = tempDir('namespace');
      fs.writeFileSync(path.join(scratch, 'hosts'), `127.0.0.1 localhost\n127.0.1.1 ${plan.services.map((s) => s.name).join(' ')}\n`);
      fs.mkdirSync(path.join(scratch, 'conf'));
      fs.writeFileSync(path.join(scratch, 'conf', 'nginx.conf'), config);
      const script = 'mount --bind "$1/hosts" /etc/hosts && mount --bind "$1" /tmp && exec nginx -t -q -p /tmp/conf -e /tmp/conf/error.log -c /tmp/conf/nginx.conf';
      const result = spawnSync('unshare', ['--mount', '--', 'sh', '-c', script, 'sh', scratch], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
      return { ...result, scratch };
    };
    const good = withHosts(config);
    expect(good.status, good.stderr).toBe(0);
    // nginx got past parsing (names resolved) and created its temp folders in the namespace's /tmp.
    expect(fs.existsSync(path.join(good.scratch, 'gateway-client-body'))).toBe(true);
    const broken = withHosts(config.replace('proxy_pass http://$gw_service;', 'proxy_pass http://$gw_service'));
    expect(broken.status).not.toBe(0);
  });

  it('end to end through nginx: every route of the plan reaches its service; seams are 404, unknown paths go to the entry service', async () => {
    const stubs = await startStubs(plan);
    let nginx: Running | undefined;
    try {
      const files = renderGateway(plan, { localPorts: portsOf(stubs), localGatewayPort: await freePort() });
      nginx = await startNginx(fileAt(files, 'gateway/nginx.local.conf'));
      const probes = planProbes(plan);
      expect(probes.length).toBeGreaterThan(2 * plan.services.reduce((n, s) => n + s.routes.length, 0) - 30);
      expect(await runProbes(nginx.port, probes)).toEqual([]);
      await checkContract(nginx.port, stubs, defaultEntryService(plan)!);
    } finally {
      await nginx?.stop();
      await closeAll(stubs);
    }
  });

  it('end to end through the Node gateway: the same table, the same answers', async () => {
    const stubs = await startStubs(plan);
    let gateway: Running | undefined;
    try {
      gateway = await startNodeGateway(renderGateway(plan), stubs);
      expect(await runProbes(gateway.port, planProbes(plan))).toEqual([]);
      await checkContract(gateway.port, stubs, defaultEntryService(plan)!);
    } finally {
      await gateway?.stop();
      await closeAll(stubs);
    }
  });

  it('can fail: with one route left out of the table, the request for that route does not reach its service', async () => {
    const table = buildRoutingTable(plan);
    const left = 'GET /api/orders/:id';
    const broken: RoutingTable = { ...table, routes: table.routes.filter((r) => r.route !== left) };
    expect(broken.routes).toHaveLength(table.routes.length - 1);
    const stubs = await startStubs(plan);
    let nginx: Running | undefined;
    try {
      const files = renderRoutingTable(plan, broken, { localPorts: portsOf(stubs), localGatewayPort: await freePort() });
      nginx = await startNginx(fileAt(files, 'gateway/nginx.local.conf'));
      const failures = await runProbes(nginx.port, planProbes(plan));
      const entry = defaultEntryService(plan);
      expect(entry).not.toBe('orders');
      expect(failures).toEqual([
        `${left} (GET /api/orders/42?probe=1): expected orders, got 200 from ${entry} as "GET /api/orders/42?probe=1"`,
        `${left} (HEAD /api/orders/42?probe=1): expected orders, got 200 from ${entry} as "HEAD /api/orders/42?probe=1"`,
      ]);
    } finally {
      await nginx?.stop();
      await closeAll(stubs);
    }
  });
});

describe('the internal prefix', () => {
  it('stays closed in both gateways even behind a catch-all route of the monolith', async () => {
    const plan = syntheticPlan({ api: ['GET /api/x', 'POST /api/x'], web: ['ALL *'] });
    const stubs = await startStubs(plan);
    let nginx: Running | undefined;
    let node: Running | undefined;
    try {
      const files = renderGateway(plan, { localPorts: portsOf(stubs), localGatewayPort: await freePort() });
      nginx = await startNginx(fileAt(files, 'gateway/nginx.local.conf'));
      node = await startNodeGateway(files, stubs);
      for (const port of [nginx.port, node.port]) {
        expect((await send(port, 'GET', '/index.html')).headers['x-served-by']).toBe('web');
        expect((await send(port, 'POST', '/api/x')).headers['x-served-by']).toBe('api');
        for (const target of ['/_internal/x', '/_internal', '/_Internal/x', '/a/../_internal/x', '/%5finternal/x', '//_internal/x']) {
          expect((await send(port, 'POST', target)).status, `${port} ${target}`).toBe(404);
        }
      }
      expect(stubs.find((s) => s.service === 'web')!.hits).toBe(2);
    } finally {
      await nginx?.stop();
      await node?.stop();
      await closeAll(stubs);
    }
  });
});

describe('Express parity on tricky paths', () => {
  it('nginx, the Node gateway and the table answer like an Express app with the same routes in table order', async () => {
    const table = buildRoutingTable(TRICKY);
    const require = createRequire(path.join(fixturePath('shop-ts'), 'package.json'));
    type Res = { set: (k: string, v: string) => void; send: (b: string) => void; status: (n: number) => { end: () => void } };
    const express = require('express') as () => unknown;
    const app = express() as Record<string, (...args: unknown[]) => void>;
    for (const route of table.routes) {
      app[route.method === 'ALL' ? 'all' : route.method.toLowerCase()]!(route.path, (_req: unknown, res: Res) => {
        res.set('x-served-by', route.service);
        res.send(route.service);
      });
    }
    // What the gateways do without a route: the seam prefix is theirs to refuse, the rest goes to the entry service.
    app.use!((req: { path: string }, res: Res) => {
      if (/^\/_internal(?:\/|$)/i.test(decodeURIComponent(req.path).replace(/\/{2,}/g, '/'))) return res.status(404).end();
      res.set('x-served-by', table.entryService!);
      res.send(table.entryService!);
    });
    const oracle = http.createServer(app as unknown as http.RequestListener);
    await new Promise<void>((resolve) => oracle.listen(0, '127.0.0.1', resolve));
    const stubs = await startStubs(TRICKY);
    let nginx: Running | undefined;
    let node: Running | undefined;
    try {
      const files = renderGateway(TRICKY, { localPorts: portsOf(stubs), localGatewayPort: await freePort() });
      nginx = await startNginx(fileAt(files, 'gateway/nginx.local.conf'));
      node = await startNodeGateway(files, stubs);
      const answers = async (port: number) => Promise.all(TRICKY_REQUESTS.map(async ([m, t]) => `${m} ${t} -> ${String((await send(port, m, t)).headers['x-served-by'] ?? null)}`));
      const expected = await answers((oracle.address() as AddressInfo).port);
      expect(expected.filter((a) => !a.endsWith('null')).length, 'most tricky requests are routed').toBeGreaterThan(25);
      expect(TRICKY_REQUESTS.map(([m, t]) => `${m} ${t} -> ${String(matchRequest(table, m, t))}`)).toEqual(expected);
      expect(await answers(nginx.port)).toEqual(expected);
      expect(await answers(node.port)).toEqual(expected);
    } finally {
      await nginx?.stop();
      await node?.stop();
      await closeAll(stubs);
      await new Promise<void>((resolve) => oracle.close(() => resolve()));
    }
  });
});
