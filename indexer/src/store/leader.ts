// One active indexer per database: a session advisory lock held on a dedicated connection.
// A standby polls until it gets the lock. Every write transaction calls assertLeader, which
// checks in the same transaction that our lock connection's backend still holds the lock: a
// leader whose lock connection died (and so lost the lock) can commit nothing more.
import pg from 'pg';
import { sql, type Transaction } from 'kysely';
import type { Database } from '@starling/migrations';
import { LostLeadershipError } from '../errors.ts';

export interface Leadership {
  /** Resolves once this process holds the lock (or rejects when `signal` aborts). */
  acquire(signal: AbortSignal): Promise<void>;
  /** Aborted when the lock connection fails or the lock is no longer ours. */
  readonly lost: AbortSignal;
  readonly pid: number | null;
  assertLeader(tx: Transaction<Database>): Promise<void>;
  release(): Promise<void>;
}

function splitKey(key: number): { classid: number; objid: number } {
  const big = BigInt(key);
  return { classid: Number((big >> 32n) & 0xffffffffn), objid: Number(big & 0xffffffffn) };
}

export function createLeadership(opts: {
  url: string;
  key: number;
  pollMs: number;
  onLost?: (why: string) => void;
}): Leadership {
  const lostCtl = new AbortController();
  let client: pg.Client | null = null;
  let pid: number | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  const { classid, objid } = splitKey(opts.key);

  const lose = (why: string) => {
    if (lostCtl.signal.aborted) return;
    if (heartbeat) clearInterval(heartbeat);
    lostCtl.abort(new LostLeadershipError(why));
    opts.onLost?.(why);
  };

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((res) => {
      const t = setTimeout(res, ms);
      signal.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
    });

  return {
    lost: lostCtl.signal,
    get pid() {
      return pid;
    },
    async acquire(signal) {
      for (;;) {
        signal.throwIfAborted();
        try {
          if (!client) {
            const c = new pg.Client({
              connectionString: opts.url,
              keepAlive: true,
              application_name: 'starling-indexer-lock',
            });
            c.on('error', (e) => lose(`lock connection error: ${e.message}`));
            c.on('end', () => lose('lock connection closed'));
            await c.connect();
            client = c;
          }
          const r = await client.query<{ ok: boolean; pid: number }>(
            'SELECT pg_try_advisory_lock($1) AS ok, pg_backend_pid() AS pid',
            [opts.key],
          );
          if (r.rows[0]?.ok) {
            pid = r.rows[0].pid;
            const c = client;
            heartbeat = setInterval(() => {
              c.query('SELECT 1').catch((e: Error) => lose(`lock heartbeat failed: ${e.message}`));
            }, opts.pollMs);
            heartbeat.unref();
            return;
          }
        } catch {
          const c = client;
          client = null;
          c?.removeAllListeners('end');
          c?.removeAllListeners('error');
          c?.on('error', () => undefined);
          await c?.end().catch(() => undefined);
        }
        await sleep(opts.pollMs, signal);
      }
    },
    async assertLeader(tx) {
      if (lostCtl.signal.aborted || pid === null) throw new LostLeadershipError();
      const r = await sql<{ held: boolean }>`
        SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = ${classid} AND objid = ${objid}
                       AND objsubid = 1 AND granted AND pid = ${pid}) AS held`.execute(tx);
      if (!r.rows[0]?.held) {
        lose('advisory lock no longer held by our session');
        throw new LostLeadershipError();
      }
    },
    async release() {
      if (heartbeat) clearInterval(heartbeat);
      const c = client;
      client = null;
      if (!c) return;
      c.removeAllListeners('end');
      c.removeAllListeners('error');
      c.on('error', () => undefined);
      await c.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      await c.end().catch(() => undefined);
    },
  };
}
