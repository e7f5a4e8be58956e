import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../test/harness.ts';
import { actor, buildCourse, completeLessons, countTable, type Actor } from '../test/courses.ts';
import { MANY_USERS } from '../test/courses.ts';
import { AppError } from '../errors.ts';
import { assertLessonOpen, computeLessonStates } from './access.ts';

let t: TestApp;
let owner: Actor;
let learner: Actor;
let other: Actor;
beforeAll(async () => {
  t = await buildTestApp({ env: MANY_USERS });
  owner = await actor(t, 'instructor');
  learner = await actor(t);
  other = await actor(t);
});
afterAll(async () => t.close());

const enrol = (courseId: string, who: Actor, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/courses/${courseId}/enrolment`,
    headers: { ...who.headers, ...headers },
  });
const get = (url: string, who: Actor) => t.app.inject({ method: 'GET', url, headers: who.headers });

async function lockError(userId: string, lessonId: string): Promise<AppError | null> {
  try {
    await assertLessonOpen(t.ctx.db, userId, lessonId);
    return null;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
}

describe('enrolling', () => {
  it('enrols once: 201, then 200 with the same enrolment, one row, one audit entry and one notification', async () => {
    const c = await buildCourse(t, owner);
    const first = await enrol(c.id, learner);
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      course: { id: c.id, slug: c.slug },
      status: 'active',
      percent: 0,
      completed_lessons: 0,
      total_lessons: 2,
    });
    const second = await enrol(c.id, learner);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual(first.json());
    expect(
      await t.ctx.db.selectFrom('enrolments').selectAll().where('course_id', '=', c.id).execute(),
    ).toHaveLength(1);
    const audit = await t.ctx.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', c.id)
      .where('action', 'like', 'enrolment.%')
      .execute();
    expect(audit).toEqual([{ action: 'enrolment.created' }]);
    const notes = await t.ctx.db
      .selectFrom('notifications')
      .selectAll()
      .where('user_id', '=', learner.userId)
      .where('kind', '=', 'enrolment')
      .execute();
    expect(notes.filter((n) => (n.data as { course_id: string }).course_id === c.id)).toHaveLength(1);
  });

  it('enrols once when two requests race: one 201, one 200, one row, one notification', async () => {
    const c = await buildCourse(t, owner);
    const racer = await actor(t);
    const codes = (await Promise.all([enrol(c.id, racer), enrol(c.id, racer), enrol(c.id, racer)]))
      .map((r) => r.statusCode)
      .sort();
    expect(codes).toEqual([200, 200, 201]);
    expect(
      await t.ctx.db.selectFrom('enrolments').selectAll().where('course_id', '=', c.id).execute(),
    ).toHaveLength(1);
    const notes = await t.ctx.db
      .selectFrom('notifications')
      .select('id')
      .where('user_id', '=', racer.userId)
      .where('kind', '=', 'enrolment')
      .execute();
    expect(notes).toHaveLength(1);
  });

  it('replays an Idempotency-Key', async () => {
    const c = await buildCourse(t, owner);
    const a = await enrol(c.id, learner, { 'idempotency-key': 'enrol-1' });
    const b = await enrol(c.id, learner, { 'idempotency-key': 'enrol-1' });
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(b.headers['idempotent-replayed']).toBe('true');
  });

  it('takes published courses only; drafts are invisible (404) and archived ones hidden too', async () => {
    const draft = await buildCourse(t, owner, { publish: false });
    const archived = await buildCourse(t, owner);
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/courses/${archived.id}`,
      headers: owner.headers,
      payload: { status: 'archived' },
    });
    const before = await countTable(t, 'enrolments');
    expect((await enrol(draft.id, learner)).statusCode).toBe(404);
    expect((await enrol(archived.id, learner)).statusCode).toBe(404);
    const staff = await enrol(draft.id, owner);
    expect(staff.statusCode).toBe(409);
    expect(staff.json().code).toBe('course_not_open');
    expect((await enrol('00000000-0000-4000-8000-000000000000', learner)).statusCode).toBe(404);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/courses/not-a-uuid/enrolment',
          headers: learner.headers,
        })
      ).statusCode,
    ).toBe(400);
    expect(
      (await t.app.inject({ method: 'POST', url: `/v1/courses/${draft.id}/enrolment` })).statusCode,
    ).toBe(401);
    expect(await countTable(t, 'enrolments')).toBe(before);
  });

  it('unenrols, keeps progress, and reactivates on enrolling again', async () => {
    const c = await buildCourse(t, owner, { shape: [2] });
    await enrol(c.id, other);
    await completeLessons(t, other.userId, c.id, [c.lessons[0]!]);
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/courses/${c.id}/enrolment`, headers: other.headers }))
        .statusCode,
    ).toBe(204);
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/courses/${c.id}/enrolment`, headers: other.headers }))
        .statusCode,
    ).toBe(404);
    const active = (await get('/v1/me/enrolments?limit=100', other)).json();
    expect(active.enrolments.map((e: { course: { id: string } }) => e.course.id)).not.toContain(c.id);
    const left = (await get('/v1/me/enrolments?status=unenrolled', other)).json();
    expect(left.enrolments.map((e: { course: { id: string } }) => e.course.id)).toContain(c.id);
    expect(await lockError(other.userId, c.lessons[1]!)).toMatchObject({ code: 'not_enrolled' });
    const again = await enrol(c.id, other);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'active', unenrolled_at: null, completed_lessons: 1 });
  });
});

