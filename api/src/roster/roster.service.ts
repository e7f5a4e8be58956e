// The instructor's view of a course's learners. Only the course's instructor and admins see it; to
// anyone else the course does not exist (404), as for its drafts.
import type { AppContext } from '../context.ts';
import { notFound } from '../errors.ts';
import type { Principal } from '../auth/principal.ts';
import { decodeCursor, encodeCursor } from '../catalog/cursor.ts';
import { findCourse } from '../courses/courses.repository.ts';
import { isStaff } from '../courses/courses.service.ts';
import { countCourseLessons, listRoster } from './roster.repository.ts';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

export function createRosterService(ctx: AppContext) {
  return {
    async roster(principal: UserPrincipal, courseId: string, limit: number, cursor?: string) {
      const course = await findCourse(ctx.db, courseId);
      if (!course || !isStaff(principal, course))
        throw notFound('course_not_found', 'No course with that id that you teach.');
      const after = cursor ? decodeCursor(cursor, ['date', 'uuid'] as const) : undefined;
      const [rows, total] = await Promise.all([
        listRoster(ctx.db, courseId, limit, after ? { at: after[0], userId: after[1] } : undefined),
        countCourseLessons(ctx.db, courseId),
      ]);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        course_id: courseId,
        total_lessons: total,
        learners: page.map((r) => ({
          user: { id: r.user_id, display_name: r.display_name },
          status: r.status as 'active' | 'unenrolled',
          percent: r.percent,
          completed_lessons: Number(r.completed_lessons),
          total_lessons: total,
          enrolled_at: r.enrolled_at.toISOString(),
          last_activity_at: r.last_activity_at.toISOString(),
          completed_at: r.completed_at?.toISOString() ?? null,
          certificate_status: r.certificate_status,
        })),
        next_cursor: rows.length > limit && last ? encodeCursor([last.cursor_at, last.user_id]) : null,
      };
    },
  };
}
