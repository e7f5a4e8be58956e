// The wallet flow through the site's server (the browser holds no API token): `prepare` asks the
// API for the unsigned transaction, `relay` hands back the one the wallet signed.
import { json } from '@sveltejs/kit';
import { ApiError } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import type { RequestHandler } from './$types';

const problem = (e: unknown) => {
  if (e instanceof ApiError)
    return json(
      { detail: e.problem.detail, code: e.problem.code, field: e.problem.field },
      { status: e.status },
    );
  throw e;
};

const ID = /^[1-9][0-9]{0,18}$/;

export const POST: RequestHandler = async ({ locals, request }) => {
  if (!locals.token) return json({ detail: 'Sign in first.' }, { status: 401 });
  const body = (await request.json().catch(() => ({}))) as Record<string, unknown>;
  try {
    switch (body.step) {
      case 'vote':
        if (typeof body.proposal_id !== 'string' || !ID.test(body.proposal_id))
          return json({ detail: 'Which proposal?' }, { status: 400 });
        return json(
          await locals.api.post(paths.proposalVote(body.proposal_id), { support: body.support === true }),
        );
      case 'execute':
        if (typeof body.proposal_id !== 'string' || !ID.test(body.proposal_id))
          return json({ detail: 'Which proposal?' }, { status: 400 });
        return json(await locals.api.post(paths.proposalExecute(body.proposal_id), {}));
      case 'propose':
        return json(
          await locals.api.post(paths.proposals, {
            title: String(body.title ?? ''),
            description: String(body.description ?? ''),
            voting_period: Number(body.voting_period),
          }),
        );
      case 'delegate':
        return json(await locals.api.post(paths.delegation, {}));
      case 'relay':
        return json(
          await locals.api.post(paths.governanceTransactions, {
            transaction: String(body.transaction ?? ''),
          }),
        );
      default:
        return json({ detail: 'Unknown step.' }, { status: 400 });
    }
  } catch (e) {
    return problem(e);
  }
};
