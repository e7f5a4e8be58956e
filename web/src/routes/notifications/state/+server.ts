// What the bell needs before it opens the socket: the unread count and the newest id (to resume from).
import { json } from '@sveltejs/kit';
import type { Notification } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals }) => {
  if (!locals.token) return json({ detail: 'Sign in first.' }, { status: 401 });
  const list = await locals.api.get<{ notifications: Notification[]; unread_count: number }>(
    paths.notifications,
    { limit: 1 },
  );
  return json(
    { unread: list.unread_count, last_id: list.notifications[0]?.id ?? null },
    { headers: { 'cache-control': 'no-store' } },
  );
};
