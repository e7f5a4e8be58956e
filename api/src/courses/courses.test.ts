import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../test/harness.ts';
import { actor, buildCourse, completeLessons, countTable, slug, type Actor } from '../test/courses.ts';
import { MANY_USERS } from '../test/courses.ts';

let t: TestApp;
let owner: Actor;
let other: Actor;
let admin: Actor;
let learner: Actor;
beforeAll(async () => {
  t = await buildTestApp({ env: MANY_USERS });
  owner = await actor(t, 'instructor', 'Grace Instructor');
  other = await actor(t, 'instructor', 'Other Instructor');
  admin = await actor(t, 'admin');
  learner = await actor(t);
});
afterAll(async () => t.close());

const get = (url: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url, headers });

describe('creating courses', () => {
  it('lets an instructor create a draft, audited, and refuses learners and anonymous callers', async () => {
    const s = slug();
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/courses',
      headers: owner.headers,
      payload: {
        slug: s,
        title: 'Soroban from zero',
        summary: 'Contracts',
        tags: ['rust', 'soroban'],
        level: 'intermediate',
      },
    });
    expect(res.statusCode).toBe(201);
    const c = res.json();
    expect(c).toMatchObject({
      slug: s,
      status: 'draft',
      level: 'intermediate',
      tags: ['rust', 'soroban'],
      instructor: { id: owner.userId, display_name: 'Grace Instructor' },
    });
    expect(c.rating).toEqual({ average: null, count: 0 });
    const audit = await t.ctx.db.selectFrom('audit_log').selectAll().where('target_id', '=', c.id).execute();
    expect(audit.map((a) => a.action)).toEqual(['course.created']);

    const before = await countTable(t, 'courses');
    const asLearner = await t.app.inject({
      method: 'POST',
      url: '/v1/courses',
      headers: learner.headers,
      payload: { slug: slug(), title: 'x' },
    });
    expect(asLearner.statusCode).toBe(403);
    expect(asLearner.json().code).toBe('insufficient_role');
    const anon = await t.app.inject({
      method: 'POST',
      url: '/v1/courses',
      payload: { slug: slug(), title: 'x' },
    });
    expect(anon.statusCode).toBe(401);
    expect(await countTable(t, 'courses')).toBe(before);
  });

  it.each([
    [{ slug: 'Bad Slug', title: 'x' }, 'slug'],
    [{ slug: 'ok-slug', title: '' }, 'title'],
    [{ slug: 'ok-slug', title: 'x', status: 'published' }, 'status'],
    [{ slug: 'ok-slug', title: 'x', cover_url: 'http://insecure.example/c.png' }, 'cover_url'],
    [{ slug: 'ok-slug', title: 'x', tags: ['a', 'a'] }, 'tags'],
    [{ slug: 'ok-slug', title: 'x', level: 'expert' }, 'level'],
  ])('rejects %j with a 400 naming %s and writes nothing', async (payload, field) => {
    const before = await countTable(t, 'courses');
    const res = await t.app.inject({ method: 'POST', url: '/v1/courses', headers: owner.headers, payload });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().field).toBe(field);
    expect(await countTable(t, 'courses')).toBe(before);
  });

  it('replays a creation sent twice with the same Idempotency-Key (one course)', async () => {
    const payload = { slug: slug(), title: 'Once only' };
    const headers = { ...owner.headers, 'idempotency-key': `create-${payload.slug}` };
    const a = await t.app.inject({ method: 'POST', url: '/v1/courses', headers, payload });
    const b = await t.app.inject({ method: 'POST', url: '/v1/courses', headers, payload });
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(b.json().id).toBe(a.json().id);
    expect(
      await t.ctx.db.selectFrom('courses').select('id').where('slug', '=', payload.slug).execute(),
    ).toHaveLength(1);
  });

  it('refuses a taken slug with 409', async () => {
    const c = await buildCourse(t, owner, { publish: false });
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/courses',
      headers: other.headers,
      payload: { slug: c.slug, title: 'Copy' },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'slug_taken', field: 'slug' });
  });
});

