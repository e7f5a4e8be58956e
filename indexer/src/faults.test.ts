// Faults the daemon must survive (security.md 11–18): kill -9 at random points in both loops,
// RPC faults from a proxy, two daemons at once, a leader whose connection dies and a Postgres
// server that restarts. After each, every intent has exactly one on-chain effect and the
// projections equal a rebuild from scratch.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { createDb, createPool, runMigrations, type Database } from '@starling/migrations';
import { startPostgres, withDatabase as databaseUrl, type RunningPostgres } from '../../ops/dev/services.ts';
import { createTestDatabase } from '../../ops/test/db.ts';
import { startRpcProxy, type RpcProxy } from './test/rpc-proxy.ts';
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
  waitFor,
  type Chain,
  type IndexerProcess,
} from './test/harness.ts';

let chain: Chain;

beforeAll(async () => {
  chain = await startChain();
}, 120_000);

afterAll(async () => {
  await chain?.stop();
});

async function withDatabase<T>(fn: (db: Kysely<Database>, url: string) => Promise<T>): Promise<T> {
  const database = await createTestDatabase();
  const db = createDb(createPool(database.url, 4));
  try {
    return await fn(db, database.url);
  } finally {
    await db.destroy();
    await database.drop();
  }
}

/** n learners: progress 50 and 100, a certificate, and a referral reward each. */
async function seed(db: Kysely<Database>, n: number) {
  const instructor = await createLearner(db);
  const course = await createCourse(db, instructor.userId);
  const referrers = [];
  for (let i = 0; i < n; i++) {
    const l = await createLearner(db);
    const r = await createLearner(db);
    referrers.push(r.address);
    await addProgressIntent(db, l, course, 50);
    await addProgressIntent(db, l, course, 100);
    await addCertificateIntent(db, l, course);
    await addRewardIntent(db, r, newRefereeId());
  }
  return { total: n * 4, referrers };
}

/** getTransaction on the chain itself (not through the fault proxy). */
async function chainTxStatus(hash: string): Promise<string> {
  const res = await fetch(chain.localnet.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getTransaction', params: { hash } }),
  });
  const body = (await res.json()) as { result?: { status?: string } };
  return body.result?.status ?? 'NO_ANSWER';
}

/**
 * Exactly one on-chain effect per intent, judged from the ingested events and the chain itself:
 * one mint per referrer, one certificate per learner, every intent confirmed, and any stored
 * transaction whose events were never ingested had no effect on chain (a progress intent
 * superseded by a higher percent that landed first keeps the transaction it never got to land).
 */
async function expectOneEffectEach(db: Kysely<Database>, referrers: string[]) {
  const mints = await sql<{ to: string; n: string }>`
    SELECT value->>'to' AS to, count(*)::text AS n FROM chain_events WHERE name = 'mint' AND value->>'to' = ANY(${referrers}) GROUP BY 1`.execute(
    db,
  );
  expect(mints.rows.length).toBe(referrers.length);
  for (const m of mints.rows) expect(m.n).toBe('1');
  const certs = await sql<{ n: string }>`
    SELECT count(*)::text AS n FROM chain_events WHERE name = 'certificate_issued'
    GROUP BY topics->>2, value->>'course_id' HAVING count(*) > 1`.execute(db);
  expect(certs.rows).toEqual([]);
  const intents = await db.selectFrom('intents').select(['kind', 'tx_hash', 'status']).execute();
  expect(intents.every((i) => i.status === 'confirmed')).toBe(true);
  const unseen = await sql<{ id: string; kind: string; tx_hash: string }>`
    SELECT i.id, i.kind, i.tx_hash FROM intents i WHERE i.tx_hash IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM chain_events e WHERE e.tx_hash = i.tx_hash)`.execute(db);
  for (const u of unseen.rows) {
    // A transaction still in the chain's queue lands (or fails) within a ledger or two.
    let status = await chainTxStatus(u.tx_hash);
    for (let i = 0; i < 20 && status === 'NOT_FOUND'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await chainTxStatus(u.tx_hash);
    }
    expect({ ...u, status }).not.toMatchObject({ status: 'SUCCESS' });
    expect({ ...u, status }).toMatchObject({ kind: 'record_progress' });
  }
}

