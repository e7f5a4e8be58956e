import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pino from 'pino';
import { buildTestApp, type TestApp } from '../test/harness.ts';
import { buildApp } from '../app.ts';
import { createRedis } from '../context.ts';
import { redisTestUrl } from '../../../ops/test/db.ts';
import { actor, buildCourse, type Actor } from '../test/courses.ts';
import { MANY_USERS } from '../test/courses.ts';

let t: TestApp;
let noRedis: TestApp;
let owner: Actor;
let other: Actor;
beforeAll(async () => {
  t = await buildTestApp({ env: MANY_USERS });
  noRedis = await buildTestApp({ redis: false, env: MANY_USERS });
  owner = await actor(t, 'instructor', 'Grace Instructor');
  other = await actor(t, 'instructor', 'Linus Instructor');
  await buildCourse(t, owner, {
    title: 'Soroban smart contracts',
    summary: 'Write and test contracts in Rust',
    tags: ['rust', 'soroban'],
    level: 'advanced',
  });
  await buildCourse(t, owner, {
    title: 'Stellar payments',
    summary: 'Send assets across borders',
    tags: ['payments'],
    language: 'es',
  });
  await buildCourse(t, other, {
    title: 'Rust for beginners',
    summary: 'Ownership, borrowing and soroban basics',
    tags: ['rust'],
  });
  await buildCourse(t, other, { title: 'Unpublished rust draft', summary: 'soroban', publish: false });
});
afterAll(async () => {
  await t.close();
  await noRedis.close();
});

type Page = {
  courses: {
    id: string;
    title: string;
    status: string;
    rating: unknown;
    instructor: { id: string; display_name: string };
  }[];
  next_cursor: string | null;
};
const catalog = async (qs = '', app = t): Promise<Page> => {
  const r = await app.app.inject({ method: 'GET', url: `/v1/catalog${qs}` });
  expect(r.statusCode, r.body).toBe(200);
  return r.json();
};