describe('visibility', () => {
  it('shows a draft and its lessons only to its instructor and admins', async () => {
    const c = await buildCourse(t, owner, { publish: false });
    for (const h of [{}, learner.headers, other.headers]) {
      expect((await get(`/v1/courses/${c.id}`, h)).statusCode).toBe(404);
      expect((await get(`/v1/courses/${c.slug}`, h)).statusCode).toBe(404);
      expect((await get(`/v1/lessons/${c.lessons[0]}`, h)).statusCode).toBe(404);
    }
    for (const h of [owner.headers, admin.headers]) {
      expect((await get(`/v1/courses/${c.slug}`, h)).json().status).toBe('draft');
      expect((await get(`/v1/lessons/${c.lessons[0]}`, h)).statusCode).toBe(200);
    }
  });

  it('shows a published course to everyone, and hides it again once archived', async () => {
    const c = await buildCourse(t, owner);
    const page = await get(`/v1/courses/${c.slug}`);
    expect(page.statusCode).toBe(200);
    expect(page.json()).toMatchObject({
      id: c.id,
      status: 'published',
      lesson_count: 2,
      total_duration_seconds: 120,
    });
    expect(page.json().syllabus[0].lessons.map((l: { id: string }) => l.id)).toEqual(c.lessons);
    expect(page.json().syllabus[0].lessons[0]).not.toHaveProperty('body_md');
    expect((await get(`/v1/lessons/${c.lessons[0]}`)).statusCode).toBe(200);
    const archived = await t.app.inject({
      method: 'PATCH',
      url: `/v1/courses/${c.id}`,
      headers: owner.headers,
      payload: { status: 'archived' },
    });
    expect(archived.statusCode).toBe(200);
    expect((await get(`/v1/courses/${c.id}`)).statusCode).toBe(404);
    expect((await get(`/v1/lessons/${c.lessons[0]}`, learner.headers)).statusCode).toBe(404);
    expect((await get(`/v1/courses/${c.id}`, owner.headers)).json().status).toBe('archived');
  });

  it('answers a malformed id with 400 and a bad token with 401', async () => {
    expect((await get('/v1/courses/NOT_A_SLUG!')).statusCode).toBe(400);
    expect((await get('/v1/lessons/not-a-uuid')).json()).toMatchObject({ status: 400, field: 'id' });
    expect((await get('/v1/courses/anything', { authorization: 'Bearer nope' })).statusCode).toBe(401);
  });
});

