import type { Notification } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { act, requireUser } from '$lib/server/guard.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  await requireUser(event);
  const list = await event.locals.api.get<{
    notifications: Notification[];
    unread_count: number;
    next_cursor: string | null;
  }>(paths.notifications, {
    limit: 30,
    cursor: event.url.searchParams.get('cursor') ?? undefined,
  });
  return list;
};

export const actions: Actions = {
  read: async ({ locals, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.post(paths.readNotification(String(form.get('id') ?? '')));
      return { ok: true };
    });
  },
  readAll: async ({ locals }) =>
    act(null, async () => {
      await locals.api.post(paths.readAll);
      return { ok: true };
    }),
};
