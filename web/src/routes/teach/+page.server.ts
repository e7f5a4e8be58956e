import { redirect } from '@sveltejs/kit';
import type { CatalogPage, Course } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { act, failed, requireUser, text } from '$lib/server/guard.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  await requireUser(event, ['instructor']);
  const page = await event.locals.api.get<CatalogPage>(paths.teaching, { limit: 100 });
  return { courses: page.courses, idem: crypto.randomUUID() };
};

export const actions: Actions = {
  create: async ({ locals, request }) => {
    const form = await request.formData();
    const r = await act(form, () =>
      locals.api.post<Course>(
        paths.courses,
        {
          slug: text(form, 'slug'),
          title: text(form, 'title'),
          summary: text(form, 'summary'),
          level: text(form, 'level') || 'beginner',
        },
        { idempotencyKey: text(form, 'idem') || undefined },
      ),
    );
    if (failed(r)) return r;
    redirect(303, `/teach/${r.id}`);
  },
};
