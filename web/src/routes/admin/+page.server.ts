import { redirect } from '@sveltejs/kit';
import { requireUser } from '$lib/server/guard.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  await requireUser(event, ['admin']);
  return {};
};

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

export const actions: Actions = {
  find: async ({ request }) => {
    const id = UUID.exec(String((await request.formData()).get('id') ?? ''))?.[0];
    redirect(303, id ? `/verify/${id.toLowerCase()}` : '/admin?bad=1');
  },
};
