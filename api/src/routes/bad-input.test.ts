// Bad input on the course, review, forum, enrolment, ops and credential routes: a 400 problem that
// names the field, and not one row changed anywhere (updates included, not only inserts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { loginAs, makeRole, registerUser, bearer, buildTestApp, type TestApp } from '../test/harness.ts';
import {
  actor,
  buildCourse,
  completeLessons,
  MANY_USERS,
  type Actor,
  type BuiltCourse,
} from '../test/courses.ts';

let t: TestApp;
let owner: Actor;
let learner: Actor;
let admin: Actor;
let operator: Record<string, string>;
let course: BuiltCourse;
let reviewId: string;
let threadId: string;

const TABLES = [
  'courses',
  'course_modules',
  'lessons',
  'module_prerequisites',
  'enrolments',
  'lesson_completions',
  'course_reviews',
  'review_flags',
  'forum_threads',
  'forum_posts',
  'intents',
  'certificates',
  'notifications',
  'audit_log',
] as const;

/** Every row of every table above, hashed: any insert, update or delete changes it. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLES) {
    const { rows } = await sql<{ h: string | null }>`
      SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM ${sql.table(table)} x`.execute(
      t.ctx.db,
    );
    out[table] = rows[0]!.h ?? '';
  }
  return out;
}

beforeAll(async () => {
  t = await buildTestApp({ env: MANY_USERS });
  owner = await actor(t, 'instructor', 'Grace Instructor');
  learner = await actor(t, 'learner', 'Ada Learner');
  admin = await actor(t, 'admin', 'Alan Admin');
  const op = await registerUser(t.app);
  await makeRole(t.ctx, op.userId, 'operator');
  operator = bearer(await loginAs(t.app, op.email));
  course = await buildCourse(t, owner, { shape: [2, 1] });
  const enrolled = await t.app.inject({
    method: 'POST',
    url: `/v1/courses/${course.id}/enrolment`,
    headers: learner.headers,
  });
  expect(enrolled.statusCode, enrolled.body).toBe(201);
  await completeLessons(t, learner.userId, course.id, course.lessons.slice(0, 2));
  const review = await t.app.inject({
    method: 'POST',
    url: `/v1/courses/${course.id}/reviews`,
    headers: learner.headers,
    payload: { rating: 5, body: 'Clear and thorough' },
  });
  expect(review.statusCode, review.body).toBe(201);
  reviewId = review.json().id;
  const thread = await t.app.inject({
    method: 'POST',
    url: `/v1/courses/${course.id}/threads`,
    headers: learner.headers,
    payload: { title: 'A question', body: 'How do I deploy?' },
  });
  expect(thread.statusCode, thread.body).toBe(201);
  threadId = thread.json().id;
});
afterAll(async () => t?.close());

type Who = 'owner' | 'learner' | 'admin' | 'operator' | 'anonymous';
type Case = [
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  payload: unknown,
  field: string,
  who: Who,
];

// `:course`, `:module`, `:lesson`, `:review` and `:thread` become real ids, so only the bad part is bad.
const BAD_CURSOR = 'not-a-cursor';
const cases: Case[] = [
  ['POST', '/v1/courses/:course/modules', {}, 'title', 'owner'],
  ['POST', '/v1/courses/:course/modules', { title: '   ' }, 'title', 'owner'],
  ['POST', '/v1/courses/:course/modules', { title: 'M', position: 0 }, 'position', 'owner'],
  ['POST', '/v1/courses/not-a-uuid/modules', { title: 'M' }, 'id', 'owner'],
  ['PATCH', '/v1/modules/:module', { title: '' }, 'title', 'owner'],
  ['PATCH', '/v1/modules/:module', { title: 42 }, 'title', 'owner'],
  ['PATCH', '/v1/modules/not-a-uuid', { title: 'Renamed' }, 'id', 'owner'],
  ['PUT', '/v1/modules/:module/lessons/order', { lesson_ids: [] }, 'lesson_ids', 'owner'],
  ['PUT', '/v1/modules/:module/lessons/order', { lesson_ids: ['nope'] }, 'lesson_ids.0', 'owner'],
  ['PUT', '/v1/modules/:module/lessons/order', {}, 'lesson_ids', 'owner'],
  ['DELETE', '/v1/modules/not-a-uuid', undefined, 'id', 'owner'],
  ['DELETE', '/v1/lessons/not-a-uuid', undefined, 'id', 'owner'],
  ['GET', `/v1/courses/:course/reviews?cursor=${BAD_CURSOR}`, undefined, 'cursor', 'anonymous'],
  ['GET', '/v1/courses/:course/reviews?limit=0', undefined, 'limit', 'anonymous'],
  ['GET', '/v1/reviews/not-a-uuid', undefined, 'id', 'anonymous'],
  ['DELETE', '/v1/reviews/not-a-uuid', undefined, 'id', 'learner'],
  ['PUT', '/v1/reviews/:review/hidden', { hidden: 'yes' }, 'hidden', 'admin'],
  ['PUT', '/v1/reviews/:review/hidden', {}, 'hidden', 'admin'],
  ['PUT', '/v1/reviews/not-a-uuid/hidden', { hidden: true }, 'id', 'admin'],
  ['GET', `/v1/moderation/reviews?cursor=${BAD_CURSOR}`, undefined, 'cursor', 'admin'],
  ['GET', '/v1/courses/not-a-uuid/reviews/mine', undefined, 'id', 'learner'],
  ['GET', `/v1/courses/:course/threads?cursor=${BAD_CURSOR}`, undefined, 'cursor', 'learner'],
  ['GET', '/v1/courses/:course/threads?lesson_id=not-a-uuid', undefined, 'lesson_id', 'learner'],
  ['GET', '/v1/threads/not-a-uuid', undefined, 'id', 'learner'],
  ['DELETE', '/v1/threads/not-a-uuid', undefined, 'id', 'learner'],
  ['DELETE', '/v1/posts/not-a-uuid', undefined, 'id', 'learner'],
  ['PUT', '/v1/threads/:thread/answer', { post_id: 'not-a-uuid' }, 'post_id', 'owner'],
  ['PUT', '/v1/threads/:thread/answer', {}, 'post_id', 'owner'],
  ['DELETE', '/v1/courses/not-a-uuid/enrolment', undefined, 'id', 'learner'],
  ['GET', '/v1/me/enrolments/not-a-uuid', undefined, 'courseId', 'learner'],
  ['GET', '/v1/me/enrolments/not-a-uuid/resume', undefined, 'courseId', 'learner'],
  ['GET', '/v1/ops/intents/not-a-number', undefined, 'id', 'operator'],
  ['GET', '/v1/ops/intents/0', undefined, 'id', 'operator'],
  ['GET', '/v1/credentials/not-a-uuid/document', undefined, 'id', 'anonymous'],
  ['GET', '/v1/credentials/not-a-uuid/pdf', undefined, 'id', 'anonymous'],
  ['GET', '/v1/credentials/not-a-uuid/badge', undefined, 'id', 'anonymous'],
];

describe('bad input', () => {
  it.each(cases)('%s %s %j → 400 naming %s, nothing written', async (method, url, payload, field, who) => {
    const headers = {
      owner: owner.headers,
      learner: learner.headers,
      admin: admin.headers,
      operator,
      anonymous: {},
    }[who];
    const real = url
      .replace(':course', course.id)
      .replace(':module', course.modules[0]!.id)
      .replace(':review', reviewId)
      .replace(':thread', threadId);
    const before = await snapshot();
    const res = await t.app.inject({
      method,
      url: real,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 400, field });
    expect(await snapshot()).toEqual(before);
  });

  it('the snapshot notices an update, so "nothing written" above can fail', async () => {
    const before = await snapshot();
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/v1/modules/${course.modules[1]!.id}`,
      headers: owner.headers,
      payload: { title: 'Renamed module' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const after = await snapshot();
    expect(after.course_modules).not.toBe(before.course_modules);
  });
});
