import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startProcess, waitForHttp } from '../test-support/processes.js';
import { TEMPLATES_ROOT, isGenerated } from './render-templates.js';
import { RUNTIME_DEPENDENCIES, RUNTIME_DEV_DEPENDENCIES, RUNTIME_PEER_DEPENDENCIES, renderRuntimePackage } from './runtime-package.js';

/*
 * The runtime package, for real: rendered into a temporary workspace, compiled with this repository's
 * TypeScript, loaded by a CommonJS service (catalog) and an ES module service (orders) running in child
 * processes against a real redis-server. No mocks: HTTP, Redis and signals are the real ones.
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const PACKAGE_NAME = '@shop-ts/runtime';
const TOKEN = 'test-internal-token';

type Proc = ReturnType<typeof startProcess>;

interface Service {
  url: string;
  proc: Proc;
  logs: () => Record<string, unknown>[];
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

let root = '';
let compile: { status: number | null; output: string } = { status: null, output: '' };
let redisPort = 0;
let redis: Proc | null = null;
const started: Proc[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** The documented key of a cached response of catalog. */
const httpKey = (url: string, identity = 'anon') => `cache:http:catalog:${identity}:${url}`;

/** Retries an assertion until it passes (what a child process writes arrives a little later). */
async function eventually(check: () => void | Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(25);
    }
  }
}

async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

