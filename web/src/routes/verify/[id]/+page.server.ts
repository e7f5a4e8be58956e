import { error } from '@sveltejs/kit';
import { env } from '$env/dynamic/public';
import { ApiError, type Credential } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import type { PageServerLoad } from './$types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const load: PageServerLoad = async ({ locals, params, setHeaders }) => {
  if (!UUID.test(params.id)) error(404, 'No certificate has this id.');
  let credential: Credential;
  let canonical: string;
  try {
    const [c, doc] = await Promise.all([
      locals.api.get<Credential>(paths.credential(params.id)),
      locals.api.raw('GET', paths.credentialDocument(params.id)),
    ]);
    credential = c;
    canonical = doc.ok ? await doc.text() : '';
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) error(404, 'No certificate has this id.');
    throw e;
  }
  const me = await locals.user().catch(() => null);
  // Shared caches may keep a public verification briefly; revocations still show within seconds.
  if (!locals.token) setHeaders({ 'cache-control': 'public, max-age=10' });
  return {
    credential,
    canonical,
    rpcUrl: env.PUBLIC_STELLAR_RPC_URL || 'http://127.0.0.1:8000',
    isAdmin: me?.role === 'admin',
  };
};

export const actions: import('./$types').Actions = {
  revoke: async ({ locals, params, request }) => {
    const { act, text } = await import('$lib/server/guard.ts');
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.post(
        paths.revoke(params.id),
        { reason: text(form, 'reason') },
        { idempotencyKey: `revoke-${params.id}` },
      );
      return { revoked: true };
    });
  },
};
