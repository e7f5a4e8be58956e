import { error, redirect } from '@sveltejs/kit';
import { ApiError, orNull, type Completion, type Course, type EnrolmentDetail, type Lesson } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { act, requireUser } from '$lib/server/guard.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  await requireUser(event);
  const { locals, params } = event;
  const course = await orNull(locals.api.get<Course>(paths.course(params.slug)));
  if (!course) error(404, 'This course does not exist.');
  const enrolment = await orNull(locals.api.get<EnrolmentDetail>(paths.myEnrolment(course.id)));
  if (!enrolment || enrolment.status !== 'active') redirect(303, `/courses/${course.slug}?enrol=1`);
  let lesson: Lesson;
  try {
    lesson = await locals.api.get<Lesson>(paths.lesson(params.lessonId));
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 403)) error(e.status, e.problem.detail);
    throw e;
  }
  if (lesson.course_id !== course.id) error(404, 'This lesson is not part of this course.');
  const order = course.syllabus.flatMap((m) => m.lessons.map((l) => ({ ...l, module: m.title })));
  const i = order.findIndex((l) => l.id === lesson.id);
  return {
    course: { id: course.id, slug: course.slug, title: course.title, syllabus: course.syllabus },
    lesson,
    enrolment,
    prev: i > 0 ? order[i - 1]! : null,
    next: i >= 0 && i < order.length - 1 ? order[i + 1]! : null,
    index: i,
    total: order.length,
  };
};

export const actions: Actions = {
  complete: async ({ locals, params, request }) => {
    const form = await request.formData();
    const result = await act(form, () => locals.api.post<Completion>(paths.completeLesson(params.lessonId)));
    if (!result || !('lesson_id' in result)) return result;
    const go = String(form.get('then') ?? '');
    if (go.startsWith(`/learn/${params.slug}/`)) redirect(303, go);
    return { completed: result };
  },
};
