// SEP-10 wallet sign-in (Freighter and any SEP-10 client): fetch a challenge, sign it, post it back.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../schemas/common.ts';
import {
  LoginResponseSchema,
  StellarChallengeQuerySchema,
  StellarChallengeSchema,
  StellarTokenBodySchema,
} from '../../schemas/auth.ts';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { sep10 } = app.services;
  const { RATE_LIMIT_AUTH_MAX: max, RATE_LIMIT_AUTH_WINDOW_MS: timeWindow } = app.ctx.config;
  const rateLimit = { max, timeWindow };

  app.get(
    '/stellar',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Get a SEP-10 challenge transaction for a Stellar account',
        description:
          'Sign the returned transaction with the account (its signers must meet its medium threshold; for an account not on chain, its own key) and POST it to /v1/auth/stellar. Single use; expires with its time bounds.',
        querystring: StellarChallengeQuerySchema,
        response: { 200: StellarChallengeSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return sep10.loginChallenge(request.query);
    },
  );

  app.post(
    '/stellar',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with a signed SEP-10 challenge',
        description:
          'A first sign-in with a new wallet creates a learner bound to that address. When MFA is on, answers `{mfa_required, mfa_token}`; finish with POST /v1/auth/login/mfa.',
        body: StellarTokenBodySchema,
        response: { 200: LoginResponseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const result = await sep10.signIn(request.body.transaction, request.id);
      return 'session' in result ? result.session : result;
    },
  );
};

export default routes;
