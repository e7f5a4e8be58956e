import type { CatalogPage } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
  const page = await locals.api
    .get<CatalogPage>(paths.catalog, { limit: 6 })
    .catch(() => ({ courses: [], next_cursor: null }));
  return { courses: page.courses };
};
