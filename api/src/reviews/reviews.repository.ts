import { sql } from 'kysely';
import type { Db } from '../audit/audit.repository.ts';
import { exactTs, tsValue } from '../catalog/cursor.ts';

function reviewsWithAuthor(db: Db) {
  return db
    .selectFrom('course_reviews as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select([
      'r.id',
      'r.course_id',
      'r.user_id',
      'u.display_name',
      'r.rating',
      'r.body',
      'r.hidden',
      'r.flag_count',
      'r.created_at',
      'r.updated_at',
    ])
    .select(exactTs('r.created_at').as('cursor_at'));
}
export type ReviewRow = NonNullable<Awaited<ReturnType<typeof findReview>>>;

export async function findReview(db: Db, id: string) {
  return reviewsWithAuthor(db).where('r.id', '=', id).executeTakeFirst();
}

export async function findReviewByAuthor(db: Db, courseId: string, userId: string) {
  return reviewsWithAuthor(db)
    .where('r.course_id', '=', courseId)
    .where('r.user_id', '=', userId)
    .executeTakeFirst();
}

export async function lockReview(db: Db, id: string) {
  return db.selectFrom('course_reviews').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** Inserts unless the user already reviewed the course (then undefined). */
export async function insertReview(
  db: Db,
  row: { course_id: string; user_id: string; rating: number; body: string },
) {
  return db
    .insertInto('course_reviews')
    .values(row)
    .onConflict((oc) => oc.columns(['course_id', 'user_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
}

export async function updateReview(
  db: Db,
  id: string,
  patch: { rating?: number; body?: string; hidden?: boolean },
): Promise<void> {
  await db
    .updateTable('course_reviews')
    .set({ ...patch, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
}

export async function setReviewHidden(db: Db, id: string, hidden: boolean): Promise<void> {
  await db.updateTable('course_reviews').set({ hidden }).where('id', '=', id).execute();
}

export async function deleteReview(db: Db, id: string): Promise<void> {
  await db.deleteFrom('course_reviews').where('id', '=', id).execute();
}

/** Moves the course's visible-rating totals atomically (never read-modify-write). */
export async function adjustCourseRating(
  db: Db,
  courseId: string,
  sumDelta: number,
  countDelta: number,
): Promise<void> {
  if (!sumDelta && !countDelta) return;
  await db
    .updateTable('courses')
    .set((eb) => ({
      rating_sum: eb('rating_sum', '+', sumDelta),
      rating_count: eb('rating_count', '+', countDelta),
    }))
    .where('id', '=', courseId)
    .execute();
}

export async function listVisibleReviews(
  db: Db,
  courseId: string,
  limit: number,
  after?: { at: string; id: string },
) {
  let q = reviewsWithAuthor(db).where('r.course_id', '=', courseId).where('r.hidden', '=', false);
  if (after)
    q = q.where((eb) => eb(eb.refTuple('r.created_at', 'r.id'), '<', eb.tuple(tsValue(after.at), after.id)));
  return q
    .orderBy('r.created_at', 'desc')
    .orderBy('r.id', 'desc')
    .limit(limit + 1)
    .execute();
}

export async function listFlaggedReviews(db: Db, limit: number, after?: { flags: number; id: string }) {
  let q = reviewsWithAuthor(db).where('r.flag_count', '>', 0);
  if (after)
    q = q.where((eb) => eb(eb.refTuple('r.flag_count', 'r.id'), '<', eb.tuple(after.flags, after.id)));
  return q
    .orderBy('r.flag_count', 'desc')
    .orderBy('r.id', 'desc')
    .limit(limit + 1)
    .execute();
}

/** Inserts the flag and bumps the review's count; false when this user already flagged it. */
export async function insertFlag(db: Db, reviewId: string, userId: string, reason: string): Promise<boolean> {
  const row = await db
    .insertInto('review_flags')
    .values({ review_id: reviewId, user_id: userId, reason })
    .onConflict((oc) => oc.columns(['review_id', 'user_id']).doNothing())
    .returning('review_id')
    .executeTakeFirst();
  if (!row) return false;
  await db
    .updateTable('course_reviews')
    .set((eb) => ({ flag_count: eb('flag_count', '+', 1) }))
    .where('id', '=', reviewId)
    .execute();
  return true;
}

/** Lessons the course has now, and how many of them the user completed. */
export async function courseProgress(
  db: Db,
  userId: string,
  courseId: string,
): Promise<{ done: number; total: number }> {
  const r = await db
    .selectFrom('lessons as l')
    .leftJoin('lesson_completions as lc', (j) =>
      j.onRef('lc.lesson_id', '=', 'l.id').on('lc.user_id', '=', userId),
    )
    .select([sql<string>`count(lc.lesson_id)`.as('done'), sql<string>`count(*)`.as('total')])
    .where('l.course_id', '=', courseId)
    .executeTakeFirstOrThrow();
  return { done: Number(r.done), total: Number(r.total) };
}
