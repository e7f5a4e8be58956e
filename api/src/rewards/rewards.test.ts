import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { Keypair, StrKey } from '@stellar/stellar-sdk';
import { bearer, buildTestApp, registerUser, type TestApp } from '../test/harness.ts';
import { insertIntent } from '../intents/intents.repository.ts';
import { listTransfers, transfersQuery } from './rewards.repository.ts';

let t: TestApp;
// The configured BST contract, and another contract whose events share the SEP-41 names.
const TOKEN = StrKey.encodeContract(randomBytes(32));
const OTHER = StrKey.encodeContract(randomBytes(32));

beforeAll(async () => {
  t = await buildTestApp({ env: { TOKEN_CONTRACT_ID: TOKEN } });
});
afterAll(async () => t?.close());

const eventId = (ledger: number, i: number) =>
  `${String(ledger).padStart(19, '0')}-${String(i).padStart(10, '0')}`;
const txOf = (ledger: number) => createHash('sha256').update(`tx${ledger}`).digest('hex');

/** A decoded event in chain_events as ingest stores it (value: the decoded fields by name). */
async function event(
  name: string,
  fields: Record<string, string>,
  ledger: number,
  i = 1,
  contract = TOKEN,
  txHash = txOf(ledger),
) {
  await t.ctx.db
    .insertInto('chain_events')
    .values({
      id: eventId(ledger, i),
      ledger,
      ledger_closed_at: new Date(1_700_000_000_000 + ledger * 5000),
      contract_id: contract,
      tx_hash: txHash,
      name,
      topics: JSON.stringify([name]),
      value: JSON.stringify(fields),
      topics_xdr: ['AAAA'],
      value_xdr: 'AAAA',
    })
    .execute();
}

/** A token move; a reward mint is followed by its reward_minted event in the same transaction. */
async function transfer(
  kind: 'mint' | 'transfer' | 'burn',
  from: string | null,
  to: string | null,
  amount: string,
  ledger: number,
  i = 1,
  reason: string | null = null,
) {
  const fields: Record<string, string> = { amount };
  if (from) fields.from = from;
  if (to) fields.to = to;
  await event(kind, fields, ledger, i);
  if (reason && to) await event('reward_minted', { to, reason, amount, minter: MINTER }, ledger, i + 1);
}
const MINTER = Keypair.random().publicKey();

async function historyOf(access: string, query = '') {
  const res = await t.app.inject({ method: 'GET', url: `/v1/me/rewards${query}`, headers: bearer(access) });
  expect(res.statusCode).toBe(200);
  return res.json() as {
    history: {
      event_id: string;
      kind: string;
      direction: string;
      amount: string;
      reason: string | null;
      from: string | null;
      to: string | null;
      ledger: number;
      tx_hash: string;
    }[];
    next_cursor: string | null;
  };
}

async function addressOf(userId: string): Promise<string> {
  const u = await t.ctx.db
    .selectFrom('users')
    .select('stellar_address')
    .where('id', '=', userId)
    .executeTakeFirstOrThrow();
  return u.stellar_address;
}

