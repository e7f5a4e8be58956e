// Intents: the on-chain effects the API asks for. Inserted in the caller's transaction with a
// deterministic idempotency key, so writing the same intent twice leaves one row.
import { sql, type Selectable } from 'kysely';
import type { Intents } from '@starling/migrations';
import type { Db } from '../audit/audit.repository.ts';

export type IntentKind = 'record_progress' | 'issue_certificate' | 'mint_reward' | 'revoke_certificate';
export type IntentStatus = 'pending' | 'submitting' | 'submitted' | 'confirmed' | 'failed' | 'superseded';
export type IntentRow = Selectable<Intents>;

export const INTENT_STATUSES: readonly IntentStatus[] = [
  'pending',
  'submitting',
  'submitted',
  'confirmed',
  'failed',
  'superseded',
];

export interface NewIntent {
  kind: IntentKind;
  key: string;
  userId: string | null;
  courseId: string | null;
  certificateId?: string | null;
  args: Record<string, unknown>;
}

export const intentKeys = {
  progress: (userId: string, courseId: string, percent: number) =>
    `progress:${userId}:${courseId}:${percent}`,
  certificate: (userId: string, courseId: string) => `cert:${userId}:${courseId}`,
  referral: (refereeId: string) => `referral:${refereeId}`,
  revoke: (certificateId: string) => `revoke:${certificateId}`,
};

/** The course UUID as the contracts' BytesN<16>, in lowercase hex. */
export function courseIdHex(courseId: string): string {
  return courseId.replace(/-/g, '').toLowerCase();
}

/** Inserts the intent unless its key exists; returns the new row, or null when it already did. */
export async function insertIntent(db: Db, i: NewIntent): Promise<IntentRow | null> {
  const row = await db
    .insertInto('intents')
    .values({
      kind: i.kind,
      idempotency_key: i.key,
      user_id: i.userId,
      course_id: i.courseId,
      certificate_id: i.certificateId ?? null,
      args: JSON.stringify(i.args),
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ?? null;
}

export async function listIntents(
  db: Db,
  opts: { status?: IntentStatus; kind?: IntentKind; limit: number; before?: string },
) {
  let q = db.selectFrom('intents').selectAll();
  if (opts.status) q = q.where('status', '=', opts.status);
  if (opts.kind) q = q.where('kind', '=', opts.kind);
  if (opts.before) q = q.where('id', '<', opts.before);
  return q.orderBy('id', 'desc').limit(opts.limit).execute();
}

export async function findIntent(db: Db, id: string): Promise<IntentRow | undefined> {
  return db.selectFrom('intents').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockIntent(db: Db, id: string): Promise<IntentRow | undefined> {
  return db.selectFrom('intents').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * Puts a failed intent back in the queue. The stored envelope and hash stay: the submitter resolves
 * the old transaction before it builds a new one, so a retry never doubles an effect.
 */
export async function requeueIntent(db: Db, id: string): Promise<IntentRow | undefined> {
  return db
    .updateTable('intents')
    .set({ status: 'pending', next_attempt_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('status', '=', 'failed')
    .returningAll()
    .executeTakeFirst();
}

export async function listIntentsForUser(db: Db, userId: string, courseIds?: readonly string[]) {
  let q = db.selectFrom('intents').selectAll().where('user_id', '=', userId);
  if (courseIds) {
    if (!courseIds.length) return [];
    q = q.where('course_id', 'in', courseIds);
  }
  return q.orderBy('id').execute();
}

export async function listIntentsForCertificates(db: Db, certificateIds: readonly string[]) {
  if (!certificateIds.length) return [];
  return db
    .selectFrom('intents')
    .selectAll()
    .where('certificate_id', 'in', certificateIds)
    .orderBy('id')
    .execute();
}

export async function countIntentsByStatus(db: Db) {
  const rows = await db
    .selectFrom('intents')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])) as Partial<
    Record<IntentStatus, number>
  >;
}
