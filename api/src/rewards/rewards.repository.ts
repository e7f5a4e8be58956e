// BST read side: balances and history come from the indexer's projections of token events.
import type { Db } from '../audit/audit.repository.ts';

/**
 * Every address that is or was the user's: the current one, and the custodial wallet kept after
 * the learner linked a wallet of their own (rewards minted to it before the switch stay theirs).
 */
export async function findUserAddresses(
  db: Db,
  userId: string,
): Promise<{ address: string; kind: 'current' | 'custodial' }[]> {
  const rows = await db
    .selectFrom('users')
    .leftJoin('custodial_wallets', 'custodial_wallets.user_id', 'users.id')
    .select(['users.stellar_address', 'custodial_wallets.public_key'])
    .where('users.id', '=', userId)
    .executeTakeFirst();
  if (!rows) return [];
  const out: { address: string; kind: 'current' | 'custodial' }[] = [
    { address: rows.stellar_address, kind: 'current' },
  ];
  if (rows.public_key && rows.public_key !== rows.stellar_address)
    out.push({ address: rows.public_key, kind: 'custodial' });
  return out;
}

export async function findBalances(db: Db, addresses: readonly string[]) {
  if (!addresses.length) return [];
  return db
    .selectFrom('bst_balances')
    .select(['address', 'balance', 'ledger'])
    .where('address', 'in', addresses)
    .execute();
}

export async function listTransfers(
  db: Db,
  addresses: readonly string[],
  limit: number,
  beforeEventId?: string,
) {
  if (!addresses.length) return [];
  let q = db
    .selectFrom('bst_transfers')
    .selectAll()
    .where((eb) => eb.or([eb('to_address', 'in', addresses), eb('from_address', 'in', addresses)]));
  if (beforeEventId) q = q.where('event_id', '<', beforeEventId);
  return q.orderBy('event_id', 'desc').limit(limit).execute();
}

export async function listOpenRewardIntents(db: Db, userId: string) {
  return db
    .selectFrom('intents')
    .selectAll()
    .where('user_id', '=', userId)
    .where('kind', '=', 'mint_reward')
    .where('status', 'not in', ['confirmed', 'superseded'])
    .orderBy('id', 'desc')
    .execute();
}
