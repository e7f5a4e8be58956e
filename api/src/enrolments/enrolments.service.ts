import type { AppContext } from '../context.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import type { Db } from '../audit/audit.repository.ts';
import type { Principal } from '../auth/principal.ts';
import { conflict, notFound } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../catalog/cursor.ts';
import { findCourse } from '../courses/courses.repository.ts';
import { isStaff } from '../courses/courses.service.ts';
import { insertNotification } from '../notifications/notifications.repository.ts';
import { lessonStatesFor, resumeLessonId } from './access.ts';
import {
  findEnrolment,
  findEnrolmentView,
  insertEnrolment,
  listEnrolmentsForUser,
  markUnenrolled,
  reactivateEnrolment,
  type EnrolmentView,
} from './enrolments.repository.ts';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;
type EnrolmentRow = EnrolmentView;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function createEnrolmentsService(ctx: AppContext) {
  const { db } = ctx;

  async function progress(d: Db, userId: string, courseId: string, sequential: boolean) {
    const { lessons, states } = await lessonStatesFor(d, userId, courseId, sequential);
    const next = resumeLessonId(lessons, states);
    const lesson = next ? lessons.find((l) => l.id === next) : undefined;
    return {
      lessons,
      states,
      resume: lesson ? { id: lesson.id, module_id: lesson.module_id, title: lesson.title } : null,
    };
  }

  async function shape(d: Db, userId: string, e: EnrolmentRow) {
    const p = await progress(d, userId, e.course_id, e.sequential);
    return {
      view: {
        course: {
          id: e.course_id,
          slug: e.slug,
          title: e.title,
          status: e.course_status,
          cover_url: e.cover_url,
        },
        status: e.status as 'active' | 'unenrolled',
        enrolled_at: e.enrolled_at.toISOString(),
        unenrolled_at: iso(e.unenrolled_at),
        percent: e.percent,
        completed_lessons: Number(e.completed_lessons ?? 0),
        total_lessons: Number(e.total_lessons ?? 0),
        completed_at: iso(e.completed_at),
        last_activity_at: e.last_activity_at.toISOString(),
        last_lesson_id: e.last_lesson_id,
        resume: p.resume,
      },
      progress: p,
    };
  }

  /** One enrolment of the user, whatever its status. */
  async function one(d: Db, userId: string, courseId: string) {
    const row = await findEnrolmentView(d, userId, courseId);
    if (!row) throw notFound('enrolment_not_found', 'You are not enrolled in that course.');
    return shape(d, userId, row);
  }

  return {
    /**
     * Enrols the user in a published course. Idempotent: an active enrolment is returned as it is
     * (created: false); a past one is reactivated with its progress.
     */
    async enrol(principal: UserPrincipal, courseId: string, requestId: string) {
      const result = await db.transaction().execute(async (trx) => {
        const course = await findCourse(trx, courseId);
        if (!course || (course.status !== 'published' && !isStaff(principal, course))) {
          throw notFound('course_not_found', 'No course with that id.');
        }
        if (course.status !== 'published')
          throw conflict('course_not_open', 'Only published courses take enrolments.');
        const created = await insertEnrolment(trx, principal.userId, courseId);
        const reactivated = created ? undefined : await reactivateEnrolment(trx, principal.userId, courseId);
        if (created || reactivated) {
          await recordAudit(trx, {
            actor: principal,
            action: created ? 'enrolment.created' : 'enrolment.reactivated',
            targetType: 'course',
            targetId: courseId,
            requestId,
          });
          await insertNotification(trx, {
            userId: principal.userId,
            kind: 'enrolment',
            title: `You are enrolled in ${course.title}`,
            body: 'Start with the first lesson whenever you are ready.',
            data: { course_id: courseId, course_slug: course.slug },
          });
        }
        return { created: Boolean(created) };
      });
      return { created: result.created, enrolment: (await one(db, principal.userId, courseId)).view };
    },

    async unenrol(principal: UserPrincipal, courseId: string, requestId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const row = await markUnenrolled(trx, principal.userId, courseId);
        if (!row) throw notFound('enrolment_not_found', 'You are not enrolled in that course.');
        await recordAudit(trx, {
          actor: principal,
          action: 'enrolment.cancelled',
          targetType: 'course',
          targetId: courseId,
          requestId,
        });
      });
    },

    async list(userId: string, status: 'active' | 'unenrolled', limit: number, cursor?: string) {
      const after = cursor ? decodeCursor(cursor, ['date', 'uuid'] as const) : undefined;
      const rows = await listEnrolmentsForUser(
        db,
        userId,
        status,
        limit,
        after ? { at: after[0], courseId: after[1] } : undefined,
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const enrolments = [];
      for (const e of page) enrolments.push((await shape(db, userId, e)).view);
      return {
        enrolments,
        next_cursor: rows.length > limit && last ? encodeCursor([last.cursor_at, last.course_id]) : null,
      };
    },

    /** My enrolment in one course with every lesson's state (completed, open, or what locks it). */
    async detail(userId: string, courseId: string) {
      const { view, progress: p } = await one(db, userId, courseId);
      return {
        ...view,
        lessons: p.lessons.map((l) => {
          const s = p.states.get(l.id)!;
          return {
            lesson_id: l.id,
            module_id: l.module_id,
            title: l.title,
            completed: s.completed,
            open: s.open,
            locked_by: s.locked_by,
          };
        }),
      };
    },

    async resume(userId: string, courseId: string) {
      const e = await findEnrolment(db, userId, courseId);
      const course = await findCourse(db, courseId);
      if (!e || e.status !== 'active' || !course)
        throw notFound('enrolment_not_found', 'You are not enrolled in that course.');
      const p = await progress(db, userId, courseId, course.sequential);
      const completed = p.lessons.length > 0 && p.lessons.every((l) => p.states.get(l.id)?.completed);
      return { course_id: courseId, completed, lesson: p.resume };
    },
  };
}

export type EnrolmentsService = ReturnType<typeof createEnrolmentsService>;
