import type { MyCertificate } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { requireUser } from '$lib/server/guard.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  await requireUser(event);
  const r = await event.locals.api.get<{ certificates: MyCertificate[] }>(paths.myCertificates, {
    limit: 50,
  });
  return { certificates: r.certificates };
};
