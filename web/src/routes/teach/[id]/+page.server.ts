import { error } from '@sveltejs/kit';
import { orNull, type Course } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { act, failed, requireUser, text } from '$lib/server/guard.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  await requireUser(event, ['instructor']);
  const course = await orNull(event.locals.api.get<Course>(paths.courseById(event.params.id)));
  if (!course) error(404, 'This course does not exist or is not yours.');
  return { course };
};

/** Moves item `id` one place up or down and returns the new order. */
export function _move(ids: string[], id: string, dir: 'up' | 'down'): string[] {
  const i = ids.indexOf(id);
  const j = dir === 'up' ? i - 1 : i + 1;
  if (i < 0 || j < 0 || j >= ids.length) return ids;
  const out = [...ids];
  [out[i], out[j]] = [out[j]!, out[i]!];
  return out;
}

const courseOf = (locals: App.Locals, id: string) => locals.api.get<Course>(paths.courseById(id));

export const actions: Actions = {
  details: async ({ locals, params, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      const tags = text(form, 'tags')
        .split(',')
        .map((t) => t.trim().toLowerCase())
        .filter(Boolean);
      await locals.api.patch(paths.courseById(params.id), {
        title: text(form, 'title'),
        slug: text(form, 'slug'),
        summary: text(form, 'summary'),
        description: text(form, 'description'),
        level: text(form, 'level'),
        tags,
        sequential: form.get('sequential') === 'on',
      });
      return { saved: 'details' };
    });
  },
  status: async ({ locals, params, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.patch(paths.courseById(params.id), { status: text(form, 'status') });
      return { saved: `status:${text(form, 'status')}` };
    });
  },
  addModule: async ({ locals, params, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.post(paths.modules(params.id), { title: text(form, 'title') });
      return { saved: 'module' };
    });
  },
  renameModule: async ({ locals, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.patch(paths.module(text(form, 'module_id')), { title: text(form, 'title') });
      return { saved: 'module' };
    });
  },
  deleteModule: async ({ locals, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.del(paths.module(text(form, 'module_id')));
      return { saved: 'module' };
    });
  },
  prerequisites: async ({ locals, request }) => {
    const form = await request.formData();
    const ids = form.getAll('requires').filter((x): x is string => typeof x === 'string');
    const r = await act(form, async () => {
      await locals.api.put(paths.prerequisites(text(form, 'module_id')), { module_ids: ids });
      return { saved: 'prerequisites' };
    });
    // A refused choice is shown again as it was ticked (the values keep one entry per name).
    if (failed(r)) r.data.values.requires = ids.join(',');
    return r;
  },
  moveModule: async ({ locals, params, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      const course = await courseOf(locals, params.id);
      const ids = _move(
        course.syllabus.map((m) => m.id),
        text(form, 'module_id'),
        text(form, 'dir') === 'up' ? 'up' : 'down',
      );
      await locals.api.put(paths.moduleOrder(params.id), { module_ids: ids });
      return { saved: 'order' };
    });
  },
  addLesson: async ({ locals, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      const video = text(form, 'video_url');
      const minutes = Number(text(form, 'minutes') || '0');
      await locals.api.post(paths.lessons(text(form, 'module_id')), {
        title: text(form, 'title'),
        body_md: text(form, 'body_md'),
        ...(video ? { video_url: video } : {}),
        duration_seconds: Number.isFinite(minutes) ? Math.round(minutes * 60) : 0,
      });
      return { saved: 'lesson' };
    });
  },
  moveLesson: async ({ locals, params, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      const course = await courseOf(locals, params.id);
      const mod = course.syllabus.find((m) => m.id === text(form, 'module_id'));
      if (!mod) return { saved: 'order' };
      const ids = _move(
        mod.lessons.map((l) => l.id),
        text(form, 'lesson_id'),
        text(form, 'dir') === 'up' ? 'up' : 'down',
      );
      await locals.api.put(paths.lessonOrder(mod.id), { lesson_ids: ids });
      return { saved: 'order' };
    });
  },
  deleteLesson: async ({ locals, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.del(paths.lesson(text(form, 'lesson_id')));
      return { saved: 'lesson' };
    });
  },
};
