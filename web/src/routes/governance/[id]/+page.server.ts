// One proposal: its text checked here against the SHA-256 the chain holds, its votes, and the
// signed-in user's wallet for the For/Against buttons.
import { createHash } from 'node:crypto';
import { error } from '@sveltejs/kit';
import { ApiError, orNull } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import type { GovernanceMe, Proposal, Vote } from '$lib/governance.ts';
import type { PageServerLoad } from './$types';

interface Detail {
  proposal: Proposal;
  outcome: 'succeeded' | 'defeated' | null;
  description: { text: string; sha256: string } | null;
  votes: Vote[];
  votes_next_cursor: string | null;
  latest_ledger: number | null;
}

export const load: PageServerLoad = async ({ locals, params, url }) => {
  if (!/^[1-9][0-9]{0,18}$/.test(params.id)) error(404, 'No such proposal');
  const [detail, me] = await Promise.all([
    locals.api
      .get<Detail>(paths.proposal(params.id), { cursor: url.searchParams.get('votes') ?? undefined })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 404) error(404, 'No such proposal (or not on chain yet)');
        throw e;
      }),
    locals.token ? orNull(locals.api.get<GovernanceMe>(paths.governanceMe)).catch(() => null) : null,
  ]);
  // Hash the text ourselves rather than trusting the API's word that it matches.
  const computed = detail.description
    ? createHash('sha256').update(detail.description.text, 'utf8').digest('hex')
    : null;
  const myVote = me ? (detail.votes.find((v) => v.voter === me.address) ?? null) : null;
  return {
    ...detail,
    computedHash: computed,
    hashMatches: computed !== null && computed === detail.proposal.description_hash,
    me,
    myVote,
  };
};
