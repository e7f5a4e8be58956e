import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { sql } from 'kysely';
import pino from 'pino';
import { bearer, buildTestApp, registerUser, testEnv, type TestApp } from '../test/harness.ts';
import { buildApp, type App } from '../app.ts';
import { loadConfig } from '../config.ts';
import { createContext, type AppContext } from '../context.ts';
import {
  formatBst,
  insertNotification,
  notifyCertificateConfirmed,
  notifyRewardReceived,
} from './notifications.repository.ts';
import { createCourse, enrol } from '../test/learning-fixtures.ts';

const ORIGIN = 'http://localhost:5173';
let t: TestApp;
let base: string;
let second: App;
let secondCtx: AppContext;
let secondBase: string;

beforeAll(async () => {
  t = await buildTestApp({ env: { WS_MAX_CONNECTIONS_PER_USER: '2', WS_MAX_MESSAGE_BYTES: '256' } });
  base = (await t.app.listen({ port: 0, host: '127.0.0.1' })).replace('http', 'ws');
  // A second API instance on the same database, as another replica would be.
  const config = loadConfig(
    testEnv({
      DATABASE_URL: t.config.DATABASE_URL,
      JWT_SECRET: t.config.JWT_SECRET,
      WALLET_KEYS: `1:${t.config.WALLET_KEYS.get(1)!.toString('base64')}`,
      WS_MAX_CONNECTIONS_PER_USER: '2',
    }),
  );
  // Same database and the same Redis (key prefix included), as replicas share both.
  const log = pino({ level: 'silent' });
  secondCtx = { ...createContext(config, log), redis: t.ctx.redis };
  second = await buildApp({ config, context: secondCtx, logger: log });
  secondBase = (await second.listen({ port: 0, host: '127.0.0.1' })).replace('http', 'ws');
});
afterAll(async () => {
  await second?.close();
  await secondCtx?.db.destroy();
  await t?.close();
});

interface Client {
  ws: WebSocket;
  messages: {
    type: string;
    notification?: { id: string; title: string; kind: string };
    last_id?: string | null;
    replayed?: number;
  }[];
  waitFor(pred: (m: Client['messages'][number]) => boolean, ms?: number): Promise<Client['messages'][number]>;
  closed: Promise<{ code: number; reason: string }>;
}

function connect(url: string, opts: { origin?: string | null; protocols?: string[] } = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.origin !== null) headers.origin = opts.origin ?? ORIGIN;
    const ws = new WebSocket(url, opts.protocols ?? [], { headers });
    const messages: Client['messages'] = [];
    const waiters: (() => void)[] = [];
    ws.on('message', (raw) => {
      messages.push(JSON.parse(raw.toString()));
      waiters.splice(0).forEach((w) => w());
    });
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    ws.on('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })),
    );
    ws.on('error', reject);
    ws.on('open', () =>
      resolve({
        ws,
        messages,
        closed,
        waitFor(pred, ms = 5000) {
          return new Promise((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`timed out; got ${JSON.stringify(messages)}`)), ms);
            const check = () => {
              const found = messages.find(pred);
              if (found) {
                clearTimeout(timer);
                res(found);
              } else waiters.push(check);
            };
            check();
          });
        },
      }),
    );
  });
}

async function wsToken(app: App, access: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/v1/auth/ws-token', headers: bearer(access) });
  expect(res.statusCode).toBe(200);
  return res.json().token;
}

async function notify(userId: string, title: string) {
  return (await insertNotification(t.ctx.db, {
    userId,
    kind: 'forum_reply',
    title,
    body: 'b',
    data: { n: title },
  }))!;
}

const statusOf = (p: Promise<unknown>) =>
  p.then(
    () => 101,
    (e: { status?: number }) => e.status ?? -1,
  );

