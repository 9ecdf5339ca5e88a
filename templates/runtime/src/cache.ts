import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import type { ActiveConfig, CacheRoute } from './config';
import { logger } from './logger';
import { cacheRequests } from './metrics';
import { redisClient } from './redis';
import { rawPath } from './routes';

/**
 * Cache-aside over Redis, failing open: when Redis is absent, down or slower than the command timeout, requests
 * go to the service's code as if there were no cache.
 *
 * Keys (prefix `cache:`):
 * - `cache:http:<service>:<identity>:<url>`: a cached GET response; identity is `anon` or a SHA-256 of the
 *   request's Authorization and Cookie headers, so one caller's response is never served to another.
 * - `cache:rpc:<service>:<target>:<operation>:<sha256 of the JSON args>`: a cached callRemote result.
 * - `cache:tag:<tag>`: a set of the keys whose value depends on entity `<tag>`.
 * - `cache:gen:<tag>`: a counter bumped by every invalidation of `<tag>`. A value computed while a write ran
 *   is not stored: the store checks that the counters it read before computing are unchanged, so a slow read
 *   cannot put back what a write just invalidated.
 */
export const CACHE_PREFIX = 'cache:';
/** Responses larger than this are served but not cached. */
export const MAX_CACHED_BYTES = 1024 * 1024;

const tagSetKey = (tag: string) => `${CACHE_PREFIX}tag:${tag}`;
const generationKey = (tag: string) => `${CACHE_PREFIX}gen:${tag}`;

// KEYS: entry, tag sets (n), generations (n). ARGV: value, ttl, expected generations (n).
const STORE_SCRIPT = `
local n = (#KEYS - 1) / 2
for i = 1, n do
  local gen = redis.call('GET', KEYS[1 + n + i]) or '0'
  if gen ~= ARGV[2 + i] then return 0 end
end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
for i = 1, n do
  redis.call('SADD', KEYS[1 + i], KEYS[1])
  if redis.call('TTL', KEYS[1 + i]) < ttl then redis.call('EXPIRE', KEYS[1 + i], ttl) end
end
return 1
`;

// KEYS: pairs of (tag set, generation). Returns the new generations.
const INVALIDATE_SCRIPT = `
local generations = {}
for i = 1, #KEYS, 2 do
  local members = redis.call('SMEMBERS', KEYS[i])
  for _, key in ipairs(members) do redis.call('DEL', key) end
  redis.call('DEL', KEYS[i])
  generations[#generations + 1] = tostring(redis.call('INCR', KEYS[i + 1]))
end
return generations
`;

export interface Lookup {
  value: string | null;
  generations: string[];
}

/** The cached value and the generations of its tags, in one round trip. */
export async function lookup(redis: Redis, key: string, tags: string[]): Promise<Lookup> {
  const values = await redis.mget(key, ...tags.map(generationKey));
  return { value: values[0] ?? null, generations: values.slice(1).map((g) => g ?? '0') };
}

/** Stores a value unless one of its tags was invalidated since `lookup`; true when stored. */
export async function store(redis: Redis, key: string, value: string, ttlSeconds: number, tags: string[], generations: string[]): Promise<boolean> {
  const keys = [key, ...tags.map(tagSetKey), ...tags.map(generationKey)];
  const stored = await redis.eval(STORE_SCRIPT, keys.length, ...keys, value, String(ttlSeconds), ...generations);
  return stored === 1;
}

/** The current generations of these tags; null when Redis is not there. Never throws. */
export async function readGenerations(tags: readonly string[]): Promise<string[] | null> {
  const redis = redisClient();
  if (redis === null || tags.length === 0) return null;
  try {
    return (await redis.mget(...tags.map(generationKey))).map((g) => g ?? '0');
  } catch {
    return null;
  }
}

/**
 * Drops every cached value that depends on one of these tags and returns the tags' new generations. Never
 * throws (null): when Redis cannot be reached the values it holds expire with their TTL.
 */
