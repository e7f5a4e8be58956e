import { error, redirect } from '@sveltejs/kit';
import {
  orNull,
  type Course,
  type CourseChainState,
  type EnrolmentDetail,
  type MyReview,
  type Review,
} from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { act, failed, text } from '$lib/server/guard.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, params }) => {
  const course = await orNull(locals.api.get<Course>(paths.course(params.slug)));
  if (!course) error(404, 'This course does not exist or is not published.');
  const me = await locals.user();
  const [enrolment, progress, reviews, mine] = await Promise.all([
    me ? orNull(locals.api.get<EnrolmentDetail>(paths.myEnrolment(course.id))).catch(() => null) : null,
    me ? orNull(locals.api.get<CourseChainState>(paths.courseProgress(course.id))).catch(() => null) : null,
    locals.api
      .get<{ reviews: Review[] }>(paths.reviews(course.id), { limit: 10 })
      .catch(() => ({ reviews: [] as Review[] })),
    me ? locals.api.get<MyReview>(paths.myReview(course.id)).catch(() => null) : null,
  ]);
  return {
    course,
    enrolment: enrolment?.status === 'active' ? enrolment : null,
    progress,
    reviews: reviews.reviews ?? [],
    mine,
    me: me ? { id: me.id } : null,
    signedIn: !!me,
  };
};

function firstLesson(course: Course): string | null {
  return course.syllabus.flatMap((m) => m.lessons)[0]?.id ?? null;
}

export const actions: Actions = {
  enrol: async ({ locals, params, url }) => {
    if (!locals.token) redirect(303, `/signin?next=${encodeURIComponent(url.pathname)}`);
    const course = await locals.api.get<Course>(paths.course(params.slug));
    const r = await act(null, () =>
      locals.api.post(paths.enrol(course.id), undefined, { idempotencyKey: `enrol-${course.id}` }),
    );
    if (failed(r)) return r;
    const first = firstLesson(course);
    redirect(303, first ? `/learn/${course.slug}/${first}` : `/courses/${course.slug}`);
  },
  review: async ({ locals, params, request }) => {
    const form = await request.formData();
    const course = await locals.api.get<Course>(paths.course(params.slug));
    return act(form, async () => {
      await locals.api.post(paths.reviews(course.id), {
        rating: Number(text(form, 'rating')) || 0,
        ...(text(form, 'body') ? { body: text(form, 'body') } : {}),
      });
      return { reviewed: 'created' as const };
    });
  },
  editReview: async ({ locals, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.patch(paths.review(text(form, 'review_id')), {
        rating: Number(text(form, 'rating')) || 0,
        body: text(form, 'body'),
      });
      return { reviewed: 'updated' as const };
    });
  },
  deleteReview: async ({ locals, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.del(paths.review(text(form, 'review_id')));
      return { reviewed: 'deleted' as const };
    });
  },
  flag: async ({ locals, request, url }) => {
    if (!locals.token) redirect(303, `/signin?next=${encodeURIComponent(url.pathname)}`);
    const form = await request.formData();
    return act(form, async () => {
      const id = text(form, 'review_id');
      // No Idempotency-Key: the API takes one flag per user and answers a second with 409.
      await locals.api.post(paths.reviewFlags(id), { reason: text(form, 'reason') });
      return { flagged: id };
    });
  },
};
