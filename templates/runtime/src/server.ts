import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { cacheMiddleware } from './cache';
import { activeConfig, type ActiveConfig } from './config';
import { lifecycle, requestContext } from './context';
import { INTERNAL_RPC_PATH, internalRouter } from './internal';
import { logger } from './logger';
import { httpDuration, httpRequests, registry, startDefaultMetrics } from './metrics';
import { closeRedis, redisStatus } from './redis';
import { RouteTable, rawPath } from './routes';

/** Port when PORT is not set. */
export const DEFAULT_PORT = 8080;
/** How long a shutdown waits for in-flight requests before it closes their connections. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** The runtime's own endpoints, reported under their own path in metrics and logs. */
const OWN_ROUTES = new RouteTable([
  { method: 'GET', path: '/healthz' },
  { method: 'GET', path: '/readyz' },
  { method: 'GET', path: '/metrics' },
  { method: 'ALL', path: `${INTERNAL_RPC_PATH}/:operation` },
]);
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);
/** An incoming x-request-id is kept when it is printable ASCII without spaces, up to 200 characters. */
const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

interface RequestInfo {
  id: string;
  start: bigint;
  route: string;
}

const requests = new WeakMap<IncomingMessage, RequestInfo>();
const servers = new Set<Server>();
let listening = 0;
let shuttingDown = false;
/** Set when the servers start closing (after SHUTDOWN_DELAY_MS). */
let draining = false;
let signalsInstalled = false;

/**
 * The service's express, resolved from the service (its entry script, then the working directory), so the
 * runtime uses the same copy as the code it serves; the runtime's own resolution last.
 */
function loadExpress(): typeof import('express') {
  const bases = [process.argv[1] ? path.resolve(process.argv[1]) : undefined, path.join(process.cwd(), 'package.json'), __filename];
  for (const base of bases) {
    if (base === undefined) continue;
    try {
      return createRequire(base)('express') as typeof import('express');
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  throw new Error('the runtime needs express (4.x): add it to the service dependencies');
}

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  return Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}

function routeLabel(active: ActiveConfig, method: string, url: string): string {
  const path = rawPath(url);
  return OWN_ROUTES.match(method, path)?.path ?? active.routes.match(method, path)?.path ?? 'unmatched';
}

/** Calls `done` once, when the response is complete or the connection closed before it was. */
function onResponseDone(res: ServerResponse, done: (aborted: boolean) => void): void {
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    done(!res.writableFinished);
  };
  res.once('finish', once);
  res.once('close', once);
}

/**
 * Holds `res.end` until the calls the handler started without waiting for them have settled: a client that sends its
 * next request after this answer must see their effects, as it did when they ran inside the monolith.
 */
function holdUntilSettled(res: ServerResponse, pending: Set<Promise<void>>): void {
  const end = res.end;
  res.end = function heldEnd(this: ServerResponse, ...args: unknown[]) {
    if (pending.size === 0) return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    const settle = async () => {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    };
    void settle().then(() => (end as (...a: unknown[]) => ServerResponse).apply(this, args));
    return this;
  } as ServerResponse['end'];
}

function statusLabel(res: ServerResponse, aborted: boolean): string {
  // 499 (nginx's "client closed request"): the client left before the response was complete.
  return aborted ? '499' : String(res.statusCode);
}

/**
 * Serves the service's app (instead of its `app.listen(port, callback)`): listens on PORT (default 8080; the
 * port the code asked for is ignored) and HOST (default all interfaces), in front of the app: request ids,
 * request logs, metrics, `/healthz`, `/readyz`, `/metrics`, internal calls, the cache. Calls `callback` once
 * listening and returns the server. SIGTERM and SIGINT drain it (see README).
 */
