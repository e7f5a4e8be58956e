// Reviews: one per learner per course, once they have completed at least half of it. The course's
// rating_sum/rating_count always equal the sum/count of its visible reviews: every change moves
// them by a delta in the same transaction, with the review row locked.
import type { AppContext } from '../context.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import type { Principal } from '../auth/principal.ts';
import { conflict, forbidden, notFound } from '../errors.ts';
import type { CatalogCache } from '../catalog/catalog.cache.ts';
import { decodeCursor, encodeCursor } from '../catalog/cursor.ts';
import { findCourse } from '../courses/courses.repository.ts';
import { isStaff, ratingOf, type Viewer } from '../courses/courses.service.ts';
import {
  adjustCourseRating,
  courseProgress,
  deleteReview,
  findReview,
  findReviewByAuthor,
  insertFlag,
  insertReview,
  listFlaggedReviews,
  listVisibleReviews,
  lockReview,
  setReviewHidden,
  updateReview,
  type ReviewRow,
} from './reviews.repository.ts';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

/** Share of the course a learner must have completed before reviewing it. */
export const REVIEW_MIN_PROGRESS = 0.5;

function toReview(r: ReviewRow) {
  return {
    id: r.id,
    course_id: r.course_id,
    author: { id: r.user_id, display_name: r.display_name },
    rating: r.rating,
    body: r.body,
    edited: r.updated_at.getTime() > r.created_at.getTime(),
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}

const toModerated = (r: ReviewRow) => ({ ...toReview(r), hidden: r.hidden, flag_count: r.flag_count });

export function createReviewsService(ctx: AppContext, cache: CatalogCache) {
  const { db } = ctx;

  /** A review visible to this viewer: its course is visible and it is not hidden (its author and admins still see it). */
  async function visibleReview(viewer: Viewer, id: string) {
    const r = await findReview(db, id);
    const c = r ? await findCourse(db, r.course_id) : undefined;
    const admin = viewer?.role === 'admin';
    const hiddenFromViewer = r?.hidden && viewer?.userId !== r.user_id;
    if (!r || !c || (!admin && (hiddenFromViewer || (c.status !== 'published' && !isStaff(viewer, c))))) {
      throw notFound('review_not_found', 'No review with that id.');
    }
    return r;
  }

  async function after<T>(fn: () => Promise<T>): Promise<T> {
    const out = await fn();
    await cache.invalidate();
    return out;
  }

  return {
    async create(
      principal: UserPrincipal,
      courseId: string,
      body: { rating: number; body?: string },
      requestId: string,
    ) {
      const id = await after(() =>
        db.transaction().execute(async (trx) => {
          const course = await findCourse(trx, courseId);
          if (!course || course.status !== 'published')
            throw notFound('course_not_found', 'No course with that id.');
          if (course.instructor_id === principal.userId)
            throw forbidden('own_course', 'Instructors cannot review their own course.');
          const { done, total } = await courseProgress(trx, principal.userId, courseId);
          if (total === 0 || done < total * REVIEW_MIN_PROGRESS) {
            throw forbidden(
              'review_too_early',
              `Complete at least half of the course before reviewing it (${done} of ${total} lessons done).`,
            );
          }
          const row = await insertReview(trx, {
            course_id: courseId,
            user_id: principal.userId,
            rating: body.rating,
            body: body.body ?? '',
          });
          if (!row)
            throw conflict(
              'review_exists',
              'You have already reviewed this course; edit your review instead.',
            );
          await adjustCourseRating(trx, courseId, body.rating, 1);
          await recordAudit(trx, {
            actor: principal,
            action: 'review.created',
            targetType: 'review',
            targetId: row.id,
            requestId,
            data: { course_id: courseId, rating: body.rating },
          });
          return row.id;
        }),
      );
      return toReview((await findReview(db, id))!);
    },

    async list(viewer: Viewer, courseId: string, limit: number, cursor?: string) {
      const c = await findCourse(db, courseId);
      if (!c || (c.status !== 'published' && !isStaff(viewer, c)))
        throw notFound('course_not_found', 'No course with that id.');
      const at = cursor ? decodeCursor(cursor, ['date', 'uuid'] as const) : undefined;
      const rows = await listVisibleReviews(db, courseId, limit, at ? { at: at[0], id: at[1] } : undefined);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        rating: ratingOf(c),
        reviews: page.map(toReview),
        next_cursor: rows.length > limit && last ? encodeCursor([last.cursor_at, last.id]) : null,
      };
    },

    /**
     * The caller's own review of a course (hidden or not) and whether they may write one now, so a
     * page offers an edit form, a review form, or says how far they still have to go.
     */
    async mine(principal: UserPrincipal, courseId: string) {
      const c = await findCourse(db, courseId);
      if (!c || (c.status !== 'published' && !isStaff(principal, c)))
        throw notFound('course_not_found', 'No course with that id.');
      const [row, { done, total }] = await Promise.all([
        findReviewByAuthor(db, courseId, principal.userId),
        courseProgress(db, principal.userId, courseId),
      ]);
      const needed = Math.ceil(total * REVIEW_MIN_PROGRESS);
      return {
        review: row ? { ...toReview(row), hidden: row.hidden } : null,
        can_review:
          !row &&
          c.status === 'published' &&
          c.instructor_id !== principal.userId &&
          total > 0 &&
          done >= needed,
        completed_lessons: done,
        lessons_needed: needed,
      };
    },

    async get(viewer: Viewer, id: string) {
      return toReview(await visibleReview(viewer, id));
    },

    async update(
      principal: UserPrincipal,
      id: string,
      patch: { rating?: number; body?: string },
      requestId: string,
    ) {
      await after(() =>
        db.transaction().execute(async (trx) => {
          const r = await lockReview(trx, id);
          if (!r || r.user_id !== principal.userId)
            throw notFound('review_not_found', 'No review of yours with that id.');
          await updateReview(trx, id, patch);
          if (!r.hidden && patch.rating !== undefined)
            await adjustCourseRating(trx, r.course_id, patch.rating - r.rating, 0);
          await recordAudit(trx, {
            actor: principal,
            action: 'review.updated',
            targetType: 'review',
            targetId: id,
            requestId,
            data: { from: r.rating, to: patch.rating ?? r.rating },
          });
        }),
      );
      return toReview((await findReview(db, id))!);
    },

    /** Authors delete their own; admins any. */
    async remove(principal: UserPrincipal, id: string, requestId: string): Promise<void> {
      await after(() =>
        db.transaction().execute(async (trx) => {
          const r = await lockReview(trx, id);
          if (!r || (r.user_id !== principal.userId && principal.role !== 'admin'))
            throw notFound('review_not_found', 'No review of yours with that id.');
          await deleteReview(trx, id);
          if (!r.hidden) await adjustCourseRating(trx, r.course_id, -r.rating, -1);
          await recordAudit(trx, {
            actor: principal,
            action: 'review.deleted',
            targetType: 'review',
            targetId: id,
            requestId,
            data: { course_id: r.course_id, by_author: r.user_id === principal.userId },
          });
        }),
      );
    },

    /** Flags a review for moderators; once per user, never one's own. */
    async flag(principal: UserPrincipal, id: string, reason: string, requestId: string) {
      const r = await visibleReview(principal, id);
      if (r.user_id === principal.userId) throw forbidden('own_review', 'You cannot flag your own review.');
      await db.transaction().execute(async (trx) => {
        if (!(await insertFlag(trx, id, principal.userId, reason.trim())))
          throw conflict('already_flagged', 'You have already flagged this review.');
        await recordAudit(trx, {
          actor: principal,
          action: 'review.flagged',
          targetType: 'review',
          targetId: id,
          requestId,
        });
      });
      return { review_id: id, flagged: true };
    },

    /** Admins hide (or restore) a review; hidden reviews leave the list and the course's rating. */
    async setHidden(principal: UserPrincipal, id: string, hidden: boolean, requestId: string) {
      await after(() =>
        db.transaction().execute(async (trx) => {
          const r = await lockReview(trx, id);
          if (!r) throw notFound('review_not_found', 'No review with that id.');
          if (r.hidden === hidden) return;
          await setReviewHidden(trx, id, hidden);
          await adjustCourseRating(trx, r.course_id, hidden ? -r.rating : r.rating, hidden ? -1 : 1);
          await recordAudit(trx, {
            actor: principal,
            action: hidden ? 'review.hidden' : 'review.restored',
            targetType: 'review',
            targetId: id,
            requestId,
          });
        }),
      );
      return toModerated((await findReview(db, id))!);
    },

    async flagged(limit: number, cursor?: string) {
      const at = cursor ? decodeCursor(cursor, ['number', 'uuid'] as const) : undefined;
      const rows = await listFlaggedReviews(db, limit, at ? { flags: at[0], id: at[1] } : undefined);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        reviews: page.map(toModerated),
        next_cursor: rows.length > limit && last ? encodeCursor([last.flag_count, last.id]) : null,
      };
    },
  };
}

export type ReviewsService = ReturnType<typeof createReviewsService>;
