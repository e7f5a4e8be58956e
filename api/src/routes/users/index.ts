import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParamsSchema, errorResponses } from '../../schemas/common.ts';
import { PublicUserSchema } from '../../schemas/users.ts';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'A public profile',
        params: IdParamsSchema,
        response: { 200: PublicUserSchema, ...errorResponses },
      },
    },
    async (request) => app.services.users.publicProfile(request.params.id),
  );
};

export default routes;