export async function invalidateTags(tags: readonly string[]): Promise<string[] | null> {
  if (tags.length === 0) return null;
  const redis = redisClient();
  if (redis === null) return null;
  const keys = tags.flatMap((tag) => [tagSetKey(tag), generationKey(tag)]);
  try {
    const generations = await redis.eval(INVALIDATE_SCRIPT, keys.length, ...keys);
    return Array.isArray(generations) ? generations.map(String) : null;
  } catch (error) {
    logger.warn({ err: { message: (error as Error).message }, tags }, 'cache invalidation failed: cached values of these tags live until their TTL');
    return null;
  }
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `anon`, or a hash of the credentials the request carries. */
export function callerIdentity(req: IncomingMessage): string {
  const authorization = req.headers.authorization;
  const cookie = req.headers.cookie;
  if (!authorization && !cookie) return 'anon';
  return sha256(`${authorization ?? ''}\n${cookie ?? ''}`);
}

interface CachedResponse {
  status: number;
  contentType: string;
  /** base64 */
  body: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const CACHEABLE_TYPE = /^(application\/([\w.+-]*\+)?json|text\/)/i;

type Next = (error?: unknown) => void;
type Middleware = (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: Next) => void;

/**
 * The HTTP cache: GET requests to a cacheable route are answered from Redis when it holds them (`x-cache: HIT`),
 * else by the code and stored when the answer is a 200 JSON or text response (`x-cache: MISS`); when Redis fails,
 * `x-cache: BYPASS`. Any other request (not GET, HEAD or OPTIONS) that succeeds drops the values of the
 * service's write tags before its response reaches the client. Null when the service does not use Redis.
 */
export function cacheMiddleware(active: ActiveConfig): Middleware | null {
  const redis = redisClient();
  if (redis === null) return null;
  const { service } = active.config;
  const writes = active.config.cache.writes;
  return (req, res, next) => {
    const method = req.method ?? 'GET';
    const url = req.originalUrl ?? req.url ?? '/';
    if (method === 'GET') {
      const route = active.cacheRoutes.match(method, rawPath(url));
      if (route) {
        serveCached(redis, service, route, req, res, next, url).catch(next);
        return;
      }
    } else if (!SAFE_METHODS.has(method) && writes.length > 0) {
      holdUntilInvalidated(res, writes);
    }
    next();
  };
}

async function serveCached(redis: Redis, service: string, route: CacheRoute, req: IncomingMessage, res: ServerResponse, next: Next, url: string): Promise<void> {
  const key = `${CACHE_PREFIX}http:${service}:${callerIdentity(req)}:${url}`;
  const count = (result: 'hit' | 'miss' | 'bypass') => cacheRequests.inc({ service, route: route.path, result });
  let found: Lookup;
  try {
    found = await lookup(redis, key, route.tags);
  } catch {
    count('bypass');
    res.setHeader('x-cache', 'BYPASS');
    next();
    return;
  }
  const cached = found.value === null ? null : parseCached(found.value);
  if (cached !== null) {
    count('hit');
    const body = Buffer.from(cached.body, 'base64');
    res.statusCode = cached.status;
    res.setHeader('content-type', cached.contentType);
    res.setHeader('content-length', body.length);
    res.setHeader('x-cache', 'HIT');
    res.end(body);
    return;
  }
  count('miss');
  res.setHeader('x-cache', 'MISS');
  captureBody(res, (body) => {
    const contentType = res.getHeader('content-type');
    const cacheControl = String(res.getHeader('cache-control') ?? '');
    const encoding = String(res.getHeader('content-encoding') ?? 'identity');
    if (
      res.statusCode !== 200 ||
      typeof contentType !== 'string' ||
      !CACHEABLE_TYPE.test(contentType) ||
      res.hasHeader('set-cookie') ||
      /no-store/i.test(cacheControl) ||
      encoding.toLowerCase() !== 'identity'
    ) {
      return;
    }
    const value: CachedResponse = { status: res.statusCode, contentType, body: body.toString('base64') };
    store(redis, key, JSON.stringify(value), route.ttlSeconds, route.tags, found.generations).catch(() => {
      // Fail open: the next request computes it again.
    });
  });
  next();
}

function parseCached(text: string): CachedResponse | null {
  try {
    const value = JSON.parse(text) as Partial<CachedResponse>;
    if (typeof value.status === 'number' && typeof value.contentType === 'string' && typeof value.body === 'string') return value as CachedResponse;
  } catch {
    // An entry this version cannot read is a miss.
  }
  return null;
}

type WriteArgs = [chunk?: unknown, encoding?: unknown, callback?: unknown];

function toBuffer(chunk: unknown, encoding: unknown): Buffer | null {
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return null;
}

/** Collects what the code writes (up to MAX_CACHED_BYTES) and hands it over once the response is complete. */
function captureBody(res: ServerResponse, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  const collect = (chunk: unknown, encoding: unknown) => {
    if (overflow || typeof chunk === 'function') return;
    const buffer = toBuffer(chunk, encoding);
    if (buffer === null) return;
    size += buffer.length;
    if (size > MAX_CACHED_BYTES) {
      overflow = true;
      chunks.length = 0;
      return;
    }
    chunks.push(Buffer.from(buffer));
  };
  const write = res.write as (...args: WriteArgs) => boolean;
  const end = res.end as (...args: WriteArgs) => ServerResponse;
  res.write = function patchedWrite(this: ServerResponse, ...args: WriteArgs) {
    collect(args[0], args[1]);
    return write.apply(this, args);
  } as ServerResponse['write'];
  res.end = function patchedEnd(this: ServerResponse, ...args: WriteArgs) {
    collect(args[0], args[1]);
    return end.apply(this, args);
  } as ServerResponse['end'];
  res.once('finish', () => {
    if (!overflow) done(Buffer.concat(chunks));
  });
}

/**
 * Delays the end of a successful write's response until its tags are invalidated, so a client that reads right
 * after its write never gets the value from before it. Headers the code already flushed stay as they are.
 */
function holdUntilInvalidated(res: ServerResponse, tags: readonly string[]): void {
  const end = res.end as (...args: WriteArgs) => ServerResponse;
  let ended = false;
  res.end = function heldEnd(this: ServerResponse, ...args: WriteArgs) {
    // A second end while the first waits does what it would have done after an end: nothing.
    if (ended) return res;
    if (res.statusCode < 200 || res.statusCode >= 300) {
      res.end = end as ServerResponse['end'];
      return end.apply(this, args);
    }
    ended = true;
    invalidateTags(tags).finally(() => {
      res.end = end as ServerResponse['end'];
      end.apply(res, args);
    });
    return res;
  } as ServerResponse['end'];
}
