import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response, Router } from 'express';
import { invalidateTags, readGenerations } from './cache';
import type { ActiveConfig } from './config';
import { logger } from './logger';
import { encode, reviver } from './codec';

/** Where other services call this one's operations; the gateway never routes it. */
export const INTERNAL_RPC_PATH = '/_internal/rpc';
/**
 * Request header of a caller that caches the result (`want`), and response header with, per write tag, the
 * generation before the call and after its invalidation (URI-encoded JSON `{"tag": [before, after]}`): the
 * caller may store a result that the call's own invalidation would otherwise refuse.
 */
export const GENERATIONS_HEADER = 'x-cache-generations';
/** Largest request body of an internal call. */
export const INTERNAL_BODY_LIMIT = '5mb';

type Operation = (...args: any[]) => unknown;

const operations = new Map<string, Operation>();

/** Makes `fn` callable by other services as `operation` (through `callRemote`). */
export function registerInternal(operation: string, fn: (...args: any[]) => unknown): void {
  if (typeof operation !== 'string' || operation === '') throw new TypeError('registerInternal() needs an operation name');
  if (typeof fn !== 'function') throw new TypeError(`registerInternal(${JSON.stringify(operation)}) needs a function`);
  if (operations.has(operation) && operations.get(operation) !== fn) logger.warn({ operation }, 'internal operation registered twice: the last one answers');
  operations.set(operation, fn);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Constant-time comparison (of fixed-length digests, so the length of the token does not leak either). */
function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function sendError(res: Response, status: number, name: string, message: string, code: string, details: Record<string, unknown> = {}): void {
  res.status(status).type('application/json').send(JSON.stringify({ error: { name, message, code, status, details } }));
}

const OWN_FIELDS = new Set(['name', 'message', 'stack', 'status', 'statusCode', 'code', 'expose']);

/** The error's own enumerable fields that survive JSON (what the caller's RemoteCallError copies back). */
function jsonSafeDetails(error: unknown): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  if (typeof error !== 'object' || error === null) return details;
  for (const [key, value] of Object.entries(error)) {
    if (OWN_FIELDS.has(key)) continue;
    try {
      const text = JSON.stringify(value);
      if (text !== undefined) details[key] = JSON.parse(text);
    } catch {
      // circular or BigInt: left out
    }
  }
  return details;
}

/** err.status ?? err.statusCode ?? 500, as a whole number within 400–599. */
export function errorStatus(error: unknown): number {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as { status?: unknown; statusCode?: unknown };
  const raw = fields.status ?? fields.statusCode ?? 500;
  const status = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(status)) return 500;
  return Math.min(599, Math.max(400, Math.trunc(status)));
}

/**
 * `POST /_internal/rpc/:operation` with `{"args": [...]}` and the `x-internal-token` header: calls the
 * registered function and answers `{"result": …}` (no `result` for undefined), or `error` (name, message, code,
 * status, details) with the error's status. A successful call invalidates the service's write tags
 * before it answers (see GENERATIONS_HEADER).
 */
export function internalRouter(express: typeof import('express'), active: ActiveConfig): Router {
  const router = express.Router();
  const authenticate = (req: Request, res: Response, next: NextFunction) => {
    const expected = process.env.INTERNAL_TOKEN;
    const given = req.get('x-internal-token');
    if (given === undefined || given === '') return sendError(res, 401, 'UnauthorizedError', 'internal calls need the x-internal-token header', 'UNAUTHORIZED');
    if (!expected || !tokenMatches(given, expected)) return sendError(res, 403, 'ForbiddenError', 'wrong internal token', 'FORBIDDEN');
    next();
  };
  router.post('/:operation', authenticate, express.json({ limit: INTERNAL_BODY_LIMIT, reviver }), async (req: Request, res: Response) => {
    const operation = req.params.operation ?? '';
    const fn = operations.get(operation);
    if (fn === undefined) return sendError(res, 404, 'NotFoundError', `no internal operation ${JSON.stringify(operation)}`, 'UNKNOWN_OPERATION');
    const args: unknown = (req.body as { args?: unknown } | undefined)?.args ?? [];
    if (!Array.isArray(args)) return sendError(res, 400, 'BadRequestError', 'args must be a list', 'BAD_ARGS');
    const writes = active.config.cache.writes;
    const before = req.get(GENERATIONS_HEADER) === 'want' ? await readGenerations(writes) : null;
    let result: unknown;
    try {
      result = await fn(...args);
    } catch (error) {
      const status = errorStatus(error);
      const err = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown; code?: unknown; stack?: unknown };
      const name = typeof err.name === 'string' ? err.name : 'Error';
      const message = typeof err.message === 'string' ? err.message : String(error);
      const code = typeof err.code === 'string' || typeof err.code === 'number' ? err.code : undefined;
      if (status >= 500) logger.error({ operation, err: { name, message, stack: err.stack } }, 'internal operation failed');
      res
        .status(status)
        .type('application/json')
        .send(JSON.stringify({ error: { name, message, code, status, details: jsonSafeDetails(error) } }));
      return;
    }
    let body: string;
    try {
      body = result === undefined ? '{}' : encode({ result });
    } catch (error) {
      return sendError(res, 500, 'SerializationError', `the result of ${operation} is not JSON: ${(error as Error).message}`, 'RESULT_NOT_JSON');
    }
    const after = await invalidateTags(writes);
    if (before !== null && after !== null && after.length === writes.length) {
      const generations = Object.fromEntries(writes.map((tag, i) => [tag, [before[i], after[i]]]));
      res.setHeader(GENERATIONS_HEADER, encodeURIComponent(JSON.stringify(generations)));
    }
    res.status(200).type('application/json').send(body);
  });
  router.all('/:operation', (_req: Request, res: Response) => {
    res.setHeader('allow', 'POST');
    sendError(res, 405, 'MethodNotAllowedError', 'internal calls are POST requests', 'METHOD_NOT_ALLOWED');
  });
  // Body-parser failures (malformed JSON, too large) of this route only.
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = errorStatus(error);
    const err = error as { message?: unknown; type?: unknown };
    sendError(res, status, 'BadRequestError', typeof err.message === 'string' ? err.message : 'bad request', typeof err.type === 'string' ? err.type : 'BAD_REQUEST');
  });
  return router;
}
