// The certificate PDF (public, like the verification page), relayed from the API.
import { error } from '@sveltejs/kit';
import { paths } from '$lib/server/endpoints.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals, params }) => {
  const res = await locals.api.raw('GET', paths.certificatePdf(params.id), {
    headers: { accept: 'application/pdf' },
  });
  if (!res.ok)
    error(
      res.status === 404 ? 404 : 502,
      res.status === 404 ? 'No certificate has this id.' : 'The PDF is not available right now.',
    );
  return new Response(res.body, {
    headers: {
      'content-type': 'application/pdf',
      'content-disposition': `inline; filename="starling-certificate-${params.id}.pdf"`,
      'cache-control': res.headers.get('cache-control') ?? 'public, max-age=10',
    },
  });
};
