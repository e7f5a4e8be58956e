// Notifications: the REST list (cursor, unread count, mark read) and the socket session that
// replays what a reconnecting client missed and then pushes each new row once.
import type { AppContext } from '../context.ts';
import { badRequest, notFound } from '../errors.ts';
import {
  countUnreadNotifications,
  listNotifications,
  listNotificationsAfter,
  markAllNotificationsRead,
  markNotificationRead,
  type NotificationRow,
} from './notifications.repository.ts';
import type { NotificationHub } from './notification-hub.ts';

/** The most a reconnecting socket is replayed; beyond it the client pages through REST. */
export const REPLAY_LIMIT = 500;

export function notificationView(n: NotificationRow) {
  return {
    id: n.id,
    kind: n.kind,
    title: n.title,
    body: n.body,
    data: n.data as Record<string, unknown>,
    created_at: n.created_at.toISOString(),
    read_at: n.read_at?.toISOString() ?? null,
  };
}
export type NotificationView = ReturnType<typeof notificationView>;

function encodeCursor(id: string): string {
  return Buffer.from(`n:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const raw = Buffer.from(cursor, 'base64url').toString();
  if (!/^n:\d{1,19}$/.test(raw))
    throw badRequest('invalid_cursor', 'The cursor is not one this API returned.', 'cursor');
  return raw.slice(2);
}

export type SocketMessage =
  | { type: 'ready'; last_id: string | null; replayed: number; truncated: boolean }
  | { type: 'notification'; notification: NotificationView }
  | { type: 'pong' };

export function createNotificationsService(ctx: AppContext) {
  const { db } = ctx;

  return {
    async list(userId: string, q: { limit: number; cursor?: string; unread?: boolean }) {
      const rows = await listNotifications(db, userId, {
        limit: q.limit + 1,
        before: q.cursor ? decodeCursor(q.cursor) : undefined,
        unreadOnly: q.unread,
      });
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      return {
        notifications: page.map(notificationView),
        next_cursor: rows.length > q.limit && last ? encodeCursor(last.id) : null,
        unread_count: await countUnreadNotifications(db, userId),
      };
    },

    async unreadCount(userId: string) {
      return { unread: await countUnreadNotifications(db, userId) };
    },

    async markRead(userId: string, id: string) {
      // Someone else's id answers exactly like a missing one.
      const row = await markNotificationRead(db, userId, id);
      if (!row) throw notFound('notification_not_found', 'No notification with that id.');
      return notificationView(row);
    },

    async markAllRead(userId: string) {
      return { updated: await markAllNotificationsRead(db, userId) };
    },

    /**
     * One socket's session. Subscribes first (so nothing committed from now on is missed), then
     * replays everything after `after` (or, without it, starts from the newest existing id), then
     * forwards each announced id once, fetched from the table so the row is the truth.
     */
    async openSession(
      hub: NotificationHub,
      userId: string,
      after: string | null,
      send: (m: SocketMessage) => void,
    ) {
      const sent = new Set<string>();
      let baseline: bigint | null = null;
      let queue: string[] = [];
      let running: Promise<void> = Promise.resolve();
      let closed = false;

      const deliver = (rows: NotificationRow[]) => {
        for (const r of rows) {
          if (closed || sent.has(r.id)) continue;
          sent.add(r.id);
          if (sent.size > 2 * REPLAY_LIMIT) sent.delete(sent.values().next().value!);
          send({ type: 'notification', notification: notificationView(r) });
        }
      };

      const drain = () => {
        running = running
          .then(async () => {
            if (closed || baseline === null || queue.length === 0) return;
            // Ids at or below the baseline were replayed, or predate this socket (the client reads
            // them through REST): an announcement arriving late for one of them is not a new row.
            const floor = baseline;
            const ids = [...new Set(queue)].filter((id) => !sent.has(id) && BigInt(id) > floor);
            queue = [];
            if (!ids.length) return;
            const rows = await db
              .selectFrom('notifications')
              .selectAll()
              .where('user_id', '=', userId)
              .where('id', 'in', ids)
              .orderBy('id')
              .execute();
            deliver(rows);
          })
          .catch((err: unknown) => ctx.log.warn({ err }, 'notification push failed'));
      };

      const catchUp = () => {
        running = running
          .then(async () => {
            if (closed || baseline === null) return;
            const highest = [...sent].reduce((m, id) => (BigInt(id) > m ? BigInt(id) : m), baseline);
            deliver(await listNotificationsAfter(db, userId, highest.toString(), REPLAY_LIMIT));
          })
          .catch((err: unknown) => ctx.log.warn({ err }, 'notification catch-up failed'));
      };

      const unsubscribe = await hub.subscribe({
        userId,
        notify(id) {
          queue.push(id);
          drain();
        },
        resync: catchUp,
      });

      let replayed: NotificationRow[] = [];
      if (after !== null) {
        baseline = BigInt(after);
        replayed = await listNotificationsAfter(db, userId, after, REPLAY_LIMIT + 1);
      } else {
        const r = await db
          .selectFrom('notifications')
          .select((eb) => eb.fn.max('id').as('max'))
          .where('user_id', '=', userId)
          .executeTakeFirst();
        baseline = BigInt(r?.max ?? 0);
      }
      const truncated = replayed.length > REPLAY_LIMIT;
      deliver(replayed.slice(0, REPLAY_LIMIT));
      const lastId = sent.size ? [...sent].at(-1)! : baseline > 0n ? baseline.toString() : null;
      send({ type: 'ready', last_id: lastId, replayed: Math.min(replayed.length, REPLAY_LIMIT), truncated });
      drain();

      return () => {
        closed = true;
        unsubscribe();
      };
    },
  };
}

export type NotificationsService = ReturnType<typeof createNotificationsService>;
