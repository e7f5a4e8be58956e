// Enrolment: enrol (idempotent), unenrol, my enrolments with progress, and where to resume.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireUserPrincipal } from '../../plugins/auth.ts';
import { errorResponses } from '../../schemas/common.ts';
import { CourseIdParamsSchema as CoursePathSchema } from '../../schemas/courses.ts';
import {
  CourseIdParamsSchema,
  EnrolmentDetailSchema,
  EnrolmentListQuerySchema,
  EnrolmentPageSchema,
  EnrolmentSchema,
  ResumeSchema,
} from '../../schemas/enrolments.ts';
import { perCallerLimit } from '../optional-auth.ts';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { enrolments } = app.services;
  const security = [{ bearer: [] }];
  app.addHook('onRequest', app.requireUser());

  app.post(
    '/courses/:id/enrolment',
    {
      config: { idempotent: true, rateLimit: perCallerLimit(60) },
      schema: {
        tags: ['enrolments'],
        summary: 'Enrol in a published course',
        description:
          'Idempotent: 201 the first time, 200 with the same enrolment after that (a past enrolment is reactivated with its progress).',
        security,
        params: CoursePathSchema,
        response: { 200: EnrolmentSchema, 201: EnrolmentSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { created, enrolment } = await enrolments.enrol(
        requireUserPrincipal(request),
        request.params.id,
        request.id,
      );
      return reply.code(created ? 201 : 200).send(enrolment);
    },
  );

  app.delete(
    '/courses/:id/enrolment',
    {
      schema: {
        tags: ['enrolments'],
        summary: 'Leave a course (progress is kept if you enrol again)',
        security,
        params: CoursePathSchema,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await enrolments.unenrol(requireUserPrincipal(request), request.params.id, request.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me/enrolments',
    {
      schema: {
        tags: ['enrolments', 'me'],
        summary: 'My enrolments with progress and the lesson to resume, most recently active first',
        security,
        querystring: EnrolmentListQuerySchema,
        response: { 200: EnrolmentPageSchema, ...errorResponses },
      },
    },
    async (request) =>
      enrolments.list(
        requireUserPrincipal(request).userId,
        request.query.status ?? 'active',
        request.query.limit ?? 20,
        request.query.cursor,
      ),
  );

  app.get(
    '/me/enrolments/:courseId',
    {
      schema: {
        tags: ['enrolments', 'me'],
        summary: 'My enrolment in one course, with every lesson’s state (completed, open, or what locks it)',
        security,
        params: CourseIdParamsSchema,
        response: { 200: EnrolmentDetailSchema, ...errorResponses },
      },
    },
    async (request) => enrolments.detail(requireUserPrincipal(request).userId, request.params.courseId),
  );

  app.get(
    '/me/enrolments/:courseId/resume',
    {
      schema: {
        tags: ['enrolments', 'me'],
        summary: 'The lesson to continue with: the first open lesson not yet completed',
        security,
        params: CourseIdParamsSchema,
        response: { 200: ResumeSchema, ...errorResponses },
      },
    },
    async (request) => enrolments.resume(requireUserPrincipal(request).userId, request.params.courseId),
  );
};

export default routes;
