import { fail, redirect } from '@sveltejs/kit';
import type { Actions } from './$types';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** Accepts a bare id or any link that contains one (a pasted QR link, a PDF file name). */
export const actions: Actions = {
  default: async ({ request }) => {
    const raw = String((await request.formData()).get('id') ?? '').trim();
    const id = UUID.exec(raw)?.[0]?.toLowerCase();
    if (!id)
      return fail(400, {
        value: raw,
        error: raw
          ? 'That is not a certificate id. It looks like 8-4-4-4-12 letters and digits, e.g. 3f2a…-…'
          : 'Enter the certificate id or paste its link.',
      });
    redirect(303, `/verify/${id}`);
  },
};
