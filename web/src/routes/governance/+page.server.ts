import { ApiError } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { requireUser } from '$lib/server/guard.ts';
import type { PageServerLoad } from './$types';

interface Proposal {
  id: string;
  title: string;
  description?: string;
  status: string;
  votes_for?: string;
  votes_against?: string;
  ends_at?: string;
}

export const load: PageServerLoad = async (event) => {
  await requireUser(event);
  try {
    const r = await event.locals.api.get<{ proposals: Proposal[] }>(paths.proposals);
    return { available: true, proposals: r.proposals };
  } catch (e) {
    if (e instanceof ApiError && e.problem.code === 'route_not_found')
      return { available: false, proposals: [] as Proposal[] };
    throw e;
  }
};
