// Applies one page of decoded events to Postgres inside the caller's transaction. Raw events
// are inserted by id first; only the rows that were new are projected, so replaying a page
// (after a crash between fetch and commit, or a second daemon) changes nothing. Writes are
// batched per table, the big ones (raw events, balances) with COPY when the caller's transaction
// can stream it, so a catch-up page of 10,000 events costs a handful of statements. BST history
// (mint/transfer/burn, reward reasons) is not projected: the API reads it from chain_events.
import { sql, type Transaction } from 'kysely';
import type { Database } from '@starling/migrations';
import type { DecodedEvent } from '../decode/index.ts';
import type { ContractKind } from '../decode/spec.ts';
import { IndexerError, errorMessage } from '../errors.ts';
import {
  rowCount,
  writeRows,
  type Column,
  type CopyIn,
  type Row,
  type RowSet,
} from '../store/page-transaction.ts';
import {
  notifyCertificateConfirmed,
  notifyCertificateRevoked,
  notifyRewardReceived,
} from '../../../api/src/notifications/notifications.repository.ts';

export interface ChainEvent {
  id: string;
  ledger: number;
  ledgerClosedAt: string;
  contractId: string;
  kind: ContractKind;
  txHash: string;
  topicsXdr: string[];
  valueXdr: string;
  decoded: DecodedEvent;
}

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