describe('catalog', () => {
  it('lists only published courses, newest first, with instructor and rating', async () => {
    const p = await catalog();
    expect(p.courses.map((c) => c.title)).toEqual([
      'Rust for beginners',
      'Stellar payments',
      'Soroban smart contracts',
    ]);
    expect(p.courses.every((c) => c.status === 'published')).toBe(true);
    expect(p.courses[0]).toMatchObject({
      instructor: { id: other.userId, display_name: 'Linus Instructor' },
      rating: { average: null, count: 0 },
    });
  });

  it('searches title and summary with full-text (stemming, web-search syntax), best match first', async () => {
    const p = await catalog('?q=soroban');
    expect(p.courses.map((c) => c.title)).toEqual(['Soroban smart contracts', 'Rust for beginners']);
    expect((await catalog('?q=contract')).courses.map((c) => c.title)).toEqual(['Soroban smart contracts']);
    expect((await catalog('?q=rust%20-beginners')).courses.map((c) => c.title)).toEqual([
      'Soroban smart contracts',
    ]);
    expect((await catalog('?q=%22send%20assets%22')).courses.map((c) => c.title)).toEqual([
      'Stellar payments',
    ]);
    expect((await catalog('?q=nothing-matches-this')).courses).toEqual([]);
    expect((await catalog('?q=draft')).courses).toEqual([]);
  });

  it('filters by level, tag, language and instructor', async () => {
    expect((await catalog('?level=advanced')).courses.map((c) => c.title)).toEqual([
      'Soroban smart contracts',
    ]);
    expect((await catalog('?tag=rust')).courses.map((c) => c.title)).toEqual([
      'Rust for beginners',
      'Soroban smart contracts',
    ]);
    expect((await catalog('?language=es')).courses.map((c) => c.title)).toEqual(['Stellar payments']);
    expect((await catalog(`?instructor=${other.userId}`)).courses.map((c) => c.title)).toEqual([
      'Rust for beginners',
    ]);
    expect(
      (await catalog(`?tag=rust&q=soroban&instructor=${owner.userId}`)).courses.map((c) => c.title),
    ).toEqual(['Soroban smart contracts']);
  });

  it('pages with opaque cursors, without gaps or repeats, for listing and for search', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const p: Page = await catalog(`?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...p.courses.map((c) => c.title));
      cursor = p.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['Rust for beginners', 'Stellar payments', 'Soroban smart contracts']);

    const first = await catalog('?q=soroban&limit=1');
    expect(first.courses.map((c) => c.title)).toEqual(['Soroban smart contracts']);
    const second = await catalog(`?q=soroban&limit=1&cursor=${first.next_cursor}`);
    expect(second.courses.map((c) => c.title)).toEqual(['Rust for beginners']);
    expect(second.next_cursor).toBeNull();
  });

  it('pages exactly through rows that share a millisecond (cursors keep microseconds)', async () => {
    const o = await actor(t, 'instructor');
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await buildCourse(t, o, { title: `Same ms ${i}` })).id);
    // Three publication times within one millisecond (.123005, .123015, .123025): JS Dates cannot tell them apart.
    for (const [i, id] of ids.entries()) {
      await t.ctx.db
        .updateTable('courses')
        .set({ published_at: sql<Date>`${`2030-01-01T00:00:00.1230${i}5Z`}::timestamptz` })
        .where('id', '=', id)
        .execute();
    }
    await t.app.services.catalog.invalidate();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const p: Page = await catalog(`?instructor=${o.userId}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...p.courses.map((c) => c.id));
      cursor = p.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it.each([
    ['?cursor=garbage', 'cursor'],
    [`?cursor=${Buffer.from('["2020-01-01T00:00:00Z","x"]').toString('base64url')}`, 'cursor'],
    [
      `?q=rust&cursor=${Buffer.from('["2020-01-01T00:00:00.000Z","00000000-0000-0000-0000-000000000000"]').toString('base64url')}`,
      'cursor',
    ],
    ['?level=expert', 'level'],
    ['?limit=0', 'limit'],
    ['?instructor=bob', 'instructor'],
    ['?sort=price', 'sort'],
  ])('answers %s with a 400 problem naming %s', async (qs, field) => {
    const r = await t.app.inject({ method: 'GET', url: `/v1/catalog${qs}` });
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.json().field).toBe(field);
  });

  it('serves repeated queries from Redis and shows every change to a course, lesson or module at once', async () => {
    const c = await buildCourse(t, owner, { title: 'Cached course', summary: 'cachetest' });
    expect((await catalog('?q=cachetest')).courses.map((x) => x.title)).toEqual(['Cached course']);
    const keys = await t.ctx.redis!.keys(`${t.ctx.redis!.options.keyPrefix}catalog:*`);
    expect(keys.length).toBeGreaterThan(0);

    // A change made behind the API's back is not seen: the page really comes from the cache …
    await t.ctx.db
      .updateTable('courses')
      .set({ title: 'Changed behind the cache' })
      .where('id', '=', c.id)
      .execute();
    expect((await catalog('?q=cachetest')).courses.map((x) => x.title)).toEqual(['Cached course']);
    // … and any change through the API invalidates it.
    const r = await t.app.inject({
      method: 'PATCH',
      url: `/v1/courses/${c.id}`,
      headers: owner.headers,
      payload: { title: 'Renamed course' },
    });
    expect(r.statusCode).toBe(200);
    expect((await catalog('?q=cachetest')).courses.map((x) => x.title)).toEqual(['Renamed course']);

    const page = async () => (await t.app.inject({ method: 'GET', url: `/v1/courses/${c.slug}` })).json();
    expect((await page()).syllabus[0].lessons[0].title).toBe('Lesson 1.1');
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/lessons/${c.lessons[0]}`,
      headers: owner.headers,
      payload: { title: 'Lesson renamed' },
    });
    expect((await page()).syllabus[0].lessons[0].title).toBe('Lesson renamed');
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/modules/${c.modules[0]!.id}`,
      headers: owner.headers,
      payload: { title: 'Module renamed' },
    });
    expect((await page()).syllabus[0].title).toBe('Module renamed');
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/courses/${c.id}`,
      headers: owner.headers,
      payload: { status: 'archived' },
    });
    expect((await catalog('?q=cachetest')).courses).toEqual([]);
    expect((await t.app.inject({ method: 'GET', url: `/v1/courses/${c.slug}` })).statusCode).toBe(404);
  });

  it('shows an instructor’s new display name at once in the catalog and on the course page', async () => {
    const teacher = await actor(t, 'instructor', 'Ada Teacher');
    const c = await buildCourse(t, teacher, { title: 'Renaming course', summary: 'renametest' });
    const name = async () => ({
      listed: (await catalog('?q=renametest')).courses[0]?.instructor.display_name,
      page: (await t.app.inject({ method: 'GET', url: `/v1/courses/${c.slug}` })).json().instructor
        .display_name,
    });
    expect(await name()).toEqual({ listed: 'Ada Teacher', page: 'Ada Teacher' });
    const r = await t.app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: teacher.headers,
      payload: { display_name: 'Ada Lovelace' },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(await name()).toEqual({ listed: 'Ada Lovelace', page: 'Ada Lovelace' });
  });

  it('does not drop the catalog cache when someone who teaches nothing renames themselves', async () => {
    const learner = await actor(t, 'learner', 'Quiet Learner');
    const gen = async () => Number((await t.ctx.redis!.get('catalog:gen')) ?? 0);
    const before = await gen();
    const r = await t.app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: learner.headers,
      payload: { display_name: 'Still Quiet' },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(await gen()).toBe(before);
  });

  it('keeps a second API instance right: its in-memory copy goes when another instance changes the course', async () => {
    // A second app on the same database and the same Redis namespace, as another replica would be.
    const redis = createRedis(redisTestUrl(), t.ctx.log, t.ctx.redis!.options.keyPrefix);
    const other = await buildApp({
      config: t.config,
      context: { ...t.ctx, redis },
      logger: pino({ level: 'silent' }),
    });
    await other.ready();
    try {
      const c = await buildCourse(t, owner, { title: 'Replicated course', summary: 'replicatest' });
      const seen = async () =>
        (await other.inject({ method: 'GET', url: `/v1/courses/${c.slug}` })).json().title;
      // Wait until the replica has subscribed and caught up with the last invalidation (a message
      // in flight is the few-millisecond window replicas may lag), then let it cache the page.
      const gen = async () => (await t.ctx.redis!.get('catalog:gen')) ?? '0';
      await expect
        .poll(
          async () => (
            await seen(),
            (await t.ctx.redis!.keys(`${t.ctx.redis!.options.keyPrefix}catalog:${await gen()}:course:*`))
              .length
          ),
          { timeout: 5000 },
        )
        .toBeGreaterThan(0);
      expect(await seen()).toBe('Replicated course');
      // Only the replica's memory holds the page now: Redis entries gone, database changed behind it.
      const prefix = t.ctx.redis!.options.keyPrefix!;
      const keys = await t.ctx.redis!.keys(`${prefix}catalog:*:course:*`);
      await t.ctx.redis!.del(...keys.map((k) => k.slice(prefix.length)));
      await t.ctx.db
        .updateTable('courses')
        .set({ title: 'Changed behind both caches' })
        .where('id', '=', c.id)
        .execute();
      expect(await seen()).toBe('Replicated course');
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/courses/${c.id}`,
        headers: owner.headers,
        payload: { title: 'Renamed on instance A' },
      });
      await expect.poll(seen, { timeout: 2000, interval: 10 }).toBe('Renamed on instance A');
    } finally {
      await other.close();
      redis.disconnect();
    }
  });

  it('works without Redis', async () => {
    const o = await actor(noRedis, 'instructor');
    await buildCourse(noRedis, o, { title: 'No cache here' });
    expect((await catalog('', noRedis)).courses.map((c) => c.title)).toEqual(['No cache here']);
    expect((await catalog('?q=cache', noRedis)).courses).toHaveLength(1);
  });

  it('falls back to the database when Redis fails mid-flight', async () => {
    const broken = await buildTestApp({ env: { ...MANY_USERS, REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const o = await actor(broken, 'instructor');
      await buildCourse(broken, o, { title: 'Redis is down' });
      expect((await catalog('', broken)).courses.map((c) => c.title)).toEqual(['Redis is down']);
    } finally {
      await broken.close();
    }
  });

  it('lists every course, catalog, enrolment, review and forum route in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const expected: Record<string, string[]> = {
      '/v1/catalog': ['get'],
      '/v1/courses': ['post'],
      '/v1/courses/{id}': ['get', 'patch'],
      '/v1/courses/{id}/modules': ['post'],
      '/v1/courses/{id}/modules/order': ['put'],
      '/v1/modules/{id}': ['patch', 'delete'],
      '/v1/modules/{id}/prerequisites': ['put'],
      '/v1/modules/{id}/lessons': ['post'],
      '/v1/modules/{id}/lessons/order': ['put'],
      '/v1/lessons/{id}': ['get', 'patch', 'delete'],
      '/v1/me/teaching': ['get'],
      '/v1/courses/{id}/enrolment': ['post', 'delete'],
      '/v1/me/enrolments': ['get'],
      '/v1/me/enrolments/{courseId}': ['get'],
      '/v1/me/enrolments/{courseId}/resume': ['get'],
      '/v1/courses/{id}/reviews': ['get', 'post'],
      '/v1/reviews/{id}': ['get', 'patch', 'delete'],
      '/v1/reviews/{id}/flags': ['post'],
      '/v1/reviews/{id}/hidden': ['put'],
      '/v1/moderation/reviews': ['get'],
      '/v1/courses/{id}/threads': ['get', 'post'],
      '/v1/threads/{id}': ['get', 'patch', 'delete'],
      '/v1/threads/{id}/pin': ['put'],
      '/v1/threads/{id}/answer': ['put'],
      '/v1/threads/{id}/posts': ['get', 'post'],
      '/v1/posts/{id}': ['patch', 'delete'],
    };
    for (const [path, methods] of Object.entries(expected)) {
      expect(doc.paths, path).toHaveProperty([path]);
      for (const m of methods) {
        expect(doc.paths[path], `${m} ${path}`).toHaveProperty([m]);
        expect(Object.keys(doc.paths[path][m].responses), `${m} ${path}`).toEqual(
          expect.arrayContaining(['4XX']),
        );
      }
    }
    expect(doc.paths['/v1/catalog'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['q', 'level', 'tag', 'language', 'instructor', 'cursor', 'limit']),
    );
  });
});
