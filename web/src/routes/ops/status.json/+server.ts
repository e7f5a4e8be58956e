import { error, json } from '@sveltejs/kit';
import type { IndexerStatus } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { recordStatus } from '$lib/server/ops-history.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals }) => {
  const me = await locals.user();
  if (!me || (me.role !== 'operator' && me.role !== 'admin')) error(403, 'Operators only.');
  const status = await locals.api.get<IndexerStatus>(paths.indexerStatus);
  return json({ status, samples: recordStatus(status) }, { headers: { 'cache-control': 'no-store' } });
};