export function serve(app: RequestListener, ...listenArgs: unknown[]): Server {
  const active = activeConfig();
  const { service } = active.config;
  // Whatever the monolith passed to listen(port[, host][, backlog][, callback]): only the callback is kept.
  const onListening = [...listenArgs].reverse().find((a): a is () => void => typeof a === 'function');
  const express = loadExpress();
  startDefaultMetrics();

  const outer = express();
  outer.disable('x-powered-by');
  outer.set('etag', false);

  // 1. Request id: the caller's x-request-id, else a new one; on the response and in every log line.
  outer.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.headers['x-request-id'] = id;
    res.setHeader('x-request-id', id);
    if (shuttingDown) res.setHeader('connection', 'close');
    requests.set(req, { id, start: process.hrtime.bigint(), route: routeLabel(active, req.method, req.originalUrl || req.url) });
    const context = { requestId: id, pending: new Set<Promise<void>>() };
    holdUntilSettled(res, context.pending);
    requestContext.run(context, next);
  });

  // 2. One log line per response.
  outer.use((req: Request, res: Response, next: NextFunction) => {
    const info = requests.get(req)!;
    onResponseDone(res, (aborted) => {
      const durationMs = Number(process.hrtime.bigint() - info.start) / 1e6;
      const status = statusLabel(res, aborted);
      const line = { requestId: info.id, method: req.method, route: info.route, status: Number(status), durationMs: Math.round(durationMs * 10) / 10, ...(aborted ? { aborted: true } : {}) };
      if (res.statusCode >= 500) logger.error(line, 'request');
      else if (res.statusCode >= 400 || aborted) logger.warn(line, 'request');
      else if (PROBES.has(info.route)) logger.debug(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  });

  // 3. Metrics, labelled with the route pattern (never the raw URL).
  outer.use((req: Request, res: Response, next: NextFunction) => {
    const info = requests.get(req)!;
    onResponseDone(res, (aborted) => {
      const labels = { service, method: req.method, route: info.route, status: statusLabel(res, aborted) };
      httpRequests.inc(labels);
      httpDuration.observe(labels, Number(process.hrtime.bigint() - info.start) / 1e9);
    });
    next();
  });

  // The probes and metrics are for the platform (kubelet, Prometheus), which calls the pod directly. A request the
  // gateway forwarded (it always sets this header) is a client's: it goes to the monolith's app, which answers what
  // it always answered for these paths (its own /healthz, or its 404).
  const fromGateway = (req: Request) => req.headers['x-decompose-gateway'] !== undefined;
  outer.get('/healthz', (req: Request, res: Response, next: NextFunction) => {
    if (fromGateway(req)) return next();
    res.setHeader('cache-control', 'no-store');
    res.status(200).json({ status: 'ok' });
  });

  outer.get('/readyz', (req: Request, res: Response, next: NextFunction) => {
    if (fromGateway(req)) return next();
    redisStatus()
      .then((redis) => {
        const redisRequired = process.env.REDIS_REQUIRED === 'true';
        const status = shuttingDown ? 'shutting-down' : listening === 0 ? 'starting' : redisRequired && redis === 'down' ? 'redis-unavailable' : 'ready';
        res.setHeader('cache-control', 'no-store');
        res.status(status === 'ready' ? 200 : 503).json({ status, service, redis });
      })
      .catch(next);
  });

  outer.get('/metrics', (req: Request, res: Response, next: NextFunction) => {
    if (fromGateway(req)) return next();
    registry
      .metrics()
      .then((text) => {
        res.setHeader('content-type', registry.contentType);
        res.setHeader('cache-control', 'no-store');
        res.end(text);
      })
      .catch(next);
  });

  outer.use(INTERNAL_RPC_PATH, internalRouter(express, active));

  const cache = cacheMiddleware(active);
  if (cache !== null) outer.use(cache);

  // The service's app last, with its own final handler (its 404 and error pages) and its own query parser.
  outer.use((req: Request, res: Response) => {
    delete (req as { query?: unknown }).query;
    app(req, res);
  });

  const server = http.createServer(outer);
  // Longer than the proxies' idle timeouts (nginx: 60 s), so a proxy never reuses a connection being closed.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  guardClose(server);
  servers.add(server);
  server.once('listening', () => {
    listening += 1;
    lifecycle.listening = true;
    const address = server.address();
    logger.info({ port: typeof address === 'object' && address !== null ? address.port : address }, 'listening');
  });
  server.once('close', () => {
    listening = Math.max(0, listening - 1);
  });
  installSignalHandlers();
  const host = process.env.HOST?.trim() || undefined;
  server.listen({ port: envNumber('PORT', DEFAULT_PORT, 0, 65535), host }, onListening === undefined ? undefined : () => onListening.call(server));
  return server;
}

const closeStates = new WeakMap<Server, 'open' | 'closing' | 'closed'>();

/**
 * `server.close()` may be called by the runtime's shutdown and by the service's own signal handler, in either
 * order: the second call waits for the same close instead of failing with ERR_SERVER_NOT_RUNNING. During a
 * shutdown, the service's call waits for the runtime's (which comes after SHUTDOWN_DELAY_MS).
 */
function guardClose(server: Server): void {
  const original = server.close.bind(server);
  closeStates.set(server, 'open');
  server.once('close', () => closeStates.set(server, 'closed'));
  server.close = function guardedClose(callback?: (error?: Error) => void) {
    const state = closeStates.get(server);
    if (state === 'open' && (!shuttingDown || draining)) {
      if (server.listening) closeStates.set(server, 'closing');
      original(callback);
    } else if (callback !== undefined) {
      if (state === 'closed') process.nextTick(() => callback());
      else server.once('close', () => callback());
    }
    return server;
  } as Server['close'];
}

function installSignalHandlers(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  // First in line, so a handler of the service's own that exits right away cannot cut the drain short.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.prependListener(signal, () => {
      void shutdown(signal);
    });
  }
}

