// Operators (operator/admin role or an API key with the operator scope): the intent queue and the
// indexer; the indexer's health also for `read` keys. Plus the public one-line status.
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../schemas/common.ts';
import {
  IndexerHistoryQuerySchema,
  IndexerHistorySchema,
  IndexerStatusSchema,
  IntentIdParamsSchema,
  IntentListQuerySchema,
  IntentListSchema,
  IntentSchema,
  PublicStatusSchema,
} from '../../schemas/ops.ts';
import type { IntentKind, IntentStatus } from '../../intents/intents.repository.ts';
import type { OpsService } from '../../ops/ops.service.ts';

const routes: FastifyPluginAsyncTypebox<{ ops: OpsService }> = async (app, { ops }) => {
  const security = [{ bearer: [] }];

  app.get(
    '/status',
    {
      schema: {
        tags: ['ops'],
        summary: 'Public health line: is chain recording working?',
        response: { 200: PublicStatusSchema, ...errorResponses },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=5');
      return ops.publicStatus();
    },
  );

  // Users by role; keys by scope: `operator` for all of /v1/ops, `read` for the indexer's health
  // (no personal data), which dashboards and alerting poll.
  const operators = ['operator', 'admin'] as const;
  const monitor = app.requireAccess({ roles: operators, scopes: ['operator', 'read'] });

  await app.register(async (scope) => {
    const op = scope.withTypeProvider<TypeBoxTypeProvider>();
    const operatorOnly = op.requireAccess({ roles: operators, scopes: ['operator'] });

    op.get(
      '/ops/intents',
      {
        onRequest: operatorOnly,
        schema: {
          tags: ['ops'],
          summary: 'Intents by status, newest first, with errors and attempts',
          security,
          querystring: IntentListQuerySchema,
          response: { 200: IntentListSchema, ...errorResponses },
        },
      },
      async (request) =>
        ops.listIntents({
          status: request.query.status as IntentStatus | undefined,
          kind: request.query.kind as IntentKind | undefined,
          limit: request.query.limit ?? 50,
          cursor: request.query.cursor,
        }),
    );

    op.get(
      '/ops/intents/:id',
      {
        onRequest: operatorOnly,
        schema: {
          tags: ['ops'],
          summary: 'One intent',
          security,
          params: IntentIdParamsSchema,
          response: { 200: IntentSchema, ...errorResponses },
        },
      },
      async (request) => ops.getIntent(request.params.id),
    );

    op.post(
      '/ops/intents/:id/retry',
      {
        onRequest: operatorOnly,
        config: { idempotent: true },
        schema: {
          tags: ['ops'],
          summary: 'Put a failed intent back in the queue (audited)',
          security,
          params: IntentIdParamsSchema,
          response: { 200: IntentSchema, ...errorResponses },
        },
      },
      async (request) => ops.retryIntent(request.principal!, request.params.id, request.id),
    );

    op.get(
      '/ops/indexer',
      {
        onRequest: monitor,
        schema: {
          tags: ['ops'],
          summary: 'The indexer’s state: cursor, lag, status; intents by status',
          security,
          response: { 200: IndexerStatusSchema, ...errorResponses },
        },
      },
      async () => ops.indexerStatus(),
    );

    op.get(
      '/ops/indexer/history',
      {
        onRequest: monitor,
        schema: {
          tags: ['ops'],
          summary: 'The indexer’s lag and progress over the last minutes (kept for 24 h), for a chart',
          security,
          querystring: IndexerHistoryQuerySchema,
          response: { 200: IndexerHistorySchema, ...errorResponses },
        },
      },
      async (request) => ops.indexerHistory(request.query.minutes ?? 60),
    );
  });
};

export default routes;
