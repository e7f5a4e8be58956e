// Governance SQL: proposals and votes as the indexer projected them, proposal texts, and the
// transactions prepared for wallet holders.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '@starling/migrations';

export type Db = Kysely<Database> | Transaction<Database>;

const PROPOSAL_COLUMNS = [
  'contract_id',
  'proposal_id',
  'proposer',
  'title',
  'description_hash',
  'snapshot_ledger',
  'end_ledger',
  'votes_for',
  'votes_against',
  'executed',
  'executed_ledger',
  'created_ledger',
  'tx_hash',
] as const;

/** Newest first; `beforeId` continues a page. `contractId` empty: every contract ingest saw. */
export async function listProposals(db: Db, contractId: string, limit: number, beforeId?: string) {
  let q = db.selectFrom('governance_proposals').select(PROPOSAL_COLUMNS);
  if (contractId) q = q.where('contract_id', '=', contractId);
  if (beforeId) q = q.where('proposal_id', '<', beforeId);
  return q.orderBy('proposal_id', 'desc').limit(limit).execute();
}

export async function findProposal(db: Db, contractId: string, id: string) {
  let q = db.selectFrom('governance_proposals').select(PROPOSAL_COLUMNS).where('proposal_id', '=', id);
  if (contractId) q = q.where('contract_id', '=', contractId);
  return q.orderBy('created_ledger', 'desc').executeTakeFirst();
}

/** Votes on one proposal, latest first, continuing after (ledger, voter). */
export async function listVotes(
  db: Db,
  contractId: string,
  proposalId: string,
  limit: number,
  after?: { ledger: number; voter: string },
) {
  let q = db
    .selectFrom('governance_votes')
    .select(['voter', 'support', 'weight', 'ledger', 'event_id'])
    .where('contract_id', '=', contractId)
    .where('proposal_id', '=', proposalId);
  if (after)
    q = q.where((eb) =>
      eb.or([
        eb('ledger', '<', after.ledger),
        eb.and([eb('ledger', '=', after.ledger), eb('voter', '>', after.voter)]),
      ]),
    );
  return q.orderBy('ledger', 'desc').orderBy('voter', 'asc').limit(limit).execute();
}

export async function findVote(db: Db, contractId: string, proposalId: string, voter: string) {
  return db
    .selectFrom('governance_votes')
    .select(['support', 'weight', 'ledger'])
    .where('contract_id', '=', contractId)
    .where('proposal_id', '=', proposalId)
    .where('voter', '=', voter)
    .executeTakeFirst();
}

export async function findDescription(db: Db, hash: string) {
  return db
    .selectFrom('governance_descriptions')
    .select(['description_hash', 'body', 'created_at'])
    .where('description_hash', '=', hash)
    .executeTakeFirst();
}

/** Stores a proposal text under its SHA-256; the same text again changes nothing. */
export async function saveDescription(db: Db, hash: string, body: string, userId: string): Promise<void> {
  await db
    .insertInto('governance_descriptions')
    .values({ description_hash: hash, body, submitted_by: userId })
    .onConflict((oc) => oc.column('description_hash').doNothing())
    .execute();
}

export async function findWallet(db: Db, userId: string) {
  return db
    .selectFrom('users')
    .select(['stellar_address', 'wallet_kind'])
    .where('id', '=', userId)
    .executeTakeFirst();
}

export interface PreparedRow {
  txHash: string;
  userId: string;
  source: string;
  action: 'vote' | 'propose' | 'execute' | 'delegate';
  contractId: string;
  proposalId: string | null;
  args: Record<string, unknown>;
  validUntil: Date;
}

export async function insertPrepared(db: Db, row: PreparedRow): Promise<void> {
  await db
    .insertInto('governance_transactions')
    .values({
      tx_hash: row.txHash,
      user_id: row.userId,
      source_address: row.source,
      action: row.action,
      contract_id: row.contractId,
      proposal_id: row.proposalId,
      args: JSON.stringify(row.args),
      valid_until: row.validUntil,
    })
    // Preparing the same call twice within a second builds the same transaction (same source,
    // sequence and time bounds): it is the same row.
    .onConflict((oc) => oc.column('tx_hash').doNothing())
    .execute();
}

export async function findPrepared(db: Db, txHash: string) {
  return db
    .selectFrom('governance_transactions')
    .selectAll()
    .where('tx_hash', '=', txHash)
    .executeTakeFirst();
}

/** prepared → submitted, once: a second relay of the same envelope finds nothing to claim. */
export async function claimPrepared(db: Db, txHash: string, userId: string): Promise<boolean> {
  const r = await db
    .updateTable('governance_transactions')
    .set({ status: 'submitted', submitted_at: new Date() })
    .where('tx_hash', '=', txHash)
    .where('user_id', '=', userId)
    .where('status', '=', 'prepared')
    .executeTakeFirst();
  return r.numUpdatedRows === 1n;
}

export async function finishPrepared(
  db: Db,
  txHash: string,
  status: 'prepared' | 'success' | 'failed',
  ledger: number | null,
  error: string | null,
): Promise<void> {
  await db
    .updateTable('governance_transactions')
    .set({ status, ledger, error })
    .where('tx_hash', '=', txHash)
    .execute();
}
