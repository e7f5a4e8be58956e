import type { Insertable, Updateable } from 'kysely';
import type { Users } from '@starling/migrations';
import type { Db } from '../audit/audit.repository.ts';
import { exactTs, tsValue } from '../catalog/cursor.ts';

export type NewUser = Insertable<Users>;

export async function insertUser(db: Db, user: NewUser) {
  return db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow();
}

export async function findUserById(db: Db, id: string) {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findUserByEmail(db: Db, email: string) {
  return db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
}

export async function findUserByAddress(db: Db, address: string) {
  return db.selectFrom('users').selectAll().where('stellar_address', '=', address).executeTakeFirst();
}

export async function findUserByReferralCode(db: Db, code: string) {
  return db.selectFrom('users').select(['id']).where('referral_code', '=', code).executeTakeFirst();
}

export async function updateUser(db: Db, id: string, patch: Updateable<Users>) {
  return db
    .updateTable('users')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function insertCustodialWallet(
  db: Db,
  row: { userId: string; publicKey: string; secretCiphertext: string },
) {
  await db
    .insertInto('custodial_wallets')
    .values({ user_id: row.userId, public_key: row.publicKey, secret_ciphertext: row.secretCiphertext })
    .execute();
}

export async function findCustodialWallet(db: Db, userId: string) {
  return db.selectFrom('custodial_wallets').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

/** Referees of a user, newest first, after an optional (created_at, id) cursor of exact timestamps. */
export async function listReferrals(
  db: Db,
  referrerId: string,
  limit: number,
  after?: { at: string; id: string },
) {
  let q = db
    .selectFrom('users')
    .select(['id', 'display_name', 'created_at', exactTs('created_at').as('cursor_at')])
    .where('referred_by', '=', referrerId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (after) {
    q = q.where((eb) =>
      eb.or([
        eb('created_at', '<', tsValue(after.at)),
        eb.and([eb('created_at', '=', tsValue(after.at)), eb('id', '<', after.id)]),
      ]),
    );
  }
  return q.execute();
}
