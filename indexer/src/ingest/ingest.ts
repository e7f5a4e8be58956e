// The ingest loop: getEvents from the cursor in Postgres, one transaction per page (raw
// events, projections, intents, notifications, cursor), as fast as possible while behind and
// then at the head. The sync stage yields a small tagged union; the loop owns retries.
import type { Transaction } from 'kysely';
import type { Database } from '@starling/migrations';
import type { Context } from '../context.ts';
import type { ContractKind } from '../decode/spec.ts';
import {
  DecodeError,
  IndexerError,
  LostLeadershipError,
  NetworkResetError,
  RetentionGapError,
  RpcTransientError,
  backoffMs,
  errorMessage,
  isRetryable,
} from '../errors.ts';
import { setStatusGauge, type IndexerStatus } from '../metrics.ts';
import { projectPage, projectRows, type PageRows } from '../project/project.ts';
import { to as copyTo } from 'pg-copy-streams';
import { withPageTransaction } from '../store/page-transaction.ts';
import { decodeEvent } from '../decode/index.ts';
import { decodePage, type PageMeta } from './page-build.ts';
import { createPageBuilder, inThreadBuilder, type FetchedPage, type PageBuilder } from './page-builder.ts';
import { cursorLedger, parseLedgerRangeError, type RpcEventWire } from '../rpc/rpc.client.ts';
import {
  advanceCursor,
  ensureState,
  readState,
  sampleStatus,
  writeStatus,
  type StateRow,
} from '../store/state.repository.ts';

export type SyncStep =
  | {
      kind: 'events';
      /** The page's rows, built here (on the page worker for big pages) so that a prefetched
       *  page's are ready before its commit. */
      rows: PageRows;
      /** The close time of each ledger among the events, in order. */
      closedAt: string[];
      /** The page's events as they came, for a replay (see commitPage). */
      wire: () => Promise<RpcEventWire[]>;
      cursor: string;
      lastLedger: number;
      lastLedgerClosedAt: string | null;
      page: PageMeta;
      full: boolean;
    }
  | { kind: 'caught_up'; latestLedger: number; oldestLedger: number | null }
  | { kind: 'retention_gap'; cursorLedger: number; oldestLedger: number };

export interface IngestOptions {
  signal: AbortSignal;
  /** Fences every write: throws when this process is no longer the leader. */
  assertLeader: (tx: Transaction<Database>) => Promise<void>;
  /** Stop once this ledger is fully ingested (backfill, verify); default: follow forever. */
  untilLedger?: number;
  sideEffects?: boolean;
  onPage?: (p: { lastLedger: number; latestLedger: number; events: number; inserted: number }) => void;
  onStatus?: (status: IndexerStatus, detail: string | null) => void;
}

export interface IngestStats {
  pages: number;
  events: number;
  inserted: number;
  lastLedger: number;
}

function contractKinds(ctx: Context): Map<string, ContractKind> {
  const m = new Map<string, ContractKind>();
  for (const [kind, id] of Object.entries(ctx.config.contracts)) if (id) m.set(id, kind as ContractKind);
  return m;
}

/** Where a missing cursor starts: configured ledger, the state's, the deploy ledger, else oldest. */
export function startLedgerOf(ctx: Context, state: StateRow | undefined, oldest: number): number {
  return ctx.config.INDEXER_START_LEDGER || state?.start_ledger || ctx.config.manifestLedger || oldest;
}

/** One getEvents call from the stored position, classified. */
export async function syncStep(
  ctx: Context,
  state: StateRow,
  kinds: Map<string, ContractKind>,
  builder: PageBuilder = inThreadBuilder,
): Promise<SyncStep> {
  const limit = ctx.config.INDEXER_PAGE_LIMIT;
  const lastDone = state.last_ledger ?? (state.start_ledger ?? 1) - 1;
  let fetched: FetchedPage;
  try {
    // Fetched and built in one go (on the page worker when big): a DecodeError is not a range error.
    fetched = await builder.fetch(
      ctx.rpc,
      {
        contractIds: [...kinds.keys()],
        limit,
        ...(state.cursor ? { cursor: state.cursor } : { startLedger: Math.max(1, lastDone + 1) }),
      },
      kinds,
    );
  } catch (e) {
    const range = parseLedgerRangeError(e);
    if (!range) throw e;
    if (Number.isFinite(range.oldest) && lastDone + 1 < range.oldest) {
      return { kind: 'retention_gap', cursorLedger: lastDone + 1, oldestLedger: range.oldest };
    }
    // The next ledger is not closed yet (our position is at the head): wait for it.
    return {
      kind: 'caught_up',
      latestLedger: Number.isFinite(range.latest) ? range.latest : lastDone,
      oldestLedger: range.oldest,
    };
  }
  const { page, rows, closedAt } = fetched;
  if (page.latestLedger < lastDone) {
    throw new NetworkResetError(
      `the RPC's latest ledger ${page.latestLedger} is below our last ingested ledger ${lastDone}: the network was reset`,
    );
  }
  if (lastDone + 1 < page.oldestLedger && !state.cursor) {
    return { kind: 'retention_gap', cursorLedger: lastDone + 1, oldestLedger: page.oldestLedger };
  }
  const full = page.eventCount >= limit;
  const cl = cursorLedger(page.cursor);
  const lastLedger = Math.max(lastDone, full ? cl - 1 : cl);
  return {
    kind: 'events',
    rows,
    closedAt,
    cursor: page.cursor,
    lastLedger,
    lastLedgerClosedAt:
      lastLedger >= page.latestLedger && page.latestLedgerCloseTime
        ? closeTimeIso(page.latestLedgerCloseTime)
        : (closedAt.at(-1) ?? null),
    page,
    wire: fetched.wire,
    full,
  };
}

