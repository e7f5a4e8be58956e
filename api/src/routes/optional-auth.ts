import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Viewer } from '../courses/courses.service.ts';
import { principalId } from '../auth/principal.ts';

/** For public routes that show more to staff: authenticates only when credentials are sent (bad ones are a 401). */
export function optionalAuth(app: FastifyInstance) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.headers.authorization) await app.authenticate.call(app, request, reply, () => undefined);
  };
}

/** The signed-in user, if any; API keys read public data only. */
export function viewerOf(request: FastifyRequest): Viewer {
  const p = request.principal;
  return p?.kind === 'user' ? { userId: p.userId, role: p.role } : null;
}

/** A per-route limit counted per signed-in caller (per IP for anonymous ones); the route authenticates first. */
export function perCallerLimit(max: number, timeWindow = 60_000) {
  return {
    max,
    timeWindow,
    keyGenerator: (request: FastifyRequest) =>
      request.principal ? principalId(request.principal) : request.ip,
  };
}
