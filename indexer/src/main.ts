// The daemon: waits for the indexer lock (standby), then runs ingest and submit side by side
// with an HTTP server for health, status and metrics. Losing the lock stops both loops at once.
import type { Transaction } from 'kysely';
import type { Database } from '@starling/migrations';
import type { Config } from './config.ts';
import { closeContext, createContext, type Context } from './context.ts';
import { LostLeadershipError, errorMessage } from './errors.ts';
import { startHttp, type HttpServer } from './http/server.ts';
import { runIngest } from './ingest/ingest.ts';
import { createLeadership, type Leadership } from './store/leader.ts';
import { confirmSatisfiedIntents } from './store/intents.repository.ts';
import { countIntentsByStatus, recordLeader, writeStatus } from './store/state.repository.ts';
import { createSubmitter } from './submit/submit.ts';

export { loadConfig } from './config.ts';
export type { Config } from './config.ts';

export interface Daemon {
  ctx: Context;
  http: HttpServer | null;
  /** Resolves when stopped; rejects on a fatal error (retention gap, reset, lost lock). */
  done: Promise<void>;
  stop(): Promise<void>;
}

function crashPoint(config: Readonly<Config>, point: string): void {
  const p = config.crashAt.get(point);
  if (p !== undefined && Math.random() < p) process.kill(process.pid, 'SIGKILL');
}

export async function startDaemon(config: Readonly<Config>, opts: { ctx?: Context } = {}): Promise<Daemon> {
  const ctx = opts.ctx ?? createContext(config);
  const stopCtl = new AbortController();
  let role: 'leader' | 'standby' | 'stopped' = 'standby';
  const leadership: Leadership = createLeadership({
    url: config.DATABASE_URL,
    key: config.INDEXER_LOCK_KEY,
    pollMs: config.INDEXER_LOCK_POLL_MS,
    onLost: (why) => ctx.log.error({ why }, 'lost the indexer lock: stopping all writes'),
  });
  const http =
    config.INDEXER_HTTP_PORT >= 0
      ? await startHttp(ctx, { role: () => role }, config.INDEXER_HTTP_HOST, config.INDEXER_HTTP_PORT)
      : null;
  if (http) ctx.log.info({ port: http.port }, 'indexer http listening');

  const fenced = <T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> =>
    ctx.db.transaction().execute(async (tx) => {
      await leadership.assertLeader(tx);
      return fn(tx);
    });

  const done = (async () => {
    ctx.metrics.status.set({ status: 'standby' }, 1);
    ctx.log.info('waiting for the indexer lock (standby)');
    try {
      await leadership.acquire(stopCtl.signal);
    } catch {
      return;
    }
    role = 'leader';
    ctx.metrics.leader.set(1);
    ctx.log.info('holding the indexer lock: leader');
    const loopCtl = new AbortController();
    const abortLoops = () => loopCtl.abort();
    stopCtl.signal.addEventListener('abort', abortLoops, { once: true });
    leadership.lost.addEventListener('abort', abortLoops, { once: true });
    await fenced((tx) => recordLeader(tx, config.instanceId));

    const refresh = () =>
      void (async () => {
        const counts = await countIntentsByStatus(ctx.db);
        for (const s of ['pending', 'submitting', 'submitted', 'confirmed', 'failed', 'superseded'])
          ctx.metrics.intentsByStatus.set({ status: s }, counts[s] ?? 0);
        if (config.INDEXER_INGEST) await fenced((tx) => confirmSatisfiedIntents(tx));
      })().catch(() => undefined);
    refresh();
    const refresher = setInterval(refresh, 1000);
    refresher.unref();

    const hook = async (point: string) => crashPoint(config, point);
    const loops: Promise<unknown>[] = [];
    if (config.INDEXER_INGEST) {
      loops.push(
        runIngest(ctx, {
          signal: loopCtl.signal,
          assertLeader: async (tx) => {
            await leadership.assertLeader(tx);
            crashPoint(config, 'ingest_commit');
          },
        }),
      );
    }
    if (config.INDEXER_SUBMIT)
      loops.push(createSubmitter(ctx, { signal: loopCtl.signal, fenced, hook }).run());
    let failure: unknown = null;
    await Promise.all(
      loops.map((l) =>
        l.catch((e: unknown) => {
          failure ??= e;
          loopCtl.abort();
        }),
      ),
    );
    clearInterval(refresher);
    ctx.metrics.leader.set(0);
    role = 'stopped';
    if (leadership.lost.aborted && !stopCtl.signal.aborted) failure ??= new LostLeadershipError();
    if (!leadership.lost.aborted)
      await writeStatus(ctx.db, failure ? {} : { status: 'stopped', caught_up: false }).catch(
        () => undefined,
      );
    await leadership.release();
    if (failure) {
      ctx.log.error({ err: errorMessage(failure) }, 'indexer stopped');
      throw failure;
    }
  })();

  let stopped = false;
  return {
    ctx,
    http,
    done,
    async stop() {
      if (stopped) return;
      stopped = true;
      stopCtl.abort();
      await done.catch(() => undefined);
      await leadership.release();
      await http?.close();
      if (!opts.ctx) await closeContext(ctx);
    },
  };
}
