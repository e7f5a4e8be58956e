import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../test/harness.ts';
import { MANY_USERS, actor, buildCourse, countTable, type Actor, type BuiltCourse } from '../test/courses.ts';

let t: TestApp;
let owner: Actor;
let otherInstructor: Actor;
let admin: Actor;
let alice: Actor;
let bob: Actor;
let outsider: Actor;
let course: BuiltCourse;
beforeAll(async () => {
  t = await buildTestApp({ env: MANY_USERS });
  owner = await actor(t, 'instructor', 'Grace Instructor');
  otherInstructor = await actor(t, 'instructor');
  admin = await actor(t, 'admin', 'Mod');
  alice = await actor(t, 'learner', 'Alice');
  bob = await actor(t, 'learner', 'Bob');
  outsider = await actor(t, 'learner', 'Eve');
  course = await buildCourse(t, owner, { shape: [2] });
  for (const who of [alice, bob]) {
    const r = await t.app.inject({
      method: 'POST',
      url: `/v1/courses/${course.id}/enrolment`,
      headers: who.headers,
    });
    expect(r.statusCode).toBe(201);
  }
});
afterAll(async () => t.close());

const req = (
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  who: Actor | null,
  payload?: unknown,
) =>
  t.app.inject({
    method,
    url,
    headers: who?.headers ?? {},
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });

async function newThread(who: Actor, extra: Record<string, unknown> = {}) {
  const r = await req('POST', `/v1/courses/${course.id}/threads`, who, {
    title: 'How do I deploy?',
    body: 'Stuck at step 3',
    ...extra,
  });
  expect(r.statusCode, r.body).toBe(201);
  return r.json() as { id: string; author: { id: string }; pinned: boolean; answer_post_id: string | null };
}
async function newPost(who: Actor, threadId: string, body = 'Try soroban contract deploy') {
  const r = await req('POST', `/v1/threads/${threadId}/posts`, who, { body });
  expect(r.statusCode, r.body).toBe(201);
  return r.json() as { id: string; is_answer: boolean };
}

describe('who may take part', () => {
  it('lets enrolled learners and the course’s staff post, and nobody else', async () => {
    const th = await newThread(alice, { lesson_id: course.lessons[1] });
    expect(th).toMatchObject({
      author: { id: alice.userId, staff: false },
      pinned: false,
      reply_count: 0,
      lesson_id: course.lessons[1],
    });
    expect((await newThread(owner)).author).toMatchObject({ staff: true });
    expect((await newThread(admin)).author).toMatchObject({ staff: true });

    const threads = await countTable(t, 'forum_threads');
    const posts = await countTable(t, 'forum_posts');
    for (const who of [outsider, otherInstructor]) {
      const r = await req('POST', `/v1/courses/${course.id}/threads`, who, { title: 'x', body: 'y' });
      expect(r.statusCode).toBe(403);
      expect(r.json().code).toBe('not_enrolled');
      expect((await req('POST', `/v1/threads/${th.id}/posts`, who, { body: 'y' })).statusCode).toBe(403);
      expect((await req('GET', `/v1/courses/${course.id}/threads`, who)).statusCode).toBe(403);
      expect((await req('GET', `/v1/threads/${th.id}`, who)).statusCode).toBe(403);
      expect((await req('GET', `/v1/threads/${th.id}/posts`, who)).statusCode).toBe(403);
    }
    expect(
      (await req('POST', `/v1/courses/${course.id}/threads`, null, { title: 'x', body: 'y' })).statusCode,
    ).toBe(401);
    expect(await countTable(t, 'forum_threads')).toBe(threads);
    expect(await countTable(t, 'forum_posts')).toBe(posts);
  });

  it('closes the forum to a learner who leaves the course', async () => {
    const leaver = await actor(t);
    await req('POST', `/v1/courses/${course.id}/enrolment`, leaver);
    const th = await newThread(leaver);
    await req('DELETE', `/v1/courses/${course.id}/enrolment`, leaver);
    expect((await req('POST', `/v1/threads/${th.id}/posts`, leaver, { body: 'hello?' })).statusCode).toBe(
      403,
    );
  });

  it('hides a draft course’s forum (404) from everyone but its staff', async () => {
    const draft = await buildCourse(t, owner, { publish: false });
    expect((await req('GET', `/v1/courses/${draft.id}/threads`, alice)).statusCode).toBe(404);
    expect((await req('GET', `/v1/courses/${draft.id}/threads`, owner)).statusCode).toBe(200);
  });

  it.each([
    [{ title: '', body: 'x' }, 'title'],
    [{ title: 'x', body: '   ' }, 'body'],
    [{ title: 'x' }, 'body'],
    [{ title: 'x', body: 'y', pinned: true }, 'pinned'],
    [{ title: 'x', body: 'y', lesson_id: 'nope' }, 'lesson_id'],
  ])('rejects thread %j naming %s, writing nothing', async (payload, field) => {
    const before = await countTable(t, 'forum_threads');
    const r = await req('POST', `/v1/courses/${course.id}/threads`, alice, payload);
    expect(r.statusCode).toBe(400);
    expect(r.json().field).toBe(field);
    expect(await countTable(t, 'forum_threads')).toBe(before);
  });

  it('refuses a lesson from another course', async () => {
    const other = await buildCourse(t, owner);
    const r = await req('POST', `/v1/courses/${course.id}/threads`, alice, {
      title: 'x',
      body: 'y',
      lesson_id: other.lessons[0],
    });
    expect(r.json()).toMatchObject({ status: 400, code: 'unknown_lesson', field: 'lesson_id' });
  });
});

