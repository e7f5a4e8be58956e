import type { IndexerHistory, IndexerStatus, Intent } from '$lib/api';
import { samplesOf, windowOf } from '$lib/ops.ts';
import { paths } from '$lib/server/endpoints.ts';
import { act, requireUser, text } from '$lib/server/guard.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  await requireUser(event, ['operator']);
  const { api } = event.locals;
  const minutes = windowOf(event.url.searchParams.get('window'));
  const [status, history, failed, health] = await Promise.all([
    api.get<IndexerStatus>(paths.indexerStatus).catch(() => null),
    api.get<IndexerHistory>(paths.indexerHistory, { minutes }).catch(() => null),
    api
      .get<{ intents: Intent[] }>(paths.opsIntents, { status: 'failed', limit: 50 })
      .catch(() => ({ intents: [] as Intent[] })),
    api
      .raw('GET', '/readyz')
      .then(async (r) => ({ ok: r.ok, body: (await r.json().catch(() => ({}))) as Record<string, unknown> }))
      .catch(() => ({ ok: false, body: {} })),
  ]);
  return {
    status,
    minutes,
    samples: history ? samplesOf(history) : [],
    historyAvailable: !!history,
    failed: failed.intents,
    health,
  };
};

export const actions: Actions = {
  retry: async ({ locals, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.post<Intent>(paths.retryIntent(text(form, 'id')));
      return { retried: text(form, 'id') };
    });
  },
};
