import { sql, type Insertable, type Updateable } from 'kysely';
import type { Courses, CourseStatus, Lessons } from '@starling/migrations';
import type { Db } from '../audit/audit.repository.ts';
import { exactTs, tsValue } from '../catalog/cursor.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function insertCourse(db: Db, row: Insertable<Courses>) {
  return db.insertInto('courses').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findCourse(db: Db, id: string) {
  return db.selectFrom('courses').selectAll().where('id', '=', id).executeTakeFirst();
}

/** By id or slug. */
export async function findCourseByRef(db: Db, ref: string) {
  return db
    .selectFrom('courses')
    .selectAll()
    .where(UUID.test(ref) ? 'id' : 'slug', '=', ref)
    .executeTakeFirst();
}

/** Locks the course row: every change to a course's structure takes this lock first, so positions stay dense. */
export async function lockCourse(db: Db, id: string) {
  return db.selectFrom('courses').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateCourse(db: Db, id: string, patch: Updateable<Courses>) {
  return db
    .updateTable('courses')
    .set({ ...patch, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function touchCourse(db: Db, id: string): Promise<void> {
  await db
    .updateTable('courses')
    .set({ updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
}

/** Whether the user is the instructor of any course (drafts included: they may be published later). */
export async function instructsAnyCourse(db: Db, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('courses')
    .select('id')
    .where('instructor_id', '=', userId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function findInstructor(db: Db, id: string) {
  return db.selectFrom('users').select(['id', 'display_name', 'bio']).where('id', '=', id).executeTakeFirst();
}

export async function listModules(db: Db, courseId: string) {
  return db
    .selectFrom('course_modules')
    .selectAll()
    .where('course_id', '=', courseId)
    .orderBy('position')
    .execute();
}

export async function listLessonsOfCourse(db: Db, courseId: string) {
  return db
    .selectFrom('lessons')
    .select(['id', 'module_id', 'title', 'position', 'duration_seconds', 'video_url'])
    .where('course_id', '=', courseId)
    .orderBy('position')
    .execute();
}

export async function findModule(db: Db, id: string) {
  return db.selectFrom('course_modules').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function nextModulePosition(db: Db, courseId: string): Promise<number> {
  const r = await db
    .selectFrom('course_modules')
    .select(sql<number>`coalesce(max(position) + 1, 0)::int`.as('next'))
    .where('course_id', '=', courseId)
    .executeTakeFirstOrThrow();
  return r.next;
}

export async function insertModule(db: Db, row: { course_id: string; title: string; position: number }) {
  return db.insertInto('course_modules').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function renameModule(db: Db, id: string, title: string) {
  return db
    .updateTable('course_modules')
    .set({ title })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteModule(db: Db, id: string): Promise<void> {
  await db.deleteFrom('course_modules').where('id', '=', id).execute();
}

/** Sets each row's position to its index in `ids` (the caller has checked the set is complete). */
export async function setPositions(
  db: Db,
  table: 'course_modules' | 'lessons',
  ids: readonly string[],
): Promise<void> {
  if (!ids.length) return;
  await sql`
    UPDATE ${sql.table(table)} AS t SET position = (v.ord - 1)::int
    FROM unnest(${sql.val(ids)}::uuid[]) WITH ORDINALITY AS v(id, ord)
    WHERE t.id = v.id
  `.execute(db);
}

export async function listPrerequisites(db: Db, moduleIds: readonly string[]) {
  if (!moduleIds.length) return [];
  return db.selectFrom('module_prerequisites').selectAll().where('module_id', 'in', moduleIds).execute();
}

export async function replacePrerequisites(
  db: Db,
  moduleId: string,
  requires: readonly string[],
): Promise<void> {
  await db.deleteFrom('module_prerequisites').where('module_id', '=', moduleId).execute();
  if (requires.length) {
    await db
      .insertInto('module_prerequisites')
      .values(requires.map((r) => ({ module_id: moduleId, requires_module_id: r })))
      .execute();
  }
}

export async function countCompletionsOf(
  db: Db,
  by: { lessonId: string } | { moduleId: string },
): Promise<number> {
  let q = db.selectFrom('lesson_completions as lc').select((eb) => eb.fn.countAll<string>().as('n'));
  q =
    'lessonId' in by
      ? q.where('lc.lesson_id', '=', by.lessonId)
      : q.where('lc.lesson_id', 'in', (eb) =>
          eb.selectFrom('lessons').select('id').where('module_id', '=', by.moduleId),
        );
  return Number((await q.executeTakeFirstOrThrow()).n);
}

export async function countLessons(db: Db, courseId: string): Promise<number> {
  const r = await db
    .selectFrom('lessons')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('course_id', '=', courseId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function findLesson(db: Db, id: string) {
  return db.selectFrom('lessons').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listLessonIdsOfModule(db: Db, moduleId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('lessons')
    .select('id')
    .where('module_id', '=', moduleId)
    .orderBy('position')
    .execute();
  return rows.map((r) => r.id);
}

export async function listModuleIdsOfCourse(db: Db, courseId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('course_modules')
    .select('id')
    .where('course_id', '=', courseId)
    .orderBy('position')
    .execute();
  return rows.map((r) => r.id);
}

export async function insertLesson(db: Db, row: Insertable<Lessons>) {
  return db.insertInto('lessons').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function nextLessonPosition(db: Db, moduleId: string): Promise<number> {
  const r = await db
    .selectFrom('lessons')
    .select(sql<number>`coalesce(max(position) + 1, 0)::int`.as('next'))
    .where('module_id', '=', moduleId)
    .executeTakeFirstOrThrow();
  return r.next;
}

export async function updateLesson(db: Db, id: string, patch: Updateable<Lessons>) {
  return db
    .updateTable('lessons')
    .set({ ...patch, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteLesson(db: Db, id: string): Promise<void> {
  await db.deleteFrom('lessons').where('id', '=', id).execute();
}

export interface TeachingCursor {
  at: string;
  id: string;
}

export async function listCoursesOfInstructor(
  db: Db,
  instructorId: string | null,
  status: CourseStatus | undefined,
  limit: number,
  after?: TeachingCursor,
) {
  let q = db.selectFrom('courses').selectAll().select(exactTs('updated_at').as('cursor_at'));
  if (instructorId) q = q.where('instructor_id', '=', instructorId);
  if (status) q = q.where('status', '=', status);
  if (after)
    q = q.where((eb) => eb(eb.refTuple('updated_at', 'id'), '<', eb.tuple(tsValue(after.at), after.id)));
  return q
    .orderBy('updated_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
}
