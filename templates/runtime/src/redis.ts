import { Redis } from 'ioredis';
import { maybeActiveConfig } from './config';
import { logger } from './logger';

/** Slowest Redis answer the cache waits for before it serves from the code instead. */
export const REDIS_COMMAND_TIMEOUT_MS = 150;

export type RedisStatus = 'up' | 'down' | 'disabled';

let client: Redis | null | undefined;
let reportedDown = false;

/**
 * The shared Redis client, created on first use (never at import): null when the service does not cache
 * (`redis: false` in its configuration) or REDIS_URL is not set. Fail fast: no offline queue, a short command
 * timeout and one retry, so a slow or absent Redis costs a request at most ~150 ms; reconnection goes on in the
 * background with a capped backoff.
 */
export function redisClient(): Redis | null {
  if (client !== undefined) return client;
  const url = process.env.REDIS_URL;
  const active = maybeActiveConfig();
  if (!active?.config.redis || !url) {
    if (active?.config.redis) logger.warn('REDIS_URL is not set: caching is disabled');
    client = null;
    return client;
  }
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  });
  // Without a listener ioredis prints every failed reconnection; say it once per outage instead.
  redis.on('error', (error: Error) => {
    if (reportedDown) return;
    reportedDown = true;
    logger.warn({ err: { message: error.message } }, 'Redis unavailable: caching is bypassed until it is back');
  });
  redis.on('ready', () => {
    if (reportedDown) logger.info('Redis is back');
    reportedDown = false;
  });
  client = redis;
  return client;
}

/** up: answers PING in time; down: not connected or too slow; disabled: the service does not use Redis. */
export async function redisStatus(): Promise<RedisStatus> {
  const redis = redisClient();
  if (redis === null) return 'disabled';
  if (redis.status !== 'ready') return 'down';
  try {
    await redis.ping();
    return 'up';
  } catch {
    return 'down';
  }
}

/** Closes the connection on shutdown (QUIT when connected, else drop it), within a second. */
export async function closeRedis(): Promise<void> {
  const redis = client;
  if (!redis) return;
  client = null;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  const timer = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
  await Promise.race([redis.quit().then(() => undefined, () => undefined), timer]);
  redis.disconnect();
}
