// Builders for course tests, through the authoring API (so they exercise it) or straight to the database.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { bearer, loginAs, makeRole, registerUser, type TestApp } from './harness.ts';

export interface Actor {
  userId: string;
  token: string;
  headers: Record<string, string>;
}

export async function actor(
  t: TestApp,
  role: 'learner' | 'instructor' | 'admin' = 'learner',
  name = 'Ada Learner',
): Promise<Actor> {
  const u = await registerUser(t.app, { display_name: name });
  let token = u.access;
  if (role !== 'learner') {
    await makeRole(t.ctx, u.userId, role);
    token = await loginAs(t.app, u.email);
  }
  return { userId: u.userId, token, headers: bearer(token) };
}

export const slug = (prefix = 'course'): string => `${prefix}-${randomBytes(4).toString('hex')}`;

export interface BuiltCourse {
  id: string;
  slug: string;
  modules: { id: string; lessons: string[] }[];
  lessons: string[];
}

/** A course with `shape[i]` lessons in module i, published unless told otherwise. */
export async function buildCourse(
  t: TestApp,
  owner: Actor,
  opts: {
    shape?: number[];
    publish?: boolean;
    title?: string;
    summary?: string;
    sequential?: boolean;
    tags?: string[];
    level?: string;
    language?: string;
  } = {},
): Promise<BuiltCourse> {
  const s = slug();
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/courses',
    headers: owner.headers,
    payload: {
      slug: s,
      title: opts.title ?? `Course ${s}`,
      summary: opts.summary ?? 'A course',
      ...(opts.sequential !== undefined ? { sequential: opts.sequential } : {}),
      ...(opts.tags ? { tags: opts.tags } : {}),
      ...(opts.level ? { level: opts.level } : {}),
      ...(opts.language ? { language: opts.language } : {}),
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  const id = res.json().id as string;
  const modules: BuiltCourse['modules'] = [];
  for (const [i, n] of (opts.shape ?? [2]).entries()) {
    const m = await t.app.inject({
      method: 'POST',
      url: `/v1/courses/${id}/modules`,
      headers: owner.headers,
      payload: { title: `Module ${i + 1}` },
    });
    expect(m.statusCode, m.body).toBe(201);
    const lessons: string[] = [];
    for (let j = 0; j < n; j += 1) {
      const l = await t.app.inject({
        method: 'POST',
        url: `/v1/modules/${m.json().id}/lessons`,
        headers: owner.headers,
        payload: {
          title: `Lesson ${i + 1}.${j + 1}`,
          body_md: `Lesson **${i + 1}.${j + 1}**`,
          duration_seconds: 60,
        },
      });
      expect(l.statusCode, l.body).toBe(201);
      lessons.push(l.json().id);
    }
    modules.push({ id: m.json().id, lessons });
  }
  if (opts.publish !== false) {
    const p = await t.app.inject({
      method: 'PATCH',
      url: `/v1/courses/${id}`,
      headers: owner.headers,
      payload: { status: 'published' },
    });
    expect(p.statusCode, p.body).toBe(200);
  }
  return { id, slug: s, modules, lessons: modules.flatMap((m) => m.lessons) };
}

/** Marks lessons complete straight in the database (lesson completion is another feature's route). */
export async function completeLessons(
  t: TestApp,
  userId: string,
  courseId: string,
  lessonIds: readonly string[],
): Promise<void> {
  if (!lessonIds.length) return;
  await t.ctx.db
    .insertInto('lesson_completions')
    .values(lessonIds.map((lessonId) => ({ user_id: userId, lesson_id: lessonId, course_id: courseId })))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function countTable(
  t: TestApp,
  table:
    | 'courses'
    | 'course_modules'
    | 'lessons'
    | 'module_prerequisites'
    | 'enrolments'
    | 'course_reviews'
    | 'review_flags'
    | 'forum_threads'
    | 'forum_posts'
    | 'audit_log'
    | 'notifications',
): Promise<number> {
  const r = await t.ctx.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** These tests register many users; lift the per-IP sign-up limit (tested elsewhere). */
export const MANY_USERS = { RATE_LIMIT_AUTH_MAX: '100000' };
