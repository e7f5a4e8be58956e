// Course forums. Only the course's members post or read: learners with an active enrolment and the
// course's staff (its instructor, admins). Staff pin threads and mark answers; authors edit and
// delete their own; admins (moderators) remove anything. A reply notifies the thread's author.
import type { AppContext } from '../context.ts';
import { recordAudit, type Db } from '../audit/audit.repository.ts';
import type { Principal } from '../auth/principal.ts';
import { badRequest, forbidden, notFound } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../catalog/cursor.ts';
import { findCourse } from '../courses/courses.repository.ts';
import { isStaff, type CourseRow } from '../courses/courses.service.ts';
import { findEnrolment } from '../enrolments/enrolments.repository.ts';
import { insertNotification } from '../notifications/notifications.repository.ts';
import {
  clearAnswerIf,
  findPost,
  findThread,
  insertPost,
  insertThread,
  lessonBelongsTo,
  listPosts,
  listThreads,
  lockThread,
  softDeletePost,
  softDeleteThread,
  updatePost,
  updateThread,
  type PostRow,
  type ThreadRow,
} from './forums.repository.ts';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

const staffAuthor = (course: CourseRow, authorId: string, role: string) =>
  authorId === course.instructor_id || role === 'admin';

function toThread(course: CourseRow, t: ThreadRow) {
  return {
    id: t.id,
    course_id: t.course_id,
    lesson_id: t.lesson_id,
    author: {
      id: t.author_id,
      display_name: t.display_name,
      staff: staffAuthor(course, t.author_id, t.author_role),
    },
    title: t.title,
    body: t.body,
    pinned: t.pinned,
    answer_post_id: t.answer_post_id,
    reply_count: Number(t.reply_count ?? 0),
    created_at: t.created_at.toISOString(),
    updated_at: t.updated_at.toISOString(),
  };
}

function toPost(course: CourseRow, answerId: string | null, p: PostRow) {
  return {
    id: p.id,
    thread_id: p.thread_id,
    author: {
      id: p.author_id,
      display_name: p.display_name,
      staff: staffAuthor(course, p.author_id, p.author_role),
    },
    body: p.body,
    is_answer: p.id === answerId,
    created_at: p.created_at.toISOString(),
    updated_at: p.updated_at.toISOString(),
  };
}

