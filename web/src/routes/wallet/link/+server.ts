// Linking a wallet to the signed-in account: the same SEP-10 round trip as sign-in, bound to this user.
import { json } from '@sveltejs/kit';
import { ApiError } from '$lib/api';
import type { RequestHandler } from './$types';

const problem = (e: unknown) => {
  if (e instanceof ApiError)
    return json({ detail: e.problem.detail, code: e.problem.code }, { status: e.status });
  throw e;
};

export const GET: RequestHandler = async ({ locals, url }) => {
  if (!locals.token) return json({ detail: 'Sign in first.' }, { status: 401 });
  try {
    return json(
      await locals.api.get('/v1/me/wallet/challenge', { account: url.searchParams.get('account') ?? '' }),
      { headers: { 'cache-control': 'no-store' } },
    );
  } catch (e) {
    return problem(e);
  }
};

export const POST: RequestHandler = async ({ locals, request }) => {
  if (!locals.token) return json({ detail: 'Sign in first.' }, { status: 401 });
  const body = (await request.json().catch(() => ({}))) as { transaction?: unknown };
  try {
    return json(await locals.api.post('/v1/me/wallet', { transaction: String(body.transaction ?? '') }));
  } catch (e) {
    return problem(e);
  }
};
