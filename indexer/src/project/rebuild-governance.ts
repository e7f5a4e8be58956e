// rebuild, governance part: proposals 1…LastId from the contract's storage, and the votes of
// every address we know. Storage keys (contracts/governance/src/lib.rs DataKey): instance
// `LastId` and `Config`; persistent `Proposal(id)` and `Voted(id, voter)` → support. Storage
// has no list of voters, so a vote by an address the database has never seen is not found, and
// it keeps no weight per vote: the weight is the voter's votes at the proposal's snapshot, asked
// of the token (`get_votes_at_checkpoint`, simulated), exactly what `vote` counted.
import {
  Account,
  Address,
  Keypair,
  Operation,
  StrKey,
  TransactionBuilder,
  nativeToScVal,
  rpc as sdkRpc,
  scValToNative,
  xdr,
} from '@stellar/stellar-sdk';
import { sql, type Transaction } from 'kysely';
import type { Database } from '@starling/migrations';
import type { Context } from '../context.ts';
import { contractDataKey, readEntries, vecKey } from './rebuild.ts';

export interface GovernanceProposalState {
  id: string;
  proposer: string;
  title: string;
  descriptionHash: string;
  snapshotLedger: number;
  endLedger: number;
  votesFor: bigint;
  votesAgainst: bigint;
  executed: boolean;
}

export interface GovernanceVoteState {
  proposalId: string;
  voter: string;
  support: boolean;
  /** null when the database already has this vote (its weight and event stay as ingested). */
  weight: bigint | null;
}

export interface GovernanceState {
  contractId: string;
  proposals: GovernanceProposalState[];
  votes: GovernanceVoteState[];
}

const u64 = (n: bigint | string) => nativeToScVal(BigInt(n), { type: 'u64' });
const address = (a: string) => nativeToScVal(Address.fromString(a), { type: 'address' });
const isAddress = (a: string | null): a is string =>
  !!a && (StrKey.isValidEd25519PublicKey(a) || StrKey.isValidContract(a));
const text = (v: unknown) => (typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('utf8'));

/** Instance storage entries of a contract by their DataKey name (`LastId`, `Config`). */
async function readInstance(ctx: Context, contractId: string): Promise<Map<string, unknown>> {
  const key = contractDataKey(contractId, xdr.ScVal.scvVoid(), 'instance');
  const inst = (await readEntries(ctx, [key])).byKey.get(key) as unknown as
    { value: { storage: { key: xdr.ScVal; val: xdr.ScVal }[] | null } } | undefined;
  const out = new Map<string, unknown>();
  for (const e of inst?.value.storage ?? []) {
    const k = scValToNative(e.key) as unknown;
    if (Array.isArray(k) && typeof k[0] === 'string') out.set(k[0], scValToNative(e.val));
  }
  return out;
}

/** The voter's delegated votes at the end of `ledger`, as the token answers a simulated call. */
async function votesAtCheckpoint(
  ctx: Context,
  passphrase: string,
  token: string,
  voter: string,
  ledger: number,
): Promise<bigint> {
  const source = ctx.config.platform?.publicKey() ?? Keypair.random().publicKey();
  const tx = new TransactionBuilder(new Account(source, '0'), { fee: '100', networkPassphrase: passphrase })
    .addOperation(
      Operation.invokeContractFunction({
        contract: token,
        function: 'get_votes_at_checkpoint',
        args: [address(voter), nativeToScVal(ledger, { type: 'u32' })],
      }),
    )
    .setTimeout(60)
    .build();
  const sim = sdkRpc.parseRawSimulation((await ctx.rpc.simulateTransaction(tx.toXDR())) as never);
  if (sdkRpc.Api.isSimulationError(sim) || !sim.result)
    throw new Error(
      `get_votes_at_checkpoint(${voter}, ${ledger}) failed: ${'error' in sim ? sim.error : 'no result'}`,
    );
  return BigInt(scValToNative(sim.result.retval) as bigint);
}

