// Indexer benchmark (figures in ops/bench/RESULTS.md, section "Indexer").
//
//   node ops/bench/indexer-bench.ts [--events 1000000] [--phases backfill,live,submit]
//
// backfill: a local chain seeded with --events synthetic SEP-41 mint events (the chain's
//   benchmark aid; every event a mint to a new address), ingested by `starling-indexer backfill`
//   as a child process (events + bst_balances + supply + cursor per page; BST history is read from
//   chain_events, no transfers projection since migration 0009), then a raw server-side COPY of
//   the same chain_events rows into an empty copy of the table, same run (the target's baseline);
//   for context also the COPY of every row the backfill wrote (events, balances) into empty copies
//   of their tables.
// live: 1 s ledgers, the daemon running; per ledger with our events, the time from the bench
//   first seeing the ledger closed (getLatestLedger polled every 10 ms) to the bench seeing its
//   events committed (polled every 10 ms); and certificate intents (a lesson completion at 100 %)
//   → confirmed, in ledgers.
// submit: confirmed transactions per ledger with 1 and with 4 channel accounts.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StrKey } from '@stellar/stellar-sdk';
import pg from 'pg';
import { createDb, createPool, runMigrations, type Database } from '@starling/migrations';
import type { Kysely } from 'kysely';
import { startPostgres, withDatabase, type RunningService } from '../dev/services.ts';
import { localnetBinary, repoRoot, startLocalnet, type Localnet } from '../localnet/localnet.ts';
import {
  addCertificateIntent,
  addProgressIntent,
  createCourse,
  createLearner,
  fundAccounts,
  indexerEnv,
  spawnIndexer,
  startChain,
  waitFor,
} from '../../indexer/src/test/harness.ts';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}
const EVENTS = Number(flag('events', '1000000'));
const PHASES = new Set(flag('phases', 'backfill,live,submit').split(','));
const CLI = join(repoRoot, 'indexer/src/cli.ts');

async function newDatabase(pgService: RunningService, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: pgService.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(pgService.url, name);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  await runMigrations(pool);
  await pool.end();
  return url;
}

function runChild(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    // A heap cap makes V8 collect instead of growing (the daemon's unit files set the same).
    const c = spawn(
      process.execPath,
      [
        `--max-old-space-size=${flag('heap', '64')}`,
        `--max-semi-space-size=${flag('semi', '6')}`,
        ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
        CLI,
        ...args,
      ],
      { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      process.stderr.write(d);
    });
    c.on('exit', (code) => resolve({ code, out, err }));
  });
}

/**
 * CPU seconds (user + system, Linux /proc, USER_HZ 100) used so far by this process's descendants
 * whose command is `comm`, counting exited children their parent has reaped: Postgres backends
 * come and go, the postmaster stays. Where the time goes, next to the wall-clock figures.
 */
function treeCpuSeconds(comm: string): number {
  const procs = new Map<number, { ppid: number; comm: string; own: number; reaped: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const f = stat.slice(close + 2).split(' ');
      procs.set(Number(d), {
        ppid: Number(f[1]),
        comm: stat.slice(stat.indexOf('(') + 1, close),
        own: Number(f[11]) + Number(f[12]),
        reaped: Number(f[13]) + Number(f[14]),
      });
    } catch {
      // exited meanwhile
    }
  }
  const mine = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, p] of procs)
      if (!mine.has(pid) && mine.has(p.ppid)) {
        mine.add(pid);
        grew = true;
      }
  }
  let ticks = 0;
  for (const pid of mine) {
    const p = procs.get(pid);
    if (p?.comm === comm) ticks += p.own + p.reaped;
  }
  return ticks / 100;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};

