import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keypair } from '@stellar/stellar-sdk';
import { bearer, buildTestApp, registerUser, type TestApp } from '../test/harness.ts';
import { insertIntent } from '../intents/intents.repository.ts';

let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => t?.close());

const eventId = (ledger: number, i: number) =>
  `${String(ledger).padStart(19, '0')}-${String(i).padStart(10, '0')}`;

async function transfer(
  kind: 'mint' | 'transfer' | 'burn',
  from: string | null,
  to: string | null,
  amount: string,
  ledger: number,
  i = 1,
  reason: string | null = null,
) {
  await t.ctx.db
    .insertInto('bst_transfers')
    .values({
      event_id: eventId(ledger, i),
      kind,
      from_address: from,
      to_address: to,
      amount,
      reason,
      ledger,
      ledger_closed_at: new Date(1_700_000_000_000 + ledger * 5000),
      tx_hash: 'ef'.repeat(32),
    })
    .execute();
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