/**
 * Until the drain is over, `process.exit()` (from the service's own signal handler, typically) only records its
 * code; the runtime exits with it (or 0) once done.
 */
function holdExit(): (code?: number) => void {
  const realExit = process.exit.bind(process);
  let requested: number | string | null | undefined;
  process.exit = function deferredExit(code?: number | string | null) {
    requested ??= code;
    logger.info({ code }, 'process.exit() waits for the drain');
    return undefined as never;
  } as typeof process.exit;
  return (code?: number) => {
    process.exit = realExit;
    realExit(requested ?? code);
  };
}

function drain(server: Server): Promise<void> {
  return new Promise((resolve) => {
    // Idle keep-alive connections close now; busy ones as soon as their response is done.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Graceful shutdown: readiness answers 503 (for SHUTDOWN_DELAY_MS, default 0, new requests are still accepted),
 * the servers stop accepting, idle connections close, in-flight
 * requests finish (up to SHUTDOWN_TIMEOUT_MS, then their connections are closed), Redis disconnects, exit 0.
 */
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  const exit = holdExit();
  const timeoutMs = envNumber('SHUTDOWN_TIMEOUT_MS', DEFAULT_SHUTDOWN_TIMEOUT_MS, 0, 24 * 3600 * 1000);
  const delayMs = envNumber('SHUTDOWN_DELAY_MS', 0, 0, 3600 * 1000);
  if (delayMs > 0) {
    // Where no preStop hook does it: keep answering while load balancers see /readyz fail.
    logger.info({ signal, delayMs }, 'shutting down: /readyz fails, still accepting requests');
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
  logger.info({ signal, timeoutMs }, 'shutting down: draining in-flight requests');
  draining = true;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
  });
  const late = await Promise.race([Promise.all([...servers].map(drain)).then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    logger.warn({ timeoutMs }, 'shutdown timeout: closing the remaining connections');
    for (const server of servers) server.closeAllConnections();
  }
  await closeRedis();
  logger.info('stopped');
  exit(0);
}
