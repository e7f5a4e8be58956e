import type { CatalogPage } from '$lib/api';
import { ApiError } from '$lib/api';
import { catalogQuery } from '$lib/catalog.ts';
import { paths } from '$lib/server/endpoints.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
  const query = catalogQuery(url.searchParams);
  try {
    const page = await locals.api.get<CatalogPage>(paths.catalog, query);
    return { page, query, error: null as string | null };
  } catch (e) {
    if (e instanceof ApiError && e.status < 500) {
      return { page: { courses: [], next_cursor: null } as CatalogPage, query, error: e.problem.detail };
    }
    throw e;
  }
};
