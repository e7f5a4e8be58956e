import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, loginAs, makeRole, registerUser, type TestApp } from '../test/harness.ts';
import { count } from '../test/learning-fixtures.ts';
import { insertIntent } from '../intents/intents.repository.ts';

let t: TestApp;
let operatorToken: string;
let learnerToken: string;
let keyFor: (scopes: string[]) => Promise<string>;
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await buildTestApp();
  const op = await registerUser(t.app);
  await makeRole(t.ctx, op.userId, 'operator');
  operatorToken = await loginAs(t.app, op.email);
  learnerToken = (await registerUser(t.app)).access;
  const admin = await registerUser(t.app);
  await makeRole(t.ctx, admin.userId, 'admin');
  const adminToken = await loginAs(t.app, admin.email);
  keyFor = async (scopes) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/api-keys',
      headers: bearer(adminToken),
      payload: { name: `k-${scopes.join('-')}`, scopes },
    });
    return res.json().key as string;
  };
  for (const [name, status] of [
    ['a', 'pending'],
    ['b', 'failed'],
    ['c', 'confirmed'],
    ['d', 'failed'],
    ['e', 'submitted'],
  ] as const) {
    const row = await insertIntent(t.ctx.db, {
      kind: 'mint_reward',
      key: `referral:test-${name}`,
      userId: null,
      courseId: null,
      args: { to: 'G', amount: '500000000', reason: 'referral' },
    });
    await t.ctx.db
      .updateTable('intents')
      .set({
        status,
        attempts: status === 'failed' ? 3 : 0,
        last_error: status === 'failed' ? 'HostError: Error(Contract, #60)' : null,
        tx_hash: status === 'submitted' || status === 'confirmed' ? 'cd'.repeat(32) : null,
        tx_envelope: status === 'submitted' || status === 'confirmed' ? 'AAAA' : null,
        confirmed_at: status === 'confirmed' ? new Date() : null,
      })
      .where('id', '=', row!.id)
      .execute();
    ids[name] = row!.id;
  }
});
afterAll(async () => t?.close());

const get = (url: string, token?: string) =>
  t.app.inject({ method: 'GET', url, headers: token ? bearer(token) : {} });

