// SEP-10 challenges the server issued. A nonce is consumed at most once: the conditional UPDATE is
// atomic in Postgres, so it holds across API replicas, and it runs inside the caller's transaction so
// a sign-in that fails later (and rolls back) leaves the challenge usable.
import { sql } from 'kysely';
import type { Db } from '../audit/audit.repository.ts';

export type ChallengePurpose = 'login' | 'link';

export async function insertChallenge(
  db: Db,
  row: { nonce: string; account: string; purpose: ChallengePurpose; userId: string | null; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('sep10_challenges')
    .values({
      nonce: row.nonce,
      account: row.account,
      purpose: row.purpose,
      user_id: row.userId,
      expires_at: row.expiresAt,
    })
    .execute();
}

export async function findChallenge(db: Db, nonce: string) {
  return db
    .selectFrom('sep10_challenges')
    .select([
      'nonce',
      'account',
      'purpose',
      'user_id',
      'expires_at',
      'consumed_at',
      sql<boolean>`expires_at <= now()`.as('expired'),
    ])
    .where('nonce', '=', nonce)
    .executeTakeFirst();
}

/** Marks the challenge used; undefined when it is unknown, already used, expired or bound elsewhere. */
export async function consumeChallenge(
  db: Db,
  c: { nonce: string; account: string; purpose: ChallengePurpose; userId: string | null },
) {
  let q = db
    .updateTable('sep10_challenges')
    .set({ consumed_at: sql`now()` })
    .where('nonce', '=', c.nonce)
    .where('account', '=', c.account)
    .where('purpose', '=', c.purpose)
    .where('consumed_at', 'is', null)
    .where(sql<boolean>`expires_at > now()`);
  q = c.userId === null ? q.where('user_id', 'is', null) : q.where('user_id', '=', c.userId);
  return q.returning(['nonce', 'account', 'user_id']).executeTakeFirst();
}

/** Removes a bounded batch of challenges that expired over an hour ago: they can no longer be used. */
export async function deleteStaleChallenges(db: Db, limit = 200): Promise<void> {
  await sql`
    DELETE FROM sep10_challenges
    WHERE nonce IN (SELECT nonce FROM sep10_challenges WHERE expires_at < now() - interval '1 hour' LIMIT ${limit})
  `.execute(db);
}

/** Creates a wallet-only learner; undefined when a concurrent sign-in created one for the address first. */
export async function insertWalletUser(
  db: Db,
  user: {
    id: string;
    display_name: string;
    stellar_address: string;
    wallet_kind: 'external';
    referral_code: string;
  },
) {
  return db
    .insertInto('users')
    .values(user)
    .onConflict((oc) => oc.column('stellar_address').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** The user whose custodial wallet (current or kept after linking) has this address. */
export async function findCustodialOwner(db: Db, address: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('custodial_wallets')
    .select('user_id')
    .where('public_key', '=', address)
    .executeTakeFirst();
  return row?.user_id;
}
