// The status history the operators' chart reads: written with the status, throttled, bounded.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { createDb, createPool, type Database } from '@starling/migrations';
import { createTestDatabase } from '../../../ops/test/db.ts';
import { ensureState, HISTORY_HOURS, SAMPLE_EVERY_SECONDS, writeStatus } from './state.repository.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Kysely<Database>;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(createPool(database.url, 2));
  await ensureState(db, { network: 'local', passphrase: 'Standalone Network', startLedger: 1 });
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});
beforeEach(async () => {
  await db.deleteFrom('indexer_status_samples').execute();
});

const samples = () => db.selectFrom('indexer_status_samples').selectAll().orderBy('sampled_at').execute();

/** Moves every sample `seconds` into the past, as if that much time had gone by. */
const age = (seconds: number) =>
  db
    .updateTable('indexer_status_samples')
    .set({ sampled_at: sql`sampled_at - make_interval(secs => ${seconds})` })
    .execute();

describe('status history', () => {
  it('samples the status it writes, at most once every few seconds', async () => {
    await writeStatus(db, {
      status: 'catching_up',
      lag_ledgers: 120,
      lag_seconds: 660,
      latest_rpc_ledger: 500,
    });
    await writeStatus(db, { status: 'following', lag_ledgers: 0, lag_seconds: 4 });
    expect(await samples()).toMatchObject([
      {
        status: 'catching_up',
        lag_ledgers: 120,
        lag_seconds: 660,
        latest_rpc_ledger: 500,
        events_ingested: '0',
      },
    ]);

    await age(SAMPLE_EVERY_SECONDS + 1);
    await writeStatus(db, { status: 'following', lag_ledgers: 1, lag_seconds: 5 });
    expect((await samples()).map((s) => [s.status, s.lag_ledgers])).toEqual([
      ['catching_up', 120],
      ['following', 1],
    ]);
  });

  it(`keeps ${HISTORY_HOURS} hours and no more`, async () => {
    await writeStatus(db, { status: 'following', lag_ledgers: 7 });
    await age(HISTORY_HOURS * 3600 + 60);
    // The next sample drops the one that is now older than the window…
    await writeStatus(db, { status: 'following', lag_ledgers: 8 });
    expect((await samples()).map((s) => s.lag_ledgers)).toEqual([8]);
    // …and keeps one just inside it.
    await age(HISTORY_HOURS * 3600 - 60);
    await writeStatus(db, { status: 'following', lag_ledgers: 9 });
    expect((await samples()).map((s) => s.lag_ledgers)).toEqual([8, 9]);
  });

  it('writes the sample in the caller’s transaction', async () => {
    await db
      .transaction()
      .execute(async (tx) => {
        await writeStatus(tx, { status: 'following', lag_ledgers: 3 });
        throw new Error('page failed');
      })
      .catch(() => undefined);
    expect(await samples()).toEqual([]);
  });
});
