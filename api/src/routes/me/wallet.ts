// Linking a wallet to the signed-in user: the same signed, server-stored, single-use SEP-10 challenge
// as sign-in, bound to this user; a client-supplied address alone is never trusted.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireUserPrincipal } from '../../plugins/auth.ts';
import { errorResponses } from '../../schemas/common.ts';
import {
  LinkedWalletSchema,
  StellarChallengeQuerySchema,
  StellarChallengeSchema,
  StellarTokenBodySchema,
} from '../../schemas/auth.ts';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { sep10 } = app.services;
  const rateLimit = {
    max: app.ctx.config.RATE_LIMIT_AUTH_MAX,
    timeWindow: app.ctx.config.RATE_LIMIT_AUTH_WINDOW_MS,
  };
  const security = [{ bearer: [] }];

  app.get(
    '/wallet/challenge',
    {
      onRequest: app.requireUser(),
      config: { rateLimit },
      schema: {
        tags: ['me'],
        summary: 'Get a SEP-10 challenge to link a Stellar wallet to my account',
        description:
          'Sign it with the wallet and POST it to /v1/me/wallet. It is bound to you and cannot be used to sign in.',
        security,
        querystring: StellarChallengeQuerySchema,
        response: { 200: StellarChallengeSchema, ...errorResponses },
      },
    },
    async (request) => sep10.linkChallenge(requireUserPrincipal(request), request.query),
  );

  app.post(
    '/wallet',
    {
      onRequest: app.requireUser(),
      config: { rateLimit },
      schema: {
        tags: ['me'],
        summary: 'Link a Stellar wallet with a signed challenge',
        description:
          'Certificates and rewards are then recorded for this address. The custodial wallet is kept, so what was recorded for it stays reachable. 409 when the address belongs to another account.',
        security,
        body: StellarTokenBodySchema,
        response: { 200: LinkedWalletSchema, ...errorResponses },
      },
    },
    async (request) => sep10.linkWallet(requireUserPrincipal(request), request.body.transaction, request.id),
  );
};

export default routes;
