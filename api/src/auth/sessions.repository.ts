import { sql } from 'kysely';
import type { UserRole } from '@starling/migrations';
import type { Db } from '../audit/audit.repository.ts';

export async function insertRefreshToken(
  db: Db,
  row: { familyId: string; userId: string; tokenHash: Buffer; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('refresh_tokens')
    .values({
      family_id: row.familyId,
      user_id: row.userId,
      token_hash: row.tokenHash,
      expires_at: row.expiresAt,
    })
    .execute();
}

/** Locks the row: concurrent refreshes of one token serialise here. */
export async function lockRefreshToken(db: Db, tokenHash: Buffer) {
  return db
    .selectFrom('refresh_tokens')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .forUpdate()
    .executeTakeFirst();
}

export async function markRefreshTokenUsed(db: Db, id: string): Promise<void> {
  await db.updateTable('refresh_tokens').set({ used_at: new Date() }).where('id', '=', id).execute();
}

export async function revokeFamily(db: Db, familyId: string, reason: string): Promise<number> {
  const r = await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: new Date(), revoked_reason: reason })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function revokeAllForUser(db: Db, userId: string, reason: string): Promise<void> {
  await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: new Date(), revoked_reason: reason })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function revokeAccessToken(db: Db, jti: string, expiresAt: Date): Promise<void> {
  await db
    .insertInto('revoked_access_tokens')
    .values({ jti, expires_at: expiresAt })
    .onConflict((oc) => oc.doNothing())
    .execute();
  // Expired entries can never match again; prune them opportunistically.
  await db
    .deleteFrom('revoked_access_tokens')
    .where('expires_at', '<', sql<Date>`now()`)
    .execute();
}

/**
 * What an access token's holder is now: their current role, and whether this token was revoked
 * (logout). One round trip per authenticated request; undefined when the user no longer exists.
 * The token's own role claim is only what it was at sign-in: a role change applies at once.
 */
export async function accessTokenHolder(
  db: Db,
  userId: string,
  jti: string,
): Promise<{ role: UserRole; revoked: boolean } | undefined> {
  const row = await db
    .selectFrom('users')
    .select((eb) => [
      'role',
      eb.exists(eb.selectFrom('revoked_access_tokens').select('jti').where('jti', '=', jti)).as('revoked'),
    ])
    .where('id', '=', userId)
    .executeTakeFirst();
  return row && { role: row.role, revoked: row.revoked === true };
}
