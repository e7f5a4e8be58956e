import { error } from '@sveltejs/kit';
import { orNull, type Course } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { requireUser } from '$lib/server/guard.ts';
import type { PageServerLoad } from './$types';

/** One learner as GET /v1/courses/:id/roster returns them (api/src/routes/roster). */
export interface RosterEntry {
  user: { id: string; display_name: string };
  status: 'active' | 'unenrolled';
  percent: number;
  completed_lessons: number;
  total_lessons: number;
  enrolled_at: string;
  last_activity_at: string;
  completed_at: string | null;
  certificate_status: 'pending' | 'confirmed' | 'revoked' | null;
}

interface Roster {
  course_id: string;
  total_lessons: number;
  learners: RosterEntry[];
  next_cursor: string | null;
}

export const load: PageServerLoad = async (event) => {
  await requireUser(event, ['instructor']);
  const course = await orNull(event.locals.api.get<Course>(paths.courseById(event.params.id)));
  if (!course) error(404, 'This course does not exist or is not yours.');
  const cursor = event.url.searchParams.get('cursor') ?? undefined;
  // The API answers 404 for a course the caller does not teach; the page says the same.
  const roster = await orNull(event.locals.api.get<Roster>(paths.roster(course.id), { limit: 50, cursor }));
  if (!roster) error(404, 'This course does not exist or is not yours.');
  return {
    course: { id: course.id, title: course.title },
    learners: roster.learners,
    totalLessons: roster.total_lessons,
    nextCursor: roster.next_cursor,
    paged: !!cursor,
  };
};
