// The same address for integrations: `Accept: application/json` gets the verification as JSON (the
// API's credential view), a missing certificate a problem+json 404.
import { ApiError, type Credential } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import type { RequestHandler } from './$types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const notFound = (id: string) =>
  new Response(
    JSON.stringify({
      type: 'urn:starling:problem:certificate_not_found',
      title: 'Not Found',
      status: 404,
      code: 'certificate_not_found',
      detail: 'No certificate has this id.',
      instance: `/verify/${id}`,
    }),
    { status: 404, headers: { 'content-type': 'application/problem+json', vary: 'accept' } },
  );

export const GET: RequestHandler = async ({ locals, params, url }) => {
  if (!UUID.test(params.id)) return notFound(params.id);
  try {
    const c = await locals.api.get<Credential>(paths.credential(params.id));
    const body = { ...c, valid: c.status === 'confirmed', verify_url: `${url.origin}/verify/${c.id}` };
    return new Response(JSON.stringify(body), {
      headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=10', vary: 'accept' },
    });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return notFound(params.id);
    throw e;
  }
};
