import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireUserPrincipal } from '../../plugins/auth.ts';
import { CursorQuerySchema, errorResponses } from '../../schemas/common.ts';
import { MfaCodeBodySchema, MfaSetupResponseSchema, RecoveryCodesSchema } from '../../schemas/auth.ts';
import {
  KycSubmissionSchema,
  KycSubmitBodySchema,
  KycStatusSchema,
  MeSchema,
  ReferralsSchema,
  UpdateMeBodySchema,
} from '../../schemas/users.ts';
import { mfaAttemptsLimit } from '../../plugins/rate-limit.ts';
import walletRoutes from './wallet.ts';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { users, mfa, kyc } = app.services;
  app.addHook('onRequest', app.requireUser());
  const security = [{ bearer: [] }];
  await app.register(walletRoutes);

  app.get(
    '',
    {
      schema: {
        tags: ['me'],
        summary: 'My profile',
        security,
        response: { 200: MeSchema, ...errorResponses },
      },
    },
    async (request) => users.me(requireUserPrincipal(request).userId),
  );

  app.patch(
    '',
    {
      schema: {
        tags: ['me'],
        summary: 'Update my display name or bio',
        security,
        body: UpdateMeBodySchema,
        response: { 200: MeSchema, ...errorResponses },
      },
    },
    async (request) => users.updateMe(requireUserPrincipal(request), request.body, request.id),
  );

  app.get(
    '/referrals',
    {
      schema: {
        tags: ['me'],
        summary: 'My referral code and link, and the people who joined with it',
        security,
        querystring: CursorQuerySchema,
        response: { 200: ReferralsSchema, ...errorResponses },
      },
    },
    async (request) =>
      users.referrals(requireUserPrincipal(request).userId, request.query.limit ?? 20, request.query.cursor),
  );

  app.get(
    '/mfa',
    {
      schema: {
        tags: ['mfa'],
        summary: 'Whether MFA is on, and how many recovery codes are left',
        security,
        response: {
          200: Type.Object({ enabled: Type.Boolean(), recovery_codes_left: Type.Integer() }),
          ...errorResponses,
        },
      },
    },
    async (request) => mfa.status(requireUserPrincipal(request).userId),
  );

  app.post(
    '/mfa/setup',
    {
      schema: {
        tags: ['mfa'],
        summary: 'Start TOTP set-up: a secret, its otpauth URI and a QR code',
        security,
        response: { 200: MfaSetupResponseSchema, ...errorResponses },
      },
    },
    async (request) => mfa.setup(requireUserPrincipal(request), request.id),
  );

  app.post(
    '/mfa/enable',
    {
      config: { rateLimit: mfaAttemptsLimit(app) },
      schema: {
        tags: ['mfa'],
        summary: 'Turn MFA on with a code from the app; returns one-time recovery codes',
        security,
        body: MfaCodeBodySchema,
        response: { 200: RecoveryCodesSchema, ...errorResponses },
      },
    },
    async (request) => mfa.enable(requireUserPrincipal(request), request.body.code, request.id),
  );

  app.post(
    '/mfa/disable',
    {
      config: { rateLimit: mfaAttemptsLimit(app) },
      schema: {
        tags: ['mfa'],
        summary: 'Turn MFA off (needs a valid TOTP or recovery code)',
        security,
        body: MfaCodeBodySchema,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await mfa.disable(requireUserPrincipal(request), request.body.code, request.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/mfa/recovery-codes',
    {
      config: { rateLimit: mfaAttemptsLimit(app) },
      schema: {
        tags: ['mfa'],
        summary: 'Replace my recovery codes (the old ones stop working)',
        security,
        body: MfaCodeBodySchema,
        response: { 200: RecoveryCodesSchema, ...errorResponses },
      },
    },
    async (request) =>
      mfa.regenerateRecoveryCodes(requireUserPrincipal(request), request.body.code, request.id),
  );

  app.get(
    '/kyc',
    {
      schema: {
        tags: ['kyc'],
        summary: 'My identity-verification status',
        security,
        response: {
          200: Type.Object({
            status: KycStatusSchema,
            submission: Type.Union([KycSubmissionSchema, Type.Null()]),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => kyc.mine(requireUserPrincipal(request).userId),
  );

  app.post(
    '/kyc',
    {
      config: { idempotent: true },
      schema: {
        tags: ['kyc'],
        summary: 'Submit my identity for verification',
        security,
        body: KycSubmitBodySchema,
        response: { 202: KycSubmissionSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await kyc.submit(requireUserPrincipal(request), request.body, request.id)),
  );
};

export default routes;
