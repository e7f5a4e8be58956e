import { error, redirect } from '@sveltejs/kit';
import { orNull, type Course } from '$lib/api';
import { paths } from '$lib/server/endpoints.ts';
import { act, failed, requireUser, text } from '$lib/server/guard.ts';
import type { Thread } from '../+page.server.ts';
import type { Actions, PageServerLoad } from './$types';

interface Post {
  id: string;
  author: { id: string; display_name: string; staff: boolean };
  body: string;
  is_answer: boolean;
  created_at: string;
  updated_at: string;
}

export const load: PageServerLoad = async (event) => {
  const me = await requireUser(event);
  const thread = await orNull(event.locals.api.get<Thread>(paths.thread(event.params.threadId)));
  if (!thread) error(404, 'This thread does not exist.');
  const [posts, course] = await Promise.all([
    event.locals.api.get<{ posts: Post[]; next_cursor: string | null }>(paths.posts(thread.id), {
      limit: 100,
    }),
    orNull(event.locals.api.get<Course>(paths.course(thread.course_id))),
  ]);
  // The API lets the course's instructor and admins pin and mark answers; admins moderate.
  const moderator = me.role === 'admin';
  return {
    thread,
    posts: posts.posts,
    slug: event.params.slug,
    me: { id: me.id, role: me.role },
    staff: moderator || course?.instructor.id === me.id,
    moderator,
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
      return { done: 'replied' };
    });
  },
  editThread: async ({ locals, params, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.patch(paths.thread(params.threadId), {
        title: text(form, 'title'),
        body: text(form, 'body'),
      });
      return { done: 'thread_saved' };
    });
  },
  deleteThread: async ({ locals, params, request }) => {
    const form = await request.formData();
    const r = await act(form, () => locals.api.del(paths.thread(params.threadId)));
    if (failed(r)) return r;
    redirect(303, `/courses/${params.slug}/forum?deleted=1`);
  },
  editPost: async ({ locals, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.patch(paths.post(text(form, 'post_id')), { body: text(form, 'body') });
      return { done: 'post_saved' };
    });
  },
  deletePost: async ({ locals, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.del(paths.post(text(form, 'post_id')));
      return { done: 'post_deleted' };
    });
  },
  answer: async ({ locals, params, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      await locals.api.put(paths.answer(params.threadId), { post_id: text(form, 'post_id') || null });
      return { done: text(form, 'post_id') ? 'answer_marked' : 'answer_cleared' };
    });
  },
  pin: async ({ locals, params, request }) => {
    const form = await request.formData();
    return act(form, async () => {
      const pinned = text(form, 'pinned') === 'true';
      await locals.api.put(paths.pin(params.threadId), { pinned });
      return { done: pinned ? 'pinned' : 'unpinned' };
    });
  },
};
