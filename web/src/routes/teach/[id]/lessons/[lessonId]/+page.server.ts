import { error } from '@sveltejs/kit';
import { orNull, type Lesson } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { act, requireUser, text } from '$lib/server/guard.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  await requireUser(event, ['instructor']);
  const lesson = await orNull(event.locals.api.get<Lesson>(paths.lesson(event.params.lessonId)));
  if (!lesson) error(404, 'This lesson does not exist.');
  return { lesson, courseId: event.params.id };
};

export const actions: Actions = {
  default: async ({ locals, params, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      const video = text(form, 'video_url');
      const minutes = Number(text(form, 'minutes') || '0');
      await locals.api.patch(paths.lesson(params.lessonId), {
        title: text(form, 'title'),
        body_md: String(form.get('body_md') ?? ''),
        video_url: video || null,
        duration_seconds: Number.isFinite(minutes) ? Math.round(minutes * 60) : 0,
      });
      return { saved: true };
    });
  },
};
