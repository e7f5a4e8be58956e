import type { Db } from '../audit/audit.repository.ts';

export async function findTotp(db: Db, userId: string) {
  return db.selectFrom('mfa_totp').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export async function upsertPendingTotp(db: Db, userId: string, secretCiphertext: string): Promise<void> {
  await db
    .insertInto('mfa_totp')
    .values({ user_id: userId, secret_ciphertext: secretCiphertext })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ secret_ciphertext: secretCiphertext, enabled_at: null, last_used_step: 0 }),
    )
    .execute();
}

/** Accepts a time step only if it is newer than every step accepted before: atomic across requests. */
export async function claimTotpStep(db: Db, userId: string, step: number): Promise<boolean> {
  const r = await db
    .updateTable('mfa_totp')
    .set({ last_used_step: String(step) })
    .where('user_id', '=', userId)
    .where('last_used_step', '<', String(step))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function markTotpEnabled(db: Db, userId: string): Promise<void> {
  await db.updateTable('mfa_totp').set({ enabled_at: new Date() }).where('user_id', '=', userId).execute();
}

export async function deleteMfa(db: Db, userId: string): Promise<void> {
  await db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
  await db.deleteFrom('mfa_totp').where('user_id', '=', userId).execute();
}

export async function replaceRecoveryCodes(db: Db, userId: string, hashes: Buffer[]): Promise<void> {
  await db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
  await db
    .insertInto('mfa_recovery_codes')
    .values(hashes.map((h) => ({ user_id: userId, code_hash: h })))
    .execute();
}

export async function useRecoveryCode(db: Db, userId: string, hash: Buffer): Promise<boolean> {
  const r = await db
    .updateTable('mfa_recovery_codes')
    .set({ used_at: new Date() })
    .where('user_id', '=', userId)
    .where('code_hash', '=', hash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function countUnusedRecoveryCodes(db: Db, userId: string): Promise<number> {
  const r = await db
    .selectFrom('mfa_recovery_codes')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
