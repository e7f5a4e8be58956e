// Applies one page of decoded events to Postgres inside the caller's transaction. Raw events
// are inserted by id first; only the rows that were new are projected, so replaying a page
// (after a crash between fetch and commit, or a second daemon) changes nothing. Writes are
// batched per table, the big ones (raw events, balances) with COPY when the caller's transaction
// can stream it, so a catch-up page of 10,000 events costs a handful of statements. BST history
// (mint/transfer/burn, reward reasons) is not projected: the API reads it from chain_events.
import { sql, type Transaction } from 'kysely';
import type { Database } from '@starling/migrations';
import { IndexerError, errorMessage } from '../errors.ts';
import { rowCount, writeRows, type Column, type CopyIn, type RowSet } from '../store/page-transaction.ts';
import { pageRows, type ChainEvent, type PageRows } from './page-rows.ts';

import {
  notifyCertificateConfirmed,
  notifyCertificateRevoked,
  notifyRewardReceived,
} from '../../../api/src/notifications/notifications.repository.ts';

export type { ChainEvent, PageRows } from './page-rows.ts';

export interface ProjectOptions {
  network: string;
  /** Live ingest also touches the API's rows: intents, certificates, notifications. verify does not. */
  sideEffects: boolean;
  /** COPY on the transaction's connection (store/page-transaction.ts); without it, unnest inserts. */
  copyIn?: CopyIn;
}

export interface ProjectResult {
  inserted: number;
  confirmedIntents: number;
}

type Tx = Transaction<Database>;

/** Course UUID from the 16 bytes' hex. */
export function uuidOfHex(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const HOLDER_COLUMNS: readonly Column[] = [
  ['address', 'text'],
  ['balance', 'numeric'],
  ['ledger', 'integer'],
];

/** Holders the page worker's filter called new: appended (COPY), no probe for an existing row. */
async function writeNewHolders(tx: Tx, rows: RowSet, copyIn?: CopyIn): Promise<void> {
  try {
    await writeRows(tx, copyIn, 'bst_balances', HOLDER_COLUMNS, rows);
  } catch (e) {
    if ((e as { code?: string }).code !== '23505') throw e;
    // The filter was wrong (see ingest/holder-filter.ts): the page is retried without it.
    throw new IndexerError('holder_conflict', `a holder called new has a balance: ${errorMessage(e)}`, true, {
      cause: e,
    });
  }
}

const RAW_EVENT_COLUMNS: readonly Column[] = [
  ['id', 'text'],
  ['ledger', 'integer'],
  ['ledger_closed_at', 'timestamptz'],
  ['contract_id', 'text'],
  ['tx_hash', 'text'],
  ['name', 'text'],
  ['topics', 'jsonb'],
  ['value', 'jsonb'],
  ['topics_xdr', 'text[]'],
  ['value_xdr', 'text'],
];

/**
 * The page's events that are not stored yet (in page order). One leader writes, fenced per
 * transaction; a second writer's rows would fail this one's insert with a unique violation, and
 * the page is retried from the cursor then.
 */
async function newEvents(tx: Tx, events: readonly ChainEvent[]): Promise<ChainEvent[]> {
  if (events.length === 0) return [];
  // An event's id encodes its ledger: a stored copy of one of these is in their ledger range.
  // (An integer range scan; matching 2000 text ids with = ANY cost about as much as the COPY.)
  let low = Infinity;
  let high = 0;
  for (const e of events) {
    if (e.ledger < low) low = e.ledger;
    if (e.ledger > high) high = e.ledger;
  }
  const stored = await sql<{ id: string }>`
    SELECT id FROM chain_events WHERE ledger BETWEEN ${low} AND ${high}`.execute(tx);
  const seen = new Set(stored.rows.map((r) => r.id));
  const fresh: ChainEvent[] = [];
  for (const e of events) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    fresh.push(e);
  }
  return fresh;
}

async function writeRawEvents(tx: Tx, rows: RowSet, copyIn?: CopyIn): Promise<void> {
  try {
    await writeRows(tx, copyIn, 'chain_events', RAW_EVENT_COLUMNS, rows);
  } catch (e) {
    if ((e as { code?: string }).code !== '23505') throw e;
    throw new IndexerError(
      'write_conflict',
      `another writer stored events of this page: ${errorMessage(e)}`,
      true,
      { cause: e },
    );
  }
}