describe('my enrolments', () => {
  it('lists only my own, with progress and the lesson to resume, paged by cursor', async () => {
    const me = await actor(t);
    const a = await buildCourse(t, owner, { shape: [2, 2] });
    const b = await buildCourse(t, owner, { shape: [1] });
    await enrol(a.id, me);
    await enrol(b.id, me);
    await enrol(a.id, other);
    await completeLessons(t, me.userId, a.id, [a.lessons[0]!, a.lessons[1]!]);
    await t.ctx.db
      .updateTable('enrolments')
      .set({ percent: 50, last_activity_at: new Date(Date.now() + 1000) })
      .where('user_id', '=', me.userId)
      .where('course_id', '=', a.id)
      .execute();

    const page1 = (await get('/v1/me/enrolments?limit=1', me)).json();
    expect(page1.enrolments).toHaveLength(1);
    expect(page1.enrolments[0]).toMatchObject({
      course: { id: a.id },
      percent: 50,
      completed_lessons: 2,
      total_lessons: 4,
      resume: { id: a.lessons[2], module_id: a.modules[1]!.id, title: 'Lesson 2.1' },
    });
    const page2 = (await get(`/v1/me/enrolments?limit=1&cursor=${page1.next_cursor}`, me)).json();
    expect(page2.enrolments.map((e: { course: { id: string } }) => e.course.id)).toEqual([b.id]);
    expect(page2.next_cursor).toBeNull();
    expect((await get('/v1/me/enrolments?cursor=zzz', me)).json()).toMatchObject({
      status: 400,
      code: 'invalid_cursor',
    });
    expect((await get('/v1/me/enrolments?status=gone', me)).json()).toMatchObject({
      status: 400,
      field: 'status',
    });
    expect((await t.app.inject({ method: 'GET', url: '/v1/me/enrolments' })).statusCode).toBe(401);
  });

  it('shows my enrolment detail and resume point only to me', async () => {
    const me = await actor(t);
    const c = await buildCourse(t, owner, { shape: [3] });
    await enrol(c.id, me);
    await completeLessons(t, me.userId, c.id, [c.lessons[0]!]);
    const detail = (await get(`/v1/me/enrolments/${c.id}`, me)).json();
    expect(detail.lessons.map((l: { completed: boolean }) => l.completed)).toEqual([true, false, false]);
    expect((await get(`/v1/me/enrolments/${c.id}/resume`, me)).json()).toEqual({
      course_id: c.id,
      completed: false,
      lesson: { id: c.lessons[1], module_id: c.modules[0]!.id, title: 'Lesson 1.2' },
    });
    // Someone else has no enrolment there: 404, not my data.
    expect((await get(`/v1/me/enrolments/${c.id}`, other)).statusCode).toBe(404);
    expect((await get(`/v1/me/enrolments/${c.id}/resume`, other)).statusCode).toBe(404);
    await completeLessons(t, me.userId, c.id, c.lessons);
    expect((await get(`/v1/me/enrolments/${c.id}/resume`, me)).json()).toEqual({
      course_id: c.id,
      completed: true,
      lesson: null,
    });
  });
});

