// End to end against the real local chain and real Postgres: intents written as the API writes
// them are submitted by the daemon, their events ingested, projections filled, the intents
// confirmed by ingest, notifications written, and a rebuild from scratch equals the live tables.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { createDb, createPool, type Database } from '@starling/migrations';
import { createTestDatabase } from '../../ops/test/db.ts';
import {
  addCertificateIntent,
  addProgressIntent,
  addRewardIntent,
  createCourse,
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
      expect(progress).toEqual([expect.objectContaining({ student_address: learner.address, course_id: course, percent: 100 })]);
      const c = await db.selectFrom('certificates').selectAll().where('id', '=', cert.certificateId).executeTakeFirstOrThrow();
      expect(c).toMatchObject({ status: 'confirmed', contract_id: chain.manifest.contracts.certificate.contractId, network: 'local' });
      expect(c.tx_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(c.ledger).toBeGreaterThan(0);
      expect(c.ledger_closed_at).toBeInstanceOf(Date);
      const intent = await db.selectFrom('intents').selectAll().where('id', '=', cert.intentId).executeTakeFirstOrThrow();
      expect(intent.tx_hash).toBe(c.tx_hash);
      expect(intent.confirmed_ledger).toBe(c.ledger);
      const balance = await db.selectFrom('bst_balances').selectAll().where('address', '=', referrer.address).executeTakeFirstOrThrow();
      expect(balance.balance).toBe('500000000');
      expect((await db.selectFrom('bst_supply').select('total').executeTakeFirstOrThrow()).total).toBe('500000000');
      const transfers = await db.selectFrom('bst_transfers').selectAll().execute();
      expect(transfers).toEqual([expect.objectContaining({ kind: 'mint', to_address: referrer.address, amount: '500000000', reason: 'referral' })]);
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
});
