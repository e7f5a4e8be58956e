import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actor, buildCourse, type Actor, type BuiltCourse } from '../test/courses.ts';
import { buildTestApp, type TestApp } from '../test/harness.ts';

let t: TestApp;
let teacher: Actor;
let course: BuiltCourse;
let ada: Actor;
let bob: Actor;

beforeAll(async () => {
  t = await buildTestApp();
  teacher = await actor(t, 'instructor', 'Tess Teacher');
  course = await buildCourse(t, teacher, { shape: [2, 2] });
  ada = await actor(t, 'learner', 'Ada');
  bob = await actor(t, 'learner', 'Bob');
  for (const learner of [ada, bob]) {
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/courses/${course.id}/enrolment`,
      headers: learner.headers,
    });
    expect(res.statusCode, res.body).toBe(201);
  }
  // Ada completes half the course through the real completion route.
  for (const lesson of course.lessons.slice(0, 2)) {
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/lessons/${lesson}/complete`,
      headers: ada.headers,
    });
    expect(res.statusCode, res.body).toBe(200);
  }
});
afterAll(async () => t.close());

describe('course roster', () => {
  it("shows the course's instructor every learner with progress, in enrolment order", async () => {
    const res = await t.app.inject({ url: `/v1/courses/${course.id}/roster`, headers: teacher.headers });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.total_lessons).toBe(4);
    expect(body.learners.map((l: { user: { display_name: string } }) => l.user.display_name)).toEqual([
      'Ada',
      'Bob',
    ]);
    expect(body.learners[0]).toMatchObject({
      percent: 50,
      completed_lessons: 2,
      total_lessons: 4,
      status: 'active',
      certificate_status: null,
    });
    expect(body.learners[1]).toMatchObject({ percent: 0, completed_lessons: 0 });
  });

  it('pages with a cursor without repeating or skipping anyone', async () => {
    const first = (
      await t.app.inject({ url: `/v1/courses/${course.id}/roster?limit=1`, headers: teacher.headers })
    ).json();
    expect(first.learners).toHaveLength(1);
    const second = (
      await t.app.inject({
        url: `/v1/courses/${course.id}/roster?limit=1&cursor=${first.next_cursor}`,
        headers: teacher.headers,
      })
    ).json();
    expect([first.learners[0].user.id, second.learners[0].user.id]).toEqual([ada.userId, bob.userId]);
    expect(second.next_cursor).toBeNull();
  });

  it('is hidden from other instructors (404) and closed to learners (403); admins see it', async () => {
    const other = await actor(t, 'instructor', 'Other Teacher');
    const hidden = await t.app.inject({ url: `/v1/courses/${course.id}/roster`, headers: other.headers });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().code).toBe('course_not_found');
    const learner = await t.app.inject({ url: `/v1/courses/${course.id}/roster`, headers: ada.headers });
    expect(learner.statusCode).toBe(403);
    const admin = await actor(t, 'admin', 'Root');
    expect(
      (await t.app.inject({ url: `/v1/courses/${course.id}/roster`, headers: admin.headers })).statusCode,
    ).toBe(200);
  });

  it('answers bad ids and cursors with a 400 naming the field', async () => {
    const badId = await t.app.inject({ url: '/v1/courses/nope/roster', headers: teacher.headers });
    expect(badId.json()).toMatchObject({ status: 400, field: 'id' });
    const badCursor = await t.app.inject({
      url: `/v1/courses/${course.id}/roster?cursor=zzz`,
      headers: teacher.headers,
    });
    expect(badCursor.json()).toMatchObject({ status: 400, code: 'invalid_cursor', field: 'cursor' });
  });
});
