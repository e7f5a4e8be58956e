import { error, json } from '@sveltejs/kit';
import type { IndexerHistory, IndexerStatus } from '$lib/api';
import { samplesOf, windowOf } from '$lib/ops.ts';
import { paths } from '$lib/server/endpoints.ts';
import type { RequestHandler } from './$types';

/** The dashboard's live refresh: the status and the stored history of the chosen window. */
export const GET: RequestHandler = async ({ locals, url }) => {
  const me = await locals.user();
  if (!me || (me.role !== 'operator' && me.role !== 'admin')) error(403, 'Operators only.');
  const [status, history] = await Promise.all([
    locals.api.get<IndexerStatus>(paths.indexerStatus),
    locals.api.get<IndexerHistory>(paths.indexerHistory, {
      minutes: windowOf(url.searchParams.get('window')),
    }),
  ]);
  return json({ status, samples: samplesOf(history) }, { headers: { 'cache-control': 'no-store' } });
};
