// History that is gone: a cursor older than the RPC's oldest ledger stops ingest loudly and
// never skips; `rebuild` restores the projections from ledger entries; a reset network (ledger
// numbers going backwards behind the same URL) is detected and stops the daemon.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { createDb, createPool, type Database } from '@starling/migrations';
import { createTestDatabase } from '../../ops/test/db.ts';
import { startLocalnet } from '../../ops/localnet/localnet.ts';
import { startRpcProxy, type RpcProxy } from './test/rpc-proxy.ts';
import {
  addCertificateIntent,
  addProgressIntent,
  addRewardIntent,
  chainBinary,
  createCourse,
  createLearner,
  indexerEnv,
  intentStatuses,
  newRefereeId,
  runCli,
  spawnIndexer,
  startChain,
  waitFor,
  type Chain,
} from './test/harness.ts';

const RETENTION = 40;
let chain: Chain;
let database: { url: string; drop(): Promise<void> };
let db: Kysely<Database>;
let proxy: RpcProxy;

beforeAll(async () => {
  [chain, database] = await Promise.all([
    startChain({ ledgerIntervalMs: 200, retentionLedgers: RETENTION }),
    createTestDatabase(),
  ]);
  db = createDb(createPool(database.url, 4));
  proxy = await startRpcProxy(chain.localnet.url);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await db?.destroy();
  await chain?.stop();
  await database?.drop();
});

const latestLedger = async (url: string) =>
  (
    (await (
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"getLatestLedger"}',
      })
    ).json()) as { result: { sequence: number } }
  ).result.sequence;

describe('retention gap', () => {
  it('stops with retention_gap and an unchanged cursor; rebuild restores state from ledger entries; run resumes', async () => {
    const env = indexerEnv(chain, database.url, {
      STELLAR_RPC_URL: proxy.url,
      INDEXER_START_LEDGER: String(await latestLedger(chain.localnet.url)),
    });
    const instructor = await createLearner(db);
    const course = await createCourse(db, instructor.userId);
    const early = await createLearner(db);
    await addProgressIntent(db, early, course, 100);
    const first = spawnIndexer(env);
    await waitFor('first intent confirmed', async () => (await intentStatuses(db)).confirmed === 1, 30_000);
    expect(await first.stop()).toBe(0);

    // While ingest is down, the submitter alone lands more effects; then their events age out.
    const late = await createLearner(db);
    const referrer = await createLearner(db);
    await addProgressIntent(db, late, course, 100);
    const cert = await addCertificateIntent(db, late, course);
    await addRewardIntent(db, referrer, newRefereeId());
    const submitOnly = spawnIndexer({ ...env, INDEXER_INGEST: 'false' });
    await waitFor('three intents submitted', async () => (await intentStatuses(db)).submitted === 3, 30_000);
    await submitOnly.stop();
    const before = await db.selectFrom('indexer_state').selectAll().executeTakeFirstOrThrow();
    const target = (await latestLedger(chain.localnet.url)) + RETENTION + 5;
    await waitFor(
      'the events age out of retention',
      async () => (await latestLedger(chain.localnet.url)) > target,
      30_000,
    );

    const gap = spawnIndexer(env);
    expect(await gap.exited).toBe(3);
    expect(gap.output()).toMatch(/older than the RPC's oldest ledger/);
    const after = await db.selectFrom('indexer_state').selectAll().executeTakeFirstOrThrow();
    expect(after.status).toBe('retention_gap');
    expect(after.status_detail).toMatch(/run `rebuild`/);
    expect(after.cursor).toBe(before.cursor);
    expect(after.last_ledger).toBe(before.last_ledger);
    expect(after.retention_headroom_ledgers).toBeLessThan(0);
    const status = await runCli(env, ['status']);
    expect(status.out).toContain('"status": "retention_gap"');

    const rebuilt = await runCli(env, ['rebuild']);
    expect(rebuilt.code).toBe(0);
    const progress = await db
      .selectFrom('onchain_progress')
      .select(['student_address', 'percent'])
      .orderBy('student_address')
      .execute();
    expect(progress).toEqual(
      expect.arrayContaining([
        { student_address: early.address, percent: 100 },
        { student_address: late.address, percent: 100 },
      ]),
    );
    expect(
      (
        await db
          .selectFrom('bst_balances')
          .selectAll()
          .where('address', '=', referrer.address)
          .executeTakeFirstOrThrow()
      ).balance,
    ).toBe('500000000');
    expect((await db.selectFrom('bst_supply').select('total').executeTakeFirstOrThrow()).total).toBe(
      '500000000',
    );
    const c = await db
      .selectFrom('certificates')
      .selectAll()
      .where('id', '=', cert.certificateId)
      .executeTakeFirstOrThrow();
    expect(c.status).toBe('confirmed');
    expect(c.chain_certificate_id).toBeTruthy();

    const resumed = spawnIndexer(env);
    try {
      await waitFor(
        'following again',
        async () =>
          (await db.selectFrom('indexer_state').select('status').executeTakeFirst())?.status === 'following',
        30_000,
      );
      const more = await createLearner(db);
      await addProgressIntent(db, more, course, 40);
      await waitFor(
        'a new intent confirmed after the rebuild',
        async () =>
          (
            await db
              .selectFrom('onchain_progress')
              .select('percent')
              .where('student_address', '=', more.address)
              .executeTakeFirst()
          )?.percent === 40,
        30_000,
      );
    } finally {
      await resumed.stop();
    }
  }, 180_000);
});

describe('network reset', () => {
  it('a chain whose ledgers went backwards behind the same URL stops ingest with network_reset', async () => {
    const env = indexerEnv(chain, database.url, { STELLAR_RPC_URL: proxy.url });
    const fresh = await startLocalnet(chainBinary(), { ledgerIntervalMs: 100 });
    try {
      proxy.upstream = fresh.url;
      const p = spawnIndexer(env);
      expect(await p.exited).toBe(4);
      expect(p.output()).toMatch(/network was reset/);
      expect((await db.selectFrom('indexer_state').select('status').executeTakeFirstOrThrow()).status).toBe(
        'network_reset',
      );
    } finally {
      proxy.upstream = chain.localnet.url;
      await fresh.stop();
    }
  }, 120_000);
});
