// Notifications are rows first and pushes second: the insert trigger announces each row on
// 'starling_notifications', and every API instance's LISTEN connection pushes it to sockets.
// This file imports nothing from the app (only Kysely and the schema types) so the indexer and
// other features can call it inside their own transactions.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, Notifications } from '@starling/migrations';

export type Db = Kysely<Database> | Transaction<Database>;

export type NotificationKind =
  | 'enrolment'
  | 'lesson_milestone'
  | 'course_completed'
  | 'certificate_pending'
  | 'certificate_confirmed'
  | 'certificate_revoked'
  | 'reward_pending'
  | 'reward_received'
  | 'forum_reply';

export interface NewNotification {
  userId: string;
  kind: NotificationKind;
  title: string;
  body?: string;
  data?: Record<string, unknown>;
  /** When set, a second insert with the same key writes nothing (replays, retries, races). */
  dedupeKey?: string;
}

export type NotificationRow = Selectable<Notifications>;

/** Inserts one notification in the caller's transaction; null when dedupeKey already exists. */
export async function insertNotification(db: Db, n: NewNotification): Promise<NotificationRow | null> {
  const row = await db
    .insertInto('notifications')
    .values({
      user_id: n.userId,
      kind: n.kind,
      title: n.title.slice(0, 200),
      body: (n.body ?? '').slice(0, 2000),
      data: JSON.stringify(n.data ?? {}),
      dedupe_key: n.dedupeKey ?? null,
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ?? null;
}

/**
 * For ingest: the learner's "certificate confirmed on chain" notification, once per certificate
 * however often the event is replayed. Call it in the page's transaction after updating the row.
 */
export async function notifyCertificateConfirmed(
  db: Db,
  certificateId: string,
): Promise<NotificationRow | null> {
  const cert = await db
    .selectFrom('certificates')
    .innerJoin('courses', 'courses.id', 'certificates.course_id')
    .select([
      'certificates.user_id',
      'certificates.course_id',
      'courses.title',
      'certificates.tx_hash',
      'certificates.ledger',
    ])
    .where('certificates.id', '=', certificateId)
    .executeTakeFirst();
  if (!cert) return null;
  return insertNotification(db, {
    userId: cert.user_id,
    kind: 'certificate_confirmed',
    title: 'Your certificate is confirmed on Stellar',
    body: `Your certificate for "${cert.title}" is now recorded on chain.`,
    data: {
      certificate_id: certificateId,
      course_id: cert.course_id,
      tx_hash: cert.tx_hash,
      ledger: cert.ledger,
    },
    dedupeKey: `certificate_confirmed:${certificateId}`,
  });
}

/**
 * The learner's "certificate revoked" notification, once per certificate: the API writes it when
 * an admin revokes, ingest when the revocation shows on chain (one made outside the API too), and
 * whichever comes second writes nothing. Call it after the row is marked revoked.
 */
export async function notifyCertificateRevoked(
  db: Db,
  certificateId: string,
  extra: { txHash?: string; ledger?: number } = {},
): Promise<NotificationRow | null> {
  const cert = await db
    .selectFrom('certificates')
    .select(['user_id', 'course_id', 'revoke_reason'])
    .where('id', '=', certificateId)
    .executeTakeFirst();
  if (!cert) return null;
  return insertNotification(db, {
    userId: cert.user_id,
    kind: 'certificate_revoked',
    title: 'Your certificate was revoked',
    body: `Reason: ${cert.revoke_reason ?? 'not given'}`,
    data: {
      certificate_id: certificateId,
      course_id: cert.course_id,
      reason: cert.revoke_reason,
      ...(extra.txHash ? { tx_hash: extra.txHash, ledger: extra.ledger ?? null } : {}),
    },
    dedupeKey: `certificate_revoked:${certificateId}`,
  });
}

/**
 * For ingest: a BST reward arrived at one of a user's addresses (by event id, so once per event).
 * `amount` is in base units (7 decimals).
 */
export async function notifyRewardReceived(
  db: Db,
  r: { address: string; amount: string; reason: string | null; eventId: string; txHash: string },
): Promise<NotificationRow | null> {
  const owner = await findUserIdByAddress(db, r.address);
  if (!owner) return null;
  return insertNotification(db, {
    userId: owner,
    kind: 'reward_received',
    title: 'You received BST',
    body: `${formatBst(r.amount)} BST${r.reason ? ` (${r.reason})` : ''} arrived in your wallet.`,
    data: { amount: r.amount, reason: r.reason, event_id: r.eventId, tx_hash: r.txHash, address: r.address },
    dedupeKey: `reward_received:${r.eventId}`,
  });
}

/** The user an address belongs to: their current address or the custodial one they had before. */
export async function findUserIdByAddress(db: Db, address: string): Promise<string | null> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('stellar_address', '=', address)
    .unionAll(db.selectFrom('custodial_wallets').select('user_id as id').where('public_key', '=', address))
    .executeTakeFirst();
  return row?.id ?? null;
}

/** 500000000 → "50"; 12345678 → "1.2345678". */
export function formatBst(base: string): string {
  const neg = base.startsWith('-');
  const digits = (neg ? base.slice(1) : base).padStart(8, '0');
  const whole = digits.slice(0, -7).replace(/^0+(?=\d)/, '');
  const frac = digits.slice(-7).replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

export async function listNotifications(
  db: Db,
  userId: string,
  opts: { limit: number; before?: string; unreadOnly?: boolean },
): Promise<NotificationRow[]> {
  let q = db.selectFrom('notifications').selectAll().where('user_id', '=', userId);
  if (opts.before) q = q.where('id', '<', opts.before);
  if (opts.unreadOnly) q = q.where('read_at', 'is', null);
  return q.orderBy('id', 'desc').limit(opts.limit).execute();
}

/** Everything after `afterId`, oldest first: what a reconnecting socket missed. */
export async function listNotificationsAfter(
  db: Db,
  userId: string,
  afterId: string,
  limit: number,
): Promise<NotificationRow[]> {
  return db
    .selectFrom('notifications')
    .selectAll()
    .where('user_id', '=', userId)
    .where('id', '>', afterId)
    .orderBy('id', 'asc')
    .limit(limit)
    .execute();
}

export async function findNotification(db: Db, id: string): Promise<NotificationRow | undefined> {
  return db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function markNotificationRead(
  db: Db,
  userId: string,
  id: string,
): Promise<NotificationRow | undefined> {
  return db
    .updateTable('notifications')
    .set({ read_at: sql<Date>`coalesce(read_at, now())` })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .returningAll()
    .executeTakeFirst();
}

export async function markAllNotificationsRead(db: Db, userId: string): Promise<number> {
  const res = await db
    .updateTable('notifications')
    .set({ read_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('read_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export async function countUnreadNotifications(db: Db, userId: string): Promise<number> {
  const r = await db
    .selectFrom('notifications')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', userId)
    .where('read_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
