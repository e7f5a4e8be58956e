// SQL for lesson completion and the learner's progress. Callers own the transaction.
import { sql } from 'kysely';
import type { Db } from '../audit/audit.repository.ts';

/**
 * Locks the learner's enrolment in the lesson's course (FOR UPDATE): completions of one learner in
 * one course run one after another, so each sees the others' rows when it computes the percent.
 */
export async function lockEnrolmentForLesson(db: Db, userId: string, lessonId: string) {
  return db
    .selectFrom('enrolments')
    .innerJoin('lessons', 'lessons.course_id', 'enrolments.course_id')
    .select(['enrolments.course_id', 'enrolments.status', 'enrolments.percent', 'enrolments.completed_at'])
    .where('lessons.id', '=', lessonId)
    .where('enrolments.user_id', '=', userId)
    .forUpdate('enrolments')
    .executeTakeFirst();
}

export async function insertLessonCompletion(db: Db, userId: string, lessonId: string, courseId: string): Promise<boolean> {
  const row = await db
    .insertInto('lesson_completions')
    .values({ user_id: userId, lesson_id: lessonId, course_id: courseId })
    .onConflict((oc) => oc.columns(['user_id', 'lesson_id']).doNothing())
    .returning('lesson_id')
    .executeTakeFirst();
  return Boolean(row);
}

export async function findLessonCompletion(db: Db, userId: string, lessonId: string) {
  return db
    .selectFrom('lesson_completions')
    .select(['completed_at'])
    .where('user_id', '=', userId)
    .where('lesson_id', '=', lessonId)
    .executeTakeFirst();
}

/** Completed lessons that still belong to the course, and the course's lesson count. */
export async function countCourseProgress(db: Db, userId: string, courseId: string): Promise<{ done: number; total: number }> {
  const r = await db
    .selectFrom('lessons as l')
    .leftJoin('lesson_completions as lc', (j) => j.onRef('lc.lesson_id', '=', 'l.id').on('lc.user_id', '=', userId))
    .select([sql<string>`count(lc.lesson_id)`.as('done'), sql<string>`count(*)`.as('total')])
    .where('l.course_id', '=', courseId)
    .executeTakeFirstOrThrow();
  return { done: Number(r.done), total: Number(r.total) };
}

export async function updateEnrolmentProgress(
  db: Db,
  userId: string,
  courseId: string,
  p: { percent: number; lastLessonId: string; completedNow: boolean },
) {
  await db
    .updateTable('enrolments')
    .set({
      percent: p.percent,
      last_lesson_id: p.lastLessonId,
      last_activity_at: sql<Date>`now()`,
      ...(p.completedNow ? { completed_at: sql<Date>`now()` } : {}),
    })
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
    .execute();
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

export async function findUserAddress(db: Db, userId: string) {
  return db.selectFrom('users').select(['stellar_address']).where('id', '=', userId).executeTakeFirst();
}

export async function findOnchainProgress(db: Db, addresses: readonly string[], courseIds: readonly string[]) {
  if (!addresses.length || !courseIds.length) return [];
  return db
    .selectFrom('onchain_progress')
    .selectAll()
    .where('student_address', 'in', addresses)
    .where('course_id', 'in', courseIds)
    .execute();
}
