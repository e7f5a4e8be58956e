import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../test/harness.ts';
import {
  actor,
  buildCourse,
  completeLessons,
  countTable,
  type Actor,
  type BuiltCourse,
} from '../test/courses.ts';
import { MANY_USERS } from '../test/courses.ts';

let t: TestApp;
let owner: Actor;
let admin: Actor;
beforeAll(async () => {
  t = await buildTestApp({ env: MANY_USERS });
  owner = await actor(t, 'instructor');
  admin = await actor(t, 'admin');
});
afterAll(async () => t.close());

const post = (c: string, who: Actor, payload: unknown) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/courses/${c}/reviews`,
    headers: who.headers,
    payload: payload as object,
  });
const patch = (id: string, who: Actor, payload: unknown) =>
  t.app.inject({
    method: 'PATCH',
    url: `/v1/reviews/${id}`,
    headers: who.headers,
    payload: payload as object,
  });
const courseRow = (id: string) =>
  t.ctx.db
    .selectFrom('courses')
    .select(['rating_sum', 'rating_count'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

/** A learner who completed `n` lessons of the course. */
async function learnerWith(c: BuiltCourse, n: number): Promise<Actor> {
  const a = await actor(t);
  await t.ctx.db.insertInto('enrolments').values({ user_id: a.userId, course_id: c.id }).execute();
  await completeLessons(t, a.userId, c.id, c.lessons.slice(0, n));
  return a;
}

describe('writing reviews', () => {
  it('needs at least half of the course completed', async () => {
    const c = await buildCourse(t, owner, { shape: [4] });
    const early = await learnerWith(c, 1);
    const before = await countTable(t, 'course_reviews');
    const r = await post(c.id, early, { rating: 5, body: 'Great' });
    expect(r.statusCode).toBe(403);
    expect(r.json().code).toBe('review_too_early');
    expect(await countTable(t, 'course_reviews')).toBe(before);
    expect(await courseRow(c.id)).toEqual({ rating_sum: 0, rating_count: 0 });

    await completeLessons(t, early.userId, c.id, [c.lessons[1]!]);
    const ok = await post(c.id, early, { rating: 4, body: 'Halfway and already useful' });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({
      course_id: c.id,
      rating: 4,
      author: { id: early.userId },
      edited: false,
    });
  });

  it('allows one review per learner per course (409 the second time, totals unchanged)', async () => {
    const c = await buildCourse(t, owner, { shape: [2] });
    const a = await learnerWith(c, 2);
    expect((await post(c.id, a, { rating: 3 })).statusCode).toBe(201);
    const again = await post(c.id, a, { rating: 1 });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('review_exists');
    expect(await courseRow(c.id)).toEqual({ rating_sum: 3, rating_count: 1 });
  });

  it.each([
    [{ rating: 0 }, 'rating'],
    [{ rating: 6 }, 'rating'],
    [{ rating: 4.5 }, 'rating'],
    [{ rating: '5' }, 'rating'],
    [{ body: 'no stars' }, 'rating'],
    [{ rating: 5, body: 'x'.repeat(5001) }, 'body'],
    [{ rating: 5, course_id: 'x' }, 'course_id'],
  ])('rejects a bad review body (case %#) naming %s, writing nothing', async (payload, field) => {
    const c = await buildCourse(t, owner, { shape: [1] });
    const a = await learnerWith(c, 1);
    const r = await post(c.id, a, payload);
    expect(r.statusCode).toBe(400);
    expect(r.json().field).toBe(field);
    expect(await courseRow(c.id)).toEqual({ rating_sum: 0, rating_count: 0 });
  });

  it('refuses instructors on their own course, drafts, and anonymous callers', async () => {
    const c = await buildCourse(t, owner, { shape: [1] });
    await completeLessons(t, owner.userId, c.id, c.lessons);
    expect((await post(c.id, owner, { rating: 5 })).json().code).toBe('own_course');
    const draft = await buildCourse(t, owner, { shape: [1], publish: false });
    const a = await learnerWith(draft, 1);
    expect((await post(draft.id, a, { rating: 5 })).statusCode).toBe(404);
    expect(
      (await t.app.inject({ method: 'POST', url: `/v1/courses/${c.id}/reviews`, payload: { rating: 5 } }))
        .statusCode,
    ).toBe(401);
  });
});

describe('rating math', () => {
  it('keeps the average and count right through create, edit, hide, restore and delete', async () => {
    const c = await buildCourse(t, owner, { shape: [2] });
    const [a, b, d] = [await learnerWith(c, 1), await learnerWith(c, 2), await learnerWith(c, 1)];
    const ra = (await post(c.id, a, { rating: 5 })).json();
    const rb = (await post(c.id, b, { rating: 2 })).json();
    const rd = (await post(c.id, d, { rating: 4 })).json();
    const rating = async () =>
      (await t.app.inject({ method: 'GET', url: `/v1/courses/${c.id}` })).json().rating;
    expect(await rating()).toEqual({ average: 3.67, count: 3 });
    expect((await t.app.inject({ method: 'GET', url: `/v1/courses/${c.id}/reviews` })).json().rating).toEqual(
      { average: 3.67, count: 3 },
    );

    const edited = await patch(rb.id, b, { rating: 5, body: 'Changed my mind' });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({ rating: 5, body: 'Changed my mind', edited: true });
    expect(await rating()).toEqual({ average: 4.67, count: 3 });

    const hide = await t.app.inject({
      method: 'PUT',
      url: `/v1/reviews/${rd.id}/hidden`,
      headers: admin.headers,
      payload: { hidden: true },
    });
    expect(hide.json()).toMatchObject({ hidden: true });
    expect(await rating()).toEqual({ average: 5, count: 2 });
    // Hiding twice changes nothing.
    await t.app.inject({
      method: 'PUT',
      url: `/v1/reviews/${rd.id}/hidden`,
      headers: admin.headers,
      payload: { hidden: true },
    });
    expect(await courseRow(c.id)).toEqual({ rating_sum: 10, rating_count: 2 });
    // A hidden review is gone for everyone but its author and moderators.
    expect((await t.app.inject({ method: 'GET', url: `/v1/reviews/${rd.id}` })).statusCode).toBe(404);
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/reviews/${rd.id}`, headers: a.headers })).statusCode,
    ).toBe(404);
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/reviews/${rd.id}`, headers: d.headers })).statusCode,
    ).toBe(200);
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/reviews/${rd.id}`, headers: admin.headers })).statusCode,
    ).toBe(200);
    const list = (await t.app.inject({ method: 'GET', url: `/v1/courses/${c.id}/reviews` })).json();
    expect(list.reviews.map((r: { id: string }) => r.id).sort()).toEqual([ra.id, rb.id].sort());
    await t.app.inject({
      method: 'PUT',
      url: `/v1/reviews/${rd.id}/hidden`,
      headers: admin.headers,
      payload: { hidden: false },
    });
    expect(await rating()).toEqual({ average: 4.67, count: 3 });

    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/reviews/${ra.id}`, headers: a.headers })).statusCode,
    ).toBe(204);
    expect(await rating()).toEqual({ average: 4.5, count: 2 });
    // The catalog (cached) shows the new rating at once.
    const cat = (
      await t.app.inject({ method: 'GET', url: `/v1/catalog?instructor=${owner.userId}&limit=100` })
    ).json();
    expect(cat.courses.find((x: { id: string }) => x.id === c.id).rating).toEqual({ average: 4.5, count: 2 });
  });

  it('stays exact under concurrent reviews', async () => {
    const c = await buildCourse(t, owner, { shape: [1] });
    const learners = await Promise.all(Array.from({ length: 8 }, () => learnerWith(c, 1)));
    const results = await Promise.all(learners.map((l, i) => post(c.id, l, { rating: (i % 5) + 1 })));
    expect(results.every((r) => r.statusCode === 201)).toBe(true);
    const sum = learners.reduce((s, _l, i) => s + (i % 5) + 1, 0);
    expect(await courseRow(c.id)).toEqual({ rating_sum: sum, rating_count: 8 });
  });
});

describe('editing, deleting and access', () => {
  it('lets only the author edit (others 404, nothing changes), and validates edits', async () => {
    const c = await buildCourse(t, owner, { shape: [1] });
    const a = await learnerWith(c, 1);
    const b = await learnerWith(c, 1);
    const created = await post(c.id, a, { rating: 4, body: 'Mine' });
    expect(created.statusCode, created.body).toBe(201);
    const r = created.json();
    for (const who of [b, owner, admin]) expect((await patch(r.id, who, { rating: 1 })).statusCode).toBe(404);
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/reviews/${r.id}`, headers: b.headers })).statusCode,
    ).toBe(404);
    expect((await patch(r.id, a, {})).statusCode).toBe(400);
    expect((await patch(r.id, a, { rating: 9 })).json().field).toBe('rating');
    expect((await patch(r.id, a, { hidden: true })).json().field).toBe('hidden');
    expect((await t.app.inject({ method: 'GET', url: `/v1/reviews/${r.id}` })).json()).toMatchObject({
      rating: 4,
      body: 'Mine',
    });
    expect(await courseRow(c.id)).toEqual({ rating_sum: 4, rating_count: 1 });
    // Moderators delete any review.
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/reviews/${r.id}`, headers: admin.headers }))
        .statusCode,
    ).toBe(204);
    expect(await courseRow(c.id)).toEqual({ rating_sum: 0, rating_count: 0 });
  });

  it('reserves hiding and the flagged queue for admins', async () => {
    const c = await buildCourse(t, owner, { shape: [1] });
    const a = await learnerWith(c, 1);
    const r = (await post(c.id, a, { rating: 4 })).json();
    for (const who of [a, owner]) {
      expect(
        (
          await t.app.inject({
            method: 'PUT',
            url: `/v1/reviews/${r.id}/hidden`,
            headers: who.headers,
            payload: { hidden: true },
          })
        ).statusCode,
      ).toBe(403);
      expect(
        (await t.app.inject({ method: 'GET', url: '/v1/moderation/reviews', headers: who.headers }))
          .statusCode,
      ).toBe(403);
    }
    expect(await courseRow(c.id)).toEqual({ rating_sum: 4, rating_count: 1 });
  });

  it('hides reviews of drafts and archived courses from the public', async () => {
    const c = await buildCourse(t, owner, { shape: [1] });
    const a = await learnerWith(c, 1);
    const r = (await post(c.id, a, { rating: 4 })).json();
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/courses/${c.id}`,
      headers: owner.headers,
      payload: { status: 'archived' },
    });
    expect((await t.app.inject({ method: 'GET', url: `/v1/courses/${c.id}/reviews` })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/v1/reviews/${r.id}` })).statusCode).toBe(404);
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/courses/${c.id}/reviews`, headers: owner.headers }))
        .statusCode,
    ).toBe(200);
  });
});