/** A text[] literal with every element quoted (base64 needs no escaping, but stay exact). */
function textArrayLiteral(xs: readonly string[]): string {
  return `{${xs.map((x) => `"${x.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

function rawEventRow(e: ChainEvent): Row {
  return [
    e.id,
    String(e.ledger),
    e.ledgerClosedAt,
    e.contractId,
    e.txHash,
    e.decoded.name,
    JSON.stringify(e.decoded.known ? topicFields(e) : (e.decoded.raw?.topics ?? [])),
    JSON.stringify(e.decoded.known ? e.decoded.fields : (e.decoded.raw?.value ?? null)),
    textArrayLiteral(e.topicsXdr),
    e.valueXdr,
  ];
}

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

const BALANCE_DELTA_COLUMNS: readonly Column[] = [
  ['address', 'text'],
  ['delta', 'numeric'],
  ['ledger', 'integer'],
];

/** The decoded topics as an array in order (name first), as stored in chain_events.topics. */
function topicFields(e: ChainEvent): unknown[] {
  return [e.decoded.name, ...Object.values(e.decoded.fields).slice(0, Math.max(0, e.topicsXdr.length - 1))];
}

/**
 * A page's bulk rows: its raw events, and the SEP-41 moves among its known events (each
 * address's net balance change, the supply change). Pure, so ingest builds them for the next
 * page while this one commits, and the commit mostly waits on Postgres.
 */
export interface PageRows {
  /** How many events the rows were built from, and the lowest and highest of their ids. */
  count: number;
  firstId: string;
  lastId: string;
  /** As values, or as COPY text when built on the page worker (ingest/page-build.ts). */
  rawEvents: RowSet;
  balanceDeltas: RowSet;
  supplyDelta: bigint;
  /** The last ledger among the known events (bst_supply.ledger). */
  lastLedger: number;
  /** The known events projected one by one: all but the SEP-41 moves, which the rows carry. */
  others: ChainEvent[];
}

export function pageRows(events: readonly ChainEvent[]): PageRows {
  const rawEvents: Row[] = [];
  const rows = new PageRowsBuilder((row) => rawEvents.push(row));
  for (const e of events) rows.add(e);
  return rows.finish(rawEvents);
}

/**
 * pageRows one event at a time: each raw event row goes to `sink` as soon as it is built, so a
 * caller that encodes it at once (the page worker) keeps no page of decoded events alive.
 */
export class PageRowsBuilder {
  #deltas = new Map<string, { delta: bigint; ledger: number }>();
  #supplyDelta = 0n;
  #lastLedger = 0;
  #firstId = '';
  #lastId = '';
  #count = 0;
  #others: ChainEvent[] = [];
  readonly #sink: (row: Row) => void;

  constructor(sink: (row: Row) => void) {
    this.#sink = sink;
  }

  add(e: ChainEvent): void {
    this.#sink(rawEventRow(e));
    this.#count++;
    if (this.#firstId === '' || e.id < this.#firstId) this.#firstId = e.id;
    if (e.id > this.#lastId) this.#lastId = e.id;
    if (!e.decoded.known) return;
    this.#lastLedger = Math.max(this.#lastLedger, e.ledger);
    const f = e.decoded.fields;
    const name = e.decoded.name;
    if (e.kind !== 'token' || (name !== 'mint' && name !== 'burn' && name !== 'transfer')) {
      this.#others.push(e);
      return;
    }
    const amount = BigInt(String(f.amount));
    if (name !== 'mint') this.#addDelta(String(f.from), -amount, e.ledger);
    if (name !== 'burn') this.#addDelta(String(f.to), amount, e.ledger);
    if (name === 'mint') this.#supplyDelta += amount;
    if (name === 'burn') this.#supplyDelta -= amount;
  }

  #addDelta(addr: string, d: bigint, ledger: number): void {
    const cur = this.#deltas.get(addr);
    if (cur) {
      cur.delta += d;
      if (ledger > cur.ledger) cur.ledger = ledger;
    } else this.#deltas.set(addr, { delta: d, ledger });
  }

  /** The rows, with the raw events as the sink collected them. */
  finish(rawEvents: RowSet): PageRows {
    const balanceDeltas: Row[] = [];
    for (const [a, v] of this.#deltas) balanceDeltas.push([a, v.delta.toString(), String(v.ledger)]);
    return {
      count: this.#count,
      firstId: this.#firstId,
      lastId: this.#lastId,
      rawEvents,
      balanceDeltas,
      supplyDelta: this.#supplyDelta,
      lastLedger: this.#lastLedger,
      others: this.#others,
    };
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
  if (rowCount(rows.balanceDeltas) > 0) {
    await sql`
      CREATE TEMPORARY TABLE IF NOT EXISTS page_balance_deltas (address text, delta numeric, ledger integer)
      ON COMMIT DELETE ROWS`.execute(tx);
    await writeRows(
      tx,
      opts.copyIn,
      'pg_temp.page_balance_deltas',
      BALANCE_DELTA_COLUMNS,
      rows.balanceDeltas,
    );
    // Existing holders are updated and new ones inserted, not one INSERT … ON CONFLICT DO
    // UPDATE: Postgres checks the row an upsert proposes (balance = the delta) against
    // CHECK (balance >= 0) before it finds the conflict, so a page where a holder's net change
    // is negative (a transfer out, a burn) failed. One leader writes: nothing inserts between.
    await sql`
      WITH updated AS (
        UPDATE bst_balances b SET balance = b.balance + d.delta, ledger = greatest(b.ledger, d.ledger), updated_at = now()
        FROM pg_temp.page_balance_deltas d WHERE b.address = d.address
        RETURNING b.address)
      INSERT INTO bst_balances (address, balance, ledger, updated_at)
      SELECT d.address, d.delta, d.ledger, now() FROM pg_temp.page_balance_deltas d
      WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.address = d.address)`.execute(tx);
    if (rows.supplyDelta !== 0n) {
      // Update, else insert, for the same reason as the balances (a page that burns more than it mints).
      const delta = rows.supplyDelta.toString();
      await sql`
        WITH updated AS (
          UPDATE bst_supply SET total = total + ${delta}::numeric, ledger = ${rows.lastLedger}, updated_at = now()
          WHERE singleton RETURNING 1)
        INSERT INTO bst_supply (singleton, total, ledger, updated_at)
        SELECT true, ${delta}::numeric, ${rows.lastLedger}, now() WHERE NOT EXISTS (SELECT 1 FROM updated)`.execute(
        tx,
      );
    }
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