describe('threads and replies', () => {
  it('notifies the thread’s author of a reply (not of their own), and lists replies oldest first', async () => {
    const th = await newThread(alice);
    const before = await t.ctx.db
      .selectFrom('notifications')
      .selectAll()
      .where('user_id', '=', alice.userId)
      .where('kind', '=', 'forum_reply')
      .execute();
    const p1 = await newPost(bob, th.id, 'First reply');
    await newPost(alice, th.id, 'Thanks, my own follow-up');
    const p3 = await newPost(owner, th.id, 'Instructor here');
    const notes = await t.ctx.db
      .selectFrom('notifications')
      .selectAll()
      .where('user_id', '=', alice.userId)
      .where('kind', '=', 'forum_reply')
      .execute();
    const fresh = notes.filter((n) => !before.some((b) => b.id === n.id));
    expect(fresh.map((n) => (n.data as { post_id: string }).post_id).sort()).toEqual([p1.id, p3.id].sort());
    expect(fresh[0]).toMatchObject({ title: expect.stringContaining('How do I deploy?') });

    const page1 = (await req('GET', `/v1/threads/${th.id}/posts?limit=2`, bob)).json();
    expect(page1.posts.map((p: { body: string }) => p.body)).toEqual([
      'First reply',
      'Thanks, my own follow-up',
    ]);
    const page2 = (
      await req('GET', `/v1/threads/${th.id}/posts?limit=2&cursor=${page1.next_cursor}`, bob)
    ).json();
    expect(
      page2.posts.map((p: { body: string; author: { staff: boolean } }) => [p.body, p.author.staff]),
    ).toEqual([['Instructor here', true]]);
    expect((await req('GET', `/v1/threads/${th.id}`, bob)).json().reply_count).toBe(3);
    expect((await req('GET', `/v1/threads/${th.id}/posts?cursor=bad`, bob)).json().code).toBe(
      'invalid_cursor',
    );
  });

  it('lets authors edit and delete their own, and nobody else’s', async () => {
    const th = await newThread(alice);
    const post = await newPost(bob, th.id);
    expect((await req('PATCH', `/v1/threads/${th.id}`, bob, { title: 'Hijack' })).json()).toMatchObject({
      status: 403,
      code: 'not_author',
    });
    expect((await req('PATCH', `/v1/threads/${th.id}`, owner, { title: 'Hijack' })).statusCode).toBe(403);
    expect((await req('PATCH', `/v1/posts/${post.id}`, alice, { body: 'Hijack' })).statusCode).toBe(403);
    expect((await req('DELETE', `/v1/posts/${post.id}`, alice)).statusCode).toBe(403);
    expect((await req('DELETE', `/v1/threads/${th.id}`, bob)).statusCode).toBe(403);
    expect((await req('DELETE', `/v1/threads/${th.id}`, owner)).statusCode).toBe(403);
    expect((await req('PATCH', `/v1/posts/${post.id}`, outsider, { body: 'x' })).statusCode).toBe(403);
    expect((await req('PATCH', `/v1/threads/${th.id}`, alice, {})).statusCode).toBe(400);
    expect((await req('PATCH', `/v1/posts/${post.id}`, bob, { body: '' })).json().field).toBe('body');

    expect(
      (await req('PATCH', `/v1/threads/${th.id}`, alice, { title: 'Deploying to testnet' })).json().title,
    ).toBe('Deploying to testnet');
    expect((await req('PATCH', `/v1/posts/${post.id}`, bob, { body: 'Edited reply' })).json().body).toBe(
      'Edited reply',
    );
    expect((await req('DELETE', `/v1/posts/${post.id}`, bob)).statusCode).toBe(204);
    expect((await req('GET', `/v1/threads/${th.id}/posts`, alice)).json().posts).toEqual([]);
    expect((await req('PATCH', `/v1/posts/${post.id}`, bob, { body: 'again' })).statusCode).toBe(404);
    expect((await req('DELETE', `/v1/threads/${th.id}`, alice)).statusCode).toBe(204);
    expect((await req('GET', `/v1/threads/${th.id}`, alice)).statusCode).toBe(404);
    const row = await t.ctx.db
      .selectFrom('forum_threads')
      .select(['deleted_at', 'removed_by'])
      .where('id', '=', th.id)
      .executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
    expect(row.removed_by).toBeNull();
  });

  it('lets moderators remove anything, recording who removed it', async () => {
    const th = await newThread(bob);
    const post = await newPost(alice, th.id);
    expect((await req('DELETE', `/v1/posts/${post.id}`, admin)).statusCode).toBe(204);
    expect((await req('DELETE', `/v1/threads/${th.id}`, admin)).statusCode).toBe(204);
    const t1 = await t.ctx.db
      .selectFrom('forum_threads')
      .select('removed_by')
      .where('id', '=', th.id)
      .executeTakeFirstOrThrow();
    const p1 = await t.ctx.db
      .selectFrom('forum_posts')
      .select('removed_by')
      .where('id', '=', post.id)
      .executeTakeFirstOrThrow();
    expect([t1.removed_by, p1.removed_by]).toEqual([admin.userId, admin.userId]);
    const audit = await t.ctx.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', 'in', [th.id, post.id])
      .execute();
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['forum.thread_removed', 'forum.post_removed']),
    );
  });
});

