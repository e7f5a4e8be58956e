// Intent rows as the submitter moves them. Every write is guarded by the status it expects, so
// a row ingest already confirmed is never moved back. `confirmed` is never written here.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, Intents } from '@starling/migrations';

type Db = Kysely<Database> | Transaction<Database>;
export type IntentRow = Selectable<Intents>;

const ACTIVE = ['pending', 'submitting', 'submitted'] as const;
/** Marker in last_error for an intent the chain already satisfied; ingest confirms it. */
export const SATISFIED_MARK = 'already on chain:';

/**
 * Claims up to `n` due intents (FOR UPDATE SKIP LOCKED) and leases them for `leaseSeconds`:
 * a crashed submitter's rows come back when the lease ends (or at once, when a new leader
 * starts). Rows with a stored transaction come first: they are resolved before anything new.
 */
export async function claimIntents(
  db: Db,
  n: number,
  leaseSeconds: number,
  exclude: readonly string[],
): Promise<IntentRow[]> {
  const res = await sql<IntentRow>`
    UPDATE intents SET status = CASE WHEN status = 'pending' THEN 'submitting' ELSE status END,
                       next_attempt_at = now() + make_interval(secs => ${leaseSeconds}), updated_at = now()
    WHERE id IN (
      SELECT id FROM intents
      WHERE status IN ('pending', 'submitting', 'submitted') AND next_attempt_at <= now()
        ${exclude.length ? sql`AND id <> ALL(${exclude}::bigint[])` : sql``}
      ORDER BY (tx_hash IS NULL), next_attempt_at, id
      LIMIT ${n}
      FOR UPDATE SKIP LOCKED)
    RETURNING *`.execute(db);
  return res.rows;
}

/** A new leader takes over the previous one's leases at once. */
export async function expireLeases(db: Db): Promise<number> {
  const r = await db
    .updateTable('intents')
    .set({ next_attempt_at: sql<Date>`now()` })
    .where('status', 'in', ['submitting', 'submitted'])
    .where('next_attempt_at', '>', sql<Date>`now()`)
    .where((eb) => eb.or([eb('last_error', 'is', null), eb('last_error', 'not like', `${SATISFIED_MARK}%`)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Stores the signed envelope and hash before the first send (the crash-safety invariant). */
export async function saveEnvelope(
  db: Db,
  id: string,
  p: { hash: string; envelope: string; source: string },
): Promise<boolean> {
  const r = await db
    .updateTable('intents')
    .set({
      tx_hash: p.hash,
      tx_envelope: p.envelope,
      source_account: p.source,
      attempts: sql<number>`attempts + 1`,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('status', '=', 'submitting')
    .where('tx_hash', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function markSubmitted(db: Db, id: string, hash: string, recheckSeconds: number): Promise<void> {
  await db
    .updateTable('intents')
    .set({
      status: 'submitted',
      submitted_at: sql<Date>`coalesce(submitted_at, now())`,
      next_attempt_at: sql<Date>`now() + make_interval(secs => ${recheckSeconds})`,
      last_error: null,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('tx_hash', '=', hash)
    .where('status', 'in', ['submitting', 'submitted'])
    .execute();
}

/** Try again later (same stored transaction, if any). */
export async function reschedule(
  db: Db,
  id: string,
  delayMs: number,
  lastError: string | null,
): Promise<void> {
  await db
    .updateTable('intents')
    .set({
      next_attempt_at: sql<Date>`now() + make_interval(secs => ${delayMs / 1000})`,
      last_error: lastError,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('status', 'in', ACTIVE)
    .execute();
}

/** The stored transaction can no longer land: forget it so the next attempt builds anew. */
export async function dropTransaction(
  db: Db,
  id: string,
  hash: string,
  delayMs: number,
  lastError: string,
): Promise<void> {
  await db
    .updateTable('intents')
    .set({
      status: 'submitting',
      tx_hash: null,
      tx_envelope: null,
      next_attempt_at: sql<Date>`now() + make_interval(secs => ${delayMs / 1000})`,
      last_error: lastError,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('tx_hash', '=', hash)
    .where('status', 'in', ['submitting', 'submitted'])
    .execute();
}

export async function markFailed(db: Db, id: string, lastError: string): Promise<void> {
  await db
    .updateTable('intents')
    .set({ status: 'failed', last_error: lastError, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('status', 'in', ACTIVE)
    .execute();
}

/** The chain already holds this effect: park the intent until ingest confirms it. */
export async function markSatisfied(db: Db, id: string, why: string): Promise<void> {
  await db
    .updateTable('intents')
    .set({
      status: 'submitting',
      tx_hash: null,
      tx_envelope: null,
      last_error: `${SATISFIED_MARK} ${why}`,
      next_attempt_at: sql<Date>`now() + interval '60 seconds'`,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('status', 'in', ACTIVE)
    .execute();
}

/** The on-chain certificate id a revocation needs (null until ingest has seen the issue). */
export async function findChainCertificateId(db: Db, certificateId: string): Promise<string | null> {
  const r = await db
    .selectFrom('certificates')
    .select('chain_certificate_id')
    .where('id', '=', certificateId)
    .executeTakeFirst();
  return r?.chain_certificate_id ?? null;
}

/**
 * Ingest's side of a duplicate: confirms intents the submitter found already satisfied, from
 * what ingest has projected (certificates issued/revoked, progress recorded).
 */
export async function confirmSatisfiedIntents(db: Db): Promise<number> {
  const r = await sql`
    UPDATE intents i SET status = 'confirmed', confirmed_at = now(), updated_at = now(),
      confirmed_ledger = coalesce(
        (SELECT c.issued_ledger FROM chain_certificates c WHERE i.kind = 'issue_certificate'
            AND c.student_address = i.args->>'student' AND replace(c.course_id::text, '-', '') = lower(i.args->>'course_id') LIMIT 1),
        (SELECT p.ledger FROM onchain_progress p WHERE i.kind = 'record_progress'
            AND p.student_address = i.args->>'student' AND replace(p.course_id::text, '-', '') = lower(i.args->>'course_id')),
        (SELECT c.revoked_ledger FROM chain_certificates c WHERE i.kind = 'revoke_certificate'
            AND c.certificate_id::text = i.args->>'chain_certificate_id' LIMIT 1))
    WHERE i.status = 'submitting' AND i.last_error LIKE ${`${SATISFIED_MARK}%`}
      AND CASE i.kind
        WHEN 'issue_certificate' THEN EXISTS (SELECT 1 FROM chain_certificates c WHERE c.student_address = i.args->>'student'
                                              AND replace(c.course_id::text, '-', '') = lower(i.args->>'course_id'))
        WHEN 'record_progress' THEN EXISTS (SELECT 1 FROM onchain_progress p WHERE p.student_address = i.args->>'student'
                                            AND replace(p.course_id::text, '-', '') = lower(i.args->>'course_id')
                                            AND p.percent >= (i.args->>'percent')::int)
        WHEN 'revoke_certificate' THEN EXISTS (SELECT 1 FROM chain_certificates c WHERE c.revoked AND (c.certificate_id::text = i.args->>'chain_certificate_id'
                                               OR EXISTS (SELECT 1 FROM certificates ce WHERE ce.id = i.certificate_id
                                                          AND ce.contract_id = c.contract_id AND ce.chain_certificate_id = c.certificate_id)))
        ELSE false END`.execute(db);
  return Number(r.numAffectedRows ?? 0n);
}