export function createForumsService(ctx: AppContext) {
  const { db } = ctx;

  /** The course if the user is one of its members; 404 when they cannot see it, 403 when they may not take part. */
  async function membership(
    d: Db,
    user: UserPrincipal,
    courseId: string,
  ): Promise<{ course: CourseRow; staff: boolean }> {
    const course = await findCourse(d, courseId);
    if (!course) throw notFound('course_not_found', 'No course with that id.');
    if (isStaff(user, course)) return { course, staff: true };
    if (course.status !== 'published') throw notFound('course_not_found', 'No course with that id.');
    const e = await findEnrolment(d, user.userId, courseId);
    if (!e || e.status !== 'active')
      throw forbidden('not_enrolled', 'The forum is for learners enrolled in the course and its staff.');
    return { course, staff: false };
  }

  async function threadFor(d: Db, user: UserPrincipal, threadId: string) {
    const thread = await findThread(d, threadId);
    if (!thread) throw notFound('thread_not_found', 'No thread with that id.');
    return { thread, ...(await membership(d, user, thread.course_id)) };
  }

  async function postFor(d: Db, user: UserPrincipal, postId: string) {
    const post = await findPost(d, postId);
    if (!post) throw notFound('post_not_found', 'No post with that id.');
    return { post, ...(await threadFor(d, user, post.thread_id)) };
  }

  async function threadView(user: UserPrincipal, threadId: string) {
    const { thread, course } = await threadFor(db, user, threadId);
    return toThread(course, thread);
  }

  return {
    async listThreads(
      user: UserPrincipal,
      courseId: string,
      q: { lesson_id?: string; cursor?: string; limit?: number },
    ) {
      const { course } = await membership(db, user, courseId);
      const limit = q.limit ?? 20;
      const at = q.cursor ? decodeCursor(q.cursor, ['number', 'date', 'uuid'] as const) : undefined;
      const rows = await listThreads(
        db,
        courseId,
        q.lesson_id,
        limit,
        at ? { pinned: at[0], at: at[1], id: at[2] } : undefined,
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        threads: page.map((t) => toThread(course, t)),
        next_cursor:
          rows.length > limit && last ? encodeCursor([last.pinned ? 1 : 0, last.cursor_at, last.id]) : null,
      };
    },

    async createThread(
      user: UserPrincipal,
      courseId: string,
      body: { title: string; body: string; lesson_id?: string },
      requestId: string,
    ) {
      const id = await db.transaction().execute(async (trx) => {
        await membership(trx, user, courseId);
        if (body.lesson_id && !(await lessonBelongsTo(trx, body.lesson_id, courseId))) {
          throw badRequest('unknown_lesson', 'That lesson is not part of this course.', 'lesson_id');
        }
        const row = await insertThread(trx, {
          course_id: courseId,
          lesson_id: body.lesson_id ?? null,
          author_id: user.userId,
          title: body.title.trim(),
          body: body.body,
        });
        await recordAudit(trx, {
          actor: user,
          action: 'forum.thread_created',
          targetType: 'forum_thread',
          targetId: row.id,
          requestId,
          data: { course_id: courseId },
        });
        return row.id;
      });
      return threadView(user, id);
    },

    thread: threadView,

    async updateThread(
      user: UserPrincipal,
      threadId: string,
      patch: { title?: string; body?: string },
      requestId: string,
    ) {
      await db.transaction().execute(async (trx) => {
        const { thread } = await threadFor(trx, user, threadId);
        if (thread.author_id !== user.userId)
          throw forbidden('not_author', 'Only the author edits a thread.');
        await lockThread(trx, threadId);
        await updateThread(trx, threadId, {
          ...(patch.title !== undefined ? { title: patch.title.trim() } : {}),
          ...(patch.body !== undefined ? { body: patch.body } : {}),
        });
        await recordAudit(trx, {
          actor: user,
          action: 'forum.thread_updated',
          targetType: 'forum_thread',
          targetId: threadId,
          requestId,
          data: { fields: Object.keys(patch) },
        });
      });
      return threadView(user, threadId);
    },

    /** Authors delete their own thread; admins remove any (recorded as removed_by). */
    async deleteThread(user: UserPrincipal, threadId: string, requestId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const { thread } = await threadFor(trx, user, threadId);
        const own = thread.author_id === user.userId;
        if (!own && user.role !== 'admin')
          throw forbidden('not_author', 'Only the author or a moderator deletes a thread.');
        await lockThread(trx, threadId);
        await softDeleteThread(trx, threadId, own ? null : user.userId);
        await recordAudit(trx, {
          actor: user,
          action: own ? 'forum.thread_deleted' : 'forum.thread_removed',
          targetType: 'forum_thread',
          targetId: threadId,
          requestId,
        });
      });
    },

    async pin(user: UserPrincipal, threadId: string, pinned: boolean, requestId: string) {
      await db.transaction().execute(async (trx) => {
        const { staff } = await threadFor(trx, user, threadId);
        if (!staff) throw forbidden('staff_only', 'Only the course’s instructor or an admin pins threads.');
        await lockThread(trx, threadId);
        await updateThread(trx, threadId, { pinned });
        await recordAudit(trx, {
          actor: user,
          action: pinned ? 'forum.thread_pinned' : 'forum.thread_unpinned',
          targetType: 'forum_thread',
          targetId: threadId,
          requestId,
        });
      });
      return threadView(user, threadId);
    },

    async markAnswer(user: UserPrincipal, threadId: string, postId: string | null, requestId: string) {
      await db.transaction().execute(async (trx) => {
        const { staff } = await threadFor(trx, user, threadId);
        if (!staff) throw forbidden('staff_only', 'Only the course’s instructor or an admin marks answers.');
        await lockThread(trx, threadId);
        if (postId) {
          const post = await findPost(trx, postId);
          if (!post || post.thread_id !== threadId)
            throw badRequest('unknown_post', 'That post is not a reply in this thread.', 'post_id');
        }
        await updateThread(trx, threadId, { answer_post_id: postId });
        await recordAudit(trx, {
          actor: user,
          action: 'forum.answer_marked',
          targetType: 'forum_thread',
          targetId: threadId,
          requestId,
          data: { post_id: postId },
        });
      });
      return threadView(user, threadId);
    },

    async listPosts(user: UserPrincipal, threadId: string, limit: number, cursor?: string) {
      const { thread, course } = await threadFor(db, user, threadId);
      const at = cursor ? decodeCursor(cursor, ['date', 'uuid'] as const) : undefined;
      const rows = await listPosts(db, threadId, limit, at ? { at: at[0], id: at[1] } : undefined);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        posts: page.map((p) => toPost(course, thread.answer_post_id, p)),
        next_cursor: rows.length > limit && last ? encodeCursor([last.cursor_at, last.id]) : null,
      };
    },

    /** A reply; the thread's author (unless replying to themselves) is notified in the same transaction. */
    async reply(user: UserPrincipal, threadId: string, body: string, requestId: string) {
      const { postId, course, answer } = await db.transaction().execute(async (trx) => {
        const { thread, course } = await threadFor(trx, user, threadId);
        await lockThread(trx, threadId);
        const row = await insertPost(trx, { thread_id: threadId, author_id: user.userId, body });
        await recordAudit(trx, {
          actor: user,
          action: 'forum.post_created',
          targetType: 'forum_post',
          targetId: row.id,
          requestId,
          data: { thread_id: threadId },
        });
        if (thread.author_id !== user.userId) {
          await insertNotification(trx, {
            userId: thread.author_id,
            kind: 'forum_reply',
            title: `New reply to “${thread.title}”`,
            body: body.slice(0, 280),
            data: { thread_id: threadId, post_id: row.id, course_id: thread.course_id },
            dedupeKey: `forum_reply:${row.id}`,
          });
        }
        return { postId: row.id, course, answer: thread.answer_post_id };
      });
      return toPost(course, answer, (await findPost(db, postId))!);
    },

    async updatePost(user: UserPrincipal, postId: string, body: string, requestId: string) {
      const { course, thread } = await db.transaction().execute(async (trx) => {
        const found = await postFor(trx, user, postId);
        if (found.post.author_id !== user.userId)
          throw forbidden('not_author', 'Only the author edits a post.');
        await updatePost(trx, postId, body);
        await recordAudit(trx, {
          actor: user,
          action: 'forum.post_updated',
          targetType: 'forum_post',
          targetId: postId,
          requestId,
        });
        return found;
      });
      return toPost(course, thread.answer_post_id, (await findPost(db, postId))!);
    },

    /** Authors delete their own reply; admins remove any. A removed answer stops being the answer. */
    async deletePost(user: UserPrincipal, postId: string, requestId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const { post } = await postFor(trx, user, postId);
        const own = post.author_id === user.userId;
        if (!own && user.role !== 'admin')
          throw forbidden('not_author', 'Only the author or a moderator deletes a post.');
        await lockThread(trx, post.thread_id);
        await softDeletePost(trx, postId, own ? null : user.userId);
        await clearAnswerIf(trx, post.thread_id, postId);
        await recordAudit(trx, {
          actor: user,
          action: own ? 'forum.post_deleted' : 'forum.post_removed',
          targetType: 'forum_post',
          targetId: postId,
          requestId,
        });
      });
    },
  };
}

export type ForumsService = ReturnType<typeof createForumsService>;
