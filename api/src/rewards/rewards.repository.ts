// BST read side: balances from the indexer's projection (bst_balances), history from the token
// contract's indexed events (chain_events).
import { sql } from 'kysely';
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

export interface TransferRow {
  event_id: string;
  kind: 'mint' | 'transfer' | 'burn';
  from_address: string | null;
  to_address: string | null;
  /** Base units, a decimal string as the indexer decoded the i128. */
  amount: string;
  /** The reason of the reward_minted event that came with a mint (e.g. 'referral'). */
  reason: string | null;
  ledger: number;
  ledger_closed_at: Date;
  tx_hash: string;
}

/**
 * The token contract's mint/transfer/burn events to or from any of the addresses, newest first,
 * before an event id (keyset), read from the raw indexed events. Per address and direction, an
 * ordered scan of chain_events_to_idx / chain_events_from_idx (migration 0009) stops after `limit`
 * rows; the name lists are literals so the indexes' predicates match in any plan, generic too.
 * A mint's reason comes from the reward_minted event of the same transaction, contract, recipient
 * and amount (the first such event after the mint, as the contract emits it, so two rewards in one
 * transaction pair up in order).
 */
export async function listTransfers(
  db: Db,
  tokenContractId: string,
  addresses: readonly string[],
  limit: number,
  beforeEventId?: string,
): Promise<TransferRow[]> {
  if (!tokenContractId || !addresses.length) return [];
  return (await transfersQuery(tokenContractId, addresses, limit, beforeEventId).execute(db)).rows;
}

/** listTransfers' query (exported for the test that EXPLAINs it). */
export function transfersQuery(
  tokenContractId: string,
  addresses: readonly string[],
  limit: number,
  beforeEventId?: string,
) {
  const mine = sql`unnest(${[...addresses]}::text[]) AS a(address)`;
  const before = beforeEventId ? sql`AND c.id < ${beforeEventId}` : sql``;
  return sql<TransferRow>`
    WITH hits AS (
      SELECT h.id FROM ${mine} CROSS JOIN LATERAL (
        SELECT c.id FROM chain_events c
        WHERE c.name IN ('mint', 'transfer') AND (c.value->>'to') = a.address
          AND c.contract_id = ${tokenContractId} ${before}
        ORDER BY c.id DESC LIMIT ${limit}) h
      UNION
      SELECT h.id FROM ${mine} CROSS JOIN LATERAL (
        SELECT c.id FROM chain_events c
        WHERE c.name IN ('transfer', 'burn') AND (c.value->>'from') = a.address
          AND c.contract_id = ${tokenContractId} ${before}
        ORDER BY c.id DESC LIMIT ${limit}) h
    )
    SELECT e.id AS event_id, e.name AS kind,
           CASE WHEN e.name <> 'mint' THEN e.value->>'from' END AS from_address,
           CASE WHEN e.name <> 'burn' THEN e.value->>'to' END AS to_address,
           e.value->>'amount' AS amount, r.reason, e.ledger, e.ledger_closed_at, e.tx_hash
    FROM chain_events e
    LEFT JOIN LATERAL (
      SELECT x.value->>'reason' AS reason FROM chain_events x
      WHERE e.name = 'mint' AND x.tx_hash = e.tx_hash AND x.contract_id = e.contract_id
        AND x.name = 'reward_minted' AND x.value->>'to' = e.value->>'to'
        AND x.value->>'amount' = e.value->>'amount'
      ORDER BY x.id > e.id DESC, x.id LIMIT 1) r ON true
    WHERE e.id IN (SELECT id FROM hits)
    ORDER BY e.id DESC LIMIT ${limit}`;
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
