// End to end against the real local chain and real Postgres: intents written as the API writes
// them are submitted by the daemon, their events ingested, projections filled, the intents
// confirmed by ingest, notifications written, and a rebuild from scratch equals the live tables.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { createDb, createPool, type Database } from '@starling/migrations';
import { createTestDatabase } from '../../ops/test/db.ts';
import { listTransfers } from '../../api/src/rewards/rewards.repository.ts';
import {
  addCertificateIntent,
  addProgressIntent,
  addRewardIntent,
  createCourse,
  fundAccounts,
  hexOf,
  createLearner,
  indexerEnv,
  intentStatuses,
  newRefereeId,
  runCli,
  spawnIndexer,
  startChain,
  tableHashes,
  waitFor,
  type Chain,
} from './test/harness.ts';

let chain: Chain;
let database: { url: string; drop(): Promise<void> };
let db: Kysely<Database>;

beforeAll(async () => {
  [chain, database] = await Promise.all([startChain(), createTestDatabase()]);
  db = createDb(createPool(database.url, 4));
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  await chain?.stop();
  await database?.drop();
});

describe('indexer end to end', () => {
  it('submits intents, ingests their events, confirms them and projects state', async () => {
    const learner = await createLearner(db);
    const referrer = await createLearner(db);
    const course = await createCourse(db, referrer.userId);
    await addProgressIntent(db, learner, course, 50);
    await addProgressIntent(db, learner, course, 100);
    const cert = await addCertificateIntent(db, learner, course);
    await addRewardIntent(db, referrer, newRefereeId());

    const env = indexerEnv(chain, database.url);
    const daemon = spawnIndexer(env);
    try {
      await waitFor('all intents confirmed', async () => (await intentStatuses(db)).confirmed === 4, 60_000);
      const progress = await db.selectFrom('onchain_progress').selectAll().execute();
      expect(progress).toEqual([
        expect.objectContaining({ student_address: learner.address, course_id: course, percent: 100 }),
      ]);
      const c = await db
        .selectFrom('certificates')
        .selectAll()
        .where('id', '=', cert.certificateId)
        .executeTakeFirstOrThrow();
      expect(c).toMatchObject({
        status: 'confirmed',
        contract_id: chain.manifest.contracts.certificate.contractId,
        network: 'local',
      });
      expect(c.tx_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(c.ledger).toBeGreaterThan(0);
      expect(c.ledger_closed_at).toBeInstanceOf(Date);
      const intent = await db
        .selectFrom('intents')
        .selectAll()
        .where('id', '=', cert.intentId)
        .executeTakeFirstOrThrow();
      expect(intent.tx_hash).toBe(c.tx_hash);
      expect(intent.confirmed_ledger).toBe(c.ledger);
      const balance = await db
        .selectFrom('bst_balances')
        .selectAll()
        .where('address', '=', referrer.address)
        .executeTakeFirstOrThrow();
      expect(balance.balance).toBe('500000000');
      expect((await db.selectFrom('bst_supply').select('total').executeTakeFirstOrThrow()).total).toBe(
        '500000000',
      );
      const history = await listTransfers(
        db,
        chain.manifest.contracts.token.contractId,
        [referrer.address],
        10,
      );
      expect(history).toEqual([
        expect.objectContaining({
          kind: 'mint',
          to_address: referrer.address,
          amount: '500000000',
          reason: 'referral',
        }),
      ]);
      const notes = await db.selectFrom('notifications').select(['user_id', 'kind']).orderBy('id').execute();
      expect(notes).toEqual(
        expect.arrayContaining([
          { user_id: learner.userId, kind: 'certificate_confirmed' },
          { user_id: referrer.userId, kind: 'reward_received' },
        ]),
      );
      const state = await db.selectFrom('indexer_state').selectAll().executeTakeFirstOrThrow();
      expect(state.leader).toBeTruthy();
      expect(['following', 'catching_up']).toContain(state.status);
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
    const before = await tableHashes(db);
    const v = await runCli(indexerEnv(chain, database.url), ['verify']);
    expect(v.out).toContain('"equal": true');
    expect(v.code).toBe(0);
    expect(await tableHashes(db)).toEqual(before);
  }, 120_000);

  it('confirms, never fails, what the chain already has (duplicate certificate, lower or equal progress)', async () => {
    const learner = await createLearner(db);
    const course = await createCourse(db, learner.userId);
    await addProgressIntent(db, learner, course, 100);
    await addCertificateIntent(db, learner, course);
    const env = indexerEnv(chain, database.url);
    const daemon = spawnIndexer(env);
    try {
      await waitFor(
        'first effects confirmed',
        async () =>
          (
            await db.selectFrom('intents').select('status').where('user_id', '=', learner.userId).execute()
          ).every((i) => i.status === 'confirmed'),
        60_000,
      );
      // The same effects again, as a restored database or a second writer would ask for them.
      const dupes = [
        {
          kind: 'issue_certificate',
          key: `cert:${learner.userId}:${course}:again`,
          args: {
            student: learner.address,
            course_id: hexOf(course),
            metadata_hash: 'ab'.repeat(32),
            certificate_id: null,
          },
        },
        {
          kind: 'record_progress',
          key: `progress:${learner.userId}:${course}:60`,
          args: { student: learner.address, course_id: hexOf(course), percent: 60 },
        },
        {
          kind: 'record_progress',
          key: `progress:${learner.userId}:${course}:100:again`,
          args: { student: learner.address, course_id: hexOf(course), percent: 100 },
        },
      ] as const;
      for (const d of dupes) {
        await db
          .insertInto('intents')
          .values({
            kind: d.kind,
            idempotency_key: d.key,
            user_id: learner.userId,
            course_id: course,
            args: JSON.stringify(d.args),
          })
          .execute();
      }
      await waitFor(
        'duplicates confirmed',
        async () => {
          const rows = await db
            .selectFrom('intents')
            .select(['status', 'idempotency_key'])
            .where(
              'idempotency_key',
              'in',
              dupes.map((d) => d.key),
            )
            .execute();
          return rows.length === 3 && rows.every((r) => r.status === 'confirmed');
        },
        30_000,
      );
      const rows = await db
        .selectFrom('intents')
        .selectAll()
        .where(
          'idempotency_key',
          'in',
          dupes.map((d) => d.key),
        )
        .execute();
      for (const r of rows) {
        expect(r.tx_hash).toBeNull();
        expect(r.last_error).toMatch(/already on chain/);
      }
      const certEvents = await sql<{
        n: string;
      }>`SELECT count(*)::text AS n FROM chain_events WHERE name = 'certificate_issued' AND topics->>2 = ${learner.address}`.execute(
        db,
      );
      expect(certEvents.rows[0]!.n).toBe('1');
    } finally {
      await daemon.stop();
    }
  }, 90_000);

  it('records a contract error as a decoded failure', async () => {
    const referrer = await createLearner(db);
    const id = await addRewardIntent(db, referrer, newRefereeId(), '0');
    const daemon = spawnIndexer(indexerEnv(chain, database.url));
    try {
      const row = await waitFor(
        'intent failed',
        async () => {
          const r = await db.selectFrom('intents').selectAll().where('id', '=', id).executeTakeFirst();
          return r?.status === 'failed' ? r : null;
        },
        30_000,
      );
      expect(row.last_error).toBe('contract error #3 (AmountNotPositive)');
      expect(row.tx_hash).toBeNull();
    } finally {
      await daemon.stop();
    }
  }, 60_000);

  it('spreads submissions over channel accounts, each with its own sequence', async () => {
    const channels = await fundAccounts(chain.localnet.url, 4);
    const instructor = await createLearner(db);
    const course = await createCourse(db, instructor.userId);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await addProgressIntent(db, await createLearner(db), course, 30));
    const daemon = spawnIndexer(
      indexerEnv(chain, database.url, { CHANNEL_SECRETS: channels.map((k) => k.secret()).join(',') }),
    );
    try {
      await waitFor(
        'all confirmed',
        async () =>
          (await db.selectFrom('intents').select('status').where('id', 'in', ids).execute()).every(
            (r) => r.status === 'confirmed',
          ),
        60_000,
      );
      const sources = await db
        .selectFrom('intents')
        .select('source_account')
        .distinct()
        .where('id', 'in', ids)
        .execute();
      expect(sources.length).toBeGreaterThan(1);
      for (const s of sources) expect(channels.map((k) => k.publicKey())).toContain(s.source_account);
    } finally {
      await daemon.stop();
    }
  }, 90_000);

  it('serves /healthz, /readyz (503 until caught up), /status and /metrics', async () => {
    const daemon = spawnIndexer(indexerEnv(chain, database.url, { LOG_LEVEL: 'info' }));
    try {
      const port = await waitFor(
        'http port',
        async () => Number(/"port":(\d+)/.exec(daemon.output())?.[1] ?? 0),
        20_000,
      );
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      await waitFor('ready', async () => (await fetch(`${base}/readyz`)).status === 200, 30_000);
      await waitFor(
        'intent gauges',
        async () =>
          (await (await fetch(`${base}/metrics`)).text()).includes(
            'starling_indexer_intents{status="confirmed"}',
          ),
        10_000,
      );
      const status = (await (await fetch(`${base}/status`)).json()) as {
        role: string;
        state: { status: string; last_ledger: number };
        intents: Record<string, number>;
      };
      expect(status.role).toBe('leader');
      expect(status.state.last_ledger).toBeGreaterThan(0);
      expect(status.intents.confirmed).toBeGreaterThan(0);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      for (const m of [
        'starling_indexer_rpc_latest_ledger',
        'starling_indexer_last_ingested_ledger',
        'starling_indexer_lag_ledgers',
        'starling_indexer_lag_seconds',
        'starling_indexer_retention_headroom_ledgers',
        'starling_indexer_events_ingested_total',
        'starling_indexer_intents{status="confirmed"}',
        'starling_indexer_submit_latency_seconds',
        'starling_indexer_rpc_errors_total',
        'starling_indexer_status{status="following"} 1',
      ]) {
        expect(metrics).toContain(m);
      }
      // A standby is alive but not ready.
      const standby = spawnIndexer(indexerEnv(chain, database.url, { LOG_LEVEL: 'info' }));
      try {
        const sport = await waitFor(
          'standby port',
          async () => Number(/"port":(\d+)/.exec(standby.output())?.[1] ?? 0),
          20_000,
        );
        expect((await fetch(`http://127.0.0.1:${sport}/healthz`)).status).toBe(200);
        expect((await fetch(`http://127.0.0.1:${sport}/readyz`)).status).toBe(503);
      } finally {
        await standby.stop();
      }
    } finally {
      await daemon.stop();
    }
  }, 90_000);

  it('backfill --from re-reads a range without doubling anything, with a progress bar', async () => {
    const before = await tableHashes(db);
    const state = await db.selectFrom('indexer_state').selectAll().executeTakeFirstOrThrow();
    const r = await runCli(indexerEnv(chain, database.url), [
      'backfill',
      '--from',
      String(state.start_ledger),
      '--to',
      String(state.last_ledger),
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\[#+\] +100\.0%/);
    expect(await tableHashes(db)).toEqual(before);
  }, 60_000);
});
