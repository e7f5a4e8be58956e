// Lesson completion and the learner's view of it on chain.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireUserPrincipal } from '../../plugins/auth.ts';
import { IdParamsSchema, errorResponses } from '../../schemas/common.ts';
import {
  CompletionSchema,
  CourseChainStateSchema,
  CourseIdParamsSchema,
  MyProgressSchema,
} from '../../schemas/learning.ts';
import type { LearningService } from '../../learning/learning.service.ts';

const routes: FastifyPluginAsyncTypebox<{ learning: LearningService }> = async (app, { learning }) => {
  const security = [{ bearer: [] }];
  app.addHook('onRequest', app.requireUser());

  app.post(
    '/lessons/:id/complete',
    {
      config: { idempotent: true },
      schema: {
        tags: ['learning'],
        summary: 'Complete a lesson',
        description:
          'Records the completion once (again: no change, same answer). The course percent is computed on the server; the on-chain progress, and at 100 % the certificate and any referral reward, are queued as intents in the same transaction.',
        security,
        params: IdParamsSchema,
        response: { 200: CompletionSchema, ...errorResponses },
      },
    },
    async (request) => learning.completeLesson(requireUserPrincipal(request), request.params.id, request.id),
  );

  app.get(
    '/me/progress',
    {
      schema: {
        tags: ['learning'],
        summary: 'My courses: percent, on-chain progress and certificate state',
        security,
        response: { 200: MyProgressSchema, ...errorResponses },
      },
    },
    async (request) => ({ courses: await learning.myProgress(requireUserPrincipal(request).userId) }),
  );

  app.get(
    '/me/progress/:courseId',
    {
      schema: {
        tags: ['learning'],
        summary: 'One course: percent, on-chain progress and certificate state',
        security,
        params: CourseIdParamsSchema,
        response: { 200: CourseChainStateSchema, ...errorResponses },
      },
    },
    async (request) =>
      learning.myCourseProgress(requireUserPrincipal(request).userId, request.params.courseId),
  );
};

export default routes;
