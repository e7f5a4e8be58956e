// Course reviews: list, write (after half the course), edit, delete, flag; admins hide and see flagged ones.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireUserPrincipal } from '../../plugins/auth.ts';
import { CursorQuerySchema, IdParamsSchema, UuidSchema, errorResponses } from '../../schemas/common.ts';
import { CourseIdParamsSchema } from '../../schemas/courses.ts';
import {
  CreateReviewBodySchema,
  FlagBodySchema,
  FlaggedPageSchema,
  FlaggedQuerySchema,
  HideBodySchema,
  ModeratedReviewSchema,
  MyReviewSchema,
  ReviewPageSchema,
  ReviewSchema,
  UpdateReviewBodySchema,
} from '../../schemas/reviews.ts';
import { optionalAuth, perCallerLimit, viewerOf } from '../optional-auth.ts';

const WRITE_LIMIT = perCallerLimit(20);

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { reviews } = app.services;
  const security = [{ bearer: [] }];
  const signedIn = app.requireUser();
  const optional = optionalAuth(app);

  app.get(
    '/courses/:id/reviews',
    {
      onRequest: optional,
      schema: {
        tags: ['reviews'],
        summary: 'A course’s reviews, newest first, with its rating',
        params: CourseIdParamsSchema,
        querystring: CursorQuerySchema,
        response: { 200: ReviewPageSchema, ...errorResponses },
      },
    },
    async (request) =>
      reviews.list(viewerOf(request), request.params.id, request.query.limit ?? 20, request.query.cursor),
  );

  app.get(
    '/courses/:id/reviews/mine',
    {
      onRequest: signedIn,
      schema: {
        tags: ['reviews'],
        summary: 'My review of a course (even when hidden) and whether I may write one now',
        security,
        params: CourseIdParamsSchema,
        response: { 200: MyReviewSchema, ...errorResponses },
      },
    },
    async (request) => reviews.mine(requireUserPrincipal(request), request.params.id),
  );

  app.post(
    '/courses/:id/reviews',
    {
      onRequest: signedIn,
      config: { idempotent: true, rateLimit: WRITE_LIMIT },
      schema: {
        tags: ['reviews'],
        summary: 'Review a course (once; after completing at least half of it)',
        security,
        params: CourseIdParamsSchema,
        body: CreateReviewBodySchema,
        response: { 201: ReviewSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await reviews.create(requireUserPrincipal(request), request.params.id, request.body, request.id),
        ),
  );

  app.get(
    '/reviews/:id',
    {
      onRequest: optional,
      schema: {
        tags: ['reviews'],
        summary: 'One review',
        params: IdParamsSchema,
        response: { 200: ReviewSchema, ...errorResponses },
      },
    },
    async (request) => reviews.get(viewerOf(request), request.params.id),
  );

  app.patch(
    '/reviews/:id',
    {
      onRequest: signedIn,
      config: { rateLimit: WRITE_LIMIT },
      schema: {
        tags: ['reviews'],
        summary: 'Edit my review',
        security,
        params: IdParamsSchema,
        body: UpdateReviewBodySchema,
        response: { 200: ReviewSchema, ...errorResponses },
      },
    },
    async (request) =>
      reviews.update(requireUserPrincipal(request), request.params.id, request.body, request.id),
  );

  app.delete(
    '/reviews/:id',
    {
      onRequest: signedIn,
      schema: {
        tags: ['reviews'],
        summary: 'Delete my review (admins: any)',
        security,
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await reviews.remove(requireUserPrincipal(request), request.params.id, request.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/reviews/:id/flags',
    {
      onRequest: signedIn,
      config: { idempotent: true, rateLimit: WRITE_LIMIT },
      schema: {
        tags: ['reviews'],
        summary: 'Flag a review for moderators (once per user)',
        security,
        params: IdParamsSchema,
        body: FlagBodySchema,
        response: { 201: Type.Object({ review_id: UuidSchema, flagged: Type.Boolean() }), ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await reviews.flag(
            requireUserPrincipal(request),
            request.params.id,
            request.body.reason,
            request.id,
          ),
        ),
  );

  app.put(
    '/reviews/:id/hidden',
    {
      onRequest: app.requireUser('admin'),
      schema: {
        tags: ['reviews', 'admin'],
        summary: 'Hide or restore a review (moderators); hidden reviews leave the rating',
        security,
        params: IdParamsSchema,
        body: HideBodySchema,
        response: { 200: ModeratedReviewSchema, ...errorResponses },
      },
    },
    async (request) =>
      reviews.setHidden(requireUserPrincipal(request), request.params.id, request.body.hidden, request.id),
  );

  app.get(
    '/moderation/reviews',
    {
      onRequest: app.requireUser('admin'),
      schema: {
        tags: ['reviews', 'admin'],
        summary: 'Flagged reviews, most flagged first (moderators)',
        security,
        querystring: FlaggedQuerySchema,
        response: { 200: FlaggedPageSchema, ...errorResponses },
      },
    },
    async (request) => reviews.flagged(request.query.limit ?? 20, request.query.cursor),
  );
};

export default routes;