function writeFile(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** A service folder whose node_modules holds the runtime under its package name (as npm workspaces link it). */
function serviceDir(name: string): string {
  const dir = path.join(root, 'services', name);
  const link = path.join(dir, 'node_modules', '@shop-ts', 'runtime');
  if (!fs.existsSync(link)) {
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(root, 'packages', 'runtime'), link, 'dir');
  }
  return dir;
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

async function startRedis(): Promise<Proc> {
  const proc = startProcess('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { cwd: root });
  started.push(proc);
  await waitForPort(redisPort);
  return proc;
}

async function startService(name: string, script: string, env: Record<string, string>): Promise<Service> {
  const port = await freePort();
  const proc = startProcess(process.execPath, [script], {
    cwd: serviceDir(name),
    env: { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', REDIS_URL: `redis://127.0.0.1:${redisPort}`, INTERNAL_TOKEN: TOKEN, ...env },
  });
  started.push(proc);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/healthz`, 15_000);
  } catch (error) {
    throw new Error(`${name} did not start: ${(error as Error).message}\n${proc.output()}`);
  }
  const logs = () =>
    proc
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { url, proc, logs };
}

/** Polls /readyz until its `redis` field says `want`. */
async function waitForRedisStatus(service: Service, want: string, timeoutMs = 8000): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  let last: Answer | undefined;
  while (Date.now() < deadline) {
    last = await request(`${service.url}/readyz`);
    if (last.json?.redis === want) return last;
    await sleep(50);
  }
  throw new Error(`readyz never said redis ${want}: ${last?.text}`);
}

// -------------------------------------------------------------------------------------------------------------
// The services

/** A CommonJS service, as the scaffold generates for a CommonJS monolith. */
const CATALOG = String.raw`'use strict';
const { configureService, serve, registerInternal, logger, currentRequestId } = require('@shop-ts/runtime');
configureService({
  service: 'catalog',
  routes: [
    { method: 'GET', path: '/api/products/:id' },
    { method: 'GET', path: '/api/products/featured' },
    { method: 'PUT', path: '/api/products/:id' },
    { method: 'GET', path: '/api/me' },
    { method: 'GET', path: '/api/short/:id' },
    { method: 'GET', path: '/api/slow-products/:id' },
    { method: 'GET', path: '/slow' },
  ],
  cache: {
    routes: [
      { path: '/api/products/:id', ttlSeconds: 60, tags: ['product'] },
      { path: '/api/me', ttlSeconds: 60, tags: ['user'] },
      { path: '/api/short/:id', ttlSeconds: 1, tags: ['other'] },
      { path: '/api/slow-products/:id', ttlSeconds: 60, tags: ['product'] },
    ],
    writes: ['product'],
  },
  redis: process.env.USE_REDIS === '1',
});
// The monolith's own code loads after configureService.
const express = require('express');
const app = express();
const products = new Map([['1', { id: '1', name: 'Lamp', price: 10 }], ['2', { id: '2', name: 'Desk', price: 200 }]]);
let served = 0;
app.get('/api/products/featured', (req, res) => res.json({ featured: true }));
app.get('/api/products/:id', (req, res) => {
  const product = products.get(req.params.id);
  if (!product) return res.status(404).json({ error: 'no such product' });
  res.json({ ...product, served: ++served });
});
app.put('/api/products/:id', express.json(), async (req, res) => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  const product = products.get(req.params.id);
  if (!product) return res.status(404).json({ error: 'no such product' });
  product.price = req.body.price;
  logger.info({ id: product.id }, 'price updated');
  res.json(product);
});
app.get('/api/me', (req, res) => res.json({ user: req.get('authorization') || req.get('cookie') || null, served: ++served }));
app.get('/api/short/:id', (req, res) => res.json({ served: ++served }));
// Reads the product, answers later: a write in between makes this answer stale.
app.get('/api/slow-products/:id', (req, res) => {
  const copy = { ...products.get(req.params.id) };
  logger.info('slow read');
  setTimeout(() => res.json(copy), Number(req.query.ms));
});
app.get('/slow', (req, res) => {
  logger.info('slow started');
  setTimeout(() => res.type('text').send('slow done'), Number(req.query.ms));
});
registerInternal('getProduct', async (id) => {
  const product = products.get(String(id));
  if (!product) {
    const error = new Error('no product ' + id);
    error.status = 404;
    error.code = 'NOT_FOUND';
    error.productId = id;
    throw error;
  }
  return { ...product, served: ++served };
});
registerInternal('setPrice', async (id, price) => {
  products.get(String(id)).price = price;
});
registerInternal('boom', () => {
  throw new Error('kaput');
});
registerInternal('whoami', () => currentRequestId());
registerInternal('echo', (...args) => args);
// A synchronous function of the monolith that takes a while: the caller does not wait for it, its response does.
const outbox = [];
registerInternal('send', (message) => {
  const until = Date.now() + 300;
  while (Date.now() < until) {
    // busy, like rendering a template
  }
  outbox.push(message);
  return message;
});
registerInternal('outbox', () => outbox);
const server = serve(app, 3000, () => logger.info('callback called'));
// Monoliths often close the server themselves: this must not fail (the callback throws on ERR_SERVER_NOT_RUNNING).
process.on('SIGTERM', () => {
  logger.info('own handler');
  server.close((error) => {
    if (error) throw error;
    process.exit(0);
  });
});
`;

/** An ES module service that calls catalog. */
const ORDERS = String.raw`import { configureService, serve, callRemote, callRemoteDeferred, RemoteCallError } from '@shop-ts/runtime';
import express from 'express';
configureService({
  service: 'orders',
  routes: [{ method: 'GET', path: '/api/orders/:kind/:id' }],
  cache: { routes: [], writes: [] },
  redis: true,
});
const app = express();
app.get('/api/orders/product/:id', async (req, res, next) => {
  try {
    res.json(await callRemote('catalog', 'getProduct', [req.params.id], { idempotent: true }));
  } catch (error) {
    next(error);
  }
});
app.get('/api/orders/cached-product/:id', async (req, res, next) => {
  try {
    res.json(await callRemote('catalog', 'getProduct', [req.params.id], { idempotent: true, cache: { ttlSeconds: 60, tags: ['product'] } }));
  } catch (error) {
    next(error);
  }
});
app.get('/api/orders/whoami/:id', async (req, res, next) => {
  try {
    res.json({ id: await callRemote('catalog', 'whoami', [], { idempotent: true }) });
  } catch (error) {
    next(error);
  }
});
app.get('/api/orders/notify/:id', (req, res) => {
  callRemoteDeferred('catalog', req.params.id === 'broken' ? 'boom' : 'send', [{ to: req.params.id }]);
  res.json({ sent: true });
});
// A typical Express error handler: the status of a remote error is the status the monolith answered.
app.use((error, req, res, next) => {
  res.status(error.status ?? error.statusCode ?? 500).json({
    name: error.name,
    message: error.message,
    code: error.code,
    productId: error.productId,
    remote: error instanceof RemoteCallError,
  });
});
serve(app);
`;

/** Type-checked only: what an ES module TypeScript service writes against the package's declarations. */
const TYPED = `import { configureService, serve, callRemote, registerInternal, logger, RemoteCallError, NotYetExtractedError, notYetExtracted, notYetExtractedValue, currentRequestId, type ServiceConfig } from '@shop-ts/runtime';
import express from 'express';
import type { Server } from 'node:http';
const config: ServiceConfig = { service: 'typed', routes: [{ method: 'GET', path: '/x/:id' }], cache: { routes: [{ path: '/x/:id', ttlSeconds: 5, tags: ['x'] }], writes: ['x'] }, redis: true };
configureService(config);
const app = express();
const server: Server = serve(app, 3000, () => logger.info({ id: currentRequestId() }, 'up'));
registerInternal('next', async (n: number) => n + 1);
export async function use(): Promise<number> {
  try {
    const value: number = await callRemote('catalog', 'next', [1], { idempotent: true, timeoutMs: 100, retries: 1, cache: { ttlSeconds: 5, tags: ['x'] } });
    return value;
  } catch (error) {
    if (error instanceof RemoteCallError) return error.status + error.statusCode + (error.expose ? 1 : 0);
    if (error instanceof NotYetExtractedError) return 501;
    throw error;
  }
}
export const stub: any = notYetExtractedValue('db', 'catalog', 'src/a.ts:1');
export function never(): never {
  return notYetExtracted('helper', 'catalog', 'src/b.ts:2');
}
server.close();
`;

// -------------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  // The runtime loaded into this process (for callRemote) logs nothing here.
  process.env.LOG_LEVEL = 'silent';
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-runtime-'));
  for (const change of renderRuntimePackage({ packageName: PACKAGE_NAME, project: 'shop-ts' })) writeFile(path.join(root, change.path), change.content);
  // The workspace root's node_modules: this repository's, which holds the runtime's dependencies at the same versions.
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  const result = spawnSync(process.execPath, [TSC, '-p', path.join(root, 'packages', 'runtime', 'tsconfig.json')], { encoding: 'utf8' });
  compile = { status: result.status, output: `${result.stdout}${result.stderr}` };

  writeFile(path.join(serviceDir('catalog'), 'main.js'), CATALOG);
  writeFile(path.join(serviceDir('orders'), 'main.mjs'), ORDERS);
  const typed = serviceDir('typed');
  writeFile(path.join(typed, 'package.json'), JSON.stringify({ name: 'typed', type: 'module', private: true }));
  writeFile(path.join(typed, 'src', 'main.ts'), TYPED);
  writeFile(
    path.join(typed, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, esModuleInterop: true, types: ['node'] }, include: ['src'] }),
  );

  const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (which.status !== 0) throw new Error('these tests run a real redis-server: install it (Debian: apt-get install redis-server)');
  redisPort = await freePort();
  redis = await startRedis();
}, 120_000);

afterAll(async () => {
  await Promise.all(started.map((proc) => proc.stop()));
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('rendering', () => {
  it('renders a CommonJS package with exact dependency pins and an express peer', () => {
    const changes = renderRuntimePackage({ packageName: '@blog-cjs/runtime', project: 'blog-cjs' });
    const paths = changes.map((c) => c.path);
    expect(paths).toContain('packages/runtime/package.json');
    expect(paths).toContain('packages/runtime/tsconfig.json');
    expect(paths).toContain('packages/runtime/README.md');
    expect(paths).toContain('packages/runtime/src/index.ts');
    const manifest = JSON.parse(changes.find((c) => c.path === 'packages/runtime/package.json')!.content);
    expect(manifest.name).toBe('@blog-cjs/runtime');
    expect(manifest.type).toBeUndefined();
    expect(manifest.main).toBe('dist/index.js');
    expect(manifest.types).toBe('dist/index.d.ts');
    expect(manifest.scripts.build).toBe('tsc -p tsconfig.json');
    expect(manifest.dependencies).toEqual(RUNTIME_DEPENDENCIES);
    expect(manifest.peerDependencies).toEqual(RUNTIME_PEER_DEPENDENCIES);
    expect(manifest.devDependencies).toEqual(RUNTIME_DEV_DEPENDENCIES);
    for (const version of Object.values(RUNTIME_DEPENDENCIES)) expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    for (const change of changes) expect(change.isOurs(change.content)).toBe(true);
    expect(changes.every((c) => isGenerated(c.content))).toBe(true);
  });

  it('passes the TypeScript sources through unchanged (they hold no template expression)', () => {
    const changes = renderRuntimePackage({ packageName: PACKAGE_NAME, project: 'shop-ts' });
    const sources = changes.filter((c) => c.path.startsWith('packages/runtime/src/'));
    expect(sources.length).toBeGreaterThanOrEqual(10);
    for (const change of sources) {
      const template = fs.readFileSync(path.join(TEMPLATES_ROOT, 'runtime', change.path.replace('packages/runtime/', '')), 'utf8');
      const [marker, ...body] = change.content.split('\n');
      expect(marker).toMatch(/^\/\/ Generated by decompose from templates\/runtime\/src\//);
      expect(body.join('\n')).toBe(template);
    }
  });

  it('refuses a package name npm would refuse', () => {
    expect(() => renderRuntimePackage({ packageName: '@Shop/Runtime"', project: 'x' })).toThrow(/not an npm package name/);
  });

  it('pins what decompose itself tests with', () => {
    const own = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    for (const [name, version] of Object.entries(RUNTIME_DEPENDENCIES)) expect(own.devDependencies[name], name).toBe(version);
    expect(own.devDependencies['@types/express']).toBe(RUNTIME_DEV_DEPENDENCIES['@types/express']);
    expect(own.devDependencies.express).toMatch(/^4\./);
  });
});

describe('the compiled package', () => {
  it('type-checks and compiles with tsc (exit 0) to CommonJS with declarations', () => {
    expect(compile.output).toBe('');
    expect(compile.status).toBe(0);
    const dist = path.join(root, 'packages', 'runtime', 'dist');
    expect(fs.existsSync(path.join(dist, 'index.d.ts'))).toBe(true);
    expect(fs.readFileSync(path.join(dist, 'index.js'), 'utf8')).toContain('exports.');
  });

  it('loads from CommonJS (require) and from ES modules (import { serve }), without side effects', () => {
    const cjs = spawnSync(process.execPath, ['-e', `const r = require('${PACKAGE_NAME}'); console.log(typeof r.serve, typeof r.callRemote, typeof r.RemoteCallError, typeof r.logger.info)`], {
      cwd: serviceDir('catalog'),
      encoding: 'utf8',
    });
    expect(cjs.stderr).toBe('');
    expect(cjs.stdout.trim()).toBe('function function function function');
    const esm = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import { serve, configureService, registerInternal, notYetExtractedValue, NotYetExtractedError } from '${PACKAGE_NAME}'; console.log(typeof serve, typeof configureService, typeof registerInternal, typeof notYetExtractedValue, typeof NotYetExtractedError)`],
      { cwd: serviceDir('orders'), encoding: 'utf8' },
    );
    expect(esm.stderr).toBe('');
    expect(esm.stdout.trim()).toBe('function function function function function');
  });

  it('type-checks an ES module TypeScript service against its declarations', () => {
    const result = spawnSync(process.execPath, [TSC, '-p', path.join(serviceDir('typed'), 'tsconfig.json')], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });

  it('stubs throw NotYetExtractedError when used, not when loaded or logged', () => {
    const runtime = createRequire(import.meta.url)(path.join(root, 'packages', 'runtime', 'dist', 'index.js'));
    const stub = runtime.notYetExtractedValue('db.products', 'catalog', 'src/orders/service.ts:12');
    expect(() => stub.find()).toThrow(runtime.NotYetExtractedError);
    expect(() => stub()).toThrow(/db\.products \(used at src\/orders\/service\.ts:12\) now belongs to catalog/);
    expect(() => new stub()).toThrow(runtime.NotYetExtractedError);
    expect(stub.then).toBeUndefined();
    expect(() => inspect(stub)).not.toThrow();
    try {
      runtime.notYetExtracted('getUser', 'users', 'src/a.ts:3');
    } catch (error: any) {
      expect(error).toBeInstanceOf(runtime.NotYetExtractedError);
      expect(error).toMatchObject({ status: 501, statusCode: 501, code: 'NOT_YET_EXTRACTED', what: 'getUser', owner: 'users', at: 'src/a.ts:3' });
    }
  });

  it('data proxies send JSON method calls to the owner and refuse what JSON would change (a predicate, an unknown symbol)', async () => {
    const runtime = createRequire(import.meta.url)(path.join(root, 'packages', 'runtime', 'dist', 'index.js'));
    // The owner's side: runs the method on the real handle, never Object's own methods.
    const rows = [{ id: 'a', quantity: 1 }, { id: 'b', quantity: 9 }];
    const table = { async findAll(filter?: { quantity?: number }) { return rows.filter((r) => filter?.quantity === undefined || r.quantity === filter.quantity); } };
    const handler = runtime.dataHandler(table);
    await expect(handler('findAll', { quantity: 9 })).resolves.toEqual([{ id: 'b', quantity: 9 }]);
    for (const method of ['constructor', '__proto__', 'hasOwnProperty', '_private', 'missing', 42]) {
      expect(() => handler(method), String(method)).toThrow(expect.objectContaining({ status: 400, code: 'BAD_DATA_METHOD' }));
    }
    // The caller's side: refused before anything is sent (no <SERVICE>_URL is set, so a send would fail differently).
    const proxy = runtime.remoteData('inventory', 'src/inventory/stock.repository#stockTable');
    await expect(proxy.findAll((s: { quantity: number }) => s.quantity < 5)).rejects.toThrow(runtime.NotYetExtractedError);
    await expect(proxy.findAll({ where: { [Symbol('lte')]: 5 } })).rejects.toThrow(/symbol key the shared code does not export/);
    await expect(proxy.findAll(new Map())).rejects.toThrow(/an instance of Map/);
    await expect(proxy.findAll({ quantity: 1 })).rejects.toMatchObject({ code: 'SERVICE_URL_MISSING' });
    expect(proxy.then).toBeUndefined();
    expect(inspect(proxy)).toContain('data of inventory');
  });

  it('the wire format keeps Dates and the shared code\'s symbols (query operators), and shared error classes', () => {
    const runtime = createRequire(import.meta.url)(path.join(root, 'packages', 'runtime', 'dist', 'index.js'));
    const codec = createRequire(import.meta.url)(path.join(root, 'packages', 'runtime', 'dist', 'codec.js'));
    // Two processes each have their own Op table with the same names: symbols travel by name.
    const sender = { Op: { in: Symbol('in'), lte: Symbol('lte') } };
    runtime.registerShared(sender);
    const text = codec.encode({ where: { id: { [sender.Op.in]: [1, 2] }, at: new Date('2026-01-02T00:00:00Z') }, op: sender.Op.lte });
    expect(text).toBe('{"where":{"id":{"$sym:Op.in":[1,2]},"at":{"$date":"2026-01-02T00:00:00.000Z"}},"op":{"$sym":"Op.lte"}}');
    const back = codec.decode(text) as { where: { id: Record<symbol, number[]>; at: Date }; op: symbol };
    expect(back.where.at).toBeInstanceOf(Date);
    expect(back.where.id[sender.Op.in]).toEqual([1, 2]);
    expect(back.op).toBe(sender.Op.lte);
    expect(codec.encode({ s: Symbol('unregistered'), [Symbol('k')]: 1, list: [undefined, () => 1] })).toBe('{"list":[null,null]}');

    class AppError extends Error {
      status: number;
      constructor(status: number, message: string) {
        super(message);
        this.name = 'AppError';
        this.status = status;
      }
      toJSON() {
        return { error: this.message };
      }
    }
    runtime.registerShared({ AppError });
    // What the caller rethrows for a remote AppError: an AppError, with the remote fields.
    const errors = createRequire(import.meta.url)(path.join(root, 'packages', 'runtime', 'dist', 'errors.js'));
    const remote = new runtime.RemoteCallError('Insufficient stock', { service: 'inventory', operation: 'x', status: 409, name: 'AppError', code: 'INSUFFICIENT_STOCK', details: { productId: 'p1' } });
    const rebuilt = errors.asSharedError(remote);
    expect(rebuilt).toBeInstanceOf(AppError);
    expect(rebuilt).toMatchObject({ status: 409, code: 'INSUFFICIENT_STOCK', productId: 'p1', message: 'Insufficient stock' });
    expect(rebuilt.toJSON()).toEqual({ error: 'Insufficient stock' });
    const unknown = new runtime.RemoteCallError('x', { service: 's', operation: 'o', status: 500, name: 'SomethingElse' });
    expect(errors.asSharedError(unknown)).toBe(unknown);
  });
});