export async function projectPage(
  tx: Tx,
  events: readonly ChainEvent[],
  opts: ProjectOptions,
): Promise<ProjectResult> {
  return writePage(tx, pageRows(await newEvents(tx, events)), opts);
}

/**
 * Writes rows built ahead (ingest builds the next page's, off the main thread, while this one
 * commits) when none of their events is stored yet; null when some are (a replay): the caller
 * then projects the page's events with projectPage, which writes only the new ones. Event ids
 * are fixed-width TOIDs, so their text order is chain order: a stored id between the page's first
 * and last is an overlap, while the previous page's events of a ledger split between the two
 * pages are not.
 */
export async function projectRows(
  tx: Tx,
  rows: PageRows,
  opts: ProjectOptions,
): Promise<ProjectResult | null> {
  if (rows.count > 0) {
    const stored = await sql<{ one: number }>`
      SELECT 1 AS one FROM chain_events WHERE id BETWEEN ${rows.firstId} AND ${rows.lastId} LIMIT 1`.execute(
      tx,
    );
    if (stored.rows.length > 0) return null;
  }
  return writePage(tx, rows, opts);
}

async function writePage(tx: Tx, rows: PageRows, opts: ProjectOptions): Promise<ProjectResult> {
  await writeRawEvents(tx, rows.rawEvents, opts.copyIn);
  const todo = rows.others;
  let confirmedIntents = 0;

  const progress = new Map<string, ChainEvent>();
  const rewards: ChainEvent[] = [];
  for (const e of todo) {
    const f = e.decoded.fields;
    switch (`${e.kind}:${e.decoded.name}`) {
      case 'analytics:progress_recorded':
        progress.set(`${String(f.student)}|${String(f.course_id)}`, e);
        break;
      case 'token:reward_minted':
        rewards.push(e);
        break;
      default:
        break;
    }
  }

  if (progress.size > 0) {
    const rows = [...progress.values()];
    await sql`
      INSERT INTO onchain_progress (student_address, course_id, percent, ledger, event_id, updated_at)
      SELECT s, c::uuid, p, l, id, now()
      FROM unnest(${rows.map((e) => String(e.decoded.fields.student))}::text[], ${rows.map((e) => uuidOfHex(String(e.decoded.fields.course_id)))}::text[],
                  ${rows.map((e) => Number(e.decoded.fields.percent))}::int[], ${rows.map((e) => e.ledger)}::int[], ${rows.map((e) => e.id)}::text[]) AS t(s, c, p, l, id)
      ON CONFLICT (student_address, course_id) DO UPDATE
        SET percent = excluded.percent, ledger = excluded.ledger, event_id = excluded.event_id, updated_at = now()
        WHERE onchain_progress.event_id < excluded.event_id`.execute(tx);
    if (opts.sideEffects) {
      const r = await sql`
        UPDATE intents i SET status = 'confirmed', confirmed_at = now(), confirmed_ledger = t.l, updated_at = now(), last_error = NULL
        FROM unnest(${rows.map((e) => String(e.decoded.fields.student))}::text[], ${rows.map((e) => String(e.decoded.fields.course_id))}::text[],
                    ${rows.map((e) => Number(e.decoded.fields.percent))}::int[], ${rows.map((e) => e.ledger)}::int[]) AS t(s, c, p, l)
        WHERE i.kind = 'record_progress' AND i.status IN ('pending', 'submitting', 'submitted', 'failed')
          AND i.args->>'student' = t.s AND lower(i.args->>'course_id') = t.c AND (i.args->>'percent')::int <= t.p`.execute(
        tx,
      );
      confirmedIntents += Number(r.numAffectedRows ?? 0n);
    }
  }

  // Every mint/transfer/burn adds a delta (possibly 0) for its addresses: deltas exist exactly
  // when the page has token moves. They are projected only with their raw events, which are new.
  // One statement (one round trip) for the balances and the supply, the deltas as array literals.
  // Existing rows are updated and only missing ones inserted, not INSERT … ON CONFLICT DO UPDATE:
  // Postgres checks the row an upsert proposes (the delta itself) against CHECK (… >= 0) before
  // it finds the conflict, so a page in which a holder only paid out, or that burned more than it
  // minted, failed. One leader writes: nothing can insert in between.
  if (rowCount(rows.newHolders) > 0) await writeNewHolders(tx, rows.newHolders, opts.copyIn);
  if (rows.balanceDeltas.count > 0 || rows.supplyDelta !== 0n) {
    const d = rows.balanceDeltas;
    const supply = rows.supplyDelta.toString();
    await sql`
      WITH d AS MATERIALIZED (
        SELECT * FROM unnest(${d.addresses}::text[], ${d.deltas}::numeric[], ${d.ledgers}::int[]) AS d(address, delta, ledger)),
      updated AS (
        UPDATE bst_balances b SET balance = b.balance + d.delta, ledger = greatest(b.ledger, d.ledger), updated_at = now()
        FROM d WHERE b.address = d.address
        RETURNING b.address),
      inserted AS (
        INSERT INTO bst_balances (address, balance, ledger, updated_at)
        SELECT d.address, d.delta, d.ledger, now() FROM d
        WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.address = d.address)),
      supply_updated AS (
        UPDATE bst_supply SET total = total + ${supply}::numeric, ledger = ${rows.lastLedger}, updated_at = now()
        WHERE singleton AND ${supply}::numeric <> 0
        RETURNING 1)
      INSERT INTO bst_supply (singleton, total, ledger, updated_at)
      SELECT true, ${supply}::numeric, ${rows.lastLedger}, now()
      WHERE ${supply}::numeric <> 0 AND NOT EXISTS (SELECT 1 FROM supply_updated)`.execute(tx);
  }

  if (rewards.length > 0) {
    if (opts.sideEffects) {
      const r = await sql`
        UPDATE intents i SET status = 'confirmed', confirmed_at = now(), confirmed_ledger = t.l, updated_at = now(), last_error = NULL
        FROM unnest(${rewards.map((e) => e.txHash)}::text[], ${rewards.map((e) => e.ledger)}::int[]) AS t(tx, l)
        WHERE i.kind = 'mint_reward' AND i.tx_hash = t.tx AND i.status IN ('pending', 'submitting', 'submitted', 'failed')`.execute(
        tx,
      );
      confirmedIntents += Number(r.numAffectedRows ?? 0n);
      for (const e of rewards) {
        await notifyRewardReceived(tx, {
          address: String(e.decoded.fields.to),
          amount: String(e.decoded.fields.amount),
          reason: String(e.decoded.fields.reason),
          eventId: e.id,
          txHash: e.txHash,
        });
      }
    }
  }

  for (const e of todo) {
    if (e.kind === 'certificate') confirmedIntents += await projectCertificateEvent(tx, e, opts);
    else if (e.kind === 'governance') await projectGovernanceEvent(tx, e);
  }
  return { inserted: rows.count, confirmedIntents };
}