async function expectVerifyEqual(env: Record<string, string>) {
  const v = await runCli(env, ['verify']);
  expect(v.out).toContain('"equal": true');
  expect(v.code).toBe(0);
}

describe('kill -9', () => {
  it('at random points in both loops, repeatedly: nothing lost, nothing doubled', async () => {
    await withDatabase(async (db, url) => {
      const { total, referrers } = await seed(db, 6);
      const env = indexerEnv(chain, url, { INDEXER_PAGE_LIMIT: '3' });
      const crashy = {
        ...env,
        INDEXER_CRASH_AT:
          'after_claim=0.05,after_store=0.25,after_send=0.25,after_success=0.2,ingest_commit=0.08',
      };
      let kills = 0;
      let selfKills = 0;
      for (let round = 0; round < 30; round++) {
        const p = spawnIndexer(crashy);
        const outcome = await Promise.race([
          p.exited.then(() => 'died' as const),
          new Promise<'alive'>((r) => setTimeout(() => r('alive'), 300 + Math.random() * 1500)),
        ]);
        if (outcome === 'died') selfKills++;
        else kills++;
        await p.kill9();
        if ((await intentStatuses(db)).confirmed === total && round >= 10) break;
      }
      expect(kills + selfKills).toBeGreaterThanOrEqual(10);
      const final = spawnIndexer(env);
      try {
        await waitFor(
          'every intent confirmed',
          async () => (await intentStatuses(db)).confirmed === total,
          90_000,
        );
        await waitFor(
          'ingest at the head',
          async () =>
            (await db.selectFrom('indexer_state').select('status').executeTakeFirst())?.status ===
            'following',
          30_000,
        );
      } finally {
        await final.stop();
      }
      await expectOneEffectEach(db, referrers);
      await expectVerifyEqual(env);
    });
  }, 300_000);
});