describe('my review', () => {
  const mine = (c: string, who?: Actor) =>
    t.app.inject({ method: 'GET', url: `/v1/courses/${c}/reviews/mine`, headers: who?.headers });

  it('says how far a learner is from reviewing, then returns their review, hidden ones too', async () => {
    const c = await buildCourse(t, owner, { shape: [4] });
    const a = await learnerWith(c, 1);
    expect((await mine(c.id, a)).json()).toEqual({
      review: null,
      can_review: false,
      completed_lessons: 1,
      lessons_needed: 2,
    });
    await completeLessons(t, a.userId, c.id, [c.lessons[1]!]);
    expect((await mine(c.id, a)).json()).toMatchObject({ review: null, can_review: true });

    const r = (await post(c.id, a, { rating: 3, body: 'Fine' })).json();
    await patch(r.id, a, { rating: 5, body: 'Better after the second half' });
    expect((await mine(c.id, a)).json()).toMatchObject({
      review: { id: r.id, rating: 5, body: 'Better after the second half', edited: true, hidden: false },
      can_review: false,
    });
    await t.app.inject({
      method: 'PUT',
      url: `/v1/reviews/${r.id}/hidden`,
      headers: admin.headers,
      payload: { hidden: true },
    });
    expect((await mine(c.id, a)).json().review).toMatchObject({ id: r.id, hidden: true });
    // Someone else's review is never "mine".
    const b = await learnerWith(c, 2);
    expect((await mine(c.id, b)).json()).toMatchObject({ review: null, can_review: true });
  });

  it('needs a signed-in caller and a visible course; instructors may not review their own', async () => {
    const c = await buildCourse(t, owner, { shape: [1] });
    expect((await mine(c.id)).statusCode).toBe(401);
    await completeLessons(t, owner.userId, c.id, c.lessons);
    expect((await mine(c.id, owner)).json()).toMatchObject({ review: null, can_review: false });
    const draft = await buildCourse(t, owner, { shape: [1], publish: false });
    const a = await learnerWith(c, 1);
    expect((await mine(draft.id, a)).statusCode).toBe(404);
  });
});

