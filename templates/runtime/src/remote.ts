import { randomUUID } from 'node:crypto';
import { CACHE_PREFIX, lookup, sha256, store } from './cache';
import { decode, encode } from './codec';
import { maybeActiveConfig } from './config';
import { currentRequestId, lifecycle, requestContext } from './context';
import { GENERATIONS_HEADER } from './internal';
import { asSharedError } from './errors';
import { logger } from './logger';
import { cacheRequests } from './metrics';
import { redisClient } from './redis';

export interface CallOptions {
  /** Safe to repeat: only then are failed attempts (network error, timeout, 502, 503, 504) retried. */
  idempotent: boolean;
  /** Per attempt; default 5000. */
  timeoutMs?: number;
  /** Further attempts for an idempotent call; default 2. */
  retries?: number;
  /** Cache the result in Redis (same rules as the HTTP cache: fail open, dropped by writes to its tags). */
  cache?: { ttlSeconds: number; tags: string[] };
}

interface RemoteCallErrorInit {
  service: string;
  operation: string;
  status: number;
  name?: string;
  code?: string | number;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * A failed call to another service. It carries the remote error's name, message, code and details, and the
 * remote status as `status` and `statusCode`, so an Express error handler that answers
 * `err.status ?? err.statusCode ?? 500` answers what the monolith answered. The remote error's own fields
 * (from `details`) are copied onto it as well. Local failures: 500 (not configured), 503 (unreachable),
 * 504 (timed out), 502 (an answer that is not the runtime's).
 */
export class RemoteCallError extends Error {
  readonly service: string;
  readonly operation: string;
  readonly status: number;
  readonly statusCode: number;
  /** The remote error's code (as it was: string or number), or the local failure's. */
  readonly code: string | number | undefined;
  readonly details: Record<string, unknown>;
  /** Whether the message may be shown to the client (4xx), as http-errors does. */
  readonly expose: boolean;

  constructor(message: string, init: RemoteCallErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = init.name ?? 'RemoteCallError';
    this.service = init.service;
    this.operation = init.operation;
    this.status = init.status;
    this.statusCode = init.status;
    this.code = init.code;
    this.details = init.details ?? {};
    this.expose = init.status >= 400 && init.status < 500;
    for (const [key, value] of Object.entries(this.details)) {
      if (!(key in this)) (this as Record<string, unknown>)[key] = value;
    }
  }
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);
/** Retries of a refused connection for any call (nothing was delivered). */
const RETRIES_WHEN_REFUSED = 2;

/** How long calls made before this service listens wait for a refused service (STARTUP_WAIT_MS, default 30 s). */
function startupWaitMs(): number {
  const value = Number(process.env.STARTUP_WAIT_MS);
  return Number.isFinite(value) && value >= 0 ? value : 30_000;
}
const BACKOFF_BASE_MS = 100;

/** `order-history` → `ORDER_HISTORY_URL`. */
export function serviceUrlEnv(service: string): string {
  return `${service.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_URL`;
}

/**
 * Calls `operation` on `service` (POST <SERVICE>_URL/_internal/rpc/<operation>, authenticated by INTERNAL_TOKEN,
 * carrying the current request id) and returns its result; the remote error becomes a {@link RemoteCallError}.
 * Arguments and results travel as JSON: Dates arrive as strings, undefined array items as null.
 */
export async function callRemote(service: string, operation: string, args: unknown[], options: CallOptions): Promise<any> {
  const cacheOptions = options.cache;
  const redis = cacheOptions ? redisClient() : null;
  if (!cacheOptions || redis === null) return (await invoke(service, operation, args, options, false)).result;

  const self = maybeActiveConfig()?.config.service ?? 'unknown';
  const route = `rpc:${service}/${operation}`;
  const key = `${CACHE_PREFIX}rpc:${self}:${service}:${operation}:${sha256(JSON.stringify(args) ?? 'undefined')}`;
  let found;
  try {
    found = await lookup(redis, key, cacheOptions.tags);
  } catch {
    cacheRequests.inc({ service: self, route, result: 'bypass' });
    return (await invoke(service, operation, args, options, false)).result;
  }
  if (found.value !== null) {
    try {
      const cached = decode(found.value) as { result?: unknown };
      cacheRequests.inc({ service: self, route, result: 'hit' });
      return cached.result;
    } catch {
      // unreadable: a miss
    }
  }
  cacheRequests.inc({ service: self, route, result: 'miss' });
  const { result, generations } = await invoke(service, operation, args, options, true);
  // A tag the call itself invalidated (the remote service writes it) moved by exactly that invalidation: the
  // result is as fresh as that, so store it against the new generation. Any other move refuses the store.
  const expected = cacheOptions.tags.map((tag, i) => {
    const moved = generations?.[tag];
    const seen = found.generations[i]!;
    return moved && moved[0] === seen && Number(moved[1]) === Number(moved[0]) + 1 ? moved[1] : seen;
  });
  const encoded = encode(result === undefined ? {} : { result });
  store(redis, key, encoded, cacheOptions.ttlSeconds, cacheOptions.tags, expected).catch(() => {
    // fail open
  });
  return result;
}

/**
 * A call of a function that is synchronous in the monolith and whose result the calling code never used
 * (`mailer.send({ … });`): it starts at once and returns nothing. The response to the request being served waits for
 * it (see serve), so the client sees its effect when it gets its answer, as it did in the monolith. A failure is
 * logged: there is no caller left to throw to. Not retried, since the operation may not be safe to repeat.
 */
export function callRemoteDeferred(service: string, operation: string, args: unknown[]): void {
  const context = requestContext.getStore();
  const call: Promise<void> = invoke(service, operation, args, { idempotent: false }, false).then(
    () => undefined,
    (error: unknown) => {
      logger.error({ target: service, operation, err: error instanceof Error ? { name: error.name, message: error.message } : String(error) }, 'deferred call failed');
    },
  );
  if (!context) return;
  context.pending.add(call);
  void call.finally(() => context.pending.delete(call));
}

type Generations = Record<string, [string, string]>;

async function invoke(service: string, operation: string, args: unknown[], options: CallOptions, wantGenerations: boolean): Promise<{ result: unknown; generations: Generations | null }> {
  const envName = serviceUrlEnv(service);
  const base = process.env[envName];
  if (!base) {
    throw new RemoteCallError(`cannot call ${service}.${operation}: ${envName} is not set (the base URL of the ${service} service)`, {
      service,
      operation,
      status: 500,
      code: 'SERVICE_URL_MISSING',
    });
  }
  const token = process.env.INTERNAL_TOKEN;
  if (!token) {
    throw new RemoteCallError(`cannot call ${service}.${operation}: INTERNAL_TOKEN is not set`, { service, operation, status: 500, code: 'INTERNAL_TOKEN_MISSING' });
  }
  const url = `${base.replace(/\/+$/, '')}/_internal/rpc/${encodeURIComponent(operation)}`;
  const body = encode({ args });
  const requestId = currentRequestId() ?? randomUUID();
  const timeoutMs = options.timeoutMs ?? 5000;
  const attempts = options.idempotent ? 1 + Math.max(0, Math.floor(options.retries ?? 2)) : 1;

  const started = Date.now();
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await attemptCall(url, body, token, requestId, timeoutMs, service, operation, wantGenerations);
    if (outcome.ok) return { result: outcome.result, generations: outcome.generations };
    const error = outcome.error;
    // A refused connection never reached the other service, so even a write may be sent again. While this
    // service is still starting (seeding data, warming caches before it listens), wait for the others to come up:
    // services start in any order.
    const refused = error.code === 'ECONNREFUSED';
    if (refused && !lifecycle.listening && Date.now() - started < startupWaitMs()) {
      if (attempt === 1 || attempt % 10 === 0) logger.info({ target: service, operation }, 'waiting for the service to come up');
      await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    if (!(outcome.retryable && (attempt < attempts || (refused && attempt < 1 + RETRIES_WHEN_REFUSED)))) throw asSharedError(error);
    const delay = BACKOFF_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
    logger.warn({ target: service, operation, attempt, status: error.status, code: error.code, retryInMs: Math.round(delay) }, 'remote call failed, retrying');
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

type Outcome = { ok: true; result: unknown; generations: Generations | null } | { ok: false; error: RemoteCallError; retryable: boolean };

async function attemptCall(url: string, body: string, token: string, requestId: string, timeoutMs: number, service: string, operation: string, wantGenerations: boolean): Promise<Outcome> {
  let status: number;
  let text: string;
  let generationsHeader: string | null;
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', 'x-internal-token': token, 'x-request-id': requestId };
    if (wantGenerations) headers[GENERATIONS_HEADER] = 'want';
    const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    status = response.status;
    generationsHeader = response.headers.get(GENERATIONS_HEADER);
    text = await response.text();
  } catch (cause) {
    const timedOut = (cause as Error)?.name === 'TimeoutError';
    const code = timedOut ? 'ETIMEDOUT' : networkCode(cause);
    const message = timedOut ? `${service}.${operation} did not answer within ${timeoutMs} ms` : `${service}.${operation} is unreachable (${code})`;
    return { ok: false, retryable: true, error: new RemoteCallError(message, { service, operation, status: timedOut ? 504 : 503, code, cause }) };
  }
  let parsed: unknown;
  try {
    parsed = decode(text);
  } catch {
    parsed = undefined;
  }
  if (status >= 200 && status < 300 && isObject(parsed)) return { ok: true, result: parsed.result, generations: parseGenerations(generationsHeader) };
  const remote = isObject(parsed) && isObject(parsed.error) ? parsed.error : null;
  if (remote === null) {
    // Not an answer of the runtime: a proxy or a crashed process answered.
    const errorStatus = status >= 400 && status <= 599 ? status : 502;
    const error = new RemoteCallError(`${service}.${operation} answered HTTP ${status} without a runtime response`, { service, operation, status: errorStatus, code: 'BAD_RESPONSE' });
    return { ok: false, retryable: RETRYABLE_STATUS.has(status), error };
  }
  const remoteStatus = typeof remote.status === 'number' && remote.status >= 400 && remote.status <= 599 ? remote.status : status >= 400 && status <= 599 ? status : 500;
  const error = new RemoteCallError(typeof remote.message === 'string' ? remote.message : `${service}.${operation} failed`, {
    service,
    operation,
    status: remoteStatus,
    ...(typeof remote.name === 'string' ? { name: remote.name } : {}),
    ...(typeof remote.code === 'string' || typeof remote.code === 'number' ? { code: remote.code as string | number } : {}),
    ...(isObject(remote.details) ? { details: remote.details } : {}),
  });
  return { ok: false, retryable: RETRYABLE_STATUS.has(status), error };
}

function parseGenerations(header: string | null): Generations | null {
  if (header === null) return null;
  try {
    const value: unknown = JSON.parse(decodeURIComponent(header));
    if (!isObject(value)) return null;
    const out: Generations = {};
    for (const [tag, pair] of Object.entries(value)) {
      const [before, after] = Array.isArray(pair) ? (pair as unknown[]) : [];
      if (typeof before === 'string' && typeof after === 'string') out[tag] = [before, after];
    }
    return out;
  } catch {
    return null;
  }
}

function networkCode(cause: unknown): string {
  const inner = (cause as { cause?: { code?: unknown } })?.cause;
  return typeof inner?.code === 'string' ? inner.code : 'ECONNFAILED';
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
