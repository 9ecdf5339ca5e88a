import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Plan } from '../model/plan.js';
import { testPlan } from '../test-support/plans.js';
import { renderGateway } from '../scaffold/gateway.js';
import type { UserError } from '../util/errors.js';
import { startObserver } from './observer.js';
import { freePort } from '../test-support/processes.js';
import { Supervisor, isListening, redisProcessId, status200, waitForHttp } from './processes.js';
import { routeResults } from './report.js';
import { parseCacheMetrics, readRequestLog, routeMatcher } from './routes.js';
import { findOnPath, localNginxConfig, readyAs, startRedis } from './system.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-verify-unit-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function plan(services: Record<string, string[]>, entryRoutes: string[] = [], dependsOn: Record<string, string[]> = {}): Plan {
  return testPlan({ services: Object.entries(services).map(([name, routes]) => ({ name, routes, dependsOn: dependsOn[name] ?? [] })), entryRoutes });
}

const DEMO = plan({ catalog: ['GET /api/products', 'GET /api/products/:id', 'POST /api/products'], orders: ['GET /api/orders/:id', 'POST /api/orders'] }, ['GET /health']);

function pidsOfGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * What is left of a process group after a moment: a signalled process leaves /proc only once the kernel has run
 * it to its end, which on a busy machine takes a little while after the signal.
 */
async function groupGone(pgid: number): Promise<number[]> {
  const deadline = Date.now() + 2000;
  while (pidsOfGroup(pgid).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return pidsOfGroup(pgid);
}

describe('Supervisor', () => {
  it('stops a whole process group, grandchildren included, and keeps the output in the log file', async () => {
    const dir = tempDir();
    const supervisor = new Supervisor();
    const log = path.join(dir, 'sleepy.log');
    // A parent that starts two grandchildren and ignores nothing: all three must go.
    const child = supervisor.start({ name: 'sleepy', command: 'sh', args: ['-c', 'echo started; sleep 60 & sleep 60 & wait'], cwd: dir, env: process.env, logFile: log });
    await new Promise((r) => setTimeout(r, 300));
    expect(pidsOfGroup(child.pid!).length).toBeGreaterThanOrEqual(3);
    await supervisor.stopAll();
    expect(child.isRunning()).toBe(false);
    expect(await groupGone(child.pid!)).toEqual([]);
    expect(fs.readFileSync(log, 'utf8')).toContain('started');
  });

  it('escalates to SIGKILL when a process ignores SIGTERM', async () => {
    const dir = tempDir();
    const supervisor = new Supervisor();
    const child = supervisor.start({ name: 'stubborn', command: 'sh', args: ['-c', "trap '' TERM; while true; do sleep 0.1; done"], cwd: dir, env: process.env, logFile: path.join(dir, 'stubborn.log') });
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await supervisor.stopAll(300);
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await child.exited).signal).toBe('SIGKILL');
    expect(await groupGone(child.pid!)).toEqual([]);
  });
});

describe('the local nginx gateway', () => {
  it.runIf(findOnPath('nginx') !== null)('points the generated nginx.local.conf at this run\'s ports, several replicas per upstream, and nginx accepts it', async () => {
    const generated = renderGateway(DEMO).find((f) => f.path === 'gateway/nginx.local.conf')!.content;
    const [gatewayPort, a, b, c] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const config = localNginxConfig(generated, gatewayPort, { catalog: [a, b], orders: [c] });
    expect(config).toContain(`listen "127.0.0.1:${gatewayPort}";`);
    expect(config).toMatch(new RegExp(`upstream "catalog" \\{\\n\\s+server "127\\.0\\.0\\.1:${a}"[^;]*;\\n\\s+server "127\\.0\\.0\\.1:${b}"[^;]*;\\n\\s+keepalive 16;\\n\\s+\\}`));
    expect(config).not.toContain('127.0.0.1:4001');
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'nginx.conf'), config);
    const check = spawnSync('nginx', ['-t', '-q', '-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);

    // The same check rejects a broken file: a config without the upstream is refused before nginx starts.
    let details: string[] = [];
    try {
      localNginxConfig(generated.replace(/upstream "orders"/, 'upstream "other"'), gatewayPort, { catalog: [a], orders: [c] });
    } catch (error) {
      details = (error as UserError).details;
    }
    expect(details).toEqual(['no upstream block for orders']);
  });

  it.runIf(findOnPath('nginx') !== null)('sends a request to the second replica when the first is dead (a real nginx, real servers)', async () => {
    const generated = renderGateway(DEMO).find((f) => f.path === 'gateway/nginx.local.conf')!.content;
    const alive = http.createServer((req, res) => res.end(JSON.stringify({ served: 'replica-2', url: req.url })));
    await new Promise<void>((r) => alive.listen(0, '127.0.0.1', r));
    const [gatewayPort, dead] = [await freePort(), await freePort()];
    const livePort = (alive.address() as AddressInfo).port;
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'nginx.conf'), localNginxConfig(generated, gatewayPort, { catalog: [dead, livePort], orders: [livePort] }));
    const supervisor = new Supervisor();
    try {
      const nginx = supervisor.start({ name: 'gateway', command: 'nginx', args: ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], cwd: dir, env: process.env, logFile: path.join(dir, 'gateway.log') });
      expect(await waitForHttp(`http://127.0.0.1:${gatewayPort}/gateway/healthz`, { timeoutMs: 10_000, process: nginx, accept: status200 })).toBeNull();
      for (let i = 0; i < 4; i += 1) {
        const res = await fetch(`http://127.0.0.1:${gatewayPort}/api/products/${i}`);
        expect(await res.json()).toEqual({ served: 'replica-2', url: `/api/products/${i}` });
      }
    } finally {
      await supervisor.stopAll();
      await new Promise<void>((r) => alive.close(() => r()));
    }
    expect(await isListening(gatewayPort)).toBe(false);
  });
});