describe('editing', () => {
  it('lets only the instructor and admins edit; others get 404 and nothing changes', async () => {
    const c = await buildCourse(t, owner, { publish: false });
    for (const who of [other, learner]) {
      const r = await t.app.inject({
        method: 'PATCH',
        url: `/v1/courses/${c.id}`,
        headers: who.headers,
        payload: { title: 'Hijacked' },
      });
      expect(r.statusCode).toBe(404);
      expect(
        (
          await t.app.inject({
            method: 'POST',
            url: `/v1/courses/${c.id}/modules`,
            headers: who.headers,
            payload: { title: 'x' },
          })
        ).statusCode,
      ).toBe(404);
      expect(
        (
          await t.app.inject({
            method: 'PATCH',
            url: `/v1/modules/${c.modules[0]!.id}`,
            headers: who.headers,
            payload: { title: 'x' },
          })
        ).statusCode,
      ).toBe(404);
      expect(
        (
          await t.app.inject({
            method: 'POST',
            url: `/v1/modules/${c.modules[0]!.id}/lessons`,
            headers: who.headers,
            payload: { title: 'x' },
          })
        ).statusCode,
      ).toBe(404);
      expect(
        (
          await t.app.inject({
            method: 'PATCH',
            url: `/v1/lessons/${c.lessons[0]}`,
            headers: who.headers,
            payload: { title: 'x' },
          })
        ).statusCode,
      ).toBe(404);
      expect(
        (await t.app.inject({ method: 'DELETE', url: `/v1/lessons/${c.lessons[0]}`, headers: who.headers }))
          .statusCode,
      ).toBe(404);
      expect(
        (
          await t.app.inject({
            method: 'DELETE',
            url: `/v1/modules/${c.modules[0]!.id}`,
            headers: who.headers,
          })
        ).statusCode,
      ).toBe(404);
    }
    expect(
      (await t.app.inject({ method: 'PATCH', url: `/v1/courses/${c.id}`, payload: { title: 'x' } }))
        .statusCode,
    ).toBe(401);
    const row = await t.ctx.db
      .selectFrom('courses')
      .selectAll()
      .where('id', '=', c.id)
      .executeTakeFirstOrThrow();
    expect(row.title).not.toBe('Hijacked');
    expect(
      await t.ctx.db.selectFrom('lessons').select('id').where('course_id', '=', c.id).execute(),
    ).toHaveLength(2);

    const byAdmin = await t.app.inject({
      method: 'PATCH',
      url: `/v1/courses/${c.id}`,
      headers: admin.headers,
      payload: { title: 'Fixed by admin' },
    });
    expect(byAdmin.statusCode).toBe(200);
    expect(byAdmin.json().title).toBe('Fixed by admin');
  });

  it('rejects bad edits with 400 and writes nothing', async () => {
    const c = await buildCourse(t, owner, { publish: false });
    const audits = await countTable(t, 'audit_log');
    for (const payload of [
      {},
      { title: 'x', instructor_id: other.userId },
      { sequential: 'yes' },
      { rating_sum: 50 },
    ]) {
      const r = await t.app.inject({
        method: 'PATCH',
        url: `/v1/courses/${c.id}`,
        headers: owner.headers,
        payload,
      });
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const lesson = await t.app.inject({
      method: 'PATCH',
      url: `/v1/lessons/${c.lessons[0]}`,
      headers: owner.headers,
      payload: { video_url: 'javascript:alert(1)' },
    });
    expect(lesson.json()).toMatchObject({ status: 400, field: 'video_url' });
    const dur = await t.app.inject({
      method: 'POST',
      url: `/v1/modules/${c.modules[0]!.id}/lessons`,
      headers: owner.headers,
      payload: { title: 'x', duration_seconds: -1 },
    });
    expect(dur.json()).toMatchObject({ status: 400, field: 'duration_seconds' });
    expect(await countTable(t, 'audit_log')).toBe(audits);
    expect(
      await t.ctx.db.selectFrom('lessons').select('id').where('course_id', '=', c.id).execute(),
    ).toHaveLength(2);
  });

  it('publishes only a course with at least one lesson', async () => {
    const c = await buildCourse(t, owner, { shape: [0], publish: false });
    const r = await t.app.inject({
      method: 'PATCH',
      url: `/v1/courses/${c.id}`,
      headers: owner.headers,
      payload: { status: 'published' },
    });
    expect(r.statusCode).toBe(422);
    expect(r.json().code).toBe('course_empty');
    expect((await get(`/v1/courses/${c.id}`, owner.headers)).json().status).toBe('draft');
  });

  it('refuses to take a course with learners back to draft', async () => {
    const c = await buildCourse(t, owner);
    await t.ctx.db.insertInto('enrolments').values({ user_id: learner.userId, course_id: c.id }).execute();
    const r = await t.app.inject({
      method: 'PATCH',
      url: `/v1/courses/${c.id}`,
      headers: owner.headers,
      payload: { status: 'draft' },
    });
    expect(r.statusCode).toBe(409);
    expect(r.json().code).toBe('course_has_learners');
  });

  it('renders lesson Markdown to sanitised HTML and keeps the Markdown', async () => {
    const c = await buildCourse(t, owner, { publish: false });
    const md =
      '# Title\n\nSome **bold** and [a link](https://stellar.org).\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(2))\n\n<img src="https://x.test/a.png" onerror="alert(3)">\n\n```rust\nfn main() {}\n```';
    const r = await t.app.inject({
      method: 'PATCH',
      url: `/v1/lessons/${c.lessons[0]}`,
      headers: owner.headers,
      payload: { body_md: md, video_url: 'https://video.example/v.mp4' },
    });
    expect(r.statusCode).toBe(200);
    const l = r.json();
    expect(l.body_md).toBe(md);
    expect(l.body_html).toContain('<h1>Title</h1>');
    expect(l.body_html).toContain('<strong>bold</strong>');
    expect(l.body_html).toContain(
      '<a href="https://stellar.org" rel="noopener noreferrer nofollow">a link</a>',
    );
    expect(l.body_html).toContain('<code class="language-rust">');
    expect(l.body_html).toContain('<img src="https://x.test/a.png" />');
    expect(l.body_html).not.toMatch(/<script|onerror|javascript:/i);
    expect(l.video_url).toBe('https://video.example/v.mp4');
  });
});

describe('ordering', () => {
  it('appends modules and lessons at the end and reorders them from a full id list', async () => {
    const c = await buildCourse(t, owner, { shape: [1, 1, 3], publish: false });
    const [m1, m2, m3] = c.modules.map((m) => m.id);
    const r = await t.app.inject({
      method: 'PUT',
      url: `/v1/courses/${c.id}/modules/order`,
      headers: owner.headers,
      payload: { module_ids: [m3, m1, m2] },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().syllabus.map((m: { id: string; position: number }) => [m.id, m.position])).toEqual([
      [m3, 0],
      [m1, 1],
      [m2, 2],
    ]);

    const [a, b, d] = c.modules[2]!.lessons;
    const lr = await t.app.inject({
      method: 'PUT',
      url: `/v1/modules/${m3}/lessons/order`,
      headers: owner.headers,
      payload: { lesson_ids: [d, a, b] },
    });
    expect(lr.statusCode).toBe(200);
    expect(lr.json().syllabus[0].lessons.map((l: { id: string }) => l.id)).toEqual([d, a, b]);
    // A new lesson goes after the last.
    const added = await t.app.inject({
      method: 'POST',
      url: `/v1/modules/${m3}/lessons`,
      headers: owner.headers,
      payload: { title: 'Last' },
    });
    expect(added.json().position).toBe(3);
  });

  it('rejects an order that is not exactly the current set, changing nothing', async () => {
    const c = await buildCourse(t, owner, { shape: [1, 1], publish: false });
    const other2 = await buildCourse(t, owner, { shape: [1], publish: false });
    const [m1, m2] = c.modules.map((m) => m.id);
    for (const ids of [[m1], [m1, m2, other2.modules[0]!.id], [m2, other2.modules[0]!.id]]) {
      const r = await t.app.inject({
        method: 'PUT',
        url: `/v1/courses/${c.id}/modules/order`,
        headers: owner.headers,
        payload: { module_ids: ids },
      });
      expect(r.statusCode).toBe(400);
      expect(r.json()).toMatchObject({ code: 'order_mismatch', field: 'module_ids' });
    }
    const dup = await t.app.inject({
      method: 'PUT',
      url: `/v1/courses/${c.id}/modules/order`,
      headers: owner.headers,
      payload: { module_ids: [m1, m1] },
    });
    expect(dup.statusCode).toBe(400);
    const byOther = await t.app.inject({
      method: 'PUT',
      url: `/v1/courses/${c.id}/modules/order`,
      headers: other.headers,
      payload: { module_ids: [m2, m1] },
    });
    expect(byOther.statusCode).toBe(404);
    const lessonsByOther = await t.app.inject({
      method: 'PUT',
      url: `/v1/modules/${m1}/lessons/order`,
      headers: other.headers,
      payload: { lesson_ids: c.modules[0]!.lessons },
    });
    expect(lessonsByOther.statusCode).toBe(404);
    const page = (await get(`/v1/courses/${c.id}`, owner.headers)).json();
    expect(page.syllabus.map((m: { id: string }) => m.id)).toEqual([m1, m2]);
  });

  it('closes the gap when a lesson is deleted, and refuses to delete completed lessons', async () => {
    const c = await buildCourse(t, owner, { shape: [3] });
    const [a, b, d] = c.lessons;
    const del = await t.app.inject({ method: 'DELETE', url: `/v1/lessons/${b}`, headers: owner.headers });
    expect(del.statusCode).toBe(204);
    const lessons = (await get(`/v1/courses/${c.id}`)).json().syllabus[0].lessons;
    expect(lessons.map((l: { id: string; position: number }) => [l.id, l.position])).toEqual([
      [a, 0],
      [d, 1],
    ]);

    await completeLessons(t, learner.userId, c.id, [a!]);
    const refused = await t.app.inject({ method: 'DELETE', url: `/v1/lessons/${a}`, headers: owner.headers });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('lesson_has_completions');
    const refusedModule = await t.app.inject({
      method: 'DELETE',
      url: `/v1/modules/${c.modules[0]!.id}`,
      headers: admin.headers,
    });
    expect(refusedModule.json().code).toBe('module_has_completions');
    expect((await get(`/v1/lessons/${a}`)).statusCode).toBe(200);
  });
});

describe('prerequisites', () => {
  it('sets prerequisites within the course and refuses cycles, self-references and other courses’ modules', async () => {
    const c = await buildCourse(t, owner, { shape: [1, 1, 1], publish: false });
    const x = await buildCourse(t, owner, { shape: [1], publish: false });
    const [m1, m2, m3] = c.modules.map((m) => m.id);
    const put = (m: string, ids: string[], who = owner) =>
      t.app.inject({
        method: 'PUT',
        url: `/v1/modules/${m}/prerequisites`,
        headers: who.headers,
        payload: { module_ids: ids },
      });
    expect((await put(m2!, [m1!])).json().requires).toEqual([m1]);
    expect((await put(m3!, [m2!])).statusCode).toBe(200);
    const cycle = await put(m1!, [m3!]);
    expect(cycle.statusCode).toBe(422);
    expect(cycle.json().code).toBe('prerequisite_cycle');
    expect((await put(m1!, [m1!])).json().code).toBe('prerequisite_self');
    expect((await put(m1!, [x.modules[0]!.id])).json()).toMatchObject({
      status: 400,
      code: 'unknown_module',
    });
    expect((await put(m1!, [m2!], other)).statusCode).toBe(404);
    expect(
      await t.ctx.db.selectFrom('module_prerequisites').selectAll().where('module_id', '=', m1!).execute(),
    ).toHaveLength(0);
    const page = (await get(`/v1/courses/${c.id}`, owner.headers)).json();
    expect(page.syllabus.map((m: { requires: string[] }) => m.requires)).toEqual([[], [m1], [m2]]);
  });
});

describe('teaching list', () => {
  it('lists my own courses of any status, and all courses for admins', async () => {
    const mine = await buildCourse(t, other, { publish: false });
    const r = await get('/v1/me/teaching?limit=100', other.headers);
    expect(r.statusCode).toBe(200);
    const ids = r.json().courses.map((c: { id: string }) => c.id);
    expect(ids).toContain(mine.id);
    expect(
      r.json().courses.every((c: { instructor: { id: string } }) => c.instructor.id === other.userId),
    ).toBe(true);
    expect((await get('/v1/me/teaching', learner.headers)).statusCode).toBe(403);
    const all = await get('/v1/me/teaching?limit=100', admin.headers);
    expect(
      all.json().courses.some((c: { instructor: { id: string } }) => c.instructor.id === owner.userId),
    ).toBe(true);
    expect((await get('/v1/me/teaching?cursor=garbage', other.headers)).json().code).toBe('invalid_cursor');
  });
});
