import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireUserPrincipal } from '../../plugins/auth.ts';
import { CursorQuerySchema, IdParamsSchema, UuidSchema, errorResponses } from '../../schemas/common.ts';
import { createRosterService } from '../../roster/roster.service.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const RosterSchema = Type.Object({
  course_id: UuidSchema,
  total_lessons: Type.Integer(),
  learners: Type.Array(
    Type.Object({
      user: Type.Object({ id: UuidSchema, display_name: Type.String() }),
      status: Type.Union([Type.Literal('active'), Type.Literal('unenrolled')]),
      percent: Type.Integer({ minimum: 0, maximum: 100 }),
      completed_lessons: Type.Integer(),
      total_lessons: Type.Integer(),
      enrolled_at: Type.String({ format: 'date-time' }),
      last_activity_at: Type.String({ format: 'date-time' }),
      completed_at: Nullable(Type.String({ format: 'date-time' })),
      certificate_status: Nullable(
        Type.Union([Type.Literal('pending'), Type.Literal('confirmed'), Type.Literal('revoked')]),
      ),
    }),
  ),
  next_cursor: Nullable(Type.String()),
});

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const roster = createRosterService(app.ctx);
  app.get(
    '/courses/:id/roster',
    {
      onRequest: app.requireUser('instructor', 'admin'),
      schema: {
        tags: ['courses'],
        summary: 'The learners of a course I teach, with their progress and certificate state',
        security: [{ bearer: [] }],
        params: IdParamsSchema,
        querystring: CursorQuerySchema,
        response: { 200: RosterSchema, ...errorResponses },
      },
    },
    async (request) =>
      roster.roster(
        requireUserPrincipal(request),
        request.params.id,
        request.query.limit ?? 20,
        request.query.cursor,
      ),
  );
};

export default routes;