describe('pinning and answers', () => {
  it('lets the instructor pin (pinned threads list first) and mark an answer; learners cannot', async () => {
    const older = await newThread(alice);
    const newer = await newThread(bob);
    const reply = await newPost(bob, older.id, 'The answer');
    const other = await newThread(alice);

    expect((await req('PUT', `/v1/threads/${older.id}/pin`, alice, { pinned: true })).json()).toMatchObject({
      status: 403,
      code: 'staff_only',
    });
    expect(
      (await req('PUT', `/v1/threads/${older.id}/answer`, alice, { post_id: reply.id })).statusCode,
    ).toBe(403);
    expect(
      (await req('PUT', `/v1/threads/${older.id}/pin`, otherInstructor, { pinned: true })).statusCode,
    ).toBe(403);
    expect((await req('PUT', `/v1/threads/${older.id}/pin`, owner, { pinned: 'yes' })).statusCode).toBe(400);

    expect((await req('PUT', `/v1/threads/${older.id}/pin`, owner, { pinned: true })).json().pinned).toBe(
      true,
    );
    const list = (await req('GET', `/v1/courses/${course.id}/threads?limit=100`, alice)).json();
    expect(list.threads[0].id).toBe(older.id);
    const ids = list.threads.map((x: { id: string }) => x.id);
    expect(ids.indexOf(other.id)).toBeLessThan(ids.indexOf(newer.id));

    // Paging across the pinned/unpinned boundary repeats and skips nothing.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const p: { threads: { id: string }[]; next_cursor: string | null } = (
        await req(
          'GET',
          `/v1/courses/${course.id}/threads?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          alice,
        )
      ).json();
      seen.push(...p.threads.map((x) => x.id));
      cursor = p.next_cursor;
    } while (cursor);
    expect(seen).toEqual(ids);

    const bad = await req('PUT', `/v1/threads/${other.id}/answer`, owner, { post_id: reply.id });
    expect(bad.json()).toMatchObject({ status: 400, code: 'unknown_post', field: 'post_id' });
    const marked = await req('PUT', `/v1/threads/${older.id}/answer`, owner, { post_id: reply.id });
    expect(marked.json().answer_post_id).toBe(reply.id);
    expect((await req('GET', `/v1/threads/${older.id}/posts`, alice)).json().posts[0].is_answer).toBe(true);
    // Removing the answer clears it.
    await req('DELETE', `/v1/posts/${reply.id}`, bob);
    expect((await req('GET', `/v1/threads/${older.id}`, alice)).json().answer_post_id).toBeNull();
  });

  it('filters threads by lesson', async () => {
    const th = await newThread(alice, { lesson_id: course.lessons[0] });
    const list = (
      await req('GET', `/v1/courses/${course.id}/threads?lesson_id=${course.lessons[0]}&limit=100`, alice)
    ).json();
    expect(list.threads.map((x: { id: string }) => x.id)).toContain(th.id);
    expect(list.threads.every((x: { lesson_id: string }) => x.lesson_id === course.lessons[0])).toBe(true);
  });
});
