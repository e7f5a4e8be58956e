import type { Db } from '../audit/audit.repository.ts';
import type { Scope } from '../auth/principal.ts';

export async function insertApiKey(
  db: Db,
  row: { name: string; prefix: string; keyHash: Buffer; scopes: readonly Scope[]; createdBy: string },
) {
  return db
    .insertInto('api_keys')
    .values({
      name: row.name,
      prefix: row.prefix,
      key_hash: row.keyHash,
      scopes: [...row.scopes],
      created_by: row.createdBy,
    })
    .returning(['id', 'name', 'prefix', 'scopes', 'created_at', 'created_by', 'last_used_at', 'revoked_at'])
    .executeTakeFirstOrThrow();
}

export async function findApiKeyByPrefix(db: Db, prefix: string) {
  return db.selectFrom('api_keys').selectAll().where('prefix', '=', prefix).executeTakeFirst();
}

export async function listApiKeys(db: Db) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'name', 'prefix', 'scopes', 'created_at', 'created_by', 'last_used_at', 'revoked_at'])
    .orderBy('created_at', 'desc')
    .execute();
}

export async function revokeApiKey(db: Db, id: string) {
  return db
    .updateTable('api_keys')
    .set({ revoked_at: new Date() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning(['id'])
    .executeTakeFirst();
}

/** Written at most once a minute per key so authenticated traffic does not write on every request. */
export async function touchApiKey(db: Db, id: string): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ last_used_at: new Date() })
    .where('id', '=', id)
    .where((eb) =>
      eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(Date.now() - 60_000))]),
    )
    .execute();
}
