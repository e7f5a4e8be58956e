import { redirect } from '@sveltejs/kit';
import type { Session } from '$lib/api';
import { act, safeNext, text } from '$lib/server/guard.ts';
import { setSession } from '$lib/server/session.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
  if (await locals.user()) redirect(303, '/dashboard');
  return { ref: url.searchParams.get('ref') ?? '' };
};

export const actions: Actions = {
  default: async ({ request, locals, cookies, url }) => {
    const form = await request.formData();
    const ref = text(form, 'ref');
    const result = await act(form, async () => {
      const s = await locals.api.post<Session>('/v1/auth/register', {
        email: text(form, 'email'),
        password: String(form.get('password') ?? ''),
        display_name: text(form, 'display_name'),
        ...(ref ? { ref } : {}),
      });
      setSession(cookies, s);
      return null;
    });
    if (result) return result;
    redirect(303, safeNext(url.searchParams.get('next'), '/courses?welcome=1'));
  },
};