function closeTimeIso(t: string): string {
  return /^\d+$/.test(t) ? new Date(Number(t) * 1000).toISOString() : t;
}

/** Writes one page: everything or nothing, fenced by the leader check and the old cursor. */
export async function commitPage(
  ctx: Context,
  state: StateRow,
  step: Extract<SyncStep, { kind: 'events' }>,
  opts: IngestOptions,
): Promise<{ inserted: number; state: StateRow }> {
  const started = performance.now();
  const latest = step.page.latestLedger;
  const lag = Math.max(0, latest - step.lastLedger);
  const lagSeconds = step.lastLedgerClosedAt
    ? Math.max(0, (Date.now() - Date.parse(step.lastLedgerClosedAt)) / 1000)
    : null;
  const headroom = step.lastLedger - step.page.oldestLedger;
  const following = !step.full && step.lastLedger >= latest;
  const result = await withPageTransaction(ctx.pool, async (tx, copyIn) => {
    await opts.assertLeader(tx);
    const projectOpts = {
      network: ctx.config.STELLAR_NETWORK,
      sideEffects: opts.sideEffects ?? true,
      copyIn,
    };
    // Rows built ahead hold every event of the page; when some are stored already (a replay),
    // the page is decoded again here and only its new events are written.
    const r =
      (await projectRows(tx, step.rows, projectOpts)) ??
      (await projectPage(tx, decodePage(contractKinds(ctx), await step.wire(), decodeEvent), projectOpts));
    // The cursor and the page's status in one statement; then at most one history sample.
    const moved = await advanceCursor(
      tx,
      {
        from: state.cursor,
        to: step.cursor,
        lastLedger: step.lastLedger,
        lastLedgerClosedAt: step.lastLedgerClosedAt,
        events: r.inserted,
      },
      {
        status: following ? 'following' : 'catching_up',
        status_detail: null,
        latest_rpc_ledger: latest,
        oldest_rpc_ledger: step.page.oldestLedger,
        lag_ledgers: lag,
        lag_seconds: lagSeconds,
        retention_headroom_ledgers: headroom,
        caught_up: lag <= ctx.config.INDEXER_READY_LAG_LEDGERS,
      },
    );
    if (!moved) throw new LostLeadershipError('the cursor moved under us: another writer is active');
    await sampleStatus(tx);
    return r;
  });
  const m = ctx.metrics;
  m.pageCommitSeconds.observe((performance.now() - started) / 1000);
  m.pagesCommitted.inc();
  m.eventsIngested.inc(result.inserted);
  m.latestRpcLedger.set(latest);
  m.oldestRpcLedger.set(step.page.oldestLedger);
  m.lastIngestedLedger.set(step.lastLedger);
  m.lagLedgers.set(lag);
  if (lagSeconds !== null) m.lagSeconds.set(lagSeconds);
  m.retentionHeadroom.set(headroom);
  setStatusGauge(m, following ? 'following' : 'catching_up');
  if (following) {
    for (const at of new Set(step.closedAt)) {
      m.ledgerCommitLatency.observe(Math.max(0, (Date.now() - Date.parse(at)) / 1000));
    }
  }
  return {
    inserted: result.inserted,
    state: {
      ...state,
      cursor: step.cursor,
      last_ledger: step.lastLedger,
      latest_rpc_ledger: latest,
      oldest_rpc_ledger: step.page.oldestLedger,
    },
  };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((res) => {
    if (signal.aborted) return res();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      res();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Checks the RPC serves the network we indexed (passphrase) and records it on first start. */
export async function checkNetwork(ctx: Context): Promise<StateRow> {
  const net = await ctx.rpc.getNetwork();
  if (ctx.config.STELLAR_NETWORK_PASSPHRASE && ctx.config.STELLAR_NETWORK_PASSPHRASE !== net.passphrase) {
    throw new NetworkResetError(
      `the RPC serves "${net.passphrase}", configured "${ctx.config.STELLAR_NETWORK_PASSPHRASE}"`,
    );
  }
  const health = await ctx.rpc.getHealth();
  const existing = await readState(ctx.db);
  const state =
    existing ??
    (await ensureState(ctx.db, {
      network: ctx.config.STELLAR_NETWORK,
      passphrase: net.passphrase,
      startLedger: startLedgerOf(ctx, undefined, health.oldestLedger),
    }));
  if (state.network_passphrase && state.network_passphrase !== net.passphrase) {
    throw new NetworkResetError(
      `indexed "${state.network_passphrase}" but the RPC now serves "${net.passphrase}"`,
    );
  }
  if (state.last_ledger !== null && health.latestLedger < state.last_ledger) {
    throw new NetworkResetError(
      `the RPC's latest ledger ${health.latestLedger} is below our last ingested ledger ${state.last_ledger}: the network was reset`,
    );
  }
  if (!state.network_passphrase || state.start_ledger === null) {
    await writeStatus(ctx.db, { network_passphrase: net.passphrase, network: ctx.config.STELLAR_NETWORK });
    if (state.start_ledger === null) {
      await ctx.db
        .updateTable('indexer_state')
        .set({ start_ledger: startLedgerOf(ctx, state, health.oldestLedger) })
        .execute();
    }
  }
  return (await readState(ctx.db))!;
}

/**
 * Runs until the signal aborts, `untilLedger` is reached, or a non-retryable error (retention
 * gap, network reset, decode error, lost leadership), which it records loudly and rethrows.
 */
export async function runIngest(ctx: Context, opts: IngestOptions): Promise<IngestStats> {
  const builder = createPageBuilder({
    url: ctx.config.STELLAR_RPC_URL,
    timeoutMs: ctx.config.INDEXER_RPC_TIMEOUT_MS,
    minEvents: ctx.config.INDEXER_PAGE_WORKER_MIN_EVENTS,
    loadHolders: () => streamHolders(ctx),
    log: ctx.log,
    metrics: ctx.metrics,
  });
  try {
    return await ingestLoop(ctx, opts, builder);
  } finally {
    await builder.close();
  }
}

/** Every address with a balance, streamed (COPY) for the page worker's holder filter. */
async function streamHolders(ctx: Context): Promise<{ expected: number; chunks: AsyncIterable<Uint8Array> }> {
  const client = await ctx.pool.connect();
  try {
    const n = await client.query<{ n: string }>('SELECT count(*) AS n FROM bst_balances');
    const stream = client.query(copyTo('COPY (SELECT address FROM bst_balances) TO STDOUT'));
    async function* chunks(): AsyncIterable<Uint8Array> {
      try {
        for await (const c of stream) yield c as Buffer;
        client.release();
      } catch (e) {
        client.release(true);
        throw e;
      }
    }
    return { expected: Number(n.rows[0]?.n ?? 0), chunks: chunks() };
  } catch (e) {
    client.release(true);
    throw e;
  }
}

/** Pages fetched and built ahead while catching up: two keep the worker busy through a slow one. */
const PREFETCH_PAGES = 2;

async function ingestLoop(ctx: Context, opts: IngestOptions, builder: PageBuilder): Promise<IngestStats> {
  const stats: IngestStats = { pages: 0, events: 0, inserted: 0, lastLedger: 0 };
  const kinds = contractKinds(ctx);
  const setStatus = async (
    status: IndexerStatus,
    detail: string | null,
    extra: Parameters<typeof writeStatus>[1] = {},
  ) => {
    setStatusGauge(ctx.metrics, status);
    opts.onStatus?.(status, detail);
    await writeStatus(ctx.db, { status, status_detail: detail, ...extra }).catch(() => undefined);
  };
  let failures = 0;
  let state: StateRow | null = null;
  // While catching up, the next pages are fetched and built while this one commits (each from
  // where the one before it ends). One is used only if it starts exactly where the committed page
  // ended; any error discards them all.
  type Ahead = Promise<{ from: string | null; step: SyncStep } | null>;
  let ahead: Ahead[] = [];
  const dropPrefetch = () => {
    for (const a of ahead) a.catch(() => undefined);
    ahead = [];
  };
  const after = (prev: Ahead, base: StateRow): Ahead =>
    prev.then((p) => {
      if (!p || p.step.kind !== 'events') return null;
      const s = p.step;
      const behind = s.full || s.lastLedger < s.page.latestLedger;
      if (!behind || (opts.untilLedger !== undefined && s.lastLedger >= opts.untilLedger)) return null;
      const next = { ...base, cursor: s.cursor, last_ledger: s.lastLedger };
      return syncStep(ctx, next, kinds, builder).then((step) => ({ from: s.cursor, step }));
    });
  while (!opts.signal.aborted) {
    try {
      state ??= await checkNetwork(ctx);
      if (opts.untilLedger !== undefined && (state.last_ledger ?? 0) >= opts.untilLedger) break;
      let step: SyncStep | undefined;
      const first = ahead.shift();
      if (first) {
        const got = await first;
        if (got && got.from === state.cursor) step = got.step;
        else dropPrefetch();
      }
      step ??= await syncStep(ctx, state, kinds, builder);
      failures = 0;
      if (step.kind === 'retention_gap') {
        const err = new RetentionGapError(step.cursorLedger, step.oldestLedger);
        ctx.log.fatal({ cursorLedger: step.cursorLedger, oldestLedger: step.oldestLedger }, err.message);
        ctx.metrics.retentionHeadroom.set(step.cursorLedger - step.oldestLedger);
        await setStatus('retention_gap', err.message, {
          caught_up: false,
          oldest_rpc_ledger: step.oldestLedger,
          retention_headroom_ledgers: step.cursorLedger - step.oldestLedger,
          last_error: err.message,
          lastErrorNow: true,
        });
        throw err;
      }
      if (step.kind === 'caught_up') {
        if (state.status !== 'following') {
          await setStatus('following', null, {
            caught_up: true,
            latest_rpc_ledger: step.latestLedger,
            lag_ledgers: Math.max(0, step.latestLedger - (state.last_ledger ?? 0)),
          });
          state = { ...state, status: 'following' };
        }
        await sleep(ctx.config.INDEXER_POLL_MS, opts.signal);
        continue;
      }
      if (ahead.length === 0) ahead.push(after(Promise.resolve({ from: state.cursor, step }), state));
      while (ahead.length < PREFETCH_PAGES) ahead.push(after(ahead.at(-1)!, state));
      for (const a of ahead) a.catch(() => undefined);
      const r = await commitPage(ctx, state, step, opts);
      state = {
        ...r.state,
        status: !step.full && step.lastLedger >= step.page.latestLedger ? 'following' : 'catching_up',
      };
      stats.pages++;
      stats.events += step.rows.count;
      stats.inserted += r.inserted;
      stats.lastLedger = step.lastLedger;
      opts.onPage?.({
        lastLedger: step.lastLedger,
        latestLedger: step.page.latestLedger,
        events: step.rows.count,
        inserted: r.inserted,
      });
      if (opts.untilLedger !== undefined && step.lastLedger >= opts.untilLedger) break;
      // An empty or short page is not the end: only a page that reached the head is.
      if (state.status === 'following') await sleep(ctx.config.INDEXER_POLL_MS, opts.signal);
    } catch (e) {
      dropPrefetch();
      if (opts.signal.aborted) break;
      if (e instanceof RetentionGapError) throw e;
      if (e instanceof LostLeadershipError) throw e;
      if (e instanceof NetworkResetError) {
        ctx.log.fatal({ err: e.message }, 'network reset detected; ingest stopped');
        await setStatus('network_reset', e.message, {
          caught_up: false,
          last_error: e.message,
          lastErrorNow: true,
        });
        throw e;
      }
      if (e instanceof DecodeError) {
        ctx.log.fatal({ err: e.message }, 'undecodable event; ingest stopped');
        await setStatus('decode_error', e.message, {
          caught_up: false,
          last_error: e.message,
          lastErrorNow: true,
        });
        throw e;
      }
      if (!isRetryable(e)) {
        ctx.log.error(
          { err: errorMessage(e), code: e instanceof IndexerError ? e.code : undefined },
          'ingest error',
        );
        await setStatus('error', errorMessage(e), {
          last_error: errorMessage(e),
          lastErrorNow: true,
          caught_up: false,
        });
        throw e;
      }
      if (e instanceof IndexerError && e.code === 'holder_conflict') builder.distrustHolders();
      failures++;
      const wait = backoffMs(failures, 200, 10_000);
      ctx.log.warn({ err: errorMessage(e), attempt: failures, waitMs: wait }, 'ingest retry');
      const rpc = e instanceof RpcTransientError;
      await setStatus(rpc ? 'rpc_error' : 'db_error', errorMessage(e), {
        last_error: errorMessage(e),
        lastErrorNow: true,
        ...(rpc ? { rpcErrorsInc: 1 } : {}),
      });
      state = null; // re-read the cursor from Postgres: it is the only truth
      await sleep(wait, opts.signal);
    }
  }
  dropPrefetch();
  return stats;
}