async function benchBackfill(pgService: RunningService): Promise<Record<string, unknown>> {
  const bin = localnetBinary();
  const t0 = performance.now();
  const net: Localnet = await startLocalnet(bin, {
    ledgerIntervalMs: 1000,
    retentionLedgers: 10_000_000,
    seedEvents: EVENTS,
  });
  const seedSeconds = (performance.now() - t0) / 1000;
  try {
    const url = await newDatabase(pgService, 'bench_backfill');
    const token = StrKey.encodeContract(Buffer.alloc(32, 0xbe));
    const env = {
      DATABASE_URL: url,
      STELLAR_RPC_URL: net.url,
      TOKEN_CONTRACT_ID: token,
      INDEXER_PAGE_LIMIT: flag('page', '2000'),
      INDEXER_HTTP_PORT: '-1',
      LOG_LEVEL: 'warn',
      DEPLOYMENT_MANIFEST: '',
    };
    const pg0 = treeCpuSeconds('postgres');
    const chain0 = treeCpuSeconds('localnet');
    const r = await runChild(['backfill', '--from', '1'], env);
    const backfillPostgresCpu = treeCpuSeconds('postgres') - pg0;
    const backfillChainCpu = treeCpuSeconds('localnet') - chain0;
    if (r.code !== 0) throw new Error(`backfill failed: ${r.err.slice(-2000)}`);
    const result = JSON.parse(r.out.trim().split('\n').pop()!) as {
      events: number;
      seconds: number;
      eventsPerSecond: number;
      peakRssMb: number;
      cpuSeconds: number;
    };

    // The same rows, raw: server-side COPY out, then COPY into an empty copy of chain_events.
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('CREATE TABLE chain_events_copy (LIKE chain_events INCLUDING ALL)');
    const dataDir = (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!
      .data_directory;
    const file = join(dataDir, 'bench_events.copy');
    await client.query(`COPY chain_events TO '${file}'`);
    const copyPg0 = treeCpuSeconds('postgres');
    const c0 = performance.now();
    await client.query(`COPY chain_events_copy FROM '${file}'`);
    const copySeconds = (performance.now() - c0) / 1000;
    const copyPostgresCpu = treeCpuSeconds('postgres') - copyPg0;
    // Context, not the target's baseline: the same for every row the backfill wrote (balances too,
    // same indexes), i.e. what storing the results costs with no indexer at all.
    let projectionCopySeconds = 0;
    for (const table of ['bst_balances']) {
      await client.query(`CREATE TABLE ${table}_copy (LIKE ${table} INCLUDING ALL)`);
      const f = join(dataDir, `bench_${table}.copy`);
      await client.query(`COPY ${table} TO '${f}'`);
      const t0 = performance.now();
      await client.query(`COPY ${table}_copy FROM '${f}'`);
      projectionCopySeconds += (performance.now() - t0) / 1000;
    }
    const counts = await client.query<{ e: string; b: string; s: string }>(
      `SELECT (SELECT count(*) FROM chain_events) e, (SELECT count(*) FROM bst_balances) b, (SELECT total FROM bst_supply) s`,
    );
    await client.end();
    const copyRate = result.events / copySeconds;
    return {
      events: result.events,
      seedSeconds: +seedSeconds.toFixed(1),
      backfillSeconds: +result.seconds.toFixed(1),
      eventsPerSecond: Math.round(result.eventsPerSecond),
      rawCopySeconds: +copySeconds.toFixed(2),
      rawCopyRowsPerSecond: Math.round(copyRate),
      ratioToCopy: +(result.eventsPerSecond / copyRate).toFixed(3),
      rawCopyAllRowsSeconds: +(copySeconds + projectionCopySeconds).toFixed(2),
      ratioToCopyOfAllRows: +((copySeconds + projectionCopySeconds) / result.seconds).toFixed(3),
      indexerPeakRssMb: result.peakRssMb,
      indexerCpuSeconds: result.cpuSeconds,
      // Postgres (all its processes) and the chain during the backfill; Postgres during the COPY.
      backfillPostgresCpuSeconds: +backfillPostgresCpu.toFixed(1),
      backfillChainCpuSeconds: +backfillChainCpu.toFixed(1),
      rawCopyPostgresCpuSeconds: +copyPostgresCpu.toFixed(1),
      rows: counts.rows[0],
    };
  } finally {
    await net.stop();
  }
}

async function benchLive(pgService: RunningService): Promise<Record<string, unknown>> {
  const chain = await startChain({ ledgerIntervalMs: 1000 });
  const url = await newDatabase(pgService, 'bench_live');
  const db: Kysely<Database> = createDb(createPool(url, 4));
  const daemon = spawnIndexer(
    indexerEnv(chain, url, { INDEXER_POLL_MS: '20', INDEXER_SUBMIT_POLL_MS: '50' }),
  );
  const seen = new Map<number, number>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        const r = await fetch(chain.localnet.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"jsonrpc":"2.0","id":1,"method":"getLatestLedger"}',
        });
        const seq = ((await r.json()) as { result: { sequence: number } }).result.sequence;
        if (!seen.has(seq)) seen.set(seq, performance.now());
      } catch {
        // keep polling
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const committed = new Map<number, number>();
  let watching = true;
  const watcher = (async () => {
    let last = 0;
    while (watching) {
      const r = await db
        .selectFrom('chain_events')
        .select((eb) => eb.fn.max('ledger').as('m'))
        .executeTakeFirst();
      const m = Number(r?.m ?? 0);
      if (m > last) {
        const ledgers = await db
          .selectFrom('chain_events')
          .select('ledger')
          .distinct()
          .where('ledger', '>', last)
          .where('ledger', '<=', m)
          .execute();
        for (const l of ledgers) if (!committed.has(l.ledger)) committed.set(l.ledger, performance.now());
        last = m;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    const instructor = await createLearner(db);
    const course = await createCourse(db, instructor.userId);
    await waitFor(
      'daemon following',
      async () =>
        (await db.selectFrom('indexer_state').select('status').executeTakeFirst())?.status === 'following',
      60_000,
    );
    // Live latency counts ledgers that close once the daemon follows the head; a ledger that
    // closed while it was still starting measures its start-up, not ingest.
    const followingSince = performance.now();
    const completions: { start: number; intent: string }[] = [];
    const latest = async () => Math.max(...seen.keys());
    for (let i = 0; i < 30; i++) {
      const l = await createLearner(db);
      const startLedger = await latest();
      const { intentId } = await addCertificateIntent(db, l, course);
      completions.push({ start: startLedger, intent: intentId });
      await new Promise((r) => setTimeout(r, 700 + Math.random() * 600));
    }
    await waitFor(
      'certificates confirmed',
      async () =>
        (
          await db
            .selectFrom('intents')
            .select('status')
            .where(
              'id',
              'in',
              completions.map((c) => c.intent),
            )
            .execute()
        ).every((r) => r.status === 'confirmed'),
      120_000,
    );
    const rows = await db
      .selectFrom('intents')
      .select(['id', 'confirmed_ledger'])
      .where(
        'id',
        'in',
        completions.map((c) => c.intent),
      )
      .execute();
    const inLedgers = rows.map(
      (r) => r.confirmed_ledger! - completions.find((c) => c.intent === r.id)!.start,
    );
    const latencies: number[] = [];
    for (const [ledger, at] of committed) {
      const closed = seen.get(ledger);
      if (closed !== undefined && closed >= followingSince) latencies.push(at - closed);
    }
    return {
      ledgerIntervalMs: 1000,
      ledgersMeasured: latencies.length,
      closeToCommittedMs: {
        p50: Math.round(pct(latencies, 50)),
        p99: Math.round(pct(latencies, 99)),
        max: Math.round(Math.max(...latencies)),
      },
      completionToCertificateConfirmedLedgers: {
        n: inLedgers.length,
        p50: pct(inLedgers, 50),
        p90: pct(inLedgers, 90),
        max: Math.max(...inLedgers),
      },
    };
  } finally {
    polling = false;
    watching = false;
    await poller;
    await watcher;
    await daemon.stop();
    await db.destroy();
    await chain.stop();
  }
}

async function benchSubmit(pgService: RunningService): Promise<Record<string, unknown>> {
  const chain = await startChain({ ledgerIntervalMs: 1000 });
  const out: Record<string, unknown> = {};
  try {
    for (const channels of [1, 4]) {
      const url = await newDatabase(pgService, `bench_submit_${channels}`);
      const db: Kysely<Database> = createDb(createPool(url, 4));
      const keys = await fundAccounts(chain.localnet.url, channels);
      const instructor = await createLearner(db);
      const course = await createCourse(db, instructor.userId);
      const n = channels * 12;
      for (let i = 0; i < n; i++) await addProgressIntent(db, await createLearner(db), course, 10);
      const ledgerOf = async () =>
        (
          (await (
            await fetch(chain.localnet.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: '{"jsonrpc":"2.0","id":1,"method":"getLatestLedger"}',
            })
          ).json()) as { result: { sequence: number } }
        ).result.sequence;
      const daemon = spawnIndexer(
        indexerEnv(chain, url, {
          CHANNEL_SECRETS: keys.map((k) => k.secret()).join(','),
          INDEXER_POLL_MS: '50',
          INDEXER_SUBMIT_POLL_MS: '50',
        }),
      );
      const l0 = await ledgerOf();
      const t0 = performance.now();
      await waitFor(
        'all confirmed',
        async () =>
          (await db.selectFrom('intents').select('status').where('status', '=', 'confirmed').execute())
            .length === n,
        300_000,
        50,
      );
      const l1 = await ledgerOf();
      const seconds = (performance.now() - t0) / 1000;
      const landed = await db.selectFrom('intents').select('confirmed_ledger').execute();
      const span =
        Math.max(...landed.map((r) => r.confirmed_ledger!)) -
        Math.min(...landed.map((r) => r.confirmed_ledger!)) +
        1;
      out[`channels_${channels}`] = {
        intents: n,
        seconds: +seconds.toFixed(1),
        ledgers: l1 - l0,
        confirmedPerLedger: +(n / (l1 - l0)).toFixed(2),
        ledgersSpannedByInclusion: span,
      };
      await daemon.stop();
      await db.destroy();
    }
  } finally {
    await chain.stop();
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'starling-indexer-bench-'));
chmodSync(dir, 0o755);
const pgService = await startPostgres({ dataDir: join(dir, 'pg'), ephemeral: true });
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  cores: (await import('node:os')).cpus().length,
};
try {
  if (PHASES.has('backfill')) results.backfill = await benchBackfill(pgService);
  if (PHASES.has('live')) results.live = await benchLive(pgService);
  if (PHASES.has('submit')) results.submit = await benchSubmit(pgService);
  console.log(JSON.stringify(results, null, 2));
} catch (e) {
  console.error('bench failed:', e);
  process.exitCode = 1;
} finally {
  await pgService.stop();
  rmSync(dir, { recursive: true, force: true });
}
