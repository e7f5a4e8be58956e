import type { KycStatus } from '@starling/migrations';
import type { Db } from '../audit/audit.repository.ts';

export async function insertKycSubmission(
  db: Db,
  row: {
    userId: string;
    status: KycStatus;
    provider: string;
    providerRef: string | null;
    fullName: string;
    country: string;
    documentType: string;
  },
) {
  return db
    .insertInto('kyc_submissions')
    .values({
      user_id: row.userId,
      status: row.status,
      provider: row.provider,
      provider_ref: row.providerRef,
      full_name: row.fullName,
      country: row.country,
      document_type: row.documentType,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function latestKycSubmission(db: Db, userId: string) {
  return db
    .selectFrom('kyc_submissions')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('submitted_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function lockKycSubmission(db: Db, id: string) {
  return db.selectFrom('kyc_submissions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function listKycSubmissions(db: Db, status: KycStatus | undefined, limit: number) {
  let q = db.selectFrom('kyc_submissions').selectAll().orderBy('submitted_at').limit(limit);
  if (status) q = q.where('status', '=', status);
  return q.execute();
}

export async function setKycReview(
  db: Db,
  id: string,
  status: KycStatus,
  reviewerId: string | null,
  note: string | null,
) {
  return db
    .updateTable('kyc_submissions')
    .set({ status, reviewed_by: reviewerId, reviewed_at: new Date(), review_note: note })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
