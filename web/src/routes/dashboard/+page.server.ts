import type { Enrolment, MyCourse } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { requireUser } from '$lib/server/guard.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const me = await requireUser(event);
  const { api } = event.locals;
  const [enrolments, progress] = await Promise.all([
    api.get<{ enrolments: Enrolment[] }>(paths.myEnrolments, { status: 'active', limit: 50 }),
    api.get<{ courses: MyCourse[] }>(paths.myProgress).catch(() => ({ courses: [] as MyCourse[] })),
  ]);
  const chain = new Map(progress.courses.map((c) => [c.course_id, c]));
  return {
    me: { display_name: me.display_name },
    courses: enrolments.enrolments.map((e) => ({ ...e, chain: chain.get(e.course.id) ?? null })),
    denied: event.url.searchParams.has('denied'),
  };
};
