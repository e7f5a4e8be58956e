// SQL for certificates. Rows are written by lesson completion (pending) and revocation; the chain
// proof columns are written by the indexer's ingest.
import { sql, type Selectable } from 'kysely';
import type { Certificates } from '@starling/migrations';
import type { Db } from '../audit/audit.repository.ts';

export type CertificateRow = Selectable<Certificates>;

export interface NewCertificate {
  id: string;
  userId: string;
  courseId: string;
  studentAddress: string;
  document: unknown;
  canonical: string;
  hash: string;
  issuedAt: Date;
}

/** Null when the learner already has a certificate for the course (one per learner and course). */
export async function insertCertificate(db: Db, c: NewCertificate): Promise<CertificateRow | null> {
  const row = await db
    .insertInto('certificates')
    .values({
      id: c.id,
      user_id: c.userId,
      course_id: c.courseId,
      student_address: c.studentAddress,
      document: JSON.stringify(c.document),
      document_canonical: c.canonical,
      document_hash: c.hash,
      issued_at: c.issuedAt,
    })
    .onConflict((oc) => oc.columns(['user_id', 'course_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ?? null;
}

export async function findCertificate(db: Db, id: string): Promise<CertificateRow | undefined> {
  return db.selectFrom('certificates').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockCertificate(db: Db, id: string): Promise<CertificateRow | undefined> {
  return db.selectFrom('certificates').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function findCertificateFor(
  db: Db,
  userId: string,
  courseId: string,
): Promise<CertificateRow | undefined> {
  return db
    .selectFrom('certificates')
    .selectAll()
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
    .executeTakeFirst();
}

/**
 * A certificate with the learner's current display name and the course title, for public views.
 * A prepared statement (lib/prepared-statements.ts): verifiers hit it hardest. Columns are
 * listed, not `c.*`, so a later migration adding one cannot break the cached plan.
 */
export async function findCertificateView(db: Db, id: string) {
  const r = await sql<
    CertificateRow & { learner_name: string; course_title: string; course_slug: string }
  >`/*stmt:certificate_view*/
    SELECT c.id, c.user_id, c.course_id, c.student_address, c.document, c.document_canonical, c.document_hash, c.status, c.issued_at, c.chain_certificate_id, c.contract_id, c.network, c.tx_hash, c.ledger, c.ledger_closed_at, c.confirmed_at, c.revoked_at, c.revoke_reason, c.revoked_by, c.revoke_tx_hash, c.revoke_ledger, c.revoke_ledger_closed_at, c.created_at, c.updated_at,
           u.display_name AS learner_name, co.title AS course_title, co.slug AS course_slug
    FROM certificates c
    JOIN users u ON u.id = c.user_id
    JOIN courses co ON co.id = c.course_id
    WHERE c.id = ${id}`.execute(db);
  return r.rows[0];
}

export type CertificateView = NonNullable<Awaited<ReturnType<typeof findCertificateView>>>;

export async function listCertificatesForUser(
  db: Db,
  userId: string,
  limit: number,
  before?: { issuedAt: Date; id: string },
) {
  let q = db
    .selectFrom('certificates')
    .innerJoin('users', 'users.id', 'certificates.user_id')
    .innerJoin('courses', 'courses.id', 'certificates.course_id')
    .selectAll('certificates')
    .select([
      'users.display_name as learner_name',
      'courses.title as course_title',
      'courses.slug as course_slug',
    ])
    .where('certificates.user_id', '=', userId);
  if (before) {
    q = q.where((eb) =>
      eb.or([
        eb('certificates.issued_at', '<', before.issuedAt),
        eb.and([eb('certificates.issued_at', '=', before.issuedAt), eb('certificates.id', '<', before.id)]),
      ]),
    );
  }
  return q
    .orderBy('certificates.issued_at', 'desc')
    .orderBy('certificates.id', 'desc')
    .limit(limit)
    .execute();
}

export async function listCertificatesForCourses(
  db: Db,
  userId: string,
  courseIds: readonly string[],
): Promise<CertificateRow[]> {
  if (!courseIds.length) return [];
  return db
    .selectFrom('certificates')
    .selectAll()
    .where('user_id', '=', userId)
    .where('course_id', 'in', courseIds)
    .execute();
}

/** Marks a certificate revoked at once; the chain's revocation fields follow from ingest. */
export async function markCertificateRevoked(
  db: Db,
  id: string,
  reason: string,
  by: string | null,
): Promise<CertificateRow | undefined> {
  return db
    .updateTable('certificates')
    .set({
      status: 'revoked',
      revoked_at: sql<Date>`now()`,
      revoke_reason: reason,
      revoked_by: by,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('status', '<>', 'revoked')
    .returningAll()
    .executeTakeFirst();
}
