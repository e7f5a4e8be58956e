// SQL for lesson completion and the learner's progress. Callers own the transaction.
import { sql } from 'kysely';
import type { Db } from '../audit/audit.repository.ts';

/**
 * Locks the learner's enrolment in the lesson's course (FOR UPDATE): completions of one learner in
 * one course run one after another, so each sees the others' rows when it computes the percent.
 * Also returns what decides whether the lesson is trivially open, and the learner's address.
 * A prepared statement (see lib/prepared-statements.ts): this is the hottest query of the API.
 */
export async function lockEnrolmentForLesson(db: Db, userId: string, lessonId: string) {
  const r = await sql<{
    course_id: string;
    status: string;
    percent: number;
    completed_at: Date | null;
    course_status: string;
    sequential: boolean;
    stellar_address: string;
    has_prerequisites: boolean;
  }>`/*stmt:completion_lock*/
    SELECT e.course_id, e.status, e.percent, e.completed_at, c.status AS course_status, c.sequential, u.stellar_address,
           EXISTS (SELECT 1 FROM module_prerequisites mp WHERE mp.module_id = l.module_id) AS has_prerequisites
    FROM enrolments e
    JOIN lessons l ON l.course_id = e.course_id
    JOIN courses c ON c.id = e.course_id
    JOIN users u ON u.id = e.user_id
    WHERE l.id = ${lessonId} AND e.user_id = ${userId}
    FOR UPDATE OF e`.execute(db);
  return r.rows[0];
}

export interface CompletionWrite {
  userId: string;
  lessonId: string;
  courseId: string;
  /** The learner's address, for the progress intent's arguments. */
  student: string;
  audit: { actorType: 'user' | 'api_key'; actorId: string; requestId: string | null };
}

/**
 * The completion and everything that always follows it, as ONE statement (the caller holds the
 * enrolment lock from an earlier statement, so this statement's snapshot sees every completion
 * committed before it): the completion row (nothing more when it already existed); the percent
 * recomputed from the course's lessons (rounded down: 100 only when all are done) with the resume
 * point; the audit entry; and progress:<user>:<course>:<percent> unless an intent with this or a
 * higher percent exists (the contract only moves forward), superseding the lower ones nobody has
 * claimed (`status = 'pending'` is rechecked after a claimer's row lock, so a claimed row stays).
 * The new completion is not visible to the count in the same statement, hence `+ 1`.
 */
