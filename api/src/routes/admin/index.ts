import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireUserPrincipal } from '../../plugins/auth.ts';
import { IdParamsSchema, errorResponses } from '../../schemas/common.ts';
import {
  ApiKeyCreateBodySchema,
  ApiKeyCreatedSchema,
  ApiKeySchema,
  KycReviewBodySchema,
  KycStatusSchema,
  KycSubmissionSchema,
  PublicUserSchema,
  RoleBodySchema,
} from '../../schemas/users.ts';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { users, kyc, apiKeys } = app.services;
  // Admins only, except that a KYC decision may also come from an identity-verification vendor's
  // integration holding an API key with the `write` scope.
  const adminOnly = app.requireUser('admin');
  const security = [{ bearer: [] }];

  app.put(
    '/users/:id/role',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['admin'],
        summary: 'Change a user’s role',
        security,
        params: IdParamsSchema,
        body: RoleBodySchema,
        response: { 200: PublicUserSchema, ...errorResponses },
      },
    },
    async (request) =>
      users.changeRole(requireUserPrincipal(request), request.params.id, request.body.role, request.id),
  );

  app.get(
    '/kyc',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['admin', 'kyc'],
        summary: 'KYC submissions, oldest first',
        security,
        querystring: Type.Object(
          {
            status: Type.Optional(KycStatusSchema),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ submissions: Type.Array(KycSubmissionSchema) }), ...errorResponses },
      },
    },
    async (request) => ({ submissions: await kyc.list(request.query.status, request.query.limit ?? 50) }),
  );

  app.post(
    '/kyc/:id/review',
    {
      onRequest: app.requireAccess({ roles: ['admin'], scopes: ['write'] }),
      schema: {
        tags: ['admin', 'kyc'],
        summary: 'Verify or reject a pending KYC submission',
        security,
        params: IdParamsSchema,
        body: KycReviewBodySchema,
        response: { 200: KycSubmissionSchema, ...errorResponses },
      },
    },
    async (request) =>
      kyc.review(request.principal!, request.params.id, request.body.decision, request.body.note, request.id),
  );

  app.post(
    '/api-keys',
    {
      onRequest: adminOnly,
      // A retry must not mint a second key, but the secret may not be stored to replay it.
      config: { idempotent: { secretFields: ['key'] } },
      schema: {
        tags: ['admin', 'api-keys'],
        summary: 'Create an API key (the key is shown once)',
        security,
        body: ApiKeyCreateBodySchema,
        response: { 201: ApiKeyCreatedSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      return reply
        .code(201)
        .send(await apiKeys.create(requireUserPrincipal(request), request.body, request.id));
    },
  );

  app.get(
    '/api-keys',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['admin', 'api-keys'],
        summary: 'All API keys (never their secrets)',
        security,
        response: { 200: Type.Object({ api_keys: Type.Array(ApiKeySchema) }), ...errorResponses },
      },
    },
    async () => ({ api_keys: await apiKeys.list() }),
  );

  app.delete(
    '/api-keys/:id',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['admin', 'api-keys'],
        summary: 'Revoke an API key',
        security,
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await apiKeys.revoke(requireUserPrincipal(request), request.params.id, request.id);
      return reply.code(204).send(null);
    },
  );
};

export default routes;