describe('lesson access (sequential mode and prerequisites)', () => {
  it('opens lessons in order in a sequential course', async () => {
    const me = await actor(t);
    const c = await buildCourse(t, owner, { shape: [2, 1], sequential: true });
    await enrol(c.id, me);
    const [l1, l2, l3] = c.lessons as [string, string, string];
    expect(await lockError(me.userId, l1)).toBeNull();
    const locked = await lockError(me.userId, l2);
    expect(locked).toMatchObject({
      status: 403,
      code: 'lesson_locked',
      extras: { locked_by: { reason: 'sequential', lesson_id: l1 } },
    });
    await completeLessons(t, me.userId, c.id, [l1]);
    expect(await lockError(me.userId, l2)).toBeNull();
    expect(await lockError(me.userId, l3)).toMatchObject({ code: 'lesson_locked' });
    // Completed lessons stay open (completing again is the caller's no-op).
    expect(await lockError(me.userId, l1)).toBeNull();
    const detail = (await get(`/v1/me/enrolments/${c.id}`, me)).json();
    expect(detail.lessons.map((l: { open: boolean }) => l.open)).toEqual([true, true, false]);
  });

  it('leaves a non-sequential course open in any order', async () => {
    const me = await actor(t);
    const c = await buildCourse(t, owner, { shape: [3] });
    await enrol(c.id, me);
    expect(await lockError(me.userId, c.lessons[2]!)).toBeNull();
  });

  it('locks a module until the modules it requires are complete', async () => {
    const me = await actor(t);
    const c = await buildCourse(t, owner, { shape: [2, 1, 1] });
    const [m1, m2, m3] = c.modules as [BuiltModule, BuiltModule, BuiltModule];
    await t.app.inject({
      method: 'PUT',
      url: `/v1/modules/${m3.id}/prerequisites`,
      headers: owner.headers,
      payload: { module_ids: [m1.id] },
    });
    await enrol(c.id, me);
    expect(await lockError(me.userId, m2.lessons[0]!)).toBeNull();
    expect(await lockError(me.userId, m3.lessons[0]!)).toMatchObject({
      code: 'lesson_locked',
      extras: { locked_by: { reason: 'prerequisites', module_ids: [m1.id] } },
    });
    await completeLessons(t, me.userId, c.id, [m1.lessons[0]!]);
    expect(await lockError(me.userId, m3.lessons[0]!)).toMatchObject({ code: 'lesson_locked' });
    await completeLessons(t, me.userId, c.id, [m1.lessons[1]!]);
    expect(await lockError(me.userId, m3.lessons[0]!)).toBeNull();
    // Resume skips locked lessons: the first open, incomplete one.
    const me2 = await actor(t);
    await enrol(c.id, me2);
    await completeLessons(t, me2.userId, c.id, [m1.lessons[0]!, m1.lessons[1]!, m2.lessons[0]!]);
    expect((await get(`/v1/me/enrolments/${c.id}/resume`, me2)).json().lesson.id).toBe(m3.lessons[0]);
  });

  it('hides drafts (404) and needs an active enrolment (403)', async () => {
    const me = await actor(t);
    const draft = await buildCourse(t, owner, { publish: false });
    expect(await lockError(me.userId, draft.lessons[0]!)).toMatchObject({
      status: 404,
      code: 'lesson_not_found',
    });
    const c = await buildCourse(t, owner);
    expect(await lockError(me.userId, c.lessons[0]!)).toMatchObject({ status: 403, code: 'not_enrolled' });
    expect(await lockError(me.userId, '00000000-0000-4000-8000-000000000000')).toMatchObject({ status: 404 });
  });

  it('computes states as a pure rule (empty modules count as complete)', () => {
    const lessons = [
      { id: 'a', module_id: 'm1' },
      { id: 'b', module_id: 'm3' },
    ];
    const s = computeLessonStates(lessons, [{ module_id: 'm3', requires_module_id: 'm2' }], new Set(), true);
    expect(s.get('b')).toEqual({
      completed: false,
      open: false,
      locked_by: { reason: 'sequential', lesson_id: 'a' },
    });
    const s2 = computeLessonStates(
      lessons,
      [{ module_id: 'm3', requires_module_id: 'm2' }],
      new Set(),
      false,
    );
    expect(s2.get('b')?.open).toBe(true);
  });
});

type BuiltModule = { id: string; lessons: string[] };
