import { error } from '@sveltejs/kit';
import { ApiError, orNull, type Course } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { requireUser } from '$lib/server/guard.ts';
import type { PageServerLoad } from './$types';

export interface RosterEntry {
  user: { id: string; display_name: string };
  percent: number;
  completed_lessons: number;
  total_lessons: number;
  enrolled_at: string;
  last_activity_at: string;
  certificate_status: string | null;
}

export const load: PageServerLoad = async (event) => {
  await requireUser(event, ['instructor']);
  const course = await orNull(event.locals.api.get<Course>(paths.courseById(event.params.id)));
  if (!course) error(404, 'This course does not exist or is not yours.');
  try {
    const r = await event.locals.api.get<{ learners: RosterEntry[] }>(paths.roster(course.id), {
      limit: 100,
    });
    return { course: { id: course.id, title: course.title }, learners: r.learners, available: true };
  } catch (e) {
    // The API has no roster route yet; say so rather than fail.
    if (e instanceof ApiError && e.problem.code === 'route_not_found')
      return {
        course: { id: course.id, title: course.title },
        learners: [] as RosterEntry[],
        available: false,
      };
    throw e;
  }
};
