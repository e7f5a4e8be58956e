import { fail, redirect } from '@sveltejs/kit';
import { ApiError, formFailure, type LoginResult, type Session } from '$lib/api';
import { act, safeNext, text } from '$lib/server/guard.ts';
import { MFA_COOKIE, setMfaPending, setSession } from '$lib/server/session.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, cookies }) => {
  if (await locals.user()) redirect(303, safeNext(url.searchParams.get('next')));
  return { mfaPending: !!cookies.get(MFA_COOKIE) && url.searchParams.has('mfa') };
};

export const actions: Actions = {
  login: async ({ request, locals, cookies, url }) => {
    const form = await request.formData();
    const result = await act(form, async () => {
      const r = await locals.api.post<LoginResult>('/v1/auth/login', {
        email: text(form, 'email'),
        password: String(form.get('password') ?? ''),
      });
      if ('mfa_required' in r) {
        setMfaPending(cookies, r.mfa_token);
        return { mfa: true as const };
      }
      setSession(cookies, r);
      return null;
    });
    if (result) return result;
    redirect(303, safeNext(url.searchParams.get('next')));
  },
  mfa: async ({ request, locals, cookies, url }) => {
    const form = await request.formData();
    const token = cookies.get(MFA_COOKIE);
    if (!token)
      return fail(400, {
        error: 'Your sign-in took too long. Enter your email and password again.',
        fields: {},
        values: {},
        code: 'mfa_expired',
      });
    try {
      const s = await locals.api.post<Session>('/v1/auth/login/mfa', {
        mfa_token: token,
        code: text(form, 'code').replace(/\s+/g, ''),
      });
      setSession(cookies, s);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const f = formFailure(e.problem, { mfa_token: 'code' });
      return fail(e.status, {
        error: f.message,
        fields: f.fields,
        code: f.code,
        values: {},
        mfa: true as const,
      });
    }
    redirect(303, safeNext(url.searchParams.get('next')));
  },
};
