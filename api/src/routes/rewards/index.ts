// My BST rewards: balance and history from indexed token events.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireUserPrincipal } from '../../plugins/auth.ts';
import { CursorQuerySchema, errorResponses } from '../../schemas/common.ts';
import { RewardsSchema } from '../../schemas/rewards.ts';
import type { RewardsService } from '../../rewards/rewards.service.ts';

const routes: FastifyPluginAsyncTypebox<{ rewards: RewardsService }> = async (app, { rewards }) => {
  app.addHook('onRequest', app.requireUser());
  app.get(
    '/me/rewards',
    {
      schema: {
        tags: ['rewards'],
        summary: 'My BST balance (all my addresses), rewards on their way, and history',
        security: [{ bearer: [] }],
        querystring: CursorQuerySchema,
        response: { 200: RewardsSchema, ...errorResponses },
      },
    },
    async (request) =>
      rewards.myRewards(
        requireUserPrincipal(request).userId,
        request.query.limit ?? 20,
        request.query.cursor,
      ),
  );
};

export default routes;