async function projectCertificateEvent(tx: Tx, e: ChainEvent, opts: ProjectOptions): Promise<number> {
  const f = e.decoded.fields;
  if (e.decoded.name === 'certificate_issued') {
    const courseId = uuidOfHex(String(f.course_id));
    await tx
      .insertInto('chain_certificates')
      .values({
        contract_id: e.contractId,
        certificate_id: String(f.id),
        student_address: String(f.student),
        course_id: courseId,
        metadata_hash: String(f.metadata_hash),
        issuer: String(f.issuer),
        issued_ledger: e.ledger,
      })
      .onConflict((oc) => oc.columns(['contract_id', 'certificate_id']).doNothing())
      .execute();
    if (!opts.sideEffects) return 0;
    const cert = await tx
      .updateTable('certificates')
      .set({
        status: sql<string>`CASE WHEN status = 'revoked' THEN 'revoked' ELSE 'confirmed' END`,
        chain_certificate_id: String(f.id),
        contract_id: e.contractId,
        network: opts.network,
        tx_hash: e.txHash,
        ledger: e.ledger,
        ledger_closed_at: e.ledgerClosedAt,
        confirmed_at: sql<Date>`coalesce(confirmed_at, now())`,
        updated_at: sql<Date>`now()`,
      })
      .where('student_address', '=', String(f.student))
      .where('course_id', '=', courseId)
      .where('document_hash', '=', String(f.metadata_hash))
      .where((eb) =>
        eb.or([eb('chain_certificate_id', 'is', null), eb('chain_certificate_id', '=', String(f.id))]),
      )
      .returning(['id', 'status'])
      .executeTakeFirst();
    const r = await sql`
      UPDATE intents SET status = 'confirmed', confirmed_at = now(), confirmed_ledger = ${e.ledger}, updated_at = now(), last_error = NULL
      WHERE kind = 'issue_certificate' AND status IN ('pending', 'submitting', 'submitted', 'failed')
        AND args->>'student' = ${String(f.student)} AND lower(args->>'course_id') = ${String(f.course_id)}`.execute(
      tx,
    );
    if (cert && cert.status === 'confirmed') await notifyCertificateConfirmed(tx, cert.id);
    return Number(r.numAffectedRows ?? 0n);
  }
  if (e.decoded.name === 'certificate_revoked') {
    await tx
      .updateTable('chain_certificates')
      .set({
        revoked: true,
        revoked_ledger: e.ledger,
        revoke_reason: String(f.reason),
        revoked_by: String(f.issuer),
      })
      .where('contract_id', '=', e.contractId)
      .where('certificate_id', '=', String(f.id))
      .execute();
    if (!opts.sideEffects) return 0;
    const cert = await tx
      .updateTable('certificates')
      .set({
        status: 'revoked',
        revoked_at: sql<Date>`coalesce(revoked_at, ${e.ledgerClosedAt}::timestamptz)`,
        revoke_reason: sql<string>`coalesce(revoke_reason, ${String(f.reason).slice(0, 256)})`,
        revoke_tx_hash: e.txHash,
        revoke_ledger: e.ledger,
        revoke_ledger_closed_at: e.ledgerClosedAt,
        updated_at: sql<Date>`now()`,
      })
      .where('contract_id', '=', e.contractId)
      .where('chain_certificate_id', '=', String(f.id))
      .returning('id')
      .executeTakeFirst();
    if (cert) await notifyCertificateRevoked(tx, cert.id, { txHash: e.txHash, ledger: e.ledger });
    const r = await sql`
      UPDATE intents SET status = 'confirmed', confirmed_at = now(), confirmed_ledger = ${e.ledger}, updated_at = now(), last_error = NULL
      WHERE kind = 'revoke_certificate' AND status IN ('pending', 'submitting', 'submitted', 'failed')
        AND (args->>'chain_certificate_id' = ${String(f.id)} OR certificate_id = ${cert?.id ?? null}::uuid)`.execute(
      tx,
    );
    return Number(r.numAffectedRows ?? 0n);
  }
  return 0;
}

