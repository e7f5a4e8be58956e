// indexer_state: the cursor (advanced only inside a page's transaction) and the status the API
// serves at GET /v1/ops/indexer, with its bounded history (indexer_status_samples, served at
// /v1/ops/indexer/history). SQL for them lives only here.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, IndexerState } from '@starling/migrations';

type Db = Kysely<Database> | Transaction<Database>;
export type StateRow = Selectable<IndexerState>;

export async function readState(db: Db): Promise<StateRow | undefined> {
  return db.selectFrom('indexer_state').selectAll().where('singleton', '=', true).executeTakeFirst();
}

export async function ensureState(
  db: Db,
  init: { network: string; passphrase: string; startLedger: number },
): Promise<StateRow> {
  await db
    .insertInto('indexer_state')
    .values({
      singleton: true,
      network: init.network,
      network_passphrase: init.passphrase,
      start_ledger: init.startLedger,
      status: 'starting',
    })
    .onConflict((oc) => oc.column('singleton').doNothing())
    .execute();
  return (await readState(db))!;
}

/**
 * Advances the cursor; called in the page transaction, guarded by the expected old cursor. The
 * page's status fields, if given, go in the same statement (sampleStatus then records them).
 */
export async function advanceCursor(
  db: Db,
  p: {
    from: string | null;
    to: string;
    lastLedger: number;
    lastLedgerClosedAt: string | null;
    events: number;
  },
  status: StatusPatch = {},
): Promise<boolean> {
  const r = await db
    .updateTable('indexer_state')
    .set({
      ...status,
      cursor: p.to,
      last_ledger: p.lastLedger,
      last_ledger_closed_at: p.lastLedgerClosedAt
        ? sql<Date>`coalesce(${p.lastLedgerClosedAt}::timestamptz, last_ledger_closed_at)`
        : sql<Date>`last_ledger_closed_at`,
      events_ingested: sql<string>`events_ingested + ${p.events}`,
      updated_at: sql<Date>`now()`,
    })
    .where('singleton', '=', true)
    .where((eb) => (p.from === null ? eb('cursor', 'is', null) : eb('cursor', '=', p.from)))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export interface StatusPatch {
  status?: string;
  status_detail?: string | null;
  leader?: string | null;
  latest_rpc_ledger?: number | null;
  oldest_rpc_ledger?: number | null;
  lag_ledgers?: number | null;
  lag_seconds?: number | null;
  retention_headroom_ledgers?: number | null;
  caught_up?: boolean;
  last_error?: string | null;
  network?: string;
  network_passphrase?: string;
}

/** The status history keeps one sample per this many seconds at most, for this many hours. */
export const SAMPLE_EVERY_SECONDS = 5;
export const HISTORY_HOURS = 24;

/**
 * Copies the status into the history unless a sample was taken in the last SAMPLE_EVERY_SECONDS,
 * and then drops samples older than HISTORY_HOURS: one statement, a no-op on most page commits.
 */
export async function sampleStatus(db: Db): Promise<void> {
  await sql`
    WITH added AS (
      INSERT INTO indexer_status_samples
        (status, last_ledger, latest_rpc_ledger, lag_ledgers, lag_seconds, events_ingested)
      SELECT status, last_ledger, latest_rpc_ledger, lag_ledgers, lag_seconds, events_ingested
      FROM indexer_state
      WHERE singleton AND NOT EXISTS (
        SELECT 1 FROM indexer_status_samples
        WHERE sampled_at > now() - make_interval(secs => ${SAMPLE_EVERY_SECONDS})
      )
      ON CONFLICT (sampled_at) DO NOTHING
      RETURNING sampled_at
    )
    DELETE FROM indexer_status_samples
    WHERE sampled_at < now() - make_interval(hours => ${HISTORY_HOURS}) AND EXISTS (SELECT 1 FROM added)
  `.execute(db);
}

export async function writeStatus(
  db: Db,
  patch: StatusPatch & { lastErrorNow?: boolean; rpcErrorsInc?: number },
): Promise<void> {
  const { lastErrorNow, rpcErrorsInc, ...rest } = patch;
  await db
    .updateTable('indexer_state')
    .set({
      ...rest,
      ...(lastErrorNow ? { last_error_at: sql<Date>`now()` } : {}),
      ...(rpcErrorsInc ? { rpc_errors: sql<string>`rpc_errors + ${rpcErrorsInc}` } : {}),
      updated_at: sql<Date>`now()`,
    })
    .where('singleton', '=', true)
    .execute();
  await sampleStatus(db);
}

export async function countIntentsByStatus(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('intents')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Records the process that holds the lock (creating the row on a fresh database). */
export async function recordLeader(db: Db, leader: string): Promise<void> {
  await db
    .insertInto('indexer_state')
    .values({ singleton: true, leader, status: 'starting' })
    .onConflict((oc) => oc.column('singleton').doUpdateSet({ leader, updated_at: sql<Date>`now()` }))
    .execute();
}