describe('GET /v1/ops/intents', () => {
  it('lists by status with errors and attempts, paged by cursor', async () => {
    const failed = await get('/v1/ops/intents?status=failed&limit=1', operatorToken);
    expect(failed.statusCode).toBe(200);
    const page1 = failed.json();
    expect(page1.intents).toEqual([
      expect.objectContaining({
        id: ids.d,
        status: 'failed',
        attempts: 3,
        last_error: 'HostError: Error(Contract, #60)',
      }),
    ]);
    expect(page1.next_cursor).toEqual(expect.any(String));
    const page2 = (
      await get(`/v1/ops/intents?status=failed&limit=1&cursor=${page1.next_cursor}`, operatorToken)
    ).json();
    expect(page2.intents.map((i: { id: string }) => i.id)).toEqual([ids.b]);
    expect(page2.next_cursor).toBeNull();
    const all = (await get('/v1/ops/intents', operatorToken)).json();
    expect(all.intents.map((i: { id: string }) => i.id)).toEqual([ids.e, ids.d, ids.c, ids.b, ids.a]);
  });

  it('rejects bad filters and cursors as problem+json', async () => {
    for (const q of ['status=lost', 'limit=1000', 'cursor=%%%', 'cursor=eHl6', 'extra=1']) {
      const res = await get(`/v1/ops/intents?${q}`, operatorToken);
      expect(res.statusCode, q).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
  });

  it('is for operators and operator-scoped API keys only', async () => {
    expect((await get('/v1/ops/intents')).statusCode).toBe(401);
    expect((await get('/v1/ops/intents', learnerToken)).statusCode).toBe(403);
    expect((await get('/v1/ops/indexer', learnerToken)).statusCode).toBe(403);
    expect((await get(`/v1/ops/intents/${ids.a}`, learnerToken)).statusCode).toBe(403);
    expect((await get(`/v1/ops/intents/${ids.a}`, operatorToken)).json()).toMatchObject({
      id: ids.a,
      kind: 'mint_reward',
    });
    expect((await get('/v1/ops/intents', await keyFor(['read', 'write']))).statusCode).toBe(403);
    expect((await get('/v1/ops/intents', await keyFor(['operator']))).statusCode).toBe(200);
  });
});

describe('POST /v1/ops/intents/:id/retry', () => {
  it('puts a failed intent back to pending and audits it', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/ops/intents/${ids.b}/retry`,
      headers: bearer(operatorToken),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: ids.b,
      status: 'pending',
      attempts: 3,
      last_error: 'HostError: Error(Contract, #60)',
    });
    const audit = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'intent.retried')
      .where('target_id', '=', ids.b!)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor_type).toBe('user');
  });

  it('works with an operator API key, audited to the key', async () => {
    const key = await keyFor(['operator']);
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/ops/intents/${ids.d}/retry`,
      headers: bearer(key),
    });
    expect(res.statusCode).toBe(200);
    const audit = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'intent.retried')
      .where('target_id', '=', ids.d!)
      .executeTakeFirstOrThrow();
    expect(audit.actor_type).toBe('api_key');
  });

  it('refuses anything not failed, unknown ids, bad ids and non-operators, writing nothing', async () => {
    const before = await count(t.ctx, 'audit_log');
    for (const id of [ids.a, ids.c, ids.e]) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/v1/ops/intents/${id}/retry`,
        headers: bearer(operatorToken),
      });
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('intent_not_failed');
    }
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/ops/intents/999999/retry',
          headers: bearer(operatorToken),
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/ops/intents/abc/retry',
          headers: bearer(operatorToken),
        })
      ).statusCode,
    ).toBe(400);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `/v1/ops/intents/${ids.a}/retry`,
          headers: bearer(learnerToken),
        })
      ).statusCode,
    ).toBe(403);
    expect(await count(t.ctx, 'audit_log')).toBe(before);
    const statuses = await t.ctx.db
      .selectFrom('intents')
      .select(['id', 'status'])
      .where('id', 'in', [ids.a!, ids.c!, ids.e!])
      .orderBy('id')
      .execute();
    expect(statuses.map((s) => s.status)).toEqual(['pending', 'confirmed', 'submitted']);
  });
});

describe('indexer status', () => {
  it('reports unknown before the indexer writes, then what it wrote, and stale when it stops', async () => {
    expect((await get('/v1/ops/indexer', operatorToken)).json()).toMatchObject({
      status: 'unknown',
      last_ledger: null,
    });
    expect((await get('/v1/status')).json()).toMatchObject({ status: 'unknown' });

    await t.ctx.db
      .insertInto('indexer_state')
      .values({
        status: 'following',
        network: 'local',
        cursor: '0000001234-0000000001',
        last_ledger: 1234,
        latest_rpc_ledger: 1235,
        lag_ledgers: 1,
        lag_seconds: 1.5,
        events_ingested: '99',
        caught_up: true,
        retention_headroom_ledgers: 120_000,
        rpc_errors: '3',
        last_error: 'timeout',
      })
      .execute();
    const ix = (await get('/v1/ops/indexer', operatorToken)).json();
    expect(ix).toMatchObject({
      status: 'following',
      last_ledger: 1234,
      lag_ledgers: 1,
      lag_seconds: 1.5,
      events_ingested: '99',
      cursor: '0000001234-0000000001',
      caught_up: true,
      retention_headroom_ledgers: 120_000,
      rpc_errors: '3',
      last_error: 'timeout',
    });
    expect(ix.intents).toEqual({ pending: 3, confirmed: 1, submitted: 1 });
    const pub = await get('/v1/status');
    expect(pub.statusCode).toBe(200);
    expect(pub.json()).toEqual({
      status: 'operational',
      message: 'All systems operational.',
      network: 'local',
      last_ledger: 1234,
      lag_ledgers: 1,
      updated_at: expect.any(String),
    });
    expect(pub.body).not.toContain('cursor');
    expect(pub.body).not.toContain('timeout');

    await t.ctx.db
      .updateTable('indexer_state')
      .set({ updated_at: new Date(Date.now() - 5 * 60_000) })
      .execute();
    expect((await get('/v1/ops/indexer', operatorToken)).json().status).toBe('stale');
    expect((await get('/v1/status')).json().status).toBe('degraded');
    await t.ctx.db
      .updateTable('indexer_state')
      .set({
        updated_at: new Date(),
        status: 'retention_gap',
        status_detail: 'cursor 1234 older than oldest ledger 5000',
      })
      .execute();
    expect((await get('/v1/ops/indexer', operatorToken)).json()).toMatchObject({
      status: 'retention_gap',
      status_detail: expect.stringContaining('oldest'),
    });
    expect((await get('/v1/status')).json().status).toBe('degraded');
  });
});

describe('indexer history', () => {
  const sample = (secondsAgo: number, lag: number, status = 'following', events = '0') =>
    t.ctx.db
      .insertInto('indexer_status_samples')
      .values({
        sampled_at: new Date(Date.now() - secondsAgo * 1000),
        status,
        lag_ledgers: lag,
        lag_seconds: lag * 5.5,
        last_ledger: 1000 - lag,
        latest_rpc_ledger: 1000,
        events_ingested: events,
      })
      .execute();

  it('serves the samples of the window, oldest first, downsampled to the worst lag', async () => {
    await t.ctx.db.deleteFrom('indexer_status_samples').execute();
    await sample(3 * 3600, 500, 'catching_up', '10'); // outside the default hour
    await sample(30 * 60, 40, 'catching_up', '20');
    await sample(20 * 60, 3, 'following', '30');
    await sample(60, 1, 'following', '45');
    const r = await get('/v1/ops/indexer/history', operatorToken);
    expect(r.statusCode).toBe(200);
    const h = r.json();
    expect(h).toMatchObject({ window_seconds: 3600, bucket_seconds: 10 });
    expect(h.samples.map((s: { lag_ledgers: number }) => s.lag_ledgers)).toEqual([40, 3, 1]);
    expect(h.samples[0]).toMatchObject({ status: 'catching_up', lag_seconds: 220, events_ingested: '20' });
    expect(Date.parse(h.samples[2].at)).toBeGreaterThan(Date.parse(h.samples[1].at));

    // A day in 360 points: the 3-hour-old spike is still there, in a 240 s bucket.
    const day = (await get('/v1/ops/indexer/history?minutes=1440', operatorToken)).json();
    expect(day.bucket_seconds).toBe(240);
    expect(day.samples[0].lag_ledgers).toBe(500);
    // Two samples in one bucket become one point carrying the worse lag and the later status.
    await sample(61, 9, 'catching_up', '44');
    const merged = (await get('/v1/ops/indexer/history?minutes=1440', operatorToken)).json();
    expect(merged.samples).toHaveLength(day.samples.length);
    expect(merged.samples.at(-1)).toMatchObject({
      lag_ledgers: 9,
      status: 'following',
      events_ingested: '45',
    });
  });

  it('is for operators and operator-scoped keys, and names a bad window', async () => {
    expect((await get('/v1/ops/indexer/history')).statusCode).toBe(401);
    expect((await get('/v1/ops/indexer/history', learnerToken)).statusCode).toBe(403);
    expect((await get('/v1/ops/indexer/history', await keyFor(['operator']))).statusCode).toBe(200);
    for (const q of ['minutes=0', 'minutes=1441', 'minutes=abc', 'since=1']) {
      const r = await get(`/v1/ops/indexer/history?${q}`, operatorToken);
      expect(r.statusCode, q).toBe(400);
      expect(r.json().field, q).toBe(q.split('=')[0]);
    }
  });
});