export async function recordCompletion(db: Db, w: CompletionWrite) {
  const hex = w.courseId.replace(/-/g, '');
  const r = await sql<{
    completed_at: Date | null;
    percent: number | null;
    course_completed_at: Date | null;
    progress_intent_id: string | null;
  }>`/*stmt:completion_write*/
    WITH ins AS (
      INSERT INTO lesson_completions (user_id, lesson_id, course_id) VALUES (${w.userId}, ${w.lessonId}, ${w.courseId})
      ON CONFLICT (user_id, lesson_id) DO NOTHING
      RETURNING completed_at
    ), p AS (
      SELECT count(lc.lesson_id) + 1 AS done, count(*) AS total
      FROM lessons l
      LEFT JOIN lesson_completions lc ON lc.lesson_id = l.id AND lc.user_id = ${w.userId}
      WHERE l.course_id = ${w.courseId}
    ), upd AS (
      UPDATE enrolments e
      SET percent = v.percent,
          last_lesson_id = ${w.lessonId},
          last_activity_at = now(),
          completed_at = CASE WHEN v.percent = 100 THEN coalesce(e.completed_at, now()) ELSE e.completed_at END
      FROM (SELECT CASE WHEN total = 0 THEN 0 ELSE least(100, done * 100 / total)::int END AS percent FROM p) v
      WHERE e.user_id = ${w.userId} AND e.course_id = ${w.courseId} AND EXISTS (SELECT 1 FROM ins)
      RETURNING e.percent, e.completed_at
    ), audit AS (
      INSERT INTO audit_log (actor_type, actor_id, action, target_type, target_id, request_id, data)
      SELECT ${w.audit.actorType}, ${w.audit.actorId}, 'lesson.completed', 'lesson', ${w.lessonId}, ${w.audit.requestId},
             jsonb_build_object('course_id', ${w.courseId}::text, 'percent', upd.percent)
      FROM upd
    ), prog AS (
      INSERT INTO intents (kind, idempotency_key, user_id, course_id, args)
      SELECT 'record_progress', 'progress:' || ${w.userId} || ':' || ${w.courseId} || ':' || upd.percent, ${w.userId}, ${w.courseId},
             jsonb_build_object('student', ${w.student}::text, 'course_id', ${hex}::text, 'percent', upd.percent)
      FROM upd
      WHERE upd.percent > 0 AND NOT EXISTS (
        SELECT 1 FROM intents i
        WHERE i.user_id = ${w.userId} AND i.course_id = ${w.courseId} AND i.kind = 'record_progress'
          AND (i.args->>'percent')::int >= upd.percent
      )
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING id
    ), sup AS (
      UPDATE intents SET status = 'superseded', updated_at = now()
      WHERE user_id = ${w.userId} AND course_id = ${w.courseId} AND kind = 'record_progress'
        AND status = 'pending' AND EXISTS (SELECT 1 FROM prog)
    )
    SELECT (SELECT completed_at FROM ins) AS completed_at,
           (SELECT percent FROM upd) AS percent,
           (SELECT completed_at FROM upd) AS course_completed_at,
           (SELECT id FROM prog) AS progress_intent_id`.execute(db);
  return r.rows[0]!;
}

export async function findLessonCompletion(db: Db, userId: string, lessonId: string) {
  return db
    .selectFrom('lesson_completions')
    .select(['completed_at'])
    .where('user_id', '=', userId)
    .where('lesson_id', '=', lessonId)
    .executeTakeFirst();
}

export async function findEnrolmentProgress(db: Db, userId: string, courseId: string) {
  return db
    .selectFrom('enrolments')
    .select(['course_id', 'status', 'percent', 'completed_at', 'last_lesson_id', 'enrolled_at'])
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
    .executeTakeFirst();
}

export async function listEnrolmentProgress(db: Db, userId: string) {
  return db
    .selectFrom('enrolments')
    .innerJoin('courses', 'courses.id', 'enrolments.course_id')
    .select([
      'enrolments.course_id',
      'courses.title',
      'enrolments.status',
      'enrolments.percent',
      'enrolments.completed_at',
      'enrolments.enrolled_at',
    ])
    .where('enrolments.user_id', '=', userId)
    .orderBy('enrolments.enrolled_at', 'desc')
    .execute();
}

/** What the certificate document and the referral reward need, read inside the completion. */
export async function findCompletionSubjects(db: Db, userId: string, courseId: string) {
  return db
    .selectFrom('users as u')
    .innerJoin('courses as c', (j) => j.on('c.id', '=', courseId))
    .innerJoin('users as i', 'i.id', 'c.instructor_id')
    .leftJoin('users as r', 'r.id', 'u.referred_by')
    .select([
      'u.id as user_id',
      'u.display_name',
      'u.stellar_address',
      'u.referred_by',
      'r.stellar_address as referrer_address',
      'c.id as course_id',
      'c.title as course_title',
      'c.slug as course_slug',
      'i.display_name as instructor_name',
    ])
    .where('u.id', '=', userId)
    .executeTakeFirstOrThrow();
}

export async function findOnchainProgress(
  db: Db,
  addresses: readonly string[],
  courseIds: readonly string[],
) {
  if (!addresses.length || !courseIds.length) return [];
  return db
    .selectFrom('onchain_progress')
    .selectAll()
    .where('student_address', 'in', addresses)
    .where('course_id', 'in', courseIds)
    .execute();
}