describe('notifications over REST', () => {
  it('lists mine newest first with a cursor, counts unread, marks read; never another user’s', async () => {
    const a = await registerUser(t.app);
    const b = await registerUser(t.app);
    const n1 = await notify(a.userId, 'one');
    const n2 = await notify(a.userId, 'two');
    await notify(a.userId, 'three');
    const theirs = await notify(b.userId, 'not yours');

    const page1 = (
      await t.app.inject({ method: 'GET', url: '/v1/me/notifications?limit=2', headers: bearer(a.access) })
    ).json();
    expect(page1.notifications.map((n: { title: string }) => n.title)).toEqual(['three', 'two']);
    expect(page1.unread_count).toBe(3);
    const page2 = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/me/notifications?limit=2&cursor=${page1.next_cursor}`,
        headers: bearer(a.access),
      })
    ).json();
    expect(page2.notifications.map((n: { title: string }) => n.title)).toEqual(['one']);
    expect(page2.next_cursor).toBeNull();

    const read = await t.app.inject({
      method: 'POST',
      url: `/v1/me/notifications/${n2.id}/read`,
      headers: bearer(a.access),
    });
    expect(read.statusCode).toBe(200);
    expect(read.json().read_at).not.toBeNull();
    const foreign = await t.app.inject({
      method: 'POST',
      url: `/v1/me/notifications/${theirs.id}/read`,
      headers: bearer(a.access),
    });
    expect(foreign.statusCode).toBe(404);
    expect(
      (
        await t.ctx.db
          .selectFrom('notifications')
          .select('read_at')
          .where('id', '=', theirs.id)
          .executeTakeFirstOrThrow()
      ).read_at,
    ).toBeNull();
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/me/notifications/abc/read',
          headers: bearer(a.access),
        })
      ).statusCode,
    ).toBe(400);
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: '/v1/me/notifications?cursor=bad',
          headers: bearer(a.access),
        })
      ).statusCode,
    ).toBe(400);

    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: '/v1/me/notifications/unread-count',
          headers: bearer(a.access),
        })
      ).json(),
    ).toEqual({ unread: 2 });
    const unreadOnly = (
      await t.app.inject({
        method: 'GET',
        url: '/v1/me/notifications?unread=true',
        headers: bearer(a.access),
      })
    ).json();
    expect(unreadOnly.notifications.map((n: { id: string }) => n.id)).not.toContain(n2.id);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/me/notifications/read-all',
          headers: bearer(a.access),
        })
      ).json(),
    ).toEqual({ updated: 2 });
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: '/v1/me/notifications/unread-count',
          headers: bearer(b.access),
        })
      ).json(),
    ).toEqual({ unread: 1 });
    expect((await t.app.inject({ method: 'GET', url: '/v1/me/notifications' })).statusCode).toBe(401);
    expect(n1.id).toBeDefined();
  });

  it('writes one row per dedupe key', async () => {
    const a = await registerUser(t.app);
    const first = await insertNotification(t.ctx.db, {
      userId: a.userId,
      kind: 'certificate_confirmed',
      title: 'x',
      dedupeKey: `k:${a.userId}`,
    });
    const again = await insertNotification(t.ctx.db, {
      userId: a.userId,
      kind: 'certificate_confirmed',
      title: 'x',
      dedupeKey: `k:${a.userId}`,
    });
    expect(first).not.toBeNull();
    expect(again).toBeNull();
  });
});

describe('helpers the indexer calls', () => {
  it('notifies a confirmed certificate and a received reward once, however often ingest replays', async () => {
    const a = await registerUser(t.app);
    const course = await createCourse(t.ctx, { instructorId: a.userId, lessons: 1, title: 'Replay-safe' });
    await enrol(t.ctx, a.userId, course.courseId);
    const cert = (
      await t.app.inject({
        method: 'POST',
        url: `/v1/lessons/${course.lessonIds[0]}/complete`,
        headers: bearer(a.access),
      })
    ).json().certificate;
    const first = await notifyCertificateConfirmed(t.ctx.db, cert.id);
    expect(first).toMatchObject({ kind: 'certificate_confirmed', user_id: a.userId });
    expect(first!.body).toContain('Replay-safe');
    expect(await notifyCertificateConfirmed(t.ctx.db, cert.id)).toBeNull();
    expect(await notifyCertificateConfirmed(t.ctx.db, '00000000-0000-4000-8000-000000000000')).toBeNull();

    // A reward to the custodial address the learner had before linking a wallet still reaches them.
    const custodial = (
      await t.ctx.db
        .selectFrom('users')
        .select('stellar_address')
        .where('id', '=', a.userId)
        .executeTakeFirstOrThrow()
    ).stellar_address;
    await t.ctx.db
      .updateTable('users')
      .set({ stellar_address: `G${'C'.repeat(55)}`, wallet_kind: 'external' })
      .where('id', '=', a.userId)
      .execute();
    const reward = {
      address: custodial,
      amount: '500000000',
      reason: 'referral',
      eventId: '0000000100-0000000001',
      txHash: 'ab'.repeat(32),
    };
    expect(await notifyRewardReceived(t.ctx.db, reward)).toMatchObject({
      user_id: a.userId,
      kind: 'reward_received',
      body: '50 BST (referral) arrived in your wallet.',
    });
    expect(await notifyRewardReceived(t.ctx.db, reward)).toBeNull();
    expect(
      await notifyRewardReceived(t.ctx.db, { ...reward, address: `G${'D'.repeat(55)}`, eventId: 'other' }),
    ).toBeNull();
    expect([formatBst('500000000'), formatBst('12345678'), formatBst('1'), formatBst('0')]).toEqual([
      '50',
      '1.2345678',
      '0.0000001',
      '0',
    ]);
  });
});

describe('WebSocket /v1/ws', () => {
  it('refuses a handshake without a ws token, with an access token, with a reused token, or from a foreign origin', async () => {
    const a = await registerUser(t.app);
    expect(await statusOf(connect(`${base}/v1/ws`))).toBe(401);
    expect(await statusOf(connect(`${base}/v1/ws?token=${a.access}`))).toBe(401);
    expect(await statusOf(connect(`${base}/v1/ws?token=garbage`))).toBe(401);
    const token = await wsToken(t.app, a.access);
    expect(await statusOf(connect(`${base}/v1/ws?token=${token}`, { origin: 'https://evil.example' }))).toBe(
      403,
    );
    const ok = await connect(`${base}/v1/ws?token=${await wsToken(t.app, a.access)}`);
    ok.ws.close();
    const used = await wsToken(t.app, a.access);
    (await connect(`${base}/v1/ws?token=${used}`, { origin: null })).ws.close();
    expect(await statusOf(connect(`${base}/v1/ws?token=${used}`))).toBe(401);
    // A ws token is no access token either.
    const asAccess = await t.app.inject({
      method: 'GET',
      url: '/v1/me/notifications',
      headers: bearer(await wsToken(t.app, a.access)),
    });
    expect(asAccess.statusCode).toBe(401);
    expect(await statusOf(connect(`${base}/v1/ws?token=${await wsToken(t.app, a.access)}&after=-1`))).toBe(
      400,
    );
    expect((await t.app.inject({ method: 'POST', url: '/v1/auth/ws-token' })).statusCode).toBe(401);
  });

  it('accepts the token as a subprotocol and answers with starling.v1', async () => {
    const a = await registerUser(t.app);
    const c = await connect(`${base}/v1/ws`, {
      protocols: ['starling.v1', `bearer.${await wsToken(t.app, a.access)}`],
    });
    expect(c.ws.protocol).toBe('starling.v1');
    await c.waitFor((m) => m.type === 'ready');
    c.ws.close();
  });

  it('caps connections per user and message size', async () => {
    const a = await registerUser(t.app);
    const c1 = await connect(`${base}/v1/ws?token=${await wsToken(t.app, a.access)}`);
    const c2 = await connect(`${base}/v1/ws?token=${await wsToken(t.app, a.access)}`);
    expect(await statusOf(connect(`${base}/v1/ws?token=${await wsToken(t.app, a.access)}`))).toBe(429);
    // Another user is not affected by a's cap.
    const b = await registerUser(t.app);
    const other = await connect(`${base}/v1/ws?token=${await wsToken(t.app, b.access)}`);
    other.ws.close();

    c1.ws.send(JSON.stringify({ type: 'ping' }));
    await c1.waitFor((m) => m.type === 'pong');
    c1.ws.send('x'.repeat(300));
    expect((await c1.closed).code).toBe(1009);
    // Closing one frees a slot.
    await new Promise((r) => setTimeout(r, 50));
    const c3 = await connect(`${base}/v1/ws?token=${await wsToken(t.app, a.access)}`);
    c2.ws.close();
    c3.ws.close();
  });

  it('counts a user’s sockets across instances', async () => {
    const a = await registerUser(t.app);
    const one = await connect(`${base}/v1/ws?token=${await wsToken(t.app, a.access)}`);
    const two = await connect(`${secondBase}/v1/ws?token=${await wsToken(second, a.access)}`);
    expect(await statusOf(connect(`${base}/v1/ws?token=${await wsToken(t.app, a.access)}`))).toBe(429);
    expect(await statusOf(connect(`${secondBase}/v1/ws?token=${await wsToken(second, a.access)}`))).toBe(429);
    two.ws.close();
    await two.closed;
    await new Promise((r) => setTimeout(r, 100));
    const three = await connect(`${base}/v1/ws?token=${await wsToken(t.app, a.access)}`);
    one.ws.close();
    three.ws.close();
  });

  it('pushes each new notification of mine, and only mine', async () => {
    const a = await registerUser(t.app);
    const b = await registerUser(t.app);
    const c = await connect(`${base}/v1/ws?token=${await wsToken(t.app, a.access)}`);
    await c.waitFor((m) => m.type === 'ready');
    await notify(b.userId, 'for b');
    const n = await notify(a.userId, 'for a');
    const got = await c.waitFor((m) => m.type === 'notification');
    expect(got.notification).toMatchObject({ id: n.id, title: 'for a', kind: 'forum_reply' });
    await new Promise((r) => setTimeout(r, 100));
    expect(c.messages.filter((m) => m.type === 'notification').map((m) => m.notification!.title)).toEqual([
      'for a',
    ]);
    c.ws.close();
  });

  it('a reconnecting client gets everything it missed first, in order, once', async () => {
    const a = await registerUser(t.app);
    const seen = await notify(a.userId, 'seen');
    const m1 = await notify(a.userId, 'missed 1');
    const m2 = await notify(a.userId, 'missed 2');
    const c = await connect(`${base}/v1/ws?token=${await wsToken(t.app, a.access)}&after=${seen.id}`);
    const ready = await c.waitFor((m) => m.type === 'ready');
    expect(ready).toMatchObject({ replayed: 2, last_id: m2.id });
    const live = await notify(a.userId, 'live');
    await c.waitFor((m) => m.notification?.id === live.id);
    expect(c.messages.filter((m) => m.type === 'notification').map((m) => m.notification!.id)).toEqual([
      m1.id,
      m2.id,
      live.id,
    ]);
    c.ws.close();
  });

  it('delivers a notification written through another API instance (LISTEN/NOTIFY)', async () => {
    const a = await registerUser(t.app);
    const c = await connect(`${base}/v1/ws?token=${await wsToken(t.app, a.access)}`);
    await c.waitFor((m) => m.type === 'ready');
    // Raw SQL, as the indexer or any other process would write it.
    await sql`INSERT INTO notifications (user_id, kind, title) VALUES (${a.userId}, 'certificate_confirmed', 'from SQL')`.execute(
      t.ctx.db,
    );
    await c.waitFor((m) => m.notification?.title === 'from SQL');

    // And the other way round: socket on the second instance, the write by a request to the first.
    const onSecond = await connect(`${secondBase}/v1/ws?token=${await wsToken(second, a.access)}`);
    await onSecond.waitFor((m) => m.type === 'ready');
    const course = await createCourse(t.ctx, { instructorId: a.userId, lessons: 4 });
    await enrol(t.ctx, a.userId, course.courseId);
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/lessons/${course.lessonIds[0]}/complete`,
      headers: bearer(a.access),
    });
    expect(res.statusCode).toBe(200);
    const milestone = await onSecond.waitFor((m) => m.notification?.kind === 'lesson_milestone');
    expect(milestone.notification!.title).toBe('25% of the course done');
    c.ws.close();
    onSecond.ws.close();
  });

  it('keeps delivering after the LISTEN connection is killed', async () => {
    const a = await registerUser(t.app);
    const c = await connect(`${base}/v1/ws?token=${await wsToken(t.app, a.access)}`);
    await c.waitFor((m) => m.type === 'ready');
    const killed = await sql<{
      ok: boolean;
    }>`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'starling-api-listen' AND datname = current_database()`.execute(
      t.ctx.db,
    );
    expect(killed.rows.filter((r) => r.ok).length).toBeGreaterThanOrEqual(1);
    const during = await notify(a.userId, 'while reconnecting');
    await c.waitFor((m) => m.notification?.id === during.id, 10_000);
    const after = await notify(a.userId, 'after reconnect');
    await c.waitFor((m) => m.notification?.id === after.id, 10_000);
    c.ws.close();
  });
});
