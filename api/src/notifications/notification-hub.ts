// One dedicated Postgres LISTEN connection per API instance on 'starling_notifications': whatever
// process inserts a notification (this API, another replica, the indexer), the trigger's NOTIFY
// reaches every instance, and each forwards it to the sockets of that user it holds. After the
// LISTEN connection drops, it reconnects with backoff and wakes every subscriber to catch up on
// what was written meanwhile (rows first, pushes second: nothing is lost, only late).
import pg from 'pg';
import type { Logger } from 'pino';

export const NOTIFY_CHANNEL = 'starling_notifications';

export interface HubSubscriber {
  userId: string;
  /** A notification with this id was committed for the user. */
  notify(id: string): void;
  /** The connection was lost and restored: look for anything missed. */
  resync(): void;
}

export interface NotificationHub {
  /** Resolves once this instance is listening, so nothing committed afterwards is missed. */
  subscribe(sub: HubSubscriber): Promise<() => void>;
  count(userId: string): number;
  close(): Promise<void>;
}

export function createNotificationHub(opts: { databaseUrl: string; log: Logger }): NotificationHub {
  const subscribers = new Map<string, Set<HubSubscriber>>();
  let client: pg.Client | null = null;
  let connecting: Promise<void> | null = null;
  let closed = false;
  let backoffMs = 100;
  let retryTimer: NodeJS.Timeout | null = null;

  function onNotification(msg: pg.Notification) {
    if (msg.channel !== NOTIFY_CHANNEL || !msg.payload) return;
    let payload: { id?: unknown; user_id?: unknown };
    try {
      payload = JSON.parse(msg.payload) as typeof payload;
    } catch {
      return;
    }
    const subs = subscribers.get(String(payload.user_id));
    if (!subs) return;
    for (const s of subs) s.notify(String(payload.id));
  }

  function scheduleReconnect() {
    if (closed || retryTimer) return;
    const delay = backoffMs + Math.floor(Math.random() * backoffMs);
    backoffMs = Math.min(backoffMs * 2, 5000);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (subscribers.size === 0) return;
      connect()
        .then(() => {
          for (const subs of subscribers.values()) for (const s of subs) s.resync();
        })
        .catch(() => scheduleReconnect());
    }, delay);
  }

  function connect(): Promise<void> {
    if (client) return Promise.resolve();
    if (connecting) return connecting;
    connecting = (async () => {
      const c = new pg.Client({
        connectionString: opts.databaseUrl,
        application_name: 'starling-api-listen',
      });
      c.on('notification', onNotification);
      c.on('error', (err) => {
        opts.log.warn({ err: err.message }, 'notification listener lost its connection');
        if (client === c) client = null;
        c.end().catch(() => {});
        scheduleReconnect();
      });
      c.on('end', () => {
        if (client === c) {
          client = null;
          scheduleReconnect();
        }
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${NOTIFY_CHANNEL}`);
      } catch (err) {
        c.end().catch(() => {});
        throw err;
      }
      if (closed) {
        await c.end();
        return;
      }
      client = c;
      backoffMs = 100;
    })().finally(() => {
      connecting = null;
    });
    return connecting;
  }

  return {
    async subscribe(sub) {
      let set = subscribers.get(sub.userId);
      if (!set) subscribers.set(sub.userId, (set = new Set()));
      set.add(sub);
      const unsubscribe = () => {
        const s = subscribers.get(sub.userId);
        s?.delete(sub);
        if (s && s.size === 0) subscribers.delete(sub.userId);
      };
      try {
        await connect();
      } catch (err) {
        unsubscribe();
        throw err;
      }
      return unsubscribe;
    },
    count(userId) {
      return subscribers.get(userId)?.size ?? 0;
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      subscribers.clear();
      await connecting?.catch(() => {});
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
