import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireUserPrincipal } from '../../plugins/auth.ts';
import { errorResponses } from '../../schemas/common.ts';
import {
  LoginBodySchema,
  LoginResponseSchema,
  LogoutBodySchema,
  MfaLoginBodySchema,
  RefreshBodySchema,
  RegisterBodySchema,
  SessionSchema,
} from '../../schemas/auth.ts';
import { mfaAttemptsLimit } from '../../plugins/rate-limit.ts';
import stellarRoutes from './stellar.ts';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { auth } = app.services;
  const { RATE_LIMIT_AUTH_MAX: max, RATE_LIMIT_AUTH_WINDOW_MS: timeWindow } = app.ctx.config;
  const rateLimit = { max, timeWindow };
  await app.register(stellarRoutes);

  app.post(
    '/register',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Create an account with email and password',
        description:
          'A custodial Stellar address is created for the new learner. `ref` records who referred them.',
        body: RegisterBodySchema,
        response: { 201: SessionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { session } = await auth.register(request.body, request.id);
      return reply.code(201).send(session);
    },
  );

  app.post(
    '/login',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with email and password',
        description:
          'When MFA is on, answers `{mfa_required, mfa_token}`; finish with POST /v1/auth/login/mfa.',
        body: LoginBodySchema,
        response: { 200: LoginResponseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const result = await auth.login(request.body, request.id);
      return 'session' in result ? result.session : result;
    },
  );

  app.post(
    '/login/mfa',
    {
      config: { rateLimit: mfaAttemptsLimit(app) },
      schema: {
        tags: ['auth'],
        summary: 'Finish a sign-in with a TOTP or recovery code',
        body: MfaLoginBodySchema,
        response: { 200: SessionSchema, ...errorResponses },
      },
    },
    async (request) => auth.completeMfaLogin(request.body, request.id),
  );

  app.post(
    '/refresh',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for a new session (the old token stops working)',
        body: RefreshBodySchema,
        response: { 200: SessionSchema, ...errorResponses },
      },
    },
    async (request) => auth.refresh(request.body.refresh_token, request.id),
  );

  app.post(
    '/logout',
    {
      onRequest: app.requireUser(),
      schema: {
        tags: ['auth'],
        summary: 'Sign out: revokes this access token and, when given, the refresh token’s session',
        security: [{ bearer: [] }],
        body: Type.Optional(LogoutBodySchema),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await auth.logout(requireUserPrincipal(request), request.body?.refresh_token, request.id);
      return reply.code(204).send(null);
    },
  );
};

export default routes;