export async function readGovernanceState(ctx: Context, contractId: string): Promise<GovernanceState> {
  const inst = await readInstance(ctx, contractId);
  const lastId = BigInt((inst.get('LastId') as bigint | undefined) ?? 0n);
  const token = String(
    (inst.get('Config') as { token?: string } | undefined)?.token ?? ctx.config.contracts.token,
  );
  const proposalKeys: string[] = [];
  for (let id = 1n; id <= lastId; id++)
    proposalKeys.push(contractDataKey(contractId, vecKey('Proposal', u64(id)), 'persistent'));
  const proposals: GovernanceProposalState[] = [];
  for (const [, v] of (await readEntries(ctx, proposalKeys)).byKey) {
    const p = scValToNative(v) as Record<string, unknown>;
    proposals.push({
      id: String(p.id),
      proposer: String(p.proposer),
      title: text(p.title),
      descriptionHash: Buffer.from(p.description_hash as Uint8Array).toString('hex'),
      snapshotLedger: Number(p.snapshot_ledger),
      endLedger: Number(p.end_ledger),
      votesFor: BigInt(p.votes_for as bigint),
      votesAgainst: BigInt(p.votes_against as bigint),
      executed: Boolean(p.executed),
    });
  }

  const known = await sql<{ a: string | null }>`
    SELECT voter AS a FROM governance_votes UNION SELECT proposer FROM governance_proposals
    UNION SELECT stellar_address FROM users UNION SELECT public_key FROM custodial_wallets
    UNION SELECT address FROM bst_balances
    -- A rebuild keeps only the balance rows whose ledger entry it could read; the token events keep
    -- every holder the indexer saw (what bst_transfers held before 0009).
    UNION SELECT value->>'to' FROM chain_events WHERE name IN ('mint', 'transfer')
    UNION SELECT value->>'from' FROM chain_events WHERE name IN ('transfer', 'burn')`.execute(ctx.db);
  const candidates = [
    ...new Set([...known.rows.map((r) => r.a), ...proposals.map((p) => p.proposer)].filter(isAddress)),
  ];
  const ingested = await ctx.db
    .selectFrom('governance_votes')
    .select(['proposal_id', 'voter'])
    .where('contract_id', '=', contractId)
    .execute();
  const have = new Set(ingested.map((v) => `${v.proposal_id}|${v.voter}`));
  const pairs = proposals.flatMap((p) => candidates.map((voter) => ({ p, voter })));
  const keyOf = ({ p, voter }: (typeof pairs)[number]) =>
    contractDataKey(contractId, vecKey('Voted', u64(p.id), address(voter)), 'persistent');
  const voted = await readEntries(ctx, pairs.map(keyOf));
  const votes: GovernanceVoteState[] = [];
  const passphrase = pairs.length ? (await ctx.rpc.getNetwork()).passphrase : '';
  for (const pair of pairs) {
    const v = voted.byKey.get(keyOf(pair));
    if (!v) continue;
    const weight = have.has(`${pair.p.id}|${pair.voter}`)
      ? null
      : await votesAtCheckpoint(ctx, passphrase, token, pair.voter, pair.p.snapshotLedger);
    votes.push({ proposalId: pair.p.id, voter: pair.voter, support: Boolean(scValToNative(v)), weight });
  }
  return { contractId, proposals, votes };
}

/**
 * Upserts what storage holds. Columns storage does not keep stay as ingested; for a proposal
 * or vote made inside the gap: created_ledger = snapshot_ledger + 1 (exact), tx_hash '' and
 * executed_ledger null (unknown), and a vote's ledger/event_id mark the rebuild, as progress does.
 */
export async function writeGovernanceState(
  tx: Transaction<Database>,
  s: GovernanceState,
  ledger: number,
): Promise<void> {
  for (const p of s.proposals) {
    await sql`
      INSERT INTO governance_proposals (contract_id, proposal_id, proposer, title, description_hash, snapshot_ledger,
        end_ledger, votes_for, votes_against, executed, executed_ledger, created_ledger, tx_hash)
      VALUES (${s.contractId}, ${p.id}, ${p.proposer}, ${p.title}, ${p.descriptionHash}, ${p.snapshotLedger}, ${p.endLedger},
        ${p.votesFor.toString()}::numeric, ${p.votesAgainst.toString()}::numeric, ${p.executed}, NULL, ${p.snapshotLedger + 1}, '')
      ON CONFLICT (contract_id, proposal_id) DO UPDATE SET proposer = excluded.proposer, title = excluded.title,
        description_hash = excluded.description_hash, snapshot_ledger = excluded.snapshot_ledger, end_ledger = excluded.end_ledger,
        votes_for = excluded.votes_for, votes_against = excluded.votes_against, executed = excluded.executed,
        executed_ledger = CASE WHEN excluded.executed THEN governance_proposals.executed_ledger END`.execute(
      tx,
    );
  }
  for (const v of s.votes) {
    if (v.weight === null) {
      await tx
        .updateTable('governance_votes')
        .set({ support: v.support })
        .where('contract_id', '=', s.contractId)
        .where('proposal_id', '=', v.proposalId)
        .where('voter', '=', v.voter)
        .execute();
      continue;
    }
    await tx
      .insertInto('governance_votes')
      .values({
        contract_id: s.contractId,
        proposal_id: v.proposalId,
        voter: v.voter,
        support: v.support,
        weight: v.weight.toString(),
        ledger,
        event_id: `rebuild-${ledger}`,
      })
      .onConflict((oc) => oc.columns(['contract_id', 'proposal_id', 'voter']).doNothing())
      .execute();
  }
}
