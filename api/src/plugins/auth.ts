// Authentication at onRequest: a Bearer access JWT or an API key. Guards for roles and scopes
// (api/README.md lists which routes accept which API key scope).
// Authenticated responses are never cached.
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { UserRole } from '@starling/migrations';
import type { AppContext } from '../context.ts';
import { forbidden, unauthorized } from '../errors.ts';
import type { Principal, Scope } from '../auth/principal.ts';
import { createTokenService, type TokenService } from '../auth/tokens.ts';
import { createApiKeysService, isApiKey, type ApiKeysService } from '../api-keys/api-keys.service.ts';
import { accessTokenHolder } from '../auth/sessions.repository.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    tokens: TokenService;
    apiKeys: ApiKeysService;
    /** Requires any authenticated caller. */
    authenticate: onRequestHookHandler;
    /** Requires a signed-in user (not an API key) with one of the roles, when given. */
    requireUser: (...roles: UserRole[]) => onRequestHookHandler;
    /**
     * Requires a signed-in user with one of `roles`, or an API key holding one of `scopes`. Users act
     * by their role and keys by their scopes; neither is translated into the other.
     */
    requireAccess: (access: { roles: readonly UserRole[]; scopes: readonly Scope[] }) => onRequestHookHandler;
  }
}

export function requireUserPrincipal(request: FastifyRequest): Extract<Principal, { kind: 'user' }> {
  const p = request.principal;
  if (!p) throw unauthorized('unauthenticated', 'Sign in first.');
  if (p.kind !== 'user')
    throw forbidden('user_required', 'This action needs a signed-in user, not an API key.');
  return p;
}

export default fp(
  async (app, opts: { ctx: AppContext }) => {
    const tokens = createTokenService(opts.ctx.config);
    const apiKeys = createApiKeysService(opts.ctx);
    app.decorate('tokens', tokens);
    app.decorate('apiKeys', apiKeys);
    app.decorateRequest('principal', null);

    async function resolve(request: FastifyRequest): Promise<Principal> {
      if (request.principal) return request.principal;
      const header = request.headers.authorization;
      if (!header)
        throw unauthorized('unauthenticated', 'Sign in first: send Authorization: Bearer <token>.');
      const [scheme, token] = header.split(' ');
      if (scheme?.toLowerCase() !== 'bearer' || !token) {
        throw unauthorized('invalid_authorization', 'Use Authorization: Bearer <token>.');
      }
      let principal: Principal;
      if (isApiKey(token)) {
        principal = await apiKeys.authenticate(token);
      } else {
        const claims = await tokens.verify('access', token);
        const holder = await accessTokenHolder(opts.ctx.db, claims.sub, claims.jti);
        if (!holder) throw unauthorized('invalid_token', 'The token is invalid.');
        if (holder.revoked) {
          throw unauthorized('token_revoked', 'The token has been revoked; sign in again.');
        }
        principal = {
          kind: 'user',
          userId: claims.sub,
          // The role now, not the one signed into the token: a demotion applies at once.
          role: holder.role,
          jti: claims.jti,
          expiresAt: claims.exp,
        };
      }
      request.principal = principal;
      return principal;
    }

    app.decorate('authenticate', async function (request: FastifyRequest, _reply: FastifyReply) {
      await resolve(request);
    });
    app.decorate('requireUser', (...roles: UserRole[]) => async (request: FastifyRequest) => {
      await resolve(request);
      const p = requireUserPrincipal(request);
      if (roles.length && !roles.includes(p.role)) {
        throw forbidden('insufficient_role', `This action needs the ${roles.join(' or ')} role.`);
      }
    });
    app.decorate(
      'requireAccess',
      ({ roles, scopes }: { roles: readonly UserRole[]; scopes: readonly Scope[] }) =>
        async (request: FastifyRequest) => {
          const p = await resolve(request);
          if (p.kind === 'user') {
            if (!roles.includes(p.role))
              throw forbidden('insufficient_role', `This action needs the ${roles.join(' or ')} role.`);
            return;
          }
          if (!scopes.some((s) => p.scopes.includes(s)))
            throw forbidden(
              'insufficient_scope',
              `This action needs an API key with the ${scopes.join(' or ')} scope.`,
            );
        },
    );

    app.addHook('onSend', async (request, reply, payload) => {
      if (request.principal || request.headers.authorization) reply.header('cache-control', 'no-store');
      return payload;
    });
  },
  { name: 'auth' },
);
