import type { UserRole } from '@starling/migrations';
import type { AppContext } from '../context.ts';
import { forbidden, notFound } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../catalog/cursor.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import type { Principal } from '../auth/principal.ts';
import { isMfaEnabled } from '../mfa/mfa.service.ts';
import { findUserById, listReferrals, updateUser } from './users.repository.ts';
import type { UserRow } from '../auth/auth.service.ts';
import type { CatalogCache } from '../catalog/catalog.cache.ts';
import { instructsAnyCourse } from '../courses/courses.repository.ts';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

export function toPublicUser(u: UserRow) {
  return {
    id: u.id,
    display_name: u.display_name,
    bio: u.bio,
    role: u.role,
    stellar_address: u.stellar_address,
    created_at: u.created_at.toISOString(),
  };
}

// The catalog and course pages carry the instructor's display name, so renaming an instructor
// drops the cached pages (after commit, like every other catalog change).
export function createUsersService(ctx: AppContext, catalogCache: Pick<CatalogCache, 'invalidate'>) {
  async function me(userId: string) {
    const u = await findUserById(ctx.db, userId);
    if (!u) throw notFound('user_not_found', 'Your account no longer exists.');
    return {
      id: u.id,
      email: u.email,
      display_name: u.display_name,
      bio: u.bio,
      role: u.role,
      stellar_address: u.stellar_address,
      wallet_kind: u.wallet_kind,
      referral_code: u.referral_code,
      referred_by: u.referred_by,
      kyc_status: u.kyc_status,
      mfa_enabled: await isMfaEnabled(ctx.db, u.id),
      created_at: u.created_at.toISOString(),
    };
  }

  return {
    me,

    async updateMe(
      principal: UserPrincipal,
      patch: { display_name?: string; bio?: string },
      requestId: string,
    ) {
      const renamedInstructor = await ctx.db.transaction().execute(async (trx) => {
        const before = await findUserById(trx, principal.userId);
        if (!before) throw notFound('user_not_found', 'Your account no longer exists.');
        const displayName = patch.display_name?.trim();
        await updateUser(trx, principal.userId, {
          ...(displayName !== undefined ? { display_name: displayName } : {}),
          ...(patch.bio !== undefined ? { bio: patch.bio } : {}),
        });
        await recordAudit(trx, {
          actor: principal,
          action: 'user.profile_updated',
          targetType: 'user',
          targetId: principal.userId,
          requestId,
          data: { fields: Object.keys(patch) },
        });
        return (
          displayName !== undefined &&
          displayName !== before.display_name &&
          (await instructsAnyCourse(trx, principal.userId))
        );
      });
      if (renamedInstructor) await catalogCache.invalidate();
      return me(principal.userId);
    },

    async publicProfile(id: string) {
      const u = await findUserById(ctx.db, id);
      if (!u) throw notFound('user_not_found', 'No user with that id.');
      return toPublicUser(u);
    },

    async referrals(userId: string, limit: number, cursor?: string) {
      const u = await findUserById(ctx.db, userId);
      if (!u) throw notFound('user_not_found', 'Your account no longer exists.');
      const after = cursor ? decodeCursor(cursor, ['date', 'uuid'] as const) : undefined;
      const rows = await listReferrals(
        ctx.db,
        userId,
        limit,
        after ? { at: after[0], id: after[1] } : undefined,
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const link = new URL('/signup', ctx.config.PUBLIC_WEB_URL);
      link.searchParams.set('ref', u.referral_code);
      return {
        referral_code: u.referral_code,
        referral_link: link.toString(),
        referrals: page.map((r) => ({
          id: r.id,
          display_name: r.display_name,
          joined_at: r.created_at.toISOString(),
        })),
        next_cursor: rows.length > limit && last ? encodeCursor([last.cursor_at, last.id]) : null,
      };
    },

    async changeRole(actor: UserPrincipal, userId: string, role: UserRole, requestId: string) {
      if (actor.userId === userId)
        throw forbidden('cannot_change_own_role', 'Admins cannot change their own role.');
      return ctx.db.transaction().execute(async (trx) => {
        const before = await findUserById(trx, userId);
        if (!before) throw notFound('user_not_found', 'No user with that id.');
        const after = await updateUser(trx, userId, { role });
        await recordAudit(trx, {
          actor,
          action: 'user.role_changed',
          targetType: 'user',
          targetId: userId,
          requestId,
          data: { from: before.role, to: role },
        });
        return toPublicUser(after!);
      });
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
