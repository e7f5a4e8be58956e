import { sql } from 'kysely';
import type { Db } from '../audit/audit.repository.ts';
import { exactTs, tsValue } from '../catalog/cursor.ts';

/** A course's learners in enrolment order, with progress and certificate state, after a cursor. */
export async function listRoster(
  db: Db,
  courseId: string,
  limit: number,
  after?: { at: string; userId: string },
) {
  let q = db
    .selectFrom('enrolments as e')
    .innerJoin('users as u', 'u.id', 'e.user_id')
    .leftJoin('certificates as c', (j) =>
      j.onRef('c.user_id', '=', 'e.user_id').onRef('c.course_id', '=', 'e.course_id'),
    )
    .select([
      'e.user_id',
      'u.display_name',
      'e.status',
      'e.percent',
      'e.enrolled_at',
      'e.last_activity_at',
      'e.completed_at',
      'c.status as certificate_status',
      exactTs('e.enrolled_at').as('cursor_at'),
      sql<string>`(SELECT count(*) FROM lesson_completions lc WHERE lc.user_id = e.user_id AND lc.course_id = e.course_id)`.as(
        'completed_lessons',
      ),
    ])
    .where('e.course_id', '=', courseId)
    .orderBy('e.enrolled_at')
    .orderBy('e.user_id')
    .limit(limit + 1);
  if (after) {
    q = q.where((eb) =>
      eb.or([
        eb('e.enrolled_at', '>', tsValue(after.at)),
        eb.and([eb('e.enrolled_at', '=', tsValue(after.at)), eb('e.user_id', '>', after.userId)]),
      ]),
    );
  }
  return q.execute();
}

export async function countCourseLessons(db: Db, courseId: string): Promise<number> {
  const r = await db
    .selectFrom('lessons')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('course_id', '=', courseId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
