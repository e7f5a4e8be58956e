import { error } from '@sveltejs/kit';
import { orNull } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { act, requireUser, text } from '$lib/server/guard.ts';
import type { Thread } from '../+page.server.ts';
import type { Actions, PageServerLoad } from './$types';

interface Post {
  id: string;
  author: { id: string; display_name: string; staff: boolean };
  body: string;
  is_answer: boolean;
  created_at: string;
}

export const load: PageServerLoad = async (event) => {
  const me = await requireUser(event);
  const thread = await orNull(event.locals.api.get<Thread>(paths.thread(event.params.threadId)));
  if (!thread) error(404, 'This thread does not exist.');
  const posts = await event.locals.api.get<{ posts: Post[]; next_cursor: string | null }>(
    paths.posts(thread.id),
    { limit: 100 },
  );
  return {
    thread,
    posts: posts.posts,
    slug: event.params.slug,
    me: { id: me.id, role: me.role },
    idem: crypto.randomUUID(),
  };
};

export const actions: Actions = {
  reply: async ({ locals, params, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.post(
        paths.posts(params.threadId),
        { body: text(form, 'body') },
        { idempotencyKey: text(form, 'idem') || undefined },
      );
      return { replied: true };
    });
  },
  answer: async ({ locals, params, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.put(paths.answer(params.threadId), { post_id: text(form, 'post_id') || null });
      return { marked: true };
    });
  },
  pin: async ({ locals, params, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.put(paths.pin(params.threadId), { pinned: text(form, 'pinned') === 'true' });
      return { pinned: true };
    });
  },
};