describe('flags', () => {
  it('lets a user flag a review once, not their own, and queues it for moderators', async () => {
    const c = await buildCourse(t, owner, { shape: [1] });
    const a = await learnerWith(c, 1);
    const b = await learnerWith(c, 1);
    const r = (await post(c.id, a, { rating: 1, body: 'spam spam' })).json();
    const flag = (who: Actor, payload: unknown = { reason: 'Spam' }) =>
      t.app.inject({
        method: 'POST',
        url: `/v1/reviews/${r.id}/flags`,
        headers: who.headers,
        payload: payload as object,
      });
    expect((await flag(b)).statusCode).toBe(201);
    const twice = await flag(b);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('already_flagged');
    expect((await flag(a)).json().code).toBe('own_review');
    expect((await flag(owner, { reason: '' })).json()).toMatchObject({ status: 400, field: 'reason' });
    expect((await flag(owner, {})).json()).toMatchObject({ status: 400, field: 'reason' });
    expect((await flag(owner)).statusCode).toBe(201);
    const row = await t.ctx.db
      .selectFrom('course_reviews')
      .select('flag_count')
      .where('id', '=', r.id)
      .executeTakeFirstOrThrow();
    expect(row.flag_count).toBe(2);
    expect(
      await t.ctx.db.selectFrom('review_flags').selectAll().where('review_id', '=', r.id).execute(),
    ).toHaveLength(2);
    const queue = (
      await t.app.inject({ method: 'GET', url: '/v1/moderation/reviews', headers: admin.headers })
    ).json();
    expect(queue.reviews.find((x: { id: string }) => x.id === r.id)).toMatchObject({
      flag_count: 2,
      hidden: false,
    });
  });
});

describe('rate limits', () => {
  it('limits review writes per user (20 a minute), not per IP', async () => {
    const c = await buildCourse(t, owner, { shape: [1] });
    const a = await learnerWith(c, 1);
    const b = await learnerWith(c, 1);
    const ra = (await post(c.id, a, { rating: 3 })).json();
    const rb = (await post(c.id, b, { rating: 3 })).json();
    const codes: number[] = [];
    for (let i = 0; i < 21; i += 1) codes.push((await patch(ra.id, a, { body: `edit ${i}` })).statusCode);
    expect(codes.slice(0, 20).every((s) => s === 200)).toBe(true);
    const limited = await patch(ra.id, a, { body: 'one more' });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('rate_limited');
    expect(limited.headers).toHaveProperty('ratelimit-limit');
    expect((await t.app.inject({ method: 'GET', url: `/v1/reviews/${ra.id}` })).json().body).toBe('edit 19');
    // Same IP, another user: unaffected.
    expect((await patch(rb.id, b, { body: 'mine' })).statusCode).toBe(200);
  });
});
