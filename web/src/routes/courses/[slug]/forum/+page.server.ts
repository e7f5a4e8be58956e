import { error, redirect } from '@sveltejs/kit';
import { orNull, type Course } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { act, failed, requireUser, text } from '$lib/server/guard.ts';
import type { Actions, PageServerLoad } from './$types';

export interface Thread {
  id: string;
  course_id: string;
  lesson_id: string | null;
  author: { id: string; display_name: string; staff: boolean };
  title: string;
  body: string;
  pinned: boolean;
  answer_post_id: string | null;
  reply_count: number;
  created_at: string;
  updated_at: string;
}

export const load: PageServerLoad = async (event) => {
  await requireUser(event);
  const course = await orNull(event.locals.api.get<Course>(paths.course(event.params.slug)));
  if (!course) error(404, 'This course does not exist.');
  const page = await event.locals.api.get<{ threads: Thread[]; next_cursor: string | null }>(
    paths.threads(course.id),
    {
      cursor: event.url.searchParams.get('cursor') ?? undefined,
    },
  );
  return {
    course: { id: course.id, slug: course.slug, title: course.title },
    ...page,
    deleted: event.url.searchParams.has('deleted'),
    idem: crypto.randomUUID(),
  };
};

export const actions: Actions = {
  create: async ({ locals, params, request }) => {
    const form = await request.formData();
    const course = await locals.api.get<Course>(paths.course(params.slug));
    const r = await act(form, () =>
      locals.api.post<Thread>(
        paths.threads(course.id),
        { title: text(form, 'title'), body: text(form, 'body') },
        { idempotencyKey: text(form, 'idem') || undefined },
      ),
    );
    if (failed(r)) return r;
    redirect(303, `/courses/${params.slug}/forum/${r.id}`);
  },
};