describe('GET /v1/me/rewards', () => {
  it('sums the current and the former custodial address, lists history newest first with a cursor', async () => {
    const learner = await registerUser(t.app);
    const user = await t.ctx.db
      .selectFrom('users')
      .select(['stellar_address'])
      .where('id', '=', learner.userId)
      .executeTakeFirstOrThrow();
    const custodial = user.stellar_address;
    // The learner later linked a wallet of their own; the custodial one keeps what it received.
    const external = Keypair.random().publicKey();
    await t.ctx.db
      .updateTable('users')
      .set({ stellar_address: external, wallet_kind: 'external' })
      .where('id', '=', learner.userId)
      .execute();
    const stranger = Keypair.random().publicKey();

    await transfer('mint', null, custodial, '500000000', 10, 1, 'referral');
    await transfer('mint', null, external, '500000000', 20, 1, 'referral');
    await transfer('transfer', external, stranger, '120000000', 30);
    await transfer('mint', null, stranger, '999', 31); // not theirs
    await t.ctx.db
      .insertInto('bst_balances')
      .values([
        { address: custodial, balance: '500000000', ledger: 10 },
        { address: external, balance: '380000000', ledger: 30 },
        { address: stranger, balance: '120000999', ledger: 31 },
      ])
      .execute();
    await insertIntent(t.ctx.db, {
      kind: 'mint_reward',
      key: 'referral:someone',
      userId: learner.userId,
      courseId: null,
      args: { to: external, amount: '500000000', reason: 'referral' },
    });

    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/me/rewards?limit=2',
      headers: bearer(learner.access),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ decimals: 7, balance: '880000000', balance_display: '88' });
    expect(body.addresses).toEqual([
      { address: external, kind: 'current', balance: '380000000' },
      { address: custodial, kind: 'custodial', balance: '500000000' },
    ]);
    expect(body.pending).toEqual([
      expect.objectContaining({ amount: '500000000', reason: 'referral', status: 'pending' }),
    ]);
    expect(
      body.history.map((h: { direction: string; amount_display: string }) => [h.direction, h.amount_display]),
    ).toEqual([
      ['out', '12'],
      ['in', '50'],
    ]);
    const next = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/me/rewards?limit=2&cursor=${body.next_cursor}`,
        headers: bearer(learner.access),
      })
    ).json();
    expect(next.history).toEqual([
      expect.objectContaining({ kind: 'mint', to: custodial, reason: 'referral', ledger: 10 }),
    ]);
    expect(next.next_cursor).toBeNull();
  });

  it('serves the history from the token contract’s events: kinds, reasons, both sides of a transfer, keyset pages', async () => {
    const a = await registerUser(t.app);
    const b = await registerUser(t.app);
    const [A, B] = [await addressOf(a.userId), await addressOf(b.userId)];
    await transfer('mint', null, A, '500000000', 100, 1, 'course');
    await transfer('mint', null, A, '70000000', 101); // a plain mint: no reason...
    // ...even with a reward_minted for the same address and amount in another transaction.
    await event('reward_minted', { to: A, reason: 'bogus', amount: '70000000', minter: MINTER }, 102);
    await transfer('transfer', A, B, '30000000', 103);
    // Another contract's events with the SEP-41 names are not BST.
    await event('transfer', { from: B, to: A, amount: '1000' }, 104, 1, OTHER);
    await event('mint', { to: A, amount: '1000' }, 104, 2, OTHER);
    await event('burn', { from: A, amount: '1000' }, 104, 3, OTHER);
    await transfer('burn', A, null, '10000000', 105);
    // Two rewards of the same amount in one transaction: each mint gets the reason emitted with it.
    await transfer('mint', null, A, '20000000', 106, 1, 'first');
    await transfer('mint', null, A, '20000000', 106, 3, 'second');

    const first = await historyOf(a.access, '?limit=4');
    expect(first.history).toEqual([
      {
        event_id: eventId(106, 3),
        kind: 'mint',
        direction: 'in',
        amount: '20000000',
        amount_display: '2',
        reason: 'second',
        from: null,
        to: A,
        ledger: 106,
        ledger_closed_at: new Date(1_700_000_000_000 + 106 * 5000).toISOString(),
        tx_hash: txOf(106),
      },
      expect.objectContaining({
        event_id: eventId(106, 1),
        kind: 'mint',
        reason: 'first',
        amount: '20000000',
      }),
      {
        event_id: eventId(105, 1),
        kind: 'burn',
        direction: 'out',
        amount: '10000000',
        amount_display: '1',
        reason: null,
        from: A,
        to: null,
        ledger: 105,
        ledger_closed_at: new Date(1_700_000_000_000 + 105 * 5000).toISOString(),
        tx_hash: txOf(105),
      },
      {
        event_id: eventId(103, 1),
        kind: 'transfer',
        direction: 'out',
        amount: '30000000',
        amount_display: '3',
        reason: null,
        from: A,
        to: B,
        ledger: 103,
        ledger_closed_at: new Date(1_700_000_000_000 + 103 * 5000).toISOString(),
        tx_hash: txOf(103),
      },
    ]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await historyOf(a.access, `?limit=4&cursor=${first.next_cursor}`);
    expect(second.history.map((h) => [h.event_id, h.kind, h.direction, h.amount, h.reason])).toEqual([
      [eventId(101, 1), 'mint', 'in', '70000000', null],
      [eventId(100, 1), 'mint', 'in', '500000000', 'course'],
    ]);
    expect(second.next_cursor).toBeNull();
    // A page that ends exactly at the last event still says there is no more.
    const exact = await historyOf(a.access, `?limit=2&cursor=${first.next_cursor}`);
    expect(exact.history.map((h) => h.event_id)).toEqual([eventId(101, 1), eventId(100, 1)]);
    expect(exact.next_cursor).toBeNull();

    // The receiver sees the same transfer, incoming.
    const receiver = await historyOf(b.access);
    expect(receiver.history).toEqual([
      expect.objectContaining({
        event_id: eventId(103, 1),
        kind: 'transfer',
        direction: 'in',
        from: A,
        to: B,
        amount: '30000000',
      }),
    ]);
    expect(receiver.next_cursor).toBeNull();

    // A move between two addresses of the same user is listed once, as 'self'.
    const c = await registerUser(t.app);
    const custodial = await addressOf(c.userId);
    const external = Keypair.random().publicKey();
    await t.ctx.db
      .updateTable('users')
      .set({ stellar_address: external, wallet_kind: 'external' })
      .where('id', '=', c.userId)
      .execute();
    await transfer('mint', null, custodial, '40000000', 107, 1, 'referral');
    await transfer('transfer', custodial, external, '40000000', 108);
    expect((await historyOf(c.access)).history.map((h) => [h.kind, h.direction, h.reason])).toEqual([
      ['transfer', 'self', null],
      ['mint', 'in', 'referral'],
    ]);

    // Without a configured token contract there is no history to read.
    expect(await listTransfers(t.ctx.db, '', [A], 10)).toEqual([]);
    expect(await listTransfers(t.ctx.db, TOKEN, [A], 10)).toHaveLength(6);
  });

  it('reads the history through the partial to/from indexes on chain_events', async () => {
    const addresses = [Keypair.random().publicKey(), Keypair.random().publicKey()];
    const plan = await t.ctx.db.transaction().execute(async (tx) => {
      // The test tables are tiny: make the planner show whether it can use the indexes at all
      // (a changed expression or name list would leave them unmatched).
      await sql`SET LOCAL enable_seqscan = off`.execute(tx);
      const r = await sql<{
        'QUERY PLAN': string;
      }>`EXPLAIN ${transfersQuery(TOKEN, addresses, 21, eventId(50, 1))}`.execute(tx);
      return r.rows.map((x) => x['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('chain_events_to_idx');
    expect(plan).toContain('chain_events_from_idx');
    expect(plan).toContain('chain_events_tx_idx');
  });

  it('shows a learner nothing of anyone else’s, and refuses bad input and anonymous callers', async () => {
    const learner = await registerUser(t.app);
    const res = await t.app.inject({ method: 'GET', url: '/v1/me/rewards', headers: bearer(learner.access) });
    expect(res.json()).toMatchObject({ balance: '0', history: [], pending: [], next_cursor: null });
    expect((await t.app.inject({ method: 'GET', url: '/v1/me/rewards' })).statusCode).toBe(401);
    for (const q of ['cursor=zzz', 'limit=500', 'who=else']) {
      const bad = await t.app.inject({
        method: 'GET',
        url: `/v1/me/rewards?${q}`,
        headers: bearer(learner.access),
      });
      expect(bad.statusCode, q).toBe(400);
      expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    }
  });
});
