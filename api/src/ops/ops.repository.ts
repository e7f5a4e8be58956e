// SQL for the operators' views: the indexer's self-reported state and its history.
import { sql } from 'kysely';
import type { Db } from '../audit/audit.repository.ts';

export async function findIndexerState(db: Db) {
  return db.selectFrom('indexer_state').selectAll().executeTakeFirst();
}

/**
 * The indexer's status samples of the last `windowSeconds`, oldest first, one row per
 * `bucketSeconds`: the worst lag in the bucket (a spike survives downsampling), its last status and
 * counters, and the time of its last sample.
 */
export async function listStatusSamples(db: Db, windowSeconds: number, bucketSeconds: number) {
  const bucket = sql<number>`floor(extract(epoch from sampled_at) / ${bucketSeconds})`;
  return db
    .selectFrom('indexer_status_samples')
    .select([
      sql<Date>`max(sampled_at)`.as('at'),
      sql<string>`(array_agg(status ORDER BY sampled_at DESC))[1]`.as('status'),
      sql<number | null>`max(lag_ledgers)`.as('lag_ledgers'),
      sql<number | null>`max(lag_seconds)`.as('lag_seconds'),
      sql<number | null>`max(last_ledger)`.as('last_ledger'),
      sql<number | null>`max(latest_rpc_ledger)`.as('latest_rpc_ledger'),
      sql<string>`max(events_ingested)`.as('events_ingested'),
    ])
    .where('sampled_at', '>', sql<Date>`now() - make_interval(secs => ${windowSeconds})`)
    .groupBy(bucket)
    .orderBy('at') // buckets do not overlap: their last samples are in the buckets' order
    .execute();
}