describe('RPC faults', () => {
  let proxy: RpcProxy;
  beforeAll(async () => {
    proxy = await startRpcProxy(chain.localnet.url);
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('errors, timeouts, 429, malformed and slow responses, resets, lost responses: backs off, never skips, recovers', async () => {
    await withDatabase(async (db, url) => {
      const { total, referrers } = await seed(db, 3);
      const env = {
        ...indexerEnv(chain, url, { INDEXER_RPC_TIMEOUT_MS: '1000', INDEXER_PAGE_LIMIT: '4' }),
        STELLAR_RPC_URL: proxy.url,
      };
      proxy.setFaults(0.2, [
        'http500',
        'http429',
        'malformed',
        'hang',
        'slow',
        'reset',
        'lost_response',
        'truncated',
      ]);
      const p = spawnIndexer(env);
      let sawRpcError = false;
      try {
        await waitFor(
          'every intent confirmed through a faulty RPC',
          async () => {
            const s = await db
              .selectFrom('indexer_state')
              .select(['status', 'rpc_errors'])
              .executeTakeFirst();
            if (s?.status === 'rpc_error' || Number(s?.rpc_errors ?? 0) > 0) sawRpcError = true;
            return (await intentStatuses(db)).confirmed === total;
          },
          150_000,
          50,
        ).catch(async (e: unknown) => {
          const rows = await db
            .selectFrom('intents')
            .select(['id', 'kind', 'status', 'attempts', 'last_error', 'tx_hash', 'next_attempt_at'])
            .execute();
          console.error(JSON.stringify(rows, null, 1), p.output().slice(-4000));
          throw e;
        });
        proxy.setFaults(0, []);
        await waitFor(
          'following',
          async () =>
            (await db.selectFrom('indexer_state').select('status').executeTakeFirst())?.status ===
            'following',
          30_000,
        );
        const port = Number(/"port":(\d+)/.exec(p.output())?.[1] ?? 0);
        if (port) {
          const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          expect(metrics).toMatch(/starling_indexer_rpc_errors_total\{[^}]+\} [1-9]/);
        }
      } finally {
        proxy.setFaults(0, []);
        await p.stop();
      }
      expect(sawRpcError).toBe(true);
      expect(Object.values(proxy.counts).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
      await expectOneEffectEach(db, referrers);
      await expectVerifyEqual(indexerEnv(chain, url));
    });
  }, 240_000);
});

describe('two daemons', () => {
  it('exactly one writes; the standby takes over from a killed leader and from one that lost its connection', async () => {
    await withDatabase(async (db, url) => {
      const env = indexerEnv(chain, url);
      const a = spawnIndexer({ ...env, INDEXER_ID: 'daemon-a', LOG_LEVEL: 'info' });
      await waitFor(
        'a leads',
        async () =>
          (await db.selectFrom('indexer_state').select('leader').executeTakeFirst())?.leader === 'daemon-a',
        20_000,
      );
      const b = spawnIndexer({ ...env, INDEXER_ID: 'daemon-b', LOG_LEVEL: 'info' });
      const c = spawnIndexer({ ...env, INDEXER_ID: 'daemon-c', LOG_LEVEL: 'info' });
      const procs: IndexerProcess[] = [a, b, c];
      try {
        const { total: first } = await seed(db, 2);
        await waitFor(
          'first batch confirmed',
          async () => (await intentStatuses(db)).confirmed === first,
          60_000,
        );
        expect((await db.selectFrom('indexer_state').select('leader').executeTakeFirstOrThrow()).leader).toBe(
          'daemon-a',
        );
        // b may still be starting (a loaded machine takes seconds to boot a daemon): wait for it.
        await waitFor('b on standby', async () => b.output().includes('standby'), 20_000);

        await a.kill9();
        const next = await waitFor(
          'a standby takes over',
          async () => {
            const l = (await db.selectFrom('indexer_state').select('leader').executeTakeFirst())?.leader;
            return l && l !== 'daemon-a' ? l : null;
          },
          20_000,
        );
        const { total: second } = await seed(db, 2);
        await waitFor(
          'second batch confirmed',
          async () => (await intentStatuses(db)).confirmed === first + second,
          60_000,
        );

        // Cut the new leader's lock connection: it must stop writing, and the last one takes over.
        await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'starling-indexer-lock' AND datname = current_database()
                   AND pid = (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted LIMIT 1)`.execute(
          db,
        );
        const lost = next === 'daemon-b' ? b : c;
        const survivor = next === 'daemon-b' ? c : b;
        expect(
          await Promise.race([lost.exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]),
        ).not.toBe('still running');
        expect(lost.output()).toMatch(/lost the indexer lock/);
        await waitFor(
          'the last standby leads',
          async () =>
            (await db.selectFrom('indexer_state').select('leader').executeTakeFirst())?.leader ===
            (survivor === b ? 'daemon-b' : 'daemon-c'),
          20_000,
        );
        const { total: third } = await seed(db, 1);
        await waitFor(
          'third batch confirmed',
          async () => (await intentStatuses(db)).confirmed === first + second + third,
          60_000,
        );
      } finally {
        for (const p of procs) await p.stop();
      }
      await expectVerifyEqual(env);
    });
  }, 240_000);
});

describe('Postgres connections dropped', () => {
  it('while both loops run: retried work, a restarted leader after losing its lock, nothing lost or doubled', async () => {
    await withDatabase(async (db, url) => {
      const { total, referrers } = await seed(db, 4);
      const env = indexerEnv(chain, url);
      // A supervisor (systemd, Kubernetes) restarts the daemon when it exits.
      let current = spawnIndexer(env);
      let restarts = 0;
      let supervising = true;
      const supervisor = (async () => {
        while (supervising) {
          await Promise.race([current.exited, new Promise((r) => setTimeout(r, 200))]);
          if (supervising && current.child.exitCode !== null) {
            restarts++;
            current = spawnIndexer(env);
          }
        }
      })();
      try {
        for (let i = 0; i < 8; i++) {
          await new Promise((r) => setTimeout(r, 400 + Math.random() * 600));
          await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                     AND application_name ${i % 3 === 0 ? sql`= 'starling-indexer-lock'` : sql`<> 'starling-indexer-lock'`}`.execute(
            db,
          );
        }
        await waitFor(
          'every intent confirmed',
          async () => (await intentStatuses(db)).confirmed === total,
          90_000,
        );
      } finally {
        supervising = false;
        await supervisor;
        await current.stop();
      }
      expect(restarts).toBeGreaterThan(0);
      await expectOneEffectEach(db, referrers);
      await expectVerifyEqual(env);
    });
  }, 180_000);
});

/** A supervisor (systemd, Kubernetes): starts the daemon again whenever it exits. */
function superviseIndexer(env: Record<string, string>) {
  const all: IndexerProcess[] = [spawnIndexer(env)];
  const current = () => all.at(-1)!;
  let supervising = true;
  const loop = (async () => {
    while (supervising) {
      await Promise.race([current().exited, new Promise((r) => setTimeout(r, 200))]);
      const c = current().child;
      if (supervising && (c.exitCode !== null || c.signalCode !== null)) all.push(spawnIndexer(env));
    }
  })();
  return {
    restarts: () => all.length - 1,
    output: () => all.map((p, i) => `--- daemon ${i}\n${p.output()}`).join('\n'),
    async stop() {
      supervising = false;
      await loop;
      await current().stop();
    },
  };
}

/**
 * A private, migrated cluster for a test that restarts the server (the shared one serves every
 * test file at once); stopped and removed however the test ends.
 */
async function withPrivatePostgres<T>(
  fn: (db: Kysely<Database>, url: string, server: RunningPostgres) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'starling-pg-restart-'));
  chmodSync(dir, 0o755);
  const server = await startPostgres({ dataDir: join(dir, 'pg'), ephemeral: true });
  const pool = createPool(databaseUrl(server.url, 'starling'), 4);
  // Idle connections die with the server; the pool replaces them.
  pool.on('error', () => undefined);
  const db = createDb(pool);
  try {
    const admin = createDb(createPool(server.url, 1));
    await sql`CREATE DATABASE starling`.execute(admin).finally(() => admin.destroy());
    await runMigrations(pool);
    return await fn(db, databaseUrl(server.url, 'starling'), server);
  } finally {
    await db.destroy();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Postgres restarts', () => {
  it('the server shuts down (fast) and starts again, twice, with intents in flight: the daemon recovers, nothing lost or doubled', async () => {
    await withPrivatePostgres(async (db, url, server) => {
      const env = indexerEnv(chain, url);
      const daemon = superviseIndexer(env);
      const referrers: string[] = [];
      let total = 0;
      try {
        for (const [n, downMs] of [
          [4, 2000],
          [3, 500],
        ] as const) {
          const batch = await seed(db, n);
          total += batch.total;
          referrers.push(...batch.referrers);
          await waitFor(
            'intents in flight',
            async () => {
              const s = await intentStatuses(db);
              return (s.confirmed ?? 0) < total && (s.submitting ?? 0) + (s.submitted ?? 0) > 0;
            },
            60_000,
            20,
          );
          await server.restart(downMs);
        }
        await waitFor(
          'every intent confirmed after the restarts',
          async () => (await intentStatuses(db)).confirmed === total,
          120_000,
        ).catch((e: unknown) => {
          console.error(daemon.output().slice(-6000));
          throw e;
        });
        await waitFor(
          'ingest following at the head',
          async () =>
            (await db.selectFrom('indexer_state').select('status').executeTakeFirst())?.status ===
            'following',
          30_000,
        );
      } finally {
        await daemon.stop();
      }
      // The leader lost its lock with the server; the daemon that leads now is a restarted one.
      expect(daemon.restarts()).toBeGreaterThan(0);
      expect(daemon.output()).toMatch(/lost the indexer lock/);
      // It stopped on purpose: no connection error escaped as a crash.
      expect(daemon.output()).not.toMatch(/Unhandled 'error' event/);
      await expectOneEffectEach(db, referrers);
      await expectVerifyEqual(env);
    });
  }, 300_000);
});
