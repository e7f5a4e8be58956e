// One-shot ingest of a ledger range with a progress bar; holds the indexer lock meanwhile.
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Context } from '../context.ts';
import { IndexerError } from '../errors.ts';
import { createLeadership } from '../store/leader.ts';
import { ensureState, readState } from '../store/state.repository.ts';
import { checkNetwork, runIngest } from './ingest.ts';

export interface BackfillResult {
  from: number;
  to: number;
  events: number;
  inserted: number;
  seconds: number;
  eventsPerSecond: number;
  /** This process's peak resident memory (VmHWM), MB. */
  peakRssMb: number;
  /** CPU seconds this process used (user + system): the rest of the wall time is Postgres and RPC. */
  cpuSeconds: number;
}

function cpuOf(u: NodeJS.CpuUsage): number {
  return Math.round((u.user + u.system) / 1e5) / 10;
}

function peakRssMb(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
  } catch {
    return Math.round(process.memoryUsage().rss / 1048576);
  }
}

function bar(done: number, total: number, width = 30): string {
  const f = total > 0 ? Math.min(1, done / total) : 1;
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${(f * 100).toFixed(1).padStart(5)}%`;
}

export async function runBackfill(
  ctx: Context,
  opts: { from: number; to?: number; progress?: Writable },
): Promise<BackfillResult> {
  const leadership = createLeadership({
    url: ctx.config.DATABASE_URL,
    key: ctx.config.INDEXER_LOCK_KEY,
    pollMs: ctx.config.INDEXER_LOCK_POLL_MS,
  });
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 10_000);
  try {
    await leadership.acquire(ac.signal);
  } catch {
    throw new IndexerError('locked', 'another indexer holds the lock: stop it before a backfill', false);
  } finally {
    clearTimeout(timer);
  }
  try {
    const health = await ctx.rpc.getHealth();
    const to = opts.to ?? health.latestLedger;
    const net = await ctx.rpc.getNetwork();
    await ensureState(ctx.db, {
      network: ctx.config.STELLAR_NETWORK,
      passphrase: net.passphrase,
      startLedger: opts.from,
    });
    const state = (await readState(ctx.db))!;
    if (state.last_ledger !== null && opts.from > state.last_ledger + 1) {
      throw new IndexerError(
        'gap',
        `--from ${opts.from} would skip ledgers ${state.last_ledger + 1}…${opts.from - 1}`,
        false,
      );
    }
    // Re-ingesting already-seen ledgers is safe: events are keyed by id and only new ones project.
    await ctx.db
      .updateTable('indexer_state')
      .set({ cursor: null, last_ledger: opts.from - 1, start_ledger: opts.from })
      .execute();
    await checkNetwork(ctx);
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    let lastPrint = 0;
    let events = 0;
    const stats = await runIngest(ctx, {
      signal: ac.signal,
      assertLeader: (tx) => leadership.assertLeader(tx),
      untilLedger: to,
      onPage(p) {
        events += p.events;
        const now = performance.now();
        if (opts.progress && (now - lastPrint > 200 || p.lastLedger >= to)) {
          lastPrint = now;
          const rate = events / ((now - started) / 1000);
          opts.progress.write(
            `\r${bar(p.lastLedger - opts.from + 1, to - opts.from + 1)} ledger ${p.lastLedger}/${to}  ${events} events  ${rate.toFixed(0)}/s   `,
          );
        }
      },
    });
    opts.progress?.write('\n');
    const seconds = (performance.now() - started) / 1000;
    return {
      from: opts.from,
      to,
      events: stats.events,
      inserted: stats.inserted,
      seconds,
      eventsPerSecond: stats.events / seconds,
      peakRssMb: peakRssMb(),
      cpuSeconds: cpuOf(process.cpuUsage(cpu0)),
    };
  } finally {
    await leadership.release();
  }
}