describe('readiness', () => {
  it('does not take another program on the service\'s port for the service: the answer must name it', async () => {
    const impostor = http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'ready', service: 'catalog', redis: 'none' }));
    });
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r));
    const port = (impostor.address() as AddressInfo).port;
    try {
      const accept = (status: number, body: string) => readyAs('orders', port, status, body);
      expect(await waitForHttp(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 600, accept })).toBe(`not ready after 1 s (port ${port} answers as service catalog: another program took it)`);
      expect(await waitForHttp(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 600, accept: (status, body) => readyAs('catalog', port, status, body) })).toBeNull();
    } finally {
      await new Promise<void>((r) => impostor.close(() => r()));
    }
    expect(readyAs('orders', port, 503, '{"status":"starting","service":"orders"}')).toBe('answered 503');
    expect(readyAs('orders', port, 200, '<html>')).toBe(`port ${port} answers as something else: another program took it`);
  });
});

describe('Redis for the run', () => {
  const redisServer = findOnPath('redis-server', process.env);

  it.runIf(redisServer !== null)('is this run\'s own: another Redis or another program on the chosen port moves it to a free one', async () => {
    const dir = tempDir();
    const supervisor = new Supervisor();
    // Someone else's Redis, and a program that is not Redis, each on a port verify had chosen.
    const otherPort = await freePort();
    const other = spawn(redisServer!, ['--port', String(otherPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const squatter = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.resume();
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    const squatted = await freePort();
    await new Promise<void>((r) => squatter.listen(squatted, '127.0.0.1', r));
    try {
      const deadline = Date.now() + 10_000;
      while ((await redisProcessId(otherPort)) !== other.pid && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await redisProcessId(otherPort)).toBe(other.pid);
      expect(await redisProcessId(squatted, 300)).toBeNull();

      for (const taken of [otherPort, squatted]) {
        const url = await startRedis(redisServer!, taken, new Set(), { supervisor, runDir: dir, env: process.env });
        const port = Number(new URL(url).port);
        expect(port).not.toBe(taken);
        const pid = await redisProcessId(port);
        expect(pid).not.toBeNull();
        expect(pid).not.toBe(other.pid);
      }
      // The Redis verify did not start is left as it was.
      expect(await redisProcessId(otherPort)).toBe(other.pid);
    } finally {
      await supervisor.stopAll();
      other.kill('SIGKILL');
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });
});

describe('observations', () => {
  it('an observer passes requests through unchanged and writes down each exchange', async () => {
    const target = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json', 'x-seen': `${req.method} ${req.url}` });
        res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ got: body }));
      });
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const observer = await startObserver(`http://127.0.0.1:${(target.address() as AddressInfo).port}`);
    try {
      const posted = await fetch(`${observer.url}/api/x/a%2Fb?q=1`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
      expect(posted.status).toBe(201);
      expect(posted.headers.get('x-seen')).toBe('POST /api/x/a%2Fb?q=1');
      expect(await posted.json()).toEqual({ got: '{"a":1}' });
      const head = await fetch(`${observer.url}/api/x`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(observer.exchanges.map((e) => [e.method, e.url, e.response.status, e.body?.text ?? null])).toEqual([
        ['POST', '/api/x/a%2Fb?q=1', 201, '{"a":1}'],
        ['HEAD', '/api/x', 200, null],
      ]);
      expect(observer.exchanges[0]!.durationMs).toBeGreaterThan(0);
    } finally {
      await observer.close();
      await new Promise<void>((r) => target.close(() => r()));
    }
  });

  it('reads request lines and cache counters the runtime writes', () => {
    const dir = tempDir();
    const log = path.join(dir, 'catalog.log');
    fs.writeFileSync(log, [
      '{"level":"info","service":"catalog","method":"GET","route":"/api/products/:id","status":200,"durationMs":1.5,"msg":"request"}',
      'not json',
      '{"level":"info","service":"catalog","msg":"listening","port":1}',
      '{"level":"warn","service":"catalog","method":"HEAD","route":"unmatched","status":404,"durationMs":0.4,"msg":"request"}',
    ].join('\n'));
    expect(readRequestLog(log, 'catalog', 1)).toEqual([
      { service: 'catalog', replica: 1, method: 'GET', route: '/api/products/:id', status: 200, durationMs: 1.5 },
      { service: 'catalog', replica: 1, method: 'HEAD', route: 'unmatched', status: 404, durationMs: 0.4 },
    ]);
    const metrics = [
      '# HELP cache_requests_total Cache lookups',
      'cache_requests_total{service="catalog",route="/api/products/:id",result="hit"} 3',
      'cache_requests_total{service="catalog",route="/api/products/:id",result="miss"} 1',
      'cache_requests_total{service="catalog",route="rpc:inventory/stock",result="bypass"} 2',
      'http_requests_total{service="catalog",route="/x",status="200"} 9',
    ].join('\n');
    expect([...parseCacheMetrics(metrics)]).toEqual([
      ['/api/products/:id', { hit: 3, miss: 1, bypass: 0 }],
      ['rpc:inventory/stock', { hit: 0, miss: 0, bypass: 2 }],
    ]);
  });

  it('per route: passed, failed when a request never reached the owner or answered unlike the monolith, not exercised', () => {
    const matcher = routeMatcher(DEMO);
    const req = (method: string, url: string, status: number, durationMs = 2) => ({ method, url, status, durationMs });
    const { routes, unrouted } = routeResults({
      matcher,
      decomposed: [req('GET', '/api/products', 200, 4), req('GET', '/api/products', 200, 6), req('GET', '/api/products/7', 404), req('POST', '/api/orders', 500), req('GET', '/health', 200), req('GET', '/nope', 404)],
      monolith: [req('GET', '/api/products', 200, 1), req('GET', '/api/products', 200, 1), req('GET', '/api/products/7', 404), req('POST', '/api/orders', 201), req('GET', '/health', 200), req('GET', '/nope', 404)],
      // The owner logged the product list twice and the order once; GET /api/products/:id never reached catalog.
      logs: [
        { service: 'catalog', replica: 1, method: 'GET', route: '/api/products', status: 200, durationMs: 1 },
        { service: 'catalog', replica: 1, method: 'GET', route: '/api/products', status: 200, durationMs: 1 },
        { service: 'orders', replica: 1, method: 'POST', route: '/api/orders', status: 500, durationMs: 1 },
      ],
      cache: new Map([['catalog', new Map([['/api/products', { hit: 1, miss: 1, bypass: 0 }]])]]),
      differences: null,
    });
    const by = Object.fromEntries(routes.map((r) => [r.route, r]));
    expect(by['GET /api/products']).toMatchObject({ verdict: 'passed', requests: 2, p50Ms: 5, monolithP50Ms: 1, cache: { hit: 1, miss: 1, bypass: 0 } });
    expect(by['GET /api/products/:id']).toMatchObject({ verdict: 'failed', problems: ['1 of 1 request did not reach catalog: the gateway sent it elsewhere'] });
    expect(by['POST /api/orders']).toMatchObject({ verdict: 'failed', problems: ['statuses differ: monolith 201, decomposed 500'] });
    expect(by['GET /health']).toMatchObject({ verdict: 'passed', service: 'catalog' });
    expect(by['POST /api/products']!.verdict).toBe('not-exercised');
    expect(by['GET /api/orders/:id']!.verdict).toBe('not-exercised');
    expect(unrouted).toEqual({ requests: 1, statuses: { '404': 1 } });
    // Sorted by service, then path, then method: the same run gives the same report.
    expect(routes.map((r) => r.route)).toEqual(['GET /api/products', 'POST /api/products', 'GET /api/products/:id', 'GET /health', 'POST /api/orders', 'GET /api/orders/:id']);
  });
});
