// projectPage writes a page with COPY when its transaction can stream it (ingest, verify) and with
// unnest inserts when it cannot: both must leave the same rows. A page that overlaps events already
// stored (a backfill over ledgers ingest saw, a page boundary inside a ledger) projects only its
// new events, so the tables end as if every event had been applied once.
import { afterAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { createDb, createPool, type Database } from '@starling/migrations';
import { createTestDatabase } from '../../../ops/test/db.ts';
import { decodeEvent } from '../decode/index.ts';
import { IndexerError } from '../errors.ts';
import { HolderFilter } from '../ingest/holder-filter.ts';
import { buildPage } from '../ingest/page-build.ts';
import { rowCount, withPageTransaction } from '../store/page-transaction.ts';
import { tableHashes } from '../test/harness.ts';
import { asRpcPage, vectorEvents } from '../test/vectors.ts';
import { projectPage, projectRows, type ChainEvent } from './project.ts';

const SEED = 10n ** 20n;
const opened: { db: Kysely<Database>; drop(): Promise<void> }[] = [];
afterAll(async () => {
  for (const o of opened) {
    await o.db.destroy();
    await o.drop();
  }
});

/** The token scenarios' events (real host output), one ledger per scenario file. */
const tokenEvents = (): ChainEvent[] => vectorEvents(['token_']);

/** A database whose holders start with SEED each (the scenarios' setup mints are not vectors). */
async function seededDatabase(events: ChainEvent[]): Promise<{ db: Kysely<Database>; pool: pg.Pool }> {
  const database = await createTestDatabase();
  const pool = createPool(database.url, 2);
  const db = createDb(pool);
  opened.push({ db, drop: database.drop });
  const holders = new Set<string>();
  for (const e of events)
    for (const a of [e.decoded.fields.from, e.decoded.fields.to]) if (typeof a === 'string') holders.add(a);
  await db
    .insertInto('bst_balances')
    .values([...holders].map((a) => ({ address: a, balance: SEED.toString(), ledger: 1 })))
    .execute();
  await db
    .insertInto('bst_supply')
    .values({ singleton: true, total: (SEED * BigInt(holders.size)).toString(), ledger: 1 })
    .execute();
  return { db, pool };
}

describe('page writes', () => {
  it('COPY and unnest leave the same rows, and an overlapping page projects only its new events', async () => {
    const events = tokenEvents();
    const moves = events.filter((e) => ['mint', 'burn', 'transfer'].includes(e.decoded.name));
    expect(moves.length).toBeGreaterThan(5);
    const copyPage = (pool: pg.Pool, page: ChainEvent[]) =>
      withPageTransaction(pool, (tx, copyIn) =>
        projectPage(tx, page, { network: 'local', sideEffects: false, copyIn }),
      );

    const once = await seededDatabase(events);
    expect((await copyPage(once.pool, events)).inserted).toBe(events.length);

    const unnest = await seededDatabase(events);
    await unnest.db
      .transaction()
      .execute((tx) => projectPage(tx, events, { network: 'local', sideEffects: false }));
    expect(await tableHashes(unnest.db)).toEqual(await tableHashes(once.db));

    // The first page ends inside a ledger; the second starts at the first event again.
    const overlap = await seededDatabase(events);
    const cut = events.findIndex((e, i) => i > 0 && e.ledger === events[i - 1]!.ledger);
    expect(cut).toBeGreaterThan(0);
    expect((await copyPage(overlap.pool, events.slice(0, cut))).inserted).toBe(cut);
    expect((await copyPage(overlap.pool, events)).inserted).toBe(events.length - cut);
    expect((await copyPage(overlap.pool, events)).inserted).toBe(0);
    expect(await tableHashes(overlap.db)).toEqual(await tableHashes(once.db));

    const supply = await once.db.selectFrom('bst_supply').select('total').executeTakeFirstOrThrow();
    let expected =
      SEED * BigInt((await once.db.selectFrom('bst_balances').select('address').execute()).length);
    for (const e of moves) {
      const amount = BigInt(String(e.decoded.fields.amount));
      if (e.decoded.name === 'mint') expected += amount;
      if (e.decoded.name === 'burn') expected -= amount;
    }
    expect(supply.total).toBe(expected.toString());
  });

  it('rows built ahead as COPY text (the page worker) leave the same rows, and are refused when the page overlaps', async () => {
    const events = tokenEvents();
    const { wire, kinds } = asRpcPage(events);
    const built = (from = 0) =>
      buildPage(
        kinds,
        { events: wire.slice(from), cursor: events.at(-1)!.id, latestLedger: 500, oldestLedger: 1 },
        decodeEvent,
      ).rows;
    const opts = { network: 'local', sideEffects: false };

    const once = await seededDatabase(events);
    await withPageTransaction(once.pool, (tx, copyIn) => projectPage(tx, events, { ...opts, copyIn }));

    const ahead = await seededDatabase(events);
    const r = await withPageTransaction(ahead.pool, (tx, copyIn) =>
      projectRows(tx, built(), { ...opts, copyIn }),
    );
    expect(r?.inserted).toBe(events.length);
    expect(await tableHashes(ahead.db)).toEqual(await tableHashes(once.db));

    // The previous page ended inside a ledger: the next page's rows are all new and written.
    const split = await seededDatabase(events);
    const mid = events.findIndex((e, i) => i > 0 && e.ledger === events[i - 1]!.ledger);
    expect(mid).toBeGreaterThan(0);
    await withPageTransaction(split.pool, (tx, copyIn) =>
      projectPage(tx, events.slice(0, mid), { ...opts, copyIn }),
    );
    const next = await withPageTransaction(split.pool, (tx, copyIn) =>
      projectRows(tx, built(mid), { ...opts, copyIn }),
    );
    expect(next?.inserted).toBe(events.length - mid);
    expect(await tableHashes(split.db)).toEqual(await tableHashes(once.db));

    // Some of the page is stored already (a replay): the rows built for all of it must not be
    // written; projectPage then writes the new events only.
    const overlap = await seededDatabase(events);
    const cut = Math.floor(events.length / 2);
    await withPageTransaction(overlap.pool, (tx, copyIn) =>
      projectPage(tx, events.slice(0, cut), { ...opts, copyIn }),
    );
    const refused = await withPageTransaction(overlap.pool, (tx, copyIn) =>
      projectRows(tx, built(), { ...opts, copyIn }),
    );
    expect(refused).toBeNull();
    const rest = await withPageTransaction(overlap.pool, (tx, copyIn) =>
      projectPage(tx, events, { ...opts, copyIn }),
    );
    expect(rest.inserted).toBe(events.length - cut);
    expect(await tableHashes(overlap.db)).toEqual(await tableHashes(once.db));
  });

  it('a page in which a holder only pays out, or that only burns, lowers the balance and the supply', async () => {
    // An upsert proposes the page's net change as the new row, and Postgres checks
    // CHECK (… >= 0) on that row before it finds the existing one: negative changes must not.
    const events = tokenEvents();
    for (const name of ['transfer', 'burn']) {
      const out = events.find((e) => e.decoded.name === name)!;
      const from = String(out.decoded.fields.from);
      const amount = BigInt(String(out.decoded.fields.amount));
      const { db, pool } = await seededDatabase(events);
      const before = await db.selectFrom('bst_supply').select('total').executeTakeFirstOrThrow();
      await withPageTransaction(pool, (tx, copyIn) =>
        projectPage(tx, [out], { network: 'local', sideEffects: false, copyIn }),
      );
      const row = await db
        .selectFrom('bst_balances')
        .select('balance')
        .where('address', '=', from)
        .executeTakeFirstOrThrow();
      expect(row.balance).toBe((SEED - amount).toString());
      const after = await db.selectFrom('bst_supply').select('total').executeTakeFirstOrThrow();
      expect(BigInt(after.total)).toBe(BigInt(before.total) - (name === 'burn' ? amount : 0n));
    }
  });

  it('holders the worker calls new are appended with COPY; a wrong call fails the page, retryably', async () => {
    const events = tokenEvents();
    const { wire, kinds } = asRpcPage(events);
    const result = { events: wire, cursor: events.at(-1)!.id, latestLedger: 500, oldestLedger: 1 };
    // An empty filter: every credited address is new (the scenarios' net changes are all credits).
    const rows = () => buildPage(kinds, result, decodeEvent, new HolderFilter(10)).rows;
    expect(rowCount(rows().newHolders)).toBeGreaterThan(1);
    expect(rows().balanceDeltas.count).toBe(0);
    const opts = { network: 'local', sideEffects: false };
    const fresh = async () => {
      const database = await createTestDatabase();
      const pool = createPool(database.url, 2);
      const db = createDb(pool);
      opened.push({ db, drop: database.drop });
      return { db, pool };
    };

    const safe = await fresh();
    await withPageTransaction(safe.pool, (tx, copyIn) => projectPage(tx, events, { ...opts, copyIn }));
    const appended = await fresh();
    await withPageTransaction(appended.pool, (tx, copyIn) => projectRows(tx, rows(), { ...opts, copyIn }));
    expect(await tableHashes(appended.db)).toEqual(await tableHashes(safe.db));

    const wrong = await fresh();
    const holder = String(events.find((e) => e.decoded.name === 'mint')!.decoded.fields.to);
    await wrong.db.insertInto('bst_balances').values({ address: holder, balance: '1', ledger: 1 }).execute();
    const err = await withPageTransaction(wrong.pool, (tx, copyIn) =>
      projectRows(tx, rows(), { ...opts, copyIn }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexerError);
    expect(err).toMatchObject({ code: 'holder_conflict', retryable: true });
    expect(await wrong.db.selectFrom('chain_events').select('id').execute()).toEqual([]);
  });
});