async function projectGovernanceEvent(tx: Tx, e: ChainEvent): Promise<void> {
  const f = e.decoded.fields;
  switch (e.decoded.name) {
    case 'proposal_created':
      await tx
        .insertInto('governance_proposals')
        .values({
          contract_id: e.contractId,
          proposal_id: String(f.id),
          proposer: String(f.proposer),
          title: String(f.title),
          description_hash: String(f.description_hash),
          snapshot_ledger: Number(f.snapshot_ledger),
          end_ledger: Number(f.end_ledger),
          created_ledger: e.ledger,
          tx_hash: e.txHash,
        })
        .onConflict((oc) => oc.columns(['contract_id', 'proposal_id']).doNothing())
        .execute();
      return;
    case 'vote_cast': {
      const inserted = await tx
        .insertInto('governance_votes')
        .values({
          contract_id: e.contractId,
          proposal_id: String(f.id),
          voter: String(f.voter),
          support: Boolean(f.support),
          weight: String(f.weight),
          ledger: e.ledger,
          event_id: e.id,
        })
        .onConflict((oc) => oc.columns(['contract_id', 'proposal_id', 'voter']).doNothing())
        .returning('voter')
        .executeTakeFirst();
      if (inserted) {
        const col = f.support ? 'votes_for' : 'votes_against';
        await sql`UPDATE governance_proposals SET ${sql.ref(col)} = ${sql.ref(col)} + ${String(f.weight)}::numeric
                  WHERE contract_id = ${e.contractId} AND proposal_id = ${String(f.id)}`.execute(tx);
      }
      return;
    }
    case 'proposal_executed':
      await tx
        .updateTable('governance_proposals')
        .set({
          executed: true,
          executed_ledger: e.ledger,
          votes_for: String(f.votes_for),
          votes_against: String(f.votes_against),
        })
        .where('contract_id', '=', e.contractId)
        .where('proposal_id', '=', String(f.id))
        .execute();
      return;
    default:
      return;
  }
}
