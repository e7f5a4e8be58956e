// Proposals are public (read without an account or JavaScript); the wallet panel needs a sign-in.
import { ApiError, orNull } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import type { GovernanceMe, Proposal } from '$lib/governance.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
  const cursor = url.searchParams.get('cursor') ?? undefined;
  const [page, me] = await Promise.all([
    locals.api
      .get<{ proposals: Proposal[]; latest_ledger: number | null; next_cursor: string | null }>(
        paths.proposals,
        {
          cursor,
          limit: 20,
        },
      )
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status < 500) return null;
        throw e;
      }),
    locals.token ? orNull(locals.api.get<GovernanceMe>(paths.governanceMe)).catch(() => null) : null,
  ]);
  return {
    available: page !== null,
    proposals: page?.proposals ?? [],
    latestLedger: page?.latest_ledger ?? null,
    nextCursor: page?.next_cursor ?? null,
    me,
  };
};
