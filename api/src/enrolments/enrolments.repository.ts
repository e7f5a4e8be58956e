import { sql } from 'kysely';
import type { Db } from '../audit/audit.repository.ts';
import { exactTs, tsValue } from '../catalog/cursor.ts';

/** A course's lessons in learning order (module position, then lesson position). */
export async function listCourseLessonsInOrder(db: Db, courseId: string) {
  return db
    .selectFrom('lessons as l')
    .innerJoin('course_modules as m', 'm.id', 'l.module_id')
    .select([
      'l.id',
      'l.module_id',
      'l.title',
      'l.duration_seconds',
      'l.position',
      'm.position as module_position',
    ])
    .where('l.course_id', '=', courseId)
    .orderBy('m.position')
    .orderBy('l.position')
    .execute();
}

export async function listModulePrerequisites(db: Db, courseId: string) {
  return db
    .selectFrom('module_prerequisites as p')
    .innerJoin('course_modules as m', 'm.id', 'p.module_id')
    .select(['p.module_id', 'p.requires_module_id'])
    .where('m.course_id', '=', courseId)
    .execute();
}

export async function listCompletedLessonIds(db: Db, userId: string, courseId: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('lesson_completions')
    .select('lesson_id')
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
    .execute();
  return new Set(rows.map((r) => r.lesson_id));
}

export async function findLessonCourse(db: Db, lessonId: string) {
  return db
    .selectFrom('lessons as l')
    .innerJoin('courses as c', 'c.id', 'l.course_id')
    .select([
      'l.id as lesson_id',
      'l.module_id',
      'l.course_id',
      'c.status',
      'c.sequential',
      'c.instructor_id',
    ])
    .where('l.id', '=', lessonId)
    .executeTakeFirst();
}

export async function findEnrolment(db: Db, userId: string, courseId: string) {
  return db
    .selectFrom('enrolments')
    .selectAll()
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
    .executeTakeFirst();
}

export async function insertEnrolment(db: Db, userId: string, courseId: string) {
  return db
    .insertInto('enrolments')
    .values({ user_id: userId, course_id: courseId })
    .onConflict((oc) => oc.columns(['user_id', 'course_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function reactivateEnrolment(db: Db, userId: string, courseId: string) {
  return db
    .updateTable('enrolments')
    .set({ status: 'active', unenrolled_at: null, last_activity_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
    .where('status', '=', 'unenrolled')
    .returningAll()
    .executeTakeFirst();
}

export async function markUnenrolled(db: Db, userId: string, courseId: string) {
  return db
    .updateTable('enrolments')
    .set({ status: 'unenrolled', unenrolled_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
    .where('status', '=', 'active')
    .returningAll()
    .executeTakeFirst();
}

export interface EnrolmentCursor {
  at: string;
  courseId: string;
}

function enrolmentViews(db: Db, userId: string) {
  return db
    .selectFrom('enrolments as e')
    .innerJoin('courses as c', 'c.id', 'e.course_id')
    .select([
      'e.course_id',
      'e.status',
      'e.enrolled_at',
      'e.unenrolled_at',
      'e.percent',
      'e.last_lesson_id',
      'e.last_activity_at',
      'e.completed_at',
      'c.slug',
      'c.title',
      'c.status as course_status',
      'c.cover_url',
      'c.sequential',
    ])
    .select(exactTs('e.last_activity_at').as('cursor_at'))
    .select((eb) => [
      eb
        .selectFrom('lessons')
        .select(eb.fn.countAll<string>().as('n'))
        .whereRef('lessons.course_id', '=', 'e.course_id')
        .as('total_lessons'),
      // Completions of lessons the course still has.
      eb
        .selectFrom('lesson_completions as lc')
        .innerJoin('lessons as l2', 'l2.id', 'lc.lesson_id')
        .select(eb.fn.countAll<string>().as('n'))
        .whereRef('lc.course_id', '=', 'e.course_id')
        .whereRef('lc.user_id', '=', 'e.user_id')
        .as('completed_lessons'),
    ])
    .where('e.user_id', '=', userId);
}

export type EnrolmentView = NonNullable<Awaited<ReturnType<typeof findEnrolmentView>>>;

export async function findEnrolmentView(db: Db, userId: string, courseId: string) {
  return enrolmentViews(db, userId).where('e.course_id', '=', courseId).executeTakeFirst();
}

/** My enrolments with one status, most recently active first. */
export async function listEnrolmentsForUser(
  db: Db,
  userId: string,
  status: 'active' | 'unenrolled',
  limit: number,
  after?: EnrolmentCursor,
) {
  let q = enrolmentViews(db, userId).where('e.status', '=', status);
  if (after) {
    q = q.where((eb) =>
      eb(eb.refTuple('e.last_activity_at', 'e.course_id'), '<', eb.tuple(tsValue(after.at), after.courseId)),
    );
  }
  return q
    .orderBy('e.last_activity_at', 'desc')
    .orderBy('e.course_id', 'desc')
    .limit(limit + 1)
    .execute();
}

export async function countActiveEnrolments(db: Db, courseId: string): Promise<number> {
  const r = await db
    .selectFrom('enrolments')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('course_id', '=', courseId)
    .where('status', '=', 'active')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
