// SEP-10 sign-in relay: the browser's wallet signs, this server exchanges the signature for tokens and
// keeps them in httpOnly cookies. The response says only whether MFA is still needed.
import { json } from '@sveltejs/kit';
import { ApiError, type LoginResult } from '$lib/api';
import { setMfaPending, setSession } from '$lib/server/session.ts';
import type { RequestHandler } from './$types';

const problem = (e: unknown) => {
  if (e instanceof ApiError)
    return json({ detail: e.problem.detail, code: e.problem.code }, { status: e.status });
  throw e;
};

export const GET: RequestHandler = async ({ locals, url }) => {
  try {
    return json(
      await locals.api.get('/v1/auth/stellar', { account: url.searchParams.get('account') ?? '' }),
      { headers: { 'cache-control': 'no-store' } },
    );
  } catch (e) {
    return problem(e);
  }
};

export const POST: RequestHandler = async ({ locals, request, cookies }) => {
  const body = (await request.json().catch(() => ({}))) as { transaction?: unknown };
  try {
    const r = await locals.api.post<LoginResult>('/v1/auth/stellar', {
      transaction: String(body.transaction ?? ''),
    });
    if ('mfa_required' in r) {
      setMfaPending(cookies, r.mfa_token);
      return json({ mfa_required: true });
    }
    setSession(cookies, r);
    return json({ ok: true });
  } catch (e) {
    return problem(e);
  }
};