describe('services on the runtime', () => {
  let catalog: Service;
  let orders: Service;
  let runtime: any;
  let flaky: http.Server;
  let flakyUrl = '';
  const hits = new Map<string, number>();
  const seen: http.IncomingHttpHeaders[] = [];
  let probe: Redis;

  /** Waits until the service has stored `key` (stores happen after the response is complete). */
  async function waitForKey(key: string): Promise<void> {
    await eventually(async () => expect(await probe.exists(key)).toBe(1));
  }

  beforeAll(async () => {
    catalog = await startService('catalog', 'main.js', { USE_REDIS: '1', REDIS_REQUIRED: 'true' });
    orders = await startService('orders', 'main.mjs', { CATALOG_URL: catalog.url });
    await Promise.all([waitForRedisStatus(catalog, 'up'), waitForRedisStatus(orders, 'up')]);
    probe = new Redis(redisPort, '127.0.0.1', { retryStrategy: () => 50 });
    probe.on('error', () => {
      // Redis is stopped on purpose in one test.
    });

    // callRemote in this process, against catalog and a deliberately unreliable server.
    process.env.INTERNAL_TOKEN = TOKEN;
    process.env.CATALOG_URL = catalog.url;
    runtime = createRequire(import.meta.url)(path.join(root, 'packages', 'runtime', 'dist', 'index.js'));
    flaky = http.createServer((req, res) => {
      const operation = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      const n = (hits.get(operation) ?? 0) + 1;
      hits.set(operation, n);
      seen.push(req.headers);
      req.resume();
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (operation.startsWith('fail-twice')) {
        if (n <= 2) json(503, { error: { name: 'Error', message: 'busy', status: 503, details: {} } });
        else json(200, { result: `ok after ${n}` });
      } else if (operation.startsWith('bad-gateway')) {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html>502 Bad Gateway</html>');
      } else if (operation.startsWith('always-500')) {
        json(500, { error: { name: 'Error', message: 'broken', status: 500, details: {} } });
      } else if (operation.startsWith('slow')) {
        setTimeout(() => json(200, { result: 'late' }), 2000);
      } else {
        json(404, { error: { name: 'NotFoundError', message: 'no such operation', code: 'UNKNOWN_OPERATION', status: 404, details: {} } });
      }
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    flakyUrl = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`;
    process.env.FLAKY_URL = flakyUrl;
  }, 60_000);

  afterAll(async () => {
    probe?.disconnect();
    flaky?.closeAllConnections();
    await new Promise((resolve) => flaky?.close(resolve));
  });

  it('answers /healthz, /readyz (Redis up), sets x-request-id and keeps the caller id', async () => {
    const health = await request(`${catalog.url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });
    expect(health.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const ready = await request(`${catalog.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ status: 'ready', service: 'catalog', redis: 'up' });
    const mine = await request(`${catalog.url}/api/products/featured`, { headers: { 'x-request-id': 'caller-id-1' } });
    expect(mine.headers.get('x-request-id')).toBe('caller-id-1');
    const hostile = await request(`${catalog.url}/healthz`, { headers: { 'x-request-id': 'has space' } });
    expect(hostile.headers.get('x-request-id')).not.toBe('has space');
    expect(catalog.logs().some((line) => line.msg === 'callback called')).toBe(true);
  });

  it('logs one JSON line per response with the route pattern, and the request id inside the request', async () => {
    const put = await request(`${catalog.url}/api/products/2`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-request-id': 'put-request-7' }, body: JSON.stringify({ price: 210 }) });
    expect(put.status).toBe(200);
    expect(put.json.price).toBe(210);
    await eventually(() => expect(catalog.logs().some((line) => line.requestId === 'put-request-7' && line.msg === 'request')).toBe(true));
    const lines = catalog.logs().filter((line) => line.requestId === 'put-request-7');
    // The service's own log line, written after body parsing and a timer, still carries the request id.
    expect(lines.find((line) => line.msg === 'price updated')).toMatchObject({ service: 'catalog', id: '2' });
    const access = lines.filter((line) => line.msg === 'request');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ service: 'catalog', method: 'PUT', route: '/api/products/:id', status: 200 });
    expect(typeof access[0]!.durationMs).toBe('number');
  });

  it('keeps /healthz, /readyz and /metrics for the platform: a request the gateway forwarded goes to the app', async () => {
    for (const probe of ['/healthz', '/readyz', '/metrics']) {
      const direct = await request(`${catalog.url}${probe}`);
      expect(direct.status, probe).toBe(200);
      const forwarded = await request(`${catalog.url}${probe}`, { headers: { 'x-decompose-gateway': '1' } });
      expect(forwarded.status, `${probe} through the gateway`).toBe(404);
      expect(forwarded.text, probe).not.toContain('http_requests_total');
    }
  });

  it('labels metrics with the route pattern, never the raw URL', async () => {
    await request(`${catalog.url}/api/products/2?utm=abc`);
    await request(`${catalog.url}/api/products/featured`);
    const missing = await request(`${catalog.url}/no/such/page`);
    expect(missing.status).toBe(404);
    const metrics = await request(`${catalog.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/http_requests_total\{service="catalog",method="GET",route="\/api\/products\/:id",status="200"\} \d+/);
    expect(metrics.text).toMatch(/http_requests_total\{service="catalog",method="GET",route="\/api\/products\/featured",status="200"\} \d+/);
    expect(metrics.text).toMatch(/http_requests_total\{service="catalog",method="GET",route="unmatched",status="404"\} 1/);
    expect(metrics.text).toMatch(/http_request_duration_seconds_bucket\{le="[\d.]+",service="catalog",method="GET",route="\/api\/products\/:id",status="200"\}/);
    expect(metrics.text).toMatch(/cache_requests_total\{service="catalog",route="\/api\/products\/:id",result="miss"\} \d+/);
    expect(metrics.text).toContain('process_cpu_user_seconds_total');
    expect(metrics.text).not.toContain('/api/products/2');
    expect(metrics.text).not.toContain('/no/such/page');
  });

  it('refuses internal calls without the right token and answers the right one', async () => {
    const post = (operation: string, headers: Record<string, string>, body: unknown = { args: ['1'] }) =>
      request(`${catalog.url}/_internal/rpc/${operation}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const none = await post('getProduct', {});
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('UNAUTHORIZED');
    const wrong = await post('getProduct', { 'x-internal-token': `${TOKEN}x` });
    expect(wrong.status).toBe(403);
    expect(wrong.json.error).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    const unknown = await post('nope', { 'x-internal-token': TOKEN });
    expect(unknown.status).toBe(404);
    const ok = await post('getProduct', { 'x-internal-token': TOKEN });
    expect(ok.status).toBe(200);
    expect(ok.json.result).toMatchObject({ id: '1', name: 'Lamp' });
    const nothing = await post('setPrice', { 'x-internal-token': TOKEN }, { args: ['1', 10] });
    expect(nothing.status).toBe(200);
    expect(nothing.json).toEqual({});
    const notAList = await post('getProduct', { 'x-internal-token': TOKEN }, { args: 'x' });
    expect(notAList.status).toBe(400);
    const malformed = await request(`${catalog.url}/_internal/rpc/getProduct`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-internal-token': TOKEN }, body: '{"args": [' });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toBeDefined();
    const failed = await post('getProduct', { 'x-internal-token': TOKEN }, { args: ['999'] });
    expect(failed.status).toBe(404);
    expect(failed.json.error).toEqual({ name: 'Error', message: 'no product 999', code: 'NOT_FOUND', status: 404, details: { productId: '999' } });
  });

  it('callRemote returns results and turns remote errors into RemoteCallError with the remote status', async () => {
    expect(await runtime.callRemote('catalog', 'getProduct', ['2'], { idempotent: true })).toMatchObject({ id: '2', name: 'Desk' });
    expect(await runtime.callRemote('catalog', 'setPrice', ['1', 10], { idempotent: false })).toBeUndefined();
    const args = [null, 'two', { three: [3] }];
    expect(await runtime.callRemote('catalog', 'echo', args, { idempotent: true })).toEqual(args);
    const notFound = await runtime.callRemote('catalog', 'getProduct', ['999'], { idempotent: true }).catch((error: unknown) => error);
    expect(notFound).toBeInstanceOf(runtime.RemoteCallError);
    expect(notFound).toBeInstanceOf(Error);
    expect(notFound).toMatchObject({ service: 'catalog', operation: 'getProduct', status: 404, statusCode: 404, code: 'NOT_FOUND', message: 'no product 999', expose: true, details: { productId: '999' }, productId: '999' });
    const boom = await runtime.callRemote('catalog', 'boom', [], { idempotent: false }).catch((error: unknown) => error);
    expect(boom).toMatchObject({ status: 500, statusCode: 500, message: 'kaput', expose: false });

    // Through a real Express error handler in an ES module service: the client sees what the monolith answered.
    const viaOrders = await request(`${orders.url}/api/orders/product/999`);
    expect(viaOrders.status).toBe(404);
    expect(viaOrders.json).toEqual({ name: 'Error', message: 'no product 999', code: 'NOT_FOUND', productId: '999', remote: true });
    const fine = await request(`${orders.url}/api/orders/product/1`);
    expect(fine.status).toBe(200);
    expect(fine.json).toMatchObject({ id: '1', name: 'Lamp' });
  });

  it('callRemote carries the current request id to the other service', async () => {
    const answer = await request(`${orders.url}/api/orders/whoami/1`, { headers: { 'x-request-id': 'trace-me-42' } });
    expect(answer.json).toEqual({ id: 'trace-me-42' });
  });

  it('callRemoteDeferred returns at once, the response waits for the call, and a failed call is logged, not answered', async () => {
    const started = Date.now();
    const sent = await request(`${orders.url}/api/orders/notify/ada`);
    expect(sent.status).toBe(200);
    expect(sent.json).toEqual({ sent: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    // Whoever asks next sees the effect: the answer came after the call was done.
    expect(await runtime.callRemote('catalog', 'outbox', [], { idempotent: true })).toContainEqual({ to: 'ada' });

    const broken = await request(`${orders.url}/api/orders/notify/broken`);
    expect(broken.status).toBe(200);
    await eventually(() => expect(orders.logs().some((l) => l.msg === 'deferred call failed' && l.operation === 'boom')).toBe(true));

    // Outside a request (a timer, start-up code) the call just goes.
    runtime.callRemoteDeferred('catalog', 'send', [{ to: 'timer' }]);
    await eventually(async () => expect(await runtime.callRemote('catalog', 'outbox', [], { idempotent: true })).toContainEqual({ to: 'timer' }));
  });

  it('callRemote names the missing <SERVICE>_URL variable', async () => {
    const error = await runtime.callRemote('order-history', 'list', [], { idempotent: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(runtime.RemoteCallError);
    expect(error.message).toContain('ORDER_HISTORY_URL');
    expect(error.code).toBe('SERVICE_URL_MISSING');
  });

  it('retries only idempotent calls, only for network errors, timeouts, 502, 503 and 504', async () => {
    expect(await runtime.callRemote('flaky', 'fail-twice-a', [1], { idempotent: true })).toBe('ok after 3');
    expect(hits.get('fail-twice-a')).toBe(3);
    const request0 = seen.at(-1)!;
    expect(request0['x-internal-token']).toBe(TOKEN);
    expect(request0['content-type']).toBe('application/json');
    expect(request0['x-request-id']).toBeTruthy();

    const once = await runtime.callRemote('flaky', 'fail-twice-b', [1], { idempotent: false }).catch((e: unknown) => e);
    expect(once).toMatchObject({ status: 503, statusCode: 503, message: 'busy' });
    expect(hits.get('fail-twice-b')).toBe(1);

    const fewer = await runtime.callRemote('flaky', 'fail-twice-c', [], { idempotent: true, retries: 1 }).catch((e: unknown) => e);
    expect(fewer).toMatchObject({ status: 503 });
    expect(hits.get('fail-twice-c')).toBe(2);

    const notRetried = await runtime.callRemote('flaky', 'always-500', [], { idempotent: true }).catch((e: unknown) => e);
    expect(notRetried).toMatchObject({ status: 500, message: 'broken' });
    expect(hits.get('always-500')).toBe(1);

    const proxy = await runtime.callRemote('flaky', 'bad-gateway', [], { idempotent: true }).catch((e: unknown) => e);
    expect(proxy).toMatchObject({ status: 502, code: 'BAD_RESPONSE' });
    expect(hits.get('bad-gateway')).toBe(3);

    const closedPort = await freePort();
    process.env.GONE_URL = `http://127.0.0.1:${closedPort}`;
    process.env.STARTUP_WAIT_MS = '0';
    try {
      const unreachable = await runtime.callRemote('gone', 'x', [], { idempotent: true, retries: 1 }).catch((e: unknown) => e);
      expect(unreachable).toMatchObject({ status: 503, code: 'ECONNREFUSED', service: 'gone', operation: 'x' });
    } finally {
      delete process.env.STARTUP_WAIT_MS;
    }
  });

  it('before it listens, a service waits for a refused service to come up (services start in any order)', async () => {
    const port = await freePort();
    process.env.LATE_URL = `http://127.0.0.1:${port}`;
    process.env.STARTUP_WAIT_MS = '10000';
    let calls = 0;
    const late = http.createServer((req, res) => {
      calls += 1;
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":{"seeded":true,"at":{"$date":"2026-01-02T03:04:05.000Z"}}}'));
    });
    const timer = setTimeout(() => late.listen(port, '127.0.0.1'), 600);
    try {
      // Not idempotent: a refused connection delivered nothing, so it is still safe to send again.
      const result = (await runtime.callRemote('late', 'seed', [{ since: new Date('2026-01-01T00:00:00Z') }], { idempotent: false })) as { seeded: boolean; at: Date };
      expect(result.seeded).toBe(true);
      expect(result.at).toBeInstanceOf(Date);
      expect(result.at.toISOString()).toBe('2026-01-02T03:04:05.000Z');
      expect(calls).toBe(1);
    } finally {
      clearTimeout(timer);
      delete process.env.STARTUP_WAIT_MS;
      await new Promise((resolve) => late.close(resolve));
    }
  });

  it('times out a call that does not answer in time', async () => {
    const start = Date.now();
    const late = await runtime.callRemote('flaky', 'slow-a', [], { idempotent: false, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(late).toMatchObject({ status: 504, code: 'ETIMEDOUT' });
    expect(Date.now() - start).toBeLessThan(1800);
    expect(hits.get('slow-a')).toBe(1);
    const retried = await runtime.callRemote('flaky', 'slow-b', [], { idempotent: true, timeoutMs: 150, retries: 1 }).catch((e: unknown) => e);
    expect(retried).toMatchObject({ status: 504 });
    expect(hits.get('slow-b')).toBe(2);
  });

  it('caches GET responses: MISS, then HIT with the same body', async () => {
    const first = await request(`${catalog.url}/api/products/1?view=full`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('MISS');
    await waitForKey(httpKey('/api/products/1?view=full'));
    const second = await request(`${catalog.url}/api/products/1?view=full`);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.json).toEqual(first.json);
    expect(second.headers.get('content-type')).toBe(first.headers.get('content-type'));
    const otherQuery = await request(`${catalog.url}/api/products/1?view=short`);
    expect(otherQuery.headers.get('x-cache')).toBe('MISS');
    const notCacheable = await request(`${catalog.url}/slow?ms=1`);
    expect(notCacheable.headers.get('x-cache')).toBeNull();
    const notFound = await request(`${catalog.url}/api/products/404`);
    expect(notFound.status).toBe(404);
    await sleep(100); // a store would have happened by now
    expect((await request(`${catalog.url}/api/products/404`)).headers.get('x-cache')).toBe('MISS');
    const metrics = await request(`${catalog.url}/metrics`);
    expect(metrics.text).toMatch(/cache_requests_total\{service="catalog",route="\/api\/products\/:id",result="hit"\} [1-9]/);
  });

  it('expires cached responses after their TTL', async () => {
    const first = await request(`${catalog.url}/api/short/1`);
    expect(first.headers.get('x-cache')).toBe('MISS');
    await waitForKey(httpKey('/api/short/1'));
    const second = await request(`${catalog.url}/api/short/1`);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.json).toEqual(first.json);
    await sleep(1100);
    const third = await request(`${catalog.url}/api/short/1`);
    expect(third.headers.get('x-cache')).toBe('MISS');
    expect(third.json.served).toBeGreaterThan(first.json.served);
  });

  it('drops cached values of written entities before the write answers (read-after-write is fresh)', async () => {
    await request(`${catalog.url}/api/products/2`);
    await waitForKey(httpKey('/api/products/2'));
    expect((await request(`${catalog.url}/api/products/2`)).headers.get('x-cache')).toBe('HIT');
    const put = await request(`${catalog.url}/api/products/2`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ price: 250 }) });
    expect(put.status).toBe(200);
    // Right after the write's response: no wait.
    const after = await request(`${catalog.url}/api/products/2`);
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(after.json.price).toBe(250);

    // A write through an internal call invalidates as well.
    await waitForKey(httpKey('/api/products/2'));
    expect((await request(`${catalog.url}/api/products/2`)).headers.get('x-cache')).toBe('HIT');
    await runtime.callRemote('catalog', 'setPrice', ['2', 260], { idempotent: false });
    const afterRpc = await request(`${catalog.url}/api/products/2`);
    expect(afterRpc.headers.get('x-cache')).toBe('MISS');
    expect(afterRpc.json.price).toBe(260);

    // A failed write invalidates nothing.
    await waitForKey(httpKey('/api/products/2'));
    await request(`${catalog.url}/api/products/404`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect((await request(`${catalog.url}/api/products/2`)).headers.get('x-cache')).toBe('HIT');
  });

  it('does not store a read that overlapped a write', async () => {
    const slowRead = request(`${catalog.url}/api/slow-products/1?ms=300`);
    await eventually(() => expect(catalog.logs().some((line) => line.msg === 'slow read')).toBe(true));
    const write = await request(`${catalog.url}/api/products/1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ price: 15 }) });
    expect(write.status).toBe(200);
    const stale = await slowRead;
    expect(stale.headers.get('x-cache')).toBe('MISS');
    expect(stale.json.price).not.toBe(15);
    await sleep(100); // a store would have happened by now
    const next = await request(`${catalog.url}/api/slow-products/1?ms=300`);
    expect(next.headers.get('x-cache')).toBe('MISS');
    expect(next.json.price).toBe(15);
    await waitForKey(httpKey('/api/slow-products/1?ms=300'));
    expect((await request(`${catalog.url}/api/slow-products/1?ms=300`)).headers.get('x-cache')).toBe('HIT');
  });

  it("caches callRemote results by operation and arguments, dropped by another service's write", async () => {
    const first = await request(`${orders.url}/api/orders/cached-product/1`);
    await waitForKey(`cache:rpc:orders:catalog:getProduct:${sha256(JSON.stringify(['1']))}`);
    const second = await request(`${orders.url}/api/orders/cached-product/1`);
    expect(second.json).toEqual(first.json);
    const other = await request(`${orders.url}/api/orders/cached-product/2`);
    expect(other.json.id).toBe('2');
    await request(`${catalog.url}/api/products/1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ price: 11 }) });
    const fresh = await request(`${orders.url}/api/orders/cached-product/1`);
    expect(fresh.json.price).toBe(11);
    expect(fresh.json.served).toBeGreaterThan(first.json.served);
    const metrics = await request(`${orders.url}/metrics`);
    expect(metrics.text).toMatch(/cache_requests_total\{service="orders",route="rpc:catalog\/getProduct",result="hit"\} [1-9]/);
  });

  it("never serves one caller's cached response to another", async () => {
    const alice = await request(`${catalog.url}/api/me`, { headers: { authorization: 'Bearer alice' } });
    expect(alice.json.user).toBe('Bearer alice');
    await waitForKey(httpKey('/api/me', sha256('Bearer alice\n')));
    const bob = await request(`${catalog.url}/api/me`, { headers: { authorization: 'Bearer bob' } });
    expect(bob.headers.get('x-cache')).toBe('MISS');
    expect(bob.json.user).toBe('Bearer bob');
    const cookie = await request(`${catalog.url}/api/me`, { headers: { cookie: 'session=carol' } });
    expect(cookie.headers.get('x-cache')).toBe('MISS');
    expect(cookie.json.user).toBe('session=carol');
    const anonymous = await request(`${catalog.url}/api/me`);
    expect(anonymous.headers.get('x-cache')).toBe('MISS');
    expect(anonymous.json.user).toBeNull();
    await waitForKey(httpKey('/api/me'));
    const aliceAgain = await request(`${catalog.url}/api/me`, { headers: { authorization: 'Bearer alice' } });
    expect(aliceAgain.headers.get('x-cache')).toBe('HIT');
    expect(aliceAgain.json).toEqual(alice.json);
    const anonymousAgain = await request(`${catalog.url}/api/me`);
    expect(anonymousAgain.headers.get('x-cache')).toBe('HIT');
    expect(anonymousAgain.json.user).toBeNull();
  });

  it('keeps answering when Redis dies (BYPASS), reports it in /readyz, and caches again when it is back', async () => {
    await request(`${catalog.url}/api/products/1`);
    await redis!.stop();
    const down = await waitForRedisStatus(orders, 'down');
    // Caching fails open: orders stays ready; catalog runs with REDIS_REQUIRED=true and is not.
    expect(down.status).toBe(200);
    const required = await waitForRedisStatus(catalog, 'down');
    expect(required.status).toBe(503);
    expect(required.json.status).toBe('redis-unavailable');

    const start = Date.now();
    const read = await request(`${catalog.url}/api/products/1`);
    expect(read.status).toBe(200);
    expect(read.headers.get('x-cache')).toBe('BYPASS');
    const write = await request(`${catalog.url}/api/products/1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ price: 12 }) });
    expect(write.status).toBe(200);
    const remote = await request(`${orders.url}/api/orders/cached-product/1`);
    expect(remote.status).toBe(200);
    expect(remote.json.price).toBe(12);
    expect(Date.now() - start).toBeLessThan(3000);
    const metrics = await request(`${catalog.url}/metrics`);
    expect(metrics.text).toMatch(/cache_requests_total\{service="catalog",route="\/api\/products\/:id",result="bypass"\} [1-9]/);

    redis = await startRedis();
    expect((await waitForRedisStatus(catalog, 'up')).status).toBe(200);
    expect((await request(`${catalog.url}/api/products/1`)).headers.get('x-cache')).toBe('MISS');
    await waitForKey(httpKey('/api/products/1'));
    const hit = await request(`${catalog.url}/api/products/1`);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.json.price).toBe(12);
  });
});

describe('a service without Redis and without an internal token', () => {
  it('has no cache, refuses every internal call, and reports redis disabled', async () => {
    const service = await startService('catalog', 'main.js', { USE_REDIS: '0', INTERNAL_TOKEN: '' });
    const ready = await request(`${service.url}/readyz`);
    expect(ready.json).toEqual({ status: 'ready', service: 'catalog', redis: 'disabled' });
    const read = await request(`${service.url}/api/products/1`);
    expect(read.status).toBe(200);
    expect(read.headers.get('x-cache')).toBeNull();
    const call = await request(`${service.url}/_internal/rpc/getProduct`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-internal-token': '' }, body: '{"args":["1"]}' });
    expect(call.status).toBe(401);
    const guessed = await request(`${service.url}/_internal/rpc/getProduct`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-internal-token': 'anything' }, body: '{"args":["1"]}' });
    expect(guessed.status).toBe(403);
    await service.proc.stop();
  });
});

describe('graceful shutdown', () => {
  it("on SIGTERM: readiness fails, in-flight requests finish, the service's own close does not crash, exit 0", async () => {
    const service = await startService('catalog', 'main.js', { USE_REDIS: '1', SHUTDOWN_DELAY_MS: '1000' });
    await waitForRedisStatus(service, 'up');
    const slow = request(`${service.url}/slow?ms=1500`);
    await eventually(() => expect(service.logs().some((line) => line.msg === 'slow started')).toBe(true));
    const signalled = Date.now();
    service.proc.child.kill('SIGTERM');
    // SHUTDOWN_DELAY_MS: still accepting, but no longer ready.
    await eventually(async () => {
      const ready = await request(`${service.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.json.status).toBe('shutting-down');
    });
    expect((await request(`${service.url}/healthz`)).status).toBe(200);
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('slow done');
    const result = await service.proc.child;
    expect(result.exitCode).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5000);
    const output = service.proc.output();
    expect(output).not.toMatch(/ERR_SERVER_NOT_RUNNING|Error:/);
    const messages = service.logs().map((line) => line.msg);
    expect(messages).toContain('own handler');
    expect(messages.at(-1)).toBe('stopped');
    await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();
  });

  it('closes connections still busy after SHUTDOWN_TIMEOUT_MS', async () => {
    const service = await startService('catalog', 'main.js', { USE_REDIS: '0', SHUTDOWN_TIMEOUT_MS: '300' });
    const slow = fetch(`${service.url}/slow?ms=5000`).then(
      (r) => r.text(),
      (e: unknown) => e,
    );
    await eventually(() => expect(service.logs().some((line) => line.msg === 'slow started')).toBe(true));
    const signalled = Date.now();
    service.proc.child.kill('SIGTERM');
    const result = await service.proc.child;
    expect(result.exitCode).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(4000);
    expect(await slow).toBeInstanceOf(Error);
    expect(service.logs().some((line) => line.msg === 'shutdown timeout: closing the remaining connections')).toBe(true);
  });
});
