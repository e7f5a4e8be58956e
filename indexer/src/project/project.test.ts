// Projections from the events the real host emitted (contracts/vectors), against real Postgres:
// balances and supply move by exactly the token events, BST history (read from the stored events
// as the API reads it) lists every move and a reward's reason, governance
// proposals and votes add up, and replaying the same page changes nothing (upsert by event id).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { createDb, createPool, type Database } from '@starling/migrations';
import { createTestDatabase } from '../../../ops/test/db.ts';
import { tableHashes } from '../test/harness.ts';
import { vectorEvents } from '../test/vectors.ts';
import { listTransfers } from '../../../api/src/rewards/rewards.repository.ts';
import { projectPage } from './project.ts';

const SEED = 10n ** 20n;
let database: { url: string; drop(): Promise<void> };
let db: Kysely<Database>;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(createPool(database.url, 2));
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

describe('projectPage on the contract vectors', () => {
  it('moves balances and supply by exactly the token events, records rewards and governance, and replays as a no-op', async () => {
    const events = vectorEvents(['token_', 'governance_']);
    const rewardTx = events.find((e) => e.decoded.name === 'reward_minted')!.txHash;
    expect(events.length).toBeGreaterThan(10);
    // Holders the scenarios started with (their setup mints are not in the vectors).
    const expected = new Map<string, bigint>();
    let supply = 0n;
    for (const e of events.filter((x) => x.kind === 'token')) {
      const f = e.decoded.fields;
      for (const a of [f.from, f.to]) if (typeof a === 'string' && !expected.has(a)) expected.set(a, SEED);
    }
    supply = SEED * BigInt(expected.size);
    for (const e of events.filter((x) => x.kind === 'token')) {
      const f = e.decoded.fields;
      const amt = BigInt(String(f.amount ?? 0));
      if (e.decoded.name === 'transfer') {
        expected.set(String(f.from), expected.get(String(f.from))! - amt);
        expected.set(String(f.to), expected.get(String(f.to))! + amt);
      } else if (e.decoded.name === 'mint') {
        expected.set(String(f.to), expected.get(String(f.to))! + amt);
        supply += amt;
      } else if (e.decoded.name === 'burn') {
        expected.set(String(f.from), expected.get(String(f.from))! - amt);
        supply -= amt;
      }
    }
    await db
      .insertInto('bst_balances')
      .values([...expected.keys()].map((a) => ({ address: a, balance: SEED.toString(), ledger: 1 })))
      .execute();
    await db
      .insertInto('bst_supply')
      .values({ singleton: true, total: (SEED * BigInt(expected.size)).toString(), ledger: 1 })
      .execute();

    const r = await db
      .transaction()
      .execute((tx) => projectPage(tx, events, { network: 'local', sideEffects: true }));
    expect(r.inserted).toBe(events.length);
    for (const [address, balance] of expected) {
      const row = await db
        .selectFrom('bst_balances')
        .select('balance')
        .where('address', '=', address)
        .executeTakeFirstOrThrow();
      expect(row.balance, address).toBe(balance.toString());
    }
    expect((await db.selectFrom('bst_supply').select('total').executeTakeFirstOrThrow()).total).toBe(
      supply.toString(),
    );
    // BST history is read from the stored events (no projection): the API's reader sees every
    // mint/transfer/burn the host emitted, with the reward's reason on its mint.
    const moves = events.filter(
      (e) => e.kind === 'token' && ['mint', 'transfer', 'burn'].includes(e.decoded.name),
    );
    const token = moves[0]!.contractId;
    const history = new Map<string, Awaited<ReturnType<typeof listTransfers>>[number]>();
    for (const address of expected.keys())
      for (const h of await listTransfers(db, token, [address], 1000)) history.set(h.event_id, h);
    expect([...history.keys()].sort()).toEqual(moves.map((e) => e.id).sort());
    for (const e of moves) {
      const f = e.decoded.fields;
      expect(history.get(e.id), e.id).toEqual({
        event_id: e.id,
        kind: e.decoded.name,
        from_address: e.decoded.name === 'mint' ? null : String(f.from),
        to_address: e.decoded.name === 'burn' ? null : String(f.to),
        amount: String(f.amount),
        reason: e.decoded.name === 'mint' && e.txHash === rewardTx ? 'referral' : null,
        ledger: e.ledger,
        ledger_closed_at: new Date(e.ledgerClosedAt),
        tx_hash: e.txHash,
      });
    }
    expect(moves.filter((e) => e.decoded.name === 'burn')).toHaveLength(2);

    const proposals = await db.selectFrom('governance_proposals').selectAll().execute();
    const votes = await db.selectFrom('governance_votes').selectAll().execute();
    expect(proposals.length).toBeGreaterThanOrEqual(1);
    expect(votes.length).toBe(2);
    const executed = events.find((e) => e.decoded.name === 'proposal_executed')!;
    const p = proposals.find(
      (x) => x.proposal_id === String(executed.decoded.fields.id) && x.contract_id === executed.contractId,
    )!;
    expect(p).toMatchObject({ executed: true, executed_ledger: executed.ledger });
    // The votes ingest summed equal the tally the contract reported at execution.
    const sum = (support: boolean) =>
      votes
        .filter((v) => v.support === support)
        .reduce((a, v) => a + BigInt(v.weight), 0n)
        .toString();
    expect([sum(true), sum(false)]).toEqual([
      String(executed.decoded.fields.votes_for),
      String(executed.decoded.fields.votes_against),
    ]);

    const before = await tableHashes(db);
    const again = await db
      .transaction()
      .execute((tx) => projectPage(tx, events, { network: 'local', sideEffects: true }));
    expect(again.inserted).toBe(0);
    expect(await tableHashes(db)).toEqual(before);
  });
});
