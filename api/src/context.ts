// The explicit context every service and plugin receives: no module-level singletons.
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createDb, createPool, type Database } from '@starling/migrations';
import type { Config } from './config.ts';
import { enablePreparedStatements } from './lib/prepared-statements.ts';

export interface AppContext {
  config: Readonly<Config>;
  pool: pg.Pool;
  db: Kysely<Database>;
  /** Null when REDIS_URL is unset: rate limits then count per process (see plugins/rate-limit.ts). */
  redis: Redis | null;
  log: Logger;
}

export function createRedis(url: string, log: Logger, keyPrefix = ''): Redis {
  // Fail fast when Redis is down instead of queueing: callers have a defined fallback.
  const redis = new Redis(url, {
    keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    lazyConnect: false,
  });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  return redis;
}

export function createContext(config: Readonly<Config>, log: Logger): AppContext {
  const pool = createPool(config.DATABASE_URL, 20, (err, where) =>
    log.error({ err, where }, 'postgres connection failed'),
  );
  enablePreparedStatements(pool);
  return {
    config,
    pool,
    db: createDb(pool),
    redis: config.REDIS_URL ? createRedis(config.REDIS_URL, log) : null,
    log,
  };
}

export async function closeContext(ctx: AppContext): Promise<void> {
  ctx.redis?.disconnect();
  await ctx.db.destroy();
}
