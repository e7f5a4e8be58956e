// The one explicit context every stage receives (ponder-style): config, logger, database,
// metrics, RPC. Built by createContext; nothing reads globals.
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { pino, type Logger } from 'pino';
import { createDb, createPool, type Database } from '@starling/migrations';
import type { Config } from './config.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createRpcClient, type RpcClient } from './rpc/rpc.client.ts';

export interface Context {
  config: Readonly<Config>;
  log: Logger;
  pool: pg.Pool;
  db: Kysely<Database>;
  metrics: Metrics;
  rpc: RpcClient;
}

export function createContext(
  config: Readonly<Config>,
  opts: { log?: Logger; searchPath?: string; poolSize?: number } = {},
): Context {
  const log =
    opts.log ?? pino({ level: config.LOG_LEVEL, base: { service: 'indexer', instance: config.instanceId } });
  const pool = createPool(config.DATABASE_URL, opts.poolSize ?? 6, (e, where) =>
    log.warn({ err: e.message, where }, 'Postgres connection failed'),
  );
  if (opts.searchPath) {
    const sp = opts.searchPath;
    pool.on('connect', (c) => void c.query(`SET search_path TO ${sp}, public`));
  }
  const metrics = createMetrics({ defaultMetrics: true });
  const rpc = createRpcClient({
    url: config.STELLAR_RPC_URL,
    timeoutMs: config.INDEXER_RPC_TIMEOUT_MS,
    observe(method, outcome, ms) {
      metrics.rpcSeconds.observe({ method }, ms / 1000);
      if (outcome !== 'ok') metrics.rpcErrors.inc({ method, kind: outcome });
    },
  });
  return { config, log, pool, db: createDb(pool), metrics, rpc };
}

export async function closeContext(ctx: Context): Promise<void> {
  await ctx.db.destroy().catch(() => undefined);
}
