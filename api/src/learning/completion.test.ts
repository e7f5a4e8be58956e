import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { bearer, buildTestApp, registerUser, type TestApp } from '../test/harness.ts';
import { count, createCourse, enrol } from '../test/learning-fixtures.ts';
import { sha256Hex } from '../certificates/certificate-document.ts';
import { actor, buildCourse, MANY_USERS } from '../test/courses.ts';

let t: TestApp;
let instructorId: string;

beforeAll(async () => {
  t = await buildTestApp({ env: MANY_USERS });
  instructorId = (await registerUser(t.app, { display_name: 'Grace Instructor' })).userId;
});
afterAll(async () => t?.close());

async function complete(token: string, lessonId: string, headers: Record<string, string> = {}) {
  return t.app.inject({
    method: 'POST',
    url: `/v1/lessons/${lessonId}/complete`,
    headers: { ...bearer(token), ...headers },
  });
}

async function intentsOf(userId: string) {
  return t.ctx.db.selectFrom('intents').selectAll().where('user_id', '=', userId).orderBy('id').execute();
}

describe('POST /v1/lessons/:id/complete', () => {
  it('records a completion once and computes the percent on the server', async () => {
    const learner = await registerUser(t.app);
    const c = await createCourse(t.ctx, { instructorId, lessons: 4 });
    await enrol(t.ctx, learner.userId, c.courseId);

    const first = await complete(learner.access, c.lessonIds[0]!);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({
      lesson_id: c.lessonIds[0],
      course_id: c.courseId,
      percent: 25,
      certificate: null,
    });
    const progress = await t.app.inject({
      method: 'GET',
      url: `/v1/me/progress/${c.courseId}`,
      headers: bearer(learner.access),
    });
    expect(progress.json()).toMatchObject({
      percent: 25,
      progress_chain: { percent: 25, status: 'pending' },
      onchain_percent: null,
    });

    const again = await complete(learner.access, c.lessonIds[0]!);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect(await count(t.ctx, 'lesson_completions', { user_id: learner.userId })).toBe(1);
    const intents = await intentsOf(learner.userId);
    expect(intents.map((i) => i.idempotency_key)).toEqual([`progress:${learner.userId}:${c.courseId}:25`]);
    const student = await t.ctx.db
      .selectFrom('users')
      .select('stellar_address')
      .where('id', '=', learner.userId)
      .executeTakeFirstOrThrow();
    expect(intents[0]!.args).toEqual({
      student: student.stellar_address,
      course_id: c.courseId.replace(/-/g, ''),
      percent: 25,
    });

    const enrolment = await t.ctx.db
      .selectFrom('enrolments')
      .selectAll()
      .where('user_id', '=', learner.userId)
      .executeTakeFirstOrThrow();
    expect(enrolment).toMatchObject({ percent: 25, last_lesson_id: c.lessonIds[0], completed_at: null });
  });

  it('ignores any percent the client sends', async () => {
    const learner = await registerUser(t.app);
    const c = await createCourse(t.ctx, { instructorId, lessons: 3 });
    await enrol(t.ctx, learner.userId, c.courseId);
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/lessons/${c.lessonIds[0]}/complete?percent=100`,
      headers: bearer(learner.access),
      payload: { percent: 100, completed: true },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ percent: 33, certificate: null, completed_at: null });
    expect(await count(t.ctx, 'certificates', { user_id: learner.userId })).toBe(0);
    expect((await intentsOf(learner.userId)).map((i) => (i.args as { percent: number }).percent)).toEqual([
      33,
    ]);
  });

  it('at 100 % writes the certificate, its issue intent and notifications in the same transaction', async () => {
    const learner = await registerUser(t.app, { display_name: 'Ada Lovelace' });
    const c = await createCourse(t.ctx, { instructorId, lessons: 2, title: 'Soroban 101' });
    await enrol(t.ctx, learner.userId, c.courseId);
    await complete(learner.access, c.lessonIds[0]!);
    const res = await complete(learner.access, c.lessonIds[1]!);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.percent).toBe(100);
    expect(body.completed_at).not.toBeNull();
    expect(body.certificate).toMatchObject({
      status: 'pending',
      chain: { status: 'pending' },
      revocation: null,
    });

    const cert = await t.ctx.db
      .selectFrom('certificates')
      .selectAll()
      .where('user_id', '=', learner.userId)
      .executeTakeFirstOrThrow();
    expect(cert.id).toBe(body.certificate.id);
    expect(cert.document_hash).toBe(sha256Hex(cert.document_canonical));
    expect(cert.document).toMatchObject({
      learner: { name: 'Ada Lovelace' },
      course: { title: 'Soroban 101' },
    });

    const intents = await intentsOf(learner.userId);
    const issue = intents.find((i) => i.kind === 'issue_certificate')!;
    expect(issue.idempotency_key).toBe(`cert:${learner.userId}:${c.courseId}`);
    expect(issue.args).toMatchObject({
      metadata_hash: cert.document_hash,
      course_id: c.courseId.replace(/-/g, ''),
      certificate_id: cert.id,
    });
    // The 50 % progress intent was never claimed: the 100 % one supersedes it.
    const progress = intents.filter((i) => i.kind === 'record_progress').map((i) => [i.args, i.status]);
    expect(progress).toEqual([
      [expect.objectContaining({ percent: 50 }), 'superseded'],
      [expect.objectContaining({ percent: 100 }), 'pending'],
    ]);
    const kinds = (
      await t.ctx.db
        .selectFrom('notifications')
        .select('kind')
        .where('user_id', '=', learner.userId)
        .orderBy('id')
        .execute()
    ).map((n) => n.kind);
    expect(kinds).toEqual([
      'lesson_milestone',
      'lesson_milestone',
      'lesson_milestone',
      'course_completed',
      'certificate_pending',
    ]);
  });

  it('never supersedes a progress intent the submitter has already claimed', async () => {
    const learner = await registerUser(t.app);
    const c = await createCourse(t.ctx, { instructorId, lessons: 4 });
    await enrol(t.ctx, learner.userId, c.courseId);
    await complete(learner.access, c.lessonIds[0]!);
    await t.ctx.db
      .updateTable('intents')
      .set({ status: 'submitting' })
      .where('user_id', '=', learner.userId)
      .execute();
    await complete(learner.access, c.lessonIds[1]!);
    const statuses = (await intentsOf(learner.userId)).map((i) => i.status);
    expect(statuses).toEqual(['submitting', 'pending']);
  });

  it('mints 50 BST to the referrer once, on the referee’s first completed course', async () => {
    const referrer = await registerUser(t.app);
    const code = await t.ctx.db
      .selectFrom('users')
      .select(['referral_code', 'stellar_address'])
      .where('id', '=', referrer.userId)
      .executeTakeFirstOrThrow();
    const referee = await registerUser(t.app, { ref: code.referral_code });
    const a = await createCourse(t.ctx, { instructorId, lessons: 1 });
    const b = await createCourse(t.ctx, { instructorId, lessons: 1 });
    await enrol(t.ctx, referee.userId, a.courseId);
    await enrol(t.ctx, referee.userId, b.courseId);
    await complete(referee.access, a.lessonIds[0]!);
    await complete(referee.access, b.lessonIds[0]!);
    const rewards = await t.ctx.db
      .selectFrom('intents')
      .selectAll()
      .where('kind', '=', 'mint_reward')
      .where('user_id', '=', referrer.userId)
      .execute();
    expect(rewards).toHaveLength(1);
    expect(rewards[0]!.idempotency_key).toBe(`referral:${referee.userId}`);
    expect(rewards[0]!.args).toEqual({
      to: code.stellar_address,
      amount: '500000000',
      reason: 'referral',
      referee_id: referee.userId,
    });
    expect(await count(t.ctx, 'certificates', { user_id: referee.userId })).toBe(2);
  });

  it('gives no reward when the learner was not referred', async () => {
    const learner = await registerUser(t.app);
    const c = await createCourse(t.ctx, { instructorId, lessons: 1 });
    await enrol(t.ctx, learner.userId, c.courseId);
    await complete(learner.access, c.lessonIds[0]!);
    expect(await count(t.ctx, 'intents', { kind: 'mint_reward', user_id: learner.userId })).toBe(0);
  });

  it('two concurrent completions produce one certificate and one reward', async () => {
    const referrer = await registerUser(t.app);
    const code = await t.ctx.db
      .selectFrom('users')
      .select('referral_code')
      .where('id', '=', referrer.userId)
      .executeTakeFirstOrThrow();
    const learner = await registerUser(t.app, { ref: code.referral_code });
    const c = await createCourse(t.ctx, { instructorId, lessons: 6 });
    await enrol(t.ctx, learner.userId, c.courseId);
    // Every lesson at once, each twice: all land, the last one to commit sees 100 %.
    const results = await Promise.all(
      [...c.lessonIds, ...c.lessonIds].map((id) => complete(learner.access, id)),
    );
    expect(results.map((r) => r.statusCode)).toEqual(results.map(() => 200));
    expect(Math.max(...results.map((r) => r.json().percent as number))).toBe(100);
    expect(await count(t.ctx, 'certificates', { user_id: learner.userId })).toBe(1);
    expect(await count(t.ctx, 'intents', { kind: 'issue_certificate', user_id: learner.userId })).toBe(1);
    expect(await count(t.ctx, 'intents', { kind: 'mint_reward', user_id: referrer.userId })).toBe(1);
    expect(await count(t.ctx, 'lesson_completions', { user_id: learner.userId })).toBe(6);
    const enrolment = await t.ctx.db
      .selectFrom('enrolments')
      .select('percent')
      .where('user_id', '=', learner.userId)
      .executeTakeFirstOrThrow();
    expect(enrolment.percent).toBe(100);
  });

  it('a referee finishing two courses at once still yields one reward', async () => {
    const referrer = await registerUser(t.app);
    const code = await t.ctx.db
      .selectFrom('users')
      .select('referral_code')
      .where('id', '=', referrer.userId)
      .executeTakeFirstOrThrow();
    const learner = await registerUser(t.app, { ref: code.referral_code });
    const courses = await Promise.all([1, 2, 3].map(() => createCourse(t.ctx, { instructorId, lessons: 1 })));
    for (const c of courses) await enrol(t.ctx, learner.userId, c.courseId);
    const results = await Promise.all(courses.map((c) => complete(learner.access, c.lessonIds[0]!)));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(await count(t.ctx, 'intents', { kind: 'mint_reward', user_id: referrer.userId })).toBe(1);
    expect(await count(t.ctx, 'certificates', { user_id: learner.userId })).toBe(3);
  });

  it('a failure after the completion is written leaves nothing behind', async () => {
    const learner = await registerUser(t.app);
    const c = await createCourse(t.ctx, { instructorId, lessons: 1 });
    await enrol(t.ctx, learner.userId, c.courseId);
    // The certificate insert (after completion, enrolment and progress intent) fails for this learner.
    await sql`CREATE FUNCTION fail_cert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$`.execute(
      t.ctx.db,
    );
    await sql`CREATE TRIGGER fail_cert BEFORE INSERT ON certificates FOR EACH ROW WHEN (NEW.user_id = ${sql.lit(learner.userId)}::uuid) EXECUTE FUNCTION fail_cert()`.execute(
      t.ctx.db,
    );
    try {
      const res = await complete(learner.access, c.lessonIds[0]!);
      expect(res.statusCode).toBe(500);
      expect(res.json()).not.toHaveProperty('stack');
      expect(res.body).not.toContain('injected');
    } finally {
      await sql`DROP TRIGGER fail_cert ON certificates`.execute(t.ctx.db);
    }
    expect(await count(t.ctx, 'lesson_completions', { user_id: learner.userId })).toBe(0);
    expect(await count(t.ctx, 'intents', { user_id: learner.userId })).toBe(0);
    expect(await count(t.ctx, 'notifications', { user_id: learner.userId })).toBe(0);
    const enrolment = await t.ctx.db
      .selectFrom('enrolments')
      .select(['percent', 'completed_at'])
      .where('user_id', '=', learner.userId)
      .executeTakeFirstOrThrow();
    expect(enrolment).toEqual({ percent: 0, completed_at: null });
    // And once the fault is gone, the same request goes through whole.
    const retry = await complete(learner.access, c.lessonIds[0]!);
    expect(retry.json()).toMatchObject({ percent: 100, certificate: { status: 'pending' } });
  });

  it('a failure in a later statement (the milestone notification) rolls back the completion and its intent', async () => {
    const learner = await registerUser(t.app);
    const c = await createCourse(t.ctx, { instructorId, lessons: 4 });
    await enrol(t.ctx, learner.userId, c.courseId);
    await sql`CREATE OR REPLACE FUNCTION fail_note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$`.execute(
      t.ctx.db,
    );
    await sql`CREATE TRIGGER fail_note BEFORE INSERT ON notifications FOR EACH ROW WHEN (NEW.user_id = ${sql.lit(learner.userId)}::uuid) EXECUTE FUNCTION fail_note()`.execute(
      t.ctx.db,
    );
    try {
      expect((await complete(learner.access, c.lessonIds[0]!)).statusCode).toBe(500);
    } finally {
      await sql`DROP TRIGGER fail_note ON notifications`.execute(t.ctx.db);
    }
    expect(await count(t.ctx, 'lesson_completions', { user_id: learner.userId })).toBe(0);
    expect(await count(t.ctx, 'intents', { user_id: learner.userId })).toBe(0);
    expect(
      await t.ctx.db
        .selectFrom('audit_log')
        .select('id')
        .where('action', '=', 'lesson.completed')
        .where('actor_id', '=', learner.userId)
        .execute(),
    ).toEqual([]);
    const enrolment = await t.ctx.db
      .selectFrom('enrolments')
      .select(['percent', 'last_lesson_id'])
      .where('user_id', '=', learner.userId)
      .executeTakeFirstOrThrow();
    expect(enrolment).toEqual({ percent: 0, last_lesson_id: null });
  });

  it('refuses learners who are not enrolled, unknown lessons, drafts and bad ids — writing nothing', async () => {
    const learner = await registerUser(t.app);
    const c = await createCourse(t.ctx, { instructorId, lessons: 2 });
    const draft = await createCourse(t.ctx, { instructorId, lessons: 1, status: 'draft' });
    await enrol(t.ctx, learner.userId, draft.courseId);

    const notEnrolled = await complete(learner.access, c.lessonIds[0]!);
    expect(notEnrolled.statusCode).toBe(403);
    expect(notEnrolled.json().code).toBe('not_enrolled');
    expect((await complete(learner.access, draft.lessonIds[0]!)).statusCode).toBe(404);
    expect((await complete(learner.access, '00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    const bad = await complete(learner.access, 'not-a-uuid');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'validation_failed', field: 'id' });
    const anon = await t.app.inject({ method: 'POST', url: `/v1/lessons/${c.lessonIds[0]}/complete` });
    expect(anon.statusCode).toBe(401);
    expect(await count(t.ctx, 'lesson_completions', { user_id: learner.userId })).toBe(0);
    expect(await count(t.ctx, 'intents', { user_id: learner.userId })).toBe(0);
  });

  it('in sequential mode a later lesson is locked until the earlier ones are done', async () => {
    const learner = await registerUser(t.app);
    const c = await createCourse(t.ctx, { instructorId, lessons: 3, sequential: true });
    await enrol(t.ctx, learner.userId, c.courseId);
    const locked = await complete(learner.access, c.lessonIds[2]!);
    expect(locked.statusCode).toBe(403);
    expect(locked.json().code).toBe('lesson_locked');
    expect((await complete(learner.access, c.lessonIds[0]!)).statusCode).toBe(200);
    expect(await count(t.ctx, 'lesson_completions', { user_id: learner.userId })).toBe(1);
  });

  it('a module with an unfinished prerequisite is locked — writing nothing — until that module is done', async () => {
    const owner = await actor(t, 'instructor', 'Grace Instructor');
    const course = await buildCourse(t, owner, { shape: [1, 1] });
    const [m1, m2] = course.modules as [{ id: string; lessons: string[] }, { id: string; lessons: string[] }];
    const prereq = await t.app.inject({
      method: 'PUT',
      url: `/v1/modules/${m2.id}/prerequisites`,
      headers: owner.headers,
      payload: { module_ids: [m1.id] },
    });
    expect(prereq.statusCode, prereq.body).toBe(200);
    const learner = await registerUser(t.app);
    const enrolled = await t.app.inject({
      method: 'POST',
      url: `/v1/courses/${course.id}/enrolment`,
      headers: bearer(learner.access),
    });
    expect(enrolled.statusCode, enrolled.body).toBeLessThan(300);

    const locked = await complete(learner.access, m2.lessons[0]!);
    expect(locked.statusCode).toBe(403);
    expect(locked.headers['content-type']).toContain('application/problem+json');
    expect(locked.json()).toMatchObject({ code: 'lesson_locked', status: 403 });
    expect(await count(t.ctx, 'lesson_completions', { user_id: learner.userId })).toBe(0);
    expect(await count(t.ctx, 'intents', { user_id: learner.userId })).toBe(0);

    expect((await complete(learner.access, m1.lessons[0]!)).statusCode).toBe(200);
    const opened = await complete(learner.access, m2.lessons[0]!);
    expect(opened.statusCode, opened.body).toBe(200);
    expect(opened.json()).toMatchObject({ lesson_id: m2.lessons[0], percent: 100 });
  });

  it('shows a claimed intent as pending and a submitted one as submitted, with its transaction', async () => {
    const learner = await registerUser(t.app);
    const c = await createCourse(t.ctx, { instructorId, lessons: 1 });
    await enrol(t.ctx, learner.userId, c.courseId);
    expect((await complete(learner.access, c.lessonIds[0]!)).statusCode).toBe(200);
    const views = async () => {
      const progress = await t.app.inject({
        method: 'GET',
        url: `/v1/me/progress/${c.courseId}`,
        headers: bearer(learner.access),
      });
      const certs = await t.app.inject({
        method: 'GET',
        url: '/v1/me/certificates',
        headers: bearer(learner.access),
      });
      return { progress: progress.json(), certificate: certs.json().certificates[0] };
    };
    const setStatus = (status: 'submitting' | 'submitted', txHash: string | null) =>
      t.ctx.db
        .updateTable('intents')
        .set({ status, tx_hash: txHash, tx_envelope: 'AAAA', submitted_at: new Date() })
        .where('user_id', '=', learner.userId)
        .execute();

    // Claimed by the submitter but not yet sent: still pending to the learner, no transaction shown.
    await setStatus('submitting', 'cc'.repeat(32));
    const claimed = await views();
    expect(claimed.progress).toMatchObject({ progress_chain: { status: 'pending', tx_hash: null } });
    expect(claimed.progress.certificate).toMatchObject({ chain: { status: 'pending', tx_hash: null } });
    expect(claimed.certificate).toMatchObject({ chain: { status: 'pending', tx_hash: null } });

    await setStatus('submitted', 'dd'.repeat(32));
    const sent = await views();
    const submitted = { status: 'submitted', tx_hash: 'dd'.repeat(32), ledger: null };
    expect(sent.progress).toMatchObject({ percent: 100, progress_chain: { percent: 100, ...submitted } });
    expect(sent.progress.certificate).toMatchObject({ status: 'pending', chain: submitted });
    expect(sent.certificate).toMatchObject({ status: 'pending', chain: submitted });
  });

  it('replays the first response for a repeated Idempotency-Key', async () => {
    const learner = await registerUser(t.app);
    const c = await createCourse(t.ctx, { instructorId, lessons: 2 });
    await enrol(t.ctx, learner.userId, c.courseId);
    const a = await complete(learner.access, c.lessonIds[0]!, { 'idempotency-key': 'k-1' });
    const b = await complete(learner.access, c.lessonIds[0]!, { 'idempotency-key': 'k-1' });
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(b.json()).toEqual(a.json());
  });

  it('shows each learner only their own progress', async () => {
    const a = await registerUser(t.app);
    const b = await registerUser(t.app);
    const c = await createCourse(t.ctx, { instructorId, lessons: 2 });
    await enrol(t.ctx, a.userId, c.courseId);
    await complete(a.access, c.lessonIds[0]!);
    const mine = await t.app.inject({
      method: 'GET',
      url: `/v1/me/progress/${c.courseId}`,
      headers: bearer(a.access),
    });
    expect(mine.json()).toMatchObject({ percent: 50, progress_chain: { percent: 50, status: 'pending' } });
    const theirs = await t.app.inject({
      method: 'GET',
      url: `/v1/me/progress/${c.courseId}`,
      headers: bearer(b.access),
    });
    expect(theirs.statusCode).toBe(404);
    const list = await t.app.inject({ method: 'GET', url: '/v1/me/progress', headers: bearer(b.access) });
    expect(list.json()).toEqual({ courses: [] });
    const listA = await t.app.inject({ method: 'GET', url: '/v1/me/progress', headers: bearer(a.access) });
    expect(listA.json().courses).toHaveLength(1);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me/progress' })).statusCode).toBe(401);
    const bad = await t.app.inject({ method: 'GET', url: '/v1/me/progress/nope', headers: bearer(a.access) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'validation_failed', field: 'courseId' });
  });

  it('shows on-chain progress and chain states per course, also for a former custodial address', async () => {
    const learner = await registerUser(t.app);
    const a = await createCourse(t.ctx, { instructorId, lessons: 2 });
    const b = await createCourse(t.ctx, { instructorId, lessons: 1 });
    await enrol(t.ctx, learner.userId, a.courseId);
    await enrol(t.ctx, learner.userId, b.courseId);
    await complete(learner.access, a.lessonIds[0]!);
    await complete(learner.access, b.lessonIds[0]!);
    const custodial = (
      await t.ctx.db
        .selectFrom('users')
        .select('stellar_address')
        .where('id', '=', learner.userId)
        .executeTakeFirstOrThrow()
    ).stellar_address;
    // Ingest saw the 50 % on chain for the custodial address; then the learner linked a wallet.
    await t.ctx.db
      .insertInto('onchain_progress')
      .values({ student_address: custodial, course_id: a.courseId, percent: 50, ledger: 10, event_id: 'e1' })
      .execute();
    await t.ctx.db
      .updateTable('intents')
      .set({
        status: 'confirmed',
        confirmed_at: new Date(),
        confirmed_ledger: 10,
        tx_hash: 'aa'.repeat(32),
        tx_envelope: 'AAAA',
      })
      .where('idempotency_key', '=', `progress:${learner.userId}:${a.courseId}:50`)
      .execute();
    await t.ctx.db
      .updateTable('intents')
      .set({ status: 'failed', attempts: 5, last_error: 'txFAILED' })
      .where('idempotency_key', '=', `cert:${learner.userId}:${b.courseId}`)
      .execute();
    await t.ctx.db
      .updateTable('users')
      .set({ stellar_address: `G${'B'.repeat(55)}`, wallet_kind: 'external' })
      .where('id', '=', learner.userId)
      .execute();

    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/me/progress',
      headers: bearer(learner.access),
    });
    const byCourse = Object.fromEntries(
      res.json().courses.map((c: { course_id: string }) => [c.course_id, c]),
    );
    expect(byCourse[a.courseId]).toMatchObject({
      percent: 50,
      onchain_percent: 50,
      progress_chain: { percent: 50, status: 'confirmed', ledger: 10 },
      certificate: null,
    });
    expect(byCourse[b.courseId]).toMatchObject({
      percent: 100,
      onchain_percent: null,
      progress_chain: { status: 'pending' },
      certificate: { status: 'pending', chain: { status: 'failed' } },
    });
    // The learner sees that it failed, not why: the error is for operators.
    expect(res.body).not.toContain('txFAILED');
  });
});
