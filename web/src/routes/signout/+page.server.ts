import { redirect } from '@sveltejs/kit';
import { REFRESH_COOKIE, clearSession } from '$lib/server/session.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
  default: async ({ locals, cookies }) => {
    const refresh = cookies.get(REFRESH_COOKIE);
    if (locals.token)
      await locals.api
        .post('/v1/auth/logout', refresh ? { refresh_token: refresh } : {})
        .catch(() => undefined);
    clearSession(cookies);
    redirect(303, '/?signed_out=1');
  },
};
