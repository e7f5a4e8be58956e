// The certificate as an Open Badges 3.0 credential (JSON-LD), relayed from the API.
import { error } from '@sveltejs/kit';
import { paths } from '$lib/server/endpoints.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals, params }) => {
  const res = await locals.api.raw('GET', paths.certificateBadge(params.id));
  if (!res.ok)
    error(
      res.status === 404 ? 404 : 502,
      res.status === 404 ? 'No certificate has this id.' : 'The badge is not available right now.',
    );
  return new Response(await res.text(), {
    headers: {
      'content-type': 'application/ld+json; charset=utf-8',
      'content-disposition': `inline; filename="starling-badge-${params.id}.json"`,
      'cache-control': res.headers.get('cache-control') ?? 'public, max-age=10',
    },
  });
};
