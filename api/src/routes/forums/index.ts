// Course forums: threads (optionally about a lesson) and replies, for the course's members only.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireUserPrincipal } from '../../plugins/auth.ts';
import { CursorQuerySchema, IdParamsSchema, errorResponses } from '../../schemas/common.ts';
import { CourseIdParamsSchema } from '../../schemas/courses.ts';
import {
  AnswerBodySchema,
  CreateThreadBodySchema,
  PinBodySchema,
  PostBodySchema,
  PostPageSchema,
  PostSchema,
  ThreadListQuerySchema,
  ThreadPageSchema,
  ThreadSchema,
  UpdateThreadBodySchema,
} from '../../schemas/forums.ts';
import { perCallerLimit } from '../optional-auth.ts';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { forums } = app.services;
  const security = [{ bearer: [] }];
  const tags = ['forums'];
  const writeLimit = perCallerLimit(30);
  app.addHook('onRequest', app.requireUser());

  app.get(
    '/courses/:id/threads',
    {
      schema: {
        tags,
        summary: 'The course’s threads, pinned first, then newest (members only)',
        security,
        params: CourseIdParamsSchema,
        querystring: ThreadListQuerySchema,
        response: { 200: ThreadPageSchema, ...errorResponses },
      },
    },
    async (request) => forums.listThreads(requireUserPrincipal(request), request.params.id, request.query),
  );

  app.post(
    '/courses/:id/threads',
    {
      config: { idempotent: true, rateLimit: writeLimit },
      schema: {
        tags,
        summary: 'Start a thread (enrolled learners and the course’s staff)',
        security,
        params: CourseIdParamsSchema,
        body: CreateThreadBodySchema,
        response: { 201: ThreadSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await forums.createThread(
            requireUserPrincipal(request),
            request.params.id,
            request.body,
            request.id,
          ),
        ),
  );

  app.get(
    '/threads/:id',
    {
      schema: {
        tags,
        summary: 'One thread',
        security,
        params: IdParamsSchema,
        response: { 200: ThreadSchema, ...errorResponses },
      },
    },
    async (request) => forums.thread(requireUserPrincipal(request), request.params.id),
  );

  app.patch(
    '/threads/:id',
    {
      config: { rateLimit: writeLimit },
      schema: {
        tags,
        summary: 'Edit my thread',
        security,
        params: IdParamsSchema,
        body: UpdateThreadBodySchema,
        response: { 200: ThreadSchema, ...errorResponses },
      },
    },
    async (request) =>
      forums.updateThread(requireUserPrincipal(request), request.params.id, request.body, request.id),
  );

  app.delete(
    '/threads/:id',
    {
      schema: {
        tags,
        summary: 'Delete my thread (moderators: any)',
        security,
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await forums.deleteThread(requireUserPrincipal(request), request.params.id, request.id);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/threads/:id/pin',
    {
      schema: {
        tags,
        summary: 'Pin or unpin a thread (course staff)',
        security,
        params: IdParamsSchema,
        body: PinBodySchema,
        response: { 200: ThreadSchema, ...errorResponses },
      },
    },
    async (request) =>
      forums.pin(requireUserPrincipal(request), request.params.id, request.body.pinned, request.id),
  );

  app.put(
    '/threads/:id/answer',
    {
      schema: {
        tags,
        summary: 'Mark a reply as the answer, or clear it with null (course staff)',
        security,
        params: IdParamsSchema,
        body: AnswerBodySchema,
        response: { 200: ThreadSchema, ...errorResponses },
      },
    },
    async (request) =>
      forums.markAnswer(requireUserPrincipal(request), request.params.id, request.body.post_id, request.id),
  );

  app.get(
    '/threads/:id/posts',
    {
      schema: {
        tags,
        summary: 'A thread’s replies, oldest first',
        security,
        params: IdParamsSchema,
        querystring: CursorQuerySchema,
        response: { 200: PostPageSchema, ...errorResponses },
      },
    },
    async (request) =>
      forums.listPosts(
        requireUserPrincipal(request),
        request.params.id,
        request.query.limit ?? 20,
        request.query.cursor,
      ),
  );

  app.post(
    '/threads/:id/posts',
    {
      config: { idempotent: true, rateLimit: writeLimit },
      schema: {
        tags,
        summary: 'Reply to a thread (notifies its author)',
        security,
        params: IdParamsSchema,
        body: PostBodySchema,
        response: { 201: PostSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await forums.reply(requireUserPrincipal(request), request.params.id, request.body.body, request.id),
        ),
  );

  app.patch(
    '/posts/:id',
    {
      config: { rateLimit: writeLimit },
      schema: {
        tags,
        summary: 'Edit my reply',
        security,
        params: IdParamsSchema,
        body: PostBodySchema,
        response: { 200: PostSchema, ...errorResponses },
      },
    },
    async (request) =>
      forums.updatePost(requireUserPrincipal(request), request.params.id, request.body.body, request.id),
  );

  app.delete(
    '/posts/:id',
    {
      schema: {
        tags,
        summary: 'Delete my reply (moderators: any)',
        security,
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await forums.deletePost(requireUserPrincipal(request), request.params.id, request.id);
      return reply.code(204).send(null);
    },
  );
};

export default routes;
