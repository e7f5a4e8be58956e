// The notifications socket, seen from the browser: this site's /ws (the site's server forwards it to
// the API with the session's token, so no token reaches scripts). Reconnects with backoff and asks
// for everything after the last id it saw, so a dropped connection loses nothing.

export interface LiveNotification {
  id: string | number;
  [key: string]: unknown;
}

export interface LiveMessage {
  type: string;
  notification?: LiveNotification;
  unread?: number;
  unread_count?: number;
  [key: string]: unknown;
}

/** Backoff for reconnect attempt n (0-based): 0.5 s doubling to 15 s, with ±20 % jitter. */
export function backoff(attempt: number, random = Math.random): number {
  const base = Math.min(15_000, 500 * 2 ** attempt);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Compares ids that may be numbers, numeric strings or sortable strings. */
export function idAfter(a: string | number, b: string | number | null): boolean {
  if (b === null) return true;
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na > nb;
  return String(a) > String(b);
}

export function socketUrl(origin: string, lastId: string | number | null): string {
  const u = new URL('/ws', origin);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  if (lastId !== null) u.searchParams.set('after', String(lastId));
  return u.toString();
}

/** Accepts the API's message shapes: a bare notification or `{type, notification}`. */
export function parseMessage(data: string): LiveMessage | null {
  try {
    const m = JSON.parse(data) as Record<string, unknown>;
    if (!m || typeof m !== 'object') return null;
    if (typeof m.type === 'string') {
      if (!m.notification && m.data && typeof m.data === 'object' && 'id' in (m.data as object)) {
        return { ...m, type: m.type, notification: m.data as LiveNotification };
      }
      return m as LiveMessage;
    }
    if ('id' in m) return { type: 'notification', notification: m as LiveNotification };
    return null;
  } catch {
    return null;
  }
}

export interface StreamHandlers {
  onNotification(n: LiveNotification): void;
  onUnread?(count: number): void;
  onState?(state: 'connecting' | 'open' | 'closed'): void;
}

export interface Stream {
  close(): void;
  /** Drops the current connection as a network failure would; the stream reconnects by itself. */
  drop(): void;
  /** The last notification id delivered (exposed for tests and resume). */
  lastId(): string | number | null;
}

export function openStream(
  origin: string,
  initialLastId: string | number | null,
  h: StreamHandlers,
  WS: typeof WebSocket = WebSocket,
): Stream {
  let last = initialLastId;
  let attempt = 0;
  let stopped = false;
  let ws: WebSocket | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const seen = new Set<string>();

  const connect = () => {
    if (stopped) return;
    h.onState?.('connecting');
    ws = new WS(socketUrl(origin, last));
    ws.onopen = () => {
      attempt = 0;
      h.onState?.('open');
    };
    ws.onmessage = (ev) => {
      const m = parseMessage(String(ev.data));
      if (!m) return;
      const unread = m.unread ?? m.unread_count;
      if (typeof unread === 'number') h.onUnread?.(unread);
      const n = m.notification;
      if (n && n.id !== undefined && !seen.has(String(n.id))) {
        seen.add(String(n.id));
        if (idAfter(n.id, last)) last = n.id;
        h.onNotification(n);
      }
    };
    ws.onclose = () => {
      ws = null;
      h.onState?.('closed');
      if (!stopped) timer = setTimeout(connect, backoff(attempt++));
    };
  };
  connect();
  return {
    close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      ws?.close();
    },
    drop() {
      ws?.close();
    },
    lastId: () => last,
  };
}
