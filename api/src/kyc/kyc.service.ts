import type { Selectable } from 'kysely';
import type { KycStatus, KycSubmissions } from '@starling/migrations';
import type { AppContext } from '../context.ts';
import { conflict, notFound } from '../errors.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import type { Principal } from '../auth/principal.ts';
import { updateUser, findUserById } from '../users/users.repository.ts';
import type { KycProvider } from './kyc.provider.ts';
import {
  insertKycSubmission,
  latestKycSubmission,
  listKycSubmissions,
  lockKycSubmission,
  setKycReview,
} from './kyc.repository.ts';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

const pendingAlready = () => conflict('kyc_pending', 'A verification is already waiting for review.');

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint?: string } | null;
  return e?.code === '23505' && e.constraint === constraint;
}

export function toKycSubmission(row: Selectable<KycSubmissions>) {
  return {
    id: row.id,
    user_id: row.user_id,
    status: row.status,
    provider: row.provider,
    full_name: row.full_name,
    country: row.country,
    document_type: row.document_type,
    submitted_at: row.submitted_at.toISOString(),
    reviewed_at: row.reviewed_at?.toISOString() ?? null,
    review_note: row.review_note,
  };
}

export function createKycService(ctx: AppContext, provider: KycProvider) {
  return {
    async submit(
      principal: UserPrincipal,
      input: { full_name: string; country: string; document_type: string },
      requestId: string,
    ) {
      const user = await findUserById(ctx.db, principal.userId);
      if (!user) throw notFound('user_not_found', 'Your account no longer exists.');
      if (user.kyc_status === 'pending') throw pendingAlready();
      if (user.kyc_status === 'verified')
        throw conflict('kyc_already_verified', 'Your identity is already verified.');
      const result = await provider.submit({
        userId: user.id,
        fullName: input.full_name,
        country: input.country,
        documentType: input.document_type,
      });
      try {
        return await ctx.db.transaction().execute(async (trx) => {
          const row = await insertKycSubmission(trx, {
            userId: user.id,
            status: result.status,
            provider: provider.name,
            providerRef: result.reference,
            fullName: input.full_name.trim(),
            country: input.country,
            documentType: input.document_type,
          });
          await updateUser(trx, user.id, { kyc_status: result.status });
          await recordAudit(trx, {
            actor: principal,
            action: 'kyc.submitted',
            targetType: 'user',
            targetId: user.id,
            requestId,
            data: { submission_id: row.id, provider: provider.name, status: result.status },
          });
          return toKycSubmission(row);
        });
      } catch (err) {
        // A concurrent submission got its pending row in first (migrations/sql/0008_kyc_one_pending.sql).
        if (isUniqueViolation(err, 'kyc_submissions_one_pending_idx')) throw pendingAlready();
        throw err;
      }
    },

    async mine(userId: string) {
      const user = await findUserById(ctx.db, userId);
      const latest = await latestKycSubmission(ctx.db, userId);
      return { status: user?.kyc_status ?? 'none', submission: latest ? toKycSubmission(latest) : null };
    },

    list: async (status: KycStatus | undefined, limit: number) =>
      (await listKycSubmissions(ctx.db, status, limit)).map(toKycSubmission),

    /** By an admin, or by a vendor's integration (an API key with `write`; reviewed_by stays null). */
    async review(
      actor: Principal,
      id: string,
      decision: 'verified' | 'rejected',
      note: string | undefined,
      requestId: string,
    ) {
      return ctx.db.transaction().execute(async (trx) => {
        const row = await lockKycSubmission(trx, id);
        if (!row) throw notFound('kyc_submission_not_found', 'No KYC submission with that id.');
        if (row.status !== 'pending')
          throw conflict('kyc_already_reviewed', `This submission was already ${row.status}.`);
        const reviewer = actor.kind === 'user' ? actor.userId : null;
        const updated = await setKycReview(trx, id, decision, reviewer, note ?? null);
        await updateUser(trx, row.user_id, { kyc_status: decision });
        await recordAudit(trx, {
          actor,
          action: 'kyc.reviewed',
          targetType: 'user',
          targetId: row.user_id,
          requestId,
          data: { submission_id: id, decision },
        });
        return toKycSubmission(updated);
      });
    },
  };
}

export type KycService = ReturnType<typeof createKycService>;
